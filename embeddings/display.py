"""A user's string is text, wherever it is shown.

Names, labels, file names, metadata values and word lists come from users, and every
renderer we use gives some characters a meaning: plotly reads a pseudo-HTML subset
(``<a href>``, ``<span style>``, ``<b>``...) in every piece of text it draws, HTML reports
are HTML, and a download's file name is a path. This module is the one place where a user
string is made safe for each of them:

- :func:`safe_figure` escapes every data string of a plotly figure (``x``, ``y``, ``text``,
  ``hovertext``, ``customdata``, trace names, category arrays, tick labels) just before
  the figure is drawn or written into a report. Templates, titles and annotations are
  ours: a user string that goes into one passes through :func:`plot_text` where the
  string is built. Data strings must therefore be plain text (numbers and labels), never markup.
- :func:`plot_text` / :func:`label_from_plot` escape and un-escape one string (a selection
  event hands back the escaped label).
- :func:`safe_filename` makes a download name from a user's name.

(Streamlit markdown has its own escaping helper, ``pages.common.md``; reports use
:func:`html.escape`.)

>>> plot_text('<a href="http://x">& co</a>')
'&lt;a href="http://x"&gt;&amp; co&lt;/a&gt;'
>>> label_from_plot(plot_text("R&D <team>")) == "R&D <team>"
True
>>> safe_filename("../../etc/passwd <b>")
'etc_passwd__b'
"""

from __future__ import annotations

import html
import re
from typing import Any

import numpy as np

#: the trace attributes that carry data (escaped); templates stay as written
_TRACE_DATA = ("x", "y", "z", "text", "hovertext", "customdata", "labels", "name", "legendgrouptitle")
#: the axis attributes that repeat data values
_AXIS_DATA = ("categoryarray", "tickvals", "ticktext")


def MARKUP_SAFE(*attrs: str) -> dict:
    """A trace's ``meta`` that says its builder wrote these data attributes itself, with markup
    such as ``<br>`` and no user string (numbers, fixed words): :func:`safe_figure` leaves
    them as they are. Use it only where that is true.

    >>> MARKUP_SAFE("text")
    {'markup_safe': ['text']}
    """
    return {"markup_safe": list(attrs)}


def plot_text(value: str) -> str:
    """Escape a string for plotly, which reads ``<`` and ``&`` as markup (quotes are harmless)."""
    return html.escape(str(value), quote=False)


def label_from_plot(value: str) -> str:
    """The original string of a :func:`plot_text`-escaped one (as a selection event returns it)."""
    return html.unescape(value)


def _escape(value: Any) -> Any:
    if isinstance(value, str):
        return plot_text(value)
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "OUS":
            flat = [_escape(v) for v in value.ravel().tolist()]
            out = np.empty(len(flat), dtype=object)
            out[:] = flat
            return out.reshape(value.shape)
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(_escape(v) for v in value)
    return value


def safe_figure(fig):
    """Escape every data string of a plotly figure in place, and return it.

    Call it once, just before the figure is drawn (``pages.common.plotly_chart``) or
    written (:mod:`embeddings.report`).
    """
    for trace in fig.data:
        meta = trace.meta if isinstance(trace.meta, dict) else {}
        for attr in _TRACE_DATA:
            if attr in meta.get("markup_safe", ()):
                continue
            if attr in trace and trace[attr] is not None:
                value = trace[attr]
                if attr == "legendgrouptitle":
                    if value.text:
                        value.text = plot_text(value.text)
                    continue
                trace[attr] = _escape(value)
    for key in fig.layout:
        if re.match(r"[xy]axis\d*$", key):
            axis = fig.layout[key]
            for attr in _AXIS_DATA:
                if axis[attr] is not None:
                    axis[attr] = _escape(axis[attr])
    return fig


def safe_filename(name: str, default: str = "export") -> str:
    """A file name made from a user's name: letters, digits, ``-``, ``_`` and inner dots only."""
    safe = re.sub(r"[^\w.-]", "_", str(name), flags=re.ASCII)
    safe = re.sub(r"\.{2,}", ".", safe).strip("._") or default
    return safe[:120]


#: how a space's training and loading parameters are named on its card
PARAM_NAMES = {
    "sg": "architecture", "dim": "dimensions", "window": "window", "min_count": "min count",
    "negative": "negative samples", "sample": "down-sampling", "epochs": "epochs", "seed": "seed",
    "workers": "threads", "min_n": "shortest character n-gram", "max_n": "longest character n-gram",
    "bucket": "n-gram buckets", "cds": "context distribution smoothing", "eig": "eigenvalue weighting",
    "top": "how many", "batch_size": "batch size", "unit": "unit", "format": "file format", "pca_dim": "PCA dimensions",
}


def param_text(name: str, value) -> str:
    """One parameter's value as a reader wants it (never ``None``, ``True`` or raw JSON).

    >>> param_text("sg", True), param_text("top", None), param_text("bucket", 200000), param_text("sample", 0.001)
    ('skip-gram', 'all', '200,000', '0.001')
    """
    if name == "sg":
        return "skip-gram" if value else "CBOW"
    if value is None:
        return "all" if name == "top" else "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return str(value)


def param_rows(params: dict) -> list[tuple[str, str]]:
    """(name, value) rows for a space's parameters, in a reader's words."""
    return [(PARAM_NAMES.get(k, k.replace("_", " ")), param_text(k, v)) for k, v in params.items()]


def card_facts(provenance: dict) -> dict[str, str | None]:
    """The model card's facts of an encoder folder (:func:`embeddings.models.hf_folder.model_card`)
    and of an endpoint (:mod:`embeddings.models.endpoint`).

    >>> card_facts({"card": {"architecture": "GPT2Model", "parameters": 1234567, "max_length": 64,
    ...             "pooling": "lasttoken", "prompts": {"query": "search: "}}})["Pooling"]
    'last token, normalised'
    >>> card_facts({"endpoint": {"url": "https://api.example.com/v1", "host": "api.example.com", "remote": True,
    ...             "model": "m", "key_env": "KEY", "price_per_million": 0.02}})["Endpoint"]
    'm at https://api.example.com/v1: another machine (api.example.com), the texts were sent there'
    """
    card, endpoint = provenance.get("card") or {}, provenance.get("endpoint") or {}
    prompts = card.get("prompts") or {}
    licence = card.get("licence")
    pooling = {"lasttoken": "last token", "cls": "CLS token", "mean": "mean of the tokens"}.get(card.get("pooling"))
    where = (f"another machine ({endpoint.get('host')}), the texts were sent there" if endpoint.get("remote")
             else "this machine")
    return {
        "Architecture": card.get("architecture"),
        "Parameters": f"{card['parameters']:,}" if card.get("parameters") else None,
        "Window": f"{card['max_length']:,} tokens" if card.get("max_length") else None,
        "Images": f"{card['image_size']} × {card['image_size']} px, then the model's image projection"
                  if card.get("image_size") else None,
        "Pooling": f"{pooling}, {'normalised' if card.get('normalised', True) else 'not normalised'}" if pooling else None,
        "Prompts": "; ".join(f"{k}: {v!r}" for k, v in prompts.items()) or None,
        "Licence": f"{licence['file']}: {licence['first_line']}" if licence else None,
        "Endpoint": f"{endpoint.get('model')} at {endpoint.get('url')}: {where}" if endpoint else None,
        "API key": f"from ${endpoint['key_env']} (never stored)" if endpoint.get("key_env") else None,
        "Price": f"${endpoint['price_per_million']:g} per million tokens (about "
                 f"{endpoint.get('tokens_estimated', 0):,} tokens sent)" if endpoint.get("price_per_million") else None,
    }


def plural(n: int, word: str, words: str | None = None) -> str:
    """``plural(1, "document") == "1 document"``, ``plural(2, "document") == "2 documents"``.

    >>> plural(514, "query"), plural(2, "day"), plural(1, "query")
    ('514 queries', '2 days', '1 query')
    """
    if words is None:
        words = word[:-1] + "ies" if word.endswith("y") and word[-2:-1] not in tuple("aeiou") else word + "s"
    return f"{int(n):,} {word if n == 1 else words}"


def times(ratio: float) -> str:
    """A speed ratio as people read it: one decimal under 10, never "1×" for 1.4.

    >>> times(1.44), times(12.6), times(1234.5)
    ('1.4×', '13×', '1,234×')
    """
    return f"{ratio:.1f}×" if ratio < 10 else f"{ratio:,.0f}×"
