"""The Bias page's WEAT / SEAT tab: the side-by-side grid, one test in detail, custom tests."""

import json

import streamlit as st

from embeddings import bias
from embeddings.errors import InputError
from embeddings.store.cards import SpaceCard
from embeddings.store.workspace import Workspace
from pages.common import space, workspace_root
from pages.ui.bias_weat_inputs import NEW_TEST, custom_test_form, weat_settings
from pages.ui.bias_weat_results import show_detail, show_grid
from pages.ui.jobs import cancellable, guard, progress_reporter
from pages.ui.text import md_list
from pages.ui.url import names as link_names, sync_query_params


@st.cache_resource(max_entries=8, show_spinner=False)
def _sentence_cache(root: str, space_id: str) -> dict:
    """SEAT sentences already encoded by one sentence-encoder space (shared across reruns)."""
    return {}


@st.cache_data(max_entries=1024, show_spinner=False)
def weat_cell(root: str, space_id: str, test_json: str, ddof: int, permutations: int, seed: int,
              max_missing: float, fallback: bool, bootstrap: int = bias.BOOTSTRAP, seat_unit: str = "word"):
    """One (test, space) result, or the reason it was refused."""
    test = bias.WeatTest.from_json(json.loads(test_json))
    sp = space(space_id)
    try:
        return bias.weat(sp, test, ddof=ddof, permutations=permutations, seed=seed, max_missing=max_missing,
                         lowercase_fallback=fallback, sentence_cache=_sentence_cache(root, space_id),
                         bootstrap=bootstrap, seat_unit=seat_unit)
    except bias.RefusedTest as exc:
        return str(exc)


@st.cache_data(max_entries=2048, show_spinner=False)
def metric_cell(root: str, space_id: str, test_json: str, metric: str, seed: int, max_missing: float, fallback: bool):
    """One WEFE metric (RND, ECT, MAC, RNSB) of one (test, space), or the reason it was refused."""
    test = bias.WeatTest.from_json(json.loads(test_json))
    try:
        return bias.run_metric(space(space_id), test, metric, seed=seed, max_missing=max_missing,
                               lowercase_fallback=fallback, sentence_cache=_sentence_cache(root, space_id))
    except (bias.RefusedTest, InputError) as exc:
        return str(exc)


def all_tests(ws: Workspace) -> dict[str, bias.WeatTest]:
    return {t.id: t for t in list(bias.builtin_tests()) + bias.saved_tests(ws)}


def test_json(t: bias.WeatTest) -> str:
    return json.dumps({**t.to_json(), "sources": list(t.sources), "published_effect_size": t.published})


def weat_tab(ws: Workspace, choices: dict[str, str], chosen: list[str], cards: dict[str, SpaceCard]) -> None:
    """The grid of tests × the ``chosen`` spaces (SEAT for sentence encoders), then one cell in detail."""
    tests = all_tests(ws)
    c2 = st.container()
    default_tests = link_names("tests", tests) or list(tests)[:10]
    if "bias_tests" not in st.session_state:
        st.session_state["bias_tests"] = default_tests
    pending = st.session_state.pop(NEW_TEST, None)  # a test saved on the previous run joins the selection
    if pending in tests:
        st.session_state["bias_tests"] = [*st.session_state["bias_tests"], pending]
    chosen_tests = c2.multiselect("Tests", list(tests), key="bias_tests",
                                  help="weat1–weat10: Caliskan et al. (2017); titles and sources below.")
    metric = st.radio("Metric", list(bias.METRICS), horizontal=True, key="bias_metric",
                      format_func=lambda m: bias.METRICS[m].name,
                      help="WEAT and WEFE's four other standard metrics, each on the query its paper uses. "
                           "The formula, source and reading of each are under the grid.")
    ddof, permutations, seed, max_missing, fallback, resamples, seat_unit = weat_settings()
    sync_query_params(spaces=",".join(chosen), tests=",".join(chosen_tests))

    seat_spaces = [n for n in chosen if cards[n].is_sentence_encoder]
    if seat_spaces:
        st.info(f"{md_list(seat_spaces)}: sentence encoder, so probed with **SEAT** (May et al. 2019): each word "
                f"is put into {len(bias.SEAT_TEMPLATES)} bleached templates ({', '.join(bias.SEAT_TEMPLATES[:3])} …) "
                "and each sentence is one element of its set.", icon=":material/info:")

    results: dict[tuple[str, str], object] = {}
    if chosen and chosen_tests:
        signature = (chosen, chosen_tests, ddof, permutations, seed, max_missing, fallback, resamples, seat_unit)
        with guard("the WEAT tests"), cancellable("bias", "The WEAT tests", signature):
            cells = [(t, n) for t in chosen_tests for n in chosen]
            progress, done = progress_reporter("Running the tests")
            for i, (t, n) in enumerate(cells):
                progress(i / len(cells), f"{t} on {n}{' (SEAT)' if n in seat_spaces else ''}")
                results[(t, n)] = weat_cell(workspace_root(), choices[n], test_json(tests[t]), int(ddof),
                                            permutations, seed, float(max_missing), bool(fallback), resamples,
                                            seat_unit)
            done()
    others: dict[str, dict[tuple[str, str], object]] = {}
    if chosen and chosen_tests:
        with guard("the bias metrics"), cancellable("bias_metrics", "The bias metrics", signature):
            progress, done = progress_reporter("Running the other metrics")
            cells = [(m, t, n) for m in bias.METRICS if m != "weat" for t in chosen_tests for n in chosen]
            for i, (m, t, n) in enumerate(cells):
                progress(i / len(cells), f"{m.upper()} {t} on {n}")
                others.setdefault(m, {})[(t, n)] = metric_cell(workspace_root(), choices[n], test_json(tests[t]), m,
                                                               seed, float(max_missing), bool(fallback))
            done()
    if results:
        table = show_grid(results, others, tests, choices, chosen, chosen_tests, metric, resamples)
        show_detail(table, results, tests, chosen, chosen_tests)
    custom_test_form(ws)
