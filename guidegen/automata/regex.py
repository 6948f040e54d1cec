"""Python regular expressions → minimal byte-level DFA.

Pipeline: parse → postfix program → Thompson NFA over code-point sets, each set split into UTF-8
byte sequences (valid UTF-8 only: no surrogates, no overlong forms) → subset construction over
byte classes → Hopcroft minimization, which also drops every state that cannot reach acceptance →
breadth-first renumbering (canonical: equal languages give identical tables and fingerprints).

Everything after parsing runs in the Numba kernels of :mod:`.regex_kernels`. Parsing has two
routes: flag-free patterns in the common syntax (literals, escapes, classes, ``.``, groups,
alternation, quantifiers, ``^`` first and ``$`` last: what JSON-Schema lowering produces) are
parsed by a kernel too; everything else, and every pattern that kernel does not accept, goes
through ``re``'s own parser and is lowered to the same program in Python.

The pattern always matches the whole text, as :func:`re.fullmatch` does. ``^``/``\\A`` are accepted
at the start and ``$``/``\\Z`` at the end (they are no-ops there); anywhere else they, like
lookaround, backreferences, conditional groups, ``\\b``/``\\B``, atomic groups and possessive
quantifiers, raise :class:`~guidegen.errors.RegexError`. Character semantics are those of a ``str``
pattern: Unicode ``\\d \\w \\s``, ``.`` excludes ``\\n`` unless ``(?s)``, ``(?i)`` folds case exactly
as ``re`` does, ``(?a)`` restricts classes and case folding to ASCII.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import unicodedata
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..cache import write_atomically
from ..errors import RegexError
from . import regex_kernels as _k
from .codepoints import MAX_CODE_POINT, complement, normalize, subtract
from .dfa import DFA

try:  # Python 3.11+
    import re._constants as _c
    import re._parser as _p
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _c  # type: ignore[no-redef]
    import sre_parse as _p  # type: ignore[no-redef]

__all__ = ["compile_regex", "DEFAULT_MAX_STATES", "hashable_item", "item_code_points", "warmup"]

DEFAULT_MAX_STATES = 200_000
"""Largest DFA (states before minimization) :func:`compile_regex` builds before giving up."""

_MAX_NFA_STATES = 2_000_000

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


@lru_cache(maxsize=1)
def _all_code_points() -> str:
    # every code point, surrogates included, in one str (decoding is ~10x faster than joining chrs)
    return np.arange(MAX_CODE_POINT + 1, dtype="<u4").tobytes().decode("utf-32-le", "surrogatepass")


@lru_cache(maxsize=None)
def _category_ranges(category, ascii_only: bool) -> tuple[tuple[int, int], ...]:
    """Exactly the code points ``re`` puts in ``\\d``, ``\\w``... (from the stored tables when
    :func:`warmup` wrote them for this interpreter, else found by letting ``re`` scan them all)."""
    stored = _stored_tables().get(f"{_CATEGORY_SOURCE[category]}/{int(ascii_only)}")
    if stored is not None:
        return stored
    return _scan_category(category, ascii_only)


def _scan_category(category, ascii_only: bool) -> tuple[tuple[int, int], ...]:
    src = _CATEGORY_SOURCE[category]
    scan = re.compile(f"(?:{src})+", re.ASCII if ascii_only else 0)
    return tuple((m.start(), m.end() - 1) for m in scan.finditer(_all_code_points()))


@lru_cache(maxsize=2)
def _cased(ascii_only: bool) -> tuple[tuple[tuple[int, int], ...], str]:
    """The code points case folding can affect (as ranges, and as one string to scan)."""
    ranges = None if ascii_only else _stored_tables().get("cased/0")
    if ranges is None:
        ranges = _scan_cased(ascii_only)
    return ranges, "".join(chr(cp) for lo, hi in ranges for cp in range(lo, hi + 1))


def _scan_cased(ascii_only: bool) -> tuple[tuple[int, int], ...]:
    if ascii_only:
        cps = list(range(ord("A"), ord("Z") + 1)) + list(range(ord("a"), ord("z") + 1))
    else:
        import _sre

        cps = [cp for cp in range(MAX_CODE_POINT + 1) if _sre.unicode_iscased(cp)]
    return normalize((cp, cp) for cp in cps)


# Scanning all of Unicode costs ~0.1 s per category on first use; warmup() stores the results for
# this interpreter (they depend on its Unicode database) next to the compiled kernels.


def _tables_path() -> Path:
    tag = hashlib.sha256(f"{sys.version}|{unicodedata.unidata_version}|v1".encode()).hexdigest()[:16]
    return Path(__file__).resolve().parent / "__pycache__" / f"regex_unicode_tables-{tag}.json"


@lru_cache(maxsize=1)
def _stored_tables() -> dict[str, tuple[tuple[int, int], ...]]:
    try:
        raw = json.loads(_tables_path().read_text(encoding="utf-8"))
        out = {}
        for key, ranges in raw.items():
            pairs = tuple((int(lo), int(hi)) for lo, hi in ranges)
            if any(not 0 <= lo <= hi <= MAX_CODE_POINT for lo, hi in pairs):
                return {}
            out[str(key)] = pairs
        return out
    except (OSError, ValueError, TypeError):
        return {}


def _store_categories() -> None:
    """Scan every category and the cased code points; store them where :func:`_stored_tables` looks."""
    data: dict[str, list] = {}
    for category, src in _CATEGORY_SOURCE.items():
        for ascii_only in (False, True):
            data[f"{src}/{int(ascii_only)}"] = [list(r) for r in _scan_category(category, ascii_only)]
    data["cased/0"] = [list(r) for r in _scan_cased(False)]
    path = _tables_path()
    try:
        write_atomically(path, lambda f: json.dump(data, f, separators=(",", ":")), binary=False)
    except OSError:
        pass  # a read-only install only costs the scan on first use
    _stored_tables.cache_clear()


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
    out = normalize(ranges)
    return complement(out) if negate else out


@lru_cache(maxsize=4096)
def item_code_points(op, av_key, flags: int) -> tuple[tuple[int, int], ...]:
    """Code points matched by one single-character item of ``re``'s parse tree (``av_key``: its
    argument, class lists through :func:`hashable_item`) under ``flags``."""
    av = av_key
    ascii_only = bool(flags & _F_ASCII)
    if op is _ANY:
        return ((0, MAX_CODE_POINT),) if flags & _F_DOTALL else ((0, 9), (11, MAX_CODE_POINT))
    if op is _LITERAL:
        plain: tuple[tuple[int, int], ...] = ((av, av),)
    elif op is _NOT_LITERAL:
        plain = complement(((av, av),))
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
    return normalize(list(subtract(plain, cased_ranges)) + hits)


def hashable_item(av):
    """Hashable form of a class item list of ``re``'s parse tree (for the code-point cache)."""
    if isinstance(av, list):
        return tuple((op, tuple(x) if isinstance(x, list) else x) for op, x in av)
    return av


# --------------------------------------------------------------------------------------------------
# lowering re's parse tree to a program (the route for flags and anything the kernel parser leaves)


def _lone_surrogates(op, av) -> list:
    """The ``(LITERAL, code point)`` items of a literal or a plain class that are lone surrogates."""
    if op is _LITERAL:
        items = [(op, av)]
    elif op is _IN and not any(o is _NEGATE for o, _ in av):
        items = av
    else:
        return []
    return [(o, cp) for o, cp in items if o is _LITERAL and 0xD800 <= cp <= 0xDFFF]


class _TooLarge(Exception):
    pass


class _Lowerer:
    """``re``'s parse tree → postfix program for :func:`.regex_kernels.compile_program`.

    Checks anchors and unsupported constructs (with their source positions) on the way."""

    def __init__(self, pattern: str, verbose: bool = False) -> None:
        self.pattern = pattern
        self.verbose = verbose
        self.ops: list[int] = []  # (op, a, b) triples, flat
        self.pool: list[int] = []
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

    # lowering -----------------------------------------------------------------------------------
    def seq(self, items, flags: int, at_start: bool, at_end: bool) -> None:
        """Emit one fragment: the concatenation of ``items``."""
        items = list(items)
        n = len(items)
        first_real, last_real = n, -1  # first and last item that is not an anchor
        for i, (op, _av) in enumerate(items):
            if op is not _AT:
                if first_real == n:
                    first_real = i
                last_real = i
        ops, pool = self.ops, self.pool
        count = 0
        run = -1  # index in ops of the literal string being extended
        for i, (op, av) in enumerate(items):
            if op is _LITERAL and not flags & _F_IGNORECASE:
                if run >= 0:
                    ops[run + 2] += 1
                else:
                    run = len(ops)
                    ops += (_k.OP_STR, len(pool), 1)
                    count += 1
                pool.append(av)
                continue
            run = -1
            # an anchor holds at the start (end) when only anchors come before (after) it
            count += self.node(op, av, flags, at_start and i <= first_real, at_end and i >= last_real)
        if count == 0:
            ops += (_k.OP_EMPTY, 0, 0)
        elif count > 1:
            ops += (_k.OP_CAT, count, 0)

    def node(self, op, av, flags: int, at_start: bool, at_end: bool) -> int:
        """Emit ``op``; returns the number of fragments emitted (0 for an anchor, else 1)."""
        ops = self.ops
        markers = _lone_surrogates(op, av)
        if markers:  # call markers, as the kernel parser reads them (re folds "a|\ud800" into a class)
            rest = [item for item in av if item not in markers] if op is _IN else []
            if rest:
                self.node(_IN, rest, flags, at_start, at_end)
            for _, cp in markers:
                ops += (_k.OP_STR, len(self.pool), 1)
                self.pool.append(cp)
            if len(markers) + bool(rest) > 1:
                ops += (_k.OP_ALT, len(markers) + bool(rest), 0)
            return 1
        if op is _LITERAL or op is _NOT_LITERAL or op is _ANY or op is _IN:
            key = hashable_item(av) if op is _IN else av
            ranges = item_code_points(op, key, flags & (_F_IGNORECASE | _F_DOTALL | _F_ASCII))
            ops += (_k.OP_SET, len(self.pool), len(ranges))
            pool = self.pool
            for lo, hi in ranges:
                pool += (lo, hi)
            return 1
        if op is _SUBPATTERN:
            _group, add_flags, del_flags, sub = av
            self.seq(sub, (flags | add_flags) & ~del_flags, at_start, at_end)
            return 1
        if op is _BRANCH:
            _, alternatives = av
            for alt in alternatives:
                self.seq(alt, flags, at_start, at_end)
            if len(alternatives) > 1:
                ops += (_k.OP_ALT, len(alternatives), 0)
            return 1
        if op is _MAX_REPEAT or op is _MIN_REPEAT:
            lo, hi, sub = av
            unbounded = hi == _MAXREPEAT
            if not unbounded and hi == 0:
                ops += (_k.OP_EMPTY, 0, 0)
                return 1
            self.seq(sub, flags, False, False)
            if (lo if unbounded else hi) > _MAX_NFA_STATES:
                raise _TooLarge()  # every copy takes at least one state
            ops += (_k.OP_REP, lo, -1 if unbounded else hi)
            return 1
        if op is _AT:
            self.anchor(av, at_start, at_end)
            return 0
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

    def anchor(self, av, at_start: bool, at_end: bool) -> None:
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
            return  # the whole text is always matched: the anchor holds trivially there
        pos = self.position(kind, occurrence)
        where = f" at position {pos}" if pos is not None else ""
        side = "start" if kind in ("^", "\\A") else "end"
        raise RegexError(
            f"anchor {kind}{where} is only supported at the {side} of the pattern "
            f"(the whole text is always matched): {self.pattern!r}"
        )


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
# the kernel parser's inputs

_CATEGORY_LETTERS = "dDsSwW"  # the order regex_kernels numbers them in
_CATEGORY_ORDER = (
    _c.CATEGORY_DIGIT,
    _c.CATEGORY_NOT_DIGIT,
    _c.CATEGORY_SPACE,
    _c.CATEGORY_NOT_SPACE,
    _c.CATEGORY_WORD,
    _c.CATEGORY_NOT_WORD,
)
# every escape, so that an escaped backslash followed by "d" does not count as \d
_ESCAPED_CATEGORY = re.compile(r"\\([dDsSwW])|\\.", re.DOTALL)


@lru_cache(maxsize=64)
def _category_tables(letters: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Unicode (non-ASCII mode) ranges of the categories named in ``letters``, as the kernel
    parser takes them: ``(int32[m, 2] ranges, int64[7] offsets, int8[6] present)``."""
    rows: list[tuple[int, int]] = []
    offsets = [0]
    have = np.zeros(6, dtype=np.int8)
    for idx, category in enumerate(_CATEGORY_ORDER):
        if _CATEGORY_LETTERS[idx] in letters:
            rows.extend(_category_ranges(category, False))
            have[idx] = 1
        offsets.append(len(rows))
    data = np.array(rows, dtype=np.int32).reshape(-1, 2)
    return data, np.array(offsets, dtype=np.int64), have


def _compile_fast(pattern: str, max_states: np.int64) -> DFA | None:
    """The kernel route for flag-free patterns; None when the kernel parser hands the pattern over."""
    letters = ""
    if "\\" in pattern:
        found = set(_ESCAPED_CATEGORY.findall(pattern))
        found.discard("")
        letters = "".join(sorted(found))
    cat_data, cat_off, cat_have = _category_tables(letters)
    cps = np.frombuffer(bytearray(pattern.encode("utf-32-le", "surrogatepass")), dtype=np.int32)
    status, transitions, accepting = _k.compile_pattern(
        cps, cat_data, cat_off, cat_have, np.int64(_MAX_NFA_STATES), max_states
    )
    if status == _k.FALLBACK:
        return None
    return _result(status, transitions, accepting, pattern, max_states)


def _result(status: int, transitions: np.ndarray, accepting: np.ndarray, pattern: str, max_states) -> DFA:
    if status == _k.OK:
        return DFA(transitions, accepting)
    if status == _k.TOO_MANY_STATES:
        raise RegexError(
            f"the regex needs more than {int(max_states)} automaton states "
            f"(simplify it, e.g. lower large repetition counts): {pattern!r}"
        )
    if status == _k.NFA_TOO_LARGE:
        raise RegexError(
            f"the regex is too large to compile (over {_MAX_NFA_STATES} NFA states; "
            f"lower the repetition counts): {pattern!r}"
        )
    if status == _k.EMPTY_LANGUAGE:
        raise RegexError(f"the regex matches no valid UTF-8 text: {pattern!r}")
    raise AssertionError(f"unexpected regex kernel status {status}")  # pragma: no cover


# --------------------------------------------------------------------------------------------------
# public entry point


def compile_regex(
    pattern: str, flags: int = 0, *, max_states: int = DEFAULT_MAX_STATES, call_markers: bool = False
) -> DFA:
    """Compile a Python regular expression into a minimal byte-level :class:`DFA` (full match).

    ``flags`` are :mod:`re` flags (``re.IGNORECASE``, ``re.DOTALL``, ``re.ASCII``, ``re.VERBOSE``,
    ``re.MULTILINE``); inline flags such as ``(?i)`` work too. Raises
    :class:`~guidegen.errors.RegexError` for a malformed pattern, a construct without a finite
    automaton, a pattern that matches no valid UTF-8 text, or one that needs more than
    ``max_states`` states.

    A lone surrogate code point in a literal is no text: with ``call_markers=True`` it compiles to
    a grammar's call marker (:func:`guidegen.automata.pushdown.call_marker`); otherwise it raises.
    """
    dfa = _compile(pattern, flags, max_states=max_states, fast=True)
    if not call_markers and (dfa.transitions[:, _k.MARKER_BYTE:] >= 0).any():
        raise RegexError(f"the regex contains a lone surrogate code point, which no UTF-8 text has: {pattern!r}")
    return dfa


def _compile(pattern: str, flags: int = 0, *, max_states: int = DEFAULT_MAX_STATES, fast: bool = True) -> DFA:
    """:func:`compile_regex`; ``fast=False`` forces the route through ``re``'s parser (for tests)."""
    if not isinstance(pattern, str):
        raise RegexError(f"the regex must be a str, got {type(pattern).__name__}")
    limit = np.int64(min(max(int(max_states), -(2**62)), 2**62))
    if fast and not int(flags) & ~int(re.UNICODE):
        dfa = _compile_fast(pattern, limit)
        if dfa is not None:
            return dfa
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
    lowerer = _Lowerer(pattern, verbose=bool(gflags & re.VERBOSE))
    try:
        lowerer.seq(parsed, gflags, True, True)
    except _TooLarge:
        raise RegexError(
            f"the regex is too large to compile (over {_MAX_NFA_STATES} NFA states; "
            f"lower the repetition counts): {pattern!r}"
        ) from None
    except RecursionError as e:
        raise RegexError(f"regex too deeply nested: {pattern!r}") from e
    prog = np.array(lowerer.ops, dtype=np.int32).reshape(-1, 3)
    pool = np.array(lowerer.pool, dtype=np.int32)
    status, transitions, accepting = _k.compile_program(
        prog, np.int64(prog.shape[0]), pool, np.int64(_MAX_NFA_STATES), limit
    )
    return _result(status, transitions, accepting, pattern, limit)


def warmup() -> None:
    """Compile (or load from the on-disk cache) the regex kernels, and store the Unicode category
    tables next to them, so that a user's first regex pays neither. ``make install`` runs this
    (``python -m guidegen.automata.regex_kernels``)."""
    _k.warmup()
    _store_categories()
    compile_regex(r"[a-c]+(?:x|y{2,3})\d\w\s.")
    _compile(r"(?i)a|b", fast=False)
