"""A retrieval set: a user's questions about a workspace corpus and which documents answer them.

Read from the formats people have, line by line, with one clear message naming the line:

- **BEIR / MTEB**: ``queries.jsonl`` (``{"_id", "text"}`` per line) and ``qrels/test.tsv``
  (``query-id  corpus-id  score``, a header line first), as files or in one zip; the corpus's
  own ``corpus.jsonl`` is added as a workspace corpus first (``corpus add``), and its ``_id``
  field is how the qrels name documents;
- **CSV**: a ``query`` column, a document column (``document``, ``doc``, ``doc_id`` or
  ``corpus-id``) holding a document's id, its file name (a file read as one document) or its
  exact text, and optionally ``relevance`` (graded; default 1).

Saved as a workspace artefact (kind ``queries``): ``queries.parquet`` (qid, text, split) and
``qrels.parquet`` (qid, doc: the corpus's document number, relevance), with the corpus's id.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from embeddings.errors import InputError
from embeddings.readers.base import text_stream
from embeddings.store.artefact import Artefact
from embeddings.store.workspace import Workspace
from embeddings.text.corpus import Corpus, get_corpus
from embeddings.text.ingest import META_PREFIX

KIND = "queries"
#: bounds: a set is read line by line, and no input decides how much is kept
MAX_QUERIES = 20_000
MAX_JUDGEMENTS = 1_000_000
MAX_QUERY_CHARS = 2_000
#: the metadata fields that name a document, in the order they are looked for
ID_FIELDS = ("_id", "id", "doc_id", "docid", "corpus-id")
DOC_COLUMNS = ("document", "doc", "doc_id", "docid", "corpus-id", "relevant")
QUERY_COLUMNS = ("query", "question", "text")
GRADE_COLUMNS = ("relevance", "score", "grade")


@dataclass
class RetrievalSet:
    """Queries with their judged documents, over one corpus."""

    name: str
    corpus_id: str
    queries: pd.DataFrame       #: qid, text, split ("eval" or "train")
    qrels: pd.DataFrame         #: qid, doc, relevance
    source: str = ""
    id: str | None = None

    def judged(self, split: str = "eval") -> dict[str, dict[int, int]]:
        """qid → {document number: relevance} for the queries of ``split``."""
        keep = set(self.queries.loc[self.queries["split"] == split, "qid"])
        out: dict[str, dict[int, int]] = {}
        for q, d, r in self.qrels[["qid", "doc", "relevance"]].itertuples(index=False):
            if q in keep:
                out.setdefault(q, {})[int(d)] = int(r)
        return out

    def texts(self, split: str = "eval") -> dict[str, str]:
        part = self.queries[self.queries["split"] == split]
        return dict(zip(part["qid"], part["text"]))


def _fail(where: str, line: int | None, message: str):
    raise InputError(f"{where}{f', line {line}' if line else ''}: {message}")


def _token(value: str, where: str, line: int, what: str) -> str:
    value = str(value).strip()
    if not value:
        _fail(where, line, f"the {what} is empty.")
    if any(c.isspace() for c in value):
        _fail(where, line, f"the {what} {value[:40]!r} holds a space (ids are single tokens, as in TREC files).")
    return value


def document_ids(corpus: Corpus, id_field: str | None = None, docs: pd.DataFrame | None = None) -> dict[str, int]:
    """A corpus's document ids (its ``_id``-like metadata field) → document number (``docs``:
    its documents, when the caller has read them already)."""
    docs = corpus.documents() if docs is None else docs
    fields = [id_field] if id_field else list(ID_FIELDS)
    for f in fields:
        column = META_PREFIX + f
        if column in docs:
            values = docs[column].astype(str).str.strip()
            if values.duplicated().any():
                raise InputError(f"{corpus.name}'s field {f!r} repeats {values[values.duplicated()].iloc[0]!r}: "
                                 "it cannot name documents.")
            return dict(zip(values, docs["doc"].astype(int)))
    if id_field:
        raise InputError(f"{corpus.name} has no field {id_field!r} (its fields: "
                         f"{', '.join(c[len(META_PREFIX):] for c in docs.columns if c.startswith(META_PREFIX)) or 'none'}).")
    return {}


def document_names(corpus: Corpus) -> list[str]:
    """What a run file calls each document, by number: its id, else its file name (a file read as
    one document), else its file and section (``bool.html#2``, a corpus read by section), else
    ``#<number>``."""
    docs = corpus.documents()
    ids = {n: i for i, n in document_ids(corpus, docs=docs).items()}
    files = {n: f for f, n in _by_file(docs).items() if "/" not in f or n not in ids}
    sections: dict[int, str] = {}
    if META_PREFIX + "section" in docs:
        sources = docs["source"].astype(str)
        base = {s: s.rsplit("/", 1)[-1] for s in sources.unique()}
        shared = pd.Series(list(base.values())).duplicated(keep=False)
        short = {s: s if clash else b for (s, b), clash in zip(base.items(), shared)}
        sections = {int(n): f"{short[s]}#{sec}" for n, s, sec in zip(docs["doc"], sources, docs[META_PREFIX + "section"])
                    if isinstance(sec, str) and sec}
    return [ids.get(int(n)) or files.get(int(n)) or sections.get(int(n)) or f"#{int(n)}" for n in docs["doc"]]


def read_queries_jsonl(name: str, data: bytes) -> dict[str, str]:
    stream, _ = text_stream(name, data)
    out: dict[str, str] = {}
    for n, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            _fail(name, n, f"not a JSON object ({exc.msg}).")
        if not isinstance(row, dict) or "_id" not in row or "text" not in row:
            _fail(name, n, 'each line needs "_id" and "text".')
        qid = _token(row["_id"], name, n, "query id")
        text = " ".join(str(row["text"]).split())
        if not text:
            _fail(name, n, f"query {qid!r} has no text.")
        if qid in out:
            _fail(name, n, f"the query id {qid!r} appears twice.")
        out[qid] = text[:MAX_QUERY_CHARS]
        if len(out) > MAX_QUERIES:
            _fail(name, n, f"more than {MAX_QUERIES:,} queries.")
    return out


def read_qrels_tsv(name: str, data: bytes) -> list[tuple[str, str, int, int]]:
    """``(query id, document id, relevance, line)`` rows; a header line is skipped."""
    stream, _ = text_stream(name, data)
    out = []
    for n, line in enumerate(stream, start=1):
        parts = line.split()
        if not parts:
            continue
        if n == 1 and not parts[-1].lstrip("-").isdigit():
            continue                                      # the header: query-id corpus-id score
        if len(parts) == 4 and parts[1] == "0":           # TREC qrels: qid 0 docid rel
            parts = [parts[0], parts[2], parts[3]]
        if len(parts) != 3 or not parts[2].lstrip("-").isdigit():
            _fail(name, n, "expected 'query-id<TAB>corpus-id<TAB>score' with a whole-number score.")
        out.append((parts[0], parts[1], int(parts[2]), n))
        if len(out) > MAX_JUDGEMENTS:
            _fail(name, n, f"more than {MAX_JUDGEMENTS:,} judgements.")
    return out


def from_beir(corpus: Corpus, queries: dict[str, str], qrels: list[tuple[str, str, int, int]], *,
              qrels_name: str = "qrels", id_field: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    ids = document_ids(corpus, id_field)
    if not ids:
        raise InputError(f"{corpus.name} has no document ids (a field named {' or '.join(ID_FIELDS)}): add its "
                         "corpus.jsonl as the corpus, so the qrels can name its documents.")
    rows, seen = [], set()
    for qid, doc_id, rel, n in qrels:
        if qid not in queries:
            _fail(qrels_name, n, f"the query id {qid!r} is not in the queries file.")
        if doc_id not in ids:
            _fail(qrels_name, n, f"no document of {corpus.name} has the id {doc_id!r}.")
        if (qid, doc_id) in seen:
            _fail(qrels_name, n, f"query {qid!r} judges document {doc_id!r} twice.")
        seen.add((qid, doc_id))
        rows.append((qid, ids[doc_id], rel))
    return _tables(queries, rows, qrels_name)


def _tables(queries: dict[str, str], rows: list[tuple[str, int, int]], where: str):
    qrels = pd.DataFrame(rows, columns=["qid", "doc", "relevance"])
    relevant = set(qrels.loc[qrels["relevance"] > 0, "qid"])
    judged = list(dict.fromkeys(qrels["qid"]))
    empty = [q for q in judged if q not in relevant]
    if empty:
        raise InputError(f"{where}: query {empty[0]!r} has no relevant document (every judgement is 0 or less); "
                         f"{len(empty)} such quer{'y' if len(empty) == 1 else 'ies'}.")
    if not judged:
        raise InputError(f"{where}: no judgement names a query.")
    table = pd.DataFrame({"qid": judged, "text": [queries[q] for q in judged], "split": "eval"})
    return table, qrels


def _by_file(docs: pd.DataFrame) -> dict[str, int]:
    """A file that is one document, by its name as read (``library/json.html``) and by its base name
    where that is unique; a file of several documents (rows, paragraphs) names none of them."""
    counts = docs["source"].value_counts()
    single = docs[docs["source"].map(counts) == 1]
    out = dict(zip(single["source"].astype(str), single["doc"].astype(int)))
    base = pd.Series(list(out)).map(lambda p: p.rsplit("/", 1)[-1])
    unique = base[~base.duplicated(keep=False)]
    out.update({b: out[full] for b, full in zip(unique, pd.Series(list(out))[unique.index])})
    return out


def read_csv_set(name: str, data: bytes, corpus: Corpus, id_field: str | None = None):
    """A CSV of (query, document id or exact text[, relevance]) over ``corpus``."""
    stream, _ = text_stream(name, data)
    reader = csv.reader(stream)
    header = [h.strip().lower() for h in next(reader, [])]
    def pick(names):
        return next((header.index(c) for c in names if c in header), None)

    qcol, dcol, gcol = pick(QUERY_COLUMNS), pick(DOC_COLUMNS), pick(GRADE_COLUMNS)
    if qcol is None or dcol is None:
        _fail(name, 1, f"the header needs a query column ({', '.join(QUERY_COLUMNS)}) and a document column "
                       f"({', '.join(DOC_COLUMNS)}); found: {', '.join(header) or 'nothing'}.")
    ids = document_ids(corpus, id_field)
    docs = corpus.documents()
    by_text = {" ".join(str(t).split()): int(d) for d, t in zip(docs["doc"], docs["text"])}
    by_file = _by_file(docs)
    queries: dict[str, str] = {}
    qid_of: dict[str, str] = {}
    rows, seen = [], set()
    for n, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if max(qcol, dcol) >= len(row):
            _fail(name, n, "the row has fewer columns than the header.")
        text = " ".join(row[qcol].split())[:MAX_QUERY_CHARS]
        if not text:
            _fail(name, n, "the query is empty.")
        target = " ".join(row[dcol].split())
        if not target:
            _fail(name, n, "the document is empty.")
        doc = ids.get(target, by_file.get(target, by_text.get(target)))
        if doc is None:
            _fail(name, n, f"no document of {corpus.name} has the id, the file name or the exact text {target[:60]!r}.")
        grade = (row[gcol].strip() if gcol is not None and gcol < len(row) else "") or "1"     # ungraded: relevant
        if not grade.lstrip("-").isdigit():
            _fail(name, n, f"the relevance {grade!r} is not a whole number.")
        if text not in qid_of:
            qid_of[text] = f"q{len(qid_of) + 1}"
            queries[qid_of[text]] = text
            if len(queries) > MAX_QUERIES:
                _fail(name, n, f"more than {MAX_QUERIES:,} queries.")
        if (qid_of[text], doc) in seen:
            _fail(name, n, f"the query {text[:40]!r} names document {target[:40]!r} twice.")
        seen.add((qid_of[text], doc))
        rows.append((qid_of[text], doc, int(grade)))
        if len(rows) > MAX_JUDGEMENTS:
            _fail(name, n, f"more than {MAX_JUDGEMENTS:,} judgements.")
    return _tables(queries, rows, name)


def _unzip(name: str, data: bytes) -> dict[str, bytes]:
    """A zip's files, under the corpus reader's zip guards (entries, paths, sizes, ratio)."""
    from embeddings.readers.archive import open_archive
    from embeddings.readers.base import Limits

    limits = Limits.from_env()
    archive, members = open_archive(name, data, limits, max_total=limits.max_unzipped_bytes)
    out = {}
    for m in members:
        if m.is_dir() or Path(m.filename).name.startswith((".", "__MACOSX")) or "__MACOSX" in m.filename:
            continue
        with archive.open(m) as fh:              # never more than declared: headers can lie
            content = fh.read(m.file_size + 1)
        if len(content) > m.file_size:
            raise InputError(f"{name} unpacks to more than it declares; refusing it as a zip bomb.")
        out[m.filename] = content
    return out


def read_files(files: dict[str, bytes], corpus: Corpus, id_field: str | None = None):
    """``(queries, qrels)`` from uploaded files: a CSV, or BEIR's queries.jsonl and a qrels
    .tsv (loose or in one zip; the zip's ``qrels/test.tsv`` is preferred)."""
    expanded: dict[str, bytes] = {}
    for name, data in files.items():
        if name.lower().endswith(".zip"):
            expanded.update(_unzip(name, data))
        else:
            expanded[name] = data
    csvs = [n for n in expanded if n.lower().endswith(".csv")]
    jsonl = [n for n in expanded if Path(n).name.lower() == "queries.jsonl"]
    tsvs = sorted((n for n in expanded if n.lower().endswith(".tsv")), key=lambda n: (Path(n).name != "test.tsv", n))
    if jsonl and tsvs:
        queries = read_queries_jsonl(jsonl[0], expanded[jsonl[0]])
        return from_beir(corpus, queries, read_qrels_tsv(tsvs[0], expanded[tsvs[0]]), qrels_name=tsvs[0],
                         id_field=id_field)
    if len(csvs) == 1 and not jsonl:
        return read_csv_set(csvs[0], expanded[csvs[0]], corpus, id_field)
    raise InputError("Give a CSV of (query, document[, relevance]), or BEIR's queries.jsonl with a qrels .tsv "
                     f"(found: {', '.join(sorted(expanded)) or 'no file'}).")


def add_set(ws: Workspace, name: str, corpus_name: str, files: dict[str, bytes], *,
            id_field: str | None = None) -> RetrievalSet:
    """Read and save a retrieval set over a workspace corpus."""
    corpus = get_corpus(ws, corpus_name)
    name = ws.check_new_name(KIND, name)
    queries, qrels = read_files(files, corpus, id_field)
    return save_set(ws, name, corpus, queries, qrels, ", ".join(sorted(files)))


def save_set(ws: Workspace, name: str, corpus: Corpus, queries: pd.DataFrame, qrels: pd.DataFrame, source: str,
             params: dict | None = None) -> RetrievalSet:
    """Save a retrieval set (atomically) with its split; ``params`` records how it was made."""

    def build(folder: Path) -> dict:
        queries.to_parquet(folder / "queries.parquet", index=False)
        qrels.to_parquet(folder / "qrels.parquet", index=False)
        return {"corpus": corpus.name, "queries": len(queries), "judgements": len(qrels), "source": source,
                "eval": int((queries["split"] == "eval").sum())}

    art = ws.create(KIND, name, build, params={"corpus_id": corpus.id, "source": source, **(params or {})},
                    parent=corpus.id)
    return RetrievalSet(art.name, corpus.id, queries, qrels, source, art.id)


def load_set(ws: Workspace, name_or_id: str) -> RetrievalSet:
    art: Artefact = ws.get(KIND, name_or_id, fuzzy=True)
    return RetrievalSet(art.name, art.params["corpus_id"], pd.read_parquet(art.path / "queries.parquet"),
                        pd.read_parquet(art.path / "qrels.parquet"), art.params.get("source", ""), art.id)


def list_sets(ws: Workspace, corpus_id: str | None = None) -> list[Artefact]:
    return [a for a in ws.list(KIND) if corpus_id is None or a.params.get("corpus_id") == corpus_id]
