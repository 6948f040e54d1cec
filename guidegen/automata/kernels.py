"""Numba kernels over plain arrays: token masks from a DFA state, byte walks, DFA minimization.

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


@njit(cache=True, nogil=True)
def walk_bytes(transitions, state, data):
    """The state after reading ``data`` (uint8[n]) from ``state``; -1 as soon as the DFA dies."""
    s = state
    for k in range(data.shape[0]):
        if s < 0:
            return -1
        s = transitions[s, data[k]]
    return s


@njit(cache=True, nogil=True)
def hopcroft_blocks(table, accepting):
    """Hopcroft partition refinement of a complete DFA.

    ``table``: int32[n, k] over byte classes, every entry a valid state (callers add a sink).
    ``accepting``: bool[n]. Returns int32[n]: the equivalence block of each state.
    Blocks as contiguous slices of ``elems``; the smaller half of each split is relabelled and
    queued, which gives O(k n log n).
    """
    n = table.shape[0]
    k = table.shape[1]
    # inverse transitions per class, CSR: sources of target t on class c are
    # inv_src[c, inv_off[c, t]:inv_off[c, t + 1]]
    inv_off = np.zeros((k, n + 1), dtype=np.int64)
    inv_src = np.empty((k, n), dtype=np.int32)
    for c in range(k):
        for s in range(n):
            inv_off[c, table[s, c] + 1] += 1
        for t in range(n):
            inv_off[c, t + 1] += inv_off[c, t]
        fill = inv_off[c, :n].copy()
        for s in range(n):
            t = table[s, c]
            inv_src[c, fill[t]] = s
            fill[t] += 1

    elems = np.empty(n, dtype=np.int32)
    loc = np.empty(n, dtype=np.int32)
    blk = np.empty(n, dtype=np.int32)
    first = np.empty(n + 1, dtype=np.int32)
    past = np.empty(n + 1, dtype=np.int32)
    mid = np.empty(n + 1, dtype=np.int32)
    in_w = np.zeros(n + 1, dtype=np.bool_)
    work = np.empty(n + 1, dtype=np.int32)
    touched = np.empty(n + 1, dtype=np.int32)
    buf = np.empty(n, dtype=np.int32)

    # initial partition: accepting states first, then the rest
    p = 0
    for s in range(n):
        if accepting[s]:
            elems[p] = s
            p += 1
    n_acc = p
    for s in range(n):
        if not accepting[s]:
            elems[p] = s
            p += 1
    n_blocks = 0
    if n_acc > 0:
        first[n_blocks] = 0
        past[n_blocks] = n_acc
        n_blocks += 1
    if n_acc < n:
        first[n_blocks] = n_acc
        past[n_blocks] = n
        n_blocks += 1
    for b in range(n_blocks):
        mid[b] = first[b]
        for q in range(first[b], past[b]):
            blk[elems[q]] = b
            loc[elems[q]] = q
    w_top = 0
    if n_blocks == 2:
        small = 0 if past[0] - first[0] <= past[1] - first[1] else 1
        work[0] = small
        in_w[small] = True
        w_top = 1
    elif n_blocks == 1:
        return blk

    while w_top > 0:
        w_top -= 1
        a = work[w_top]
        in_w[a] = False
        size = past[a] - first[a]
        for q in range(size):
            buf[q] = elems[first[a] + q]
        for c in range(k):
            n_touched = 0
            for q in range(size):
                t = buf[q]
                for r in range(inv_off[c, t], inv_off[c, t + 1]):
                    s = inv_src[c, r]
                    b = blk[s]
                    i = loc[s]
                    j = mid[b]
                    if i < j:
                        continue  # already marked
                    if j == first[b]:
                        touched[n_touched] = b
                        n_touched += 1
                    # swap s into the marked prefix of its block
                    other = elems[j]
                    elems[j] = s
                    loc[s] = j
                    elems[i] = other
                    loc[other] = i
                    mid[b] = j + 1
            for z in range(n_touched):
                b = touched[z]
                m = mid[b]
                if m == past[b]:
                    mid[b] = first[b]
                    continue
                nb = n_blocks
                n_blocks += 1
                if m - first[b] <= past[b] - m:
                    # marked part is smaller: it becomes the new block
                    first[nb] = first[b]
                    past[nb] = m
                    first[b] = m
                else:
                    first[nb] = m
                    past[nb] = past[b]
                    past[b] = m
                mid[b] = first[b]
                mid[nb] = first[nb]
                for q in range(first[nb], past[nb]):
                    blk[elems[q]] = nb
                # the new block is the smaller half; queue it (and both halves stay covered when
                # b was already waiting)
                work[w_top] = nb
                w_top += 1
                in_w[nb] = True
    return blk


@njit(cache=True, nogil=True)
def bfs_renumber(table, start, dead):
    """Breadth-first order of the states reachable from ``start`` in ``table`` (int32[n, k]),
    never entering ``dead``. Returns ``(order, new_id)``: ``order[i]`` is the old id of new state
    ``i``; ``new_id[old]`` is -1 for unreachable states and ``dead``."""
    n = table.shape[0]
    k = table.shape[1]
    new_id = np.full(n, -1, dtype=np.int32)
    order = np.empty(n, dtype=np.int32)
    new_id[start] = 0
    order[0] = start
    m = 1
    head = 0
    while head < m:
        s = order[head]
        head += 1
        for c in range(k):
            t = table[s, c]
            if t != dead and new_id[t] < 0:
                new_id[t] = m
                order[m] = t
                m += 1
    return order[:m].copy(), new_id


def _ro(a):
    a = np.ascontiguousarray(a).view()
    a.setflags(write=False)
    return a


def warmup() -> None:
    """Compile (or load from the on-disk cache) every kernel with the argument types guidegen
    passes: read-only DFA and trie arrays (as :class:`~guidegen.automata.dfa.DFA` and
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
    walk_bytes(_ro(t), np.int64(0), np.frombuffer(b"a", dtype=np.uint8))
    table = np.array([[1], [1]], dtype=np.int32)
    hopcroft_blocks(table, acc)
    bfs_renumber(table, np.int64(0), np.int64(1))


if __name__ == "__main__":
    warmup()
