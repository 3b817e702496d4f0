"""Values as error messages show them: short, whatever they are.

A message that echoes a bad argument must not become the problem itself: a
million-character string, a list nested 2,000 deep (whose `repr` raises
`RecursionError`) or an int of 5,000 digits (whose `repr` raises `ValueError`) are
shown cut, and what looks like a key is redacted.
"""

from __future__ import annotations

import reprlib

__all__ = ["shown"]


class _Short(reprlib.Repr):
    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 4
        self.maxstring = 100
        self.maxother = 100
        self.maxlist = self.maxtuple = self.maxset = self.maxfrozenset = 20
        self.maxdict = 10
        self.maxlong = 40

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 128:  # repr() of a 4,300-digit int raises ValueError
            return f"<an int of {x.bit_length()} bits>"
        return super().repr_int(x, level)

    def repr_instance(self, x: object, level: int) -> str:
        try:
            text = repr(x)
        except Exception:  # a repr that fails: say what it was
            return f"<{type(x).__name__}>"
        return text if len(text) <= self.maxother else text[: self.maxother - 3] + "..."


_SHORT = _Short()


def shown(value: object, limit: int = 200) -> str:
    """`repr(value)`, cut to `limit` characters and a few levels deep, keys redacted."""
    from pytest_trigger_batches.ids import redact

    try:
        text = _SHORT.repr(value)
    except (RecursionError, ValueError):
        text = f"<{type(value).__name__}>"
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return redact(text)
