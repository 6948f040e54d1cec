"""Numba kernel behind :mod:`.pushdown`: token masks of a pushdown automaton over the vocabulary trie.

The automaton is a recursive transition network: one byte DFA per rule, laid out in one global
state space, plus *call edges* (state ``g`` may call rule ``j`` and resume in state ``ret``). A
configuration is a stack of states; the trie walk carries the *set* of configurations alive after
each prefix, so ambiguity costs width, never correctness.

Stacks are persistent: frame ``i`` of the pool holds ``(state, parent frame)``, and a walk only
appends frames, so a child in the trie starts from its parent's frames and the pool is reset to the
parent's mark when the walk moves to the next sibling. Every array is plain numpy; ``cache=True``
stores the machine code next to this file (``python -m guidegen.automata.pushdown_kernels`` warms it).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .kernels import _scratch, first_contained_slice, mark_node_tokens

OVERFLOW = -1  # a scratch area ran out: walk again with larger ones (``scale``)

# scratch sizes at scale 0; scale s multiplies each by 2**s
_POOL = 1 << 14
_CONFIGS = 1 << 12
_WORK = 1 << 10
_SEEN = 1 << 6  # hash slots for the configurations of one trie node (a power of two)


@njit(cache=True, nogil=True, inline="always")
def _slot(state, parent, mask):
    """Where the configuration ``(state, parent frame)`` starts probing the closure's hash table."""
    return ((state * 0x9E3779B1 + parent * 0x85EBCA77) >> 7) & mask


@njit(cache=True, nogil=True)
def _closure(accept, call_off, call_rule, call_ret, rule_start, ps, pp, pool_top, cfg, cfg_top, work, wtop, seen_gen,
             seen_at, gen, mask):
    """Expand the configurations ``work[:wtop]`` (frames in the pool) by calls and returns until
    none is new, appending each distinct one to ``cfg`` from ``cfg_top``. Returns
    ``(pool_top, cfg_top, bottom_popped)``, or ``pool_top = OVERFLOW``. ``bottom_popped``: the
    walk's bottom frame completed (its rule may end here).

    ``seen_gen``/``seen_at``: a hash table of the configurations added, its entries valid where
    ``seen_gen`` is ``gen`` (a number no other call used), so that nothing needs clearing; ``mask``:
    its size less one. The caller passes ``cfg`` cut to half the table's size past ``cfg_top``: a
    table at most half full keeps probes short (and finite)."""
    popped = False
    while wtop > 0:
        wtop -= 1
        c = work[wtop]
        s = ps[c]
        par = pp[c]
        h = _slot(s, par, mask)
        dup = False
        while seen_gen[h] == gen:
            o = cfg[seen_at[h]]
            if ps[o] == s and pp[o] == par:
                dup = True
                break
            h = (h + 1) & mask
        if dup:
            continue
        if cfg_top >= cfg.shape[0]:
            return OVERFLOW, cfg_top, popped
        seen_gen[h] = gen
        seen_at[h] = cfg_top
        cfg[cfg_top] = c
        cfg_top += 1
        n_calls = call_off[s + 1] - call_off[s]
        if pool_top + 2 * n_calls > ps.shape[0] or wtop + n_calls + 1 > work.shape[0]:
            return OVERFLOW, cfg_top, popped
        for e in range(call_off[s], call_off[s + 1]):
            ps[pool_top] = call_ret[e]  # the caller resumes here...
            pp[pool_top] = par
            ps[pool_top + 1] = rule_start[call_rule[e]]  # ...once the callee, on top, completes
            pp[pool_top + 1] = pool_top
            work[wtop] = pool_top + 1
            wtop += 1
            pool_top += 2
        if accept[s]:
            if par < 0:
                popped = True
            else:
                work[wtop] = par  # the frame below already holds its resume state
                wtop += 1
    return pool_top, cfg_top, popped


@njit(cache=True, nogil=True)
def walk_stack(
    trans,  # int32[n_states, 256]: every rule's byte transitions (-1 = dead; call markers removed)
    accept,  # bool[n_states]: the state may end its rule
    call_off,  # int32[n_states + 1]: CSR of call edges
    call_rule,  # int32[n_edges]: the rule called
    call_ret,  # int32[n_edges]: the state the caller resumes in
    rule_start,  # int32[n_rules]
    stack,  # int32[k >= 1]: the configuration, bottom frame first
    start_nodes,  # int64[m]: absolute trie nodes, in trie order, where the configuration starts reading
    record_pops,  # bool: record where the bottom frame can complete
    nodes,  # int64[...]: packed tries (see kernels.pack_trie); the one walked is nodes[lo:hi]
    lo,  # int64
    hi,  # int64
    multi_nodes,  # int64[m], multi_off int64[m + 1], multi_ids int32[...]: nodes where several ids end
    multi_off,
    multi_ids,
    max_depth,  # int64: at least the trie's depth
    words,  # uint32[W]: allowed tokens are OR-ed in; must hold the trie's sink bit
    pops,  # int64[...]: out, the trie nodes after which the bottom frame can complete
    scale,  # int64: scratch areas 2**scale times the base sizes
):
    """OR into ``words`` every token that the configuration ``stack``, starting at some start node
    (``lo``, the root: every token), can read to its end (calls and returns included; completing
    the bottom frame ends the text). Returns the number of pop nodes written to ``pops`` (only
    with ``record_pops``), or ``OVERFLOW`` when a scratch area is too small at this ``scale``.

    A start node below another one joins the configurations already alive there: the subtrees
    are walked once, however deeply the start nodes nest (a frame that may complete after every
    prefix of a name has as many pop nodes as the trie has name prefixes)."""
    ps = np.empty(_POOL << scale, dtype=np.int32)
    pp = np.empty(_POOL << scale, dtype=np.int32)
    cfg = np.empty(_CONFIGS << scale, dtype=np.int32)
    work = np.empty(_WORK << scale, dtype=np.int32)
    n_seen = _SEEN << scale
    mask = n_seen - 1
    seen_gen = np.zeros(n_seen, dtype=np.int64)
    seen_at = np.empty(n_seen, dtype=np.int64)
    gen = 0
    k = stack.shape[0]
    for i in range(k):
        ps[i] = stack[i]
        pp[i] = i - 1
    # per depth d: the configurations that read byte d + 1 are cfg[rlo[d]:rhi[d]], pool frames up to pmark[d]
    rlo = np.empty(max_depth + 1, dtype=np.int64)
    rhi = np.empty(max_depth + 1, dtype=np.int64)
    pmark = np.empty(max_depth + 1, dtype=np.int64)
    n_pops = 0
    n_starts = start_nodes.shape[0]
    # the start configurations, closed once: cfg[:n_start], frames below start_pool, never overwritten
    work[0] = k - 1
    gen += 1
    start_pool, n_start, start_popped = _closure(accept, call_off, call_rule, call_ret, rule_start, ps, pp, k,
                                                 cfg[:n_seen // 2], 0, work, 1, seen_gen, seen_at, gen, mask)
    if start_pool == OVERFLOW:
        return OVERFLOW
    j = 0  # the next start node not reached yet
    while j < n_starts:
        n = start_nodes[j]
        j += 1
        if start_popped and record_pops:
            pops[n_pops] = n
            n_pops += 1
        d0 = 0 if n == lo else (nodes[n] >> 8) & 0xFF
        rlo[d0] = 0
        rhi[d0] = n_start
        pmark[d0] = start_pool
        end = hi if n == lo else lo + ((nodes[n] >> 16) & 0xFFFFFF)
        i = n + 1
        while i < end:
            w = nodes[i]
            d = (w >> 8) & 0xFF
            pool_top = pmark[d - 1]
            cfg_top = rhi[d - 1]
            b = w & 0xFF
            wtop = 0
            for q in range(rlo[d - 1], rhi[d - 1]):
                c = cfg[q]
                nxt = trans[ps[c], b]
                if nxt >= 0:
                    if pool_top >= ps.shape[0] or wtop >= work.shape[0]:
                        return OVERFLOW
                    ps[pool_top] = nxt
                    pp[pool_top] = pp[c]
                    work[wtop] = pool_top
                    wtop += 1
                    pool_top += 1
            sub_end = lo + ((w >> 16) & 0xFFFFFF)
            starts_here = j < n_starts and start_nodes[j] == i
            if starts_here:
                j += 1
            if wtop > 0:
                mark_node_tokens(words, w, i, multi_nodes, multi_off, multi_ids)
            elif not starts_here:
                if j < n_starts and start_nodes[j] < sub_end:  # nothing alive here, but a start node below
                    rlo[d] = cfg_top
                    rhi[d] = cfg_top
                    pmark[d] = pool_top
                    i += 1
                else:
                    i = sub_end
                continue
            if sub_end > i + 1:
                r0 = cfg_top
                lone = -1  # the one configuration alive, when it can only read bytes (inside a string, a comment)
                if wtop == 1 and not starts_here:
                    s = ps[work[0]]
                    if not accept[s] and call_off[s] == call_off[s + 1]:
                        lone = work[0]
                if lone >= 0:
                    if cfg_top >= cfg.shape[0]:
                        return OVERFLOW
                    cfg[cfg_top] = lone
                    cfg_top += 1
                    popped = False
                else:
                    gen += 1
                    level = cfg[:min(cfg.shape[0], r0 + n_seen // 2)]
                    if starts_here:  # the start configurations join, closed already
                        if r0 + n_start > level.shape[0]:
                            return OVERFLOW
                        for q in range(n_start):
                            c = cfg[q]
                            h = _slot(ps[c], pp[c], mask)
                            while seen_gen[h] == gen:
                                h = (h + 1) & mask
                            seen_gen[h] = gen
                            seen_at[h] = cfg_top
                            cfg[cfg_top] = c
                            cfg_top += 1
                    pool_top, cfg_top, popped = _closure(accept, call_off, call_rule, call_ret, rule_start, ps, pp,
                                                         pool_top, level, cfg_top, work, wtop, seen_gen, seen_at,
                                                         gen, mask)
                    if pool_top == OVERFLOW:
                        return OVERFLOW
                    if starts_here and start_popped:
                        popped = True
                if popped and record_pops:
                    pops[n_pops] = i
                    n_pops += 1
                rlo[d] = r0
                rhi[d] = cfg_top
                pmark[d] = pool_top
            i += 1
    return n_pops


@njit(cache=True, nogil=True)
def walk_rule(
    trans,  # int32[n_states, 256], C-contiguous: every rule's byte transitions (call markers removed)
    accept,  # bool[n_states]
    call_off,  # int32[n_states + 1]: CSR of call edges (only whether a state calls is read)
    state,  # int64: a state that calls nothing
    nodes,  # int64[...]: packed tries; the one walked is nodes[lo:hi]
    lo,  # int64
    hi,  # int64
    multi_nodes,  # int64[m], multi_off int64[m + 1], multi_ids int32[...]: nodes where several ids end
    multi_off,
    multi_ids,
    max_depth,  # int64
    words,  # uint32[W]: allowed tokens are OR-ed in; must hold the trie's sink bit
    pops,  # int64[...]: out, the nodes after which the frame can complete (its state accepts)
    call_nodes,  # int64[...]: out, the nodes where the walk reaches a state that calls...
    call_states,  # int32[...]: out, ...and that state
):
    """The part of :func:`walk_stack` (one frame in ``state``, from the root) that a DFA walk does:
    bytes read inside the frame's rule. At a node whose state calls, the subtree is left to
    :func:`walk_stack` from that node (the node's own tokens are marked here). Returns
    ``(n_pops, n_calls)``; both lists are in trie order, and no call node lies below another."""
    table = trans.reshape(trans.size)
    stack = np.empty(max_depth + 1, dtype=np.int64)
    stack[0] = state << 8
    n_pops = 0
    n_calls = 0
    i = lo + 1
    while i < hi:
        w = nodes[i]
        d = (w >> 8) & 0xFF
        nxt = table[stack[d - 1] + (w & 0xFF)]
        if nxt < 0:
            i = lo + ((w >> 16) & 0xFFFFFF)
            continue
        mark_node_tokens(words, w, i, multi_nodes, multi_off, multi_ids)
        if call_off[nxt + 1] > call_off[nxt]:
            call_nodes[n_calls] = i
            call_states[n_calls] = nxt
            n_calls += 1
            i = lo + ((w >> 16) & 0xFFFFFF)
            continue
        if accept[nxt]:
            pops[n_pops] = i
            n_pops += 1
        stack[d] = np.int64(nxt) << 8
        i += 1
    return n_pops, n_calls


@njit(cache=True, nogil=True)
def frame_mask(
    trans, accept, call_off,  # as walk_rule's
    state,  # int64: a state that calls nothing
    slice_start, slice_max_pairs, edge_off, edge_byte, edge_next, slice_masks, trie_bounds,  # see kernels.fill_mask_sliced
    nodes, multi_nodes, multi_off, multi_ids, max_depth,  # as walk_rule's
    n_words,  # int64: the row's width
    pops, call_nodes, call_states,  # out, as walk_rule's (pops include the root where the state accepts)
):
    """The first part of the inner mask of one frame in ``state``, in one call (as
    :func:`~.kernels.fill_mask_sliced` is for a DFA): the first slice the state contains gives its
    bits, and :func:`walk_rule` walks the tokens outside it. Returns ``(words, trie, n_pops,
    n_calls)``: the row in ``words[:n_words]`` (with room for the trie's sink bit), the trie walked
    (0: every token, ``k + 1``: those outside slice ``k``)."""
    which = first_contained_slice(trans, np.full(1, state, dtype=np.int64), slice_start, edge_off, edge_byte,
                                  edge_next, slice_max_pairs)
    t = which + 1
    lo = trie_bounds[t]
    words = _scratch(nodes, lo, n_words)
    if which >= 0:
        src = slice_masks[which].view(np.uint32)
        for k in range(n_words):
            words[k] = src[k]
    n_pops = 0
    if accept[state]:  # the frame may complete before reading anything: the root comes first
        pops[0] = lo
        n_pops = 1
    walked, n_calls = walk_rule(trans, accept, call_off, state, nodes, lo, trie_bounds[t + 1], multi_nodes, multi_off,
                                multi_ids, max_depth, words, pops[n_pops:], call_nodes, call_states)
    return words, t, n_pops + walked, n_calls


@njit(cache=True, nogil=True)
def reachable(trans, call_off, call_rule, call_ret, start, usable):
    """bool[n_states]: the states reachable from ``start`` by bytes and by calls to ``usable`` rules
    (to their resume states: a rule is entered and left as a whole)."""
    n = trans.shape[0]
    seen = np.zeros(n, dtype=np.bool_)
    stack = np.empty(n, dtype=np.int64)
    seen[start] = True
    stack[0] = start
    sp = 1
    while sp > 0:
        sp -= 1
        g = stack[sp]
        for b in range(256):
            h = trans[g, b]
            if h >= 0 and not seen[h]:
                seen[h] = True
                stack[sp] = h
                sp += 1
        for e in range(call_off[g], call_off[g + 1]):
            h = call_ret[e]
            if usable[call_rule[e]] and not seen[h]:
                seen[h] = True
                stack[sp] = h
                sp += 1
    return seen


def _read_only(*arrays: np.ndarray) -> list[np.ndarray]:
    out = [np.array(a) for a in arrays]
    for a in out:
        a.setflags(write=False)
    return out


def warmup() -> None:
    """Compile the kernels for the argument types :mod:`.pushdown` passes (a tiny grammar): the
    grammar's and the vocabulary index's arrays read-only, as :class:`~.pushdown.Grammar` and
    :class:`~.slices.VocabIndex` hold them; scratch and output arrays writable."""
    from .kernels import pack_trie

    trans = np.full((2, 256), -1, dtype=np.int32)
    trans[0, ord("a")] = 1
    accept = np.array([False, True])
    i32 = np.zeros(0, dtype=np.int32)
    call_off = np.zeros(3, dtype=np.int32)
    nodes, depth = pack_trie(np.array([0, ord("a")], dtype=np.uint8), np.array([2, 2], dtype=np.int32),
                             np.array([0, 0], dtype=np.int32), np.array([0, 1], dtype=np.int32),
                             np.array([0], dtype=np.int32), np.int64(32))
    words = np.zeros(2, dtype=np.uint32)
    pops = np.zeros(2, dtype=np.int64)
    reachable(trans, call_off, i32, i32, np.int64(0), np.zeros(1, dtype=np.bool_))  # while the grammar is built
    g_trans, g_accept, g_off, g_rule, g_ret, g_start = _read_only(trans, accept, call_off, i32, i32,
                                                                   np.zeros(1, dtype=np.int32))
    # the vocabulary index: one slice, so two tries (every token; those outside the slice)
    (two_tries, multi_nodes, multi_off, multi_ids, slice_start, slice_max_pairs, edge_off, edge_byte, edge_next,
     slice_masks, trie_bounds) = _read_only(
        np.concatenate([nodes, nodes]), np.zeros(0, dtype=np.int64), np.zeros(1, dtype=np.int64), i32,
        np.zeros(1, dtype=np.int64), np.full(1, 64, dtype=np.int64), np.array([0, 1, 1], dtype=np.int32),
        np.array([ord("a")], dtype=np.int32), np.array([1], dtype=np.int32), np.zeros((1, 1), dtype=np.int32),
        np.array([0, 2, 4], dtype=np.int64))
    walk_stack(g_trans, g_accept, g_off, g_rule, g_ret, g_start, np.zeros(1, dtype=np.int32),
               np.zeros(1, dtype=np.int64), True, two_tries, np.int64(0), np.int64(2), multi_nodes, multi_off,
               multi_ids, np.int64(depth), words, pops, np.int64(0))
    frame_mask(g_trans, g_accept, g_off, np.int64(0), slice_start, slice_max_pairs, edge_off, edge_byte, edge_next,
               slice_masks, trie_bounds, two_tries, multi_nodes, multi_off, multi_ids, np.int64(depth), np.int64(1),
               pops, np.zeros(2, dtype=np.int64), np.zeros(2, dtype=np.int32))


if __name__ == "__main__":
    warmup()
