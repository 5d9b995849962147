"""Bias probes over an :class:`~embeddings.space.EmbeddingSpace`.

Modules: ``wordsets`` (the published and saved tests, word lists), ``lookup`` (words in a
space), ``weat`` (WEAT/SEAT statistics), ``axis`` (bias axes, DirectBias, RIPA),
``debias`` (hard debiasing and what it leaves). Everything is importable from here.

WEAT (Caliskan, Bryson & Narayanan, Science 2017), on the unit vectors a space holds:

- ``s(w, A, B) = mean_a cos(w, a) - mean_b cos(w, b)``;
- ``S = sum_x s(x) - sum_y s(y)``;
- effect size ``d = (mean_x s - mean_y s) / std_{X∪Y} s``, with the *sample* standard
  deviation (``ddof=1``) as in the paper; ``ddof=0`` gives the population one (WEFE);
- the one-sided permutation ``p = Pr[S(X_i, Y_i) > S(X, Y)]`` over the partitions of
  ``X ∪ Y`` into sets of sizes ``|X|`` and ``|Y|``: enumerated exactly when there are at
  most ``exact_limit`` (100,000) of them, else estimated from ``permutations`` seeded
  random partitions (drawn *without* replacement within a partition; WEFE's sampler
  is not a permutation test). A sampled p is ``(b + 1) / (m + 1)``, with ``b`` of the ``m``
  sampled partitions beyond the observed one (Phipson & Smyth 2010): never 0, since the
  observed partition is itself one of the possible ones;
- several tests run together on one space also get Holm's (1979) step-down adjusted p
  (:func:`holm`, :func:`with_holm`), shown beside the raw p.

Every d gets a bootstrap 95% percentile interval (``BOOTSTRAP`` = 2,000 seeded resamples
of the words *within* each of X, Y, A and B, s recomputed against the resampled attributes)
and a leave-one-word-out table: d without each word, and the word that moves it most.

SEAT (May et al., NAACL 2019) runs the same maths on sentence vectors: every word is
put into "bleached" templates (``This is X.``) and each sentence is one element of its
set. Sentence-encoder spaces use SEAT automatically. Its permutation test moves whole
words by default (a word's sentences together, from each word's summed s), because the
sentences of one word are not independent; May et al.'s sentence-level permutation is
the option ``seat_unit="sentence"``.

WEFE's other metrics (RND, ECT, MAC, RNSB) are in :mod:`.metrics`, equal to WEFE 1.0.1's.

Missing words are listed per set and dropped; a test is refused when a set loses more
than ``max_missing`` of its words. An all-lowercase (uncased) space is looked up in
lowercase; a cased space exactly, with an opt-in lowercase fallback. Spaces that can
embed any word (FastText subwords, sentence encoders) say which words they embedded.

Bias axes (Bolukbasi et al., NeurIPS 2016): a direction from one word pair's
difference or from the first principal component of the centred pairs, projections of
a word list onto it, DirectBias and RIPA (Ethayarajh, Duvenaud & Hirst, ACL 2019; on the
raw vectors when the space kept its norms, as published);
and hard debiasing (neutralise, then equalise) as a new derived space.

>>> import numpy as np
>>> s = np.array([0.3, 0.2, -0.1, -0.4])   # s(w) for x1, x2, y1, y2
>>> permutation_p(s, 2)                    # 6 partitions; none beats the observed one
PermutationTest(p_value=0.0, method='exact', permutations=6, exceed=0)
"""

from embeddings.text.wordlists import parse_pairs, parse_words, read_text_file

from .axis import (
                       RIPA_VECTORS,
                       WEAK_AXIS_SHARE,
                       AxisReport,
                       BiasAxis,
                       axis_report,
                       bias_axis,
                       direct_bias,
                       project_words,
                       ripa,
                       ripa_vectors,
)
from .debias import (
                       RESIDUAL_TOP,
                       RESIDUAL_VOCAB,
                       DebiasReport,
                       HardDebias,
                       ResidualBias,
                       cluster_accuracy,
                       debias_direction,
                       debias_report,
                       debias_space,
                       hard_debias,
                       residual_bias,
)
from .effect import BOOTSTRAP, association, bootstrap_d, effect_size, interval, leave_one_out
from .lookup import Resolved, resolve, uses_seat
from .metrics import (
                       METRICS,
                       Metric,
                       MetricResult,
                       Query,
                       bias_of,
                       ect,
                       from_weat,
                       mac,
                       metric_info,
                       metric_table,
                       query_for,
                       refused_metric_row,
                       rnd,
                       rnsb,
                       run_metric,
)
from .weat import (
                       EXACT_LIMIT,
                       MAX_MISSING,
                       PERMUTATIONS,
                       SEAT_TEMPLATES,
                       SEAT_UNITS,
                       PermutationTest,
                       RefusedTest,
                       WeatParams,
                       WeatResult,
                       format_p,
                       holm,
                       permutation_p,
                       refused_row,
                       weat,
                       weat_from_vectors,
                       weat_table,
                       with_holm,
)
from .wordsets import (
                       BOLUKBASI_FILE,
                       CALISKAN_FILE,
                       DATA_DIR,
                       REMOVED_NOTE,
                       WORDSET_KIND,
                       WeatTest,
                       WordSet,
                       _test_from_json,
                       bolukbasi_gender,
                       builtin_tests,
                       custom_test,
                       gender_specific,
                       get_test,
                       neutral_professions,
                       professions,
                       save_test,
                       saved_tests,
)

__all__ = [
    "DATA_DIR", "CALISKAN_FILE", "BOLUKBASI_FILE", "WORDSET_KIND", "WordSet", "WeatTest", "_test_from_json",
    "REMOVED_NOTE", "builtin_tests", "bolukbasi_gender", "professions", "gender_specific", "neutral_professions",
    "custom_test", "save_test", "saved_tests", "get_test", "Resolved", "resolve", "uses_seat", "EXACT_LIMIT",
    "PERMUTATIONS", "MAX_MISSING", "SEAT_TEMPLATES", "BOOTSTRAP", "SEAT_UNITS", "bootstrap_d", "interval",
    "leave_one_out", "association", "effect_size", "PermutationTest", "WeatParams",
    "permutation_p", "format_p", "holm", "WeatResult", "with_holm", "RefusedTest", "weat_from_vectors", "weat",
    "refused_row", "weat_table", "RIPA_VECTORS", "ripa_vectors", "WEAK_AXIS_SHARE", "BiasAxis", "bias_axis", "project_words",
    "direct_bias", "ripa",
    "AxisReport", "axis_report", "HardDebias", "hard_debias", "debias_space", "debias_direction", "RESIDUAL_TOP",
    "RESIDUAL_VOCAB", "ResidualBias", "cluster_accuracy", "residual_bias", "DebiasReport", "debias_report",
    "parse_pairs", "parse_words", "read_text_file", "METRICS", "Metric", "metric_info", "bias_of", "rnd", "ect",
    "mac", "rnsb", "Query", "query_for", "MetricResult", "refused_metric_row", "run_metric", "from_weat",
    "metric_table",
]
