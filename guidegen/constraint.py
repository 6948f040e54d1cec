"""The contract between the token loop and a constraint engine.

A :class:`Constraint` is compiled once per (specification, vocabulary) and shared; it is immutable
and picklable. A :class:`ConstraintState` is one sequence's position inside it. The verbs follow
llguidance / vLLM's structured-output backends: fill a bitmask, consume a token, roll back.
"""

from __future__ import annotations

from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

import numpy as np

from .vocab import Vocabulary


@runtime_checkable
class ConstraintState(Protocol):
    """Per-sequence cursor of a compiled constraint.

    Every method is cheap enough for the decoding hot path; ``fill_mask`` may be memoized per
    automaton state by the implementation.
    """

    def fill_mask(self, bitmask_row: np.ndarray) -> None:
        """Write the allowed next tokens into ``bitmask_row`` (``int32[ceil(V/32)]``, bit set = allowed).

        End-of-sequence tokens are allowed exactly when the state is accepting.
        """

    def advance(self, token_id: int) -> bool:
        """Consume one token. Returns False, leaving the state unchanged, if the token is not allowed."""

    def rollback(self, n_tokens: int) -> None:
        """Undo the last ``n_tokens`` successful :meth:`advance` calls."""

    def is_accepting(self) -> bool:
        """True when the text consumed so far is a complete match."""

    def is_finished(self) -> bool:
        """True when the text is complete and no further token can extend it."""

    def forced_bytes(self) -> bytes:
        """The bytes every continuation must start with (empty when the next byte is a choice)."""

    def fork(self) -> "ConstraintState":
        """An independent copy at the same position (for beams and speculative branches)."""


@runtime_checkable
class Constraint(Protocol):
    """A compiled constraint bound to one vocabulary."""

    vocab: Vocabulary

    def new_state(self) -> ConstraintState:
        """A fresh cursor at the start of the constrained text."""

    def parse(self, text: str) -> Any:
        """Turn a completed generation into its value (the parsed JSON, a model instance, the text)."""


class ConstraintCompiler(Protocol):
    """Turns one kind of specification into a :class:`Constraint`. Contributed by plugins.

    ``kind`` names the request field it serves (``"regex"``, ``"schema"``, ``"grammar"``...).
    """

    kind: str

    def compile(self, spec: Any, vocab: Vocabulary, **options: Any) -> Constraint:
        """Compile ``spec`` for ``vocab``; raise a :class:`~guidegen.errors.ConstraintError` on bad input."""


Entry = TypeVar("Entry")


class UndoLog(Generic[Entry]):
    """What a constraint state needs to undo tokens: a persistent stack of entries.

    Pushing is O(1); :meth:`fork` shares the whole log (O(1)), so beams and speculative branches cost
    nothing to create; rolling back ``n`` tokens walks ``n`` links (O(1) amortized per token).
    """

    __slots__ = ("_top", "_size")

    def __init__(self, top: Any = None, size: int = 0) -> None:
        self._top = top  # (link below, entry) or None
        self._size = size

    def push(self, entry: Entry) -> None:
        self._top = (self._top, entry)
        self._size += 1

    def pop(self, n: int) -> Entry:
        """Drop the last ``n`` entries (``n`` >= 1) and return the oldest of them."""
        if not 0 < n <= self._size:
            raise ValueError(f"cannot roll back {n} tokens: {self._size} were consumed")
        node = self._top
        for _ in range(n - 1):
            node = node[0]
        self._top = node[0]
        self._size -= n
        return node[1]

    def fork(self) -> "UndoLog[Entry]":
        return UndoLog(self._top, self._size)

    def __len__(self) -> int:
        return self._size
