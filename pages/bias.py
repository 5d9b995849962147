"""Bias: WEAT/SEAT tests side by side across spaces, bias axes, and hard debiasing."""

import json

import numpy as np
import pandas as pd
import streamlit as st

from embeddings import bias
from embeddings.errors import InputError
from embeddings.figures import axis_strip, debias_bars, weat_heatmap, weat_strip
from embeddings.reports import bias_report
from embeddings.glossary import GLOSSARY
from embeddings.wordlists import parse_pairs, parse_words
from pages.common import (cancellable, download_name, flash, guard, md, md_list, plotly_chart, plural, progress_reporter,
                          show_flash, space, space_cards, spaces_or_stop, sync_query_params, query_list, workspace,
                          workspace_root)

ws = workspace()
st.title("Bias probes")
st.caption("WEAT effect sizes with a real permutation test, SEAT for sentence encoders, bias axes with DirectBias "
           "and RIPA, and hard debiasing. Every number says which words it was computed on.")
show_flash()

choices = spaces_or_stop()
names = list(choices)
cards = space_cards()


def is_seat(name: str) -> bool:
    return cards[name].is_sentence_encoder


def is_debiased(name: str) -> bool:
    return cards[name].is_debiased


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


@st.cache_data(max_entries=16, show_spinner="Measuring what debiasing left…")
def debias_report(root: str, parent_id: str, child_id: str) -> dict:
    return bias.debias_report(space(parent_id), space(child_id)).to_dict()


def all_tests() -> dict[str, bias.WeatTest]:
    return {t.id: t for t in list(bias.builtin_tests()) + bias.saved_tests(ws)}


def test_json(t: bias.WeatTest) -> str:
    return json.dumps({**t.to_json(), "sources": list(t.sources), "published_effect_size": t.published})


# one choice of spaces for the WEAT and axis tabs (hard debiasing picks its own source)
default_sp = [n for n in query_list("spaces") if n in choices] or [n for n in names if not is_seat(n)][:3] or names[:2]
chosen = st.multiselect("Spaces", names, default=default_sp, key="bias_spaces",
                        help="Used by the WEAT / SEAT and Bias axis tabs.")
weat_tab, axis_tab, debias_tab = st.tabs(["WEAT / SEAT", "Bias axis", "Hard debias"], key="bias_tab",
                                         bind="query-params")

# -- WEAT / SEAT -----------------------------------------------------------------------
with weat_tab:
    tests = all_tests()
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

    seat_spaces = [n for n in chosen if is_seat(n)]
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

# -- bias axis ---------------------------------------------------------------------------
with axis_tab:
    g = bias.bolukbasi_gender()
    c1, c2 = st.columns(2)
    pairs_text = c1.text_area("Word pairs (first word → second word)", height=180, key="axis_pairs",
                              value="\n".join(f"{a} {b}" for a, b in g["definitional_pairs"]),
                              help="Default: the definitional gender pairs of Bolukbasi et al. (2016).")
    words_text = c2.text_area("Words to project", height=180, key="axis_words",
                              value="\n".join(bias.neutral_professions()),
                              help="Default: the gender-neutral professions of Bolukbasi et al. (2016).")
    a1, a2, a3 = st.columns([4, 2, 2])
    axis_spaces = chosen
    a1.caption(f"On {md_list(chosen) or 'no space: choose spaces above'}.")
    method = a2.radio("Direction", ["pca", "pair"], horizontal=True, key="axis_method",
                      format_func=lambda m: "PCA of the pairs" if m == "pca" else "first pair's difference")
    c_exp = a3.slider("DirectBias c", 0.1, 3.0, 1.0, 0.1, key="axis_c")
    with guard("the bias axis"):
        pairs = parse_pairs(pairs_text)
        words = parse_words(words_text)
        if not words:
            raise InputError("Give at least one word to project.")
        reports = {}
        for n in axis_spaces:
            sp = space(choices[n])
            try:
                reports[n] = bias.axis_report(sp, pairs, words, method=method, c=c_exp)
                if reports[n].axis.warning:
                    st.warning(f"{md(n)}: {md(reports[n].axis.warning)}", icon=":material/warning:")
            except InputError as exc:
                st.warning(f"{md(n)}: {md(exc)}", icon=":material/block:")
        if reports:
            summary = pd.DataFrame([{
                "space": n, "pairs used": len(r.axis.pairs), "pairs missing": len(r.axis.missing_pairs),
                "PC1 explained variance": r.axis.explained_variance[0], "words found": len(r.projections),
                "words missing": len(r.missing_words), f"DirectBias (c={c_exp:g})": r.direct_bias}
                for n, r in reports.items()])
            st.dataframe(summary, hide_index=True, width="stretch", key="axis_summary", column_config={
                "PC1 explained variance": st.column_config.NumberColumn(format="%.3f"),
                f"DirectBias (c={c_exp:g})": st.column_config.NumberColumn(format="%.4f",
                                                                           help=GLOSSARY["DirectBias"])})
            cols = st.columns(len(reports))
            for col, (n, r) in zip(cols, reports.items()):
                with col:
                    st.markdown(f"**{md(n)}**")
                    plotly_chart(axis_strip(r.projections, r.axis.ends), width="stretch",
                                 key=f"axis_strip_{choices[n]}")
                    if r.missing_words:
                        st.caption(f"Not in {md(n)}: {plural(len(r.missing_words), 'word')} "
                                   f"({md_list(r.missing_words[:12])}{' …' if len(r.missing_words) > 12 else ''})")
            r1, r2 = st.columns([2, 5])
            ripa_space = r1.selectbox("RIPA per pair, in", list(reports), key="axis_ripa_space")
            rep = reports[ripa_space]
            r2.caption("RIPA β(w; b) = ⟨w, b⟩ with b = (x − y)/‖x − y‖ for each pair (x, y) (Ethayarajh et al. "
                       "2019), on the unit vectors; positive leans towards the pair's first word.")
            st.dataframe(rep.ripa.reset_index(), hide_index=True, width="stretch", height=300, key="axis_ripa")
            st.download_button("Download projections and RIPA (CSV)",
                               rep.projections.merge(rep.ripa.reset_index(), on="word").to_csv(index=False).encode(),
                               download_name(f"axis-{ripa_space}", ".csv"), "text/csv", icon=":material/download:",
                               key="axis_csv")

# -- hard debias -------------------------------------------------------------------------
with debias_tab:
    st.caption("Hard debiasing (Bolukbasi et al. 2016): the gender direction (PCA of the definitional pairs) is "
               "removed from every word outside the gender-specific list (neutralise), then each equalise pair is "
               "made symmetric about the neutral subspace (equalise). The result is a new space; the original "
               "stays as it was.")
    word_spaces = [n for n in names if not is_seat(n) and not is_debiased(n)
                   and cards[n].is_terms]
    d1, d2, d3 = st.columns([3, 3, 2])
    largest = max(word_spaces, key=lambda n: cards[n].vocabulary) if word_spaces else None
    source = d1.selectbox("Space to debias", word_spaces, key="debias_source",
                          index=word_spaces.index(largest) if largest else 0) if word_spaces else None
    new_name = d2.text_input("New space name", value=f"{source}-debiased" if source else "", key="debias_name")
    d3.write("")
    go_ = d3.button("Debias", icon=":material/balance:", key="debias_go", disabled=source is None)
    with st.expander("Word lists used"):
        st.caption(g["about"])
        st.markdown(f"**Definitional pairs** ({len(g['definitional_pairs'])}): "
                    + ", ".join(f"{a}/{b}" for a, b in g["definitional_pairs"]))
        st.markdown(f"**Equalise pairs** ({len(g['equalize_pairs'])}): "
                    + ", ".join(f"{a}/{b}" for a, b in g["equalize_pairs"]))
        specific = bias.gender_specific()
        st.markdown(f"**Gender-specific words, never neutralised** ({len(specific):,}, Bolukbasi et al.'s full "
                    f"learned list): " + ", ".join(specific[:150]) + f" … and {len(specific) - 150:,} more "
                    "(data/wordsets/bolukbasi2016_gender.json, `specific_full`)")
    if go_ and source:
        with guard("debiasing"), st.spinner(f"Debiasing {md(source)}…"):
            new = bias.debias_space(ws, choices[source], new_name)
            info = new.provenance["debias"]
            flash(f"Saved {md(new.name)}: {info['neutralised']:,} words neutralised, "
                  f"{len(info['equalised_pairs'])} pairs equalised.")
            st.rerun()

    debiased = [n for n in names if is_debiased(n)]
    if not debiased:
        st.info("No debiased space yet: pick one above and press Debias to see before and after.")
    else:
        pick = st.selectbox("Before and after", debiased, key="debias_view")
        child = space(choices[pick])
        parent_id = child.provenance.get("parent")
        parent_name = next((n for n, i in choices.items() if i == parent_id), None)
        if parent_name is None:
            st.warning(f"The parent of {md(pick)} ({md(child.provenance.get('parent_name'))}) is no longer in the "
                       "workspace.")
        else:
            with guard("the before/after view"):
                rep = debias_report(workspace_root(), parent_id, choices[pick])
                m = st.columns(3)
                m[0].metric(f"DirectBias before ({md(parent_name)})", f"{rep['direct_bias_before']:.4f}",
                            help=GLOSSARY["DirectBias"])
                m[1].metric("after, along the removed direction", "0 by construction",
                            f"{rep['direct_bias_after_removed_direction']:.0e}", delta_color="off", delta_arrow="off",
                            help="Hard debiasing takes this direction out of every neutral word, so this reading "
                                 "is zero whatever bias is left. It is shown only to say so.")
                m[2].metric("after, along a recomputed direction", f"{rep['direct_bias_after_recomputed_direction']:.4f}",
                            help="The same definitional pairs, PCA'd again in the debiased space: what a new "
                                 "measurement of the gender direction finds.")
                st.caption(f"DirectBias (c = 1) over the {rep['professions']:,} gender-neutral professions of "
                           "Bolukbasi et al. found in both spaces.")
                res = rep["residual_clustering"]
                if res:
                    k = st.columns(3)
                    k[0].metric("k-means accuracy before", f"{res['accuracy_before']:.3f}")
                    k[1].metric("k-means accuracy after", f"{res['accuracy_after']:.3f}",
                                f"{res['accuracy_after'] - res['accuracy_before']:+.3f}", delta_color="inverse")
                    k[2].metric("words clustered", f"{res['n']:,}",
                                f"of {res['candidates']:,} candidates", delta_color="off", delta_arrow="off")
                    st.caption(
                        f"Residual bias (Gonen & Goldberg 2019): the {res['per_end']:,} words most biased towards "
                        f"each end ({md(res['ends'][0])} · {md(res['ends'][1])}) in the original space, clustered "
                        "with k-means (k = 2). 0.5 is chance; an accuracy that stays high after debiasing means "
                        "the words still group by gender, only no longer along the removed direction. Examples: "
                        + md_list(res["examples"][0][:5]) + " · " + md_list(res["examples"][1][:5]))
                else:
                    st.caption(f"Clustering check not run: {md(rep['residual_problem'])}")
                rows = []
                for t in bias.builtin_tests():
                    for n in (parent_name, pick):
                        r = weat_cell(workspace_root(), choices[n], test_json(t), 1, bias.PERMUTATIONS, 0,
                                      bias.MAX_MISSING, False)
                        rows.append({"test": t.id, "space": n, "d": r.effect_size if not isinstance(r, str) else np.nan,
                                     "p": bias.format_p(r.p_value, r.permutations) if not isinstance(r, str)
                                     else "refused"})
                ba = pd.DataFrame(rows)
                fig = debias_bars(ba, parent_name, pick)
                plotly_chart(fig, width="stretch", key="debias_bars")
                wide = ba.assign(d=ba["d"].round(3)).pivot(index="test", columns="space", values=["d", "p"])
                wide.columns = [f"{n} · {v}" for v, n in wide.columns]
                st.dataframe(wide.reset_index(), hide_index=True, width="stretch", key="debias_table")
