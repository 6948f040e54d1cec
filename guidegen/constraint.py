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


class UndoableCursor:
    """The bookkeeping every engine's cursor shares: a position (the engine's own: a DFA state, a
    set of stacks...), a finished flag, an :class:`UndoLog`, and the EOS, rollback and fork rules.

    Subclasses give the position's meaning: :meth:`_eos_ids`, :meth:`_can_end` and :meth:`_step`.
    """

    __slots__ = ("position", "finished", "_history")

    def __init__(self, position: Any, finished: bool = False) -> None:
        self.position = position
        self.finished = finished
        self._history: UndoLog[tuple[Any, bool]] = UndoLog()

    def _eos_ids(self) -> frozenset[int]:  # pragma: no cover - interface
        raise NotImplementedError

    def _can_end(self) -> bool:  # pragma: no cover - interface
        """The text may end at the current position."""
        raise NotImplementedError

    def _step(self, token_id: int) -> Any:  # pragma: no cover - interface
        """The position after a (non-EOS) token, or None when the token is not allowed."""
        raise NotImplementedError

    def advance(self, token_id: int) -> bool:
        token_id = int(token_id)
        if token_id in self._eos_ids():
            if not (self.finished or self._can_end()):
                return False
            self._history.push((self.position, self.finished))
            self.finished = True
            return True
        if self.finished:
            return False
        nxt = self._step(token_id)
        if nxt is None:
            return False
        self._history.push((self.position, self.finished))
        self.position = nxt
        return True

    def rollback(self, n_tokens: int) -> None:
        n = int(n_tokens)
        if n < 0:
            raise ValueError(f"cannot roll back {n} tokens")
        if n:
            self.position, self.finished = self._history.pop(n)

    def is_accepting(self) -> bool:
        return self.finished or self._can_end()

    def fork(self) -> Any:
        other = object.__new__(type(self))
        for cls in type(self).__mro__:
            for slot in getattr(cls, "__slots__", ()):
                object.__setattr__(other, slot, getattr(self, slot))
        other._history = self._history.fork()
        return other

    @property
    def n_consumed(self) -> int:
        """Tokens consumed so far (the depth of the undo log)."""
        return len(self._history)
