"""Compare: how each shared label's neighbourhood changes between two spaces."""

import streamlit as st

from embeddings.analysis import stability
from embeddings.analysis.neighbours import CompareParams, K as NEIGHBOUR_K, compare
from embeddings.figures import drift_histogram, jaccard_histogram
from embeddings.figures.reports import compare_report
from embeddings.glossary import GLOSSARY
from pages.common import space, space_cards, spaces_or_stop, workspace, workspace_root
from pages.ui.defaults import follow, space_order
from pages.ui.demo_panel import wait_for_demo
from pages.ui.jobs import guard
from pages.ui.options import bound, option_number, option_slider
from pages.ui.text import download_name, md, plotly_chart
from pages.ui.url import choice, number, sync_query_params

st.title("Compare two spaces")
wait_for_demo(workspace(), "compare")
st.caption("Over the labels both spaces share, each label's k nearest neighbours (searched among the shared labels) "
           "are compared: Jaccard@k, as in the Embedding Comparator, and the ordered overlap, which rewards "
           "agreement at the top of the list. Raw coordinates of different models are never compared.")

choices = spaces_or_stop(2)
names = list(choices)


ranked, context = space_order(choices, terms_only=True)
a_first = choice("a", names, ranked[0])
demo = () if any(context) else ("lee-minilm",)     # a fresh session opens on the demo's pair
b_first = next(b for b in (choice("b", names, ""), *demo, *ranked, *names) if b in names and b != a_first)
follow("cmp_a", a_first, ranked[0], context)
follow("cmp_b", b_first, next(b for b in (*ranked, *names) if b != ranked[0]), context)
c1, c2, c3, c4 = st.columns([3, 3, 2, 2])
a_name = c1.selectbox("Space A", names, key="cmp_a")
b_name = c2.selectbox("Space B", names, key="cmp_b")
k = option_slider("k", CompareParams, "k", key="cmp_k", where=c3,
                  value=number("k", NEIGHBOUR_K, bound(CompareParams, "k")))
max_labels = option_number("Most frequent shared labels", CompareParams, "max_labels", key="cmp_max", where=c4)
sync_query_params(a=a_name, b=b_name, k=k)
if a_name == b_name:
    st.info("Pick two different spaces.")
    st.stop()


@st.cache_data(max_entries=8, show_spinner="Comparing neighbourhoods…")
def run_comparison(root: str, a_id: str, b_id: str, k: int, max_labels: int):
    return compare(space(a_id), space(b_id), k, max_labels=max_labels)


with guard("the comparison"):
    result = run_comparison(workspace_root(), choices[a_name], choices[b_name], int(k), int(max_labels))
    s = result.summary()
    a_space, b_space = space(choices[a_name]), space(choices[b_name])
    if a_space.family != b_space.family:
        st.caption(f"Cross-family comparison: {md(a_space.family)} against {md(b_space.family)}, "
                   "through shared labels.")
    m = st.columns(4)
    m[0].metric("Shared labels", f"{s['shared']:,}")
    m[1].metric(f"Mean Jaccard@{k}", f"{s['mean_jaccard']:.3f}", help=GLOSSARY["Jaccard@k"])
    m[2].metric("Median Jaccard", f"{s['median_jaccard']:.3f}", help=GLOSSARY["Jaccard@k"])
    m[3].metric("Mean ordered overlap", f"{s['mean_ordered']:.3f}", help=GLOSSARY["ordered overlap"])
    plotly_chart(jaccard_histogram(result, a_name, b_name), width="stretch", key="cmp_hist")

    # the noise floor: a stability study of A's or B's model on the corpus it was trained on
    cards = space_cards()
    floors = {a.id: (n, a) for n in (a_name, b_name) if n in cards
              for a in stability.studies_of(workspace(), cards[n].family, cards[n].corpus)}
    if st.session_state.get("_cmp_noise_for") != (a_name, b_name):  # other spaces: their newest study
        st.session_state.pop("cmp_noise", None)
    st.session_state["_cmp_noise_for"] = (a_name, b_name)
    floor = None
    if floors:
        noise_id = st.selectbox(
            "Noise floor", list(floors) + ["none"], key="cmp_noise",
            format_func=lambda i: "none" if i == "none" else
            f"{floors[i][1].name}: {floors[i][0]} trained again with other seeds",
            help="A stability study: the same model trained on the same corpus with other seeds. A label's "
                 "neighbours differ between the two spaces beyond that model's own noise when they share fewer "
                 "than its two least alike runs do.")
        if noise_id != "none":
            owner = floors[noise_id][0]
            study = stability.load_study(workspace(), noise_id)
            nf = stability.comparison_noise(study, result.table)
            if nf["measured"]:
                st.caption(
                    f"Noise floor: **{md(study.name)}**. {nf['runs']} runs of {md(owner)}'s model that differ only in "
                    f"seed share a median Jaccard@{nf['study_k']} of **{nf['median_stability']:.2f}** over "
                    f"{nf['measured']:,} of {nf['shared']:,} shared labels; {md(a_name)} and {md(b_name)} share "
                    f"**{nf['median_jaccard']:.2f}** on the same labels. **{nf['beyond_noise']:,} of "
                    f"{nf['measured']:,}** labels share fewer neighbours across the two spaces than {md(owner)}'s "
                    f"two least alike runs: they differ beyond {md(owner)}'s own seed-to-seed noise.")
                if nf["study_k"] != k:
                    st.caption(f":orange[The study measured k = {nf['study_k']}; this comparison uses k = {k}. Set "
                               f"k to {nf['study_k']} to compare like with like.]")
                floor = (owner, study)
            else:
                st.caption(f"The study {md(study.name)} measured none of the {nf['shared']:,} shared labels.")

    table = result.table
    content_only = st.toggle("Content words only", value=True, key="cmp_content",
                             help="Leave stopwords, numbers, labels under 3 characters and labels seen fewer than "
                                  "5 times out of the most and least changed lists.")
    left, right = st.tabs(["Most changed", "Least changed"])   # full width: every column on screen
    cols = {"jaccard": st.column_config.ProgressColumn("Jaccard", format="%.2f", min_value=0.0, max_value=1.0),
            "ordered": st.column_config.NumberColumn("ordered", format="%.3f"),
            "drift": st.column_config.NumberColumn("drift", format="%.3f")}
    most = result.most_changed(content_only=content_only)
    least = result.least_changed(content_only=content_only)
    if floor:  # each label's floor beside its Jaccard: below it, the change is beyond noise
        owner, study = floor
        most, least = (t.assign(floor=study.stability_of(t["label"], "floor").to_numpy()) for t in (most, least))
        cols["floor"] = st.column_config.NumberColumn(
            "floor", format="%.2f", width="small",
            help=f"The smallest Jaccard@k between two runs of {owner}'s model: a Jaccard below it is beyond noise")
    left.caption("Most frequent first among ties.")
    left.dataframe(most.head(200), hide_index=True, height=320, width="stretch", column_config=cols)
    right.dataframe(least.head(200), hide_index=True, height=320, width="stretch", column_config=cols)

    if result.aligned:
        st.markdown("**Drift after aligning the full spaces** (orthogonal Procrustes; equal dimensions)")
        plotly_chart(drift_histogram(result), width="stretch", key="cmp_drift")

    st.subheader("Domino view")
    # a demo opens on a content word whose neighbourhood changed, not on "the"
    default_label = st.query_params.get("label") or (most["label"].iloc[0] if len(most) else result.shared[0])
    label = st.selectbox("Label", result.shared, index=result.shared.index(default_label)
                         if default_label in result.shared else 0, key="cmp_label")
    sync_query_params(label=label)
    d = result.domino(label)
    row = table.loc[table["label"] == label].iloc[0]
    st.caption(f"Jaccard@{k} {row['jaccard']:.2f} · ordered overlap {row['ordered']:.2f}")

    def chips(items, colour):
        return " ".join(f":{colour}-badge[{md(x)}]" for x in items) or "—"

    d1, d2, d3 = st.columns(3)
    d1.markdown(f"**Only in {md(a_name)}**\n\n{chips(d['only_a'], 'blue')}")
    d2.markdown(f"**In both**\n\n{chips(d['shared'], 'green')}")
    d3.markdown(f"**Only in {md(b_name)}**\n\n{chips(d['only_b'], 'orange')}")

    st.subheader("Export")
    e1, e2 = st.columns(2)
    e1.download_button("Table as CSV", data=lambda: table.to_csv(index=False).encode("utf-8"),
                       file_name=download_name(f"{a_name}-vs-{b_name}-k{k}", ".csv"), mime="text/csv", key="cmp_csv",
                       on_click="ignore", icon=":material/download:")
    e2.download_button("HTML report", data=lambda: compare_report(result, a_name, b_name,
                                                                  examples=[label]).encode("utf-8"),
                       file_name=download_name(f"{a_name}-vs-{b_name}-k{k}", ".html"), mime="text/html", key="cmp_html",
                       on_click="ignore", icon=":material/description:")
