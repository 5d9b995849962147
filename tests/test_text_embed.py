"""How a space embeds a new text (embeddings.models.text_embed): a document's own text, given
as a query, lands on the document's stored vector, computed here from the parts directly."""

import numpy as np
import pytest

from embeddings.errors import InputError
from embeddings.models.docspaces import pool_space, tfidf_space
from embeddings.models.text_embed import text_embedder, with_text_embedder
from embeddings.space import EmbeddingSpace
from embeddings.store.space_store import save_space
from embeddings.store.workspace import Workspace
from embeddings.text.corpus import add_corpus
from embeddings.text.preprocess import Preprocessing
from embeddings.text.samples import SAMPLES


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """Lee's documents without phrase joining (a query is not phrase-joined either)."""
    ws = Workspace(tmp_path_factory.mktemp("embed") / "ws")
    corpus = add_corpus(ws, "lee", documents=SAMPLES["lee"].load()[:120],
                        preprocessing=Preprocessing(phrases="none", stopwords=True))
    vocab = corpus.vocabulary()["term"].tolist()
    rng = np.random.default_rng(0)
    words = save_space(ws, EmbeddingSpace.from_arrays("words", vocab, rng.normal(size=(len(vocab), 16)),
                                                      provenance={"unit": "term", "family": "imported"}))
    return ws, corpus, words


def _cosines(a, b):
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return np.sum(a * b, axis=1)


@pytest.mark.parametrize("method", ["mean", "sif"])
def test_a_pooled_space_embeds_a_document_onto_its_stored_vector(setup, method):
    ws, corpus, words = setup
    pooled = save_space(ws, pool_space(words, corpus, method, f"pooled-{method}"))
    embed, why = text_embedder(ws, pooled)
    assert why is None
    docs = corpus.documents()
    got = embed(docs["text"].tolist()[:30])
    assert _cosines(got, np.asarray(pooled.vectors[:30])).min() > 0.9999
    # by hand: the mean of the unit word vectors of the text's tokens (SIF: weighted, component removed)
    from gensim.parsing.preprocessing import STOPWORDS

    from embeddings.text.preprocess import tokenize

    tokens = [t for t in tokenize("The bushfire spread to homes near Sydney.", corpus.preprocessing)
              if t not in STOPWORDS and t in words.index]
    vectors = np.asarray([words.vectors[words.index[t]] for t in tokens], dtype=np.float64)
    if method == "mean":
        expected = vectors.mean(axis=0)
    else:
        counts = corpus.vocabulary().set_index("term")["count"]
        p = counts / counts.sum()
        weights = np.array([1e-3 / (1e-3 + p[t]) for t in tokens])
        raw = _raw_sif(words, corpus, p)
        u = np.linalg.svd(raw, full_matrices=False)[2][0]
        expected = (weights[:, None] * vectors).mean(axis=0)
        expected = expected - (expected @ u) * u
    got = embed(["The bushfire spread to homes near Sydney."])
    assert _cosines(got, expected[None])[0] > 0.9999


def _raw_sif(words, corpus, p):
    """Every document's SIF average before the component's removal, by hand."""
    from embeddings.models.docspaces import document_tokens

    rows = []
    for tokens in document_tokens(corpus):
        known = [t for t in tokens if t in words.index]
        if not known:
            rows.append(np.zeros(words.dim))
            continue
        w = np.array([1e-3 / (1e-3 + p[t]) for t in known])
        rows.append((w[:, None] * np.asarray([words.vectors[words.index[t]] for t in known])).mean(axis=0))
    return np.asarray(rows)


@pytest.mark.parametrize("kind", ["word", "char"])
def test_tfidf_is_refitted_and_embeds_a_document_onto_its_stored_vector(setup, kind):
    ws, corpus, _ = setup
    space = save_space(ws, tfidf_space(corpus, f"tfidf-{kind}", kind=kind, lsa=24))
    embedded = with_text_embedder(ws, space)
    assert embedded.can_embed and not space.can_embed          # the saved value is left as it was
    got = embedded.embed(corpus.documents()["text"].tolist()[:30])
    assert _cosines(got, np.asarray(space.vectors[:30])).min() > 0.999


def test_a_refit_that_does_not_reproduce_the_stored_vectors_is_refused(setup):
    ws, corpus, _ = setup
    space = tfidf_space(corpus, "tfidf-other", lsa=24)
    tampered = EmbeddingSpace.from_arrays("tfidf-tampered", space.labels, np.roll(np.asarray(space.vectors), 1, axis=0),
                                          meta=space.meta, provenance=space.provenance)
    embed, _ = text_embedder(ws, save_space(ws, tampered))
    with pytest.raises(InputError, match="does not reproduce its stored vectors"):
        embed(["a query"])


def test_a_word_space_embeds_no_text_and_says_why(setup):
    ws, _, words = setup
    embed, why = text_embedder(ws, words)
    assert embed is None and "does not embed new texts" in why
    assert not with_text_embedder(ws, words).can_embed


# -- encoders: prompts and long documents (#29) ---------------------------------------
@pytest.fixture(scope="module")
def prompted(tmp_path_factory):
    """MiniLM's folder with prompts declared, as an E5-style model's folder declares them."""
    import json
    import shutil

    from embeddings.models.sentence import minilm_path

    folder = tmp_path_factory.mktemp("prompted") / "minilm-prompts"
    shutil.copytree(minilm_path(), folder)
    config = json.loads((folder / "config_sentence_transformers.json").read_text())
    config["prompts"] = {"query": "query: ", "passage": "passage: "}
    (folder / "config_sentence_transformers.json").write_text(json.dumps(config))
    return folder


def test_an_encoder_with_prompts_applies_them_and_long_documents_keep_their_chunks(setup, prompted, no_network):
    from sentence_transformers import SentenceTransformer

    from embeddings.evaluate.retrieval import evaluate, prepared
    from embeddings.evaluate.search import dense_run
    from embeddings.evaluate.selfmade import SelfMadeParams, make_set
    from embeddings.models import add_pretrained
    from embeddings.models.sentence import chunks
    from embeddings.store.space_store import read_chunks

    ws, _, _ = setup
    corpus = add_corpus(ws, "lee24", documents=SAMPLES["lee"].load()[:24])       # 24 documents: a third are long
    space = add_pretrained(ws, str(prompted), "prompted", corpus="lee24", unit="document")
    model = SentenceTransformer(str(prompted), device="cpu", local_files_only=True)
    docs = corpus.documents()["text"].tolist()
    reserve = len(model.tokenizer("passage: ", add_special_tokens=False)["input_ids"])   # the prompt's word pieces
    short = [i for i, t in enumerate(docs) if len(chunks(model, t, reserve)) == 1][:5]
    by_hand = model.encode(["passage: " + docs[i] for i in short], normalize_embeddings=True)
    assert _cosines(np.asarray(space.vectors[short]), by_hand).min() > 0.9999          # the document prompt
    assert space.provenance["prompts"] == {"query": "query: ", "document": "passage: "}
    # the chunks of the long documents are kept, each encoded with the prompt
    kept_vectors, kept_rows = read_chunks(ws, space)
    long = sorted(set(kept_rows.tolist()))
    assert long and len(long) == space.provenance["chunking"]["documents_split"]
    first = long[0]
    pieces = chunks(model, docs[first], reserve)
    assert len(pieces) > 1 and int((kept_rows == first).sum()) == len(pieces)
    by_hand = model.encode(["passage: " + p for p in pieces], normalize_embeddings=True)
    assert _cosines(np.asarray(kept_vectors[kept_rows == first]), by_hand).min() > 0.9999
    # a query gets the query prompt, and a long document scores by its best chunk (max-sim)
    qset = make_set(ws, "cloze-p", "lee24", "cloze", params=SelfMadeParams(queries=20, seed=2))
    ready = prepared(ws, [space])
    query = next(iter(qset.texts().values()))
    assert _cosines(ready["spaces"][0].embed([query]), model.encode(["query: " + query], normalize_embeddings=True))[0] \
        > 0.9999
    run = dense_run(ready["spaces"][0], corpus, {"q": query}, chunks=ready["chunks"]["prompted"])
    q = model.encode(["query: " + query], normalize_embeddings=True)[0]
    scores = np.asarray(space.vectors, dtype=np.float64) @ q
    for row in long:
        scores[row] = max(np.asarray(kept_vectors[kept_rows == row], dtype=np.float64) @ q)
    assert run["q"][:10] == [int(d) for d in np.argsort(-scores, kind="stable")[:10]]
    result = evaluate(corpus, qset, **ready, bm25=False)
    assert any("'query: '" in n and "'passage: '" in n for n in result.notes)
    assert any("max-sim" in n for n in result.notes)


def test_the_approximate_path_reranks_exactly_with_max_sim_and_states_its_recall(setup, monkeypatch):
    """With an HNSW index attached (as load_space attaches one above the threshold), the
    candidates are re-ranked exactly, max-sim included: when the candidates cover every
    document, the ranking equals exact search's; the notes carry the measured recall."""
    import dataclasses

    from embeddings.analysis import ann
    from embeddings.evaluate import search
    from embeddings.evaluate.search import dense_run

    monkeypatch.setattr(search, "ANN_ABOVE", 50)          # the path the size of a real index takes

    ws, corpus, _ = setup
    docs = corpus.documents()
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(len(docs), 24)).astype(np.float32)
    queries = rng.normal(size=(30, 24)).astype(np.float32)
    lookup = {f"q{i}": queries[i] for i in range(30)}
    space = EmbeddingSpace.from_arrays("random-docs", [f"d{i}" for i in range(len(docs))], vectors,
                                       meta=docs[["doc"]].iloc[::-1].reset_index(drop=True).assign(
                                           doc=docs["doc"].to_numpy()[::-1]),
                                       provenance={"unit": "document", "corpus_id": corpus.id},
                                       embedder=lambda texts: np.stack([lookup[t] for t in texts]))
    chunk_rows = np.repeat(np.arange(0, 40, 4), 3)                       # ten documents in three chunks each
    chunks = (rng.normal(size=(len(chunk_rows), 24)).astype(np.float32), chunk_rows)
    chunks = (chunks[0] / np.linalg.norm(chunks[0], axis=1, keepdims=True), chunks[1])
    asked = {q: q for q in lookup}
    exact = dense_run(space, corpus, asked, chunks=chunks)
    indexed = dataclasses.replace(space, ann=ann.build(np.asarray(space.vectors)))
    notes: list[str] = []
    approximate = dense_run(indexed, corpus, asked, chunks=chunks, notes=notes)
    assert approximate == exact
    assert len(notes) == 1 and "approximate search (HNSW" in notes[0] and "held 1.000 of the exact top 10" in notes[0]
    assert dense_run(indexed, corpus, asked, chunks=chunks, exact=True) == exact
    # by hand: a chunked document scores its best chunk
    q = queries[0] / np.linalg.norm(queries[0])
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    by_doc = {int(d): float(unit[r] @ q) for r, d in enumerate(space.meta["doc"])}
    for row in set(chunk_rows.tolist()):
        by_doc[int(space.meta["doc"].iloc[row])] = float(max(chunks[0][chunk_rows == row] @ q))
    ranked = sorted(by_doc, key=lambda d: (-by_doc[d], d))
    assert exact["q0"][:20] == ranked[:20]


def test_a_fasttext_space_embeds_a_text_as_the_mean_of_its_tokens_subword_vectors(setup):
    from embeddings.models import train_space
    from embeddings.text.preprocess import query_tokens

    ws, corpus, _ = setup
    space = train_space(ws, "lee", "fasttext", "ft", dim=16, epochs=1, min_count=2, seed=1)
    embed, why = text_embedder(ws, space)
    assert why is None
    text = "Bushfires near Sydney: firefighterz battle the blazes"          # a misspelt word still counts
    tokens = query_tokens(text, corpus.preprocessing)
    assert "firefighterz" in tokens and "firefighterz" not in space.index
    expected = np.asarray(space.embed(tokens), dtype=np.float64).mean(axis=0)
    assert _cosines(embed([text]), expected[None])[0] > 0.9999
