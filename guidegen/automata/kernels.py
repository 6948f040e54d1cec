"""Numba kernels over plain arrays: token masks from a DFA state (trie walks, slices) and byte walks.

Masks: :func:`fill_mask_sliced` is what a constraint calls (slice containment check, then a walk
over a packed trie: see :mod:`.slices`); :func:`fill_mask_packed` and :func:`slice_contained` are
its two halves; :func:`fill_dfa_mask` is the unpacked walk, kept for vocabularies past the packed
layout's limits.

Every kernel takes only numpy arrays and scalars (no typed containers), so whatever they produce
pickles and caches on disk. ``cache=True`` stores the machine code next to this file; call
:func:`warmup` once after installation so that a user's first mask never waits for the JIT.
Pass arrays with the dtypes documented on each kernel: another dtype compiles another
specialization.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def fill_dfa_mask(
    transitions,  # int32[n_states, 256], -1 = dead
    accepting,  # bool[n_states] (unused by the walk; kept for a uniform kernel signature)
    state,  # int64, the DFA state to start from
    node_byte,  # uint8[n_nodes]
    subtree_end,  # int32[n_nodes]
    token_start,  # int32[n_nodes]
    token_end,  # int32[n_nodes]
    token_ids,  # int32[n_trie_tokens]
    max_depth,  # int64: longest token in bytes
    out_row,  # int32[W] (or uint32[W]); overwritten
):
    """Set bit ``tid & 31`` of word ``tid >> 5`` of ``out_row`` for every token whose bytes keep the
    DFA alive from ``state``; clear every other bit. Returns the number of allowed tokens.

    Depth-first over the preorder trie: a dead prefix skips its whole subtree via ``subtree_end``.
    ``stack_state[d]`` is the DFA state after the first ``d`` bytes of the current path and
    ``stack_end[d]`` the end of that path node's subtree.
    """
    words = out_row.view(np.uint32)
    for w in range(words.shape[0]):
        words[w] = 0
    n_nodes = node_byte.shape[0]
    stack_state = np.empty(max_depth + 2, dtype=np.int64)
    stack_end = np.empty(max_depth + 2, dtype=np.int64)
    stack_state[0] = state
    stack_end[0] = n_nodes
    sp = 0
    count = 0
    i = 1
    while i < n_nodes:
        while i >= stack_end[sp]:
            sp -= 1
        nxt = transitions[stack_state[sp], node_byte[i]]
        if nxt < 0:
            i = subtree_end[i]
            continue
        for j in range(token_start[i], token_end[i]):
            tid = token_ids[j]
            words[tid >> 5] |= np.uint32(1) << np.uint32(tid & 31)
            count += 1
        sp += 1
        stack_state[sp] = nxt
        stack_end[sp] = subtree_end[i]
        i += 1
    return count


# ------------------------------------------------------------------------------------------------
# the packed trie: one int64 word per node
#
# bits  0..7   the node's byte
# bits  8..15  its depth (1..255)
# bits 16..39  subtree_end: the first node past its subtree (< 2**24), relative to the trie's
#              first node (several tries are stored one after the other in one array)
# bits 40..62  the id of the token that ends here, or, when none does, the "sink": a bit past the
#              vocabulary's row (32 * row width), so that setting a bit needs no branch
# bit  63      set when several ids end here (rare: duplicate token bytes); the word holds the
#              first, and all of them are in a side table: the sorted absolute node indices
#              ``multi_nodes``, and ``multi_ids[multi_off[k]:multi_off[k + 1]]`` for ``multi_nodes[k]``
#
# The root's word (never walked) holds the sink in bits 40..62. One load per visited node, and the
# parent's DFA state is ``stack[depth - 1]``, so the walk needs no pops. Vocabularies past these
# limits (tokens longer than 255 bytes, 2**24 nodes, 2**23 token ids) keep the unpacked
# :func:`fill_dfa_mask`.

PACKED_MAX_DEPTH = 255
PACKED_MAX_NODES = 1 << 24
PACKED_MAX_SINK = (1 << 23) - 1  # ids and the sink bit fit in 23 bits


@njit(cache=True, nogil=True)
def pack_trie(node_byte, subtree_end, token_start, token_end, token_ids, sink):
    """Pack a :class:`~guidegen.vocab.TokenTrie`'s arrays (uint8, int32 x4) into int64[n_nodes];
    ``sink`` (int64) is 32 * the mask row width.

    Returns ``(nodes, max_depth)``; ``max_depth`` is -1 when the trie exceeds the packed limits
    (the caller checks the node count, the sink and the largest id first)."""
    n = node_byte.shape[0]
    nodes = np.zeros(n, dtype=np.int64)
    nodes[0] = sink << 40
    stack_end = np.empty(PACKED_MAX_DEPTH + 2, dtype=np.int64)
    stack_end[0] = n
    sp = 0
    max_depth = 0
    for i in range(1, n):
        while i >= stack_end[sp]:
            sp -= 1
        d = sp + 1
        if d > PACKED_MAX_DEPTH:
            return nodes, -1
        if d > max_depth:
            max_depth = d
        k = token_end[i] - token_start[i]
        tok = sink if k == 0 else np.int64(token_ids[token_start[i]])
        w = np.int64(node_byte[i]) | (np.int64(d) << 8) | (np.int64(subtree_end[i]) << 16) | (tok << 40)
        if k > 1:
            w |= np.int64(-1) << 63
        nodes[i] = w
        sp = d
        stack_end[sp] = subtree_end[i]
    return nodes, max_depth


@njit(cache=True, nogil=True, inline="always")
def mark_node_tokens(words, w, i, multi_nodes, multi_off, multi_ids):
    """Set the bit of every token that ends at packed node ``i`` (its word ``w``): the one in the
    word (or the sink), and the side table's when several ids end there."""
    t = (w >> 40) & PACKED_MAX_SINK
    words[t >> 5] |= np.uint32(1) << np.uint32(t & 31)
    if w < 0:
        k = np.searchsorted(multi_nodes, i)
        for j in range(multi_off[k], multi_off[k + 1]):
            tid = multi_ids[j]
            words[tid >> 5] |= np.uint32(1) << np.uint32(tid & 31)


@njit(cache=True, nogil=True)
def _walk_packed(table, state, nodes, lo, hi, multi_nodes, multi_off, multi_ids, max_depth, words):
    """The walk over the trie ``nodes[lo:hi]`` (root at ``lo``), OR-ing into ``words``, a scratch
    row that holds the trie's sink bit. ``table`` is the flattened DFA."""
    # stack[d]: 256 * (DFA state after the first d bytes of the current path)
    stack = np.empty(max_depth + 1, dtype=np.int64)
    stack[0] = state << 8
    i = lo + 1
    k = np.searchsorted(multi_nodes, lo)
    if k == multi_nodes.shape[0] or multi_nodes[k] >= hi:
        # no node of this trie has several ids (the usual case): the lean loop
        while i < hi:
            w = nodes[i]
            d = (w >> 8) & 0xFF
            nxt = table[stack[d - 1] + (w & 0xFF)]
            if nxt < 0:
                i = lo + ((w >> 16) & 0xFFFFFF)
                continue
            stack[d] = np.int64(nxt) << 8
            t = (w >> 40) & PACKED_MAX_SINK
            words[t >> 5] |= np.uint32(1) << np.uint32(t & 31)
            i += 1
        return
    while i < hi:
        w = nodes[i]
        d = (w >> 8) & 0xFF
        nxt = table[stack[d - 1] + (w & 0xFF)]
        if nxt < 0:
            i = lo + ((w >> 16) & 0xFFFFFF)
            continue
        stack[d] = np.int64(nxt) << 8
        mark_node_tokens(words, w, i, multi_nodes, multi_off, multi_ids)
        i += 1


@njit(cache=True, nogil=True)
def _scratch(nodes, lo, n_words):
    """A zeroed uint32 row with room for ``n_words`` words and the trie's sink bit."""
    sink = (nodes[lo] >> 40) & PACKED_MAX_SINK
    return np.zeros(max(n_words, (sink >> 5) + 1), dtype=np.uint32)


@njit(cache=True, nogil=True)
def fill_mask_packed(
    transitions,  # int32[n_states, 256], C-contiguous, -1 = dead
    state,  # int64
    nodes,  # int64[...]: packed tries (pack_trie), one after the other
    lo,  # int64: the trie to walk is nodes[lo:hi]
    hi,  # int64
    multi_nodes,  # int64[m]: sorted absolute indices of the nodes where several ids end
    multi_off,  # int64[m + 1]
    multi_ids,  # int32[...]
    max_depth,  # int64: at least the trie's depth
    out_row,  # int32[W] (or uint32[W]); the trie's ids are below 32 * W
    clear,  # bool: zero out_row first; else OR into what it holds
):
    """:func:`fill_dfa_mask` over a packed trie: set the bit of every token of the trie whose bytes
    keep the DFA alive from ``state``."""
    n_words = out_row.shape[0]
    out = out_row.view(np.uint32)
    words = _scratch(nodes, lo, n_words)
    if not clear:
        for k in range(n_words):
            words[k] = out[k]
    _walk_packed(transitions.reshape(transitions.size), state, nodes, lo, hi, multi_nodes, multi_off,
                 multi_ids, max_depth, words)
    for k in range(n_words):
        out[k] = words[k]


# ------------------------------------------------------------------------------------------------
# slices: is a small byte language contained in what a DFA state still accepts?

_FIB = np.int64(-7046029254386353131)  # 0x9E3779B97F4A7C15: Fibonacci hashing, high bits kept
SLICE_MAX_PAIRS = 4096  # product pairs explored before answering "not contained" (then: full walk)


@njit(cache=True, nogil=True)
def slice_contained(
    transitions,  # int32[n_states, 256], -1 = dead
    state,  # int64
    start,  # int64: the slice automaton's start state
    edge_off,  # int32[n_slice_states + 1]: CSR over the slice automata's live transitions
    edge_byte,  # int32[n_edges], ascending within a state
    edge_next,  # int32[n_edges]
    max_pairs,  # int64
):
    """True when every byte string the slice automaton reads from ``start`` keeps the DFA alive
    from ``state``: the product of the two automata, explored depth first from ``(start, state)``,
    never reaches a byte the slice reads but the DFA is dead on.

    False is also answered, conservatively, once more than ``max_pairs`` pairs were visited."""
    # most states fail on the start pair: answer those before allocating anything
    for e in range(edge_off[start], edge_off[start + 1]):
        if transitions[state, edge_byte[e]] < 0:
            return False
    n_slice = np.int64(edge_off.shape[0] - 1)
    size = 16
    while size < 2 * max_pairs:
        size <<= 1
    mask = size - 1
    keys = np.full(size, -1, dtype=np.int64)
    stack_a = np.empty(max_pairs + 1, dtype=np.int64)
    stack_q = np.empty(max_pairs + 1, dtype=np.int64)
    key = state * n_slice + start
    keys[((key * _FIB) >> 32) & mask] = key
    stack_a[0] = start
    stack_q[0] = state
    sp = 1
    visited = 1
    while sp > 0:
        sp -= 1
        a = stack_a[sp]
        q = stack_q[sp]
        last = np.int64(-1)
        for e in range(edge_off[a], edge_off[a + 1]):
            q2 = transitions[q, edge_byte[e]]
            if q2 < 0:
                return False
            key = np.int64(q2) * n_slice + edge_next[e]
            if key == last:  # runs of bytes (ASCII letters...) mostly lead to one pair
                continue
            last = key
            h = ((key * _FIB) >> 32) & mask
            while True:
                k = keys[h]
                if k == key:
                    break
                if k < 0:
                    if visited >= max_pairs:
                        return False
                    keys[h] = key
                    visited += 1
                    stack_a[sp] = edge_next[e]
                    stack_q[sp] = q2
                    sp += 1
                    break
                h = (h + 1) & mask
    return True


@njit(cache=True, nogil=True)
def first_contained_slice(transitions, states, slice_start, edge_off, edge_byte, edge_next, slice_max_pairs):
    """The first slice (see :func:`slice_contained`) whose every string keeps the DFA alive from one
    of ``states`` (int64[:]), or -1."""
    for k in range(slice_start.shape[0]):
        for i in range(states.shape[0]):
            if slice_contained(transitions, states[i], slice_start[k], edge_off, edge_byte, edge_next,
                               slice_max_pairs[k]):
                return k
    return -1


@njit(cache=True, nogil=True)
def fill_mask_sliced(
    transitions,  # int32[n_states, 256], C-contiguous, -1 = dead
    state,  # int64
    slice_start,  # int64[n_slices]: each slice automaton's start state (in edge_*)
    slice_max_pairs,  # int64[n_slices]
    edge_off,  # int32[...], edge_byte, edge_next: all slice automata (see slice_contained)
    edge_byte,
    edge_next,
    slice_masks,  # int32[n_slices, W]: each slice's tokens
    trie_bounds,  # int64[n_slices + 2]: trie t is nodes[trie_bounds[t]:trie_bounds[t + 1]];
    #               trie 0 holds every token, trie k + 1 those outside slice k
    nodes,  # int64[...], multi_nodes, multi_off, multi_ids, max_depth: see fill_mask_packed
    multi_nodes,
    multi_off,
    multi_ids,
    max_depth,
    out_row,  # int32[W]; overwritten
):
    """The mask of ``state`` in one call: the first slice contained in the state's language (see
    :func:`slice_contained`) gives its bits plus a walk over the tokens outside it; with none, the
    walk over every token. Returns the slice used, or -1."""
    which = first_contained_slice(transitions, np.full(1, state, dtype=np.int64), slice_start, edge_off, edge_byte,
                                  edge_next, slice_max_pairs)
    n_words = out_row.shape[0]
    t = which + 1
    words = _scratch(nodes, trie_bounds[t], n_words)
    if which >= 0:
        src = slice_masks[which].view(np.uint32)
        for k in range(n_words):
            words[k] = src[k]
    _walk_packed(transitions.reshape(transitions.size), state, nodes, trie_bounds[t], trie_bounds[t + 1],
                 multi_nodes, multi_off, multi_ids, max_depth, words)
    out = out_row.view(np.uint32)
    for k in range(n_words):
        out[k] = words[k]
    return which


@njit(cache=True, nogil=True)
def walk_many(transitions, state, data, offsets):
    """The state reached from ``state`` by each string ``data[offsets[k]:offsets[k + 1]]``
    (uint8 data, int64 offsets); -1 where the DFA dies. Returns int32[len(offsets) - 1]."""
    n = offsets.shape[0] - 1
    out = np.empty(n, dtype=np.int32)
    for k in range(n):
        s = np.int64(state)
        for p in range(offsets[k], offsets[k + 1]):
            s = transitions[s, data[p]]
            if s < 0:
                break
        out[k] = s
    return out


@njit(cache=True, nogil=True)
def walk_bytes(transitions, state, data):
    """The state after reading ``data`` (uint8[n]) from ``state``; -1 as soon as the DFA dies."""
    s = state
    for k in range(data.shape[0]):
        if s < 0:
            return -1
        s = transitions[s, data[k]]
    return s


def _ro(a):
    a = np.ascontiguousarray(a).view()
    a.setflags(write=False)
    return a


def warmup() -> None:
    """Compile (or load from the on-disk cache) every kernel with the argument types guidegen
    passes: read-only DFA and trie arrays (as :class:`~guidegen.automata.dfa.DFA`,
    :class:`~guidegen.automata.slices.VocabIndex` and
    :class:`~guidegen.automata.constraint.DFAConstraint` hold them), a writable int32 mask row."""
    t = np.full((2, 256), -1, dtype=np.int32)
    t[0, ord("a")] = 1
    acc = np.array([False, True])
    node_byte = np.array([0, ord("a")], dtype=np.uint8)
    subtree_end = np.array([2, 2], dtype=np.int32)
    token_start = np.array([0, 0], dtype=np.int32)
    token_end = np.array([0, 1], dtype=np.int32)
    token_ids = np.array([0], dtype=np.int32)
    row = np.zeros(1, dtype=np.int32)
    fill_dfa_mask(
        _ro(t), _ro(acc), np.int64(0), _ro(node_byte), _ro(subtree_end), _ro(token_start),
        _ro(token_end), _ro(token_ids), np.int64(1), row,
    )
    nodes, depth = pack_trie(_ro(node_byte), _ro(subtree_end), _ro(token_start), _ro(token_end), _ro(token_ids),
                             np.int64(32))
    nodes = _ro(np.concatenate([nodes, nodes]))
    multi_nodes = _ro(np.zeros(0, dtype=np.int64))
    multi_off = _ro(np.zeros(1, dtype=np.int64))
    multi_ids = _ro(np.zeros(0, dtype=np.int32))
    for clear in (True, False):
        fill_mask_packed(_ro(t), np.int64(0), nodes, np.int64(0), np.int64(2), multi_nodes, multi_off,
                         multi_ids, np.int64(depth), row, clear)
    edge_off = _ro(np.array([0, 1, 1], dtype=np.int32))
    edge_byte = _ro(np.array([ord("a")], dtype=np.int32))
    edge_next = _ro(np.array([1], dtype=np.int32))
    slice_contained(_ro(t), np.int64(0), np.int64(0), edge_off, edge_byte, edge_next, np.int64(SLICE_MAX_PAIRS))
    first_contained_slice(_ro(t), np.zeros(1, dtype=np.int64), _ro(np.zeros(1, dtype=np.int64)),
                          edge_off, edge_byte, edge_next, _ro(np.full(1, 64, dtype=np.int64)))
    fill_mask_sliced(
        _ro(t), np.int64(0), _ro(np.zeros(1, dtype=np.int64)), _ro(np.full(1, 64, dtype=np.int64)),
        edge_off, edge_byte, edge_next, _ro(np.zeros((1, 1), dtype=np.int32)),
        _ro(np.array([0, 2, 4], dtype=np.int64)), nodes, multi_nodes, multi_off, multi_ids, np.int64(depth), row,
    )
    walk_many(_ro(t), np.int64(0), np.frombuffer(b"aa", dtype=np.uint8), np.array([0, 1, 2], dtype=np.int64))
    walk_bytes(_ro(t), np.int64(0), np.frombuffer(b"a", dtype=np.uint8))


if __name__ == "__main__":
    warmup()
