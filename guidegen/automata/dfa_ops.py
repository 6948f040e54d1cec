"""Operations on byte DFAs that regular expressions cannot write: intersection, difference, and
splicing automata into the call markers of another.

A JSON Schema string with both a ``pattern`` and length bounds is the intersection of two regular
languages; ``not: {pattern: ...}`` is a difference. A regex compiler answers neither, but their
automata are a product away. :func:`splice` then puts such an automaton where a rule's regex wrote
``call_marker(k)``, so the result is one DFA again (no grammar call at run time).

Every result is minimal and trimmed, like :func:`~guidegen.automata.regex.compile_regex`'s, and
raises :class:`~guidegen.errors.RegexError` past ``max_states``. An empty intersection or difference
is None: an empty language is a legitimate answer, not a malformed input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numba import njit

from ..errors import RegexError
from . import regex_kernels as _k
from .dfa import DFA, NO_TEXT
from .regex import DEFAULT_MAX_STATES

__all__ = ["call_edges", "called_rules", "concatenate", "difference", "flatten", "intersect", "rule_order", "splice",
           "splice_rules"]

_FIRST_MARKER_BYTE = _k.MARKER_BYTE


@njit(cache=True, nogil=True, inline="always")
def _slot(key, cap):
    return (key * np.int64(0x9E3779B1)) & (cap - 1)


@njit(cache=True, nogil=True)
def _product(ta, acc_a, tb, acc_b, cls, k, keep_b_dead, max_states):
    """Breadth-first product of two DFAs over byte classes. With ``keep_b_dead`` the second
    automaton may die (state -1 stays a pair member): the difference ``a - b``; otherwise both
    must live: the intersection. Returns ``(status, table int32[n, k], accepting bool[n], n)``."""
    nb1 = np.int64(tb.shape[0] + 1)  # b's states shifted by one: 0 is b's dead state
    cap = 1024
    keys = np.full(cap, -1, dtype=np.int64)
    ids = np.empty(cap, dtype=np.int32)
    pa = np.empty(64, dtype=np.int32)
    pb = np.empty(64, dtype=np.int32)
    table = np.full((64, k), -1, dtype=np.int32)
    acc = np.zeros(64, dtype=np.bool_)
    rep = np.empty(k, dtype=np.int32)  # one byte of each class
    for byte in range(255, -1, -1):
        rep[cls[byte]] = byte
    n = 1
    pa[0] = 0
    pb[0] = 0
    start_key = np.int64(1)  # the pair (0, 0)
    keys[_slot(start_key, cap)] = start_key
    ids[_slot(start_key, cap)] = 0
    i = 0
    while i < n:
        a = pa[i]
        b = pb[i]
        b_accepts = b >= 0 and acc_b[b]
        acc[i] = acc_a[a] and (not b_accepts if keep_b_dead else b_accepts)
        for c in range(k):
            byte = rep[c]
            a2 = ta[a, byte]
            if a2 < 0:
                continue
            b2 = tb[b, byte] if b >= 0 else -1
            if b2 < 0 and not keep_b_dead:
                continue
            key = np.int64(a2) * nb1 + (b2 + 1)
            slot = _slot(key, cap)
            while keys[slot] != -1 and keys[slot] != key:
                slot = (slot + 1) & (cap - 1)
            if keys[slot] == key:
                table[i, c] = ids[slot]
                continue
            if n >= max_states:
                return _k.TOO_MANY_STATES, table[:0], acc[:0], 0
            if n == pa.shape[0]:
                pa = _k._grow_i32(pa, n + 1)
                pb = _k._grow_i32(pb, n + 1)
                table = _k._grow_rows(table, n + 1, -1)
                acc2 = np.zeros(table.shape[0], dtype=np.bool_)
                acc2[: acc.shape[0]] = acc
                acc = acc2
            pa[n] = a2
            pb[n] = b2
            keys[slot] = key
            ids[slot] = n
            table[i, c] = n
            n += 1
            if 2 * n > cap:  # rehash into a table twice as large
                cap *= 2
                old_keys = keys
                old_ids = ids
                keys = np.full(cap, -1, dtype=np.int64)
                ids = np.empty(cap, dtype=np.int32)
                for z in range(old_keys.shape[0]):
                    if old_keys[z] != -1:
                        s2 = _slot(old_keys[z], cap)
                        while keys[s2] != -1:
                            s2 = (s2 + 1) & (cap - 1)
                        keys[s2] = old_keys[z]
                        ids[s2] = old_ids[z]
        i += 1
    return _k.OK, table[:n], acc[:n], n


@njit(cache=True, nogil=True)
def _column_hashes(table, h):
    """Mix every column of ``table`` into ``h[byte]`` (row by row: the table's own memory order)."""
    for s in range(table.shape[0]):
        for byte in range(256):
            h[byte] = h[byte] * np.int64(1000003) + np.int64(table[s, byte] + 2)


@njit(cache=True, nogil=True)
def _same_columns(table, x, y):
    for s in range(table.shape[0]):
        if table[s, x] != table[s, y]:
            return False
    return True


@njit(cache=True, nogil=True)
def _classes_of(ta, tb, cls):
    """``cls[byte]``: the class of ``byte``, bytes whose columns are equal in both tables sharing one,
    numbered by first byte; returns the number of classes. Hashes pick the candidate, a column
    comparison decides (a collision only costs a new class check)."""
    h = np.zeros(256, dtype=np.int64)
    _column_hashes(ta, h)
    _column_hashes(tb, h)
    rep = np.empty(256, dtype=np.int64)  # the first byte of each class
    k = 0
    for byte in range(256):
        cls[byte] = -1
        for c in range(k):
            r = rep[c]
            if h[r] == h[byte] and _same_columns(ta, r, byte) and _same_columns(tb, r, byte):
                cls[byte] = c
                break
        if cls[byte] < 0:
            rep[k] = byte
            cls[byte] = k
            k += 1
    return k


def _combine(a: DFA, b: DFA, keep_b_dead: bool, max_states: int, what: str) -> DFA | None:
    cls = np.empty(256, dtype=np.int32)
    k = _classes_of(a.transitions, b.transitions, cls)
    status, table, acc, n = _product(a.transitions, a.accepting, b.transitions, b.accepting, cls, np.int64(k),
                                     keep_b_dead, np.int64(max_states))
    if status == _k.TOO_MANY_STATES:
        raise RegexError(f"the {what} of two automata needs more than {max_states} states")
    status, out, accepting = _k.minimize(table, acc, np.int64(n), np.int64(k), cls)
    return None if status == _k.EMPTY_LANGUAGE else DFA(out, accepting)


def intersect(a: DFA, b: DFA, *, max_states: int = DEFAULT_MAX_STATES) -> DFA | None:
    """The texts both ``a`` and ``b`` accept (None: no text).

    >>> from guidegen.automata.regex import compile_regex
    >>> both = intersect(compile_regex("[a-z]+[0-9]"), compile_regex(".{2,3}"))
    >>> both.matches("ab1"), both.matches("abc1")
    (True, False)
    """
    return _combine(a, b, False, max_states, "intersection")


def difference(a: DFA, b: DFA, *, max_states: int = DEFAULT_MAX_STATES) -> DFA | None:
    """The texts ``a`` accepts and ``b`` does not (``b``'s complement within ``a``; None: no text).

    >>> from guidegen.automata.regex import compile_regex
    >>> rest = difference(compile_regex("[a-z]+"), compile_regex("null|true|false"))
    >>> rest.matches("nul"), rest.matches("null")
    (True, False)
    """
    return _combine(a, b, True, max_states, "difference")


@njit(cache=True, nogil=True)
def _room_for_a_row(e_src, e_lo, e_hi, e_dst, ne):
    """The edge arrays, grown if they cannot take one row's 256 more edges past ``ne``."""
    need = ne + 256
    if need > e_src.shape[0]:
        return (_k._grow_i32(e_src, need), _k._grow_i32(e_lo, need), _k._grow_i32(e_hi, need),
                _k._grow_i32(e_dst, need))
    return e_src, e_lo, e_hi, e_dst


@njit(cache=True, nogil=True)
def _byte_runs(row, src, e_src, e_lo, e_hi, e_dst, ne, offset, upto):
    """Append ``row``'s transitions on bytes below ``upto`` as byte-range edges from ``src``
    (targets shifted by ``offset``); returns the new edge count. The arrays must have room for 256
    more edges."""
    byte = 0
    while byte < upto:
        t = row[byte]
        if t < 0:
            byte += 1
            continue
        hi = byte
        while hi + 1 < upto and row[hi + 1] == t:
            hi += 1
        e_src[ne] = src
        e_lo[ne] = byte
        e_hi[ne] = hi
        e_dst[ne] = t + offset
        ne += 1
        byte = hi + 1
    return ne


@njit(cache=True, nogil=True)
def _splice_nfa(host, host_acc, parts, parts_acc, part_start, part_size, part_of_call, max_states):
    """The NFA of ``host`` with each call marker whose rule has a part (``part_of_call[k] >= 0``)
    replaced by a copy of that part returning to the marker's target; markers without a part stay.
    Then subset construction and minimization, as for a regex."""
    nh = host.shape[0]
    n_parts = part_start.shape[0]
    # copies: one per (part, return state)
    copy_of = np.full((n_parts, nh), -1, dtype=np.int64)
    n_states = nh
    for s in range(nh):
        for hb in range(_FIRST_MARKER_BYTE, 256):
            m = host[s, hb]
            if m < 0:
                continue
            for lo in range(_FIRST_MARKER_BYTE):  # a marker's second byte
                t = host[m, lo]
                if t < 0:
                    continue
                k = _k.marker_rule(hb, lo)
                p = part_of_call[k] if k < part_of_call.shape[0] else -1
                if p >= 0 and copy_of[p, t] < 0:
                    copy_of[p, t] = n_states
                    n_states += part_size[p]
    n_middle_first = n_states
    n_states += nh * (256 - _FIRST_MARKER_BYTE)  # a fresh middle state per (state, marker byte)
    final = n_states
    n_states += 1
    cap_e = (nh + n_states) * 8 + 256
    e_src = np.empty(cap_e, dtype=np.int32)
    e_lo = np.empty(cap_e, dtype=np.int32)
    e_hi = np.empty(cap_e, dtype=np.int32)
    e_dst = np.empty(cap_e, dtype=np.int32)
    cap_p = nh * 4 + 64
    p_src = np.empty(cap_p, dtype=np.int32)
    p_dst = np.empty(cap_p, dtype=np.int32)
    ne = 0
    npp = 0

    for s in range(nh):
        e_src, e_lo, e_hi, e_dst = _room_for_a_row(e_src, e_lo, e_hi, e_dst, ne)
        ne = _byte_runs(host[s], s, e_src, e_lo, e_hi, e_dst, ne, 0, _FIRST_MARKER_BYTE)
        if npp + 1 + 256 * (256 - _FIRST_MARKER_BYTE) > p_src.shape[0]:
            p_src = _k._grow_i32(p_src, npp + 1 + 256 * (256 - _FIRST_MARKER_BYTE))
            p_dst = _k._grow_i32(p_dst, p_src.shape[0])
        if host_acc[s]:
            p_src[npp] = s
            p_dst[npp] = final
            npp += 1
        for hb in range(_FIRST_MARKER_BYTE, 256):
            m = host[s, hb]
            if m < 0:
                continue
            middle = n_middle_first + s * (256 - _FIRST_MARKER_BYTE) + (hb - _FIRST_MARKER_BYTE)
            kept = 0
            for lo in range(_FIRST_MARKER_BYTE):  # a marker's second byte
                t = host[m, lo]
                if t < 0:
                    continue
                k = _k.marker_rule(hb, lo)
                p = part_of_call[k] if k < part_of_call.shape[0] else -1
                if p >= 0:
                    p_src[npp] = s
                    p_dst[npp] = copy_of[p, t]
                    npp += 1
                else:
                    e_src[ne] = middle
                    e_lo[ne] = lo
                    e_hi[ne] = lo
                    e_dst[ne] = t
                    ne += 1
                    kept += 1
            if kept:
                e_src[ne] = s
                e_lo[ne] = hb
                e_hi[ne] = hb
                e_dst[ne] = middle
                ne += 1
    for p in range(n_parts):
        for t in range(nh):
            base = copy_of[p, t]
            if base < 0:
                continue
            for u in range(part_size[p]):
                row = parts[part_start[p] + u]
                e_src, e_lo, e_hi, e_dst = _room_for_a_row(e_src, e_lo, e_hi, e_dst, ne)
                ne = _byte_runs(row, base + u, e_src, e_lo, e_hi, e_dst, ne, base, 256)
                if parts_acc[part_start[p] + u]:
                    if npp == p_src.shape[0]:
                        p_src = _k._grow_i32(p_src, npp + 1)
                        p_dst = _k._grow_i32(p_dst, npp + 1)
                    p_src[npp] = base + u
                    p_dst[npp] = t
                    npp += 1
    st, table, acc, n, cls, k = _k.determinize(
        np.int64(n_states), np.int64(0), np.int64(final), e_src, e_lo, e_hi, e_dst, np.int64(ne),
        p_src, p_dst, np.int64(npp), max_states)
    if st != _k.OK:
        return st, np.zeros((0, 256), dtype=np.int32), np.zeros(0, dtype=np.bool_)
    return _k.minimize(table, acc, n, k, cls)


def splice(host: DFA, parts: Mapping[int, DFA], *, max_states: int = DEFAULT_MAX_STATES) -> DFA:
    """``host`` (compiled with call markers) with ``call_marker(k)`` read as ``parts[k]``'s language
    for every ``k`` in ``parts``; other markers stay calls. A part may call rules that are not
    spliced here (those calls are copied with it), but no rule of ``parts``.

    >>> from guidegen.automata.pushdown import call_marker
    >>> from guidegen.automata.regex import compile_regex
    >>> host = compile_regex("<" + call_marker(0) + ">", call_markers=True)
    >>> splice(host, {0: compile_regex("a+")}).matches("<aa>")
    True
    """
    if not parts:
        return host
    for k, part in parts.items():
        if (part.transitions[:, _FIRST_MARKER_BYTE:] >= 0).any() and not called_rules(part).isdisjoint(parts):
            raise ValueError(f"the automaton spliced for call {k} calls a rule spliced with it")
    order = sorted(parts)
    part_of_call = np.full(order[-1] + 1, -1, dtype=np.int32)
    for p, k in enumerate(order):
        part_of_call[k] = p
    sizes = np.array([parts[k].n_states for k in order], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    tables = np.concatenate([parts[k].transitions for k in order], axis=0)
    accepting = np.concatenate([parts[k].accepting for k in order])
    status, out, acc = _splice_nfa(host.transitions, host.accepting, tables, accepting, starts, sizes, part_of_call,
                                   np.int64(max_states))
    if status == _k.TOO_MANY_STATES:
        raise RegexError(f"splicing automata into calls needs more than {max_states} states")
    if status == _k.EMPTY_LANGUAGE:
        raise RegexError("splicing automata into calls leaves no text")
    return DFA(out, acc)


@njit(cache=True, nogil=True)
def _call_edges(transitions):
    n_edges = 0
    for s in range(transitions.shape[0]):
        for hb in range(_FIRST_MARKER_BYTE, 256):
            m = transitions[s, hb]
            if m >= 0:
                for lo in range(_FIRST_MARKER_BYTE):  # a marker's second byte
                    if transitions[m, lo] >= 0:
                        n_edges += 1
    src = np.empty(n_edges, dtype=np.int64)
    rule = np.empty(n_edges, dtype=np.int64)
    ret = np.empty(n_edges, dtype=np.int32)
    e = 0
    for s in range(transitions.shape[0]):
        for hb in range(_FIRST_MARKER_BYTE, 256):
            m = transitions[s, hb]
            if m >= 0:
                for lo in range(_FIRST_MARKER_BYTE):  # a marker's second byte
                    t = transitions[m, lo]
                    if t >= 0:
                        src[e] = s
                        rule[e] = _k.marker_rule(hb, lo)
                        ret[e] = t
                        e += 1
    return src, rule, ret


def call_edges(transitions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The calls a table's marker byte pairs write, as arrays ``(caller state, rule, resume state)``,
    by caller state."""
    return _call_edges(transitions)


def called_rules(dfa: DFA) -> set[int]:
    """The rules whose call markers ``dfa`` reads."""
    return set(call_edges(dfa.transitions)[1].tolist())


def splice_rules(dfas: Sequence[DFA | None], automata: Mapping[int, DFA]) -> list[DFA | None]:
    """A grammar's rule automata with the rules ``automata`` (built with :func:`intersect` or
    :func:`difference`, or any automaton that calls no rule of ``automata``) spliced into every rule
    that calls them and then left out (None), so their text costs no call at run time."""
    out = list(dfas)
    for k, dfa in enumerate(out):
        if dfa is None or k in automata:
            continue
        mine = {j: automata[j] for j in called_rules(dfa) if j in automata}
        if mine:
            out[k] = splice(dfa, mine)
    for k in automata:
        out[k] = None
    return out


@njit(cache=True, nogil=True)
def _shift_targets(transitions, starts):
    for r in range(starts.shape[0]):
        offset = starts[r]
        end = starts[r + 1] if r + 1 < starts.shape[0] else transitions.shape[0]
        for s in range(offset, end):
            for byte in range(256):
                t = transitions[s, byte]
                transitions[s, byte] = t + offset if t >= 0 else t


def concatenate(dfas: Sequence[DFA]) -> tuple[np.ndarray, np.ndarray]:
    """The automata's tables as one writable table over a global state space, with where each
    automaton's states start (int32): its targets are moved there."""
    starts = np.cumsum([0] + [d.n_states for d in dfas[:-1]]).astype(np.int32)
    transitions = np.concatenate([d.transitions for d in dfas], dtype=np.int32)
    _shift_targets(transitions, starts)  # a masked numpy add takes ~6x as long
    return transitions, starts


def rule_order(callees: Sequence[set[int]]) -> list[int] | None:
    """The rules reachable from rule 0, each after the rules it calls (``callees[k]``: the rules
    rule ``k`` calls), or None when one of them calls itself, directly or not."""
    order: list[int] = []
    state = [0] * len(callees)  # 0 unseen, 1 open, 2 done
    state[0] = 1
    stack = [(0, iter(callees[0]))]
    while stack:
        k, todo = stack[-1]
        j = next(todo, None)
        if j is None:
            stack.pop()
            state[k] = 2
            order.append(k)
        elif state[j] == 1:
            return None
        elif state[j] == 0:
            state[j] = 1
            stack.append((j, iter(callees[j])))
    return order


def flatten(dfas: Sequence[DFA | None], *, max_nfa: int = 20_000,
            max_states: int = DEFAULT_MAX_STATES) -> DFA | None:
    """The grammar whose rule automata are ``dfas`` (rule 0 starts; None: a rule with no text) as one
    automaton, every rule spliced into its callers bottom-up, when no rule reachable from rule 0
    calls itself, directly or not. None when one does (the language may not be regular), and when
    a splice would copy more than ``max_nfa`` states (one copy of a rule per place its callers
    resume: a rule called all over may be cheaper to keep as a call).

    >>> from guidegen.automata.pushdown import call_marker
    >>> from guidegen.automata.regex import compile_regex
    >>> rules = [compile_regex(call_marker(1) + "=" + call_marker(1), call_markers=True), compile_regex("[0-9]+")]
    >>> flatten(rules).matches("12=3")
    True
    """
    calls: list[dict[int, int]] = []  # per rule: callee -> places its callers resume
    for dfa in dfas:
        if dfa is None:
            calls.append({})
            continue
        _, rules, rets = call_edges(dfa.transitions)
        calls.append({j: len(set(rets[rules == j].tolist())) for j in set(rules.tolist())})
    order = rule_order([set(c) for c in calls])
    if order is None:
        return None
    flat: dict[int, DFA] = {}
    for k in order:
        dfa = dfas[k]
        if dfa is None:
            flat[k] = NO_TEXT
            continue
        if dfa.n_states + sum(n * flat[j].n_states for j, n in calls[k].items()) > max_nfa:
            return None
        flat[k] = splice(dfa, {j: flat[j] for j in calls[k]}, max_states=max_states)
    return flat[0]


def warmup() -> None:
    """Compile the kernels (or load them from Numba's on-disk cache): ``make install`` runs this."""
    from .pushdown import call_marker
    from .regex import compile_regex

    a, b = compile_regex("[a-c]+"), compile_regex("a.")
    intersect(a, b)
    difference(a, b)
    host = compile_regex("x" + call_marker(0), call_markers=True)
    splice(host, {0: a})
    call_edges(host.transitions)
    call_edges(concatenate([host, a])[0])  # a grammar's table, writable while it is built


if __name__ == "__main__":
    warmup()
