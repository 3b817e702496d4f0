"""Values as error messages show them: short, whatever they are.

A message that echoes a bad argument must not become the problem itself: a
million-character string, a list nested 2,000 deep (whose `repr` raises
`RecursionError`) or an int of 5,000 digits (whose `repr` raises `ValueError`) are
shown cut, and keys are redacted before anything is cut (a key cut in half is no
longer a key `redact` recognises by its form).
"""

from __future__ import annotations

import reprlib

from pytest_trigger_batches.redact import redact

__all__ = ["shown"]

_MARGIN = 1000  # of a long text, what is redacted at each end before it is cut


class _Short(reprlib.Repr):
    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 4
        self.maxstring = 100
        self.maxother = 100
        self.maxlist = self.maxtuple = self.maxset = self.maxfrozenset = 20
        self.maxdict = 10
        self.maxlong = 40

    def repr_str(self, x: str, level: int) -> str:
        if len(x) > 2 * _MARGIN:  # only its ends are shown: redact those, not a megabyte
            x = x[:_MARGIN] + x[-_MARGIN:]
        return super().repr_str(redact(x), level)

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 128:  # repr() of a 4,300-digit int raises ValueError
            return f"<an int of {x.bit_length()} bits>"
        return super().repr_int(x, level)

    def repr_instance(self, x: object, level: int) -> str:
        try:
            text = redact(repr(x)[: 2 * _MARGIN])
        except Exception:  # a repr that fails: say what it was
            return f"<{type(x).__name__}>"
        return text if len(text) <= self.maxother else text[: self.maxother - 3] + "..."


_SHORT = _Short()


def shown(value: object, limit: int = 200) -> str:
    """`repr(value)`, keys redacted, cut to `limit` characters and a few levels deep."""
    try:
        text = redact(_SHORT.repr(value))
    except (RecursionError, ValueError):
        text = f"<{type(value).__name__}>"
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text
