"""The shape of the core: one-way layers, no import cycles, no Streamlit below the pages.

Read from the source with :mod:`ast` (every import, including those inside functions), so
a lazy import cannot hide a cycle.
"""

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
CORE = ROOT / "embeddings"


def _module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: pathlib.Path, modules: set[str]) -> set[str]:
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules else target)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    paths = {_module_name(p): p for p in CORE.rglob("*.py")}
    return {name: _imports(p, set(paths)) for name, p in paths.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v] & set(graph):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return cycles


def test_the_core_has_no_import_cycle():
    graph = _graph()
    assert "embeddings.store.space_store" in graph["embeddings.models"]  # the checker sees real edges
    assert _cycles(graph) == []


def test_the_checker_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_space_is_a_pure_value():
    """EmbeddingSpace knows nothing of the workspace or the model families."""
    deps = _graph()["embeddings.space"]
    assert not {d for d in deps if d.startswith("embeddings.")} - {"embeddings.errors"}


def test_the_core_never_imports_streamlit():
    offenders = {name for name, deps in _graph().items() if any(d.split(".")[0] == "streamlit" for d in deps)}
    assert offenders == set()


#: the size budgets (#28): a core module past this many lines, or a page (or a page's part)
#: past that many, is split along its seams before it lands
CORE_LINES, PAGE_LINES = 400, 150


def test_no_core_module_and_no_page_is_over_its_budget():
    def lines(path: pathlib.Path) -> int:
        return len(path.read_text().splitlines())

    core = {str(p.relative_to(ROOT)): lines(p) for p in CORE.rglob("*.py") if lines(p) > CORE_LINES}
    pages = {str(p.relative_to(ROOT)): lines(p) for p in (ROOT / "pages").rglob("*.py") if lines(p) > PAGE_LINES}
    assert core == {}, f"core modules over {CORE_LINES} lines: {core}"
    assert pages == {}, f"pages over {PAGE_LINES} lines: {pages}"


def test_ruff_is_clean():
    """The linter as configured in pyproject.toml (pyflakes, pycodestyle, import order)."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", str(ROOT)], capture_output=True,
                         text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout[-3000:]
