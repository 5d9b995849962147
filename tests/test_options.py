"""Each option declared once (#28, item 1): every widget and CLI flag with a twin agrees on
the default and the bounds, and both refuse what the other refuses.

The widgets are read from the running pages (AppTest), the flags from the real parser, and
both are compared with the option's declaration in the core. A page that writes its own
bounds, or a flag that writes its own default, fails here.
"""

import argparse
from dataclasses import dataclass

import pytest
from streamlit.testing.v1 import AppTest

from embeddings import bias
from embeddings.analysis.audit import AuditParams
from embeddings.analysis.neighbours import CompareParams, NeighbourParams
from embeddings.cli import build_parser
from embeddings.errors import InputError
from embeddings.evaluate.classify import BenchmarkParams
from embeddings.evaluate.search import RetrievalParams
from embeddings.evaluate.selfmade import SelfMadeParams
from embeddings.layout.projection import SEED, ProjectionParams
from embeddings.models.finetune import FinetuneParams
from embeddings.models.gensim_models import TrainParams
from embeddings.options import Spec, add_flag, check, option, spec, specs
from embeddings.text.preprocess import RECOMMENDED, Preprocessing
from tests.conftest import ROOT

_SPEC_DEFAULT = object()


@dataclass(frozen=True)
class Twin:
    cls: type
    field: str
    page: str | None            # the page that shows the widget (None: CLI only)
    key: str | None             # the widget's key
    command: tuple[str, ...] | None   # the subcommand path (None: page only)
    flag: str | None
    widget_default: object = _SPEC_DEFAULT
    cli_default: object = _SPEC_DEFAULT


MODELS, PROJ, BIAS = "pages/models.py", "pages/projection.py", "pages/bias.py"
TWINS = [
    *[Twin(TrainParams, f, MODELS, f"train_{f}", ("train",), "--" + f.replace("_", "-"), cli_default=None)
      for f in ("dim", "window", "min_count", "seed", "epochs", "negative", "sample", "min_n", "max_n")],
    Twin(TrainParams, "workers", None, None, ("train",), "--workers", cli_default=None),
    Twin(TrainParams, "bucket", None, None, ("train",), "--bucket", cli_default=None),
    Twin(ProjectionParams, "points", PROJ, "pj_top", ("project",), "--limit"),
    Twin(ProjectionParams, "seed", PROJ, "pj_seed", ("project",), "--seed", cli_default=SEED),
    Twin(ProjectionParams, "n_neighbors", PROJ, "pj_nn", ("project",), "--n-neighbors"),
    Twin(ProjectionParams, "min_dist", PROJ, "pj_md", ("project",), "--min-dist"),
    Twin(ProjectionParams, "perplexity", PROJ, "pj_perp", ("project",), "--perplexity"),
    Twin(ProjectionParams, "n_clusters", PROJ, "pj_k", None, None),
    Twin(NeighbourParams, "k", "pages/neighbours.py", "nb_k", ("neighbours",), "-k"),
    Twin(CompareParams, "k", "pages/compare.py", "cmp_k", ("compare",), "-k"),
    Twin(CompareParams, "max_labels", "pages/compare.py", "cmp_max", ("compare",), "--max-labels"),
    Twin(AuditParams, "k", "pages/audit.py", "au_k", ("audit",), "-k"),
    Twin(AuditParams, "mine", "pages/audit.py", "au_mine", ("audit",), "--mine", cli_default=None),
    Twin(bias.WeatParams, "permutations", BIAS, "bias_perm", ("bias", "weat"), "--permutations"),
    Twin(bias.WeatParams, "seed", BIAS, "bias_seed", ("bias", "weat"), "--seed"),
    Twin(bias.WeatParams, "seed", None, None, ("bias", "metric"), "--seed"),
    Twin(bias.WeatParams, "max_missing", BIAS, "bias_missing", ("bias", "weat"), "--max-missing"),
    Twin(bias.WeatParams, "max_missing", None, None, ("bias", "metric"), "--max-missing"),
    Twin(bias.WeatParams, "bootstrap", BIAS, "bias_boot", ("bias", "weat"), "--bootstrap"),
    Twin(bias.WeatParams, "bootstrap", None, None, ("bias", "metric"), "--bootstrap"),
    Twin(BenchmarkParams, "folds", "pages/choose.py", "ch_folds", ("benchmark",), "--folds"),
    Twin(BenchmarkParams, "repeats", "pages/choose.py", "ch_repeats", ("benchmark",), "--repeats"),
    Twin(BenchmarkParams, "seed", "pages/choose.py", "ch_seed", ("benchmark",), "--seed"),
    *[Twin(FinetuneParams, f, "pages/customise.py", key, ("space", "finetune"), "--" + f.replace("_", "-"))
      for f, key in (("max_sentences", "ft_budget"), ("epochs", "ft_epochs"), ("seed", "ft_seed"),
                     ("held_out", "ft_held"))],
    Twin(FinetuneParams, "batch_size", None, None, ("space", "finetune"), "--batch-size"),
    Twin(RetrievalParams, "rrf_k", None, None, ("benchmark",), "--rrf-k"),
    Twin(RetrievalParams, "k1", None, None, ("benchmark",), "--k1"),
    Twin(RetrievalParams, "b", None, None, ("benchmark",), "--b"),
    Twin(RetrievalParams, "seed", None, None, ("benchmark",), "--seed"),     # one seed for the benchmark's modes
    *[Twin(SelfMadeParams, f, None, None, ("retrieval", "make"), "--" + f.replace("_", "-"))
      for f in ("queries", "train_share", "seed")],
    # the upload form and the CLI start from the recommended preprocessing, not the class's defaults
    Twin(Preprocessing, "min_length", "pages/corpus.py", "pp_minlen", ("corpus", "add"), "--min-length",
         RECOMMENDED.min_length, RECOMMENDED.min_length),
    Twin(Preprocessing, "phrase_min_count", "pages/corpus.py", "pp_phrase_min", ("corpus", "add"),
         "--phrase-min-count", RECOMMENDED.phrase_min_count, RECOMMENDED.phrase_min_count),
]
#: what a page must do before a twin's widget shows: (widget kind, key, value) in order
#: (all set, then one run: a t-SNE of 50 points in one panel, the cheapest view that shows them all)
SETUP = {MODELS: [("radio", "train_family", "fasttext")],
         PROJ: [("multiselect", "pj_spaces", ["lee-word2vec"]), ("number_input", "pj_top", 50),
                ("toggle", "pj_repro", True), ("selectbox", "pj_colour", "cluster (KMeans)"),
                ("radio", "pj_method", "tsne")]}
PARAMS = (TrainParams, ProjectionParams, NeighbourParams, CompareParams, AuditParams, bias.WeatParams,
          BenchmarkParams, FinetuneParams, Preprocessing, RetrievalParams, SelfMadeParams)


def _expected(twin: Twin, which: str):
    value = getattr(twin, which)
    return spec(twin.cls, twin.field).default if value is _SPEC_DEFAULT else value


def _action(command: tuple[str, ...], flag: str) -> argparse.Action:
    parser = build_parser()
    for name in command:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return next(a for a in parser._actions if flag in a.option_strings)


def _outside(s: Spec) -> list[str]:
    nudge = 1 if s.whole else 1e-6
    return [str(v) for v in ((s.low - nudge) if s.low is not None else None,
                             (s.high + nudge) if s.high is not None else None) if v is not None]


def test_every_option_has_a_twin_or_is_listed():
    """A new option is added to TWINS, so the check below covers it."""
    declared = {(cls, name) for cls in PARAMS for name in specs(cls)}
    covered = {(t.cls, t.field) for t in TWINS}
    assert declared == covered


@pytest.mark.parametrize("twin", [t for t in TWINS if t.flag], ids=lambda t: f"{' '.join(t.command)} {t.flag}")
def test_each_flag_takes_the_options_default_and_refuses_what_is_out_of_bounds(twin):
    s = spec(twin.cls, twin.field)
    action = _action(twin.command, twin.flag)
    assert action.default == _expected(twin, "cli_default")
    for inside in (s.low, s.high, s.default):
        if inside is not None:
            assert action.type(str(inside)) == pytest.approx(inside)
    for outside in _outside(s):
        with pytest.raises(argparse.ArgumentTypeError):
            action.type(outside)


def test_each_widget_shows_the_options_bounds_and_default(demo_ws, monkeypatch):
    monkeypatch.setenv("EMBEDDINGS_WORKSPACE", str(demo_ws.root))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    pages = sorted({t.page for t in TWINS if t.page})
    for page in pages:
        if page == "pages/customise.py":
            at.query_params["cu_tab"] = "Fine-tune"     # the tabs draw only the open one
        at.switch_page(page).run()
        seen: dict[str, object] = {}

        def read():
            for kind in ("number_input", "slider"):
                for w in getattr(at, kind):
                    seen.setdefault(w.key, w)

        read()
        if page in SETUP:
            for kind, key, value in SETUP[page]:
                getattr(at, kind)(key=key).set_value(value)
            at.run()
            assert not at.exception, (page, at.exception)
            read()
        for twin in (t for t in TWINS if t.page == page):
            s = spec(twin.cls, twin.field)
            widget = seen.get(twin.key)
            assert widget is not None, f"{page}: no widget {twin.key}"
            cast = int if s.whole else float
            assert (widget.min, widget.max) == (cast(s.low), cast(s.high)), twin.key
            if twin.key != "pj_top":          # the setup above moved it, after reading it
                assert widget.value == pytest.approx(_expected(twin, "widget_default")), twin.key


def test_the_core_refuses_a_value_out_of_bounds_naming_it():
    with pytest.raises(InputError, match=r"window = 80 is outside 1 to 20"):
        TrainParams(window=80).validate()
    with pytest.raises(InputError, match=r"held_out = 0.95"):
        FinetuneParams(held_out=0.95).check(384)
    with pytest.raises(InputError, match=r"min_length = 0"):
        Preprocessing(min_length=0)
    check(CompareParams(k=50))      # the bounds are inclusive


def test_add_flag_states_the_default_and_bounds_in_its_help():
    @dataclass(frozen=True)
    class P:
        share: float = option(0.5, 0.0, 1.0, "a share, in %")

    parser = argparse.ArgumentParser()
    add_flag(parser, "--share", P, "share")
    assert "a share, in % (default 0.5; 0 to 1)" in parser.format_help()
    assert parser.parse_args([]).share == 0.5
    with pytest.raises(SystemExit):
        parser.parse_args(["--share", "1.5"])
