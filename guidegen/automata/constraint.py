"""A DFA bound to a vocabulary: the :class:`~guidegen.constraint.Constraint` behind ``regex=...``.

Masks are computed lazily, once per DFA state, by the Numba trie walk in :mod:`.kernels` (over
the vocabulary's packed trie, or over a slice's rest trie when the state contains a whole token
slice: see :mod:`.slices`), and memoized as plain ``int32`` rows, so a constraint pickles and
repeat states cost a copy.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..cache import write_later
from ..constraint import UndoableCursor
from ..errors import ConstraintError, RegexError
from ..masks import set_bits
from ..vocab import Vocabulary
from . import kernels
from .dfa import DFA
from .regex import DEFAULT_MAX_STATES, compile_regex
from .slices import VocabIndex, vocab_index

__all__ = [
    "DFAConstraint",
    "DFAConstraintState",
    "RegexCompiler",
    "cached_compile_regex",
    "clear_memory_cache",
    "index_cache_dir",
]

# Masks kept per constraint; past this the oldest are dropped (a row is ceil(V/32)*4 bytes: 19 KiB
# for a 151k vocabulary).
DEFAULT_MAX_MEMO = 8192


class DFAConstraint:
    """A byte-level :class:`DFA` applied to a :class:`~guidegen.vocab.Vocabulary`.

    A token is allowed in a state when all of its bytes keep the DFA alive (the DFA is trimmed, so
    alive means "can still be completed"). Special tokens (``token_bytes[i] is None``) are never
    allowed, except the end-of-sequence ids in an accepting state.
    """

    def __init__(
        self,
        dfa: DFA,
        vocab: Vocabulary,
        parse: Callable[[str], Any] | None = None,
        *,
        max_memo: int = DEFAULT_MAX_MEMO,
    ) -> None:
        self.dfa = dfa
        self.vocab = vocab
        self._parse = parse
        self.max_memo = int(max_memo)
        self._masks: dict[int, np.ndarray] = {}
        self._setup()

    def _setup(self) -> None:
        t = self.dfa.transitions
        live = t >= 0
        self._n_live = live.sum(axis=1).astype(np.int32)
        # the one live byte of states with exactly one (else -1): what forced_bytes follows
        only = np.where(self._n_live == 1, np.argmax(live, axis=1), -1)
        self._only_byte = only.astype(np.int32)
        self._eos = frozenset(self.vocab.eos_token_ids)
        # the vocabulary's packed trie and slices: shared per vocabulary, fetched on the first mask
        self._index: VocabIndex | None = None
        # which slice (index into the VocabIndex's slices; -1: none) each memoized mask used
        self._slice_of: dict[int, int] = {}
        self._lock = threading.Lock()

    # pickling: the memo travels along (plain arrays); derived tables are rebuilt
    def __getstate__(self) -> dict[str, Any]:
        return {
            "dfa": self.dfa,
            "vocab": self.vocab,
            "parse": self._parse,
            "max_memo": self.max_memo,
            "masks": dict(self._masks),
            "slice_of": dict(self._slice_of),
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.dfa = state["dfa"]
        self.vocab = state["vocab"]
        self._parse = state["parse"]
        self.max_memo = state["max_memo"]
        self._masks = dict(state["masks"])
        self._setup()
        self._slice_of = dict(state.get("slice_of", {}))

    # Constraint protocol ---------------------------------------------------------------------------
    def new_state(self) -> "DFAConstraintState":
        return DFAConstraintState(self)

    def parse(self, text: str) -> Any:
        return self._parse(text) if self._parse is not None else text

    # masks ------------------------------------------------------------------------------------------
    def mask_for_state(self, state: int) -> np.ndarray:
        """The (memoized, read-only) mask row of DFA state ``state``, EOS bits included."""
        row = self._masks.get(state)
        if row is None:
            row, which = self._compute_mask(state)
            if self.dfa.accepting[state]:
                set_bits(row, self._eos)
            row.setflags(write=False)
            with self._lock:
                if len(self._masks) >= self.max_memo:
                    old = next(iter(self._masks))
                    self._masks.pop(old)
                    self._slice_of.pop(old, None)
                self._masks[state] = row
                self._slice_of[state] = which
        return row

    def _compute_mask(self, state: int) -> tuple[np.ndarray, int]:
        """(a fresh row without EOS bits, the slice used or -1). A state whose language contains
        a slice's whole language gets the slice's bits plus a walk over the tokens outside it;
        any other state, the walk over the whole trie. Both give exactly the tokens whose bytes
        keep the DFA alive."""
        idx = self._index
        if idx is None:
            idx = self._index = vocab_index(self.vocab)
        row = np.empty(self.vocab.bitmask_width, dtype=np.int32)
        s = np.int64(state)
        if not idx.packed:  # a vocabulary past the packed limits
            kernels.fill_dfa_mask(self.dfa.transitions, self.dfa.accepting, s, *idx.unpacked,
                                  np.int64(idx.max_token_len), row)
            return row, -1
        which = kernels.fill_mask_sliced(self.dfa.transitions, s, *idx.sliced_args(), row)
        return row, int(which)

    def slice_of(self, state: int) -> str | None:
        """The name of the slice the memoized mask of ``state`` was built from (None: a full walk,
        or no mask memoized)."""
        k = self._slice_of.get(state, -1)
        if k < 0:
            return None
        if self._index is None:
            self._index = vocab_index(self.vocab)
        return self._index.slices[k].name

    def walk_token(self, state: int, token_id: int) -> int:
        """DFA state after token ``token_id`` from ``state``; -1 if not allowed (special tokens included)."""
        tb = self.vocab.token_bytes
        if not 0 <= token_id < len(tb):
            return -1
        b = tb[token_id]
        if not b:
            return -1
        t = self.dfa.transitions
        s = state
        for byte in b:
            s = t.item(s, byte)
            if s < 0:
                return -1
        return s

    @property
    def n_memoized(self) -> int:
        return len(self._masks)

    def __repr__(self) -> str:
        return f"DFAConstraint({self.dfa!r}, vocab size {self.vocab.size})"


class DFAConstraintState(UndoableCursor):
    """One sequence's position in a :class:`DFAConstraint`: a DFA state (``position``, also ``state``)."""

    __slots__ = ("constraint",)

    def __init__(self, constraint: DFAConstraint, state: int = 0, finished: bool = False) -> None:
        super().__init__(state, finished)
        self.constraint = constraint

    @property
    def state(self) -> int:
        return self.position

    def _eos_ids(self) -> frozenset[int]:
        return self.constraint._eos

    def _can_end(self) -> bool:
        return bool(self.constraint.dfa.accepting[self.position])

    def _step(self, token_id: int) -> int | None:
        nxt = self.constraint.walk_token(self.position, token_id)
        return None if nxt < 0 else nxt

    # ConstraintState protocol ---------------------------------------------------------------------
    def fill_mask(self, bitmask_row: np.ndarray) -> None:
        c = self.constraint
        width = c.vocab.bitmask_width
        if bitmask_row.shape != (width,) or bitmask_row.dtype not in (np.int32, np.uint32):
            raise ValueError(
                f"bitmask row must be int32[{width}], got {bitmask_row.dtype}{list(bitmask_row.shape)}"
            )
        if self.finished:
            bitmask_row[...] = 0
            set_bits(bitmask_row.view(np.int32), c._eos)
            return
        np.copyto(bitmask_row.view(np.int32), c.mask_for_state(self.position))

    def is_finished(self) -> bool:
        if self.finished:
            return True
        c = self.constraint
        return bool(c.dfa.accepting[self.position]) and c._n_live[self.position] == 0

    def forced_bytes(self) -> bytes:
        if self.finished:
            return b""
        c = self.constraint
        out = bytearray()
        s = self.position
        accepting, only, t = c.dfa.accepting, c._only_byte, c.dfa.transitions
        for _ in range(c.dfa.n_states):  # a trimmed DFA cannot loop here, but stay bounded
            if accepting[s] or only[s] < 0:
                break
            b = int(only[s])
            out.append(b)
            s = t.item(s, b)
        return bytes(out)

    def __repr__(self) -> str:
        return f"DFAConstraintState(state={self.position}, finished={self.finished}, consumed={self.n_consumed})"


# --------------------------------------------------------------------------------------------------
# compiling with caches


_MEMORY_CACHE_SIZE = 256
_memory_cache: "OrderedDict[tuple[str, int, int, bool], DFA]" = OrderedDict()
_memory_lock = threading.Lock()


def _memory_get(key: tuple[str, int, int, bool]) -> DFA | None:
    with _memory_lock:
        dfa = _memory_cache.get(key)
        if dfa is not None:
            _memory_cache.move_to_end(key)
        return dfa


def _memory_put(key: tuple[str, int, int, bool], dfa: DFA) -> None:
    with _memory_lock:
        _memory_cache[key] = dfa
        _memory_cache.move_to_end(key)
        while len(_memory_cache) > _MEMORY_CACHE_SIZE:
            _memory_cache.popitem(last=False)


def clear_memory_cache() -> None:
    """Forget the DFAs compiled in this process (the disk cache is left alone)."""
    with _memory_lock:
        _memory_cache.clear()


def index_cache_dir() -> Path:
    """``$GUIDEGEN_CACHE/index`` when that variable is set, else ``~/.cache/guidegen/index``."""
    root = os.environ.get("GUIDEGEN_CACHE")
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "guidegen"
    return base / "index"


_CACHE_FORMAT = 2  # 2: call markers' second byte below MARKER_BYTE

DISK_WORTH_S = 0.002
"""A regex that compiles faster than this is not written to the disk cache: reading the file back
costs a good part of that, and the background writer competes with the compiles that follow
(it made the time to first mask of a typical schema ~15% longer)."""


def _cache_path(pattern: str, flags: int, vocab_fingerprint: str, call_markers: bool) -> Path:
    kind = "rule" if call_markers else "regex"
    key = hashlib.sha256(f"guidegen-{kind}-v{_CACHE_FORMAT}\0{flags}\0{pattern}".encode("utf-8", "surrogatepass"))
    return index_cache_dir() / f"{kind}-{key.hexdigest()[:32]}-{vocab_fingerprint[:32]}.pkl"


def _load_cached(path: Path, pattern: str, flags: int, vocab_fingerprint: str) -> DFA | None:
    try:
        with open(path, "rb") as f:
            entry = pickle.load(f)
        if (
            isinstance(entry, dict)
            and entry.get("format") == _CACHE_FORMAT
            and entry.get("pattern") == pattern
            and entry.get("flags") == flags
            and entry.get("vocab") == vocab_fingerprint
            and isinstance(entry.get("dfa"), DFA)
        ):
            return entry["dfa"]
    except FileNotFoundError:
        return None
    except Exception:  # corrupt or foreign file: rebuild and overwrite
        return None
    return None


def _store_cached(path: Path, pattern: str, flags: int, vocab_fingerprint: str, dfa: DFA) -> None:
    entry = {"format": _CACHE_FORMAT, "pattern": pattern, "flags": flags, "vocab": vocab_fingerprint, "dfa": dfa}
    write_later(path, lambda f: pickle.dump(entry, f, protocol=pickle.HIGHEST_PROTOCOL), binary=True)


def cached_compile_regex(
    pattern: str,
    flags: int = 0,
    *,
    vocab_fingerprint: str = "",
    max_states: int = DEFAULT_MAX_STATES,
    disk_cache: bool = True,
    call_markers: bool = False,
) -> DFA:
    """:func:`compile_regex` behind an in-process LRU and, with ``disk_cache``, the on-disk index
    (``index_cache_dir()``, one pickle per pattern, flags and vocabulary fingerprint, for the regexes
    that took at least :data:`DISK_WORTH_S` to compile)."""
    key = (pattern, int(flags), int(max_states), call_markers)
    dfa = _memory_get(key)
    if dfa is not None:
        return dfa
    path = _cache_path(pattern, flags, vocab_fingerprint, call_markers) if disk_cache else None
    if path is not None:
        dfa = _load_cached(path, pattern, flags, vocab_fingerprint)
    if dfa is None:
        started = time.perf_counter()
        dfa = compile_regex(pattern, flags, max_states=max_states, call_markers=call_markers)
        if path is not None and time.perf_counter() - started >= DISK_WORTH_S:
            _store_cached(path, pattern, flags, vocab_fingerprint, dfa)
    _memory_put(key, dfa)
    return dfa


class RegexCompiler:
    """``regex=...`` requests: a Python regular expression the whole generated text must match.

    Options: ``flags`` (:mod:`re` flags), ``max_states`` (DFA size limit), ``disk_cache`` (bool).
    :meth:`DFAConstraint.parse` returns the text unchanged.
    """

    kind = "regex"
    _OPTIONS = frozenset({"flags", "max_states", "disk_cache"})

    def compile(self, spec: Any, vocab: Vocabulary, **options: Any) -> DFAConstraint:
        unknown = set(options) - self._OPTIONS
        if unknown:
            raise ConstraintError(
                f"unknown regex option(s) {sorted(unknown)}; supported: {sorted(self._OPTIONS)}"
            )
        if isinstance(spec, re.Pattern):
            if isinstance(spec.pattern, bytes):
                raise RegexError("bytes patterns are not supported: pass a str regex")
            flags = int(options.get("flags", 0)) | (spec.flags & ~re.UNICODE)
            spec = spec.pattern
        else:
            flags = int(options.get("flags", 0))
        if not isinstance(spec, str):
            raise RegexError(f"a regex constraint needs a str pattern, got {type(spec).__name__}")
        dfa = cached_compile_regex(
            spec,
            flags,
            vocab_fingerprint=vocab.fingerprint,
            max_states=int(options.get("max_states", DEFAULT_MAX_STATES)),
            disk_cache=bool(options.get("disk_cache", True)),
        )
        return DFAConstraint(dfa, vocab, parse=None)
