"""Preprocessing, phrases and statistics, checked against independent computations."""

import re
from collections import Counter

import pandas as pd
import pytest

from embeddings.errors import DuplicateNameError, InputError
from embeddings.readers import Document, Source
from embeddings.text.corpus import add_corpus, get_corpus
from embeddings.text.preprocess import Preprocessing, preprocess, split_sentences, tokenize
from embeddings.text.samples import SAMPLES


def test_lee_sample_is_about_60k_tokens(lee_ws):
    c = get_corpus(lee_ws, "lee")
    s = c.stats
    assert s["documents"] == 300
    assert 55_000 <= s["tokens"] <= 65_000
    # independent count: a plain regex over the raw file, no sentence splitting
    from gensim.test.utils import datapath

    raw = open(datapath("lee_background.cor"), encoding="utf-8").read().lower()
    assert s["tokens"] == len(re.findall(r"\w+(?:[-'\u2019]\w+)*", raw))


def test_stats_match_a_direct_count_of_the_saved_sentences(lee_ws):
    c = get_corpus(lee_ws, "lee")
    sentences = list(c.sentences())
    counts = Counter(t for s in sentences for t in s)
    vocab = c.vocabulary()
    assert c.stats["sentences"] == len(sentences)
    assert c.stats["tokens"] == sum(counts.values())
    assert c.stats["vocabulary"] == len(counts) == len(vocab)
    assert dict(zip(vocab["term"], vocab["count"])) == dict(counts)
    assert c.stats["type_token_ratio"] == pytest.approx(len(counts) / sum(counts.values()), abs=1e-6)
    assert list(vocab["count"]) == sorted(vocab["count"], reverse=True)
    # document frequency, by brute force over sentences grouped by their document
    table = c.sentence_table()
    assert len(table) == len(sentences)
    docs_of = {}
    for doc, sent in zip(table["doc"], sentences):
        docs_of.setdefault(doc, set()).update(sent)
    df = Counter(t for terms in docs_of.values() for t in terms)
    assert dict(zip(vocab["term"], vocab["documents"])) == dict(df)
    # document lengths add up
    docs = c.documents()
    assert docs["tokens"].sum() == c.stats["tokens"] and len(docs) == 300
    assert [(f["file"], f["documents"], f["tokens"]) for f in c.stats["files"]] == [
        ("lee_background.cor", 300, c.stats["tokens"])]


def test_sentence_splitting_keeps_abbreviations_together():
    sents = split_sentences("Mr. Smith went to Washington. He arrived at 4 p.m. on Monday!\n\nNew paragraph here")
    assert sents[0] == "Mr. Smith went to Washington."
    assert sents[-1] == "New paragraph here" and len(sents) == 3


@pytest.mark.parametrize("prep,text,expected", [
    (Preprocessing(), "The Cat's café, 2001.", ["the", "cat's", "café", "2001"]),
    (Preprocessing(lowercase=False), "The Cat", ["The", "Cat"]),
    (Preprocessing(strip_accents=True), "Café Zoë", ["cafe", "zoe"]),
    (Preprocessing(min_length=3), "a an the south-west", ["the", "south-west"]),
    (Preprocessing(numbers=False), "In 2001 4,000 people met 3M", ["in", "people", "met", "3m"]),
])
def test_token_options(prep, text, expected):
    assert tokenize(text, prep) == expected


def test_stopwords_use_gensims_list():
    from gensim.parsing.preprocessing import STOPWORDS

    tok = preprocess([Document("The cat sat on the mat with a hat", "x")], Preprocessing(stopwords=True))
    assert tok.sentences == [["cat", "sat", "mat", "hat"]]
    assert all(t not in STOPWORDS for t in tok.sentences[0])


def test_sentences_off_gives_one_line_per_document():
    tok = preprocess([Document("One. Two. Three.", "x"), Document("Four.", "y")], Preprocessing(sentences=False))
    assert tok.sentences == [["one", "two", "three"], ["four"]] and tok.sentence_doc == [0, 1]


def test_phrases_join_frequent_pairs_and_match_gensim():
    from gensim.models.phrases import ENGLISH_CONNECTOR_WORDS, Phrases

    docs = SAMPLES["lee"].load()
    prep = Preprocessing(phrases="bigrams", phrase_scoring="default", phrase_threshold=10.0, phrase_min_count=5)
    tok = preprocess(docs, prep)
    flat = Counter(t for s in tok.sentences for t in s)
    assert flat["united_states"] > 30 and flat["al_qaeda"] > 20 and "new_south" not in flat or flat["new_south"] > 0
    # independent: gensim's Phrases on the same token streams finds the same phrase set
    plain = preprocess(docs, Preprocessing())
    ref = Phrases(plain.sentences, min_count=5, threshold=10.0, delimiter="_",
                  connector_words=ENGLISH_CONNECTOR_WORDS).freeze()
    assert set(tok.phrase_scores) == {p for p in ref.phrasegrams if not junk(p)}
    assert {p for p in ref.phrasegrams if junk(p)} >= {"4_000", "1_000"}        # numbers only: dropped
    assert tok.phrase_scores["al_qaeda"] == pytest.approx(ref.phrasegrams["al_qaeda"])


def junk(phrase: str) -> bool:
    """Independent of corpus.is_content_phrase: no part is a word of two letters or more without digits."""
    return not any(re.fullmatch(r"[^\d]*[^\W\d_][^\d]*[^\W\d_][^\d]*", part) for part in phrase.split("_"))


def test_recommended_phrases_are_npmi_and_match_gensim():
    """The one default (upload form, CLI thresholds and the demo): bigrams by NPMI ≥ 0.7,
    equal to gensim's Phrases(scoring="npmi") less the phrases of numbers/single letters."""
    from gensim.models.phrases import ENGLISH_CONNECTOR_WORDS, Phrases

    from embeddings.demo import DEMO_PREPROCESSING
    from embeddings.text.preprocess import RECOMMENDED

    assert DEMO_PREPROCESSING == RECOMMENDED and RECOMMENDED.phrase_scoring == "npmi"
    docs = SAMPLES["lee"].load()
    tok = preprocess(docs, RECOMMENDED)
    plain = preprocess(docs, Preprocessing())
    ref = Phrases(plain.sentences, min_count=RECOMMENDED.phrase_min_count, threshold=RECOMMENDED.phrase_threshold,
                  scoring="npmi", delimiter="_", connector_words=ENGLISH_CONNECTOR_WORDS).freeze()
    assert set(tok.phrase_scores) == {p for p in ref.phrasegrams if not junk(p)}
    assert {"al_qaeda", "tora_bora", "new_zealand"} <= set(tok.phrase_scores)
    assert not {"he_said", "it_was", "3_000"} & set(tok.phrase_scores)
    assert all(-1 <= v <= 1 for v in tok.phrase_scores.values())
    # and the dropped ones are never applied: no token made of two numbers
    assert not any(re.fullmatch(r"\d+_\d+", t) for s in tok.sentences for t in s)
    with pytest.raises(InputError, match="between -1 and 1"):
        Preprocessing(phrases="bigrams", phrase_threshold=10.0)
    # a corpus saved before NPMI recorded no scorer: it reads back as gensim's default
    assert Preprocessing.from_params({"phrases": "bigrams", "phrase_threshold": 50.0}).phrase_scoring == "default"


def test_phrase_preview_detects_before_saving(ws):
    from embeddings.text.preprocess import RECOMMENDED, preview_phrases

    docs = SAMPLES["lee"].load()
    pv = preview_phrases(docs, RECOMMENDED)
    full = preprocess(docs, RECOMMENDED)
    assert not pv.partial and set(pv.table["phrase"]) <= set(full.phrase_scores)
    assert pv.table["count"].is_monotonic_decreasing and "al_qaeda" in set(pv.table["phrase"])   # most used first
    part = preview_phrases(docs, RECOMMENDED, max_chars=20_000)
    assert part.partial and 0 < part.documents < part.total
    assert ws.list("corpus") == []                                   # nothing saved
    with pytest.raises(InputError, match="off"):
        preview_phrases(docs, Preprocessing())


def test_trigrams_build_on_bigrams():
    filler = [f"word{i} word{i + 1} word{i + 2}" for i in range(0, 900, 3)]  # a realistic vocabulary size
    cities = [f"word{i} new york city word{i + 500}" for i in range(30)]
    doc = Document(". ".join(cities + ["york is old", "city life", "new things"] * 5 + filler), "x")
    prep = Preprocessing(phrases="trigrams", phrase_scoring="default", phrase_threshold=10.0, phrase_min_count=3)
    tok = preprocess([doc], prep)
    assert tok.sentences[0] == ["word0", "new_york_city", "word500"]
    assert "new_york" in tok.phrase_scores and "new_york_city" in tok.phrase_scores


def test_tokens_with_underscores_are_not_mistaken_for_phrases():
    text = ". ".join(f"call __init__ then self_test number{i}" for i in range(40))
    tok = preprocess([Document(text, "x")], Preprocessing(phrases="trigrams", phrase_scoring="default",
                                                      phrase_threshold=10.0, phrase_min_count=3))
    assert "__init__" in tok.sentences[0] or "call___init__" in tok.sentences[0]
    assert all("\x1f" not in t and "\x1e" not in t for s in tok.sentences for t in s)


def test_add_corpus_from_files_keeps_metadata(ws):
    csv = Source("reviews.csv", b"id,text,label\n1,Great acting and a great story.,pos\n2,Dull and slow.,neg\n")
    txt = Source("notes.txt", "Some notes. More notes here.".encode())
    c = add_corpus(ws, "mixed", sources=[csv, txt])
    docs = c.documents()
    assert list(docs["source"]) == ["reviews.csv", "reviews.csv", "notes.txt"]
    assert list(docs["meta.label"].iloc[:2]) == ["pos", "neg"] and pd.isna(docs["meta.label"].iloc[2])
    files = {f["file"]: f for f in c.stats["files"]}
    assert files["reviews.csv"]["documents"] == 2 and files["notes.txt"]["tokens"] == 5


def test_zero_tokens_after_preprocessing_is_refused_and_nothing_saved(ws):
    with pytest.raises(InputError, match="No tokens are left after preprocessing"):
        add_corpus(ws, "numbers", sources=[Source("n.txt", b"123 456, 7.89")],
                   preprocessing=Preprocessing(numbers=False))
    assert ws.list("corpus") == []
    assert list((ws.root / ".tmp").iterdir()) == []


def test_duplicate_name_is_refused_before_reading(ws):
    add_corpus(ws, "dup", sources=[Source("a.txt", b"hello world")])
    with pytest.raises(DuplicateNameError, match="already exists"):
        add_corpus(ws, "dup", sources=[Source("broken.pdf", b"not a pdf")])  # name checked first
    assert [c.name for c in ws.list("corpus")] == ["dup"]


def test_bad_file_among_good_ones_saves_nothing(ws):
    add_corpus(ws, "before", sources=[Source("a.txt", b"kept safe")])
    with pytest.raises(InputError, match="binary"):
        add_corpus(ws, "after", sources=[Source("ok.txt", b"fine text"), Source("bad.txt", b"\x00\x01\x02" * 50)])
    assert [c.name for c in ws.list("corpus")] == ["before"]
    assert list(get_corpus(ws, "before").sentences()) == [["kept", "safe"]]


def test_python_docs_sample_is_software_jargon():
    docs = SAMPLES["python-docs"].load()
    assert len(docs) > 1000
    tok = preprocess(docs, Preprocessing())
    counts = Counter(t for s in tok.sentences for t in s)
    for term in ("iterable", "subprocess", "bytes", "kwargs", "tuple"):
        assert counts[term] >= 5, term
