"""Widgets for the core's declared options (:mod:`embeddings.options`): minimum, maximum,
default and help come from the option, so a page cannot drift from the CLI."""

from __future__ import annotations

from typing import Any

import streamlit as st

from embeddings.options import Spec, spec
from pages.ui.url import Bound


def _cast(s: Spec, value: Any) -> Any:
    if value is None:
        return None
    return int(value) if s.whole else float(value)


def option_number(label: str, cls: type, name: str, *, key: str, where: Any = st, **kwargs) -> Any:
    """``number_input`` for the option ``cls.name``; ``value``, ``step`` and ``help`` may be overridden."""
    s = spec(cls, name)
    return where.number_input(label, _cast(s, s.low), _cast(s, s.high), kwargs.pop("value", _cast(s, s.default)),
                              step=kwargs.pop("step", _cast(s, s.step)), help=kwargs.pop("help", s.help or None),
                              key=key, **kwargs)


def option_slider(label: str, cls: type, name: str, *, key: str, where: Any = st, **kwargs) -> Any:
    """``slider`` for the option ``cls.name``."""
    s = spec(cls, name)
    return where.slider(label, _cast(s, s.low), _cast(s, s.high), kwargs.pop("value", _cast(s, s.default)),
                        step=kwargs.pop("step", _cast(s, s.step)), help=kwargs.pop("help", s.help or None),
                        key=key, **kwargs)


def bound(cls: type, name: str) -> Bound:
    """What a link may set the option to: its own bounds."""
    s = spec(cls, name)
    return Bound(s.low, s.high, whole=s.whole)
