"""The Bias page's WEAT / SEAT tab: the side-by-side grid, one test in detail, custom tests."""

import json

import numpy as np
import pandas as pd
import streamlit as st

from embeddings import bias
from embeddings.cards import SpaceCard
from embeddings.errors import InputError
from embeddings.figures import influence_bars, metric_heatmap, weat_forest, weat_heatmap, weat_strip
from embeddings.reports import bias_report
from embeddings.wordlists import parse_words
from embeddings.workspace import Workspace
from pages.common import (cancellable, flash, guard, md, md_list, plotly_chart, progress_reporter, link_names, space,
                          sync_query_params, workspace_root)


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


def _side_by_side(results: dict, others: dict, tests: list[str], spaces: list[str]) -> pd.DataFrame:
    """Test × space, one column per metric (WEAT's d with its interval)."""
    rows = []
    for t in tests:
        for n in spaces:
            row = {"test": t, "space": n, "WEAT d": np.nan, "d 95% CI": "—"}
            r = results.get((t, n))
            if isinstance(r, bias.WeatResult):
                row["WEAT d"] = r.effect_size
                if r.effect_size_ci:
                    row["d 95% CI"] = f"[{r.effect_size_ci[0]:+.2f}, {r.effect_size_ci[1]:+.2f}]"
            for m in ("rnd", "ect", "mac", "rnsb"):
                v = others.get(m, {}).get((t, n))
                row[m.upper()] = v.value if isinstance(v, bias.MetricResult) else np.nan
            rows.append(row)
    return pd.DataFrame(rows)


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
    pending = st.session_state.pop("_bias_new_test", None)  # a test saved on the previous run joins the selection
    if pending in tests:
        st.session_state["bias_tests"] = [*st.session_state["bias_tests"], pending]
    chosen_tests = c2.multiselect("Tests", list(tests), key="bias_tests",
                                  help="weat1–weat10: Caliskan et al. (2017); titles and sources below.")
    metric = st.radio("Metric", list(bias.METRICS), horizontal=True, key="bias_metric",
                      format_func=lambda m: bias.METRICS[m].name,
                      help="WEAT and WEFE's four other standard metrics, each on the query its paper uses. "
                           "The formula, source and reading of each are under the grid.")
    with st.expander("Settings", icon=":material/tune:"):
        s1, s2, s3, s4, s5 = st.columns(5)
        ddof = s1.radio("Standard deviation", [1, 0], key="bias_ddof", horizontal=True,
                        format_func=lambda d: "sample (n−1)" if d else "population (n)",
                        help="Caliskan et al. use the sample std; WEFE the population std.")
        permutations = int(s2.number_input("Sampled permutations", 1000, 1_000_000, 100_000, step=10_000,
                                           key="bias_perm", help="Used when exact enumeration would need more "
                                           "than 100,000 partitions."))
        seed = int(s3.number_input("Seed", 0, 1_000_000, 0, key="bias_seed"))
        max_missing = s4.slider("Refuse above this share unknown", 0.0, 1.0, bias.MAX_MISSING, 0.05,
                                key="bias_missing", help="Words missing from a space, or built from its word pieces "
                                "(FastText), count as unknown.")
        fallback = s5.toggle("Lowercase fallback", key="bias_fallback",
                             help="Cased spaces: try the lowercase word when the word as written is missing. "
                                  "Uncased spaces are always looked up in lowercase.")
        b1, b2, _ = st.columns([1, 2, 2])
        resamples = int(b1.number_input("Bootstrap resamples", 0, 20_000, bias.BOOTSTRAP, step=500, key="bias_boot",
                                        help="For the 95% interval on d: the words of each of X, Y, A and B are "
                                             "drawn again with replacement. 0: no interval."))
        seat_unit = b2.radio("SEAT permutes", bias.SEAT_UNITS, horizontal=True, key="bias_seat_unit",
                             format_func=lambda u: {"word": "whole words (default)",
                                                    "sentence": "single sentences (May et al.)"}[u],
                             help="A word's six template sentences are not independent of each other, so by "
                                  "default they move together between X and Y; May et al. (2019) moved single "
                                  "sentences, which makes p too small.")
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
        ran = [r for r in results.values() if isinstance(r, bias.WeatResult)]
        results.update({(r.test, r.space): r for r in bias.with_holm(ran)})  # Holm over each space's tests
        rows = []
        for (t, n), r in results.items():
            rows.append(r.row() if isinstance(r, bias.WeatResult) else bias.refused_row(tests[t], space(choices[n]), r))
        table = pd.DataFrame(rows)
        titles = {t: tests[t].title for t in chosen_tests}
        info = bias.METRICS[metric]
        if metric == "weat":
            plotly_chart(weat_heatmap(table, titles), width="stretch", key="bias_heatmap")
            st.caption("Cells: effect size d (red: X with A, Y with B; blue: the reverse), its bootstrap 95% "
                       f"interval ({resamples:,} resamples of the words within each set) and the one-sided "
                       "permutation p of that test alone. In the table, *p (Holm)* is adjusted for all the tests "
                       "run together on the same space (Holm 1979): read that one when several tests are compared. "
                       "Grey cells were refused: too many of the test's words are not in that space."
                       if resamples else "Cells: effect size d and the one-sided permutation p (no interval: "
                       "bootstrap resamples are 0 in the settings).")
            if resamples:
                plotly_chart(weat_forest(table), width="stretch", key="bias_forest")
                st.caption("An interval that crosses 0 means the direction of the bias is not settled by these "
                           "words: resampling them can reverse it (Antoniak & Mimno 2021).")
        else:
            mrows = [r.row() if isinstance(r, bias.MetricResult) else
                     bias.refused_metric_row(metric, t, n, r) for (t, n), r in others.get(metric, {}).items()]
            plotly_chart(metric_heatmap(pd.DataFrame(mrows), metric, titles), width="stretch", key="bias_heatmap")
        st.caption(f"**{md(info.name)}** ({md(info.source)}). {md(info.formula)}. Query: {md(info.query)}. "
                   f"Reading: {md(info.direction)}. Spaces that kept their vectors' norms are measured on their raw "
                   "vectors, as WEFE and the papers do; the values equal WEFE 1.0.1's.")
        shown = table.copy()
        for column in ("p", "p (Holm)"):   # text, so an exact p of 0 reads as the bound it is, never "0.00000"
            shown[column] = [bias.format_p(v, n) if pd.notna(n) and n else "—"
                             for v, n in zip(table[column], table.get("partitions", pd.Series(np.nan, table.index)))]
        shown["d 95% CI"] = [f"[{lo:+.2f}, {hi:+.2f}]" if pd.notna(lo) else "" for lo, hi in
                             zip(table["d low"], table["d high"])]
        shown["words"] = [f"refused: {r}" if r else "; ".join(f"{k}: {v}" for k, v in (("missing", m), ("from pieces", f))
                                                              if v) for r, m, f in
                          zip(table["refused"], table["missing"], table["from pieces"])]
        # the data keep every column (S, the p method, the bounds); the view fits a laptop's width
        st.dataframe(shown, hide_index=True, width="stretch", key="bias_table", column_order=[
            "test", "space", "probe", "d", "d 95% CI", "p", "p (Holm)", "sizes", "words"], column_config={
            "test": st.column_config.TextColumn(width=60), "space": st.column_config.TextColumn(width=100),
            "probe": st.column_config.TextColumn(width=55),
            "d": st.column_config.NumberColumn("d", format="%.3f", width=60),
            "d 95% CI": st.column_config.TextColumn(width=110, help="bootstrap over the words of each set"),
            "p": st.column_config.TextColumn("p", width=75, help="one-sided permutation p of the test alone"),
            "p (Holm)": st.column_config.TextColumn("p (Holm)", width=75,
                                                    help="adjusted for the tests run together on this space"),
            "sizes": st.column_config.TextColumn(width=60, help="words used in X/Y/A/B"),
            "words": st.column_config.TextColumn("words left out or built", width=180, help="why a cell was refused; the "
                                                 "words a space does not know, and those it built from pieces")})
        side = _side_by_side(results, others, chosen_tests, chosen)
        if not side.empty:
            st.markdown("**All five metrics** (WEAT's d with its 95% interval; the others as WEFE computes them)")
            st.dataframe(side, hide_index=True, width="stretch", key="bias_all_metrics", column_config={
                c: st.column_config.NumberColumn(c, format="%.3f", help=bias.METRICS[c.split(" ")[0].lower()].direction)
                for c in side.columns if c.split(" ")[0].lower() in bias.METRICS})

        st.subheader("One test in detail")
        d1, d2 = st.columns(2)
        drill_test = d1.selectbox("Test", chosen_tests, key="bias_drill_test",
                                  index=chosen_tests.index("weat6") if "weat6" in chosen_tests else 0,
                                  format_func=lambda t: f"{t} · {tests[t].title}")
        ran = [n for n in chosen if isinstance(results.get((drill_test, n)), bias.WeatResult)]
        drill_space = d2.selectbox("Space", chosen, key="bias_drill_space",
                                   index=chosen.index(ran[0]) if ran else 0)
        t = tests[drill_test]
        r = results.get((drill_test, drill_space))
        left, right = st.columns([3, 2])
        with right:
            for role, word_set in zip(("X", "Y", "A", "B"), t.sets):
                lost = set(r.missing.get(word_set.name, [])) if isinstance(r, bias.WeatResult) else set()
                words = ", ".join(f"~~{md(w)}~~" if w in lost else md(w) for w in word_set.words)
                st.markdown(f"**{role} · {md(word_set.name)}** ({len(word_set.words)}): {words}")
            if t.sources:
                st.caption("Sources: " + md_list(t.sources, " · "))
            if t.note:
                st.caption(md(t.note))
            if t.published:
                st.caption("Published d: " + ", ".join(f"{md(k)} {md(v)}" for k, v in t.published.items()))
        with left:
            if isinstance(r, bias.WeatResult):
                m = st.columns(4)
                m[0].metric("effect size d", f"{r.effect_size:+.3f}")
                m[1].metric("p (one-sided)", f"{r.p_value:.4f}" if r.p_value >= 1e-4 else "< 0.0001")
                m[2].metric("partitions", f"{r.permutations:,}", r.p_method, delta_color="off", delta_arrow="off")
                m[3].metric("sizes X/Y/A/B", "/".join(map(str, r.sizes)))
                if r.effect_size_ci:
                    st.caption(f"95% interval on d: [{r.effect_size_ci[0]:+.3f}, {r.effect_size_ci[1]:+.3f}] "
                               f"({r.bootstrap:,} bootstrap resamples of the words within each set). p: permutation "
                               f"by {'word' if r.permutation_unit == 'word' else 'sentence'}.")
                plotly_chart(weat_strip(r.scores), width="stretch", key="bias_strip")
                top = r.most_influential
                if top is not None:
                    st.markdown(f"**Each word's leverage.** Without *{md(top['word'])}* ({md(top['set'])}), d would "
                                f"be {top['d_without']:+.3f} instead of {r.effect_size:+.3f}.")
                    plotly_chart(influence_bars(r.influence, r.effect_size), width="stretch", key="bias_influence")
                if r.missing_words:
                    st.caption(f"Dropped, not in {md(drill_space)}: {md_list(r.missing_words)}")
                pieces = r.to_dict()["from_pieces"]
                if pieces:
                    st.caption(f"Not in the vocabulary, built from word pieces: {md_list(pieces)}")
            elif r is not None:
                st.warning(md(r), icon=":material/block:")
        drill = r if isinstance(r, bias.WeatResult) else None
        e1, e2 = st.columns(2)
        e1.download_button("Download CSV", table.to_csv(index=False).encode(), "weat.csv", "text/csv",
                           icon=":material/download:", key="bias_csv")
        e2.download_button("Download HTML report", bias_report(table, [tests[x] for x in chosen_tests], drill=drill),
                           "weat-report.html", "text/html", icon=":material/description:", key="bias_html")

    with st.expander("Custom test", icon=":material/add_circle:"):
        st.caption("Four word sets, one word per line or comma-separated; or upload a JSON test in the format of "
                   "data/wordsets/weat_caliskan2017.json (\"targets\" and \"attributes\", two named lists each).")
        with st.form("bias_custom", border=False):
            title = st.text_input("Name", placeholder="pets-vs-pests")
            cols = st.columns(4)
            sets = []
            for col, role, hint in zip(cols, "XYAB", ("target X", "target Y", "attribute A", "attribute B")):
                set_name = col.text_input(f"{role}: set name", value=hint, key=f"bias_c_{role}_name")
                words = col.text_area(f"{role}: words", key=f"bias_c_{role}_words", height=140)
                sets.append((set_name, parse_words(words)))
            upload = st.file_uploader("or a JSON test", type=["json"], key="bias_c_upload")
            submitted = st.form_submit_button("Save test", icon=":material/save:")
        if submitted:
            with guard("saving the test"):
                if upload is not None:
                    from embeddings.readers import decode

                    try:
                        obj = json.loads(decode(upload.name, upload.getvalue())[0])
                    except json.JSONDecodeError as exc:
                        raise InputError(f"{upload.name} is not valid JSON (line {exc.lineno}: {exc.msg}).") from exc
                    if isinstance(obj, dict) and "tests" in obj:
                        obj = obj["tests"][0]
                    parsed = bias.WeatTest.from_json(obj)
                    new = bias.custom_test(parsed.title, *((s.name, s.words) for s in parsed.sets))
                else:
                    new = bias.custom_test(title or "custom", *sets)
                saved = bias.save_test(ws, new, title or new.title)
                st.session_state["_bias_new_test"] = saved.id
                flash(f"Saved the test {md(saved.id)}.")
                st.rerun()
