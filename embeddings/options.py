"""Each feature's options, declared once: a default, its bounds and one line of help.

A feature's settings are a frozen dataclass (``TrainParams``, ``ProjectionParams``,
``WeatParams``...) whose fields are made with :func:`option`. Everything that offers a
setting reads it from there:

- the page's widget takes its minimum, maximum, default and help (``pages/ui/options.py``);
- the CLI's flag takes its default and refuses a value outside the bounds (:func:`add_flag`);
- the core checks a value built in Python (:func:`check`), with a message naming the setting;
- a link's parameter falls back to the default outside the same bounds.

``tests/test_options.py`` walks every widget and flag that has a twin and asserts that they agree.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class P:
...     k: int = option(10, 1, 50, "neighbours")
>>> spec(P, "k")
Spec(name='k', default=10, low=1, high=50, help='neighbours', step=None)
>>> check(P(k=80))
Traceback (most recent call last):
...
embeddings.errors.InputError: Invalid setting: k = 80 is outside 1 to 50 (neighbours).
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from typing import Any

from embeddings.errors import InputError

_KEY = "option"


@dataclass(frozen=True)
class Spec:
    """One option: its name, default, inclusive bounds (None: unbounded on that side), help and step."""

    name: str
    default: Any
    low: float | None = None
    high: float | None = None
    help: str = ""
    step: float | None = None

    @property
    def whole(self) -> bool:
        """Whether the option takes whole numbers (its default is an int)."""
        return isinstance(self.default, int) and not isinstance(self.default, bool)

    def contains(self, value: Any) -> bool:
        return value is None or ((self.low is None or value >= self.low) and (self.high is None or value <= self.high))

    def span(self) -> str:
        low = "" if self.low is None else f"{self.low:g}"
        high = "" if self.high is None else f"{self.high:g}"
        return f"{low} to {high}" if low and high else f"at least {low}" if low else f"at most {high}"


def option(default: Any, low: float | None = None, high: float | None = None, help: str = "",
           step: float | None = None) -> Any:
    """A dataclass field holding one option (use it as a field's default)."""
    return dataclasses.field(default=default, metadata={_KEY: (low, high, help, step)})


def specs(cls: type) -> dict[str, Spec]:
    """Every option of a params class, by field name (fields made without :func:`option` are left out)."""
    out = {}
    for f in dataclasses.fields(cls):
        if _KEY in f.metadata:
            low, high, help_, step = f.metadata[_KEY]
            out[f.name] = Spec(f.name, f.default, low, high, help_, step)
    return out


def spec(cls: type, name: str) -> Spec:
    return specs(cls)[name]


def check(params: Any) -> None:
    """Refuse a params value with a setting outside its bounds, naming the setting."""
    for name, s in specs(type(params)).items():
        value = getattr(params, name)
        if not s.contains(value):
            why = f" ({s.help})" if s.help else ""
            raise InputError(f"Invalid setting: {name} = {value:g} is outside {s.span()}{why}.")


def _bounded(s: Spec):
    kind = int if s.whole else float

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'a whole number' if kind is int else 'a number'}")
        if not s.contains(value):
            raise argparse.ArgumentTypeError(f"{value:g} is outside {s.span()}")
        return value

    parse.__name__ = kind.__name__   # argparse names the type in its messages
    return parse


def add_flag(parser: argparse.ArgumentParser | Any, flag: str, cls: type, name: str, **kwargs) -> argparse.Action:
    """``--flag`` for the option ``cls.name``: its default, a type that refuses values out of
    bounds, and the option's help with the default and bounds appended (``none_means`` says
    what a default of None stands for)."""
    s = spec(cls, name)
    bounds = f"; {s.span()}" if s.low is not None or s.high is not None else ""
    default = kwargs.pop("default", s.default)
    shown = kwargs.pop("none_means", "none") if default is None else f"{default:g}"
    text = f"{s.help} (default {shown}{bounds}{kwargs.pop('help_suffix', '')})"
    kwargs.setdefault("metavar", "N" if s.whole else "X")
    return parser.add_argument(flag, type=_bounded(s), default=default,
                               help=text.replace("%", "%%"), **kwargs)


def defaults(cls: type) -> dict[str, Any]:
    return {name: s.default for name, s in specs(cls).items()}
