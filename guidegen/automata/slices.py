"""Per-vocabulary tables behind the mask kernels: the packed token trie and the token *slices*.

A slice is the set of tokens whose bytes a small automaton can read (for instance every token made
only of unescaped JSON string characters). For a DFA state from which *every*
string that automaton reads keeps the DFA alive (:func:`~.kernels.slice_contained`, an exact product
exploration), the whole slice is allowed at once: the state's mask is the slice's precomputed
bitmask OR the trie walk over the tokens *outside* the slice (its "rest" trie), which is a small
fraction of the vocabulary. Inside long JSON strings, where nearly every token is allowed and a
full walk visits the whole trie, this is what makes a state's first mask cheap (llguidance calls
the idea "the slicer"; this is a separate implementation).

Everything here is plain numpy, built lazily once per vocabulary fingerprint and kept in a small
in-process cache (:func:`vocab_index`); a :class:`VocabIndex` pickles.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..vocab import TokenTrie, Vocabulary
from . import kernels

__all__ = [
    "DEFAULT_SLICES",
    "SliceSpec",
    "TokenSlice",
    "VocabIndex",
    "build_vocab_index",
    "clear_vocab_index_cache",
    "vocab_index",
]


@dataclass(frozen=True)
class SliceSpec:
    """A slice's language: every string of code points from ``chars`` (inclusive code point
    ranges; surrogates never count), at most ``max_chars`` of them (None: any number), UTF-8
    encoded, and every prefix of one (so a token may end inside a character)."""

    name: str
    chars: tuple[tuple[int, int], ...]
    max_chars: int | None = None


_MAX_CP = 0x10FFFF
_SURROGATES = (0xD800, 0xDFFF)


def _minus(ranges, lo: int, hi: int) -> tuple[tuple[int, int], ...]:
    out = []
    for a, b in ranges:
        if b < lo or a > hi:
            out.append((a, b))
            continue
        if a < lo:
            out.append((a, lo - 1))
        if b > hi:
            out.append((hi + 1, b))
    return tuple(out)


# JSON string content written without escapes: any character but '"', '\\' and U+0000..U+001F.
JSON_STRING_CHARS: tuple[tuple[int, int], ...] = ((0x20, 0x21), (0x23, 0x5B), (0x5D, _MAX_CP))
# The part of it that a JSON Schema ``pattern``'s ``.`` also matches: ECMAScript patterns match
# UTF-16 units (so the Basic Multilingual Plane only) and ``.`` excludes the line terminators
# U+2028 and U+2029. Such states and plain ``"type": "string"`` states both contain this slice.
JSON_STRING_DOT_CHARS: tuple[tuple[int, int], ...] = _minus(
    ((0x20, 0x21), (0x23, 0x5B), (0x5D, 0xFFFF)), 0x2028, 0x2029
)
ALNUM_CHARS: tuple[tuple[int, int], ...] = ((0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A))
LOWER_DIGIT_CHARS: tuple[tuple[int, int], ...] = ((0x30, 0x39), (0x61, 0x7A))

# Tried in order; the first one contained in a state's language is used. A slice that does not fit
# a state is usually refused on its first byte, so a miss costs well under a microsecond.
# - "json_string": JSON string content (the characters above), any length: ~96% of a 128k
#   vocabulary. Its automaton is the 7-state UTF-8 automaton of one character, looped, so the
#   check is cheap; it fits every state inside a string without length limit.
# - "json_string_16": the same, at most 16 characters: it also fits ``maxLength`` strings while
#   16 characters or more remain (the check visits up to ~7k transitions).
# - "alnum", "lower_digit": ASCII letters and digits (any length), for ``pattern``/``format`` states
#   (identifiers, hostnames, e-mail addresses, base64...) where a third of the vocabulary or so
#   is allowed. The rest tries are large, but the walk over them only visits the live prefixes
#   of tokens that mix these characters with others.
DEFAULT_SLICES: tuple[SliceSpec, ...] = (
    SliceSpec("json_string", JSON_STRING_DOT_CHARS, None),
    SliceSpec("json_string_16", JSON_STRING_DOT_CHARS, 16),
    SliceSpec("alnum", ALNUM_CHARS, None),
    SliceSpec("lower_digit", LOWER_DIGIT_CHARS, None),
)


def slice_automaton(spec: SliceSpec) -> np.ndarray:
    """int32[n, 256] transitions (-1 = dead, start state 0) of the prefix-closed language of
    ``spec``: UTF-8 (no surrogates, no overlong forms) strings of at most ``max_chars`` characters
    of ``spec.chars``, and their prefixes (so every state accepts; a state may have no edge)."""
    chars = _minus(tuple(sorted(spec.chars)), *_SURROGATES)

    def restrict(lo: int, hi: int, base: int) -> tuple[tuple[int, int], ...]:
        # the code points of chars within [lo, hi], as offsets from base
        out = []
        for a, b in chars:
            a, b = max(a, lo), min(b, hi)
            if a <= b:
                out.append((a - base, b - base))
        return tuple(out)

    # one character: states keyed ("start",) or (bytes still to read, allowed offset ranges);
    # an edge to None ends the character
    char_edges: dict[tuple, list[tuple[int, tuple | None]]] = {}
    todo: list[tuple] = [("start",)]
    while todo:
        key = todo.pop()
        if key in char_edges:
            continue
        edges: list[tuple[int, tuple | None]] = []
        if key == ("start",):
            for b in range(256):
                if b < 0x80:
                    nxt, rem = (restrict(b, b, b), 0)
                elif 0xC2 <= b <= 0xDF:
                    base = (b & 0x1F) << 6
                    nxt, rem = restrict(base, base + 63, base), 1
                elif 0xE0 <= b <= 0xEF:
                    base = (b & 0x0F) << 12
                    nxt, rem = restrict(max(base, 0x800), base + 4095, base), 2
                elif 0xF0 <= b <= 0xF4:
                    base = (b & 0x07) << 18
                    nxt, rem = restrict(max(base, 0x10000), min(base + (1 << 18) - 1, _MAX_CP), base), 3
                else:
                    continue
                if nxt:
                    edges.append((b, None if rem == 0 else (rem, nxt)))
        else:
            rem, ranges = key
            span = 1 << (6 * (rem - 1))
            for c in range(64):
                lo, hi = c * span, (c + 1) * span - 1
                sub = tuple((max(a, lo) - lo, min(b, hi) - lo) for a, b in ranges if a <= hi and b >= lo)
                if sub:
                    edges.append((0x80 | c, None if rem == 1 else (rem - 1, sub)))
        char_edges[key] = edges
        todo.extend(k for _, k in edges if k is not None and k not in char_edges)

    # max_chars copies: state (k, char state) with k characters done; unbounded: k stays 0
    limit = spec.max_chars
    ids: dict[tuple, int] = {(0, ("start",)): 0}
    order = [(0, ("start",))]
    rows: list[list[tuple[int, int]]] = []
    head = 0
    while head < len(order):
        k, key = order[head]
        head += 1
        row = []
        if limit is None or k < limit:
            for b, nxt in char_edges[key]:
                done = k + 1 if limit is not None else 0
                target = (done, ("start",)) if nxt is None else (k, nxt)
                if target not in ids:
                    ids[target] = len(order)
                    order.append(target)
                row.append((b, ids[target]))
        rows.append(row)
    table = np.full((len(order), 256), -1, dtype=np.int32)
    for i, row in enumerate(rows):
        for b, t in row:
            table[i, b] = t
    return table


def _readonly(a: np.ndarray, dtype) -> np.ndarray:
    v = np.ascontiguousarray(a, dtype=dtype).view()
    v.setflags(write=False)
    return v


def _pack(trie: TokenTrie, sink: int) -> tuple[np.ndarray, int] | None:
    """(int64 packed nodes, depth) of one trie, or None past the packed limits."""
    ids = trie.token_ids
    if (
        int(trie.node_byte.shape[0]) >= kernels.PACKED_MAX_NODES
        or sink > kernels.PACKED_MAX_SINK
        or (ids.size and int(ids.max()) >= sink)
    ):
        return None
    nodes, depth = kernels.pack_trie(
        _readonly(trie.node_byte, np.uint8), _readonly(trie.subtree_end, np.int32),
        _readonly(trie.token_start, np.int32), _readonly(trie.token_end, np.int32),
        _readonly(ids, np.int32), np.int64(sink),
    )
    return (nodes, int(depth)) if depth >= 0 else None


@dataclass(frozen=True, eq=False)
class TokenSlice:
    """One slice of one vocabulary (what it is and how big; the arrays live in the VocabIndex)."""

    name: str
    spec: SliceSpec
    index: int  # position among the VocabIndex's slices
    n_states: int  # of its automaton
    n_tokens: int  # tokens in the slice
    n_rest_tokens: int  # non-special tokens outside it
    n_rest_nodes: int  # nodes of the rest trie


@dataclass(frozen=True, eq=False)
class VocabIndex:
    """What the mask kernels need about one vocabulary: its packed tries (every token, then the
    tokens outside each slice), its slice automata and slice bitmasks, as the arguments of
    :func:`~.kernels.fill_mask_sliced`. Plain numpy, read-only."""

    fingerprint: str
    packed: bool  # False: past the packed limits; masks use the unpacked walk and no slice
    unpacked: tuple  # the TokenTrie's arrays, read-only, for kernels.fill_dfa_mask
    max_token_len: int
    slices: tuple[TokenSlice, ...]
    slice_start: np.ndarray  # int64[n_slices]: start state of each slice automaton
    slice_max_pairs: np.ndarray  # int64[n_slices]: containment check budgets
    edge_off: np.ndarray  # int32[n_slice_states + 1]: every slice automaton, CSR
    edge_byte: np.ndarray  # int32[n_edges]
    edge_next: np.ndarray  # int32[n_edges]
    slice_masks: np.ndarray  # int32[n_slices, bitmask_width]
    trie_bounds: np.ndarray  # int64[n_slices + 2]: trie 0 = all tokens, trie k + 1 = outside slice k
    nodes: np.ndarray  # int64[...]: the packed tries, one after the other
    multi_nodes: np.ndarray  # int64[m]: nodes where several ids end (sorted, absolute)
    multi_off: np.ndarray  # int64[m + 1]
    multi_ids: np.ndarray  # int32[...]
    max_depth: np.int64

    def sliced_args(self) -> tuple:
        """:func:`~.kernels.fill_mask_sliced`'s arguments between ``state`` and ``out_row``."""
        return (
            self.slice_start, self.slice_max_pairs, self.edge_off, self.edge_byte, self.edge_next,
            self.slice_masks, self.trie_bounds, self.nodes, self.multi_nodes, self.multi_off,
            self.multi_ids, self.max_depth,
        )

    def trie_args(self, trie: int) -> tuple:
        """:func:`~.kernels.fill_mask_packed`'s arguments between ``state`` and ``out_row`` for
        trie ``trie`` (0: every token; ``k + 1``: the tokens outside slice ``k``)."""
        return (
            self.nodes, self.trie_bounds[trie], self.trie_bounds[trie + 1], self.multi_nodes,
            self.multi_off, self.multi_ids, self.max_depth,
        )

    def first_contained(self, transitions: np.ndarray, states: np.ndarray) -> int:
        """The first slice every token of which keeps ``transitions`` alive from one of ``states``
        (int64), or -1 (see :meth:`contained`)."""
        return int(kernels.first_contained_slice(transitions, states, self.slice_start, self.edge_off,
                                                 self.edge_byte, self.edge_next, self.slice_max_pairs))

    def contained(self, transitions: np.ndarray, state: int, k: int) -> bool:
        """Every token of slice ``k`` keeps ``transitions`` alive from ``state`` (see
        :func:`~.kernels.slice_contained`; False may also mean "too large to tell")."""
        return bool(kernels.slice_contained(
            transitions, np.int64(state), self.slice_start[k], self.edge_off, self.edge_byte,
            self.edge_next, self.slice_max_pairs[k],
        ))


def _token_stream(token_bytes: Sequence[bytes | None]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(concatenated bytes uint8, offsets int64[V + 1], has_bytes bool[V])."""
    lengths = np.fromiter((len(b) if b else 0 for b in token_bytes), dtype=np.int64, count=len(token_bytes))
    offsets = np.zeros(len(token_bytes) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    data = np.frombuffer(b"".join(b for b in token_bytes if b), dtype=np.uint8)
    return data, offsets, lengths > 0


def subtrie(trie: TokenTrie, keep: np.ndarray) -> TokenTrie:
    """The trie of the tokens ``t`` of ``trie`` with ``keep[t]`` (bool over token ids): the nodes
    on their paths, in the same preorder. Equal to ``build_trie`` of those tokens, built with
    array operations instead of a sort."""
    n = int(trie.node_byte.shape[0])
    start = trie.token_start.astype(np.int64)
    end = trie.token_end.astype(np.int64)
    ids = trie.token_ids
    kept_tok = keep[ids] if ids.size else np.zeros(0, dtype=bool)
    kept_before = np.zeros(ids.shape[0] + 1, dtype=np.int64)
    np.cumsum(kept_tok, out=kept_before[1:])
    own = kept_before[end] - kept_before[start]  # kept tokens ending at each node
    has = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(own > 0, out=has[1:])
    sub_end = trie.subtree_end.astype(np.int64)
    need = (has[sub_end] - has[np.arange(n)]) > 0  # a kept token in the subtree
    need[0] = True
    before = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(need, out=before[1:])  # new index of node i is before[i] (when needed)
    sel = np.flatnonzero(need)
    new_end = before[sub_end[sel]]
    counts = own[sel]
    new_tok_end = np.cumsum(counts)
    new_tok_start = new_tok_end - counts
    return TokenTrie(
        node_byte=trie.node_byte[sel].astype(np.uint8),
        subtree_end=new_end.astype(np.int32),
        token_start=new_tok_start.astype(np.int32),
        token_end=new_tok_end.astype(np.int32),
        token_ids=ids[kept_tok].astype(np.int32),
    )


def _bits(ids: np.ndarray, width: int) -> np.ndarray:
    allowed = np.zeros(width * 32, dtype=bool)
    allowed[ids] = True
    return np.packbits(allowed, bitorder="little").view("<i4").astype(np.int32)


# An unbounded slice fits a state when the product closes on a few pairs; one that keeps finding
# new pairs is walking down a length-limited DFA (a ``maxLength`` string) that it cannot fit, so
# its budget is small: UNBOUNDED_PAIRS_PER_STATE pairs per slice state.
UNBOUNDED_PAIRS_PER_STATE = 16


def _max_pairs(spec: SliceSpec, n_states: int) -> int:
    if spec.max_chars is None:
        return max(64, UNBOUNDED_PAIRS_PER_STATE * n_states)
    return kernels.SLICE_MAX_PAIRS


def build_vocab_index(vocab: Vocabulary, slices: Sequence[SliceSpec] = DEFAULT_SLICES) -> VocabIndex:
    """Build (uncached) the :class:`VocabIndex` of ``vocab`` with the given slices."""
    trie = vocab.trie
    unpacked = (
        _readonly(trie.node_byte, np.uint8),
        _readonly(trie.subtree_end, np.int32),
        _readonly(trie.token_start, np.int32),
        _readonly(trie.token_end, np.int32),
        _readonly(trie.token_ids, np.int32),
    )
    data, offsets, has_bytes = _token_stream(vocab.token_bytes)
    max_len = int(np.diff(offsets).max(initial=0))
    width = vocab.bitmask_width
    tries: list[TokenTrie] = [trie]
    packed_tries: list[tuple[np.ndarray, int]] = []
    sink = 32 * width
    full = _pack(trie, sink)
    built: list[TokenSlice] = []
    tables: list[np.ndarray] = []
    masks: list[np.ndarray] = []
    budgets: list[int] = []
    if full is not None:
        packed_tries.append(full)
        for spec in slices:
            table = slice_automaton(spec)
            ends = kernels.walk_many(_readonly(table, np.int32), np.int64(0), data, offsets)
            member = has_bytes & (ends >= 0)
            rest = subtrie(trie, ~member)
            packed = _pack(rest, sink)
            if packed is None:
                continue
            built.append(TokenSlice(
                name=spec.name, spec=spec, index=len(built), n_states=int(table.shape[0]),
                n_tokens=int(member.sum()), n_rest_tokens=int(rest.token_ids.shape[0]),
                n_rest_nodes=int(rest.node_byte.shape[0]),
            ))
            tries.append(rest)
            packed_tries.append(packed)
            tables.append(table)
            masks.append(_bits(np.flatnonzero(member), width))
            budgets.append(_max_pairs(spec, table.shape[0]))

    # slice automata, renumbered into one CSR
    starts, offs, bytes_, nexts = [], [np.zeros(1, dtype=np.int64)], [], []
    base = 0
    n_edges = 0
    for table in tables:
        live = table >= 0
        counts = live.sum(axis=1)
        src, byte = np.nonzero(live)  # row-major: grouped by state, ascending bytes
        starts.append(base)
        offs.append(n_edges + np.cumsum(counts))
        bytes_.append(byte)
        nexts.append(table[src, byte] + base)
        base += table.shape[0]
        n_edges += int(counts.sum())
    edge_off = np.concatenate(offs)
    edge_byte = np.concatenate(bytes_) if bytes_ else np.zeros(0, dtype=np.int32)
    edge_next = np.concatenate(nexts) if nexts else np.zeros(0, dtype=np.int32)

    # tries, one after the other; the side table of the nodes where several ids end
    sizes = [int(p[0].shape[0]) for p in packed_tries]
    bounds = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=bounds[1:])
    nodes = np.concatenate([p[0] for p in packed_tries]) if packed_tries else np.zeros(0, dtype=np.int64)
    multi_nodes: list[np.ndarray] = []
    multi_counts: list[np.ndarray] = []
    multi_ids: list[np.ndarray] = []
    for b, tr in zip(bounds[:-1].tolist(), tries[: len(packed_tries)]):
        counts = tr.token_end - tr.token_start
        where = np.flatnonzero(counts > 1)
        multi_nodes.append(where + b)
        multi_counts.append(counts[where])
        for i in where.tolist():
            multi_ids.append(tr.token_ids[tr.token_start[i]:tr.token_end[i]])
    m_nodes = np.concatenate(multi_nodes) if multi_nodes else np.zeros(0, dtype=np.int64)
    m_counts = np.concatenate(multi_counts) if multi_counts else np.zeros(0, dtype=np.int64)
    m_off = np.zeros(m_nodes.shape[0] + 1, dtype=np.int64)
    np.cumsum(m_counts, out=m_off[1:])
    m_ids = np.concatenate(multi_ids) if multi_ids else np.zeros(0, dtype=np.int32)

    return VocabIndex(
        fingerprint=vocab.fingerprint,
        packed=full is not None,
        unpacked=unpacked,
        max_token_len=max_len,
        slices=tuple(built),
        slice_start=_readonly(np.asarray(starts, dtype=np.int64), np.int64),
        slice_max_pairs=_readonly(np.asarray(budgets, dtype=np.int64), np.int64),
        edge_off=_readonly(edge_off, np.int32),
        edge_byte=_readonly(edge_byte, np.int32),
        edge_next=_readonly(edge_next, np.int32),
        slice_masks=_readonly(np.stack(masks) if masks else np.zeros((0, width), dtype=np.int32), np.int32),
        trie_bounds=_readonly(bounds, np.int64),
        nodes=_readonly(nodes, np.int64),
        multi_nodes=_readonly(m_nodes, np.int64),
        multi_off=_readonly(m_off, np.int64),
        multi_ids=_readonly(m_ids, np.int32),
        max_depth=np.int64(max([p[1] for p in packed_tries], default=0)),
    )


_CACHE_SIZE = 8
_cache: "OrderedDict[str, VocabIndex]" = OrderedDict()
_cache_lock = threading.Lock()
_build_locks: dict[str, threading.Lock] = {}


def vocab_index(vocab: Vocabulary) -> VocabIndex:
    """The :class:`VocabIndex` of ``vocab`` with :data:`DEFAULT_SLICES`, built on first use and
    then shared by every constraint on a vocabulary with the same fingerprint (this process)."""
    key = vocab.fingerprint
    with _cache_lock:
        idx = _cache.get(key)
        if idx is not None:
            _cache.move_to_end(key)
            return idx
        lock = _build_locks.setdefault(key, threading.Lock())
    with lock:  # one build per vocabulary, even with several threads asking
        with _cache_lock:
            idx = _cache.get(key)
        if idx is None:
            idx = build_vocab_index(vocab)
            with _cache_lock:
                _cache[key] = idx
                _cache.move_to_end(key)
                while len(_cache) > _CACHE_SIZE:
                    _cache.popitem(last=False)
                _build_locks.pop(key, None)
    return idx


def clear_vocab_index_cache() -> None:
    """Forget the per-vocabulary tables (they are rebuilt on the next mask)."""
    with _cache_lock:
        _cache.clear()
