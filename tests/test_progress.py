"""embeddings.progress: stages in proportion to their weights, a bar that never goes back,
and the time left from the current stage's pace (#25, item 7), on a clock the test drives."""

import pytest

from embeddings.progress import Clock, duration, stages


class FakeTime:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_stages_take_spans_in_proportion_to_their_weights():
    seen = []
    parts = stages(lambda f, m: seen.append((f, m)), {"Training": 27, "Encoding": 300, "Saving": 3})
    parts["Training"](1.0, "step 10 of 10")
    parts["Encoding"](0.0, "chunk 0 of 50")
    parts["Encoding"](0.5, "chunk 25 of 50")
    parts["Saving"](1.0, "done")
    total = 27 + 300 + 3
    assert seen[0] == (pytest.approx(27 / total), "Training: step 10 of 10")
    assert seen[1][0] == pytest.approx(27 / total)
    assert seen[2][0] == pytest.approx((27 + 150) / total)
    assert seen[3] == (pytest.approx(1.0), "Saving: done")
    with pytest.raises(ValueError):
        stages(lambda f, m: None, {"a": 0})


def test_the_time_left_comes_from_the_current_stage():
    """27 s of training bring the bar to 80 %; encoding then moves 1 % in 15 s. The whole
    job's pace would promise about 7 s; the encoding stage's pace says 15 s per 1 % for the
    19 % left: 285 s."""
    now = FakeTime()
    clock = Clock(now)
    assert clock.update(0.0, "Fine-tuning: loading") == (0.0, None)
    now.t += 27
    f, left = clock.update(0.8, "Fine-tuning: step 100 of 100")
    assert f == 0.8 and left == pytest.approx(27 * 0.2 / 0.8)          # one stage so far: the job's pace
    clock.update(0.8, "Encoding the documents: chunk 0 of 2,000")
    now.t += 15
    f, left = clock.update(0.81, "Encoding the documents: chunk 100 of 2,000")
    # the stage has 1 % after 15 s, under the 2 % a stage needs: the whole job's pace stands in
    assert left == pytest.approx(42 * 0.19 / 0.81)
    now.t += 15
    f, left = clock.update(0.82, "Encoding the documents: chunk 200 of 2,000")
    assert left == pytest.approx(30 * 0.18 / 0.02)                      # 270 s at the stage's pace
    now.t += 1
    f, left = clock.update(0.5, "Encoding the documents: a late message")  # never back
    assert f == 0.82
    assert clock.update(1.0, "Saving: done") == (1.0, None)
    assert clock.seconds == pytest.approx(58)


def test_duration_reads_as_minutes_and_seconds():
    assert [duration(s) for s in (0.4, 42, 60, 185.6)] == ["0 s", "42 s", "1 min 00 s", "3 min 06 s"]
