"""The WEAT / SEAT tab's results: the grid of tests × spaces in every metric, and one test in
detail with each word's leverage and the downloads."""

import numpy as np
import pandas as pd
import streamlit as st

from embeddings import bias
from embeddings.figures import weat_strip
from embeddings.figures.bias import influence_bars, metric_heatmap, weat_forest, weat_heatmap
from embeddings.figures.reports import bias_report
from pages.common import space
from pages.ui.text import md, md_list, plotly_chart


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


def show_grid(results: dict, others: dict, tests: dict, choices: dict[str, str], chosen: list[str],
              chosen_tests: list[str], metric: str, resamples: int) -> pd.DataFrame:
    """The heatmap (and forest) of the chosen metric, the table, all five metrics side by side:
    the table, for the downloads."""
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
    return table


def show_detail(table: pd.DataFrame, results: dict, tests: dict, chosen: list[str], chosen_tests: list[str]) -> None:
    """One (test, space) cell in detail, and the CSV and HTML downloads."""
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
