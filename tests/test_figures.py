"""The core's figures: the labelled map and the neighbour bars, read back from their plotly JSON."""

import numpy as np
import pandas as pd
import pytest


# -- #11: a labelled map --------------------------------------------------------------------
def test_projection_figure_names_groups_at_their_centres_and_labels_top_words():
    import json

    from embeddings.figures import MapLayers, projection_figure, short_name

    rng = np.random.default_rng(3)
    a = rng.normal(loc=(0, 0), scale=0.3, size=(40, 2))
    b = rng.normal(loc=(10, 5), scale=0.3, size=(40, 2))
    xy = np.vstack([a, b, [[50.0, 50.0]]])                         # one far outlier in group a
    labels = [f"word{i}" for i in range(81)]
    labels[1] = "the"                                              # a stopword: never written on the map
    frame = pd.DataFrame({"label": labels, "x": xy[:, 0], "y": xy[:, 1],
                          "frequency": np.arange(81, 0, -1, dtype=float), "neighbours": ""})
    in_a = np.r_[np.ones(40, bool), np.zeros(40, bool), [True]]
    layers = MapLayers(groups=[("0: alpha, beta, gamma", in_a), ("1: delta", ~in_a)], word_labels=5,
                       picked={"word3"}, near={"word4", "word5"}, search="word7")
    fig, found = projection_figure(frame, layers)
    spec = json.loads(fig.to_json())
    notes = {n["text"]: (n["x"], n["y"]) for n in spec["layout"]["annotations"]}
    assert notes["<b>alpha · beta</b>"] == pytest.approx((np.median(xy[in_a, 0]), np.median(xy[in_a, 1])))
    assert notes["<b>delta</b>"] == pytest.approx((np.median(b[:, 0]), np.median(b[:, 1])))
    assert "<b>word7</b>" in notes and found == 1
    traces = {t.get("name"): t for t in spec["data"]}
    assert list(traces["most frequent"]["text"]) == ["word0", "word2", "word3", "word4", "word5"]  # by frequency
    assert list(traces["selected"]["text"]) == ["word3"]
    assert sorted(traces["its neighbours"]["text"]) == ["word4", "word5"]
    assert short_name("unclustered") == "unclustered"
    # background groups are never named
    fig, _ = projection_figure(frame, MapLayers(groups=[("other", in_a), ("people", ~in_a)]))
    assert [n["text"] for n in json.loads(fig.to_json())["layout"]["annotations"]] == ["<b>people</b>"]

def test_neighbour_bars_keep_long_labels_whole_in_the_hover_and_apart_on_the_axis():
    import json

    from embeddings.figures import neighbour_bars

    long_a, long_b = "x" * 60 + "a", "x" * 60 + "b"      # the same once cut
    spec = json.loads(neighbour_bars([long_a, long_b, "short"], [0.9, 0.8, 0.7]).to_json())
    bar = spec["data"][0]
    assert list(bar["customdata"]) == ["short", long_b, long_a]            # nearest on top
    assert len(set(bar["y"] if isinstance(bar["y"], list) else [0, 1, 2])) == 3
    ticks = spec["layout"]["yaxis"]["ticktext"]
    assert ticks[0] == "short" and all(len(t) <= 40 for t in ticks) and ticks[1].endswith("…")
