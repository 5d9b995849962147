"""embeddings.text.patterns: a user's regular expression in linear time (#26, item 1)."""

import re
import threading

import numpy as np
import pytest

from embeddings.errors import InputError
from embeddings.layout.projection import select_rows
from embeddings.space import EmbeddingSpace
from embeddings.text.patterns import MAX_PATTERN_CHARS, compile_pattern, matching

#: the link that froze the server: Python's re backtracks for minutes on one 16-letter label
CATASTROPHIC = r"(\w|\w|\w|\w)*!"


def test_the_catastrophic_pattern_over_100000_labels_returns_at_once():
    labels = [f"label{i}abcdefghijklmnopqrstuvwxyz" for i in range(100_000)]
    out = {}
    worker = threading.Thread(target=lambda: out.setdefault("mask", matching(labels, CATASTROPHIC)), daemon=True)
    worker.start()
    worker.join(timeout=2.0)          # the bound; RE2 takes about 0.2 s here
    assert not worker.is_alive(), "the pattern held the matcher for more than 2 s"
    assert out["mask"].shape == (100_000,) and not out["mask"].any()     # no label has a "!"


@pytest.mark.parametrize("pattern", [r"^new", r"_", r"(ing|ed)$", r"^[a-c]\w+", r"ou?r", r"\d", r"^(new|south)_"])
def test_ordinary_patterns_match_as_pythons_re_does(pattern):
    labels = ["new_york", "newer", "colour", "color", "south_africa", "running", "walked", "abc1", "zeta", "bcd"]
    expected = np.array([re.search(pattern, label) is not None for label in labels])
    assert (matching(labels, pattern) == expected).all()


@pytest.mark.parametrize("pattern, reason", [(r"(a)\1", "back-references"), (r"(?<=a)b", "look-around"),
                                             ("(", "Invalid regular expression")])
def test_what_re2_cannot_do_in_linear_time_is_refused_with_the_reason(pattern, reason):
    with pytest.raises(InputError, match=re.escape(reason)) as info:
        compile_pattern(pattern)
    message = str(info.value)
    assert repr(pattern) in message and not re.search(r"b'[a-z]", message.replace(repr(pattern), ""))  # no bytes


def test_a_pattern_over_the_length_limit_is_refused():
    with pytest.raises(InputError, match="limit"):
        compile_pattern("a" * (MAX_PATTERN_CHARS + 1))
    compile_pattern("a" * MAX_PATTERN_CHARS)


def test_the_projection_filter_uses_it():
    labels = [f"w{i}" for i in range(50)] + ["new_york", "new_delhi"]
    space = EmbeddingSpace.from_arrays("s", labels, np.random.default_rng(0).normal(size=(len(labels), 4)))
    rows = select_rows(space, regex="^new_")
    assert sorted(space.labels[i] for i in rows) == ["new_delhi", "new_york"]
    assert len(select_rows(space, regex=r"\d", top=None)) == 50
    with pytest.raises(InputError, match="No label of s matches"):
        select_rows(space, regex=CATASTROPHIC)


def test_a_pattern_that_picks_a_handful_of_labels_still_projects():
    """On GloVe the catastrophic pattern matches 15 labels (those with a "!"): too few for
    trustworthiness at k = 10, which is then not computed, instead of an error."""
    from embeddings.layout.projection import project, trust_scores

    rng = np.random.default_rng(0)
    vectors, coords = rng.normal(size=(15, 8)), rng.normal(size=(15, 2))
    assert trust_scores(vectors, coords, k=10) == (None, None, 0)
    assert trust_scores(vectors[:, :8], coords, k=3)[0] is not None
    space = EmbeddingSpace.from_arrays("s", [f"w{i}!" for i in range(15)], vectors)
    layout = project(space, select_rows(space, regex=r"!"), method="pca")
    assert layout.coords.shape == (15, 2)
