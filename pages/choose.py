"""Choose: which embedding for my task? Task benchmarks on a corpus's own labels, with
paired differences, cost beside quality, and how far the dimensions can go down."""

import pandas as pd
import streamlit as st

from embeddings.demo import LABEL_COLUMN, LABELLED_CORPUS
from embeddings.evaluate.benchmark import TFIDF_SPARSE, cached_benchmark
from embeddings.evaluate.classify import PROTOCOL_LABELS, PROTOCOLS, BenchmarkParams
from embeddings.evaluate.tasks import MAIN_METRIC, TASKS
from embeddings.figures.reports import benchmark_report
from embeddings.figures.tasks import few_shot_figure, pareto_figure
from pages.common import corpora, label_columns_of, space, space_cards
from pages.ui.choose_make import NEW_SPACE, make_document_space, show_similarity
from pages.ui.choose_results import dimension_section, show_classification, show_pairs
from pages.ui.choose_retrieval import retrieval_section
from pages.ui.defaults import pick_corpus
from pages.ui.head import open_page
from pages.ui.jobs import cancellable, guard, progress_reporter
from pages.ui.options import option_number
from pages.ui.text import download_name, md, plotly_chart
from pages.ui.url import URL, Bound, check_link

ws = open_page("Choose an embedding", "choose",
               "Which embedding works best on *your* task? Each space is scored on your corpus's labels (classification, "
               "clustering, retrieval, as MTEB does), every difference is tested on the same folds, and each space's "
               "cost sits beside its quality.")


MODES = ("Your labels", "Your queries")
check_link({"ch_mode": Bound(options=MODES)})
if st.segmented_control("Measure on", MODES, default=MODES[0], key="ch_mode", bind=URL) == MODES[1]:
    everything = {c.name: c for c in corpora()}
    picked = everything[pick_corpus(st, list(everything), "ch_rt_corpus", fallback=LABELLED_CORPUS)]
    retrieval_section(ws, picked, {n: c for n, c in space_cards().items() if c.documents_of(picked.name)})
    st.stop()
labelled = {c.name: (c, label_columns_of(c.id)) for c in corpora()}
labelled = {n: v for n, v in labelled.items() if v[1]}
if not labelled:
    st.info("The task benchmarks need a corpus with a **label column**: add a CSV or JSONL file on the Corpora page "
            "with one column of text and one of labels (topic, department, product…). Columns other than the text "
            "are kept as metadata; a column with 2 to 200 repeated values counts as a label.",
            icon=":material/label:")
    st.stop()

c1, c2 = st.columns([3, 2])
names = list(labelled)
corpus_name = pick_corpus(c1, names, "ch_corpus", fallback=LABELLED_CORPUS)
corpus, columns = labelled[corpus_name]
label = c2.selectbox("Label column", columns, key=f"ch_label_{corpus.id}",
                     index=columns.index(LABEL_COLUMN) if LABEL_COLUMN in columns else 0)
cards = {n: c for n, c in space_cards().items() if c.documents_of(corpus.name)}
made = st.session_state.pop(NEW_SPACE, None)
if made in cards and f"ch_{corpus.id}" in st.session_state:   # a space just made joins the selection
    st.session_state[f"ch_{corpus.id}"] = [*st.session_state[f"ch_{corpus.id}"], made]
chosen = st.multiselect("Document spaces of this corpus", list(cards), default=list(cards), key=f"ch_{corpus.id}")
s1, s2, s3, s4, s5 = st.columns([5, 1, 1, 2, 2])   # three task chips fit at 1,280 px
tasks = s1.multiselect("Tasks", TASKS, default=list(TASKS), key="ch_tasks")
folds = int(option_number("Folds", BenchmarkParams, "folds", key="ch_folds", where=s2))
seed = int(option_number("Seed", BenchmarkParams, "seed", key="ch_seed", where=s3))
p1, p2 = st.columns([3, 1])
protocol = p1.radio("Classifier", list(PROTOCOLS), format_func=PROTOCOL_LABELS.get, horizontal=True,
                    key="ch_protocol", help="C tuned: C chosen by inner cross-validation on each training fold only. "
                    "MTEB: C = 1, which underfits sparse TF-IDF. Both are computed; the page says where they "
                    "order two spaces differently.")
repeats = int(option_number("Repeats of the k-fold", BenchmarkParams, "repeats", key="ch_repeats", where=p2))
tfidf = s4.toggle(f"Add {TFIDF_SPARSE}", value=True, key="ch_tfidf",
                  help="The classic baseline, used sparse as it is: word 1–2-grams of the corpus's tokens.")
shots = s5.toggle("Few-shot curve", value=False, key="ch_shots", disabled="classification" not in tasks,
                  help="Macro-F1 with 8 to 64 labelled documents per class: 40 more classifiers per space.")
make_document_space(ws, corpus)
if not (chosen or tfidf) or not tasks:
    st.info("Choose at least one space and one task.")
    st.stop()


ids = tuple(cards[n].id for n in chosen)
signature = (corpus.id, label, ids, tuple(tasks), folds, seed, tfidf, shots, protocol, repeats)
bench = None
with guard("the benchmark"), cancellable("ch", "The benchmark", signature):
    progress, done = progress_reporter("Benchmarking")
    try:
        bench, cached = cached_benchmark(ws, corpus, label, [space(i) for i in ids], tasks=tuple(tasks),
                                         folds=folds, seed=seed, tfidf=tfidf, few_shots=shots, protocol=protocol,
                                         repeats=repeats, progress=progress)
    finally:
        done()
if bench is None:
    st.stop()

st.subheader("Leaderboard")
st.caption(f"{bench.labels.y.size:,} of {bench.labels.total:,} documents, {len(bench.labels.classes)} classes · "
           + ("saved result" if cached else f"{bench.seconds:.0f} s") + " · main metric per task, mean ± std")
for note in bench.notes:
    st.warning(md(note), icon=":material/warning:")
for t in tasks:
    st.markdown(f"- {md(bench.reading(t))}")
board = bench.leaderboard(text=True)
st.dataframe(board, hide_index=True, width="stretch", key="ch_board", column_config={
    "n": st.column_config.TextColumn("documents", help="documents scored, of the corpus's"),
    "docs/s": st.column_config.NumberColumn("docs/s", format="localized", help="encoding throughput on this machine"),
    "model MB": st.column_config.NumberColumn("model MB", help="what embedding a new document needs on disk: the "
                                              "encoder, the word vectors, or TF-IDF's SVD and idf weights"),
    "USD per M tokens": st.column_config.NumberColumn("$/M tok", width=60, help="an endpoint's price per million "
                                                      "tokens, as typed"),
    "host": st.column_config.TextColumn("host", width=80, help="where an endpoint space's texts were sent"),
    **{f"{t} ({m})": st.column_config.TextColumn(t, help=f"{m}, mean ± std over folds, seeds or queries")
       for t, m in MAIN_METRIC.items()}})

task = st.radio("Quality against cost, on", tasks, horizontal=True, key="ch_pareto_task")
plotly_chart(pareto_figure(bench.points(task), task, MAIN_METRIC[task]), width="stretch", key="ch_pareto")
st.caption("Green: the Pareto frontier, where no other space is both better and faster. Error bars: one std. "
           "Throughput is measured when a space is made (for TF-IDF + LSA, fitting included).")
show_pairs(bench)
show_classification(bench)

if len(bench.few_shot):
    with st.expander("With few labels: the few-shot curve", icon=":material/trending_up:", expanded=True):
        plotly_chart(few_shot_figure(bench.few_shot), width="stretch", key="ch_few_shot")
        st.caption("Macro-F1 when only 8 to 64 labelled documents per class are available: drawn from each "
                   "training fold (2 draws per fold, as MTEB undersamples), scored on the fold's test documents.")

with st.expander("Similarity pairs (STS): your own pairs of texts with a score", icon=":material/join_inner:"):
    upload = st.file_uploader("Pairs file: text, tab, text, tab, score on each line", type=["tsv", "txt"],
                              key="ch_pairs_file")
    if upload is not None:
        with guard("the similarity pairs"):
            show_similarity(ws, upload, [space(cards[n].id) for n in chosen], seed)

dimension_section(corpus, label, cards, chosen, tasks, folds, seed)

e1, e2 = st.columns(2)
e1.download_button("Download results (CSV)", pd.DataFrame([s.row() for s in bench.scores]).to_csv(index=False),
                   download_name(f"benchmark-{corpus.name}", ".csv"), "text/csv", icon=":material/download:",
                   key="ch_csv")
e2.download_button("Download HTML report", benchmark_report(bench), download_name(f"benchmark-{corpus.name}", ".html"),
                   "text/html", icon=":material/description:", key="ch_html")
