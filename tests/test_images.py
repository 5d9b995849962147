"""Images and text in one space (#31): image corpora under limits, a tiny CLIP built from a config
(no download), cross-modal retrieval, zero-shot against a probe, the adapter, the pages.

Every number is checked against a computation written here: ``transformers``' own
``get_image_features`` / ``get_text_features``, retrieval metrics and accuracies by hand."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import numpy as np
import pytest

from embeddings.errors import InputError
from embeddings.images.corpus import add_image_corpus, decode_upload, image_table, load_image
from embeddings.readers import Limits
from embeddings.store.workspace import Workspace
from tests.tiny_clip import build_tiny_clip

pytestmark = pytest.mark.xdist_group("images")     # one worker: the module's workspace is built once
NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
N_DIGITS = 120


def _png(array: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "PNG")
    return buf.getvalue()


def digits_zip(n: int = N_DIGITS, *, extra: dict[str, bytes] | None = None) -> bytes:
    """scikit-learn's digits as 32-px PNGs and its two sample photos as JPEGs, captioned from
    the labels (in a captions.csv inside the zip)."""
    from PIL import Image
    from sklearn.datasets import load_digits, load_sample_images

    d = load_digits()
    buf, rows = io.BytesIO(), []
    with zipfile.ZipFile(buf, "w") as z:
        for i in range(n):
            im = Image.fromarray((d.images[i] * 255 / 16).astype(np.uint8)).resize((32, 32), Image.NEAREST)
            z.writestr(f"digits/digit_{i:04d}.png", _png(np.asarray(im)))
            rows.append({"file": f"digit_{i:04d}.png", "caption": f"a handwritten digit {NAMES[d.target[i]]}",
                         "label": NAMES[d.target[i]]})
        for k, arr in enumerate(load_sample_images().images):
            jpg = io.BytesIO()
            Image.fromarray(arr).save(jpg, "JPEG")
            z.writestr(f"photo_{k}.jpg", jpg.getvalue())
        rows += [{"file": "photo_0.jpg", "caption": "a chinese temple", "label": "photo"},
                 {"file": "photo_1.jpg", "caption": "a flower", "label": "photo"}]
        for name, data in (extra or {}).items():
            z.writestr(name, data)
        s = io.StringIO()
        w = csv.DictWriter(s, ["file", "caption", "label"])
        w.writeheader()
        w.writerows(rows)
        z.writestr("captions.csv", s.getvalue())
    return buf.getvalue()


def _bomb() -> bytes:
    """A PNG of 12,000 × 12,000 pixels (144 M) in a few kB: over Pillow's own bomb guard."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def clip_folder(tmp_path_factory):
    return build_tiny_clip(tmp_path_factory.mktemp("tinyclip") / "model")


@pytest.fixture(scope="module")
def made(tmp_path_factory, clip_folder):
    """A workspace with the digits corpus (and a bomb and a truncated file), its space and an adapter."""
    from embeddings.images.adapter import adapt_space
    from embeddings.images.spaces import add_image_space

    ws = Workspace(tmp_path_factory.mktemp("images-ws"))
    truncated = _png(np.full((32, 32), 200, np.uint8))[:60]
    corpus, skipped = add_image_corpus(ws, "digits", "digits.zip",
                                       digits_zip(extra={"bomb.png": _bomb(), "cut.png": truncated}))
    space = add_image_space(ws, "digits", str(clip_folder), "tiny")
    adapted = adapt_space(ws, "tiny", "tiny-adapted", epochs=30)
    return ws, corpus, skipped, space, adapted


def test_the_corpus_keeps_each_image_once_and_names_what_it_skipped(made):
    ws, corpus, skipped, _, _ = made
    table = image_table(corpus)
    assert len(table) == N_DIGITS + 2 and table["caption_given"].all()
    assert table.loc[table["file"] == "digit_0003.png", "caption"].item() == "a handwritten digit three"
    assert corpus.label_columns() == ["label"]
    assert sorted(s.split(":")[0] for s in skipped) == ["bomb.png", "cut.png"]
    assert "decompression bomb" in next(s for s in skipped if s.startswith("bomb.png"))
    assert np.asarray(load_image(corpus, 0)).shape == (32, 32, 3)
    assert len(list((corpus.path / "thumbs").iterdir())) == len(table)


def test_limits_thousands_of_tiny_files_and_nothing_half_saved(tmp_path):
    ws = Workspace(tmp_path / "ws")
    tiny = _png(np.zeros((2, 2), np.uint8))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for i in range(3000):
            z.writestr(f"t{i}.png", tiny)
    corpus, skipped = add_image_corpus(ws, "tiny", "tiny.zip", buf.getvalue())
    assert len(image_table(corpus)) == 3000 and not skipped
    assert corpus.stats["captioned"] == 0               # file names stand in, and say so
    with pytest.raises(InputError, match="2,000 limit"):
        add_image_corpus(ws, "too-many", "tiny.zip", buf.getvalue(), limits=Limits(max_zip_members=2000))
    with pytest.raises(InputError, match="pixel limit"):
        decode_upload("big.png", _png(np.zeros((300, 300), np.uint8)), Limits(max_image_pixels=50_000))
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as z:
        z.writestr("a.png", b"not a png")
    with pytest.raises(InputError, match="a.png"):
        add_image_corpus(ws, "broken", "broken.zip", broken.getvalue())
    assert [c.name for c in __import__("embeddings.text.corpus", fromlist=["x"]).list_corpora(ws)] == ["tiny"]


def test_a_transparent_icon_keeps_its_drawing(tmp_path):
    """A black glyph on a transparent background (as icon themes draw them) is kept on white: a
    plain RGB conversion made it a black square (seen on Debian's Adwaita icons)."""
    from PIL import Image

    glyph = np.zeros((16, 16, 4), np.uint8)
    glyph[4:12, 4:12, 3] = 255                      # an opaque black square, the rest transparent
    buf, png = io.BytesIO(), io.BytesIO()
    Image.fromarray(glyph, "RGBA").save(png, "PNG")
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("icon.png", png.getvalue())
    corpus, _ = add_image_corpus(Workspace(tmp_path), "icons", "icons.zip", buf.getvalue())
    pixels = np.asarray(load_image(corpus, 0))
    assert (pixels[0, 0] == 255).all() and (pixels[8, 8] == 0).all()
    assert (np.asarray(decode_upload("icon.png", png.getvalue()))[0, 0] == 255).all()


def test_a_zip_of_images_added_as_text_points_to_the_images_page(tmp_path):
    from embeddings.readers import Source
    from embeddings.text.corpus import add_corpus

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.png", _png(np.zeros((4, 4), np.uint8)))
    with pytest.raises(InputError, match="Images page"):
        add_corpus(Workspace(tmp_path), "x", sources=[Source("pics.zip", buf.getvalue())])


def test_a_captions_file_with_a_bad_line_is_refused_naming_it():
    from embeddings.images.corpus import read_captions

    with pytest.raises(InputError, match="line 3"):
        read_captions("c.jsonl", b'{"file": "a.png", "caption": "x"}\n{"file": "b.png", "caption": "y"}\n{oops\n')
    with pytest.raises(InputError, match="line 3"):
        read_captions("c.csv", b"file,caption\na.png,x\nb.png,y,z\n")


def test_vectors_equal_transformers_own_image_and_text_features(made, clip_folder):
    import torch
    from transformers import AutoTokenizer, CLIPImageProcessor, CLIPModel

    _, corpus, _, space, _ = made
    model = CLIPModel.from_pretrained(clip_folder).eval()
    processor = CLIPImageProcessor.from_pretrained(clip_folder)
    tokenizer = AutoTokenizer.from_pretrained(clip_folder)
    table = image_table(corpus).head(8)
    with torch.no_grad():
        out = model.get_image_features(**processor(images=[load_image(corpus, d) for d in table["doc"]],
                                                   return_tensors="pt"))
        img = (out if torch.is_tensor(out) else out.pooler_output).numpy()
        texts = ["a handwritten digit three", "a flower", "temple"]
        out = model.get_text_features(**tokenizer(texts, padding=True, return_tensors="pt"))
        txt = (out if torch.is_tensor(out) else out.pooler_output).numpy()
    ours_img = space.vectors[[space.index[f] for f in table["file"]]]
    ours_txt = space.vectors[[space.index[t] for t in texts]]
    for ours, theirs in ((ours_img, img), (ours_txt, txt)):
        cos = np.sum(ours * theirs, axis=1) / np.linalg.norm(theirs, axis=1)
        assert cos.min() >= 0.9999
    assert space.provenance["image_rows"] == N_DIGITS + 2
    assert made[0].get("space", "tiny").summary["can_embed"] is True          # texts, through its model
    assert set(space.meta["modality"]) == {"image", "text"}


def test_cross_modal_retrieval_equals_a_direct_computation(made):
    from embeddings.images.bench import cross_modal

    _, corpus, _, space, _ = made
    got = cross_modal(space, corpus)
    table = image_table(corpus)
    v = space.vectors
    captions = sorted(set(table["caption"]))
    C = v[[space.index[c] for c in captions]]
    r1, r10, ndcg = [], [], []
    for f, cap in zip(table["file"], table["caption"]):
        order = np.argsort(-(C @ v[space.index[f]]), kind="stable")
        rank = int(np.flatnonzero(np.array(captions)[order] == cap)[0]) + 1
        r1.append(rank == 1)
        r10.append(rank <= 10)
        ndcg.append(1 / np.log2(rank + 1) if rank <= 10 else 0.0)
    i2c = got["image → caption"]
    assert len(i2c) == len(table)
    assert i2c["Recall@1"].mean() == pytest.approx(np.mean(r1))
    assert i2c["Recall@10"].mean() == pytest.approx(np.mean(r10))
    assert i2c["nDCG@10"].mean() == pytest.approx(np.mean(ndcg))
    # caption → image: every image sharing the caption is relevant; nDCG against the ideal ranking
    c2i = got["caption → image"].set_index("qid")
    cap = "a handwritten digit three"
    files = table["file"].tolist()
    images = v[[space.index[f] for f in files]]
    order = np.argsort(-(images @ v[space.index[cap]]), kind="stable")[:10]
    gains = np.array([table["caption"].iat[i] == cap for i in order], float)
    relevant = int((table["caption"] == cap).sum())
    ideal = sum(1 / np.log2(r + 2) for r in range(min(10, relevant)))
    assert c2i.loc[cap, "nDCG@10"] == pytest.approx(float(np.sum(gains / np.log2(np.arange(2, 12)))) / ideal)
    assert c2i.loc[cap, "Recall@10"] == pytest.approx(gains.sum() / relevant)


def test_captions_that_tie_are_counted_as_a_pairwise_comparison_counts_them(made, tmp_path):
    """A caption whose words the tokenizer does not know embeds like any other of its length."""
    from embeddings.images.bench import alike_captions
    from embeddings.images.spaces import add_image_space

    ws = Workspace(tmp_path / "ws")
    buf, rows = io.BytesIO(), ["file,caption"]
    with zipfile.ZipFile(buf, "w") as z:
        for i, caption in enumerate(["a cat", "a dog", "zebra quokka", "okapi tapir", "a red okapi", "a blue zebra"]):
            z.writestr(f"{i}.png", _png(np.full((8, 8), 40 * i, np.uint8)))
            rows.append(f"{i}.png,{caption}")
        z.writestr("captions.csv", "\n".join(rows))
    add_image_corpus(ws, "c", "c.zip", buf.getvalue())
    space = add_image_space(ws, "c", str(build_tiny_clip(tmp_path / "m")), "s")
    caps = np.flatnonzero(space.meta["unit"].to_numpy() == "caption")
    sims = space.vectors[caps] @ space.vectors[caps].T
    np.fill_diagonal(sims, -1)
    # "zebra quokka" and "okapi tapir": two unknown words each
    assert alike_captions(space) == (int((sims > 1 - 1e-5).any(axis=1).sum()), len(caps)) == (2, 6)


def test_zero_shot_and_the_probe_equal_a_direct_computation(made, clip_folder):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    from embeddings.images.bench import TEST_SHARE, zero_shot
    from embeddings.images.clip import encode_texts, load_clip

    _, corpus, _, space, _ = made
    z = zero_shot(space, corpus, "label", template="a picture of {label}")
    table = image_table(corpus)
    table = table[table["meta.label"] != "photo"]          # two images: too few for a train and a test split
    X = space.vectors[[space.index[f] for f in table["file"]]]
    y = table["meta.label"].to_numpy()
    train, test = train_test_split(np.arange(len(y)), test_size=TEST_SHARE, stratify=y, random_state=0)
    classes = sorted(set(y))
    P = encode_texts(load_clip(clip_folder), [f"a picture of {c}" for c in classes])
    guess = np.array(classes)[np.argmax(X[test] @ P.T, axis=1)]
    assert z.classes == classes and z.n_test == len(test)
    assert z.zero_shot.mean() == pytest.approx(np.mean(guess == y[test]))
    probe = LogisticRegression(C=z.chosen_c, max_iter=2000).fit(X[train], y[train])
    assert z.probe.mean() == pytest.approx(np.mean(probe.predict(X[test]) == y[test]))
    d = z.difference()
    assert d.difference == pytest.approx(z.probe.mean() - z.zero_shot.mean()) and d.low <= d.difference <= d.high


def test_the_adapter_lowers_its_loss_and_never_trains_on_a_held_out_pair(made):
    from embeddings.images.adapter import adapter_before_after
    from embeddings.images.spaces import ADAPTER_FILES, adapt

    ws, corpus, _, space, adapted = made
    run = adapted.provenance["customised"]
    losses = [loss for _, loss in run["loss_curve"]]
    assert losses[-1] < losses[0]
    assert not set(run["held_out_docs"]) & set(run["train_docs"]) and run["held_out_docs"]
    table = image_table(corpus).set_index("doc")
    held_captions = set(table.loc[run["held_out_docs"], "caption"])
    assert not held_captions & set(table.loc[run["train_docs"], "caption"])      # split by caption
    # the saved maps applied to the base give the adapted vectors, and a new text goes through both
    folder = ws.get("space", adapted.id).path
    wi, wt = (np.load(folder / f) for f in ADAPTER_FILES)
    row = space.index["digit_0000.png"]
    assert np.allclose(adapted.vectors[row], adapt(space.vectors[row:row + 1], wi)[0], atol=1e-5)
    from embeddings.store.space_store import load_space

    fresh = load_space(ws, "tiny-adapted")
    assert np.allclose(fresh.embed(["a red cat"]), adapt(load_space(ws, "tiny").embed(["a red cat"]), wt), atol=1e-5)
    ba = adapter_before_after(ws, "tiny-adapted")
    for d in ba.differences:
        n = len(ba.per_space["tiny"][d.task])
        mine = ba.per_space["tiny-adapted"][d.task].set_index("qid")["nDCG@10"]
        base = ba.per_space["tiny"][d.task].set_index("qid")["nDCG@10"]
        assert d.difference == pytest.approx((mine - base.loc[mine.index]).mean()) and n >= 2
    queries = set(ba.per_space["tiny"]["image → caption"]["qid"])
    assert queries == set(table.loc[run["held_out_docs"], "file"])


def test_the_cli_runs_the_whole_path(tmp_path, capsys, clip_folder):
    from tests.conftest import run_cli

    zip_path = tmp_path / "d.zip"
    zip_path.write_bytes(digits_zip(40))
    ws = str(tmp_path / "ws")
    code, out, err = run_cli(capsys, "--workspace", ws, "images", "add", "d", str(zip_path), "--json")
    assert code == 0, err
    assert json.loads(out)["images"] == 42
    code, out, err = run_cli(capsys, "--workspace", ws, "images", "space", "d", "--model", str(clip_folder),
                             "--name", "t", "--json")
    assert code == 0, err
    code, out, err = run_cli(capsys, "--workspace", ws, "images", "bench", "t", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["leaderboard"][0]["i→c queries"] == 42
    code, out, err = run_cli(capsys, "--workspace", ws, "images", "space", "d", "--model", str(tmp_path),
                             "--name", "x")
    assert code != 0 and "not an image-text model folder" in err


def test_the_images_page_and_an_image_query_on_neighbours(made, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from embeddings.images.adapter import adapter_before_after
    from tests.conftest import ROOT

    ws, corpus, _, space, _ = made
    monkeypatch.setenv("EMBEDDINGS_WORKSPACE", str(ws.root))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("pages/images.py").run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Images"] == f"{N_DIGITS + 2:,}" and metrics["Skipped"] == "2"
    assert any("a handwritten digit" in c.value for c in at.caption)        # the grid's captions
    at.segmented_control(key="im_section").set_value("Benchmarks").run()
    assert not at.exception, at.exception
    board = at.dataframe[0].value.set_index("space")
    from embeddings.images.bench import cross_modal, trained_on

    # the images the adapter trained on are left out for both spaces, and the page says so
    left_out = trained_on([space, made[4]])
    assert left_out == set(made[4].provenance["customised"]["train_docs"])
    expected = cross_modal(space, corpus, exclude=left_out)["image → caption"]
    assert board.loc["tiny", "i→c nDCG"] == pytest.approx(expected["nDCG@10"].mean())
    assert any(f"{len(expected):,} image queries" in c.value and f"the {len(left_out):,} images an adapter" in c.value
               for c in at.caption)
    assert any("linear probe" in m.value and "held-out images" in m.value for m in at.markdown)
    at.segmented_control(key="im_section").set_value("Adapt").run()
    assert not at.exception, at.exception
    ba = adapter_before_after(ws, "tiny-adapted")
    d = ba.differences[0]
    metric = next(m for m in at.metric if m.label == f"nDCG@10 {d.task}, adapted")
    from streamlit.proto.Metric_pb2 import Metric

    grey = metric.proto.color == Metric.MetricColor.Value("GRAY")
    assert grey == (not (d.low > 0 or d.high < 0))           # colour only for a detectable change
    assert metric.delta == f"{d.difference:+.3f}"
    # the Corpora page shows the image corpus's grid under its text statistics
    at.switch_page("pages/corpus.py").run()
    assert not at.exception, at.exception
    assert {"Documents", "Images", "With a caption"} <= {m.label for m in at.metric}
    # Neighbours: an image of the corpus as the query, both kinds listed
    at.switch_page("pages/neighbours.py")
    at.query_params["spaces"] = "tiny"
    at.run()
    assert not at.exception, at.exception
    at.radio(key="nb_im_kind").set_value("an image of the corpus").run()
    assert not at.exception, at.exception
    assert any("among the 10 nearest" in c.value for c in at.caption)


@pytest.mark.browser
def test_the_joint_map_shows_the_picked_image_and_neighbours_take_an_image(made, browser):
    from playwright.sync_api import expect

    from tests.conftest import (
        ARTIFACTS,
        AppServer,
        assert_nothing_left_the_machine,
        guarded_context,
        layout_problems,
        screenshot,
        wait_for_app,
    )

    ws = made[0]
    server = AppServer(ws.root, ARTIFACTS / "streamlit-images.log")
    context = guarded_context(browser, viewport={"width": 1280, "height": 1000})
    try:
        pg = context.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        pg.goto(f"{server.url}/projection?spaces=tiny&method=pca&pj_colour=metadata+column&pj_meta=modality")
        wait_for_app(pg)
        chart = pg.locator('[data-testid="stPlotlyChart"]').first
        expect(chart.locator(".legendtext").filter(has_text="image")).to_have_count(1, timeout=120_000)
        plot = chart.locator(".js-plotly-plot")
        pos = plot.evaluate(r"""gd => { const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, all = [];
            for (const t of gd._fullData) { if (!t.customdata) continue;
              for (let i = 0; i < t.x.length; i++) all.push({x: xa._offset + xa.l2p(t.x[i]),
                y: ya._offset + ya.l2p(t.y[i]), label: t.customdata[i][0]}); }
            let best = null, room = -1;
            for (const p of all) { if (!/\.(png|jpe?g)$/.test(p.label)) continue; let near = Infinity;
              for (const q of all) if (q !== p) near = Math.min(near, Math.hypot(p.x - q.x, p.y - q.y));
              if (near > room) { room = near; best = p; } }
            return best; }""")
        plot.scroll_into_view_if_needed()
        box = plot.bounding_box()
        pg.mouse.click(box["x"] + pos["x"], box["y"] + pos["y"])
        wait_for_app(pg)
        expect(pg.locator('[data-testid="stImage"]').first).to_be_visible(timeout=60_000)
        screenshot(pg, "images-map")
        pg.goto(f"{server.url}/neighbours?spaces=tiny&q=flower")
        wait_for_app(pg)
        pg.get_by_text("an image of the corpus", exact=True).click()
        wait_for_app(pg)
        expect(pg.get_by_text("among the 10 nearest")).to_be_visible()
        assert pg.locator('[data-testid="stImage"]').count() >= 2            # the query and its neighbours
        screenshot(pg, "images-neighbours")
        assert layout_problems(pg) == {}
        pg.goto(f"{server.url}/images")
        wait_for_app(pg)
        pg.get_by_text("Benchmarks", exact=True).click()
        wait_for_app(pg)
        expect(pg.get_by_text("Paired verdicts")).to_be_visible()             # the base and its adapter
        expect(pg.get_by_text("held-out images", exact=False).first).to_be_visible()
        assert layout_problems(pg) == {}
        screenshot(pg, "images-benchmarks")
        assert errors == []
    finally:
        context.close()
        server.stop()
    assert_nothing_left_the_machine(context)


def _symmetric_loss(images: np.ndarray, captions: np.ndarray, scale: float = 20.0) -> float:
    """CLIP's symmetric InfoNCE over all pairs at once (MultipleNegativesSymmetricRankingLoss's scale)."""
    from scipy.special import log_softmax

    logits = scale * images @ captions.T
    n = np.arange(len(images))
    return float(-(log_softmax(logits, axis=1)[n, n].mean() + log_softmax(logits.T, axis=1)[n, n].mean()) / 2)


def test_a_fine_tune_of_the_encoder_learns_its_pairs_and_keeps_its_model(tmp_path, clip_folder):
    import torch
    from transformers import CLIPImageProcessor, CLIPModel

    from embeddings.images.bench import pairs_of
    from embeddings.images.finetune import finetune_clip
    from embeddings.images.spaces import add_image_space

    ws = Workspace(tmp_path / "ws")                 # its own: the page tests read the shared one
    corpus, _ = add_image_corpus(ws, "digits", "digits.zip", digits_zip())
    space = add_image_space(ws, "digits", str(clip_folder), "tiny")
    tuned = finetune_clip(ws, "tiny", "tiny-tuned", epochs=4, learning_rate=2e-3, batch=16)
    run = tuned.provenance["customised"]
    assert run["method"] == "finetune" and not set(run["train_docs"]) & set(run["held_out_docs"])
    distinct = len(set(image_table(corpus).set_index("doc").loc[run["train_docs"], "caption"]))
    assert run["batch_size"] == min(16, distinct) and run["steps"] > 0       # no caption twice in a batch
    pairs = pairs_of(space, corpus, run["train_docs"])
    distinct = pairs.drop_duplicates("caption_row")                # one pair per caption: no false negatives
    before = _symmetric_loss(space.vectors[distinct["image_row"]], space.vectors[distinct["caption_row"]])
    after = _symmetric_loss(tuned.vectors[distinct["image_row"]], tuned.vectors[distinct["caption_row"]])
    assert after < before
    # the space's vectors are the saved model's own features
    folder = ws.get("space", tuned.id).path / "model"
    model = CLIPModel.from_pretrained(folder).eval()
    table = image_table(corpus).head(4)
    with torch.no_grad():
        out = model.get_image_features(**CLIPImageProcessor.from_pretrained(folder)(
            images=[load_image(corpus, d) for d in table["doc"]], return_tensors="pt"))
    theirs = (out if torch.is_tensor(out) else out.pooler_output).numpy()
    ours = tuned.vectors[[tuned.index[f] for f in table["file"]]]
    assert (np.sum(ours * theirs, axis=1) / np.linalg.norm(theirs, axis=1)).min() >= 0.9999


def test_a_sentence_transformers_clip_folder_loads_and_two_models_compare_on_shared_images(made, tmp_path):
    """The layout sentence-transformers' own CLIP models ship in (``0_CLIPModel/`` under a
    ``modules.json``) embeds as the plain folder does; two models of one corpus share the image
    ids, so Compare reads them side by side."""
    import shutil

    from embeddings.analysis.neighbours import compare
    from embeddings.images.spaces import add_image_space

    ws, corpus, _, space, _ = made
    st_folder = tmp_path / "st-clip"
    shutil.copytree(build_tiny_clip(tmp_path / "other", seed=1), st_folder / "0_CLIPModel")
    (st_folder / "modules.json").write_text(json.dumps(
        [{"idx": 0, "name": "0", "path": "0_CLIPModel", "type": "sentence_transformers.models.CLIPModel"}]))
    other = add_image_space(ws, "digits", str(st_folder), "tiny-seed1")
    assert other.provenance["model_path"].endswith("0_CLIPModel")
    assert not np.allclose(other.vectors[0], space.vectors[0])          # another model
    c = compare(space, other, 5)
    assert {"digit_0000.png", "photo_1.jpg"} <= set(c.shared) and len(c.shared) == len(space)
    ws.delete("space", "tiny-seed1")                                   # the page tests read this workspace


def test_hostile_captions_and_file_names_show_as_text(tmp_path, monkeypatch):
    """A caption or a file name is the user's text on the Images page: no link, image or style."""
    from streamlit.testing.v1 import AppTest

    from pages.ui.text import md
    from tests.conftest import ROOT

    caption, name = "![x](http://203.0.113.9/x.png) **bold** :red[x]", "<img src=x onerror=alert(1)>.png"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(name, _png(np.zeros((8, 8), np.uint8)))
        z.writestr("captions.csv", f'file,caption\n"{name}","{caption}"\n')
    ws = Workspace(tmp_path / "ws")
    add_image_corpus(ws, "hostile", "h.zip", buf.getvalue())
    monkeypatch.setenv("EMBEDDINGS_WORKSPACE", str(ws.root))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("pages/images.py").run()
    assert not at.exception, at.exception
    assert md(f"{name}: {caption}") in [c.value for c in at.caption]      # escaped: shown as typed
