"""Word lists as people type or upload them: words one per line or comma-separated, word
pairs one per line. One parser for the bias tests, the audit's terms, the projection's
word lists and colour lists."""

from __future__ import annotations

from pathlib import Path

from embeddings.errors import InputError


def parse_words(text: str) -> list[str]:
    """One word per line (commas also separate); blank lines and ``#`` comments skipped; order kept,
    duplicates dropped.

    >>> parse_words("he\\nshe, they\\n# note\\nhe")
    ['he', 'she', 'they']
    """
    out: list[str] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        for w in line.split(","):
            w = w.strip()
            if w and w not in out:
                out.append(w)
    return out


def parse_pairs(text: str) -> list[tuple[str, str]]:
    """Word pairs, one per line, separated by whitespace, a comma or a tab.

    >>> parse_pairs("woman man\\nshe, he")
    [('woman', 'man'), ('she', 'he')]
    """
    pairs = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = [p for p in line.replace(",", " ").replace("\t", " ").split() if p]
        if len(parts) != 2:
            raise InputError(f"Line {n} of the pairs should hold two words, found {len(parts)}: {line!r}.")
        pairs.append((parts[0], parts[1]))
    if not pairs:
        raise InputError("No word pairs given: one pair per line, such as 'woman man'.")
    return pairs


def read_text_file(path: Path | str) -> str:
    """A small text file (word or pair list), decoded like any upload."""
    from embeddings.readers import read_small_text

    return read_small_text(path, max_bytes=10 * 1024 * 1024, what="a word list should be a few KB")


def parse_named_lists(text: str) -> dict[str, set[str]]:
    r"""``name: word, word, ...`` lines (one list per line; lines without a colon skipped).

    >>> {name: sorted(words) for name, words in parse_named_lists("people: man, woman\nplaces: paris").items()}
    {'people': ['man', 'woman'], 'places': ['paris']}
    """
    lists: dict[str, set[str]] = {}
    for line in text.splitlines():
        if ":" in line:
            name, items = line.split(":", 1)
            if name.strip():
                lists[name.strip()] = {w.strip() for w in items.split(",") if w.strip()}
    return lists
