"""Numba kernels behind :func:`guidegen.automata.regex.compile_regex`.

Everything past parsing runs here, over plain arrays:

* :func:`parse_pattern` - a parser for the common subset of Python regex syntax (no flags; literals,
  escapes, classes, ``.``, groups, alternation, quantifiers, ``^`` first and ``$`` last). It emits a
  postfix *program*; anything outside the subset (and every malformed pattern) answers
  ``FALLBACK`` and :mod:`re`'s own parser takes over in Python, which emits the same program.
* :func:`build_nfa` - program -> Thompson NFA over bytes (code-point sets split into UTF-8
  sequences with shared suffixes, surrogates dropped);
* :func:`determinize` - subset construction over byte classes (the intervals between the NFA's
  edge boundaries);
* :func:`minimize` - trimming (states that cannot reach acceptance go), Hopcroft refinement of
  the trimmed partial DFA, breadth-first renumbering over bytes in increasing order (canonical:
  equal languages give identical tables), expansion to 256 columns.

:func:`compile_program` and :func:`compile_pattern` chain them from Python.

Program: ``int32[n_ops, 3]`` rows ``(op, a, b)`` and an ``int32`` pool:

* ``OP_EMPTY``: the empty string;
* ``OP_SET a n``: one code point out of ``n`` sorted, disjoint ranges ``pool[a + 2i], pool[a + 2i + 1]``;
* ``OP_STR a n``: the code points ``pool[a:a + n]`` in sequence; a lone surrogate ``0xD800 + k``
  becomes the two bytes ``MARKER_BYTE + k // MARKER_BYTE, k % MARKER_BYTE`` (never UTF-8: a
  grammar's call marker; the second byte is never a marker's first, so a marker is read unambiguously);
* ``OP_CAT n`` / ``OP_ALT n``: concatenation / alternation of the top ``n`` fragments;
* ``OP_REP lo hi``: ``lo`` to ``hi`` repetitions of the top fragment (``hi = -1``: unbounded).

``cache=True`` keeps the machine code next to this file. ``python -m guidegen.automata.regex_kernels``
(run it once after installation, from ``make install``) compiles every kernel with the argument
types :mod:`.regex` passes and stores the Unicode category tables (see ``regex.warmup``); the
first compile takes about a minute of CPU.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# status codes
OK = 0
FALLBACK = 1  # parse_pattern: let re's parser decide
TOO_MANY_STATES = 2  # subset construction exceeded max_states
NFA_TOO_LARGE = 3  # the NFA exceeded max_nfa states
EMPTY_LANGUAGE = 4  # no valid UTF-8 text matches

OP_EMPTY = 0
OP_SET = 1
OP_STR = 2
OP_CAT = 3
OP_ALT = 4
OP_REP = 5

MAX_CP = 0x10FFFF
MARKER_BYTE = 0xF8  # first byte of a call marker: 0xF8..0xFF never occur in UTF-8
MARKER_RULES = (0x100 - MARKER_BYTE) * MARKER_BYTE  # rules a marker can name: 8 first bytes x 248 second bytes


@njit(cache=True, nogil=True, inline="always")
def marker_rule(first, second):
    """The rule a call marker's two bytes name (``build_nfa`` writes them)."""
    return (first - MARKER_BYTE) * MARKER_BYTE + second


_MAX_GROUP_DEPTH = 100  # deeper nesting goes to re's parser (which may refuse it)
_MAX_COUNT = 100_000_000  # larger repetition counts go to re's parser


# --------------------------------------------------------------------------------------------------
# small helpers


@njit(cache=True, nogil=True)
def _grow_i32(a, need):
    if need <= a.shape[0]:
        return a
    cap = max(need, 2 * a.shape[0], 16)
    b = np.empty(cap, dtype=np.int32)
    b[: a.shape[0]] = a
    return b


@njit(cache=True, nogil=True)
def _grow_i64(a, need):
    if need <= a.shape[0]:
        return a
    cap = max(need, 2 * a.shape[0], 16)
    b = np.empty(cap, dtype=np.int64)
    b[: a.shape[0]] = a
    return b


@njit(cache=True, nogil=True)
def _grow_rows(a, need, fill):
    if need <= a.shape[0]:
        return a
    cap = max(need, 2 * a.shape[0], 16)
    b = np.full((cap, a.shape[1]), fill, dtype=np.int32)
    b[: a.shape[0]] = a
    return b


@njit(cache=True, nogil=True)
def _sort_range(a, lo, hi):
    """Sort ``a[lo:hi]`` in place. Short ranges (almost all of them: subset-construction sets) by
    insertion, which allocates nothing; Numba's ``ndarray.sort`` allocates its partition stack on
    every call, which costs more than sorting a few elements."""
    if hi - lo > 32:
        a[lo:hi].sort()
        return
    for i in range(lo + 1, hi):
        x = a[i]
        j = i - 1
        while j >= lo and a[j] > x:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = x


@njit(cache=True, nogil=True)
def _normalize(lo, hi, n, out_lo, out_hi):
    """Sort ``n`` ranges and merge overlapping/adjacent ones into out_lo/out_hi; returns the count."""
    if n == 0:
        return 0
    order = np.argsort(lo[:n], kind="mergesort")
    m = 0
    for q in range(n):
        a = lo[order[q]]
        b = hi[order[q]]
        if m > 0 and a <= out_hi[m - 1] + 1:
            if b > out_hi[m - 1]:
                out_hi[m - 1] = b
        else:
            out_lo[m] = a
            out_hi[m] = b
            m += 1
    return m


# --------------------------------------------------------------------------------------------------
# parser (fast path)


@njit(cache=True, nogil=True)
def _is_alnum_ascii(c):
    return (48 <= c <= 57) or (65 <= c <= 90) or (97 <= c <= 122)


@njit(cache=True, nogil=True)
def _hex_value(cps, i, count):
    """Value of exactly ``count`` hex digits at cps[i:], or -1."""
    n = cps.shape[0]
    if i + count > n:
        return -1
    v = 0
    for q in range(i, i + count):
        c = cps[q]
        if 48 <= c <= 57:
            d = c - 48
        elif 97 <= c <= 102:
            d = c - 87
        elif 65 <= c <= 70:
            d = c - 55
        else:
            return -1
        v = v * 16 + d
    return v


@njit(cache=True, nogil=True)
def _escape(cps, i, in_class):
    """Escape at cps[i] == '\\'. Returns (kind, value, next): kind 0 literal code point, 1 category
    (value 0-5: d D s S w W), -1 not handled here (error or construct for re's parser)."""
    n = cps.shape[0]
    if i + 1 >= n:
        return -1, 0, i
    e = cps[i + 1]
    if not _is_alnum_ascii(e):
        return 0, e, i + 2  # escaped punctuation or any non-ASCII character is itself
    if e == 100:  # d
        return 1, 0, i + 2
    if e == 68:  # D
        return 1, 1, i + 2
    if e == 115:  # s
        return 1, 2, i + 2
    if e == 83:  # S
        return 1, 3, i + 2
    if e == 119:  # w
        return 1, 4, i + 2
    if e == 87:  # W
        return 1, 5, i + 2
    if e == 110:  # n
        return 0, 10, i + 2
    if e == 116:  # t
        return 0, 9, i + 2
    if e == 114:  # r
        return 0, 13, i + 2
    if e == 102:  # f
        return 0, 12, i + 2
    if e == 118:  # v
        return 0, 11, i + 2
    if e == 97:  # a
        return 0, 7, i + 2
    if e == 98 and in_class:  # b: backspace in a class (a word boundary outside)
        return 0, 8, i + 2
    if e == 120:  # x
        v = _hex_value(cps, i + 2, 2)
        if v < 0:
            return -1, 0, i
        return 0, v, i + 4
    if e == 117:  # u
        v = _hex_value(cps, i + 2, 4)
        if v < 0:
            return -1, 0, i
        return 0, v, i + 6
    if e == 85:  # U
        v = _hex_value(cps, i + 2, 8)
        if v < 0 or v > MAX_CP:
            return -1, 0, i
        return 0, v, i + 10
    octal_digits = 1 if (e == 48 or in_class) else 0
    if octal_digits and 48 <= e <= 55:  # \0 (anywhere), \0-\7 (in a class): up to 3 octal digits
        v = e - 48
        j = i + 2
        for _ in range(2):
            if j < n and 48 <= cps[j] <= 55:
                v = v * 8 + cps[j] - 48
                j += 1
            else:
                break
        if v > 0o377:
            return -1, 0, i
        return 0, v, j
    return -1, 0, i


@njit(cache=True, nogil=True)
def _quantifier(cps, j):
    """Quantifier at cps[j:]. Returns (found, lo, hi, next); found -1: not handled (hand over)."""
    n = cps.shape[0]
    if j >= n:
        return 0, 1, 1, j
    c = cps[j]
    if c == 42:  # *
        lo, hi, k = 0, -1, j + 1
    elif c == 43:  # +
        lo, hi, k = 1, -1, j + 1
    elif c == 63:  # ?
        lo, hi, k = 0, 1, j + 1
    elif c == 123:  # {
        k = j + 1
        lo = 0
        n_lo = 0
        while k < n and 48 <= cps[k] <= 57:
            lo = lo * 10 + cps[k] - 48
            n_lo += 1
            k += 1
            if lo > _MAX_COUNT:
                return -1, 0, 0, j
        if k < n and cps[k] == 44:  # ,
            k += 1
            hi = 0
            n_hi = 0
            while k < n and 48 <= cps[k] <= 57:
                hi = hi * 10 + cps[k] - 48
                n_hi += 1
                k += 1
                if hi > _MAX_COUNT:
                    return -1, 0, 0, j
            if n_hi == 0:
                hi = -1
        else:
            if n_lo == 0:
                return -1, 0, 0, j  # "{}" or "{x": a literal brace for re
            hi = lo
        if k >= n or cps[k] != 125:  # }
            return -1, 0, 0, j
        k += 1
        if hi != -1 and hi < lo:
            return -1, 0, 0, j
    else:
        return 0, 1, 1, j
    if k < n and cps[k] == 63:  # lazy: same language
        k += 1
    elif k < n and cps[k] == 43:  # possessive
        return -1, 0, 0, j
    if k < n and (cps[k] == 42 or cps[k] == 43 or cps[k] == 63 or cps[k] == 123):
        return -1, 0, 0, j  # multiple repeat (or a brace re would read as a literal)
    return 1, lo, hi, k


@njit(cache=True, nogil=True)
def parse_pattern(cps, cat_data, cat_off, cat_have):
    """Parse a flag-free pattern (code points ``cps``, int32) into a program.

    ``cat_data``: int32[m, 2] code-point ranges of the categories d D s S w W, category ``c`` in rows
    ``cat_off[c]:cat_off[c + 1]`` when ``cat_have[c]``. Returns ``(status, prog, n_ops, pool)``.
    """
    n = cps.shape[0]
    prog = np.zeros((2 * n + 8, 3), dtype=np.int32)
    pool = np.empty(64, dtype=np.int32)
    n_pool = 0
    n_ops = 0
    fr_items = np.zeros(_MAX_GROUP_DEPTH + 1, dtype=np.int64)
    fr_alts = np.zeros(_MAX_GROUP_DEPTH + 1, dtype=np.int64)
    depth = 0
    n_items = 0
    n_alts = 0
    run_op = -1  # op index of the literal string being extended, or -1
    rlo = np.empty(64, dtype=np.int64)
    rhi = np.empty(64, dtype=np.int64)
    tlo = np.empty(64, dtype=np.int64)
    thi = np.empty(64, dtype=np.int64)
    i = 0
    while i < n:
        c = cps[i]
        if c == 40:  # (
            if i + 1 < n and cps[i + 1] == 63:  # (?
                if i + 2 < n and cps[i + 2] == 58:  # (?:
                    i += 3
                else:
                    return FALLBACK, prog, 0, pool
            else:
                i += 1
            if depth >= _MAX_GROUP_DEPTH:
                return FALLBACK, prog, 0, pool
            fr_items[depth] = n_items
            fr_alts[depth] = n_alts
            depth += 1
            n_items = 0
            n_alts = 0
            run_op = -1
            continue
        if c == 124 or c == 41:  # | or )
            if n_items == 0:
                prog[n_ops, 0] = OP_EMPTY
                n_ops += 1
            elif n_items > 1:
                prog[n_ops, 0] = OP_CAT
                prog[n_ops, 1] = n_items
                n_ops += 1
            run_op = -1
            i += 1
            if c == 124:
                n_alts += 1
                n_items = 0
                continue
            if depth == 0:
                return FALLBACK, prog, 0, pool  # unbalanced ")"
            if n_alts > 0:
                prog[n_ops, 0] = OP_ALT
                prog[n_ops, 1] = n_alts + 1
                n_ops += 1
            depth -= 1
            n_items = fr_items[depth]
            n_alts = fr_alts[depth]
            found, lo, hi, i = _quantifier(cps, i)
            if found < 0:
                return FALLBACK, prog, 0, pool
            if found == 1 and not (lo == 1 and hi == 1):
                prog[n_ops, 0] = OP_REP
                prog[n_ops, 1] = lo
                prog[n_ops, 2] = hi
                n_ops += 1
            n_items += 1
            continue
        if c == 94:  # ^
            if i != 0:
                return FALLBACK, prog, 0, pool
            i += 1
            continue
        if c == 36:  # $
            if i != n - 1:
                return FALLBACK, prog, 0, pool
            i += 1
            continue
        if c == 42 or c == 43 or c == 63 or c == 123 or c == 125 or c == 93:  # * + ? { } ]
            return FALLBACK, prog, 0, pool
        # a single-character atom: literal, escape, class or "."
        kind = 0  # 0 literal code point, 1 set (ranges in rlo/rhi[:nr])
        value = 0
        nr = 0
        if c == 92:  # backslash
            k, value, j = _escape(cps, i, False)
            if k < 0:
                return FALLBACK, prog, 0, pool
            if k == 1:
                if not cat_have[value]:
                    return FALLBACK, prog, 0, pool
                a = cat_off[value]
                b = cat_off[value + 1]
                if b - a > rlo.shape[0]:
                    rlo = _grow_i64(rlo, b - a)
                    rhi = _grow_i64(rhi, b - a)
                for q in range(a, b):
                    rlo[nr] = cat_data[q, 0]
                    rhi[nr] = cat_data[q, 1]
                    nr += 1
                kind = 1
        elif c == 46:  # .
            rlo[0] = 0
            rhi[0] = 9
            rlo[1] = 11
            rhi[1] = MAX_CP
            nr = 2
            kind = 1
            j = i + 1
        elif c == 91:  # [
            j = i + 1
            negate = False
            if j < n and cps[j] == 94:
                negate = True
                j += 1
            if j < n and (cps[j] == 93 or cps[j] == 91):  # "]" first, or a possible nested set
                return FALLBACK, prog, 0, pool
            m = 0  # raw ranges in tlo/thi
            closed = False
            while j < n:
                x = cps[j]
                if x == 93 and m > 0:  # ]
                    j += 1
                    closed = True
                    break
                if x == 91:  # [ inside a class: FutureWarning territory
                    return FALLBACK, prog, 0, pool
                if (x == 45 or x == 38 or x == 126 or x == 124) and j + 1 < n and cps[j + 1] == x:
                    return FALLBACK, prog, 0, pool  # -- && ~~ ||: set-operation warnings
                if x == 92:
                    k1, v1, j2 = _escape(cps, j, True)
                    if k1 < 0:
                        return FALLBACK, prog, 0, pool
                else:
                    k1, v1, j2 = 0, x, j + 1
                if j2 < n and cps[j2] == 45:  # "-": a range, or a literal "-" before "]"
                    if j2 + 1 >= n:
                        return FALLBACK, prog, 0, pool
                    y = cps[j2 + 1]
                    if y == 93:  # "x-]"
                        j3 = j2 + 1
                        k2 = 0
                        v2 = 45
                        is_range = False
                    else:
                        if y == 92:
                            k2, v2, j3 = _escape(cps, j2 + 1, True)
                            if k2 < 0:
                                return FALLBACK, prog, 0, pool
                        elif y == 91 or y == 45:
                            return FALLBACK, prog, 0, pool
                        else:
                            k2, v2, j3 = 0, y, j2 + 2
                        is_range = True
                    if is_range:
                        if k1 != 0 or k2 != 0 or v2 < v1:
                            return FALLBACK, prog, 0, pool  # bad character range: re's message
                        tlo = _grow_i64(tlo, m + 1)
                        thi = _grow_i64(thi, m + 1)
                        tlo[m] = v1
                        thi[m] = v2
                        m += 1
                        j = j3
                        continue
                    # "x-]": x, then a literal "-", and the "]" closes the class next round
                    tlo = _grow_i64(tlo, m + 2)
                    thi = _grow_i64(thi, m + 2)
                    if k1 == 1:
                        if not cat_have[v1]:
                            return FALLBACK, prog, 0, pool
                        a = cat_off[v1]
                        b = cat_off[v1 + 1]
                        tlo = _grow_i64(tlo, m + (b - a) + 2)
                        thi = _grow_i64(thi, m + (b - a) + 2)
                        for q in range(a, b):
                            tlo[m] = cat_data[q, 0]
                            thi[m] = cat_data[q, 1]
                            m += 1
                    else:
                        tlo[m] = v1
                        thi[m] = v1
                        m += 1
                    tlo[m] = 45
                    thi[m] = 45
                    m += 1
                    j = j3
                    continue
                if k1 == 1:
                    if not cat_have[v1]:
                        return FALLBACK, prog, 0, pool
                    a = cat_off[v1]
                    b = cat_off[v1 + 1]
                    tlo = _grow_i64(tlo, m + (b - a) + 1)
                    thi = _grow_i64(thi, m + (b - a) + 1)
                    for q in range(a, b):
                        tlo[m] = cat_data[q, 0]
                        thi[m] = cat_data[q, 1]
                        m += 1
                else:
                    tlo = _grow_i64(tlo, m + 1)
                    thi = _grow_i64(thi, m + 1)
                    tlo[m] = v1
                    thi[m] = v1
                    m += 1
                j = j2
            if not closed:
                return FALLBACK, prog, 0, pool
            rlo = _grow_i64(rlo, m + 1)
            rhi = _grow_i64(rhi, m + 1)
            nr = _normalize(tlo, thi, m, rlo, rhi)
            if negate:
                # complement over [0, MAX_CP], in place from a copy
                tlo = _grow_i64(tlo, nr + 1)
                thi = _grow_i64(thi, nr + 1)
                tlo[:nr] = rlo[:nr]
                thi[:nr] = rhi[:nr]
                rlo = _grow_i64(rlo, nr + 1)
                rhi = _grow_i64(rhi, nr + 1)
                cnt = 0
                nxt = 0
                for q in range(nr):
                    if tlo[q] > nxt:
                        rlo[cnt] = nxt
                        rhi[cnt] = tlo[q] - 1
                        cnt += 1
                    nxt = thi[q] + 1
                if nxt <= MAX_CP:
                    rlo[cnt] = nxt
                    rhi[cnt] = MAX_CP
                    cnt += 1
                nr = cnt
            kind = 1
        else:
            value = c
            j = i + 1
        found, lo, hi, j = _quantifier(cps, j)
        if found < 0:
            return FALLBACK, prog, 0, pool
        quantified = found == 1 and not (lo == 1 and hi == 1)
        if kind == 0 and not quantified and run_op >= 0:
            # extend the literal string that the previous item started
            pool = _grow_i32(pool, n_pool + 1)
            pool[n_pool] = value
            n_pool += 1
            prog[run_op, 2] += 1
            i = j
            continue
        if kind == 0:
            pool = _grow_i32(pool, n_pool + 1)
            prog[n_ops, 0] = OP_STR
            prog[n_ops, 1] = n_pool
            prog[n_ops, 2] = 1
            pool[n_pool] = value
            n_pool += 1
            run_op = -1 if quantified else n_ops
        else:
            pool = _grow_i32(pool, n_pool + 2 * nr)
            prog[n_ops, 0] = OP_SET
            prog[n_ops, 1] = n_pool
            prog[n_ops, 2] = nr
            for q in range(nr):
                pool[n_pool] = rlo[q]
                pool[n_pool + 1] = rhi[q]
                n_pool += 2
            run_op = -1
        n_ops += 1
        if quantified:
            prog[n_ops, 0] = OP_REP
            prog[n_ops, 1] = lo
            prog[n_ops, 2] = hi
            n_ops += 1
        n_items += 1
        i = j
    if depth != 0:
        return FALLBACK, prog, 0, pool  # missing ")"
    if n_items == 0:
        prog[n_ops, 0] = OP_EMPTY
        n_ops += 1
    elif n_items > 1:
        prog[n_ops, 0] = OP_CAT
        prog[n_ops, 1] = n_items
        n_ops += 1
    if n_alts > 0:
        prog[n_ops, 0] = OP_ALT
        prog[n_ops, 1] = n_alts + 1
        n_ops += 1
    return OK, prog, n_ops, pool[:n_pool]


# --------------------------------------------------------------------------------------------------
# UTF-8


@njit(cache=True, nogil=True)
def _utf8_encode(cp, out):
    """UTF-8 bytes of ``cp`` into out[:len]; returns len."""
    if cp < 0x80:
        out[0] = cp
        return 1
    if cp < 0x800:
        out[0] = 0xC0 | (cp >> 6)
        out[1] = 0x80 | (cp & 0x3F)
        return 2
    if cp < 0x10000:
        out[0] = 0xE0 | (cp >> 12)
        out[1] = 0x80 | ((cp >> 6) & 0x3F)
        out[2] = 0x80 | (cp & 0x3F)
        return 3
    out[0] = 0xF0 | (cp >> 18)
    out[1] = 0x80 | ((cp >> 12) & 0x3F)
    out[2] = 0x80 | ((cp >> 6) & 0x3F)
    out[3] = 0x80 | (cp & 0x3F)
    return 4


@njit(cache=True, nogil=True)
def _utf8_sequences(pool, off, n):
    """Split the code-point ranges ``pool[off:off + 2n]`` (surrogates removed) into UTF-8 byte-range
    sequences (the classic algorithm of RE2 and Rust's utf8-ranges). Returns
    ``(count, seq_len int32[count], seq_lo int32[count, 4], seq_hi int32[count, 4])``."""
    cap = 2 * n + 64
    st_lo = np.empty(cap, dtype=np.int64)
    st_hi = np.empty(cap, dtype=np.int64)
    sp = 0
    for r in range(n - 1, -1, -1):  # pushed in reverse: popped in increasing order
        a = np.int64(pool[off + 2 * r])
        b = np.int64(pool[off + 2 * r + 1])
        if b >= 0xE000:
            st_lo[sp] = max(a, 0xE000)
            st_hi[sp] = b
            sp += 1
        if a <= 0xD7FF:
            st_lo[sp] = a
            st_hi[sp] = min(b, 0xD7FF)
            sp += 1
    out_cap = n + 16
    seq_len = np.empty(out_cap, dtype=np.int32)
    seq_lo = np.empty((out_cap, 4), dtype=np.int32)
    seq_hi = np.empty((out_cap, 4), dtype=np.int32)
    count = 0
    ea = np.empty(4, dtype=np.int64)
    eb = np.empty(4, dtype=np.int64)
    while sp > 0:
        sp -= 1
        lo = st_lo[sp]
        hi = st_hi[sp]
        if lo > hi:
            continue
        split = False
        for bound in (0x7F, 0x7FF, 0xFFFF):
            if lo <= bound < hi:
                if sp + 2 > st_lo.shape[0]:
                    st_lo = _grow_i64(st_lo, sp + 2)
                    st_hi = _grow_i64(st_hi, sp + 2)
                st_lo[sp] = bound + 1
                st_hi[sp] = hi
                st_lo[sp + 1] = lo
                st_hi[sp + 1] = bound
                sp += 2
                split = True
                break
        if split:
            continue
        if count == seq_len.shape[0]:
            new_cap = 2 * count
            g_len = np.empty(new_cap, dtype=np.int32)
            g_lo = np.empty((new_cap, 4), dtype=np.int32)
            g_hi = np.empty((new_cap, 4), dtype=np.int32)
            g_len[:count] = seq_len[:count]
            g_lo[:count] = seq_lo[:count]
            g_hi[:count] = seq_hi[:count]
            seq_len = g_len
            seq_lo = g_lo
            seq_hi = g_hi
        if hi <= 0x7F:
            seq_len[count] = 1
            seq_lo[count, 0] = lo
            seq_hi[count, 0] = hi
            count += 1
            continue
        nb = 2 if lo < 0x800 else (3 if lo < 0x10000 else 4)
        for i in range(1, nb):
            m = (np.int64(1) << (6 * i)) - 1
            if (lo & ~m) != (hi & ~m):
                if (lo & m) != 0:
                    if sp + 2 > st_lo.shape[0]:
                        st_lo = _grow_i64(st_lo, sp + 2)
                        st_hi = _grow_i64(st_hi, sp + 2)
                    st_lo[sp] = (lo | m) + 1
                    st_hi[sp] = hi
                    st_lo[sp + 1] = lo
                    st_hi[sp + 1] = lo | m
                    sp += 2
                    split = True
                    break
                if (hi & m) != m:
                    if sp + 2 > st_lo.shape[0]:
                        st_lo = _grow_i64(st_lo, sp + 2)
                        st_hi = _grow_i64(st_hi, sp + 2)
                    st_lo[sp] = hi & ~m
                    st_hi[sp] = hi
                    st_lo[sp + 1] = lo
                    st_hi[sp + 1] = (hi & ~m) - 1
                    sp += 2
                    split = True
                    break
        if split:
            continue
        la = _utf8_encode(lo, ea)
        _utf8_encode(hi, eb)
        seq_len[count] = la
        for q in range(la):
            seq_lo[count, q] = ea[q]
            seq_hi[count, q] = eb[q]
        count += 1
    return count, seq_len, seq_lo, seq_hi


# --------------------------------------------------------------------------------------------------
# program -> Thompson NFA
#
# Fragments are built bottom-up; each occupies a contiguous range of state ids and of both edge
# lists (everything created while building it), has a start state without incoming edges and an
# end state without outgoing edges, so a copy is the same ranges shifted by an offset.


@njit(cache=True, nogil=True)
def build_nfa(prog, n_ops, pool, max_nfa):
    """Returns ``(status, n_states, start, accept, e_src, e_lo, e_hi, e_dst, n_e, p_src, p_dst, n_p)``:
    byte edges ``e_*[:n_e]`` (inclusive byte range lo..hi) and epsilon edges ``p_*[:n_p]``."""
    cap_e = 256
    e_src = np.empty(cap_e, dtype=np.int32)
    e_lo = np.empty(cap_e, dtype=np.int32)
    e_hi = np.empty(cap_e, dtype=np.int32)
    e_dst = np.empty(cap_e, dtype=np.int32)
    cap_p = 256
    p_src = np.empty(cap_p, dtype=np.int32)
    p_dst = np.empty(cap_p, dtype=np.int32)
    ne = 0
    npp = 0
    ns = 0
    f_start = np.empty(n_ops + 1, dtype=np.int64)
    f_end = np.empty(n_ops + 1, dtype=np.int64)
    f_s0 = np.empty(n_ops + 1, dtype=np.int64)
    f_e0 = np.empty(n_ops + 1, dtype=np.int64)
    f_p0 = np.empty(n_ops + 1, dtype=np.int64)
    top = 0
    enc = np.empty(4, dtype=np.int64)
    for op_i in range(n_ops):
        op = prog[op_i, 0]
        a = np.int64(prog[op_i, 1])
        b = np.int64(prog[op_i, 2])
        s0 = ns
        e0 = ne
        p0 = npp
        if op == OP_EMPTY:
            if ns + 1 > max_nfa:
                return NFA_TOO_LARGE, 0, 0, 0, e_src, e_lo, e_hi, e_dst, 0, p_src, p_dst, 0
            x = ns
            ns += 1
            f_start[top] = x
            f_end[top] = x
            f_s0[top] = s0
            f_e0[top] = e0
            f_p0[top] = p0
            top += 1
        elif op == OP_STR:
            if ns + 1 + 4 * b > max_nfa:
                return NFA_TOO_LARGE, 0, 0, 0, e_src, e_lo, e_hi, e_dst, 0, p_src, p_dst, 0
            if ne + 4 * b > e_src.shape[0]:
                e_src = _grow_i32(e_src, ne + 4 * b)
                e_lo = _grow_i32(e_lo, ne + 4 * b)
                e_hi = _grow_i32(e_hi, ne + 4 * b)
                e_dst = _grow_i32(e_dst, ne + 4 * b)
            start = ns
            ns += 1
            cur = start
            for q in range(a, a + b):
                cp = pool[q]
                if 0xD800 <= cp <= 0xDFFF:
                    # a lone surrogate is no valid UTF-8 text: it stands for a call marker, two
                    # bytes that never occur in UTF-8 (see guidegen.automata.pushdown)
                    k = cp - 0xD800
                    if k < MARKER_RULES:
                        enc[0] = MARKER_BYTE + k // MARKER_BYTE
                        enc[1] = k % MARKER_BYTE
                    else:  # names no rule: a pair no decoder reads as a call
                        enc[0] = 0xFF
                        enc[1] = 0xFF
                    L = 2
                else:
                    L = _utf8_encode(cp, enc)
                for t in range(L):
                    nxt = ns
                    ns += 1
                    e_src[ne] = cur
                    e_lo[ne] = enc[t]
                    e_hi[ne] = enc[t]
                    e_dst[ne] = nxt
                    ne += 1
                    cur = nxt
            f_start[top] = start
            f_end[top] = cur
            f_s0[top] = s0
            f_e0[top] = e0
            f_p0[top] = p0
            top += 1
        elif op == OP_SET:
            count, seq_len, seq_lo, seq_hi = _utf8_sequences(pool, a, b)
            if ns + 2 + 3 * count > max_nfa:
                return NFA_TOO_LARGE, 0, 0, 0, e_src, e_lo, e_hi, e_dst, 0, p_src, p_dst, 0
            if ne + 4 * count > e_src.shape[0]:
                e_src = _grow_i32(e_src, ne + 4 * count)
                e_lo = _grow_i32(e_lo, ne + 4 * count)
                e_hi = _grow_i32(e_hi, ne + 4 * count)
                e_dst = _grow_i32(e_dst, ne + 4 * count)
            start = ns
            end = ns + 1
            ns += 2
            # suffix sharing: state that reads the byte ranges of a suffix then reaches `end`,
            # keyed by the packed suffix (at most 3 ranges of 16 bits, plus its length)
            hcap = 16
            while hcap < 6 * count + 16:
                hcap *= 2
            hkey = np.full(hcap, -1, dtype=np.int64)
            hval = np.empty(hcap, dtype=np.int64)
            for sq in range(count):
                L = seq_len[sq]
                nxt = end
                key = np.int64(0)
                for p in range(L - 1, 0, -1):
                    key = (key << 16) | (np.int64(seq_lo[sq, p]) << 8) | np.int64(seq_hi[sq, p])
                    full = key | (np.int64(L - p) << 56)
                    h = (full * np.int64(-7046029254386353131)) >> 40
                    slot = h & (hcap - 1)
                    found = -1
                    while hkey[slot] != -1:
                        if hkey[slot] == full:
                            found = hval[slot]
                            break
                        slot = (slot + 1) & (hcap - 1)
                    if found < 0:
                        found = ns
                        ns += 1
                        e_src[ne] = found
                        e_lo[ne] = seq_lo[sq, p]
                        e_hi[ne] = seq_hi[sq, p]
                        e_dst[ne] = nxt
                        ne += 1
                        hkey[slot] = full
                        hval[slot] = found
                    nxt = found
                e_src[ne] = start
                e_lo[ne] = seq_lo[sq, 0]
                e_hi[ne] = seq_hi[sq, 0]
                e_dst[ne] = nxt
                ne += 1
            f_start[top] = start
            f_end[top] = end
            f_s0[top] = s0
            f_e0[top] = e0
            f_p0[top] = p0
            top += 1
        elif op == OP_CAT:
            k = a
            base = top - k
            if npp + k > p_src.shape[0]:
                p_src = _grow_i32(p_src, npp + k)
                p_dst = _grow_i32(p_dst, npp + k)
            for q in range(base, top - 1):
                p_src[npp] = f_end[q]
                p_dst[npp] = f_start[q + 1]
                npp += 1
            f_end[base] = f_end[top - 1]
            top = base + 1
        elif op == OP_ALT:
            k = a
            base = top - k
            if ns + 2 > max_nfa:
                return NFA_TOO_LARGE, 0, 0, 0, e_src, e_lo, e_hi, e_dst, 0, p_src, p_dst, 0
            if npp + 2 * k > p_src.shape[0]:
                p_src = _grow_i32(p_src, npp + 2 * k)
                p_dst = _grow_i32(p_dst, npp + 2 * k)
            s = ns
            e = ns + 1
            ns += 2
            for q in range(base, top):
                p_src[npp] = s
                p_dst[npp] = f_start[q]
                p_src[npp + 1] = f_end[q]
                p_dst[npp + 1] = e
                npp += 2
            f_start[base] = s
            f_end[base] = e
            top = base + 1
        else:  # OP_REP
            lo = a
            hi = b
            q = top - 1
            fa = f_start[q]
            fb = f_end[q]
            r0 = f_s0[q]
            re0 = f_e0[q]
            rp0 = f_p0[q]
            size_s = ns - r0
            size_e = ne - re0
            size_p = npp - rp0
            if hi == 0:
                if ns + 1 > max_nfa:
                    return NFA_TOO_LARGE, 0, 0, 0, e_src, e_lo, e_hi, e_dst, 0, p_src, p_dst, 0
                x = ns
                ns += 1
                f_start[q] = x
                f_end[q] = x
                continue
            n_copies = lo if hi < 0 else hi  # total copies, the original included
            if n_copies < 1:
                n_copies = 1
            if ns + size_s * (n_copies - 1) + 2 > max_nfa:
                return NFA_TOO_LARGE, 0, 0, 0, e_src, e_lo, e_hi, e_dst, 0, p_src, p_dst, 0
            extra_e = size_e * (n_copies - 1)
            extra_p = size_p * (n_copies - 1) + 2 * n_copies + 4
            if ne + extra_e > e_src.shape[0]:
                e_src = _grow_i32(e_src, ne + extra_e)
                e_lo = _grow_i32(e_lo, ne + extra_e)
                e_hi = _grow_i32(e_hi, ne + extra_e)
                e_dst = _grow_i32(e_dst, ne + extra_e)
            if npp + extra_p > p_src.shape[0]:
                p_src = _grow_i32(p_src, npp + extra_p)
                p_dst = _grow_i32(p_dst, npp + extra_p)
            starts = np.empty(n_copies, dtype=np.int64)
            ends = np.empty(n_copies, dtype=np.int64)
            starts[0] = fa
            ends[0] = fb
            e_end = ne
            p_end = npp
            for c in range(1, n_copies):
                off = ns - r0
                ns += size_s
                for t in range(re0, e_end):
                    e_src[ne] = e_src[t] + off
                    e_lo[ne] = e_lo[t]
                    e_hi[ne] = e_hi[t]
                    e_dst[ne] = e_dst[t] + off
                    ne += 1
                for t in range(rp0, p_end):
                    p_src[npp] = p_src[t] + off
                    p_dst[npp] = p_dst[t] + off
                    npp += 1
                starts[c] = fa + off
                ends[c] = fb + off
            for c in range(n_copies - 1):
                p_src[npp] = ends[c]
                p_dst[npp] = starts[c + 1]
                npp += 1
            if hi < 0:
                if lo == 0:  # X*: fresh s, e; s->a, s->e, b->a, b->e
                    s = ns
                    e = ns + 1
                    ns += 2
                    p_src[npp] = s
                    p_dst[npp] = fa
                    p_src[npp + 1] = s
                    p_dst[npp + 1] = e
                    p_src[npp + 2] = fb
                    p_dst[npp + 2] = fa
                    p_src[npp + 3] = fb
                    p_dst[npp + 3] = e
                    npp += 4
                else:  # X{lo,} = X^(lo-1) X+: fresh s, e; loop on the last copy
                    s = ns
                    e = ns + 1
                    ns += 2
                    last = n_copies - 1
                    p_src[npp] = s
                    p_dst[npp] = starts[0]
                    p_src[npp + 1] = ends[last]
                    p_dst[npp + 1] = starts[last]
                    p_src[npp + 2] = ends[last]
                    p_dst[npp + 2] = e
                    npp += 3
                f_start[q] = s
                f_end[q] = e
            else:  # X{lo,hi}: copies lo+1..hi (1-based) may be skipped
                e = ns
                ns += 1
                p_src[npp] = ends[n_copies - 1]
                p_dst[npp] = e
                npp += 1
                for c in range(lo, hi):
                    p_src[npp] = starts[c]
                    p_dst[npp] = e
                    npp += 1
                f_start[q] = starts[0]
                f_end[q] = e
    return OK, ns, f_start[0], f_end[0], e_src, e_lo, e_hi, e_dst, ne, p_src, p_dst, npp


# --------------------------------------------------------------------------------------------------
# subset construction over byte classes


# Numba counts the references to an array held in a variable that a loop may reassign (to grow it):
# two atomic operations per such array on every pass through the loop, which cost the subset
# construction a third of its time. So _subsets, which does the work, never reassigns an array:
# when one is full it stops (status _ROOM), and determinize grows it and lets it resume.

_ROOM = -1

# _subsets' counters (an int64 array kept across resumptions)
_AT_STATE = 0  # the DFA state being expanded; -1: make the start state
_N_DFA = 1
_N_SET_BUF = 2  # entries of set_buf in use
_N_CLO_BUF = 3  # entries of clo_buf in use
_VISIT_ID = 4
_UNION_ID = 5
_NEED_BUCKET = 6  # the bucket entries the state being expanded needs
_N_COUNTERS = 7


@njit(cache=True, nogil=True)
def _subsets(counters, start, accept, k, max_states, n_important, e_off, ec_lo, ec_hi, ec_dst, p_off, p_to,
             clo_off, clo_len, clo_buf, visited, in_set, dfs, single, set_off, set_len, set_hash, set_buf, htab,
             table, acc, cnt, boff, bucket, tmp):
    """The subset construction of :func:`determinize` from ``counters[_AT_STATE]`` on. Returns OK
    when every DFA state is expanded, TOO_MANY_STATES, or _ROOM when an array is full: the state
    being expanded is left as if not started (its table row is written again on resumption, with
    the same targets)."""
    i = counters[_AT_STATE]
    n_dfa = counters[_N_DFA]
    n_buf = counters[_N_SET_BUF]
    n_clo = counters[_N_CLO_BUF]
    visit_id = counters[_VISIT_ID]
    union_id = counters[_UNION_ID]
    hmask = htab.shape[0] - 1
    status = OK
    while i < n_dfa:
        if i >= 0:
            so = set_off[i]
            sl = set_len[i]
            cmin = k
            cmax = -1
            total = 0
            for t in range(so, so + sl):
                x = set_buf[t]
                for r in range(e_off[x], e_off[x + 1]):
                    lo = ec_lo[r]
                    hi = ec_hi[r]
                    if lo < cmin:
                        cmin = lo
                    if hi > cmax:
                        cmax = hi
                    for c in range(lo, hi + 1):
                        cnt[c] += 1
                    total += hi - lo + 1
            if cmax < 0:
                i += 1
                continue
            if total > bucket.shape[0]:
                cnt[cmin : cmax + 1] = 0
                counters[_NEED_BUCKET] = total
                status = _ROOM
                break
            acc_off = 0
            for c in range(cmin, cmax + 1):
                boff[c] = acc_off
                acc_off += cnt[c]
                cnt[c] = boff[c]  # becomes the fill pointer
            for t in range(so, so + sl):
                x = set_buf[t]
                for r in range(e_off[x], e_off[x + 1]):
                    d = ec_dst[r]
                    for c in range(ec_lo[r], ec_hi[r] + 1):
                        bucket[cnt[c]] = d
                        cnt[c] += 1
            c_first = cmin
            c_last = cmax
        else:
            # the start state: one bucket holding the start
            bucket[0] = start
            boff[0] = 0
            cnt[0] = 1
            c_first = 0
            c_last = 0
        prev_lo = 0
        prev_len = -1
        prev_target = -1
        for c in range(c_first, c_last + 1):
            b0 = boff[c]
            blen = cnt[c] - b0
            cnt[c] = 0
            if blen == 0:
                prev_len = -1
                continue
            if blen == prev_len:
                same = True
                for t in range(blen):
                    if bucket[b0 + t] != bucket[prev_lo + t]:
                        same = False
                        break
                if same:
                    table[i, c] = prev_target
                    continue
            prev_lo = b0
            prev_len = blen
            # closures of the destinations (computed and sorted on first use)
            for t in range(b0, b0 + blen):
                d = bucket[t]
                if clo_off[d] < 0:
                    if n_clo + n_important > clo_buf.shape[0]:
                        status = _ROOM
                        break
                    visit_id += 1
                    base = n_clo
                    dfs[0] = d
                    sp = 1
                    visited[d] = visit_id
                    while sp > 0:
                        sp -= 1
                        x = dfs[sp]
                        if e_off[x + 1] > e_off[x] or x == accept:
                            clo_buf[n_clo] = x
                            n_clo += 1
                        for r in range(p_off[x], p_off[x + 1]):
                            y = p_to[r]
                            if visited[y] != visit_id:
                                visited[y] = visit_id
                                dfs[sp] = y
                                sp += 1
                    _sort_range(clo_buf, base, n_clo)
                    clo_off[d] = base
                    clo_len[d] = n_clo - base
            if status != OK:
                break
            if blen == 1 and single[bucket[b0]] != -2:
                prev_target = single[bucket[b0]]
                if i >= 0:
                    table[i, c] = prev_target
                continue
            # the union, sorted, in tmp[:n_tmp]
            if blen == 1:
                d = bucket[b0]
                n_tmp = clo_len[d]
                o = clo_off[d]
                for t in range(n_tmp):
                    tmp[t] = clo_buf[o + t]
            else:
                union_id += 1
                n_tmp = 0
                for t in range(b0, b0 + blen):
                    d = bucket[t]
                    o = clo_off[d]
                    for u in range(o, o + clo_len[d]):
                        x = clo_buf[u]
                        if in_set[x] != union_id:
                            in_set[x] = union_id
                            tmp[n_tmp] = x
                            n_tmp += 1
                _sort_range(tmp, 0, n_tmp)
            target = -1
            if n_tmp > 0:
                h = np.int64(n_tmp)
                for t in range(n_tmp):
                    h = (h * np.int64(1000003)) ^ np.int64(tmp[t])
                h = h ^ (h >> 29)
                slot = h & hmask
                while htab[slot] != -1:
                    cand = htab[slot]
                    if set_hash[cand] == h and set_len[cand] == n_tmp:
                        co = set_off[cand]
                        same = True
                        for t in range(n_tmp):
                            if set_buf[co + t] != tmp[t]:
                                same = False
                                break
                        if same:
                            target = cand
                            break
                    slot = (slot + 1) & hmask
                if target < 0:
                    if n_dfa > 0 and n_dfa >= max_states:
                        status = TOO_MANY_STATES
                        break
                    if n_dfa == table.shape[0] or n_buf + n_tmp > set_buf.shape[0] or 2 * (n_dfa + 1) > htab.shape[0]:
                        status = _ROOM
                        break
                    target = n_dfa
                    n_dfa += 1
                    set_off[target] = n_buf
                    set_len[target] = n_tmp
                    set_hash[target] = h
                    is_acc = False
                    for t in range(n_tmp):
                        set_buf[n_buf + t] = tmp[t]
                        if tmp[t] == accept:
                            is_acc = True
                    acc[target] = is_acc
                    n_buf += n_tmp
                    htab[slot] = target
            if blen == 1:
                single[bucket[b0]] = target
            prev_target = target
            if i >= 0:
                table[i, c] = target
        if status != OK:
            cnt[c_first : c_last + 1] = 0
            break
        i += 1
    counters[_AT_STATE] = i
    counters[_N_DFA] = n_dfa
    counters[_N_SET_BUF] = n_buf
    counters[_N_CLO_BUF] = n_clo
    counters[_VISIT_ID] = visit_id
    counters[_UNION_ID] = union_id
    return status


@njit(cache=True, nogil=True)
def _offsets_by_source(src, n_edges, n_states):
    """CSR offsets of the edges ``src[:n_edges]`` grouped by source state: state ``s``'s edges are
    ``off[s]:off[s + 1]``."""
    off = np.zeros(n_states + 1, dtype=np.int64)
    for q in range(n_edges):
        off[src[q] + 1] += 1
    for s in range(n_states):
        off[s + 1] += off[s]
    return off


@njit(cache=True, nogil=True)
def determinize(n_states, start, accept, e_src, e_lo, e_hi, e_dst, n_e, p_src, p_dst, n_p, max_states):
    """Subset construction. Returns ``(status, table int32[n, k], accepting bool[n], n, cls int32[256], k)``:
    ``table[s, c]`` is the target of state ``s`` on byte class ``c`` (-1: none). The classes are the
    intervals between the edges' boundaries, numbered in increasing byte order (``cls[b]``: the
    class of byte ``b``). A DFA state is the sorted set of *important* NFA states (those with byte
    edges, and the accepting one) of an epsilon closure."""
    # byte classes
    mark = np.zeros(257, dtype=np.int8)
    for q in range(n_e):
        mark[e_lo[q]] = 1
        mark[e_hi[q] + 1] = 1
    cls = np.empty(256, dtype=np.int32)
    k = 0
    for byte in range(256):
        if mark[byte] and byte > 0:
            k += 1
        cls[byte] = k
    k += 1
    # byte edges (as class ranges) and epsilon edges, CSR by source
    e_off = _offsets_by_source(e_src, n_e, n_states)
    fill = e_off[:n_states].copy()
    ec_lo = np.empty(n_e, dtype=np.int32)
    ec_hi = np.empty(n_e, dtype=np.int32)
    ec_dst = np.empty(n_e, dtype=np.int32)
    for q in range(n_e):
        s = e_src[q]
        w = fill[s]
        fill[s] += 1
        ec_lo[w] = cls[e_lo[q]]
        ec_hi[w] = cls[e_hi[q]]
        ec_dst[w] = e_dst[q]
    p_off = _offsets_by_source(p_src, n_p, n_states)
    pfill = p_off[:n_states].copy()
    p_to = np.empty(n_p, dtype=np.int32)
    for q in range(n_p):
        s = p_src[q]
        p_to[pfill[s]] = p_dst[q]
        pfill[s] += 1
    n_important = 0  # the most a closure (or a DFA state's set) can hold
    for s in range(n_states):
        if e_off[s + 1] > e_off[s] or s == accept:
            n_important += 1

    # epsilon closures restricted to important states, sorted, computed on first use
    clo_off = np.full(n_states, -1, dtype=np.int64)
    clo_len = np.zeros(n_states, dtype=np.int64)
    clo_buf = np.empty(max(1024, 2 * n_important), dtype=np.int32)
    visited = np.zeros(n_states, dtype=np.int64)
    in_set = np.zeros(n_states, dtype=np.int64)
    dfs = np.empty(max(n_states, 1), dtype=np.int32)  # a state is pushed once per closure
    single = np.full(n_states, -2, dtype=np.int64)  # DFA state of closure(d) alone (-2: not yet)

    # DFA states
    set_off = np.empty(64, dtype=np.int64)
    set_len = np.empty(64, dtype=np.int64)
    set_hash = np.empty(64, dtype=np.int64)
    set_buf = np.empty(max(1024, 2 * n_important), dtype=np.int32)
    htab = np.full(1024, -1, dtype=np.int64)
    table = np.full((64, k), -1, dtype=np.int32)
    acc = np.zeros(64, dtype=np.bool_)

    # per-state scratch: destinations bucketed by class (CSR over classes)
    cnt = np.zeros(k + 1, dtype=np.int64)
    boff = np.zeros(k + 1, dtype=np.int64)
    bucket = np.empty(64, dtype=np.int32)
    tmp = np.empty(max(n_important, 1), dtype=np.int32)

    counters = np.zeros(_N_COUNTERS, dtype=np.int64)
    counters[_AT_STATE] = -1
    while True:
        status = _subsets(counters, start, accept, k, max_states, n_important, e_off, ec_lo, ec_hi, ec_dst, p_off,
                          p_to, clo_off, clo_len, clo_buf, visited, in_set, dfs, single, set_off, set_len, set_hash,
                          set_buf, htab, table, acc, cnt, boff, bucket, tmp)
        if status != _ROOM:
            break
        bucket = _grow_i32(bucket, counters[_NEED_BUCKET])
        clo_buf = _grow_i32(clo_buf, counters[_N_CLO_BUF] + n_important)
        set_buf = _grow_i32(set_buf, counters[_N_SET_BUF] + n_important)
        n_dfa = counters[_N_DFA]
        if n_dfa == table.shape[0]:
            set_off = _grow_i64(set_off, n_dfa + 1)
            set_len = _grow_i64(set_len, n_dfa + 1)
            set_hash = _grow_i64(set_hash, n_dfa + 1)
            table = _grow_rows(table, n_dfa + 1, -1)
            acc2 = np.zeros(table.shape[0], dtype=np.bool_)
            acc2[:n_dfa] = acc[:n_dfa]
            acc = acc2
        if 2 * (n_dfa + 1) > htab.shape[0]:
            htab = np.full(2 * htab.shape[0], -1, dtype=np.int64)
            hmask = htab.shape[0] - 1
            for z in range(n_dfa):
                slot = set_hash[z] & hmask
                while htab[slot] != -1:
                    slot = (slot + 1) & hmask
                htab[slot] = z
    if status != OK:
        return status, table[:0], acc[:0], 0, cls, k
    n_dfa = counters[_N_DFA]
    return OK, table[:n_dfa], acc[:n_dfa], n_dfa, cls, k


# --------------------------------------------------------------------------------------------------
# minimization


@njit(cache=True, nogil=True)
def _signature_partition(n, k, inv_off, inv_c, inv_s, accepting, elems, first, past, blk):
    """The first partition of a trimmed partial DFA's states: by acceptance and by the set of classes
    they have a transition on (in a trimmed DFA, states that differ there differ in language).
    Writes each block's states contiguously in ``elems[first[b]:past[b]]`` and ``blk``; returns the
    number of blocks."""
    n_words = (k + 63) >> 6
    classes = np.zeros((n, n_words), dtype=np.uint64)
    for t in range(n):
        for r in range(inv_off[t], inv_off[t + 1]):
            c = inv_c[r]
            classes[inv_s[r], c >> 6] |= np.uint64(1) << np.uint64(c & 63)
    cap = 16
    while cap < 2 * n:
        cap *= 2
    slots = np.full(cap, -1, dtype=np.int64)  # open addressing: a block per slot
    first_of = np.empty(n, dtype=np.int64)  # a state of each block
    n_blocks = 0
    for s in range(n):
        x = np.uint64(2) if accepting[s] else np.uint64(1)
        for w in range(n_words):
            x = (x ^ classes[s, w]) * np.uint64(0x9E3779B97F4A7C15)
            x ^= x >> np.uint64(29)
        slot = np.int64(x & np.uint64(cap - 1))
        while True:
            b = slots[slot]
            if b < 0:
                b = n_blocks
                n_blocks += 1
                first_of[b] = s
                slots[slot] = b
                break
            r = first_of[b]
            same = accepting[r] == accepting[s]
            for w in range(n_words):
                if classes[r, w] != classes[s, w]:
                    same = False
            if same:
                break
            slot = (slot + 1) & (cap - 1)
        blk[s] = b
    for b in range(n_blocks + 1):
        first[b] = 0
    for s in range(n):
        first[blk[s] + 1] += 1
    for b in range(n_blocks):
        first[b + 1] += first[b]
    for b in range(n_blocks):
        past[b] = first[b]
    for s in range(n):
        b = blk[s]
        elems[past[b]] = s
        past[b] += 1
    return n_blocks


@njit(cache=True, nogil=True)
def _hopcroft_partial(n, k, inv_off, inv_c, inv_s, accepting):
    """Hopcroft refinement of a *trimmed partial* DFA over ``n`` states (every state reaches
    acceptance; missing transitions lead to an implicit dead sink, alone in its class). The
    transitions are given inverted: the sources of target ``t`` are ``inv_s[inv_off[t]:inv_off[t + 1]]``
    on classes ``inv_c[...]``. Returns int32[n], the block of each state.

    The first partition is :func:`_signature_partition`'s. Every block of it respects the sink's
    preimages, and so the union of all the others, so neither the sink nor one of the first blocks
    (the largest: the most transitions skipped) need be a splitter; no transition into the sink is
    ever looked at, and the cost is O(m log n) in the m real transitions. Blocks are contiguous
    slices of ``elems``; the smaller half of every split is queued."""
    elems = np.empty(n, dtype=np.int32)
    loc = np.empty(n, dtype=np.int32)
    blk = np.empty(n, dtype=np.int32)
    first = np.empty(n + 1, dtype=np.int32)
    past = np.empty(n + 1, dtype=np.int32)
    mid = np.empty(n + 1, dtype=np.int32)
    work = np.empty(n + 1, dtype=np.int32)
    touched = np.empty(n + 1, dtype=np.int32)
    m = inv_off[n]
    pair_c = np.empty(m, dtype=np.int32)
    pair_s = np.empty(m, dtype=np.int32)
    sorted_s = np.empty(m, dtype=np.int32)
    ccount = np.zeros(k + 1, dtype=np.int64)
    cstart = np.zeros(k + 1, dtype=np.int64)
    classes = np.empty(k, dtype=np.int32)

    n_blocks = _signature_partition(n, k, inv_off, inv_c, inv_s, accepting, elems, first, past, blk)
    largest = 0
    for b in range(n_blocks):
        mid[b] = first[b]
        for q in range(first[b], past[b]):
            loc[elems[q]] = q
        if past[b] - first[b] > past[largest] - first[largest]:
            largest = b
    w_top = 0
    for b in range(n_blocks):
        if b != largest:
            work[w_top] = b
            w_top += 1

    while w_top > 0:
        w_top -= 1
        a = work[w_top]
        # the preimage pairs of the splitter as it is now, bucketed by class
        n_pairs = 0
        n_classes = 0
        for q in range(first[a], past[a]):
            t = elems[q]
            for r in range(inv_off[t], inv_off[t + 1]):
                c = inv_c[r]
                if ccount[c] == 0:
                    classes[n_classes] = c
                    n_classes += 1
                ccount[c] += 1
                pair_c[n_pairs] = c
                pair_s[n_pairs] = inv_s[r]
                n_pairs += 1
        pos = 0
        for z in range(n_classes):
            c = classes[z]
            cstart[c] = pos
            pos += ccount[c]
            ccount[c] = cstart[c]
        for q in range(n_pairs):
            c = pair_c[q]
            sorted_s[ccount[c]] = pair_s[q]
            ccount[c] += 1
        for z in range(n_classes):
            c = classes[z]
            lo = cstart[c]
            hi = ccount[c]
            ccount[c] = 0
            n_touched = 0
            for q in range(lo, hi):
                s = sorted_s[q]
                b = blk[s]
                i = loc[s]
                j = mid[b]
                if i < j:
                    continue  # already marked
                if j == first[b]:
                    touched[n_touched] = b
                    n_touched += 1
                other = elems[j]
                elems[j] = s
                loc[s] = j
                elems[i] = other
                loc[other] = i
                mid[b] = j + 1
            for zz in range(n_touched):
                b = touched[zz]
                mm = mid[b]
                if mm == past[b]:
                    mid[b] = first[b]
                    continue
                nb = n_blocks
                n_blocks += 1
                if mm - first[b] <= past[b] - mm:
                    first[nb] = first[b]
                    past[nb] = mm
                    first[b] = mm
                else:
                    first[nb] = mm
                    past[nb] = past[b]
                    past[b] = mm
                mid[b] = first[b]
                mid[nb] = first[nb]
                for q in range(first[nb], past[nb]):
                    blk[elems[q]] = nb
                # the new block is the smaller half: queue it (if b was queued, it still is)
                work[w_top] = nb
                w_top += 1
    return blk


@njit(cache=True, nogil=True)
def minimize(table, acc, n, k, cls):
    """Minimal, trimmed DFA of ``table`` (int32[n, k] over byte classes ``cls``, numbered in the
    order of their first byte; -1: none; start 0; every state reachable), states numbered
    breadth-first over bytes in increasing order. Returns ``(status, transitions int32[m, 256],
    accepting bool[m])``."""
    empty = (EMPTY_LANGUAGE, np.zeros((0, 256), dtype=np.int32), np.zeros(0, dtype=np.bool_))
    if n == 0:
        return empty
    # trim: the states that can reach acceptance (backwards from the accepting ones)
    r_off = np.zeros(n + 1, dtype=np.int64)
    for s in range(n):
        for c in range(k):
            t = table[s, c]
            if t >= 0:
                r_off[t + 1] += 1
    for s in range(n):
        r_off[s + 1] += r_off[s]
    m = r_off[n]
    fill = r_off[:n].copy()
    r_c = np.empty(m, dtype=np.int32)
    r_s = np.empty(m, dtype=np.int32)
    for s in range(n):
        for c in range(k):
            t = table[s, c]
            if t >= 0:
                w = fill[t]
                r_c[w] = c
                r_s[w] = s
                fill[t] += 1
    live = np.zeros(n, dtype=np.bool_)
    stack = np.empty(n, dtype=np.int32)
    sp = 0
    for s in range(n):
        if acc[s]:
            live[s] = True
            stack[sp] = s
            sp += 1
    while sp > 0:
        sp -= 1
        t = stack[sp]
        for r in range(r_off[t], r_off[t + 1]):
            s = r_s[r]
            if not live[s]:
                live[s] = True
                stack[sp] = s
                sp += 1
    if not live[0]:
        return empty
    # live states renumbered 0..L-1 (state 0 stays 0); inverse transitions among them
    lid = np.full(n, -1, dtype=np.int32)
    L = 0
    for s in range(n):
        if live[s]:
            lid[s] = L
            L += 1
    if L == n:  # nothing to drop (the usual case): the inverse transitions are those already built
        blk = _hopcroft_partial(n, k, r_off, r_c, r_s, acc)
    else:
        inv_off = np.zeros(L + 1, dtype=np.int64)
        for t in range(n):
            if live[t]:
                cnt = 0
                for r in range(r_off[t], r_off[t + 1]):
                    if live[r_s[r]]:
                        cnt += 1
                inv_off[lid[t] + 1] = cnt
        for t in range(L):
            inv_off[t + 1] += inv_off[t]
        inv_c = np.empty(inv_off[L], dtype=np.int32)
        inv_s = np.empty(inv_off[L], dtype=np.int32)
        acc_l = np.empty(L, dtype=np.bool_)
        for t in range(n):
            if live[t]:
                w = inv_off[lid[t]]
                acc_l[lid[t]] = acc[t]
                for r in range(r_off[t], r_off[t + 1]):
                    s = r_s[r]
                    if live[s]:
                        inv_c[w] = r_c[r]
                        inv_s[w] = lid[s]
                        w += 1
        blk = _hopcroft_partial(L, k, inv_off, inv_c, inv_s, acc_l)
    n_blocks = 0
    for s in range(L):
        if blk[s] + 1 > n_blocks:
            n_blocks = blk[s] + 1
    rep = np.full(n_blocks, -1, dtype=np.int64)  # an original state of each block
    for s in range(n):
        if live[s] and rep[blk[lid[s]]] < 0:
            rep[blk[lid[s]]] = s
    # breadth-first numbering over classes in increasing byte order, each row written as it is read
    # (every block is reached: the states on a path to a live state are live)
    new_id = np.full(n_blocks, -1, dtype=np.int32)
    order = np.empty(n_blocks, dtype=np.int64)
    new_id[blk[0]] = 0
    order[0] = blk[0]
    found = 1
    out = np.empty((n_blocks, 256), dtype=np.int32)
    acc_out = np.empty(n_blocks, dtype=np.bool_)
    row = np.empty(k, dtype=np.int32)
    i = 0
    while i < found:
        r = rep[order[i]]
        acc_out[i] = acc[r]
        for c in range(k):
            t = table[r, c]
            if t >= 0 and live[t]:
                b = blk[lid[t]]
                if new_id[b] < 0:
                    new_id[b] = found
                    order[found] = b
                    found += 1
                row[c] = new_id[b]
            else:
                row[c] = -1
        for byte in range(256):
            out[i, byte] = row[cls[byte]]
        i += 1
    return OK, out[:found], acc_out[:found]


# --------------------------------------------------------------------------------------------------
# entry points


# The stages are called one by one from Python (a few microseconds each): one kernel calling the
# others would be compiled again as a whole, doubling the first-install JIT time.

_NO_TABLE = np.zeros((0, 256), dtype=np.int32)
_NO_ACCEPTING = np.zeros(0, dtype=np.bool_)


def compile_program(prog, n_ops, pool, max_nfa, max_states):
    """Program -> minimal DFA: ``(status, transitions int32[m, 256], accepting bool[m])``.
    ``prog`` int32[:, 3] (its first ``n_ops`` rows), ``pool`` int32[:], the rest ``np.int64``."""
    st, ns, start, accept, e_src, e_lo, e_hi, e_dst, ne, p_src, p_dst, npp = build_nfa(prog, n_ops, pool, max_nfa)
    if st != OK:
        return st, _NO_TABLE, _NO_ACCEPTING
    st, table, acc, n, cls, k = determinize(
        ns, start, accept, e_src, e_lo, e_hi, e_dst, ne, p_src, p_dst, npp, max_states
    )
    if st != OK:
        return st, _NO_TABLE, _NO_ACCEPTING
    return minimize(table, acc, n, k, cls)


def compile_pattern(cps, cat_data, cat_off, cat_hav, max_nfa, max_states):
    """Flag-free pattern (code points, int32[:]) -> minimal DFA, or ``FALLBACK`` (see
    :func:`parse_pattern`)."""
    st, prog, n_ops, pool = parse_pattern(cps, cat_data, cat_off, cat_hav)
    if st != OK:
        return st, _NO_TABLE, _NO_ACCEPTING
    return compile_program(prog, n_ops, pool, max_nfa, max_states)


# --------------------------------------------------------------------------------------------------


def warmup() -> None:
    """Compile (or load from the on-disk cache) the kernels with the argument types
    :mod:`guidegen.automata.regex` passes."""
    cps = np.frombuffer("[a-c]+(?:x|y{2,3})\\d".encode("utf-32-le"), dtype=np.int32).copy()
    cat_data = np.array([[48, 57]], dtype=np.int32)
    cat_off = np.array([0, 1, 1, 1, 1, 1, 1], dtype=np.int64)
    cat_have = np.array([1, 0, 0, 0, 0, 0], dtype=np.int8)
    compile_pattern(cps, cat_data, cat_off, cat_have, np.int64(1000), np.int64(1000))
    prog = np.array([[OP_STR, 0, 1], [OP_REP, 0, -1]], dtype=np.int32)
    pool = np.array([97], dtype=np.int32)
    compile_program(prog, np.int64(2), pool, np.int64(1000), np.int64(1000))


if __name__ == "__main__":
    from guidegen.automata.regex import warmup as _warmup_regex

    _warmup_regex()  # the kernels above, plus the stored Unicode tables
