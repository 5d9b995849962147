"""Customising an encoder: the split (embeddings.evaluate.splits), fine-tuning (models.finetune),
distillation (models.distil), before/after, and words in context (embeddings.analysis.context),
each against an independent computation: sentence-transformers, model2vec, transformers,
scikit-learn or numpy, written here."""

import json

import numpy as np
import pandas as pd
import pytest

from embeddings.analysis import context
from embeddings.demo import LABEL_COLUMN, LABELLED_CORPUS
from embeddings.evaluate import splits
from embeddings.evaluate.benchmark import benchmark
from embeddings.models.docspaces import document_rows
from embeddings.models.sentence import minilm_path
from embeddings.store.space_store import load_space
from embeddings.text.corpus import get_corpus
from tests.conftest import run_cli

TUNED, STATIC, BASE = "pydocs-minilm-supervised", "pydocs-minilm-static", "pydocs-minilm"


# -- the split ----------------------------------------------------------------------------------
def test_split_is_disjoint_complete_seeded_and_the_same_for_every_method():
    docs = pd.DataFrame({"meta.area": ["a"] * 10 + ["b"] * 7 + ["c"] * 3 + [None] * 2})
    n = len(docs)
    s = splits.make_split(docs, fraction=0.5, seed=3)
    assert set(s.train).isdisjoint(s.held_out) and sorted([*s.train, *s.held_out]) == list(range(n))
    assert len(s.held_out) == 11
    # numpy's permutation with the seed, written here: the first 11 are held out
    assert sorted(np.random.default_rng(3).permutation(n)[:11].tolist()) == s.held_out.tolist()
    assert (splits.make_split(docs, fraction=0.5, seed=3).train == s.train).all()
    assert not np.array_equal(splits.make_split(docs, fraction=0.5, seed=4).train, s.train)
    column = s.column(n)
    assert (column[s.train] == splits.TRAIN).all() and (column[s.held_out] == splits.HELD_OUT).all()
    back = splits.Split.from_json(s.to_json(), n)
    assert (back.held_out == s.held_out).all()
    with pytest.raises(Exception, match="between 0.05 and 0.95"):
        splits.make_split(docs, fraction=1.0)


# -- fine-tuning --------------------------------------------------------------------------------
def test_the_demo_fine_tune_changed_the_vectors_and_reloads_offline(demo_ws, no_network):
    """The demo's (tiny) supervised fine-tune: a standard folder that SentenceTransformer loads
    with the network blocked, giving the saved vectors; a provenance that says what made it."""
    from sentence_transformers import SentenceTransformer

    tuned, base = load_space(demo_ws, TUNED), load_space(demo_ws, BASE)
    corpus = get_corpus(demo_ws, LABELLED_CORPUS)
    rows_t, rows_b = document_rows(tuned, corpus), document_rows(base, corpus)
    cos = np.sum(np.asarray(tuned.vectors)[rows_t] * np.asarray(base.vectors)[rows_b], axis=1)
    assert cos.min() < 0.9999 and cos.mean() > 0.5      # moved, but still the same model family

    folder = demo_ws.get("space", TUNED).path / "model"
    model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    texts = corpus.documents()["text"].iloc[:5].tolist()
    direct = model.encode(texts, normalize_embeddings=True)
    assert np.allclose(direct, np.asarray(tuned.vectors)[rows_t[:5]], atol=1e-5)
    assert no_network == []

    run = tuned.provenance["finetune"]
    assert run["base"] == "minilm" and run["method"] == "supervised" and run["params"]["label"] == LABEL_COLUMN
    assert run["steps"] == len(run["loss_curve"]) > 0 and run["split"]["corpus_id"] == corpus.id
    assert run["split"]["train_documents"] + run["split"]["held_out_documents"] == len(corpus.documents())
    recorded = json.loads((folder / splits.MODEL_FILE).read_text())
    column = tuned.meta[splits.COLUMN].to_numpy()[rows_t]
    assert sorted(np.flatnonzero(column == splits.TRAIN).tolist()) == recorded["train"]
    assert tuned.embed(["a new text about sockets"]).shape == (1, 384)


def test_fine_tuning_sees_training_documents_only(lee_small_ws, monkeypatch, capsys, no_network):
    """A real SimCSE run (two steps) from the CLI: every text the trainer gets comes from a
    training document, and the JSON says how many documents were on each side."""
    from embeddings.models import finetune

    seen = []
    real = finetune.build_dataset
    monkeypatch.setattr(finetune, "build_dataset", lambda m, texts, labels, seed: seen.extend(texts)
                        or real(m, texts, labels, seed))
    ws = lee_small_ws.root.parent / "ft"
    import shutil

    shutil.copytree(lee_small_ws.root, ws)
    code, out, err = run_cli(capsys, "--workspace", ws, "space", "finetune", "minilm", "--corpus", "lee",
                             "--method", "simcse", "--max-sentences", "64", "--max-steps", "2", "--batch-size", "8",
                             "--name", "lee-simcse", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["steps"] == 2 and np.isfinite(result["final_loss"])
    assert result["train_documents"] + result["held_out_documents"] == 60 and result["held_out_documents"] == 30
    from embeddings.store.workspace import Workspace

    space = load_space(Workspace(ws), "lee-simcse")
    corpus = get_corpus(Workspace(ws), "lee")
    side = space.meta[splits.COLUMN].to_numpy()[document_rows(space, corpus)]
    sentences = corpus.sentence_table()
    held_only = set(sentences["text"][side[sentences["doc"]] == splits.HELD_OUT]) - \
        set(sentences["text"][side[sentences["doc"]] == splits.TRAIN])
    assert len(seen) == 64 and not set(seen) & held_only
    assert set(seen) <= set(sentences["text"][side[sentences["doc"]] == splits.TRAIN])
    # the model goes out as a standard folder that sentence-transformers loads by itself
    from sentence_transformers import SentenceTransformer

    code, out, err = run_cli(capsys, "--workspace", ws, "space", "export-model", "lee-simcse", "--out",
                             ws.parent / "exported", "--json")
    assert code == 0, err
    model = SentenceTransformer(json.loads(out)["folder"], device="cpu", local_files_only=True)
    assert np.allclose(model.encode(["a bushfire near Sydney"], normalize_embeddings=True),
                       space.embed(["a bushfire near Sydney"]), atol=1e-5)


def test_benchmark_scores_every_space_on_the_held_out_documents_only(demo_ws):
    corpus = get_corpus(demo_ws, LABELLED_CORPUS)
    tuned, base = load_space(demo_ws, TUNED), load_space(demo_ws, BASE)
    bench = benchmark(corpus, LABEL_COLUMN, [base, tuned], tasks=("classification",))
    held = tuned.meta[splits.COLUMN].to_numpy()[document_rows(tuned, corpus)] == splits.HELD_OUT
    assert set(bench.labels.rows) <= set(np.flatnonzero(held))
    assert len(bench.labels.rows) > 0.4 * len(held) and "held-out" in bench.notes[0]
    # without the customised space, all labelled documents come back
    assert len(benchmark(corpus, LABEL_COLUMN, [base], tasks=("classification",)).labels.rows) > len(held) * 0.9


def test_supervised_fine_tuning_improves_held_out_macro_f1(demo_ws):
    """The demo's fine-tune on the bundled labelled sample (the tests' 600 documents: all 300
    training documents, one epoch, seed 0) beats its base on the held-out documents."""
    corpus = get_corpus(demo_ws, LABELLED_CORPUS)
    tuned = load_space(demo_ws, TUNED)
    assert tuned.provenance["finetune"]["texts"] == tuned.provenance["finetune"]["split"]["train_documents"]
    bench = benchmark(corpus, LABEL_COLUMN, [load_space(demo_ws, BASE), tuned], tasks=("classification",))
    f1 = {s.space: s.score for s in bench.scores if s.metric == "macro-F1"}
    diff = bench.pairs[0]
    print(f"held-out macro-F1: base {f1[BASE]:.3f}, fine-tuned {f1[TUNED]:.3f}, "
          f"difference {diff.difference:+.3f} [{diff.low:+.3f}, {diff.high:+.3f}]")
    assert f1[TUNED] > f1[BASE] + 0.02


def test_the_dimension_curve_by_truncation_keeps_the_first_coordinates(demo_ws):
    """What a Matryoshka model is for: the curve cuts to the first k coordinates (renormalised)
    and scores on the held-out documents, as scikit-learn does here by hand."""
    from sklearn.model_selection import StratifiedKFold

    from embeddings.evaluate.benchmark import dimension_curve
    from tests.test_tasks import _nested

    corpus, tuned = get_corpus(demo_ws, LABELLED_CORPUS), load_space(demo_ws, TUNED)
    curve, _ = dimension_curve(tuned, corpus, LABEL_COLUMN, dims=(16,), reduce="truncate")
    rows = document_rows(tuned, corpus)
    held = tuned.meta[splits.COLUMN].to_numpy()[rows] == splits.HELD_OUT
    X = np.asarray(tuned.vectors)[rows][held][:, :16]
    X = X / np.linalg.norm(X, axis=1, keepdims=True)
    y = corpus.documents()["meta.area"].to_numpy()[held]
    ref = _nested(X, y, StratifiedKFold(5, shuffle=True, random_state=0), 0)["test_f1_macro"]   # C tuned
    assert curve.iloc[0]["dim"] == 16 and curve.iloc[0]["score"] == pytest.approx(ref.mean(), abs=1e-9)


# -- distillation -------------------------------------------------------------------------------
def test_the_distilled_space_equals_model2vec_encode_and_embeds_unseen_words(demo_ws, no_network):
    from model2vec import StaticModel

    space = load_space(demo_ws, STATIC)
    corpus = get_corpus(demo_ws, LABELLED_CORPUS)
    folder = demo_ws.get("space", STATIC).path / "model"
    model = StaticModel.from_pretrained(str(folder))
    texts = corpus.documents()["text"].iloc[:20].tolist()
    direct = model.encode(texts, max_length=None).astype(np.float32)   # model2vec keeps float16 weights
    direct = direct / np.linalg.norm(direct, axis=1, keepdims=True)
    assert np.allclose(np.asarray(space.vectors)[document_rows(space, corpus)[:20]], direct, atol=1e-5)
    p = space.provenance
    assert p["dims"] == space.dim == 256 and p["corpus_terms"] == 0 and p["texts_per_second"] > 0
    assert p["base"] == "minilm" and p["model_bytes"] > 0
    from embeddings.errors import InputError
    from embeddings.models.sentence import encoder_folder

    with pytest.raises(InputError, match="not made by a transformer encoder"):
        encoder_folder(demo_ws, STATIC)                 # a static model is not distilled or fine-tuned again
    unseen = space.embed(["xylophonically"])           # never in any vocabulary: its word pieces
    assert unseen.shape == (1, 256) and np.isfinite(unseen).all() and np.linalg.norm(unseen) > 0.99
    assert no_network == []


def test_distillation_hands_model2vec_the_corpus_words_the_tokenizer_lacks(demo_ws, monkeypatch):
    """The vocabulary part of a distillation with the corpus's words (the demo skips it for
    time): model2vec gets the corpus's frequent single words that are not one word piece."""
    from model2vec import distill
    from transformers import AutoTokenizer

    from embeddings.models.distil import corpus_vocabulary, distil

    class Handed(Exception):
        pass

    def spy(model, tokenizer, vocabulary=None, **kwargs):
        raise Handed(vocabulary)

    monkeypatch.setattr(distill, "distill_from_model", spy)
    corpus = get_corpus(demo_ws, LABELLED_CORPUS)
    with pytest.raises(Handed) as handed:
        distil(minilm_path(), demo_ws.root, corpus=corpus)
    known = AutoTokenizer.from_pretrained(str(minilm_path())).get_vocab()
    vocab = corpus.vocabulary()
    expected = [t for t in vocab["term"] if "_" not in t and t not in known][:len(handed.value.args[0])]
    assert handed.value.args[0] == expected and len(expected) > 100
    assert corpus_vocabulary(corpus)[:3] == [t for t in vocab["term"] if "_" not in t][:3]


# -- words in context ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def minilm():
    from embeddings.models.sentence import load_encoder

    return load_encoder("minilm")


def test_contextual_vectors_equal_transformers_by_hand(minilm):
    """The mean of the last layer over the term's word pieces, found here with the tokenizer's
    word ids (not the character offsets the module uses)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    sentences = ["The West Bank town of Ramallah was quiet.", "The Reserve bank kept rates on hold.",
                 "Banking on luck, he went to the river bank to fish."]
    uses = [context.Occurrence(s, m.start(), m.end(), 0)
            for s in sentences for m in [context.term_pattern("bank").search(s)]]
    ours, kept = context.contextual_vectors(minilm, uses)
    assert kept.all()
    tok = AutoTokenizer.from_pretrained(str(minilm_path()))
    model = AutoModel.from_pretrained(str(minilm_path())).eval()
    for i, s in enumerate(sentences):
        words = s.split()
        target = next(j for j, w in enumerate(words) if w.strip(".,").lower() == "bank")
        enc = tok(words, is_split_into_words=True, return_tensors="pt")
        with torch.no_grad():
            hidden = model(**enc).last_hidden_state[0].numpy()
        pieces = [k for k, w in enumerate(enc.word_ids()) if w == target]
        expected = hidden[pieces].mean(axis=0)
        assert np.allclose(ours[i], expected, atol=2e-4), i


def test_spread_and_senses_against_numpy_and_sklearn():
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal([5, 0, 0], 0.3, (20, 3)), rng.normal([0, 5, 0], 0.3, (15, 3))])
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    brute = np.mean([1 - U[i] @ U[j] for i in range(len(U)) for j in range(len(U)) if i != j])
    assert context.spread(X) == pytest.approx(brute, abs=1e-12)
    cluster, sil = context.senses(X, seed=0)
    assert sorted(np.bincount(cluster).tolist()) == [15, 20]
    expected = silhouette_score(U, KMeans(2, n_init=10, random_state=0).fit_predict(U), metric="cosine")
    assert sil == pytest.approx(expected, abs=1e-9)


def test_one_cloud_of_uses_has_no_clear_senses_and_neighbours_are_content_words(lee_ws):
    from gensim.parsing.preprocessing import STOPWORDS

    from embeddings.text.corpus import get_corpus

    rng = np.random.default_rng(1)
    one_cloud = rng.normal(size=(80, 16)) + 4.0
    _, sil = context.senses(one_cloud, seed=0)
    assert sil < context.CLEAR_SENSES and not context.clear(sil)
    corpus = get_corpus(lee_ws, "lee")
    terms = context.vocabulary_terms(corpus, "bank", n=500)
    vocab = corpus.vocabulary().set_index("term")
    assert "bank" not in terms and not set(terms) & set(STOPWORDS)
    assert all(vocab.loc[t, "documents"] >= 2 and t.isalpha() and len(t) >= 3 for t in terms)
    assert terms == [t for t in vocab.index if t.isalpha() and len(t) >= 3 and t not in STOPWORDS and t != "bank"
                     and vocab.loc[t, "documents"] >= 2][:500]


def test_contextual_cli_on_the_demo_term_finds_its_two_senses(lee_ws, capsys, no_network):
    """"bank" in the Lee corpus is the West Bank and the banks (Westpac, the ANZ)."""
    code, out, err = run_cli(capsys, "--workspace", lee_ws.root, "contextual", "minilm", context.DEMO_TERM,
                             "--corpus", "lee", "--json")
    assert code == 0, err
    view = json.loads(out)
    assert view["term"] == "bank" and view["occurrences"] >= 40 and 0 < view["spread"] < 1
    assert len(view["senses"]) == 2 and view["silhouette"] > 0.3 and view["clear_senses"] is True
    west = [s for s in view["senses"] if sum("West **Bank**" in e for e in s["examples"]) >= 2]
    assert len(west) == 1 and {"palestinian", "gaza"} & set(west[0]["neighbours"])
    assert sum(s["size"] for s in view["senses"]) == view["occurrences"]
    code, _, err = run_cli(capsys, "--workspace", lee_ws.root, "contextual", "minilm", "zzyzx", "--corpus", "lee")
    assert code == 2 and "needs at least" in err
