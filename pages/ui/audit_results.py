"""The Audit's results: each space's coverage and overlap beside the noise floor, and the
table of terms with its filters."""

import pandas as pd
import streamlit as st

from embeddings.analysis.audit import FLAGS
from embeddings.store.cards import SpaceCard
from pages.ui.text import md


def show_summary(result, cards: dict[str, SpaceCard], corpus_name: str, k: int) -> None:
    """One column per space: what share of the terms it knows, how far its neighbours agree
    with the domain space's, and how many terms differ beyond the domain model's own noise."""
    m = st.columns(len(result.summary))
    for col, row in zip(m, result.summary.to_dict("records")):
        col.metric(md(row["space"]), f"{row['coverage']:.0%} known",
                   f"{row['coverage_by_frequency']:.0%} of occurrences", delta_color="off", delta_arrow="off")
        if row["role"] != "domain" and not row["coverage"]:
            card = cards.get(row["space"])
            origin = f"trained on {md(card.corpus)}" if card and card.corpus else "its own vocabulary"
            col.caption(f"Knows none of these terms: its {card.vocabulary if card else 0:,} words are {origin}, "
                        f"and none is among {md(corpus_name)}'s terms.")
        if row["role"] != "domain" and row["overlap_n"]:
            col.caption(f"Median neighbour overlap **{row['median_overlap']:.2f}** (drift "
                        f"{row['median_drift']:.2f}) on {row['overlap_n']} of {len(result.terms)} terms")
        if row["role"] != "domain" and result.noise and row.get("noise_n"):
            col.caption(f"**{row['beyond_noise']} of {row['noise_n']}** terms: their neighbours here differ from "
                        f"those in {md(result.domain)} beyond {md(result.domain)}'s own seed-to-seed noise")
    if result.noise:
        nf = result.noise
        st.caption(f"Noise floor: **{md(nf['study'])}**, {nf['runs']} runs of {md(nf['model'])}"
                   f"{' on bootstrap resamples' if nf['bootstrap'] else ''} with different seeds; median "
                   f"seed-to-seed stability (Jaccard@{nf['k']}) **{nf['median_stability']:.2f}**, known for "
                   f"{nf['measured_terms']} of {len(result.terms)} terms. A term is flagged *beyond noise* when its "
                   "overlap with a general model is below its overlap between every two runs of its own model."
                   + (f" The study compared {nf['k']} neighbours and this audit {k}: read with care."
                      if nf["k"] != k else ""))


def show_table(result) -> None:
    """The terms, filtered by flag or text; compact unless every column is asked for."""
    f1, f2, f3 = st.columns([3, 2, 2])
    wanted = f1.multiselect("Show terms flagged", list(FLAGS), key="au_flags")
    search = f2.text_input("Filter terms", key="au_search").strip().lower()
    every = f3.toggle("Every column", key="au_every", help="Add each space's neighbour list and whether it knows "
                      "the term (the table then scrolls sideways, the term pinned). A blank overlap: the term is "
                      "unknown to that space or to the domain space.")
    table = result.table()
    if wanted:
        table = table[table["flags"].map(lambda f: all(w in f for w in wanted))]
    if search:
        table = table[table["term"].str.contains(search, regex=False)]
    compact = [c for c in table.columns if c in ("term", "frequency", "documents", "n_pieces", "flags")
               or c.startswith("overlap:")]            # fits 1,280 px with three spaces
    for c in table.columns:      # two decimals as text, blank when unknown (a grid shows NaN as "None")
        if c.startswith(("overlap:", "drift:")):
            table[c] = [f"{v:.2f}" if pd.notna(v) else "" for v in table[c]]
    st.dataframe(table, hide_index=True, width="stretch", height=460, key="au_table",
                 column_order=None if every else compact,
                 column_config={"term": st.column_config.TextColumn(pinned=True),
                                "n_pieces": st.column_config.NumberColumn("pieces", width=60),
                                **{c: st.column_config.TextColumn(width=260) for c in table.columns
                                   if c.startswith("neighbours:")}})
