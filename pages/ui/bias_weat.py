"""The Bias page's WEAT / SEAT tab: the side-by-side grid, one test in detail, custom tests."""

import json

import numpy as np
import pandas as pd
import streamlit as st

from embeddings import bias
from embeddings.cards import SpaceCard
from embeddings.errors import InputError
from embeddings.figures import weat_heatmap, weat_strip
from embeddings.reports import bias_report
from embeddings.wordlists import parse_words
from embeddings.workspace import Workspace
from pages.common import (cancellable, flash, guard, md, md_list, plotly_chart, progress_reporter, query_list, space,
                          sync_query_params, workspace_root)


@st.cache_resource(max_entries=8, show_spinner=False)
def _sentence_cache(root: str, space_id: str) -> dict:
    """SEAT sentences already encoded by one sentence-encoder space (shared across reruns)."""
    return {}


@st.cache_data(max_entries=1024, show_spinner=False)
def weat_cell(root: str, space_id: str, test_json: str, ddof: int, permutations: int, seed: int,
              max_missing: float, fallback: bool):
    """One (test, space) result, or the reason it was refused."""
    test = bias.WeatTest.from_json(json.loads(test_json))
    sp = space(space_id)
    try:
        return bias.weat(sp, test, ddof=ddof, permutations=permutations, seed=seed, max_missing=max_missing,
                         lowercase_fallback=fallback, sentence_cache=_sentence_cache(root, space_id))
    except bias.RefusedTest as exc:
        return str(exc)


def all_tests(ws: Workspace) -> dict[str, bias.WeatTest]:
    return {t.id: t for t in list(bias.builtin_tests()) + bias.saved_tests(ws)}


def test_json(t: bias.WeatTest) -> str:
    return json.dumps({**t.to_json(), "sources": list(t.sources), "published_effect_size": t.published})


def weat_tab(ws: Workspace, choices: dict[str, str], chosen: list[str], cards: dict[str, SpaceCard]) -> None:
    """The grid of tests × the ``chosen`` spaces (SEAT for sentence encoders), then one cell in detail."""
    tests = all_tests(ws)
    c2 = st.container()
    default_tests = [t for t in query_list("tests") if t in tests] or list(tests)[:10]
    if "bias_tests" not in st.session_state:
        st.session_state["bias_tests"] = default_tests
    pending = st.session_state.pop("_bias_new_test", None)  # a test saved on the previous run joins the selection
    if pending in tests:
        st.session_state["bias_tests"] = [*st.session_state["bias_tests"], pending]
    chosen_tests = c2.multiselect("Tests", list(tests), key="bias_tests",
                                  help="weat1–weat10: Caliskan et al. (2017); titles and sources below.")
    with st.expander("Settings", icon=":material/tune:"):
        s1, s2, s3, s4, s5 = st.columns(5)
        ddof = s1.radio("Standard deviation", [1, 0], key="bias_ddof", horizontal=True,
                        format_func=lambda d: "sample (n−1)" if d else "population (n)",
                        help="Caliskan et al. use the sample std; WEFE the population std.")
        permutations = int(s2.number_input("Sampled permutations", 1000, 1_000_000, 100_000, step=10_000,
                                           key="bias_perm", help="Used when exact enumeration would need more "
                                           "than 100,000 partitions."))
        seed = int(s3.number_input("Seed", 0, 1_000_000, 0, key="bias_seed"))
        max_missing = s4.slider("Refuse above this share missing", 0.0, 1.0, 0.2, 0.05, key="bias_missing")
        fallback = s5.toggle("Lowercase fallback", key="bias_fallback",
                             help="Cased spaces: try the lowercase word when the word as written is missing. "
                                  "Uncased spaces are always looked up in lowercase.")
    sync_query_params(spaces=",".join(chosen), tests=",".join(chosen_tests))

    seat_spaces = [n for n in chosen if cards[n].is_sentence_encoder]
    if seat_spaces:
        st.info(f"{md_list(seat_spaces)}: sentence encoder, so probed with **SEAT** (May et al. 2019): each word "
                f"is put into {len(bias.SEAT_TEMPLATES)} bleached templates ({', '.join(bias.SEAT_TEMPLATES[:3])} …) "
                "and each sentence is one element of its set.", icon=":material/info:")

    results: dict[tuple[str, str], object] = {}
    if chosen and chosen_tests:
        signature = (chosen, chosen_tests, ddof, permutations, seed, max_missing, fallback)
        with guard("the WEAT tests"), cancellable("bias", "The WEAT tests", signature):
            cells = [(t, n) for t in chosen_tests for n in chosen]
            progress, done = progress_reporter("Running the tests")
            for i, (t, n) in enumerate(cells):
                progress(i / len(cells), f"{t} on {n}{' (SEAT)' if n in seat_spaces else ''}")
                results[(t, n)] = weat_cell(workspace_root(), choices[n], test_json(tests[t]), int(ddof),
                                            permutations, seed, float(max_missing), bool(fallback))
            done()
    if results:
        ran = [r for r in results.values() if isinstance(r, bias.WeatResult)]
        results.update({(r.test, r.space): r for r in bias.with_holm(ran)})  # Holm over each space's tests
        rows = []
        for (t, n), r in results.items():
            rows.append(r.row() if isinstance(r, bias.WeatResult) else bias.refused_row(tests[t], space(choices[n]), r))
        table = pd.DataFrame(rows)
        plotly_chart(weat_heatmap(table, {t: tests[t].title for t in chosen_tests}), width="stretch",
                        key="bias_heatmap")
        st.caption("Cells: effect size d (red: X with A, Y with B; blue: the reverse) and the one-sided permutation p "
                   "of that test alone. In the table, *p (Holm)* is adjusted for all the tests run together on the "
                   "same space (Holm 1979): read that one when several tests are compared. Grey cells were refused: "
                   "too many of the test's words are not in that space.")
        shown = table.copy()
        for column in ("p", "p (Holm)"):   # text, so an exact p of 0 reads as the bound it is, never "0.00000"
            shown[column] = [bias.format_p(v, n) if pd.notna(n) and n else "—"
                             for v, n in zip(table[column], table.get("partitions", pd.Series(np.nan, table.index)))]
        st.dataframe(shown, hide_index=True, width="stretch", key="bias_table", column_config={
            "d": st.column_config.NumberColumn("d", format="%.3f"),
            "p": st.column_config.TextColumn("p", help="one-sided permutation p of the test alone"),
            "p (Holm)": st.column_config.TextColumn("p (Holm)",
                                                    help="adjusted for the tests run together on this space"),
            "S": st.column_config.NumberColumn("S", format="%.4f"),
            "refused": st.column_config.TextColumn("refused because", width="large")})

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
                plotly_chart(weat_strip(r.scores), width="stretch", key="bias_strip")
                if r.missing_words:
                    st.caption(f"Dropped, not in {md(drill_space)}: {md_list(r.missing_words)}")
                embedded = r.to_dict()["embedded"]
                if embedded:
                    st.caption(f"Not in the vocabulary, embedded by the model: {md_list(embedded)}")
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
