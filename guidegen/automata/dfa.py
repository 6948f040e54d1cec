"""A byte-level deterministic finite automaton as plain numpy arrays.

The automaton reads UTF-8 bytes. State 0 is the start state. ``transitions[s, b]`` is the state
reached from ``s`` on byte ``b``, or -1 when the byte leads nowhere. The automata built by
:func:`guidegen.automata.regex.compile_regex` are minimal and *trimmed*: every state can still reach
an accepting state, so "the transition is not -1" means "the text can still be completed".
"""

from __future__ import annotations

import hashlib

import numpy as np


class DFA:
    """Dense byte DFA: ``transitions`` is ``int32[n_states, 256]`` (-1 = dead), ``accepting`` is ``bool[n_states]``.

    Instances are treated as immutable (the arrays are made read-only) and pickle as two arrays.
    """

    __slots__ = ("transitions", "accepting", "_fingerprint")

    def __init__(self, transitions: np.ndarray, accepting: np.ndarray) -> None:
        transitions = np.ascontiguousarray(transitions, dtype=np.int32)
        accepting = np.ascontiguousarray(accepting, dtype=np.bool_)
        if transitions.ndim != 2 or transitions.shape[1] != 256:
            raise ValueError(f"transitions must have shape (n_states, 256), got {transitions.shape}")
        n = transitions.shape[0]
        if n < 1:
            raise ValueError("a DFA needs at least one state (the start state 0)")
        if accepting.shape != (n,):
            raise ValueError(f"accepting must have shape ({n},), got {accepting.shape}")
        if transitions.size and (transitions.min() < -1 or transitions.max() >= n):
            raise ValueError("transitions reference a state that does not exist")
        transitions.setflags(write=False)
        accepting.setflags(write=False)
        self.transitions = transitions
        self.accepting = accepting
        self._fingerprint: str | None = None

    # pickling (slots) ---------------------------------------------------------------------------
    def __getstate__(self):
        return {"transitions": self.transitions, "accepting": self.accepting}

    def __setstate__(self, state) -> None:
        transitions = np.array(state["transitions"], dtype=np.int32, copy=True)
        accepting = np.array(state["accepting"], dtype=np.bool_, copy=True)
        transitions.setflags(write=False)
        accepting.setflags(write=False)
        self.transitions = transitions
        self.accepting = accepting
        self._fingerprint = None

    # queries ------------------------------------------------------------------------------------
    @property
    def n_states(self) -> int:
        return int(self.transitions.shape[0])

    def walk(self, state: int, data: bytes) -> int:
        """The state reached from ``state`` after reading ``data``, or -1 if the automaton dies."""
        t = self.transitions
        s = int(state)
        if s < 0:
            return -1
        for b in data:
            s = t.item(s, b)
            if s < 0:
                return -1
        return s

    def matches(self, data: bytes | str) -> bool:
        """True when the whole of ``data`` (UTF-8 if a str) is in the language."""
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogatepass")
        s = self.walk(0, data)
        return s >= 0 and bool(self.accepting[s])

    def live_bytes(self, state: int) -> np.ndarray:
        """The bytes that keep the automaton alive from ``state`` (uint8 array, ascending)."""
        return np.flatnonzero(self.transitions[state] >= 0).astype(np.uint8)

    @property
    def fingerprint(self) -> str:
        """A stable hash of the automaton (equal for identical tables)."""
        if self._fingerprint is None:
            h = hashlib.sha256()
            h.update(b"guidegen-dfa-v1")
            h.update(self.n_states.to_bytes(8, "little"))
            h.update(self.transitions.astype("<i4", copy=False).tobytes())
            h.update(self.accepting.astype(np.uint8).tobytes())
            self._fingerprint = h.hexdigest()[:32]
        return self._fingerprint

    def __repr__(self) -> str:
        return f"DFA(n_states={self.n_states}, n_accepting={int(self.accepting.sum())})"


NO_TEXT = DFA(np.full((1, 256), -1, dtype=np.int32), np.zeros(1, dtype=np.bool_))
"""The automaton of no text at all (a grammar rule that derives nothing)."""
EMPTY_TEXT = DFA(np.full((1, 256), -1, dtype=np.int32), np.ones(1, dtype=np.bool_))
"""The automaton of the empty text only."""
