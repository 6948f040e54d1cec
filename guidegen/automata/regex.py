"""Python regular expressions → minimal byte-level DFA.

Pipeline: ``re``'s own parser → Thompson NFA over code-point sets, each set expanded to UTF-8 byte
sequences (valid UTF-8 only: no surrogates, no overlong forms) → subset construction over bytes →
Hopcroft minimization, which also drops every state that cannot reach acceptance.

The pattern always matches the whole text, as :func:`re.fullmatch` does. ``^``/``\\A`` are accepted
at the start and ``$``/``\\Z`` at the end (they are no-ops there); anywhere else they, like
lookaround, backreferences, conditional groups, ``\\b``/``\\B``, atomic groups and possessive
quantifiers, raise :class:`~guidegen.errors.RegexError`. Character semantics are those of a ``str``
pattern: Unicode ``\\d \\w \\s``, ``.`` excludes ``\\n`` unless ``(?s)``, ``(?i)`` folds case exactly
as ``re`` does, ``(?a)`` restricts classes and case folding to ASCII.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from ..errors import RegexError
from . import kernels
from .dfa import DFA

try:  # Python 3.11+
    import re._constants as _c
    import re._parser as _p
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _c  # type: ignore[no-redef]
    import sre_parse as _p  # type: ignore[no-redef]

__all__ = ["compile_regex", "DEFAULT_MAX_STATES"]

DEFAULT_MAX_STATES = 200_000
"""Largest DFA (states before minimization) :func:`compile_regex` builds before giving up."""

_MAX_NFA_STATES = 2_000_000
_MAX_CP = 0x10FFFF
_SURROGATES = ((0xD800, 0xDFFF),)

_LITERAL = _c.LITERAL
_NOT_LITERAL = _c.NOT_LITERAL
_ANY = _c.ANY
_IN = _c.IN
_BRANCH = _c.BRANCH
_SUBPATTERN = _c.SUBPATTERN
_MAX_REPEAT = _c.MAX_REPEAT
_MIN_REPEAT = _c.MIN_REPEAT
_AT = _c.AT
_NEGATE = _c.NEGATE
_RANGE = _c.RANGE
_CATEGORY = _c.CATEGORY
_MAXREPEAT = _c.MAXREPEAT

_F_IGNORECASE = _c.SRE_FLAG_IGNORECASE
_F_DOTALL = _c.SRE_FLAG_DOTALL
_F_ASCII = _c.SRE_FLAG_ASCII

_CATEGORY_SOURCE = {
    _c.CATEGORY_DIGIT: r"\d",
    _c.CATEGORY_NOT_DIGIT: r"\D",
    _c.CATEGORY_SPACE: r"\s",
    _c.CATEGORY_NOT_SPACE: r"\S",
    _c.CATEGORY_WORD: r"\w",
    _c.CATEGORY_NOT_WORD: r"\W",
}

# constructs that have no finite automaton, by opcode name (names are stable across 3.10–3.13)
_UNSUPPORTED = {
    "ASSERT": "lookahead/lookbehind assertion",
    "ASSERT_NOT": "negative lookahead/lookbehind assertion",
    "GROUPREF": "backreference",
    "GROUPREF_EXISTS": "conditional group (?(id)yes|no)",
    "ATOMIC_GROUP": "atomic group (?>...)",
    "POSSESSIVE_REPEAT": "possessive quantifier",
}


# --------------------------------------------------------------------------------------------------
# code-point sets: sorted tuples of disjoint, non-adjacent inclusive ranges


def _normalize(ranges) -> tuple[tuple[int, int], ...]:
    out: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1][1] = hi
        else:
            out.append([lo, hi])
    return tuple((a, b) for a, b in out)


def _negate(ranges) -> tuple[tuple[int, int], ...]:
    out = []
    nxt = 0
    for lo, hi in ranges:
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= _MAX_CP:
        out.append((nxt, _MAX_CP))
    return tuple(out)


def _subtract(a, b) -> tuple[tuple[int, int], ...]:
    return _intersect(a, _negate(b))


def _intersect(a, b) -> tuple[tuple[int, int], ...]:
    out = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo = max(a[i][0], b[j][0])
        hi = min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


@lru_cache(maxsize=1)
def _all_code_points() -> str:
    # every code point, surrogates included, in one str (decoding is ~10x faster than joining chrs)
    return np.arange(_MAX_CP + 1, dtype="<u4").tobytes().decode("utf-32-le", "surrogatepass")


@lru_cache(maxsize=None)
def _category_ranges(category, ascii_only: bool) -> tuple[tuple[int, int], ...]:
    """Exactly the code points ``re`` puts in ``\\d``, ``\\w``... (found by letting ``re`` scan them all)."""
    src = _CATEGORY_SOURCE[category]
    scan = re.compile(f"(?:{src})+", re.ASCII if ascii_only else 0)
    return tuple((m.start(), m.end() - 1) for m in scan.finditer(_all_code_points()))


@lru_cache(maxsize=2)
def _cased(ascii_only: bool) -> tuple[tuple[tuple[int, int], ...], str]:
    """The code points case folding can affect (as ranges, and as one string to scan)."""
    if ascii_only:
        cps = list(range(ord("A"), ord("Z") + 1)) + list(range(ord("a"), ord("z") + 1))
    else:
        import _sre

        cps = [cp for cp in range(_MAX_CP + 1) if _sre.unicode_iscased(cp)]
    return _normalize((cp, cp) for cp in cps), "".join(map(chr, cps))


def _cp_source(cp: int) -> str:
    return "\\U%08x" % cp


def _item_source(op, av) -> str:
    """Regex source for one single-character item of the parse tree (used to ask ``re`` itself)."""
    if op is _LITERAL:
        return _cp_source(av)
    if op is _NOT_LITERAL:
        return "[^" + _cp_source(av) + "]"
    if op is _IN:
        parts = []
        for iop, iav in av:
            if iop is _NEGATE:
                parts.insert(0, "^")
            elif iop is _LITERAL:
                parts.append(_cp_source(iav))
            elif iop is _RANGE:
                parts.append(_cp_source(iav[0]) + "-" + _cp_source(iav[1]))
            elif iop is _CATEGORY:
                parts.append(_CATEGORY_SOURCE[iav])
            else:  # pragma: no cover - the parser produces nothing else in a class
                raise RegexError(f"unsupported character-class item {iop}")
        return "[" + "".join(parts) + "]"
    raise AssertionError(op)  # pragma: no cover


def _plain_class(items, ascii_only: bool) -> tuple[tuple[int, int], ...]:
    negate = False
    ranges: list[tuple[int, int]] = []
    for op, av in items:
        if op is _NEGATE:
            negate = True
        elif op is _LITERAL:
            ranges.append((av, av))
        elif op is _RANGE:
            ranges.append((av[0], av[1]))
        elif op is _CATEGORY:
            if av not in _CATEGORY_SOURCE:
                raise RegexError(f"unsupported character category {av}")
            ranges.extend(_category_ranges(av, ascii_only))
        else:  # pragma: no cover
            raise RegexError(f"unsupported character-class item {op}")
    out = _normalize(ranges)
    return _negate(out) if negate else out


@lru_cache(maxsize=4096)
def _charset(op, av_key, flags: int) -> tuple[tuple[int, int], ...]:
    """Code points matched by one single-character item under ``flags``."""
    av = av_key
    ascii_only = bool(flags & _F_ASCII)
    if op is _ANY:
        return ((0, _MAX_CP),) if flags & _F_DOTALL else ((0, 9), (11, _MAX_CP))
    if op is _LITERAL:
        plain: tuple[tuple[int, int], ...] = ((av, av),)
    elif op is _NOT_LITERAL:
        plain = _negate(((av, av),))
    else:
        plain = _plain_class(av, ascii_only)
    if not flags & _F_IGNORECASE:
        return plain
    # Case-insensitive: code points without case behave as without the flag (checked for every
    # Unicode code point: re lowercases to itself or to a cased character). For the ~2.9k cased
    # ones, let re decide, so that its folding rules (Kelvin sign, long s, Turkish dotted I...) are
    # reproduced exactly.
    cased_ranges, cased_text = _cased(ascii_only)
    pat = re.compile(_item_source(op, av), re.IGNORECASE | (re.ASCII if ascii_only else 0))
    hits = [(ord(m.group()), ord(m.group())) for m in pat.finditer(cased_text)]
    return _normalize(list(_subtract(plain, cased_ranges)) + hits)


def _freeze(av):
    """Hashable form of a class item list (for the charset cache)."""
    if isinstance(av, list):
        return tuple((op, tuple(x) if isinstance(x, list) else x) for op, x in av)
    return av


# --------------------------------------------------------------------------------------------------
# UTF-8


def _encode(cp: int) -> bytes:
    return chr(cp).encode("utf-8")


@lru_cache(maxsize=4096)
def _utf8_sequences(ranges: tuple[tuple[int, int], ...]) -> tuple[tuple[tuple[int, int], ...], ...]:
    """Split code-point ranges (surrogates removed) into byte-range sequences.

    Each result ``((lo1, hi1), (lo2, hi2), ...)`` matches exactly the UTF-8 encodings of one block
    of code points; together they cover the input. (The classic splitting algorithm, as in RE2 and
    Rust's ``utf8-ranges``.)
    """
    out = []
    stack = [r for r in reversed(_subtract(ranges, _SURROGATES))]
    while stack:
        lo, hi = stack.pop()
        split = False
        for bound in (0x7F, 0x7FF, 0xFFFF):
            if lo <= bound < hi:
                stack.append((bound + 1, hi))
                stack.append((lo, bound))
                split = True
                break
        if split:
            continue
        if hi <= 0x7F:
            out.append(((lo, hi),))
            continue
        n = len(_encode(lo))
        for i in range(1, n):
            m = (1 << (6 * i)) - 1
            if lo & ~m != hi & ~m:
                if lo & m != 0:
                    stack.append(((lo | m) + 1, hi))
                    stack.append((lo, lo | m))
                    split = True
                    break
                if hi & m != m:
                    stack.append((hi & ~m, hi))
                    stack.append((lo, (hi & ~m) - 1))
                    split = True
                    break
        if split:
            continue
        a, b = _encode(lo), _encode(hi)
        out.append(tuple(zip(a, b)))
    return tuple(out)


# --------------------------------------------------------------------------------------------------
# NFA (Thompson). Invariant: building a fragment from state ``src`` only adds edges *out of* src and
# between states it creates itself, so a fragment built from a fresh state occupies a contiguous
# id range and can be duplicated by offsetting ids (used for counted repetition).


class _NFA:
    __slots__ = ("eps", "edges", "max_states")

    def __init__(self, max_states: int) -> None:
        self.eps: list[list[int] | None] = []
        self.edges: list[list[tuple[int, int, int]] | None] = []
        self.max_states = max_states

    def new(self) -> int:
        self.eps.append(None)
        self.edges.append(None)
        n = len(self.eps)
        if n > self.max_states:
            raise _TooLarge()
        return n - 1

    def add_eps(self, a: int, b: int) -> None:
        lst = self.eps[a]
        if lst is None:
            self.eps[a] = [b]
        else:
            lst.append(b)

    def add_edge(self, a: int, lo: int, hi: int, b: int) -> None:
        lst = self.edges[a]
        if lst is None:
            self.edges[a] = [(lo, hi, b)]
        else:
            lst.append((lo, hi, b))

    def copy_range(self, r0: int, r1: int) -> int:
        """Append a copy of states ``r0..r1-1``; returns the id offset of the copy."""
        off = len(self.eps) - r0
        if len(self.eps) + (r1 - r0) > self.max_states:
            raise _TooLarge()
        eps, edges = self.eps, self.edges
        for s in range(r0, r1):
            e = eps[s]
            eps.append([x + off for x in e] if e is not None else None)
            g = edges[s]
            edges.append([(lo, hi, t + off) for lo, hi, t in g] if g is not None else None)
        return off


class _TooLarge(Exception):
    pass


class _Builder:
    def __init__(self, pattern: str, max_nfa_states: int, verbose: bool = False) -> None:
        self.pattern = pattern
        self.verbose = verbose
        self.nfa = _NFA(max_nfa_states)
        self.anchor_count: dict[str, int] = {}
        self._positions: dict[str, list[int]] | None = None

    # error reporting ----------------------------------------------------------------------------
    def position(self, kind: str, occurrence: int = 0) -> int | None:
        if self._positions is None:
            self._positions = _construct_positions(self.pattern, self.verbose)
        lst = self._positions.get(kind, [])
        if occurrence < len(lst):
            return lst[occurrence]
        return lst[0] if lst else None

    def unsupported(self, what: str, kind: str) -> RegexError:
        pos = self.position(kind)
        where = f" at position {pos}" if pos is not None else ""
        return RegexError(
            f"{what}{where} is not supported in a constrained-generation regex "
            f"(it has no finite automaton): {self.pattern!r}"
        )

    # construction -------------------------------------------------------------------------------
    def build_seq(self, items, flags: int, src: int, at_start: bool, at_end: bool) -> int:
        items = list(items)
        n = len(items)
        is_anchor = [op is _AT for op, _ in items]
        cur = src
        for i, (op, av) in enumerate(items):
            start_here = at_start and not any(not x for x in is_anchor[:i])
            end_here = at_end and not any(not x for x in is_anchor[i + 1 : n])
            cur = self.build_node(op, av, flags, cur, start_here, end_here)
        return cur

    def build_node(self, op, av, flags: int, src: int, at_start: bool, at_end: bool) -> int:
        nfa = self.nfa
        if op is _LITERAL and av < 0x80 and not (flags & _F_IGNORECASE and chr(av).isalpha()):
            e = nfa.new()
            nfa.add_edge(src, av, av, e)
            return e
        if op is _LITERAL or op is _NOT_LITERAL or op is _ANY or op is _IN:
            key = _freeze(av) if op is _IN else av
            flag_key = flags & (_F_IGNORECASE | _F_DOTALL | _F_ASCII)
            return self.emit_charset(_charset(op, key, flag_key), src)
        if op is _SUBPATTERN:
            _group, add_flags, del_flags, sub = av
            return self.build_seq(sub, (flags | add_flags) & ~del_flags, src, at_start, at_end)
        if op is _BRANCH:
            _, alternatives = av
            end = nfa.new()
            for alt in alternatives:
                nfa.add_eps(self.build_seq(alt, flags, src, at_start, at_end), end)
            return end
        if op is _MAX_REPEAT or op is _MIN_REPEAT:
            lo, hi, sub = av
            return self.build_repeat(lo, hi, sub, flags, src)
        if op is _AT:
            return self.build_anchor(av, src, at_start, at_end)
        name = str(op)
        if name in _UNSUPPORTED:
            kind = name
            if name in ("ASSERT", "ASSERT_NOT"):
                direction = av[0]
                kind = ("lookahead" if direction >= 0 else "lookbehind") + ("" if name == "ASSERT" else "_neg")
                what = {
                    "lookahead": "lookahead assertion (?=...)",
                    "lookahead_neg": "negative lookahead assertion (?!...)",
                    "lookbehind": "lookbehind assertion (?<=...)",
                    "lookbehind_neg": "negative lookbehind assertion (?<!...)",
                }[kind]
            else:
                what = _UNSUPPORTED[name]
            raise self.unsupported(what, kind)
        raise RegexError(f"unsupported regex construct {name} in {self.pattern!r}")

    def build_anchor(self, av, src: int, at_start: bool, at_end: bool) -> int:
        name = str(av)
        if name == "AT_BOUNDARY":
            raise self.unsupported(r"word boundary \b", "\\b")
        if name == "AT_NON_BOUNDARY":
            raise self.unsupported(r"non-boundary \B", "\\B")
        kind = {
            "AT_BEGINNING": "^",
            "AT_BEGINNING_STRING": "\\A",
            "AT_END": "$",
            "AT_END_STRING": "\\Z",
        }.get(name)
        if kind is None:  # pragma: no cover
            raise RegexError(f"unsupported anchor {name} in {self.pattern!r}")
        occurrence = self.anchor_count.get(kind, 0)
        self.anchor_count[kind] = occurrence + 1
        ok = at_start if kind in ("^", "\\A") else at_end
        if ok:
            return src  # the whole text is always matched: the anchor holds trivially there
        pos = self.position(kind, occurrence)
        where = f" at position {pos}" if pos is not None else ""
        side = "start" if kind in ("^", "\\A") else "end"
        raise RegexError(
            f"anchor {kind}{where} is only supported at the {side} of the pattern "
            f"(the whole text is always matched): {self.pattern!r}"
        )

    def emit_charset(self, ranges, src: int) -> int:
        nfa = self.nfa
        end = nfa.new()
        if not ranges:
            return end  # matches nothing: end stays unreachable
        memo: dict[tuple, int] = {}

        def suffix_state(suf) -> int:
            if not suf:
                return end
            st = memo.get(suf)
            if st is None:
                nxt = suffix_state(suf[1:])
                st = nfa.new()
                nfa.add_edge(st, suf[0][0], suf[0][1], nxt)
                memo[suf] = st
            return st

        for seq in _utf8_sequences(ranges):
            nfa.add_edge(src, seq[0][0], seq[0][1], suffix_state(seq[1:]))
        return end

    def build_repeat(self, lo: int, hi: int, sub, flags: int, src: int) -> int:
        nfa = self.nfa
        unbounded = hi == _MAXREPEAT
        if not unbounded and hi == 0:
            return src
        # template copy, built from a fresh state so it can be duplicated by offset
        t0 = nfa.new()
        t1 = self.build_seq(sub, flags, t0, False, False)
        r0, r1 = t0, len(nfa.eps)
        count = max(lo, 1) if unbounded else hi
        size = r1 - r0
        if size * count > nfa.max_states:
            raise _TooLarge()
        copies = [(t0, t1)]
        for _ in range(count - 1):
            off = nfa.copy_range(r0, r1)
            copies.append((t0 + off, t1 + off))
        nfa.add_eps(src, copies[0][0])
        for i in range(count - 1):
            nfa.add_eps(copies[i][1], copies[i + 1][0])
        end = nfa.new()
        last_start, last_end = copies[-1]
        nfa.add_eps(last_end, end)
        if unbounded:
            nfa.add_eps(last_end, last_start)  # X{m,} = X^(m-1) X+
            if lo == 0:
                nfa.add_eps(src, end)
        else:
            for i in range(lo, hi):
                nfa.add_eps(copies[i][0], end)  # copies from the (lo+1)-th on are optional
        return end


def _construct_positions(pattern: str, verbose: bool = False) -> dict[str, list[int]]:
    """Source positions of anchors and unsupported constructs, outside character classes."""
    out: dict[str, list[int]] = {}

    def add(kind: str, pos: int) -> None:
        out.setdefault(kind, []).append(pos)

    verbose = verbose or bool(re.match(r"\(\?[aiLmsux]*x", pattern))
    i, n = 0, len(pattern)
    prev_quant = False
    while i < n:
        ch = pattern[i]
        quant = False
        if ch == "\\" and i + 1 < n:
            x = pattern[i + 1]
            if x in "bBAZ":
                add("\\" + x, i)
            elif x in "123456789":
                if not (i + 3 < n and pattern[i + 1 : i + 4].isdigit() and all(c in "01234567" for c in pattern[i + 1 : i + 4])):
                    add("GROUPREF", i)
            i += 2
            prev_quant = False
            continue
        if ch == "[":
            j = i + 1
            if j < n and pattern[j] == "^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            i = j + 1
            prev_quant = False
            continue
        if ch == "(" and pattern.startswith("(?", i):
            rest = pattern[i + 2 : i + 5]
            if rest.startswith("="):
                add("lookahead", i)
            elif rest.startswith("!"):
                add("lookahead_neg", i)
            elif rest.startswith("<="):
                add("lookbehind", i)
            elif rest.startswith("<!"):
                add("lookbehind_neg", i)
            elif rest.startswith("P="):
                add("GROUPREF", i)
            elif rest.startswith("("):
                add("GROUPREF_EXISTS", i)
            elif rest.startswith(">"):
                add("ATOMIC_GROUP", i)
            elif rest.startswith("#"):
                j = pattern.find(")", i)
                i = n if j < 0 else j + 1
                continue
        elif ch == "^":
            add("^", i)
        elif ch == "$":
            add("$", i)
        elif ch in "*+?}":
            if ch == "+" and prev_quant:
                add("POSSESSIVE_REPEAT", i - 1)
            quant = True
        elif verbose and ch == "#":
            j = pattern.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        prev_quant = quant
        i += 1
    return out


# --------------------------------------------------------------------------------------------------
# subset construction and minimization


def _determinize(nfa: _NFA, start: int, accept: int, max_states: int, pattern: str) -> tuple[np.ndarray, np.ndarray]:
    eps, edges = nfa.eps, nfa.edges
    closures: dict[int, frozenset] = {}

    def closure(s: int) -> frozenset:
        r = closures.get(s)
        if r is None:
            seen = {s}
            stack = [s]
            important = []
            while stack:
                x = stack.pop()
                if edges[x] is not None or x == accept:
                    important.append(x)
                e = eps[x]
                if e is not None:
                    for y in e:
                        if y not in seen:
                            seen.add(y)
                            stack.append(y)
            r = frozenset(important)
            closures[s] = r
        return r

    s0 = closure(start)
    ids = {s0: 0}
    order = [s0]
    accepting: list[bool] = []
    cap = 64
    table = np.full((cap, 256), -1, dtype=np.int32)
    i = 0
    while i < len(order):
        S = order[i]
        accepting.append(accept in S)
        evs: list[tuple[int, int, int]] = []
        for s in S:
            g = edges[s]
            if g is not None:
                evs.extend(g)
        if evs:
            if len(evs) > 1:
                evs.sort()
            disjoint = all(evs[k][1] < evs[k + 1][0] for k in range(len(evs) - 1))
            if disjoint:
                segments = [(lo, hi, closure(t)) for lo, hi, t in evs]
            else:
                segments = _segments(evs, closure)
            row = table[i]
            for lo, hi, target in segments:
                j = ids.get(target)
                if j is None:
                    j = len(order)
                    if j >= max_states:
                        raise RegexError(
                            f"the regex needs more than {max_states} automaton states "
                            f"(simplify it, e.g. lower large repetition counts): {pattern!r}"
                        )
                    ids[target] = j
                    order.append(target)
                    if j >= cap:
                        cap *= 2
                        grown = np.full((cap, 256), -1, dtype=np.int32)
                        grown[: table.shape[0]] = table
                        table = grown
                        row = table[i]
                row[lo : hi + 1] = j
        i += 1
    return table[: len(order)].copy(), np.asarray(accepting, dtype=np.bool_)


def _segments(evs, closure):
    """Split overlapping byte ranges into elementary intervals with the union of their targets (sweep)."""
    events: dict[int, list[tuple[int, int]]] = {}
    for lo, hi, t in evs:
        events.setdefault(lo, []).append((1, t))
        events.setdefault(hi + 1, []).append((-1, t))
    points = sorted(events)
    active: dict[int, int] = {}
    out = []
    unions: dict[frozenset, frozenset] = {}
    for k in range(len(points) - 1):
        for delta, t in events[points[k]]:
            c = active.get(t, 0) + delta
            if c:
                active[t] = c
            else:
                del active[t]
        if not active:
            continue
        if len(active) == 1:
            target = closure(next(iter(active)))
        else:
            key = frozenset(active)
            target = unions.get(key)
            if target is None:
                target = frozenset().union(*[closure(t) for t in key])
                unions[key] = target
        out.append((points[k], points[k + 1] - 1, target))
    return out


def _byte_classes(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group bytes with identical columns. Returns (class_of_byte uint8-ish int64[256], representative bytes)."""
    seen: dict[bytes, int] = {}
    cls = np.empty(256, dtype=np.int64)
    reps = []
    cols = np.ascontiguousarray(table.T)
    for b in range(256):
        key = cols[b].tobytes()
        c = seen.get(key)
        if c is None:
            c = len(reps)
            seen[key] = c
            reps.append(b)
        cls[b] = c
    return cls, np.asarray(reps, dtype=np.int64)


def minimize(table: np.ndarray, accepting: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimal, trimmed equivalent of a DFA (start state 0); states renumbered breadth-first.

    Returns ``(transitions, accepting)``; the result has zero states when the language is empty.
    """
    n = table.shape[0]
    cls, reps = _byte_classes(table)
    compact = table[:, reps]
    sink = n
    full = np.empty((n + 1, compact.shape[1]), dtype=np.int32)
    full[:n] = np.where(compact < 0, sink, compact)
    full[n] = sink
    acc = np.zeros(n + 1, dtype=np.bool_)
    acc[:n] = accepting
    blocks = kernels.hopcroft_blocks(full, acc)
    dead_block = blocks[sink]
    if blocks[0] == dead_block:
        return np.zeros((0, 256), dtype=np.int32), np.zeros(0, dtype=np.bool_)
    # one row per block (through any representative), then breadth-first renumbering (canonical)
    n_blocks = int(blocks.max()) + 1
    rep_of_block = np.empty(n_blocks, dtype=np.int64)
    rep_of_block[blocks[::-1]] = np.arange(n, -1, -1)
    block_table = np.ascontiguousarray(blocks[full[rep_of_block]], dtype=np.int32)
    order, new_id = kernels.bfs_renumber(block_table, np.int64(blocks[0]), np.int64(dead_block))
    compact_min = new_id[block_table[order]]  # dead block -> -1
    transitions = np.ascontiguousarray(compact_min[:, cls], dtype=np.int32)
    accepting_min = acc[rep_of_block[order]]
    return transitions, accepting_min


# --------------------------------------------------------------------------------------------------
# public entry point


def compile_regex(pattern: str, flags: int = 0, *, max_states: int = DEFAULT_MAX_STATES) -> DFA:
    """Compile a Python regular expression into a minimal byte-level :class:`DFA` (full match).

    ``flags`` are :mod:`re` flags (``re.IGNORECASE``, ``re.DOTALL``, ``re.ASCII``, ``re.VERBOSE``,
    ``re.MULTILINE``); inline flags such as ``(?i)`` work too. Raises
    :class:`~guidegen.errors.RegexError` for a malformed pattern, a construct without a finite
    automaton, a pattern that matches no valid UTF-8 text, or one that needs more than
    ``max_states`` states.
    """
    if not isinstance(pattern, str):
        raise RegexError(f"the regex must be a str, got {type(pattern).__name__}")
    try:
        parsed = _p.parse(pattern, flags)
    except re.error as e:
        pos = f" at position {e.pos}" if e.pos is not None else ""
        raise RegexError(f"invalid regex{pos}: {e.msg}: {pattern!r}") from e
    except (RecursionError, OverflowError) as e:
        raise RegexError(f"regex too deeply nested or too large: {pattern!r}") from e
    gflags = parsed.state.flags
    if gflags & getattr(_c, "SRE_FLAG_LOCALE", 0):
        raise RegexError(f"the LOCALE flag is not supported: {pattern!r}")
    builder = _Builder(pattern, _MAX_NFA_STATES, verbose=bool(gflags & re.VERBOSE))
    try:
        start = builder.nfa.new()
        accept = builder.build_seq(parsed, gflags, start, True, True)
    except _TooLarge:
        raise RegexError(
            f"the regex is too large to compile (over {_MAX_NFA_STATES} NFA states; "
            f"lower the repetition counts): {pattern!r}"
        ) from None
    except RecursionError as e:
        raise RegexError(f"regex too deeply nested: {pattern!r}") from e
    table, accepting = _determinize(builder.nfa, start, accept, max_states, pattern)
    transitions, accepting_min = minimize(table, accepting)
    if transitions.shape[0] == 0:
        raise RegexError(f"the regex matches no valid UTF-8 text: {pattern!r}")
    return DFA(transitions, accepting_min)
