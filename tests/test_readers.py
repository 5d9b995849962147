"""Every supported format, and every bad input, through the real readers."""

import json
import os
import zipfile

import pytest

from embeddings.errors import InputError
from embeddings.readers import Limits, Source, decode, inspect_fields, read_source
from tests.conftest import make_docx, make_pdf, make_zip


def read(name, data, **kw):
    limits = kw.pop("limits", None)
    return read_source(Source(name, data, **kw), limits)


# -- formats ------------------------------------------------------------------------
def test_txt_without_blank_lines_is_one_document_and_md_too():
    docs, infos = read("a.txt", b"First line.\nSecond line.")
    assert [d.text for d in docs] == ["First line.\nSecond line."]
    assert infos[0].format == "text" and infos[0].documents == 1
    docs, _ = read("notes.md", "# Title\n\nSome *markdown* text.".encode())
    assert docs[1].source == "notes.md" and "markdown" in docs[1].text and len(docs) == 2


def test_txt_paragraphs_are_documents_by_default():
    docs, (info,) = read("a.txt", b"First paragraph,\nstill first.\n\nSecond one.\n \n\nThird.\n")
    assert [d.text for d in docs] == ["First paragraph,\nstill first.", "Second one.", "Third.\n"]
    assert [d.meta["paragraph"] for d in docs] == ["1", "2", "3"] and info.documents == 3
    docs, _ = read("a.txt", b"No blank lines.\nJust one document.\n")
    assert len(docs) == 1 and docs[0].meta == {}
    docs, _ = read("a.txt", b"One.\n\nTwo.\n", whole_file=True)
    assert [d.text for d in docs] == ["One.\n\nTwo.\n"]


def test_txt_lines_as_documents():
    docs, _ = read("a.txt", b"one doc\n\ntwo doc\n", lines_as_documents=True)
    assert [d.text for d in docs] == ["one doc", "two doc"]


def test_csv_text_column_and_metadata():
    data = b"id,label,text\n1,pos,Good film.\n2,neg,Bad film.\n3,neg,\n"
    docs, (info,) = read("r.csv", data, text_field="text")
    assert [d.text for d in docs] == ["Good film.", "Bad film."]
    assert docs[1].meta == {"id": "2", "label": "neg"}
    assert info.skipped == 1 and info.documents == 2


def test_csv_guesses_text_column_and_tsv_uses_tabs():
    docs, _ = read("r.tsv", b"score\treview\n5\tLoved it, would watch again\n1\tNo\n")
    assert docs[0].text == "Loved it, would watch again" and docs[0].meta == {"score": "5"}
    assert inspect_fields(Source("r.tsv", b"score\treview\n5\tLoved it\n"))[0] == "review"


def test_csv_missing_column_names_the_columns():
    with pytest.raises(InputError, match=r"no column 'body'.*id, text"):
        read("r.csv", b"id,text\n1,hello\n", text_field="body")


def test_jsonl_field_and_bad_line():
    data = "\n".join(json.dumps(r) for r in [{"t": "Alpha beta.", "k": 1}, {"t": "Gamma.", "k": [2]}, {"k": 3}])
    docs, (info,) = read("d.jsonl", data.encode(), text_field="t")
    assert [d.text for d in docs] == ["Alpha beta.", "Gamma."]
    assert docs[1].meta == {"k": "[2]"} and info.skipped == 1
    assert inspect_fields(Source("d.jsonl", data.encode()))[:1] == ["t"]
    with pytest.raises(InputError, match="line 2: not valid JSON"):
        read("d.jsonl", b'{"t": "ok"}\n{"t": nope}\n', text_field="t")
    with pytest.raises(InputError, match="no field 'x'"):
        read("d.jsonl", b'{"t": "ok"}\n', text_field="x")


def test_html_keeps_visible_text_only():
    html = b"""<html><head><title>Hidden title</title><style>p{color:red}</style></head>
    <body><h1>Visible heading</h1><script>var secret = 1;</script><p>Body <b>text</b>.</p></body></html>"""
    docs, _ = read("page.html", html)
    text = docs[0].text
    assert "Visible heading" in text and "Body" in text and "text" in text
    assert "secret" not in text and "color" not in text and "Hidden title" not in text


def test_sections_cut_html_and_markdown_at_h1_to_h3_with_the_heading_as_metadata():
    html = ("<html><body><nav><a href='/'>Home</a> | <a href='/next'>Next topic</a></nav><main>"
            "<h1>Tutorial<a class='headerlink' href='#t'>¶</a></h1><p>" + "The tutorial begins here and goes on. " * 5
            + "</p><h2>3.1. Numbers¶</h2><h3>Empty heading</h3><h3>Integers</h3><p>Whole numbers have type int. "
            "abs(x)¶ Return the absolute value.</p><h4>Deeper</h4><p>Still the integers section.</p>"
            "<h2>Strings</h2><p>" + "Text is a sequence of characters. " * 5 + "</p></main></body></html>")
    docs, _ = read("page.html", html.encode(), sections=True)
    assert [d.meta["heading"] for d in docs] == ["Tutorial", "Integers", "Strings"]   # an empty section is none
    assert [d.meta["section"] for d in docs] == ["1", "2", "3"]
    integers = docs[1].text
    assert "Deeper" in integers and "Still the integers section" in integers            # h4 stays in its section
    assert "¶" not in integers and "abs(x) Return" in integers                          # permalinks dropped
    assert not any(d.meta["heading"] in d.text for d in docs)                           # the heading is not the text
    whole, _ = read("page.html", html.encode())                                         # by default: one page
    assert len(whole) == 1 and "¶" not in whole[0].text and "Integers" in whole[0].text
    md = b"Preface line.\n\n# One #\nfirst part\n```\n# a comment, not a heading\n```\n#### Four\nstill one\n## Two\nsecond\n"
    docs, _ = read("notes.md", md, sections=True)
    assert [(d.meta["heading"], d.text.splitlines()[0]) for d in docs] == [("", "Preface line."), ("One", "first part"),
                                                                          ("Two", "second")]
    assert "# a comment, not a heading" in docs[1].text and "#### Four" in docs[1].text
    zipped, _ = read("bundle.zip", make_zip({"docs/notes.md": md}), sections=True)     # the flag reaches a zip's members
    assert [d.meta["heading"] for d in zipped] == ["", "One", "Two"]


def test_pdf_text_is_extracted():
    docs, (info,) = read("paper.pdf", make_pdf(["Embeddings map words to vectors.", "Second line here."]))
    assert "Embeddings map words to vectors." in docs[0].text and "Second line" in docs[0].text
    assert info.note == "1 pages"


def test_docx_paragraphs_and_tables():
    data = make_docx(["A first paragraph.", "A second one."], table=[["cell one", "cell two"]])
    docs, _ = read("memo.docx", data)
    assert "A first paragraph." in docs[0].text and "cell two" in docs[0].text


def test_zip_of_formats_with_junk_skipped():
    data = make_zip({
        "corpus/a.txt": b"Alpha text.",
        "corpus/b.html": b"<p>Beta text.</p>",
        "corpus/c.docx": make_docx(["Gamma text."]),
        "corpus/image.png": b"\x89PNG....",
        "__MACOSX/corpus/._a.txt": b"\x00\x01",
    })
    docs, infos = read("bundle.zip", data)
    assert sorted(d.text.strip() for d in docs) == ["Alpha text.", "Beta text.", "Gamma text."]
    assert infos[0].format == "zip" and "image.png (unsupported type)" in infos[0].note
    assert {i.file for i in infos[1:]} == {"bundle.zip/corpus/a.txt", "bundle.zip/corpus/b.html",
                                           "bundle.zip/corpus/c.docx"}


# -- encodings ----------------------------------------------------------------------
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"])
def test_decodes_common_encodings(encoding):
    text = "Café crème, naïve façade; déjà vu at the fête."
    decoded, _ = decode("x.txt", text.encode(encoding))
    assert decoded == text


# -- bad inputs -----------------------------------------------------------------------
BAD_INPUTS = {
    "empty": ("empty.txt", b"", "is empty"),
    "binary renamed .txt": ("photo.txt", b"\x89PNG\r\n\x1a\n" + os.urandom(2000), "binary"),
    "random bytes": ("noise.txt", bytes(range(256)) * 20, "binary"),
    "decodes as nothing (BOM only)": ("bom.txt", b"\xef\xbb\xbf", "contains no text"),
    "whitespace only": ("blank.md", b"  \n\t\n  ", "contains no text"),
    "control characters": ("ctl.txt", b"\x01\x02\x03\x04" * 100, "binary"),
    "corrupt pdf": ("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\ntrailer garbage", "not a readable PDF"),
    "pdf that is text": ("fake.pdf", b"just some words", "not a readable PDF"),
    "corrupt docx": ("broken.docx", b"PK\x03\x04 not really a zip", "not a readable Word"),
    "docx that is another zip": ("other.docx", make_zip({"a.txt": b"hi"}), "not a readable Word"),
    "pickle": ("model.pkl", b"\x80\x04K\x01.", "unpickling"),
    "unknown type": ("data.xlsx", b"PK..", "unsupported file type"),
    "zip with ../": ("evil.zip", make_zip({"ok.txt": b"fine", "../escape.txt": b"bad"}), "unsafe path"),
    "zip with absolute path": ("evil2.zip", make_zip({"/etc/passwd.txt": b"bad"}), "unsafe path"),
    "corrupt zip": ("broken.zip", b"PK\x05\x06" + b"\x00" * 10, "not a readable zip"),
    "zip of nothing readable": ("empty.zip", make_zip({"a.png": b"\x89PNG"}), "no text: add it on the Images page"),
    "empty csv": ("e.csv", b"text\n", "no rows"),
}


@pytest.mark.parametrize("name,data,message", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_inputs_raise_a_clear_input_error(name, data, message):
    with pytest.raises(InputError, match=message) as exc:
        read(name, data)
    text = str(exc.value)
    assert "\n" not in text and name in text  # one line, naming the file


def test_size_limit_is_checked_and_configurable(monkeypatch):
    with pytest.raises(InputError, match="over the 10 bytes limit"):
        read("big.txt", b"x" * 11, limits=Limits(max_file_bytes=10))
    monkeypatch.setenv("EMBEDDINGS_MAX_UPLOAD_MB", "0.5")
    assert Limits.from_env().max_file_bytes == 512 * 1024
    assert Limits().max_file_bytes == 200 * 1024 * 1024


def test_zip_bomb_ratio_is_refused():
    bomb = make_zip({"zeros.txt": b"0" * (30 * 1024 * 1024)})
    assert len(bomb) < 100_000
    with pytest.raises(InputError, match="zip bomb"):
        read("bomb.zip", bomb)


def test_zip_total_uncompressed_size_is_capped():
    data = make_zip({"a.txt": b"word " * 1000, "b.txt": b"word " * 1000}, compression=zipfile.ZIP_STORED)
    with pytest.raises(InputError, match="would unpack to"):
        read("big.zip", data, limits=Limits(max_unzipped_bytes=5000))


def test_zip_member_over_file_limit():
    data = make_zip({"a.txt": b"word " * 100})  # deflated: the zip is far smaller than its member
    assert len(data) < 400
    with pytest.raises(InputError, match="a.txt is 500 bytes, over the 400 bytes limit"):
        read("z.zip", data, limits=Limits(max_file_bytes=400))


def test_a_table_rows_metadata_is_a_small_read_only_mapping_and_repeats_are_shared():
    """#26, item 8: a million short rows must not take a dict each; the mapping still reads
    as the dict it replaces."""
    import sys
    from collections.abc import Mapping

    data = "id,label,text\n" + "".join(f"{i},topic{i % 3},words number {i}\n" for i in range(300))
    docs, _ = read_source(Source("rows.csv", data.encode()))
    meta = docs[7].meta
    assert isinstance(meta, Mapping) and meta == {"id": "7", "label": "topic1"} and dict(meta) == {**meta}
    assert meta.get("label") == meta["label"] == "topic1" and meta.get("nope", "-") == "-" and "id" in meta
    assert list(meta) == ["id", "label"] and len(meta) == 2 and list(meta.items()) == [("id", "7"), ("label", "topic1")]
    assert docs[1].meta["label"] is docs[4].meta["label"]               # one copy of a repeated value
    assert sys.getsizeof(meta) < sys.getsizeof({"id": "7", "label": "topic1"})
    with pytest.raises(TypeError):
        meta["id"] = "8"                                                   # read-only
