"""JSON Schema → one regular expression.

:func:`schema_to_regex` lowers a JSON Schema (draft 2020-12, plus the common keywords of drafts 4–2019-09)
to a single regular expression, in Python :mod:`re` syntax and meant for :func:`re.fullmatch`, whose
language is a set of JSON texts every one of which is valid under the schema. Where it can, the lowering
is exact; where it cannot, it either *over-constrains* (a subset of the valid texts, silently, in the ways
listed below) or refuses: an :class:`~guidegen.errors.UnsupportedSchemaError` naming the keyword and its
JSON pointer. It never silently *under*-constrains: with ``lenient=False`` (the default) no text the regex
matches is invalid under the schema. ``lenient=True`` trades that for coverage: instead of raising, the
keyword is over-approximated (usually dropped) and a :class:`SchemaApproximationWarning` names it.

Deliberate over-constraints (sound, documented, not warned about):

* Objects write the properties named in ``properties`` (and ``required``) in ``properties`` order
  (``property_order="any"``: in any order), then the undeclared properties the schema allows, named
  canonically: under ``additionalProperties``, and with one ``patternProperties`` entry, the names
  it matches under its schema and the others under ``additionalProperties``. None are produced
  where names would need several patterns, ``propertyNames``, ``unevaluatedProperties`` or
  ``maxProperties``.
* An object that declares no property (``properties``/``required``) but has dependencies
  (``dependentRequired``, ``dependencies``, ``dependentSchemas``) writes the names they mention first,
  in a fixed order (each after the names it requires), then its undeclared properties.
* Arrays with ``prefixItems`` but no ``items`` never grow past the prefix.
* Values are written canonically: integers without fraction or exponent (``1``, never ``1.0``), and the
  strings that ``const``/``enum``/``pattern``/``format`` constrain exactly as :func:`json.dumps`
  (``ensure_ascii=False``) would write them, as are strings with ``minLength``/``maxLength`` (so a
  counted character is one small automaton piece). Otherwise strings accept every JSON escape except
  lone UTF-16 surrogates.
* ``pattern`` is read with the semantics *common* to ECMA-262 and Python's :mod:`re` (what JSON
  Schema validators use in practice): ``\\d`` is ``[0-9]``, ``$`` is the very end, ``.`` excludes line
  terminators, and character classes inside a pattern match BMP characters only.
* ``pattern`` with ``minLength``/``maxLength`` is exact: when one part of the pattern has a variable
  length, a regex (``^[a-z]+$`` + ``maxLength: 8`` → ``[a-z]{1,8}``; an unanchored pattern then
  matches at the start of the string), otherwise an intersection of automata (see below).
* ``format``: ``date``, ``time``, ``date-time`` (RFC 3339, upper-case ``T``/``Z``, no leap seconds,
  years 0001–9999), ``uuid``, ``ipv4`` (no leading zeros), ``email`` (dot-atom local part @ host name).
  A format name no JSON Schema draft defines (``url``, ``path``, ``int32``...) asserts nothing, as
  the specification says of unknown formats; a defined one that is not supported here (``regex``,
  ``idn-email``...) is unsupported.
* ``not: {pattern: P}`` holds the canonically written strings of BMP characters that ``P`` matches
  neither under ECMA-262 nor under Python's :mod:`re` (whose ``$`` also matches before a final
  newline, whose ``\\w`` and ``\\s`` are wider...).
* ``format`` with ``pattern`` or with length bounds it does not already meet, the ``pattern`` of
  several ``allOf`` parts, and a negated ``pattern`` or string ``enum`` with other string keywords are
  intersected exactly. No regex writes an intersection or a difference, so these are rules given as
  automata (:mod:`guidegen.automata.dfa_ops`), spliced into the rules that use them: the schema still
  compiles to one DFA unless it nests without bound, but :func:`schema_to_regex` refuses it. An
  automaton over 200,000 states is refused.
* Bounded ``number``s are written without exponent; exclusive bounds (and integer bounds beyond 2**53)
  keep a relative gap of 1e-14 so that validators comparing binary64 floats agree.
* ``multipleOf`` is decided exactly on the decimal values of the JSON literals (``0.1`` is 1/10, so
  ``0.3`` is a multiple of it, although validators that divide binary64 floats may say otherwise), and
  its multiples are written without exponent, with any bounds. A regex where one is small (a range of
  at most 1000 multiples, listed; one side unbounded and the other bound next to 0; a step of
  ``10**-n``; steps such as 2-8, 10, 12, 15 unbounded), else the step's remainder automaton intersected
  with the automaton of the range. A step whose remainder automaton has more than 20,000 states (a
  numerator that large, prime to 10: ``0.123456789``) is refused.
* ``contains`` with ``minContains``/``maxContains`` (up to 16) is exact for arrays whose items all
  follow one schema (no ``prefixItems``, no ``maxItems``, no ``minItems`` above ``minContains``); with
  ``maxContains`` the other items must fail ``contains`` through its negation (see ``not``).
* ``uniqueItems`` is exact when every item is one of at most 5 scalar values (``enum``/``const``,
  ``boolean``, ``null``; per position with ``prefixItems``): every sequence of distinct values is
  written out (at most 326). Other unique arrays (beyond ``maxItems: 1``) are refused.
* ``not`` is negated keyword by keyword (De Morgan); excluded numbers (``not: {"enum": [1, 2]}``) are
  the open intervals between them, with the bounds' 1e-14 gap for non-integers. A negated ``anyOf``
  is the crossing of its branches' negations (every branch fails; at most 64 alternatives), a negated
  ``oneOf`` that plus the intersections of the branch pairs not provably disjoint.
* ``oneOf``: branches that are provably disjoint (types, ``const``/``enum`` values or a pattern that is an
  anchored literal such as ``^success$``, a required property the other branch forbids or constrains
  disjointly, integer ranges) are a plain union. Otherwise a
  branch leaves out the values another branch certainly accepts (a type it accepts unconditionally)
  and, for objects, omits one property each other branch requires, which makes the branches exclusive.
  Branches over scalar values only (strings, numbers, booleans, null) that overlap otherwise are
  exact as automata: each branch's canonical texts minus every other branch's (a scalar value has
  one canonical text, so this is the difference of the values). A branch that would be left empty
  only because an overlap of arrays or objects cannot be decided is refused.
* ``anyOf`` is an exact union; ``allOf`` (and ``$ref`` with sibling keywords) is merged into one schema
  when the keywords can be intersected exactly, else refused. Object parts intersect member by member
  (a name's value follows each part's ``properties`` entry, else its ``patternProperties``, else its
  ``additionalProperties``); a pattern of one part is exact where the other part has no
  ``additionalProperties``, or has no pattern and declares no name the pattern matches. The
  ``if``/``then``/``else`` of several parts nest (each holds in both branches of the one before), up to 6.

Not regular, so refused in strict mode: objects whose properties are not enumerated (arbitrary keys with
arbitrary values), arrays of arbitrary values, ``{}``/``true`` where an object or array could occur, and
recursive ``$ref``. ``lenient=True`` bounds the nesting depth (3) instead.

Unknown keywords (``x-...``, ``markdownDescription``, OpenAPI's ``nullable``...) are annotations under
the JSON Schema specification and are ignored, as are the annotation keywords (``title``,
``description``, ``default``, ``examples``, ``$comment``, ``deprecated``, ``readOnly``, ``writeOnly``,
``content*``...). Every other known keyword that cannot be enforced exactly raises (or warns).

Also here: :func:`schema_from_python` / :func:`parse_json_value` (pydantic models and type hints; pydantic
is imported only when one is given) and :class:`JSONSchemaCompiler`, the ``"schema"`` constraint compiler.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import warnings
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any, Callable, Iterable, NamedTuple
from urllib.parse import unquote, urldefrag, urljoin

import numpy as np

from ..automata import dfa_ops
from ..automata.codepoints import MAX_CODE_POINT, CodePoints, complement, intersect, normalize, subtract, union
from ..automata.constraint import DFAConstraint, cached_compile_regex
from ..automata.dfa import DFA, NO_TEXT
from ..automata.pushdown import Grammar, PushdownConstraint, call_marker
from ..errors import GrammarError, RegexError, SchemaError, UnsupportedSchemaError

__all__ = [
    "schema_to_rules",
    "schema_to_regex",
    "schema_from_python",
    "parse_json_value",
    "JSONSchemaCompiler",
    "SchemaApproximationWarning",
    "SUPPORTED_FORMATS",
]


class SchemaApproximationWarning(UserWarning):
    """``lenient=True`` over-approximated a keyword it cannot enforce exactly (the message names it)."""


# ==================================================================================================
# regex fragments. A fragment is a ``str`` that is safe to concatenate (every top-level alternation is
# wrapped in a group), or ``None`` for the empty language.

_META = frozenset("\\.^$*+?{}[]|()")
_CLASS_META = frozenset("\\]^-[")


def _lit(text: str) -> str:
    """``text`` as a regex matching exactly it."""
    out = []
    for ch in text:
        o = ord(ch)
        if ch in _META:
            out.append("\\" + ch)
        elif o < 0x20 or o == 0x7F:
            out.append("\\x%02x" % o)
        else:
            out.append(ch)
    return "".join(out)


def _atom_end(s: str, i: int) -> int:
    """Index just past the regex atom that starts at ``s[i]``."""
    c = s[i]
    if c == "\\":
        nxt = s[i + 1]
        if nxt == "x":
            return i + 4
        if nxt == "u":
            return i + 6
        if nxt == "U":
            return i + 10
        return i + 2
    if c == "[":
        j = i + 1
        if j < len(s) and s[j] == "^":
            j += 1
        while s[j] != "]":
            j = _atom_end(s, j) if s[j] == "\\" else j + 1
        return j + 1
    if c == "(":
        depth = 0
        j = i
        while True:
            ch = s[j]
            if ch == "\\" or ch == "[":
                j = _atom_end(s, j)
                continue
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if depth == 0:
                    return j + 1
            j += 1
    return i + 1


def _is_atom(s: str) -> bool:
    """Is ``s`` one regex atom? (Conservative: long fragments are reported as not atoms, so they get a
    redundant but harmless group instead of a scan that would make building nested regexes quadratic.)"""
    if not s or len(s) > 256 or (len(s) - len(s.rstrip("\\"))) % 2:
        return False  # too long to scan cheaply, or ends inside an escape
    try:
        return _atom_end(s, 0) == len(s)
    except IndexError:
        return False


def _written_before_properties(s: dict, keyword: str) -> bool:
    """Does the applicator ``keyword`` (allOf, anyOf, oneOf) come before ``properties`` in ``s``?
    Merged properties keep the order the schema's text mentions them in: the subschemas' come first
    when written first (a ``$ref``'s target comes after the properties beside it)."""
    keys = list(s)
    return "properties" not in s or keys.index(keyword) < keys.index("properties")


def _group(s: str) -> str:
    return s if _is_atom(s) else "(?:" + s + ")"


def _alt(parts: Iterable[str | None]) -> str | None:
    out: list[str] = []
    seen: set[str] = set()
    empty = False
    for p in parts:
        if p is None:
            continue
        if p == "":
            empty = True
            continue
        if p not in seen:
            seen.add(p)
            out.append(p)
    if not out:
        return "" if empty else None
    body = out[0] if len(out) == 1 else "(?:" + "|".join(out) + ")"
    return _rep(body, 0, 1) if empty else body


def _seq(*parts: str | None) -> str | None:
    if any(p is None for p in parts):
        return None
    return "".join(parts)  # type: ignore[arg-type]


def _rep(p: str | None, lo: int, hi: int | None) -> str | None:
    """``p`` repeated between ``lo`` and ``hi`` (None: unbounded) times."""
    if hi is not None and hi < lo:
        return None
    if p is None:
        return "" if lo == 0 else None
    if hi == 0 or p == "":
        return ""
    if lo == 1 and hi == 1:
        return p
    if lo == 0 and hi in (1, None) and p.endswith("+") and _is_atom(p[:-1]):
        return p[:-1] + "*"  # (?:x+)? and (?:x+)* are x*
    g = _group(p)
    if (lo, hi) == (0, 1):
        q = "?"
    elif (lo, hi) == (0, None):
        q = "*"
    elif (lo, hi) == (1, None):
        q = "+"
    elif hi is None:
        q = "{%d,}" % lo
    elif lo == hi:
        q = "{%d}" % lo
    else:
        q = "{%d,%d}" % (lo, hi)
    return g + q


def _opt(p: str | None) -> str:
    r = _rep(p, 0, 1)
    return "" if r is None else r


# ==================================================================================================
# code-point sets: sorted tuples of disjoint, non-adjacent inclusive (lo, hi) ranges

CS = CodePoints


def _cs_iter(a: CS) -> Iterable[int]:
    for lo, hi in a:
        yield from range(lo, hi + 1)


_SURROGATES: CS = ((0xD800, 0xDFFF),)
_BMP: CS = subtract(((0, 0xFFFF),), _SURROGATES)
_JSON_SPECIAL: CS = normalize([(0, 0x1F), (0x22, 0x22), (0x5C, 0x5C)])
_SHORT_ESCAPES = {0x22: '\\"', 0x5C: "\\\\", 0x08: "\\b", 0x0C: "\\f", 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"}


def _class_char(cp: int) -> str:
    ch = chr(cp)
    if ch in _CLASS_META:
        return "\\" + ch
    if cp < 0x20 or cp == 0x7F:
        return "\\x%02x" % cp
    return ch


def _class_body(cs: CS) -> str:
    out = []
    for a, b in cs:
        if a == b:
            out.append(_class_char(a))
        elif b == a + 1:
            out.append(_class_char(a) + _class_char(b))
        else:
            out.append(_class_char(a) + "-" + _class_char(b))
    return "".join(out)


def _cls(cs: CS) -> str | None:
    """A character class for ``cs`` (code points; surrogates are ignored), or None when empty."""
    cs = subtract(cs, _SURROGATES)
    if not cs:
        return None
    if len(cs) == 1 and cs[0][0] == cs[0][1]:
        return _lit(chr(cs[0][0]))
    comp = subtract(complement(cs), _SURROGATES)
    if not comp:
        return "[\\x00-\U0010ffff]"
    if len(comp) < len(cs):
        return "[^" + _class_body(comp) + "]"
    return "[" + _class_body(cs) + "]"


def _enc_set(cs: CS) -> str | None:
    """Regex over JSON string *content* matching the canonical encoding of one character of ``cs``."""
    raw = subtract(cs, union(_JSON_SPECIAL, _SURROGATES))
    parts: list[str | None] = [_cls(raw)] if raw else []
    uni: dict[int, list[int]] = {}
    for cp in _cs_iter(intersect(cs, _JSON_SPECIAL)):
        if cp in _SHORT_ESCAPES:
            parts.append(_lit(_SHORT_ESCAPES[cp]))
        else:
            uni.setdefault(cp >> 4, []).append(cp & 15)
    for hi_nib, lows in sorted(uni.items()):
        cls = _cls(normalize((ord("%x" % x), ord("%x" % x)) for x in lows))
        parts.append("\\\\u00%x" % hi_nib + cls)  # type: ignore[operator]
    return _alt(parts)


# ==================================================================================================
# JSON lexical pieces

_HEX = "[0-9a-fA-F]"
# any JSON string character: raw, short escape, \\u escape of a non-surrogate, or an escaped surrogate pair
_STR_CHAR = (
    '(?:[^"\\\\\\x00-\\x1f]|\\\\["\\\\/bfnrt]'
    "|\\\\u(?:[0-9a-cA-CeEfF][0-9a-fA-F]{3}|[dD][0-7][0-9a-fA-F]{2})"
    "|\\\\u[dD][89abAB][0-9a-fA-F]{2}\\\\u[dD][c-fC-F][0-9a-fA-F]{2})"
)
# one character as json.dumps(ensure_ascii=False) writes it
_CANON_ESCAPE = '\\\\(?:["\\\\bfnrt]|u00(?:0[0-7bef]|1[0-9a-f]))'
_CANON_CHAR = '(?:[^"\\\\\\x00-\\x1f]|' + _CANON_ESCAPE + ")"
_CANON_STRING = '"' + _CANON_CHAR + '*"'
_STRING = '"' + _STR_CHAR + '*"'
_BMP_STRING = '"' + _rep(_enc_set(_BMP), 0, None) + '"'  # canonically written, characters of the BMP only
_INTEGER = "-?(?:0|[1-9][0-9]*)"
_NUMBER = "-?(?:0|[1-9][0-9]*)(?:\\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
_NONINT = "-?(?:0|[1-9][0-9]*)\\.[0-9]*[1-9][0-9]*"  # non-integral numbers (fraction, no exponent)
# every scalar value's one canonical text: json.dumps's strings, integers plainly (never -0),
# other numbers in decimal without trailing zeros or exponent
_CANON_SCALAR = "null|true|false|0|-?[1-9][0-9]*|-?(?:0|[1-9][0-9]*)\\.[0-9]*[1-9]|" + _CANON_STRING


def _canon_str(s: str) -> str:
    return _lit(json.dumps(s, ensure_ascii=False))


# every escape json.dumps(ensure_ascii=False) writes
_CANON_ESCAPES = tuple(_SHORT_ESCAPES[c] if c in _SHORT_ESCAPES else "\\u%04x" % c
                       for c in sorted(set(range(0x20)) | {0x22, 0x5C}))


def _canon_units(name: str) -> list[str]:
    """``name`` as json.dumps writes it, split into characters and escapes."""
    body = json.dumps(name, ensure_ascii=False)[1:-1]
    units, i = [], 0
    while i < len(body):
        n = 1 if body[i] != "\\" else (6 if body[i + 1] == "u" else 2)
        units.append(body[i:i + n])
        i += n
    return units


def _string_except(names: Iterable[str]) -> str:
    """A canonically written JSON string (see ``_CANON_CHAR``) whose value is none of ``names``.

    Canonical writing makes "the same name" mean "the same text", so excluding the names' own
    texts is exact. Over the names' trie, such a text either leaves the trie (a prefix of a name,
    then a character no name continues it with, then anything) or stops at a node that ends no
    name; the "then anything" is written once."""
    trie: dict = {}
    for name in names:
        node = trie
        for u in _canon_units(name):
            node = node.setdefault(u, {})
        node[""] = {}  # end marker

    def leave(node: dict) -> str:
        plain = sorted(u for u in node if len(u) == 1)
        if any(len(u) > 1 for u in node):
            escapes = [_lit(e) for e in _CANON_ESCAPES if e not in node]
        else:
            escapes = [_CANON_ESCAPE]
        parts = ['[^"\\\\\\x00-\\x1f' + "".join(_class_char(ord(c)) for c in plain) + "]"] + escapes
        parts += [_lit(u) + leave(child) for u, child in node.items() if u]
        return "(?:" + "|".join(parts) + ")"

    def stop(node: dict) -> str | None:
        parts = [] if "" in node else [""]
        parts += [_lit(u) + x for u, child in node.items() if u and (x := stop(child)) is not None]
        return "(?:" + "|".join(parts) + ")" if parts else None

    stops = stop(trie)
    return '"(?:' + leave(trie) + _CANON_CHAR + "*" + ("|" + stops if stops is not None else "") + ')"'



# ==================================================================================================
# integer ranges (the classic digit-by-digit construction)


def _digit_class(a: int, b: int) -> str:
    if a == b:
        return str(a)
    if (a, b) == (0, 9):
        return "[0-9]"
    return "[%d-%d]" % (a, b) if b > a + 1 else "[%d%d]" % (a, b)


def _same_len_range(x: str, y: str) -> str | None:
    """Digit strings of len(x) == len(y) between x and y inclusive (leading zeros allowed here)."""
    n = len(x)
    if x == y:
        return x
    if n == 1:
        return _digit_class(int(x), int(y))
    if x[0] == y[0]:
        return _seq(x[0], _same_len_range(x[1:], y[1:]))
    lo_all0 = x[1:] == "0" * (n - 1)
    hi_all9 = y[1:] == "9" * (n - 1)
    d0, d1 = int(x[0]), int(y[0])
    parts: list[str | None] = []
    if not lo_all0:
        parts.append(_seq(x[0], _same_len_range(x[1:], "9" * (n - 1))))
    start = d0 if lo_all0 else d0 + 1
    end = d1 if hi_all9 else d1 - 1
    if start <= end:
        parts.append(_digit_class(start, end) + _rep("[0-9]", n - 1, n - 1))  # type: ignore[operator]
    if not hi_all9:
        parts.append(_seq(y[0], _same_len_range("0" * (n - 1), y[1:])))
    return _alt(parts)


def _nat_range(a: int, b: int | None) -> str | None:
    """Decimal naturals (no leading zeros) in [a, b]; b None: unbounded."""
    if b is not None and b < a:
        return None
    if a == 0 and b is None:
        return "(?:0|[1-9][0-9]*)"
    if a == 1 and b is None:
        return "[1-9][0-9]*"
    la = len(str(a))
    parts: list[str | None] = []
    if b is None:
        parts.append(_same_len_range(str(a), "9" * la))
        parts.append("[1-9]" + _rep("[0-9]", la, None))  # type: ignore[operator]
    else:
        lb = len(str(b))
        for length in range(la, lb + 1):
            lo = a if length == la else 10 ** (length - 1)
            hi = b if length == lb else 10**length - 1
            parts.append(_same_len_range(str(lo), str(hi)))
    return _alt(parts)


def integer_range_regex(lo: int | None, hi: int | None) -> str | None:
    """Regex for the JSON integers in [lo, hi] (None: unbounded), written without fraction/exponent."""
    if lo is not None and hi is not None and lo > hi:
        return None
    if lo is None and hi is None:
        return _INTEGER
    parts: list[str | None] = []
    nlo = 0 if lo is None else max(lo, 0)
    if hi is None or hi >= nlo:
        parts.append(_nat_range(nlo, hi))
    a = 1 if hi is None else max(1, -hi)
    b = None if lo is None else -lo
    if b is None or b >= a:
        parts.append(_seq("-", _group(_nat_range(a, b))))  # type: ignore[arg-type]
    if (lo is None or lo <= 0) and (hi is None or hi >= 0):
        parts.append("-0")
    return _alt(parts)


# decimal ranges: JSON numbers written without exponent whose value lies in [lo, hi] (and, with
# ``places``, has at most that many significant fraction digits: trailing zeros may follow)


def _free_digits(places: int | None, i: int = 0) -> str:
    """Fraction digits from position ``i`` on (at least one) with no bound but ``places``."""
    if places is None:
        return "[0-9]+"
    return "0+" if i >= places else _rep("[0-9]", 1, places - i) + "0*"  # type: ignore[operator]


def _frac_digits(x: str | None, y: str | None, i: int = 0, places: int | None = None) -> tuple[str | None, bool]:
    """Digit strings d (read as the fraction 0.d) continuing at position ``i`` with x <= 0.d <= y, where
    x / y are the bounds' fraction digits when the digits so far equal theirs (None: not tight), and
    no significant digit past ``places``. Returns (regex of the non-empty continuations, whether
    stopping here is allowed)."""
    if x is not None and not x[i:].strip("0"):
        x = None  # any continuation is >= x now
    if places is not None and i >= places:  # zeros only from here: the value stays where it is
        return ("0+" if x is None else None), x is None
    if x is None and y is None:
        return _free_digits(places, i), True
    if x is None and not y[i:].strip("0"):  # type: ignore[index]
        return "0+", True
    xi = int(x[i]) if x is not None and i < len(x) else 0
    yi = int(y[i]) if y is not None and i < len(y) else 9 if y is None else 0
    pieces: list[str | None] = []

    def piece(c0: int, c1: int, tx: bool, ty: bool) -> None:
        ne, stop = _frac_digits(x if tx else None, y if ty else None, i + 1, places)
        pieces.append(_seq(_digit_class(c0, c1), _alt([ne, "" if stop else None])))

    if xi > yi:
        return None, x is None
    if xi == yi:
        piece(xi, xi, True, True)
    else:
        piece(xi, xi, True, False)
        if yi - xi > 1:
            piece(xi + 1, yi - 1, False, False)
        piece(yi, yi, False, True)
    return _alt(pieces), x is None


def _fraction(x: str | None, y: str | None, places: int | None) -> str | None:
    """The optional ``.digits`` part of a number whose fraction 0.d lies in [0.x, 0.y]."""
    ne, stop = _frac_digits(x, y, 0, places)
    return _alt(["" if stop else None, None if ne is None else "\\." + ne])


def _split_decimal(d: Decimal) -> tuple[int, str]:
    text = format(d, "f")
    whole, _, frac = text.partition(".")
    return int(whole), frac.rstrip("0")


def _udecimal_range(a: Decimal, b: Decimal | None, places: int | None) -> str | None:
    """Unsigned numbers ``int(.frac)?`` with a <= value <= b (a >= 0; b None: unbounded)."""
    ia, fa = _split_decimal(a)
    if b is not None:
        if b < a:
            return None
        ib, fb = _split_decimal(b)
        if ia == ib:
            return _seq(str(ia), _fraction(fa, fb, places))
    parts: list[str | None] = [_seq(str(ia), _fraction(fa, None, places))]
    mid = _nat_range(ia + 1, None if b is None else ib - 1)
    if mid is not None:
        parts.append(_group(mid) + _opt("\\." + _free_digits(places)))
    if b is not None:
        parts.append(_seq(str(ib), _fraction(None, fb, places)))
    return _alt(parts)


def decimal_range_regex(lo: Decimal | None, hi: Decimal | None, places: int | None = None) -> str | None:
    """Regex for JSON numbers without exponent whose value is in [lo, hi] (None: unbounded) and, unless
    ``places`` is None, has at most ``places`` significant fraction digits."""
    if lo is not None and hi is not None and lo > hi:
        return None
    parts: list[str | None] = []
    a = Decimal(0) if lo is None or lo < 0 else lo
    if hi is None or hi >= a:
        parts.append(_udecimal_range(a, hi, places))
    if lo is None or lo < 0:
        ya = Decimal(0) if hi is None or hi >= 0 else -hi
        yb = None if lo is None else -lo
        r = _udecimal_range(ya, yb, places)
        if r is not None:
            parts.append("-" + _group(r))
    return _alt(parts)


def _to_decimal(v: Any) -> Decimal:
    return Decimal(v) if isinstance(v, int) else Decimal(repr(v))


def _exclusive_margin(e: Decimal) -> Decimal:
    """A decimal gap that keeps ``x >= e + gap`` strictly above ``e`` also after rounding to binary64."""
    if e == 0:
        return Decimal("1e-15")
    return Decimal(1).scaleb(e.adjusted() - 14)


# multiples: JSON numbers written without exponent whose value is a multiple of a decimal step

_MAX_MULTIPLE_REGEX = 50_000  # characters of the regex of a step's multiples; more are refused
_MAX_LISTED_MULTIPLES = 1000  # multiples a bounded range may list one by one


class _TooLarge(Exception):
    pass


def _decimal_places(step: Fraction) -> int:
    """The fraction digits of the decimal ``step`` (its denominator divides 10**places)."""
    places = 0
    while (step * 10**places).denominator != 1:
        places += 1
    return places


def _digit_classes(chars: list[str]) -> str:
    """A regex matching one of ``chars`` (digits and possibly ``.``)."""
    digits = sorted(int(c) for c in chars if c != ".")
    runs: list[list[int]] = []
    for d in digits:
        if runs and runs[-1][1] == d - 1:
            runs[-1][1] = d
        else:
            runs.append([d, d])
    if len(runs) == 1:
        cls = _digit_class(*runs[0])
    else:
        cls = "[" + "".join(_digit_class(a, b).strip("[]") for a, b in runs) + "]" if runs else None
    return _alt([cls, "\\." if "." in chars else None])  # type: ignore[return-value]


def _multiples_regex(k: int, places: int, fraction: bool, require: str) -> str | None:
    """Unsigned JSON numbers without exponent (with a fraction part only if ``fraction``) whose value
    times 10**places is a multiple of ``k``; ``require`` "nonzero" / "nonint" keeps only the values
    that are not 0 / not integral.

    The remainder automaton over the digits (a fraction shorter than ``places`` reads as padded with
    zeros, digits past it must be zeros), minimized, then turned into a regex by state elimination,
    cheapest state first. That regex grows quickly with the part of ``k`` prime to 10 (7: 30k
    characters, 11: millions): past ``_MAX_MULTIPLE_REGEX`` characters it raises ``_TooLarge``."""
    alphabet = "0123456789." if fraction else "0123456789"

    def step(state: tuple, ch: str) -> tuple | None:
        # (phase, remainder of the digits so far, fraction digits read (places + 1: more, all zeros),
        # whether a digit that ``require`` asks for was read)
        phase, r, j, seen = state
        if ch == ".":
            return ("frac", r, 0, seen) if phase in ("zero", "int") else None
        c = int(ch)
        if phase == "start":
            return ("zero", 0, 0, False) if c == 0 else ("int", c % k, 0, require == "nonzero")
        if phase == "int":
            return ("int", (10 * r + c) % k, 0, seen)
        if phase == "frac" and j < places:
            return ("frac", (10 * r + c) % k, j + 1, seen or (c > 0 and require != ""))
        if phase == "frac" and c == 0:
            return ("frac", r, places + 1, seen)
        return None

    def accepting(state: tuple) -> bool:
        phase, r, j, seen = state
        if phase == "start" or (phase == "frac" and j == 0) or (require and not seen):
            return False
        return r * 10 ** (places - min(j, places)) % k == 0

    start = ("start", 0, 0, False)
    delta: dict[tuple, dict[str, tuple]] = {}
    todo = [start]
    while todo:
        q = todo.pop()
        if q in delta:
            continue
        delta[q] = {ch: t for ch in alphabet if (t := step(q, ch)) is not None}
        todo += delta[q].values()
        if len(delta) > 4096:
            raise _TooLarge()
    # Moore minimization: split blocks by acceptance, then by the blocks the transitions reach
    block = {q: int(accepting(q)) for q in delta}
    while True:
        sigs: dict[tuple, int] = {}
        refined = {q: sigs.setdefault((block[q],) + tuple(block.get(delta[q].get(ch)) for ch in alphabet), len(sigs))
                   for q in delta}  # type: ignore[arg-type]
        if len(sigs) == len(set(block.values())):
            break
        block = refined
    if not any(accepting(q) for q in delta):
        return None
    # state elimination over a generalized automaton: blocks, plus an entry and an exit node
    entry, exit_ = -1, -2
    edges: dict[tuple[int, int], str | None] = {(entry, block[start]): ""}
    for q, moves in delta.items():
        targets: dict[int, list[str]] = {}
        for ch, t in moves.items():
            targets.setdefault(block[t], []).append(ch)
        for t, chars in targets.items():
            edges[(block[q], t)] = _digit_classes(chars)
        if accepting(q):
            edges[(block[q], exit_)] = ""
    nodes = set(block.values())

    def cost(n: int) -> int:
        ins = [len(r) for (a, b), r in edges.items() if b == n and a != n and r is not None]
        outs = [len(r) for (a, b), r in edges.items() if a == n and b != n and r is not None]
        loop = len(edges.get((n, n)) or "")
        return sum(ins) * (len(outs) - 1) + sum(outs) * (len(ins) - 1) + loop * (len(ins) * len(outs) - 1)

    while nodes:
        n = min(nodes, key=cost)
        nodes.discard(n)
        star = _rep(edges.pop((n, n), None), 0, None)
        ins = [(a, edges.pop((a, b))) for a, b in list(edges) if b == n]
        outs = [(b, edges.pop((a, b))) for a, b in list(edges) if a == n]
        for a, ra in ins:
            for b, rb in outs:
                rx = _alt([edges.get((a, b)), _seq(ra, star, rb)])
                if rx is not None and len(rx) > _MAX_MULTIPLE_REGEX:
                    raise _TooLarge()
                edges[(a, b)] = rx
    return edges.get((entry, exit_))


_MAX_REMAINDER_STATES = 20_000  # states of a step's remainder automaton (before minimization)


def _multiples_dfa(k: int, places: int, fraction: bool) -> DFA:
    """JSON numbers without exponent, of either sign (a fraction part only if ``fraction``), whose
    value times 10**places is a multiple of ``k``: the remainder automaton, as in
    :func:`_multiples_regex`, but built as a DFA directly (no regex, so no size blow-up); not minimal
    (an intersection minimizes it). RegexError past ``_MAX_REMAINDER_STATES`` states."""
    width = places + 2  # fraction states per remainder: digits read 0..places, then more (zeros only)
    n = 3 + k + (k * width if fraction else 0)
    if n > _MAX_REMAINDER_STATES:
        raise RegexError("the remainder automaton of the multiples of %s needs more than %d states"
                         % (Decimal(k).scaleb(-places), _MAX_REMAINDER_STATES))
    minus, zero, first_int = 1, 2, 3  # state 0 starts; zero: the integer part is 0
    first_frac = first_int + k
    digit = np.arange(10)
    r = np.arange(k)[:, None]
    table = np.full((n, 256), -1, dtype=np.int32)
    accepting = np.zeros(n, dtype=np.bool_)
    table[0, ord("-")] = minus
    for start in (0, minus):
        table[start, ord("0")] = zero
        table[start, ord("1"):ord("9") + 1] = first_int + digit[1:] % k
    table[first_int:first_frac, ord("0"):ord("9") + 1] = first_int + (10 * r + digit) % k
    accepting[zero] = True
    accepting[first_int:first_frac] = np.arange(k) * (10**places % k) % k == 0
    if fraction:
        def frac(rem: Any, j: int) -> Any:
            return first_frac + rem * width + j

        table[zero, ord(".")] = frac(0, 0)
        table[first_int:first_frac, ord(".")] = frac(np.arange(k), 0)
        for j in range(places):
            table[frac(np.arange(k), j)[:, None], digit + ord("0")] = frac((10 * r + digit) % k, j + 1)
        for j in (places, places + 1):  # past the step's digits only zeros, which keep the value
            table[frac(np.arange(k), j), ord("0")] = frac(np.arange(k), places + 1)
        for j in range(1, width):
            accepting[frac(np.arange(k), j)] = np.arange(k) * (10 ** (places - min(j, places)) % k) % k == 0
    return DFA(table, accepting)


def _trie_regex(texts: Iterable[str]) -> str | None:
    """A regex matching exactly ``texts``, common prefixes written once."""
    trie: dict = {}
    for text in texts:
        node = trie
        for ch in text:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict) -> str | None:
        return _alt(["" if ch == "" else _lit(ch) + emit(child) for ch, child in node.items()])  # type: ignore[operator]

    return emit(trie) if trie else None


# ==================================================================================================
# formats

_YEAR = "(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
_LEAP4 = "(?:0[48]|[2468][048]|[13579][26])"
_LEAP_YEAR = "(?:[0-9]{2}" + _LEAP4 + "|" + _LEAP4 + "00)"
_DATE = (
    "(?:" + _YEAR + "-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    "|02-(?:0[1-9]|1[0-9]|2[0-8]))|" + _LEAP_YEAR + "-02-29)"
)
_HH = "(?:[01][0-9]|2[0-3])"
_MS = "[0-5][0-9]"
_TIME = _HH + ":" + _MS + ":" + _MS + "(?:\\.[0-9]+)?(?:Z|[+\\-]" + _HH + ":" + _MS + ")"
_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_ATEXT = "[A-Za-z0-9!#$%&'*+/=?\\^_`{|}~\\-]"
_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9\\-]{0,61}[A-Za-z0-9])?"

_H16 = "[0-9A-Fa-f]{1,4}"
_IPV4 = _OCTET + "(?:\\." + _OCTET + "){3}"


def _ipv6() -> str:
    """RFC 4291 text forms: eight groups, or ``::`` standing for at least one zero group, with an
    optional dotted IPv4 tail counting as two groups."""

    def groups(n: int) -> str:  # exactly n >= 1 groups
        return _H16 + ("(?::" + _H16 + "){%d}" % (n - 1) if n > 1 else "")

    forms = ["(?:" + _H16 + ":){7}" + _H16, "(?:" + _H16 + ":){6}" + _IPV4]
    for left in range(0, 8):
        head = groups(left) if left else ""
        room = 7 - left  # explicit groups the right side may still hold
        tail = ["(?:" + _H16 + "(?::" + _H16 + "){0,%d})?" % (room - 1) if room >= 1 else ""]
        if room >= 2:
            tail.append("(?:" + _H16 + ":){0,%d}" % (room - 2) + _IPV4)
        forms.append(head + "::" + ("(?:" + "|".join(tail) + ")" if len(tail) > 1 else tail[0]))
    return "(?:" + "|".join(forms) + ")"




def _host_label(max_len: int) -> str:
    """An LDH label of 1..max_len characters without ``--`` in positions 3-4 (RFC 5891 reserves
    those for A-labels, whose Punycode a regex cannot check)."""
    a, x = "[A-Za-z0-9]", "[A-Za-z0-9\\-]"
    return "%s(?:%s?%s|%s(?:-%s|%s%s)|%s(?:-%s|%s%s)%s{0,%d}%s)?" % (a, x, a, x, a, a, a, x, a, a, x, x, max_len - 5, a)


# a host name is at most 253 characters: up to 3 labels of 63, or up to 8 labels of 30 (a sound subset)
_HOSTNAME = "(?:%s(?:\\.%s){0,2}|%s(?:\\.%s){3,7})" % ((_host_label(63),) * 2 + (_host_label(30),) * 2)
_DUR_TIME = "T(?:[0-9]+H(?:[0-9]+M(?:[0-9]+S)?)?|[0-9]+M(?:[0-9]+S)?|[0-9]+S)"
_DURATION = ("P(?:(?:[0-9]+Y(?:[0-9]+M(?:[0-9]+D)?)?|[0-9]+M(?:[0-9]+D)?|[0-9]+D)(?:" + _DUR_TIME + ")?|"
             + _DUR_TIME + "|[0-9]+W)")
# RFC 3986 URIs; RFC 3987 IRIs add non-ASCII "ucschar" to the unreserved characters, and "iprivate"
# to queries
_PCT = "%[0-9A-Fa-f]{2}"
_SUB = "!$&'()*+,;="
_UNRESERVED = "A-Za-z0-9\\-._~"
_UCSCHAR = ("\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef" + "".join(
    "%s-%s" % (chr(p << 16), chr((p << 16) | 0xFFFD)) for p in range(1, 14)) + "\U000e1000-\U000efffd")
_IPRIVATE = "\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"


def _uri(unreserved: str, private: str) -> tuple[str, str]:
    """(absolute URI, URI reference) regexes over ``unreserved`` characters, ``private`` ones
    allowed in queries."""
    pchar = "(?:[" + unreserved + _SUB + ":@]|" + _PCT + ")"
    segment_nc = "(?:[" + unreserved + _SUB + "@]|" + _PCT + ")"  # no colon: a relative path's first segment
    authority = ("(?:(?:[" + unreserved + _SUB + ":]|" + _PCT + ")*@)?(?:\\[(?:" + _ipv6() + "|[vV][0-9A-Fa-f]+\\.["
                 + _UNRESERVED + _SUB + ":]+)\\]|(?:[" + unreserved + _SUB + "]|" + _PCT + ")*)(?::[0-9]*)?")
    query = "(?:\\?(?:" + pchar + "|[/?" + private + "])*)?"
    fragment = "(?:#(?:" + pchar + "|[/?])*)?"
    tail = "(?:/" + pchar + "*)*"
    absolute = ("[A-Za-z][A-Za-z0-9+\\-.]*:(?://" + authority + tail + "|/(?:" + pchar + "+" + tail + ")?|" + pchar
                + "+" + tail + ")?" + query + fragment)
    relative = "(?://" + authority + tail + "|/(?:" + pchar + "+" + tail + ")?|" + segment_nc + "+" + tail + ")?" + query + fragment
    return absolute, "(?:" + absolute + "|" + relative + ")"


_URI, _URI_REFERENCE = _uri(_UNRESERVED, "")
_IRI, _IRI_REFERENCE = _uri(_UNRESERVED + _UCSCHAR, _IPRIVATE)
# RFC 6570 level 4 (with the apostrophe literal its errata allow)
_VARCHAR = "(?:[A-Za-z0-9_]|" + _PCT + ")"
_VARSPEC = _VARCHAR + "(?:\\.?" + _VARCHAR + ")*(?::[1-9][0-9]{0,3}|\\*)?"
_URI_TEMPLATE = ("(?:[!#$&'(-;=?-\\[\\]_a-z~" + _UCSCHAR + _IPRIVATE + "]|" + _PCT + "|\\{[+#./;?&=,!@|]?" + _VARSPEC
                 + "(?:," + _VARSPEC + ")*\\})*")
_JSON_POINTER = '(?:/(?:[^"\\\\\\x00-\\x1f~/]|' + _CANON_ESCAPE + "|~[01])*)*"
_BASE64 = "(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?"

# name -> (regex over the string content, min length, max length)
_FORMATS: dict[str, tuple[str, int, int | None]] = {
    "duration": (_DURATION, 3, None),
    "hostname": (_HOSTNAME, 1, 253),
    "ipv6": (_ipv6(), 2, 45),
    "uri": (_URI, 2, None),
    "uri-reference": (_URI_REFERENCE, 0, None),
    "iri": (_IRI, 2, None),
    "iri-reference": (_IRI_REFERENCE, 0, None),
    "uri-template": (_URI_TEMPLATE, 0, None),
    "json-pointer": (_JSON_POINTER, 0, None),
    "relative-json-pointer": ("(?:0|[1-9][0-9]*)(?:#|" + _JSON_POINTER + ")", 1, None),
    "byte": (_BASE64, 0, None),  # OpenAPI: base64 with padding
    "date": (_DATE, 10, 10),
    "time": (_TIME, 9, None),
    "date-time": (_DATE + "T" + _TIME, 20, None),
    "uuid": ("%s{8}-%s{4}-%s{4}-%s{4}-%s{12}" % ((_HEX,) * 5), 36, 36),
    "ipv4": (_IPV4, 7, 15),
    "email": (_ATEXT + "+(?:\\." + _ATEXT + "+)*@" + _LABEL + "(?:\\." + _LABEL + ")*", 3, None),
}
_FORMATS["host-name"] = _FORMATS["hostname"]  # draft 3's names for the same formats
_FORMATS["ip-address"] = _FORMATS["ipv4"]
SUPPORTED_FORMATS = frozenset(_FORMATS)
# the formats a JSON Schema draft defines (2020-12's, and draft 3's older names): one not in
# SUPPORTED_FORMATS cannot be asserted and is unsupported; any other name asserts nothing (the
# specification: unknown formats are annotations, never a validation failure)
_SPEC_FORMATS = frozenset({
    "date-time", "date", "time", "duration", "email", "idn-email", "hostname", "idn-hostname", "ipv4", "ipv6",
    "uri", "uri-reference", "iri", "iri-reference", "uuid", "uri-template", "json-pointer", "relative-json-pointer",
    "regex", "host-name", "ip-address", "color", "style", "phone", "utc-millisec",
})


# ==================================================================================================
# ECMA-262 patterns (the subset with the same meaning in ECMAScript and Python ``re``)


class _PatUnsupported(Exception):
    pass


class _PatSyntax(Exception):
    pass


_ECMA_D: CS = ((0x30, 0x39),)
_ECMA_W = normalize([(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)])
_ECMA_S: CS = normalize([(9, 13), (0x20, 0x20), (0xA0, 0xA0), (0x1680, 0x1680), (0x2000, 0x200A), (0x2028, 0x2029),
                   (0x202F, 0x202F), (0x205F, 0x205F), (0x3000, 0x3000), (0xFEFF, 0xFEFF)])
_PY_S: CS = normalize([(9, 13), (0x1C, 0x20), (0x85, 0x85), (0xA0, 0xA0), (0x1680, 0x1680), (0x2000, 0x200A),
                 (0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F), (0x3000, 0x3000)])
_LINE_TERM: CS = normalize([(0x0A, 0x0A), (0x0D, 0x0D), (0x2028, 0x2029)])


@lru_cache(maxsize=None)
def _py_table(kind: str) -> CS:
    pred = str.isdecimal if kind == "d" else (lambda c: c.isalnum() or c == "_")
    ranges = []
    start = None
    for cp in range(MAX_CODE_POINT + 2):
        inside = cp <= MAX_CODE_POINT and not (0xD800 <= cp <= 0xDFFF) and pred(chr(cp))
        if inside and start is None:
            start = cp
        elif not inside and start is not None:
            ranges.append((start, cp - 1))
            start = None
    return normalize(ranges)


def _class_escape(letter: str, mode: str) -> CS:
    """``\\d \\w \\s`` (lower) and their negations in ``mode`` 'sub' (both engines match) or 'super'
    (either engine matches)."""
    low = letter.lower()
    neg = letter != low
    m = mode if not neg else ("super" if mode == "sub" else "sub")
    if low == "d":
        cs = _ECMA_D if m == "sub" else _py_table("d")
    elif low == "w":
        cs = _ECMA_W if m == "sub" else union(_py_table("w"), _ECMA_W)
    else:
        cs = intersect(_ECMA_S, _PY_S) if m == "sub" else union(_ECMA_S, _PY_S)
    return complement(cs) if neg else cs


class _PatParser:
    """Recursive-descent parser of an ECMA-262 (non-unicode mode) regular expression."""

    def __init__(self, src: str) -> None:
        self.s = src
        self.i = 0

    def parse(self):
        node = self.alt()
        if self.i < len(self.s):
            raise _PatSyntax("unbalanced ')'")
        return node

    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.s[j] if j < len(self.s) else ""

    def alt(self):
        seqs = [self.seq()]
        while self.peek() == "|":
            self.i += 1
            seqs.append(self.seq())
        return ("alt", seqs)

    def seq(self):
        items = []
        while self.i < len(self.s) and self.s[self.i] not in "|)":
            items.append(self.term())
        return ("seq", items)

    def term(self):
        atom = self.atom()
        while True:
            q = self.quant()
            if q is None:
                return atom
            if atom[0] in ("bol", "eol"):
                raise _PatUnsupported("quantified anchor")
            if atom[0] == "rep":
                raise _PatSyntax("nothing to repeat")
            if atom[0] == "char" and atom[1] > 0xFFFF:
                raise _PatUnsupported("quantified character outside the BMP")
            atom = ("rep", atom, q[0], q[1])

    def quant(self):
        c = self.peek()
        if c == "*":
            lo, hi = 0, None
            self.i += 1
        elif c == "+":
            lo, hi = 1, None
            self.i += 1
        elif c == "?":
            lo, hi = 0, 1
            self.i += 1
        elif c == "{":
            m = re.match(r"\{([0-9]+)(,([0-9]*))?\}", self.s[self.i :])
            if m is None:
                if re.match(r"\{,[0-9]+\}", self.s[self.i :]):
                    raise _PatUnsupported("'{,n}' (a quantifier in Python, a literal in ECMAScript)")
                return None
            lo = int(m.group(1))
            hi = lo if m.group(2) is None else (int(m.group(3)) if m.group(3) else None)
            if hi is not None and hi < lo:
                raise _PatSyntax("numbers out of order in {} quantifier")
            self.i += m.end()
        else:
            return None
        if self.peek() == "?":
            self.i += 1
        elif self.peek() == "+":
            raise _PatUnsupported("possessive quantifier")
        return lo, hi

    def atom(self):
        s = self.s
        c = s[self.i]
        if c == "^":
            self.i += 1
            return ("bol",)
        if c == "$":
            self.i += 1
            return ("eol",)
        if c == ".":
            self.i += 1
            return ("dot",)
        if c == "(":
            if s.startswith(("(?=", "(?!", "(?<=", "(?<!"), self.i):
                raise _PatUnsupported("lookaround")
            if s.startswith("(?:", self.i):
                self.i += 3
            elif s.startswith("(?<", self.i):
                end = s.find(">", self.i)
                if end < 0 or not re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$]*", s[self.i + 3 : end]):
                    raise _PatSyntax("invalid group name")
                self.i = end + 1
            elif s.startswith("(?", self.i):
                raise _PatUnsupported("group extension '(?%s'" % self.peek(2))
            else:
                self.i += 1
            inner = self.alt()
            if self.peek() != ")":
                raise _PatSyntax("missing ')'")
            self.i += 1
            return ("group", inner)
        if c == "[":
            return self.char_class()
        if c == "\\":
            return self.escape(in_class=False)
        if c in "*+?":
            raise _PatSyntax("nothing to repeat")
        if c == "{" and re.match(r"\{[0-9]+(,[0-9]*)?\}", s[self.i :]):
            raise _PatSyntax("nothing to repeat")
        self.i += 1
        return ("char", ord(c))

    def escape(self, in_class: bool):
        s = self.s
        self.i += 1
        if self.i >= len(s):
            raise _PatSyntax("trailing backslash")
        c = s[self.i]
        self.i += 1
        if c in "dDwWsS":
            return ("cls", c)
        if c == "b":
            if in_class:
                return ("char", 8)
            raise _PatUnsupported("word boundary \\b")
        if c == "B":
            raise _PatUnsupported("\\B")
        if c in "123456789":
            raise _PatUnsupported("backreference")
        if c == "0":
            if self.peek().isdigit():
                raise _PatUnsupported("octal escape")
            return ("char", 0)
        simple = {"t": 9, "n": 10, "v": 11, "f": 12, "r": 13}
        if c in simple:
            return ("char", simple[c])
        if c == "x":
            h = s[self.i : self.i + 2]
            if not re.fullmatch(r"[0-9a-fA-F]{2}", h):
                raise _PatUnsupported("'\\x' without two hex digits")
            self.i += 2
            return ("char", int(h, 16))
        if c == "u":
            h = s[self.i : self.i + 4]
            if not re.fullmatch(r"[0-9a-fA-F]{4}", h):
                raise _PatUnsupported("'\\u' without four hex digits")
            self.i += 4
            cp = int(h, 16)
            if 0xD800 <= cp <= 0xDBFF and not in_class:
                m = re.match(r"\\u([dD][c-fC-F][0-9a-fA-F]{2})", s[self.i :])
                if m:
                    self.i += m.end()
                    return ("char", 0x10000 + ((cp - 0xD800) << 10) + (int(m.group(1), 16) - 0xDC00))
            if 0xD800 <= cp <= 0xDFFF:
                raise _PatUnsupported("lone surrogate escape")
            return ("char", cp)
        if c.isascii() and c.isalnum():
            raise _PatUnsupported("escape '\\%s'" % c)
        if ord(c) > 0xFFFF:
            raise _PatUnsupported("escaped character outside the BMP")
        return ("char", ord(c))

    def class_atom(self):
        c = self.s[self.i]
        if c == "\\":
            return self.escape(in_class=True)
        if ord(c) > 0xFFFF:
            raise _PatUnsupported("character class with a character outside the BMP")
        self.i += 1
        return ("char", ord(c))

    def char_class(self):
        self.i += 1
        neg = False
        if self.peek() == "^":
            neg = True
            self.i += 1
        if self.peek() == "]":
            raise _PatUnsupported("'[]' / '[^]' (empty class in ECMAScript, literal ']' in Python)")
        items = []
        while True:
            if self.i >= len(self.s):
                raise _PatSyntax("unterminated character class")
            if self.s[self.i] == "]":
                self.i += 1
                break
            first = self.class_atom()
            if self.peek() == "-" and self.peek(1) not in ("]", ""):
                self.i += 1
                second = self.class_atom()
                if first[0] != "char" or second[0] != "char":
                    raise _PatUnsupported("range with a class escape")
                if first[1] > second[1]:
                    raise _PatSyntax("range out of order in character class")
                items.append(("range", first[1], second[1]))
            else:
                items.append(first)
        return ("class", neg, items)


def _has_anchor(node) -> bool:
    kind = node[0]
    if kind in ("bol", "eol"):
        return True
    if kind in ("alt", "seq"):
        return any(_has_anchor(x) for x in node[1])
    if kind in ("group", "rep"):
        return _has_anchor(node[1])
    return False


_MAX_EXPANSION = 64


@lru_cache(maxsize=4096)
def _parse_pattern(src: str):
    """The pattern as a list of top-level alternatives ``(anchored_start, anchored_end, seq)``.

    Unquantified groups at the edge of an alternative that contain anchors are distributed
    (``^(a|$)`` → ``^a|^$``), so anchors end up at the edges of top-level alternatives."""
    ast = _PatParser(src).parse()
    todo = [list(seq[1]) for seq in ast[1]]
    done: list[list] = []
    while todo:
        items = todo.pop(0)
        for pos in (0, -1):
            if items and items[pos][0] == "group" and _has_anchor(items[pos][1]):
                inner = items[pos][1][1]
                if pos == 0:
                    todo[:0] = [list(alt[1]) + items[1:] for alt in inner]
                else:
                    todo[:0] = [items[:-1] + list(alt[1]) for alt in inner]
                break
        else:
            done.append(items)
        if len(todo) + len(done) > _MAX_EXPANSION:
            raise _PatUnsupported("too many alternatives around anchors")
    alts = []
    for items in done:
        a_start = a_end = False
        while items and items[0][0] == "bol":
            items = items[1:]
            a_start = True
        while items and items[-1][0] == "eol":
            items = items[:-1]
            a_end = True
        alts.append((a_start, a_end, tuple(items)))
    return alts


_ANY_STAR = ("rep", ("any",), 0, None)


def _fit_length(items: list, min_len: int, max_len: int | None) -> list | None:
    """``items`` (a sequence) restricted to total lengths in [min_len, max_len]: exact when at most one
    item has a variable length and it is a repetition of a fixed-length atom. None: empty."""
    lens = [_node_len(x) for x in items]
    lo = sum(a for a, _ in lens)
    hi = None if any(b is None for _, b in lens) else sum(b for _, b in lens)  # type: ignore[misc]
    if lo >= min_len and (max_len is None or (hi is not None and hi <= max_len)):
        return items
    if (max_len is not None and lo > max_len) or (hi is not None and hi < min_len):
        return None
    var = [i for i, (a, b) in enumerate(lens) if a != b]
    if len(var) == 2 and items[0] is _ANY_STAR and items[-1] is _ANY_STAR:
        # search semantics with a length bound: match at the start (a sound restriction)
        return _fit_length(items[1:], min_len, max_len)
    if len(var) != 1 or items[var[0]][0] != "rep":
        raise _PatUnsupported("length bounds together with this pattern")
    i = var[0]
    _, atom, rlo, rhi = items[i]
    w, w2 = _node_len(atom)
    if w != w2 or w == 0:
        raise _PatUnsupported("length bounds together with this pattern")
    fixed = lo - rlo * w
    nlo = max(rlo, -(-(min_len - fixed) // w))
    nhi = rhi
    if max_len is not None:
        cap = (max_len - fixed) // w
        nhi = cap if nhi is None else min(nhi, cap)
    if nhi is not None and nlo > nhi:
        return None
    return items[:i] + [("rep", atom, nlo, nhi)] + items[i + 1:]


def _absorb_optional(items: list) -> list:
    """``items`` less the items that may be empty next to an unanchored end, which adds nothing there
    (``.*[a-z]*`` matches what ``.*`` does): fewer parts of variable length to fit into length bounds."""
    items = list(items)
    while len(items) > 1 and items[-1] is _ANY_STAR and _node_len(items[-2])[0] == 0:
        del items[-2]
    while len(items) > 1 and items[0] is _ANY_STAR and _node_len(items[1])[0] == 0:
        del items[1]
    return items


def _node_set(node, mode: str) -> CS:
    kind = node[0]
    if kind == "char":
        return ((node[1], node[1]),)
    if kind == "dot":
        cs = complement(_LINE_TERM) if mode == "sub" else complement(((0x0A, 0x0A),))
    elif kind == "cls":
        cs = _class_escape(node[1], mode)
    else:  # class
        _, neg, items = node
        inner_mode = mode if not neg else ("super" if mode == "sub" else "sub")
        parts = []
        for it in items:
            if it[0] == "range":
                parts.append(((it[1], it[2]),))
            else:
                parts.append(_node_set(it, inner_mode))
        cs = union(*parts)
        if neg:
            cs = complement(cs)
    return intersect(cs, _BMP) if mode == "sub" else cs


def _emit_pattern(node, mode: str, enc: bool) -> str | None:
    kind = node[0]
    if kind == "alt":
        return _alt(_emit_pattern(s, mode, enc) for s in node[1])
    if kind == "seq":
        return _seq(*(_emit_pattern(x, mode, enc) for x in node[1]))
    if kind == "group":
        return _emit_pattern(node[1], mode, enc)
    if kind == "rep":
        return _rep(_emit_pattern(node[1], mode, enc), node[2], node[3])
    if kind in ("bol", "eol"):
        raise _PatUnsupported("anchor '%s' not at the start or end of the pattern" % ("^" if kind == "bol" else "$"))
    if kind == "any":
        return _CANON_CHAR if enc else "(?s:.)"
    if kind == "char" and node[1] > 0xFFFF:
        cs: CS = ((node[1], node[1]),)
    else:
        cs = _node_set(node, mode)
    return _enc_set(cs) if enc else _cls(cs)


def _node_len(node) -> tuple[int, int | None]:
    kind = node[0]
    if kind == "alt":
        ls = [_node_len(s) for s in node[1]]
        return min(a for a, _ in ls), (None if any(b is None for _, b in ls) else max(b for _, b in ls))  # type: ignore[type-var]
    if kind == "seq":
        lo, hi = 0, 0
        for x in node[1]:
            a, b = _node_len(x)
            lo += a
            hi = None if hi is None or b is None else hi + b
        return lo, hi
    if kind == "group":
        return _node_len(node[1])
    if kind == "rep":
        a, b = _node_len(node[1])
        hi = 0 if b == 0 else (None if node[3] is None or b is None else node[3] * b)
        return node[2] * a, hi
    if kind in ("bol", "eol"):
        return 0, 0
    return 1, 1


_FINAL_NEWLINE = ("rep", ("char", 0x0A), 0, 1)  # where Python's `$` also matches


@lru_cache(maxsize=4096)
def pattern_to_regex(src: str, min_len: int = 0, max_len: int | None = None,
                     mode: str = "sub") -> tuple[str | None, int, int | None]:
    """Regex over JSON string content (canonical encoding) for the strings the ECMA pattern ``src`` matches
    (searched, as JSON Schema does), restricted to lengths in [min_len, max_len] code points; with the
    range of lengths the regex allows. ``mode`` "sub": under the semantics ECMAScript and Python share
    (every string matched matches in both); "super": in either of them, for strings of BMP characters
    (a string matched by neither is not matched), so that its complement is sound.
    Raises _PatSyntax / _PatUnsupported."""
    parts = []
    lo: int | None = None
    hi: int | None = 0
    for a_start, a_end, body in _parse_pattern(src):
        end = ([_FINAL_NEWLINE] if mode == "super" else []) if a_end else [_ANY_STAR]
        items = _absorb_optional(([] if a_start else [_ANY_STAR]) + list(body) + end)
        if min_len or max_len is not None:
            fitted = _fit_length(items, min_len, max_len)
            if fitted is None:
                continue
            items = fitted
        seq = ("seq", items)
        rx = _emit_pattern(seq, mode, True)
        if rx is None:
            continue
        parts.append(rx)
        blo, bhi = _node_len(seq)
        lo = blo if lo is None else min(lo, blo)
        hi = None if (hi is None or bhi is None) else max(hi, bhi)
    return _alt(parts), (lo or 0), hi


@lru_cache(maxsize=4096)
def _pattern_decoded(src: str, mode: str) -> "re.Pattern[str] | None":
    """Python regex (fullmatch, over the decoded string) for ``src`` in ``mode``."""
    parts = []
    for a_start, a_end, body in _parse_pattern(src):
        end = ("\\n?" if mode == "super" else "") if a_end else "(?s:.)*"
        parts.append(_seq("" if a_start else "(?s:.)*", _emit_pattern(("seq", body), mode, False), end))
    rx = _alt(parts)
    return None if rx is None else re.compile(rx)


# ==================================================================================================
# keyword tables

_TYPE_NAMES = ("null", "boolean", "object", "array", "number", "string", "integer")
_ALL = frozenset({"null", "boolean", "integer", "nonint", "string", "array", "object"})
_TYPE_SETS = {
    "null": {"null"}, "boolean": {"boolean"}, "object": {"object"}, "array": {"array"},
    "number": {"integer", "nonint"}, "integer": {"integer"}, "string": {"string"},
}
_OBJECT_KWS = frozenset({"properties", "required", "additionalProperties", "patternProperties", "propertyNames",
                         "minProperties", "maxProperties", "dependentRequired", "dependentSchemas",
                         "dependencies", "unevaluatedProperties"})
_ARRAY_KWS = frozenset({"items", "prefixItems", "additionalItems", "minItems", "maxItems", "uniqueItems",
                        "contains", "minContains", "maxContains", "unevaluatedItems"})
# the patterns of other allOf parts merged into a schema, as ((pattern, pointer), ...), all of which
# must match: a private keyword (a NUL in it, which the keywords of real schemas have not)
_MORE_PATTERNS = "\0patterns"
_STRING_KWS = frozenset({"minLength", "maxLength", "pattern", "format", _MORE_PATTERNS})
_NUMBER_KWS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"})
_GENERAL_KWS = frozenset({"type", "enum", "const", "allOf", "anyOf", "oneOf", "not", "if", "then", "else",
                          "$ref", "$dynamicRef", "$recursiveRef", "disallow", "extends", "divisibleBy"})
# every other keyword is ignored: annotations (title, description, default, examples, $comment, deprecated,
# readOnly, writeOnly, content*), core keywords ($schema, $id, $anchor, $defs, definitions...) and unknown
# (vendor) keywords, which the specification treats as annotations
_KNOWN = _OBJECT_KWS | _ARRAY_KWS | _STRING_KWS | _NUMBER_KWS | _GENERAL_KWS
_NAMEMAP_KWS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas",
                          "dependencies"})
_SUBSCHEMA_KWS = _NAMEMAP_KWS | frozenset({
    "additionalProperties", "unevaluatedProperties", "propertyNames", "items", "prefixItems", "additionalItems",
    "unevaluatedItems", "contains", "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "extends"})
_MISSING: Any = object()
_MEMBER_KWS = frozenset({"properties", "patternProperties", "additionalProperties"})  # what a member's value follows
_ROOT_BASE = "https://guidegen.invalid/schema.json"
_MAX_REGEX_CHARS = 20_000_000  # larger regexes are refused (UnsupportedSchemaError)
_RULE_CHARS = 4_000  # a subschema whose regex (automata it calls counted as written out) is longer becomes a rule
_SPLICE_CHARS = 1500  # a member value or array item whose regex is longer is an automaton rule, spliced
_LONG_COUNT = re.compile(r"\{[0-9]*,?(?:[5-9][0-9]|[0-9]{3,})\}")  # a count of 50 or more: a short regex, many states
_MARKERS = re.compile("[\ud800-\udfff]")
_ANCHORED_LITERAL = re.compile(r"\^([A-Za-z0-9 _\-]*)\$")  # a pattern such as ^success$: one string (ECMA-262)
_MAX_ANY_ORDER = 10  # declared properties an object may have in any order (2^n rules)
_MAX_PATTERNS = 4  # patternProperties entries an undeclared name is matched against (2^n name automata)
# members a maxProperties count generates past the declared ones: a bounded repetition writes a copy
# of the member per count, so more are not generated (a sound restriction)
_MAX_COUNTED_MEMBERS = 64
_MAX_COUNTED_ALTERNATIVES = 64  # sets of optional properties an object with a property count may have
_MAX_CONTAINS = 16  # minContains / maxContains counted exactly (a regex repeated that many times)
_MAX_UNIQUE = 5  # values unique items may be drawn from (every order of every subset: 326 sequences)
_MAX_NOT_ALTERNATIVES = 64  # alternatives the negation of an anyOf or oneOf may cross into
_MAX_CONDITIONALS = 6  # if/then/else of allOf parts nested into one schema (2**6 cases)


def _esc(token: Any) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


class _Shape(NamedTuple):
    """A language every string of a schema is in (a pattern's or a format's): the regex of its content,
    the lengths it allows, the keyword and its pointer, and the pattern (None for a format)."""

    body: str | None
    min_len: int
    max_len: int | None
    kw: str
    kwp: str
    pattern: str | None


class _Call:
    """A recursive ``$ref`` back into a schema being lowered: it becomes a call to that schema's rule."""

    __slots__ = ("ptr", "target")

    def __init__(self, ptr: str, target: Any) -> None:
        self.ptr = ptr
        self.target = target


def _has_constraints(s: Any) -> bool:
    if isinstance(s, _Call):
        return True
    if not isinstance(s, dict):
        return s is False
    return any(k in _KNOWN for k in s)


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _jtype(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "integer" if v.is_integer() else "nonint"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    raise SchemaError("not a JSON value: %r" % (v,))


def _json_eq(a: Any, b: Any) -> bool:
    if _is_num(a) and _is_num(b):
        return a == b
    if type(a) is not type(b):
        if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
            pass
        else:
            return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_json_eq(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_json_eq(x, y) for x, y in zip(a, b))
    return a == b


def _and3(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return True


def _to_fraction(v: Any) -> Fraction:
    if isinstance(v, int):
        return Fraction(v)
    return Fraction(Decimal(repr(v)))


def _nonneg_int(v: Any) -> bool:
    return _is_num(v) and v >= 0 and float(v).is_integer()


def _is_schema(v: Any) -> bool:
    return isinstance(v, (dict, bool))


def _schema_list(v: Any) -> bool:
    return isinstance(v, list) and len(v) > 0 and all(_is_schema(x) for x in v)


def _schema_map(v: Any) -> bool:
    return isinstance(v, dict) and all(_is_schema(x) for x in v.values())


def _type_ok(v: Any) -> bool:
    names = [v] if isinstance(v, str) else v
    return isinstance(names, list) and all(isinstance(n, str) and n in _TYPE_NAMES for n in names) and len(
        set(names)) == len(names)


_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "type": (_type_ok, "a type name or a list of distinct type names (%s)" % ", ".join(_TYPE_NAMES)),
    "enum": (lambda v: isinstance(v, list), "an array"),
    "properties": (_schema_map, "an object whose values are schemas"),
    "patternProperties": (_schema_map, "an object whose values are schemas"),
    "$defs": (_schema_map, "an object whose values are schemas"),
    "definitions": (_schema_map, "an object whose values are schemas"),
    "dependentSchemas": (_schema_map, "an object whose values are schemas"),
    "required": (lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v), "an array of strings"),
    "additionalProperties": (_is_schema, "a schema"),
    "additionalItems": (_is_schema, "a schema"),
    "unevaluatedProperties": (_is_schema, "a schema"),
    "unevaluatedItems": (_is_schema, "a schema"),
    "propertyNames": (_is_schema, "a schema"),
    "contains": (_is_schema, "a schema"),
    "not": (_is_schema, "a schema"),
    "if": (_is_schema, "a schema"),
    "then": (_is_schema, "a schema"),
    "else": (_is_schema, "a schema"),
    "items": (lambda v: _is_schema(v) or (isinstance(v, list) and all(_is_schema(x) for x in v)),
              "a schema or an array of schemas"),
    "prefixItems": (_schema_list, "a non-empty array of schemas"),
    "allOf": (_schema_list, "a non-empty array of schemas"),
    "anyOf": (_schema_list, "a non-empty array of schemas"),
    "oneOf": (_schema_list, "a non-empty array of schemas"),
    "minimum": (_is_num, "a number"),
    "maximum": (_is_num, "a number"),
    "exclusiveMinimum": (lambda v: _is_num(v) or isinstance(v, bool), "a number"),
    "exclusiveMaximum": (lambda v: _is_num(v) or isinstance(v, bool), "a number"),
    "multipleOf": (lambda v: _is_num(v) and v > 0, "a number greater than 0"),
    "pattern": (lambda v: isinstance(v, str), "a string"),
    "format": (lambda v: isinstance(v, str), "a string"),
    "$ref": (lambda v: isinstance(v, str), "a string"),
    "uniqueItems": (lambda v: isinstance(v, bool), "a boolean"),
    "dependentRequired": (lambda v: isinstance(v, dict) and all(
        isinstance(x, list) and all(isinstance(y, str) for y in x) for x in v.values()), "an object of string arrays"),
    "dependencies": (lambda v: isinstance(v, dict) and all(
        _is_schema(x) or (isinstance(x, list) and all(isinstance(y, str) for y in x)) for x in v.values()),
                     "an object of schemas or string arrays"),
}
for _k in ("minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties", "minContains",
           "maxContains"):
    _CHECKS[_k] = (_nonneg_int, "a non-negative integer")


# ==================================================================================================
# the lowering


class _Lowering:
    def __init__(self, root: Any, *, lenient: bool, ws: str, extra_properties: bool, any_order: bool,
                 splice_values: bool = True, calling_automata: bool = False) -> None:
        self.root = root
        self.lenient = lenient
        # long values as automaton rules (see _spliced); those may call regex rules only when the
        # rules go straight to Grammar.from_regexes (others renumber the markers of regexes only)
        self.splice_values = splice_values
        self.calling_automata = calling_automata
        self.ws = ws
        self.extra_properties = extra_properties
        self.any_order = any_order
        self.sep = ws + "," + ws
        self.colon = ws + ":" + ws
        self.ptrs: dict[int, str] = {}
        self.bases: dict[int, str] = {}
        self.kwptr: dict[int, dict[str, str]] = {}
        self.keep: list[Any] = []
        self.resources: dict[str, tuple[Any, str]] = {}
        self.anchors: dict[tuple[str, str], tuple[Any, str]] = {}
        self.ref_stack: list[str] = []
        self.warned: set[tuple[str, str, str]] = set()
        self.checked: set[int] = set()
        uri = root.get("$schema", "") if isinstance(root, dict) else ""
        uri = uri if isinstance(uri, str) else ""
        self.old_draft = any(d in uri for d in ("draft-03", "draft-04", "draft-06", "draft-07"))
        self.ancient = any(d in uri for d in ("draft-03", "draft-04"))
        base = _ROOT_BASE
        if isinstance(root, dict):
            rid = root.get("$id", root.get("id") if self.ancient else None)
            if isinstance(rid, str) and not rid.startswith("#"):
                base = urljoin(_ROOT_BASE, rid)
        self.root_base = urldefrag(base)[0]
        self.resources[self.root_base] = (root, "")
        self._register(root, "", self.root_base)
        self._any_cache: dict[frozenset, str | None] = {}
        self.rules: list[str | DFA | None] = [None]
        self._rule_ids: dict[tuple, int] = {}
        self._pending: list[tuple[int, Callable[[], str | None]]] = []
        self._automata: dict[tuple, str | None] = {}
        self._written_chars: dict[str, int] = {}  # an automaton rule's marker -> its regex's length
        self._memo: dict[tuple, str | None] = {}
        self._conditionals: dict[int, int] = {}  # id of a merged schema -> the if/then/else it holds, nested

    # ---------------------------------------------------------------------------- bookkeeping
    def _register(self, node: Any, ptr: str, base: str) -> None:
        if isinstance(node, list):
            for i, x in enumerate(node):
                self._register(x, ptr + "/" + str(i), base)
            return
        if not isinstance(node, dict) or id(node) in self.ptrs:
            return
        idv = node.get("$id", node.get("id") if self.ancient else None)
        if isinstance(idv, str):
            if idv.startswith("#"):
                self.anchors[(urldefrag(base)[0], idv[1:])] = (node, ptr)
            else:
                base = urldefrag(urljoin(base, idv))[0]
                self.resources.setdefault(base, (node, ptr))
        for akw in ("$anchor", "$dynamicAnchor"):
            if isinstance(node.get(akw), str):
                self.anchors.setdefault((urldefrag(base)[0], node[akw]), (node, ptr))
        self.ptrs[id(node)] = ptr
        self.bases[id(node)] = base
        for k, v in node.items():
            if k not in _SUBSCHEMA_KWS:  # data, annotations, and unknown keywords hold no schema ($id)
                continue
            kp = ptr + "/" + _esc(k)
            if k in _NAMEMAP_KWS and isinstance(v, dict):
                for name, sub in v.items():
                    self._register(sub, kp + "/" + _esc(name), base)
            elif isinstance(v, (dict, list)):
                self._register(v, kp, base)

    def _synth(self, d: dict, ptr: str, base: str, kwptrs: dict[str, str]) -> dict:
        self.keep.append(d)
        self.ptrs[id(d)] = ptr
        self.bases[id(d)] = base
        self.kwptr[id(d)] = kwptrs
        return d

    def _kwp(self, node: dict, ptr: str, kw: str) -> str:
        m = self.kwptr.get(id(node))
        if m is not None and kw in m:
            return m[kw]
        return ptr + "/" + _esc(kw)

    def _cptr(self, node: dict, ptr: str, kw: str, *names: Any) -> str:
        """Pointer of the subschema node[kw][names...]."""
        sub: Any = node[kw]
        for n in names:
            sub = sub[n]
        if isinstance(sub, dict) and id(sub) in self.ptrs:
            return self.ptrs[id(sub)]
        return self._kwp(node, ptr, kw) + "".join("/" + _esc(n) for n in names)

    def _sub(self, node: dict, ptr: str, kws: Iterable[str]) -> dict:
        """A synthetic copy of ``node`` restricted to ``kws`` (keyword pointers preserved)."""
        d = {k: node[k] for k in kws}
        return self._synth(d, ptr, self.bases.get(id(node), self.root_base),
                           {k: self._kwp(node, ptr, k) for k in d})

    def _unsupported(self, kw: str, ptr: str, detail: str = "") -> None:
        if not self.lenient:
            raise UnsupportedSchemaError(kw, ptr, detail)
        key = (kw, ptr, detail)
        if key not in self.warned:
            self.warned.add(key)
            warnings.warn(
                "JSON Schema keyword %r at %s cannot be enforced exactly%s; lenient=True over-approximates it"
                % (kw, ptr or "#", ": " + detail if detail else ""), SchemaApproximationWarning, stacklevel=4)

    @staticmethod
    def _malformed(ptr: str, msg: str) -> SchemaError:
        err = SchemaError("malformed JSON Schema at %s: %s" % (ptr or "#", msg))
        err.pointer = ptr  # type: ignore[attr-defined]
        return err

    def _check(self, s: Any, ptr: str) -> None:
        if isinstance(s, bool):
            return
        if not isinstance(s, dict):
            raise self._malformed(ptr, "a schema must be an object or a boolean, not %s" % type(s).__name__)
        if id(s) in self.checked:
            return
        self.checked.add(id(s))
        for k, v in s.items():
            chk = _CHECKS.get(k)
            if chk is not None and not chk[0](v):
                raise self._malformed(self._kwp(s, ptr, k), "%r must be %s, not %s" % (k, chk[1], json.dumps(v)[:80]))

    # ---------------------------------------------------------------------------- $ref
    def _resolve(self, ref: str, node: dict, kwp: str) -> tuple[Any, str]:
        base = urldefrag(self.bases.get(id(node), self.root_base))[0]
        full = base + ref if ref.startswith("#") else urljoin(base, ref)
        uri, frag = urldefrag(full)
        uri = urldefrag(uri)[0]
        if uri not in self.resources:
            self._unsupported("$ref", kwp, "%r is not inside this schema document" % ref)
            return True, kwp
        doc, dptr = self.resources[uri]
        frag = unquote(frag)
        if frag == "":
            return doc, dptr
        if not frag.startswith("/"):
            hit = self.anchors.get((uri, frag))
            if hit is None:
                raise self._malformed(kwp, "$ref %r: no such anchor" % ref)
            return hit
        target: Any = doc
        for tok in frag[1:].split("/"):
            tok = tok.replace("~1", "/").replace("~0", "~")
            if isinstance(target, dict) and tok in target:
                target = target[tok]
            elif isinstance(target, list) and tok.isdigit() and int(tok) < len(target):
                target = target[int(tok)]
            else:
                raise self._malformed(kwp, "$ref %r does not resolve" % ref)
        tptr = dptr + frag
        if isinstance(target, dict):
            if id(target) not in self.ptrs:
                self._register(target, tptr, self.bases.get(id(doc), uri))
            tptr = self.ptrs[id(target)]
        elif not isinstance(target, bool):
            raise self._malformed(kwp, "$ref %r does not point to a schema" % ref)
        return target, tptr

    def _flatten(self, s: Any, ptr: str, expanded: list[str]) -> tuple[Any, str]:
        """Expand top-level ``$ref`` and ``allOf`` (merging siblings) until neither is left."""
        while isinstance(s, dict):
            self._check(s, ptr)
            if "$ref" in s:
                kwp = self._kwp(s, ptr, "$ref")
                target, tptr = self._resolve(s["$ref"], s, kwp)
                if tptr in self.ref_stack or tptr in expanded:
                    if not self.old_draft and any(k in _KNOWN for k in s if k != "$ref"):
                        self._unsupported("$ref", kwp, "a recursive reference with sibling keywords")
                    return _Call(tptr, target), tptr
                expanded.append(tptr)
                rest = [k for k in s if k != "$ref"]
                if self.old_draft or not any(k in _KNOWN for k in rest):
                    s, ptr = target, tptr
                else:
                    s, ptr = self._merge(self._sub(s, ptr, rest), ptr, target, tptr, expanded, parent=True)
                continue
            if "allOf" in s:
                parts = s["allOf"]
                acc: Any = True
                accp = self._cptr(s, ptr, "allOf", 0)
                for i, part in enumerate(parts):
                    acc, accp = self._merge(acc, accp, part, self._cptr(s, ptr, "allOf", i), expanded)
                s, ptr = self._merge(self._sub(s, ptr, [k for k in s if k != "allOf"]), ptr, acc, accp, expanded,
                                     parent=True, b_first=_written_before_properties(s, "allOf"))
                continue
            break
        if not isinstance(s, (dict, bool, _Call)):
            raise self._malformed(ptr, "a schema must be an object or a boolean")
        return s, ptr

    # ---------------------------------------------------------------------------- allOf merging
    def _merge(self, a: Any, pa: str, b: Any, pb: str, expanded: list[str], parent: bool = False,
               b_first: bool = False) -> tuple[Any, str]:
        """One schema equivalent to ``allOf: [a, b]``, or UnsupportedSchemaError('allOf').

        ``parent``: ``a`` is the schema object that holds ``b`` (through allOf/anyOf/oneOf/$ref), so a's
        ``unevaluated*`` keywords see b's evaluations and do not stop the merge. ``b_first``: b's
        properties come first in the merged order (see :func:`_written_before_properties`)."""
        a, pa = self._flatten(a, pa, expanded)
        b, pb = self._flatten(b, pb, expanded)
        if a is False or b is False:
            return False, pa
        if a is True or not _has_constraints(a):
            return b, pb
        if b is True or not _has_constraints(b):
            return a, pa
        if isinstance(a, _Call) or isinstance(b, _Call):
            self._unsupported("allOf", pb, "a recursive reference cannot be intersected with other constraints")
            return (a, pa) if isinstance(a, _Call) else (b, pb)
        out: dict[str, Any] = {}
        kp: dict[str, str] = {}
        where = pb

        def fail(kw: str) -> None:
            self._unsupported("allOf", where, "cannot intersect %r of %s and %s" % (kw, pa or "#", pb or "#"))

        a_keys = self._effective_keywords(a)
        b_keys = self._effective_keywords(b)
        # b's unevaluated* see only b's own evaluations: merged, they would also see a's applicators'
        if a_keys & {"anyOf", "oneOf", "if", "then", "else", "dependentSchemas", "dependencies"}:
            for kw in ("unevaluatedProperties", "unevaluatedItems"):
                if b.get(kw, True) is not True:
                    fail(kw)
        # merged, a part's unevaluatedProperties would see the other part's evaluations too
        for x, y, exempt in ((a, b, parent), (b, a, False)):
            if not exempt and x.get("unevaluatedProperties", True) is not True and not self._evaluates_within(y, x):
                fail("unevaluatedProperties")
        for k in [k for k in a if k in a_keys]:  # in the schema's order (see _written_before_properties)
            out[k] = a[k]
            kp[k] = self._kwp(a, pa, k)
        arr_a = {"items", "prefixItems", "additionalItems"} & a_keys
        arr_b = {"items", "prefixItems", "additionalItems"} & b_keys
        if ((not parent and a.get("unevaluatedItems", True) is not True and arr_b)
                or (b.get("unevaluatedItems", True) is not True and arr_a)):
            fail("unevaluatedItems")
        if arr_a and arr_b:
            self._merge_items(a, pa, b, pb, out, kp)
        members_a, members_b = _MEMBER_KWS & a_keys, _MEMBER_KWS & b_keys
        if members_a and members_b:
            self._merge_properties(a, pa, b, pb, out, kp, fail, b_first)
        # two conditionals: b's holds in both branches of a's ((if ∧ then) ∨ (¬if ∧ else), each ∧ b's);
        # n nested conditionals are 2**n cases to lower, so a few only
        held_a = self._conditionals.get(id(a), int("if" in a_keys))
        held_b = self._conditionals.get(id(b), int("if" in b_keys))
        two_conditionals = "if" in a_keys and "if" in b_keys and any(a.get(k) != b.get(k) for k in ("if", "then", "else"))
        nested = two_conditionals and held_a + held_b <= _MAX_CONDITIONALS
        if two_conditionals and not nested:
            self._unsupported("allOf", where, "more than %d if/then/else to nest into one schema" % _MAX_CONDITIONALS)
        if nested:
            base = self.bases.get(id(a), self.root_base)
            conditional = self._sub(b, pb, [k for k in ("if", "then", "else") if k in b_keys])
            self._conditionals[id(conditional)] = held_b
            for k in ("then", "else"):
                kp.setdefault(k, self._kwp(a, pa, "if"))
                out[k] = self._synth({"allOf": [a.get(k, True), conditional]}, kp[k], base, {"allOf": kp[k]})
        for k in [k for k in b if k in b_keys]:
            if (k in ("items", "prefixItems", "additionalItems") and arr_a and arr_b) or (
                    k in _MEMBER_KWS and members_a and members_b) or (k in ("if", "then", "else") and two_conditionals):
                continue
            v = b[k]
            if k not in out:
                out[k] = v
                kp[k] = self._kwp(b, pb, k)
                continue
            x = out[k]
            if k == "type":
                ta = set().union(*(_TYPE_SETS[t] for t in ([x] if isinstance(x, str) else x)))
                tb = set().union(*(_TYPE_SETS[t] for t in ([v] if isinstance(v, str) else v)))
                t = ta & tb
                if not t:
                    return False, pa
                names = [n for n in ("null", "boolean", "object", "array", "string") if n in t]
                if {"integer", "nonint"} <= t:
                    names.append("number")
                elif "integer" in t:
                    names.append("integer")
                out[k] = names
            elif k == "required":
                out[k] = list(dict.fromkeys(list(x) + list(v)))
            elif k == "enum":
                out[k] = [e for e in x if any(_json_eq(e, f) for f in v)]
            elif k == "const":
                if not _json_eq(x, v):
                    return False, pa
            elif k in ("minLength", "minItems", "minProperties", "minContains"):
                out[k] = max(x, v)
            elif k in ("maxLength", "maxItems", "maxProperties", "maxContains"):
                out[k] = min(x, v)
            elif k in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
                if isinstance(x, bool) or isinstance(v, bool):
                    if x != v:
                        fail(k)
                else:
                    out[k] = max(x, v) if k in ("minimum", "exclusiveMinimum") else min(x, v)
            elif k == "uniqueItems":
                out[k] = bool(x or v)
            elif k == "multipleOf":
                fx, fv = _to_fraction(x), _to_fraction(v)
                if (fx / fv).denominator == 1:
                    out[k] = x
                elif (fv / fx).denominator == 1:
                    out[k] = v
                elif isinstance(x, int) and isinstance(v, int):
                    out[k] = x * v // math.gcd(x, v)
                else:
                    fail(k)
            elif k == "pattern":
                if x != v:  # both must match: _string intersects their automata
                    more = (*out.get(_MORE_PATTERNS, ()), (v, self._kwp(b, pb, k)))
                    out[_MORE_PATTERNS] = tuple(dict.fromkeys(more))
                    kp.setdefault(_MORE_PATTERNS, kp[k])
            elif k == _MORE_PATTERNS:
                out[k] = tuple(dict.fromkeys((*x, *v)))
            elif k == "contains":  # two contains may be met by different items: not one contains
                if x != v:
                    fail(k)
            elif k in ("propertyNames", "additionalItems", "items", "unevaluatedProperties", "unevaluatedItems"):
                if x != v:
                    out[k] = self._synth({"allOf": [x, v]}, kp[k], self.bases.get(id(a), self.root_base),
                                         {"allOf": kp[k]})
            elif k == "anyOf":
                if x != v:
                    if len(x) * len(v) > 64:
                        fail(k)
                    else:
                        base = self.bases.get(id(a), self.root_base)
                        out[k] = [self._synth({"allOf": [p, q]}, kp[k], base, {"allOf": kp[k]}) for p in x for q in v]
            elif k == "not":
                if x != v:
                    out[k] = {"anyOf": [x, v]}
            elif k == "dependentRequired":
                d = {n: list(names) for n, names in x.items()}
                for n, names in v.items():
                    d[n] = list(dict.fromkeys(d.get(n, []) + list(names)))
                out[k] = d
            elif x == v:
                pass
            else:
                fail(k)
        merged = self._synth(out, pa, self.bases.get(id(a), self.root_base), kp)
        if held_a or held_b:
            self._conditionals[id(merged)] = held_a + held_b if nested else max(held_a, held_b)
        return merged, pa

    @staticmethod
    def _effective_keywords(s: dict) -> set[str]:
        """The known keywords of ``s`` less those with no effect there: ``then``/``else`` without ``if``,
        ``if`` without either, ``minContains``/``maxContains`` without ``contains`` (merged with another
        part's, they would take effect)."""
        keys = {k for k in s if k in _KNOWN}
        if "if" not in keys:
            keys -= {"then", "else"}
        elif not keys & {"then", "else"}:
            keys.discard("if")
        if "contains" not in keys:
            keys -= {"minContains", "maxContains"}
        return keys

    @staticmethod
    def _evaluates_within(y: dict, x: dict) -> bool:
        """Does ``x`` evaluate every property name that ``y`` evaluates, so that ``y`` merged into ``x``
        leaves the names ``x``'s ``unevaluatedProperties`` sees as they were?"""
        if "additionalProperties" in x:
            return True
        return ("additionalProperties" not in y and set(y.get("properties", {})) <= set(x.get("properties", {}))
                and set(y.get("patternProperties", {})) <= set(x.get("patternProperties", {}))
                and not set(y) & {"anyOf", "oneOf", "if", "then", "else", "dependentSchemas", "dependencies"})

    def _merge_properties(self, a: dict, pa: str, b: dict, pb: str, out: dict, kp: dict,
                          fail: Callable[[str], None], b_first: bool = False) -> None:
        """``properties``, ``patternProperties`` and ``additionalProperties`` of ``allOf: [a, b]``, into
        ``out``. Under each part a member's value follows the part's ``properties`` entry for its
        name, else the patterns its name matches, else ``additionalProperties`` (absent: any value);
        merged, a declared name's value follows what both parts say of it, the patterns stay (one
        both parts declare takes both schemas) and ``additionalProperties`` is both parts'. A pattern
        of one part is exact where the other part has no ``additionalProperties``, or has no pattern
        and declares no name the pattern matches (the pattern's schema then takes that part's
        ``additionalProperties`` too); else unsupported."""
        base = self.bases.get(id(a), self.root_base)

        def both(x: Any, y: Any, ptr: str) -> Any:
            if x is _MISSING or (y is not _MISSING and not _has_constraints(x)):
                return y
            if y is _MISSING or not _has_constraints(y) or x == y:
                return x
            if x is False or y is False:
                return False
            return self._synth({"allOf": [x, y]}, ptr, base, {"allOf": ptr})

        def pattern_ptr(s: dict, ptr: str, pat: str) -> str:
            return self._kwp(s, ptr, "patternProperties") + "/" + _esc(pat)

        def matched(s: dict, ptr: str, name: str) -> bool:
            """Does a pattern of ``s`` (certainly or possibly) match ``name``?"""
            hits = [self._pattern_test(pat, name, pattern_ptr(s, ptr, pat)) for pat in s.get("patternProperties", {})]
            if None in hits:
                fail("patternProperties")
            return any(hit is not False for hit in hits)

        patterns: dict[str, Any] = {}
        for (x, xp), (y, yp) in (((a, pa), (b, pb)), ((b, pb), (a, pa))):
            others = y.get("patternProperties", {})
            other_addl = y.get("additionalProperties", _MISSING)
            for pat, sub in x.get("patternProperties", {}).items():
                pp = pattern_ptr(x, xp, pat)
                if pat in others or other_addl is _MISSING or not _has_constraints(other_addl):
                    patterns[pat] = both(patterns.get(pat, _MISSING), sub, pp)
                elif not others and not any(self._pattern_test(pat, n, pp) is not False for n in y.get("properties", {})):
                    patterns[pat] = both(sub, other_addl, pp)
                else:
                    fail("patternProperties")
                    patterns[pat] = sub
        names: dict[str, Any] = {}
        first, second = (b, a) if b_first else (a, b)
        for name in dict.fromkeys([*first.get("properties", {}), *second.get("properties", {})]):
            value: Any = _MISSING
            for x, xp in ((a, pa), (b, pb)):
                if name in x.get("properties", {}):
                    value = both(value, x["properties"][name], self._cptr(x, xp, "properties", name))
                elif not matched(x, xp, name):  # (a name a pattern matches takes the pattern's schema, kept)
                    value = both(value, x.get("additionalProperties", _MISSING), self._kwp(x, xp, "additionalProperties"))
            names[name] = True if value is _MISSING else value
        addl = both(a.get("additionalProperties", _MISSING), b.get("additionalProperties", _MISSING),
                    self._kwp(a if "additionalProperties" in a else b, pa if "additionalProperties" in a else pb,
                              "additionalProperties"))
        for kw, merged in (("properties", names), ("patternProperties", patterns), ("additionalProperties", addl)):
            out.pop(kw, None)
            kp.pop(kw, None)
            if merged is not _MISSING and (merged or kw == "additionalProperties"):
                out[kw] = merged
                kp[kw] = self._kwp(a, pa, kw) if kw in a else self._kwp(b, pb, kw)

    def _merge_items(self, a: dict, pa: str, b: dict, pb: str, out: dict, kp: dict) -> None:
        def split(s: dict, p: str):
            items = s.get("items", _MISSING)
            if isinstance(items, list):
                return list(items), s.get("additionalItems", None), self._kwp(s, p, "items")
            pre = s.get("prefixItems", [])
            return list(pre), (None if items is _MISSING else items), self._kwp(s, p, "prefixItems" if pre else "items")

        pre_a, rest_a, ptr_a = split(a, pa)
        pre_b, rest_b, _ = split(b, pb)
        base = self.bases.get(id(a), self.root_base)

        def both(x: Any, y: Any) -> Any:
            if x is None:
                return y
            if y is None or x == y:
                return x
            return self._synth({"allOf": [x, y]}, ptr_a, base, {"allOf": ptr_a})

        n = max(len(pre_a), len(pre_b))
        pre = []
        for i in range(n):
            pre.append(both(pre_a[i] if i < len(pre_a) else rest_a, pre_b[i] if i < len(pre_b) else rest_b))
        rest = both(rest_a, rest_b)
        for k in ("items", "prefixItems", "additionalItems"):
            out.pop(k, None)
        if pre:
            out["prefixItems"] = [True if x is None else x for x in pre]
            kp["prefixItems"] = ptr_a
        if rest is not None:
            out["items"] = rest
            kp["items"] = ptr_a

    # ---------------------------------------------------------------------------- entry
    def compile(self, s: Any, ptr: str, types: frozenset = _ALL, pre: Iterable[str] = ()) -> str | None:
        if not types:
            return None
        pre = tuple(pre)
        # a subschema's regex matches the same texts wherever it is used (a recursive reference is a
        # call where its target is being lowered, an expansion elsewhere), so it is lowered once
        if isinstance(s, _Call):
            return self._ref_rule(s, types)
        key = (id(s), types, pre) if isinstance(s, dict) else None
        if key is not None and key in self._memo:
            return self._memo[key]
        expanded = list(pre)
        s, ptr = self._flatten(s, ptr, expanded)
        if isinstance(s, _Call):
            return self._ref_rule(s, types)
        self.ref_stack.extend(expanded)
        try:
            rx = self._compile_flat(s, ptr, types)
        finally:
            if expanded:
                del self.ref_stack[-len(expanded):]
        if rx is not None and len(rx) > _MAX_REGEX_CHARS:
            kws = ("properties", "items", "prefixItems", "anyOf", "oneOf", "enum", "additionalProperties")
            kw = next((k for k in kws if isinstance(s, dict) and k in s), "type")
            raise UnsupportedSchemaError(kw, ptr, "the regular expression would be longer than %d characters"
                                         % _MAX_REGEX_CHARS)
        if rx is not None and self._written_length(rx) > _RULE_CHARS and s is not self.root:
            # a large subschema is a rule of its own, called where it is used: its automaton is
            # compiled once and kept apart, not multiplied into its users' states
            rx = self._call(("large", id(s), types), lambda body=rx: body)
        if key is not None:
            self._memo[key] = rx
        return rx

    def _compile_flat(self, s: Any, ptr: str, types: frozenset) -> str | None:
        if s is False:
            return None
        if s is True:
            return self._json_any(types)
        if "enum" in s or "const" in s:
            return self._enum(s, ptr, types)
        if "not" in s:
            return self._not(s, ptr, types)
        for kw in ("$dynamicRef", "$recursiveRef", "disallow", "extends", "divisibleBy"):
            if kw in s:
                self._unsupported(kw, self._kwp(s, ptr, kw))
        if "if" in s and ("then" in s or "else" in s):
            return self._if_then_else(s, ptr, types)
        if "anyOf" in s or "oneOf" in s:
            return self._applicators(s, ptr, types)
        tset = self._types_of(s) & types
        if tset == _ALL and not _has_constraints(s):
            return self._json_any(types)
        parts: list[str | None] = []
        if "null" in tset:
            parts.append("null")
        if "boolean" in tset:
            parts.append("(?:true|false)")
        if "integer" in tset and "nonint" in tset:
            parts.append(self._number(s, ptr, nonint_only=False))
        elif "integer" in tset:
            parts.append(self._integer(s, ptr))
        elif "nonint" in tset:
            parts.append(self._number(s, ptr, nonint_only=True))
        if "string" in tset:
            parts.append(self._string(s, ptr))
        if "array" in tset:
            parts.append(self._array(s, ptr))
        if "object" in tset:
            parts.append(self._object(s, ptr))
        return _alt(parts)

    @staticmethod
    def _types_of(s: dict) -> frozenset:
        """The types ``type`` allows; without it, every type (a keyword constrains only its own
        type's values: ``{"minLength": 2}`` accepts any number)."""
        if "type" not in s:
            return _ALL
        t = s["type"]
        return frozenset().union(*(_TYPE_SETS[n] for n in ([t] if isinstance(t, str) else t)))

    # ---------------------------------------------------------------------------- any value
    def _json_any(self, types: frozenset) -> str | None:
        """Any JSON value of the given types; nested values are calls to the rule of any value."""
        if types in self._any_cache:
            return self._any_cache[types]
        parts: list[str | None] = []
        if "null" in types:
            parts.append("null")
        if "boolean" in types:
            parts.append("(?:true|false)")
        if "integer" in types and "nonint" in types:
            parts.append(_NUMBER)
        elif "integer" in types:
            parts.append(_INTEGER)
        elif "nonint" in types:
            parts.append(_NONINT)
        if "string" in types:
            parts.append(_STRING)
        if types & {"array", "object"}:
            inner = self._call(("any",), lambda: self._json_any(_ALL))
            if "array" in types:
                parts.append("\\[" + self.ws + _opt(inner + _rep(self.sep + inner, 0, None)) + self.ws + "\\]")
            if "object" in types:
                member = _STRING + self.colon + inner
                parts.append("\\{" + self.ws + _opt(member + _rep(self.sep + member, 0, None)) + self.ws + "\\}")
        rx = _alt(parts)
        self._any_cache[types] = rx
        return rx

    # ---------------------------------------------------------------------------- rules (recursion)
    def _call(self, key: tuple, body: Callable[[], str | None]) -> str:
        """The call marker of the rule ``key``; its regex, ``body()``, is lowered after the root's."""
        k = self._rule_ids.get(key)
        if k is None:
            k = self._rule_ids[key] = len(self.rules)
            self.rules.append(None)
            self._pending.append((k, body))
        return call_marker(k)

    def _automaton(self, key: tuple, build: Callable[[], DFA | None], kw: str, kwp: str,
                   lenient: str | None) -> str | None:
        """The call marker of a rule whose text is the automaton ``build()`` (an intersection or a
        difference, which no regex writes; spliced into its callers, so no call at run time), or None
        when its language is empty. Built at once, once per ``key``. An automaton over the state
        limit is unsupported (``kw`` at ``kwp``): lenient mode then takes the regex ``lenient``."""
        if key not in self._automata:
            try:
                dfa = build()
            except RegexError as e:
                self._unsupported(kw, kwp, str(e))
                return lenient
            if dfa is not None:
                self.rules.append(dfa)
            self._automata[key] = None if dfa is None else call_marker(len(self.rules) - 1)
        return self._automata[key]

    def _spliced(self, rx: str) -> str:
        """``rx`` as the call marker of a rule given as its automaton when ``rx`` is long (a member
        value, an array item). The regex compiler determinizes every place a regex is written (an
        optional member is written twice, so are array items, nested values multiply) and only
        minimization merges the copies; splicing the automaton builds one copy per state the caller
        returns to, so a large object costs about the size of its automaton. The automaton rules
        ``rx`` calls are spliced into it, its calls to regex rules (recursion) are kept, if automata
        may call. ``rx`` stays when its automaton is over the state limit (as its caller's would be)."""
        if not self.splice_values or (len(rx) <= _SPLICE_CHARS and not _LONG_COUNT.search(rx)):
            return rx
        if not self.calling_automata and not all(isinstance(self.rules[ord(m) - 0xD800], DFA)
                                                 for m in _MARKERS.findall(rx)):
            return rx
        key = ("spliced", rx)
        if key not in self._automata:
            try:
                dfa = self._calling_dfa(rx)
            except RegexError:
                self._automata[key] = rx
            else:
                self.rules.append(dfa)
                marker = self._automata[key] = call_marker(len(self.rules) - 1)
                self._written_chars[marker] = self._written_length(rx)
        return self._automata[key]

    def _calling_dfa(self, rx: str) -> DFA:
        """The automaton of ``rx`` with the automaton rules it calls spliced in; calls to regex rules stay."""
        dfa = cached_compile_regex(rx, call_markers=True, disk_cache=False)
        rules = self.rules
        return dfa_ops.splice(dfa, {k: rules[k] for k in dfa_ops.called_rules(dfa) if isinstance(rules[k], DFA)})

    def _written_length(self, rx: str) -> int:
        """The length of ``rx`` with the regexes of the automata it splices written out."""
        return len(rx) + sum(self._written_chars.get(m, 1) - 1 for m in _MARKERS.findall(rx))

    def _strings_but(self, names: tuple[str, ...], kw: str, kwp: str) -> str:
        """A canonically written JSON string whose value is none of ``names``: an automaton rule, the
        canonical strings minus the names' texts (a product, several times faster to build than the
        trie regex :func:`_string_except` writes, which a regex-only lowering still takes)."""
        if not names:
            return _CANON_STRING
        if not self.splice_values:
            return _string_except(names)
        texts = "|".join(sorted(_canon_str(n) for n in names))
        marker = self._automaton(
            ("except", names),
            lambda: dfa_ops.difference(self._regex_dfa(_CANON_STRING), self._regex_dfa(texts)), kw, kwp, None)
        return _CANON_STRING if marker is None else marker  # None: lenient past the state limit

    def _intersection(self, a: str, b: str, kw: str, kwp: str) -> str | None:
        """The texts both regexes match (either may call automata), as an automaton rule; lenient
        mode takes ``a`` past the state limit."""
        return self._automaton(("and", a, b), lambda: dfa_ops.intersect(self._regex_dfa(a), self._regex_dfa(b)),
                               kw, kwp, a)

    def _regex_dfa(self, rx: str, active: frozenset[int] = frozenset()) -> DFA:
        """The automaton of a regex of this lowering with the rules it calls spliced in (``active``:
        the rules being spliced, which may not call themselves). RegexError when a called rule
        recurses or an automaton is too large."""
        return self._inlined(cached_compile_regex(rx, call_markers=True, disk_cache=False), active)

    def _inlined(self, dfa: DFA, active: frozenset[int]) -> DFA:
        """``dfa`` with every rule it calls spliced in, as :meth:`_regex_dfa`."""
        parts: dict[int, DFA] = {}
        for k in dfa_ops.called_rules(dfa):
            if k in active:
                raise RegexError("a string constraint calls a recursive rule, which no automaton holds")
            rule = self._force(k)
            if rule is None:
                parts[k] = NO_TEXT
            else:
                parts[k] = self._inlined(rule, active | {k}) if isinstance(rule, DFA) else \
                    self._regex_dfa(rule, active | {k})
        return dfa_ops.splice(dfa, parts)

    def _force(self, k: int) -> str | DFA | None:
        """Rule ``k``, lowered now if it is still pending."""
        for i, (j, body) in enumerate(self._pending):
            if j == k:
                del self._pending[i]
                self.rules[k] = body()
                break
        return self.rules[k]

    def _ref_rule(self, call: "_Call", types: frozenset) -> str:
        def body() -> str | None:
            saved, self.ref_stack = self.ref_stack, [call.ptr]
            try:
                return self.compile(call.target, call.ptr, types)
            finally:
                self.ref_stack = saved

        return self._call(("ref", call.ptr, types), body)

    def lower(self) -> list[str | DFA | None]:
        """The rules of the whole schema: rule 0 is the root value; None is a rule with no text."""
        self.ref_stack = [""]
        self.rules[0] = self.compile(self.root, "")
        self.ref_stack = []
        while self._pending:
            k, body = self._pending.pop()
            self.rules[k] = body()
        return self.rules

    # ---------------------------------------------------------------------------- enum / const
    def _value_regex(self, v: Any) -> str:
        if v is None:
            return "null"
        if v is True:
            return "true"
        if v is False:
            return "false"
        if isinstance(v, int):
            return _lit(str(v))
        if isinstance(v, float):
            if not math.isfinite(v):
                raise SchemaError("non-finite number %r in a schema" % v)
            r = _lit(json.dumps(v))
            if v.is_integer() and abs(v) < 1e16:
                return _alt([_lit(str(int(v))), r])  # type: ignore[return-value]
            return r
        if isinstance(v, str):
            return _canon_str(v)
        if isinstance(v, (list, tuple)):
            return "\\[" + self.ws + self.sep.join(self._value_regex(x) for x in v) + self.ws + "\\]"
        if isinstance(v, dict):
            return "\\{" + self.ws + self.sep.join(
                _canon_str(k) + self.colon + self._value_regex(x) for k, x in v.items()) + self.ws + "\\}"
        raise SchemaError("not a JSON value: %r" % (v,))

    def _enum(self, s: dict, ptr: str, types: frozenset) -> str | None:
        cands: list[Any] | None = None
        if "const" in s:
            cands = [s["const"]]
        if "enum" in s:
            e = s["enum"]
            cands = list(e) if cands is None else [v for v in cands if any(_json_eq(v, w) for w in e)]
        assert cands is not None
        rest = self._sub(s, ptr, [k for k in s if k not in ("enum", "const")])
        check = _has_constraints(rest)
        out = []
        for v in cands:
            if _jtype(v) not in types:
                continue
            ok = self._validate(v, rest, ptr) if check else True
            if ok is True:
                out.append(self._value_regex(v))
        return _alt(out)

    # ---------------------------------------------------------------------------- anyOf / oneOf
    def _applicators(self, s: dict, ptr: str, types: frozenset) -> str | None:
        key = "anyOf" if "anyOf" in s else "oneOf"
        rest = self._sub(s, ptr, [k for k in s if k != key])
        has_rest = _has_constraints(rest)
        branches = []
        for i, b in enumerate(s[key]):
            bp = self._cptr(s, ptr, key, i)
            exp: list[str] = []
            if has_rest:
                m, mp = self._merge(rest, ptr, b, bp, exp, parent=True, b_first=_written_before_properties(s, key))
            else:
                m, mp = self._flatten(b, bp, exp)
            branches.append((m, mp, exp))
        filters = [types] * len(branches)
        if key == "oneOf":
            filters = []
            separated = []
            for i, (m, mp, exp) in enumerate(branches):
                before = self._types_l(m) & types
                after = before
                forbid: list[str] = []
                require: list[str] = []
                nonempty = False
                unsure = False
                req_i = set(m.get("required", [])) if isinstance(m, dict) else set()
                for j, (n, _, _) in enumerate(branches):
                    if j == i or not after or self._disjoint(m, n):
                        continue
                    shared = after & self._types_l(n)
                    if "object" in shared and isinstance(n, dict) and isinstance(n.get("required"), list):
                        # objects of branch i leave out a property branch j requires, so they fail branch j
                        keys = [k for k in n["required"] if k not in req_i]
                        if keys:
                            if keys[0] not in forbid:
                                forbid.append(keys[0])
                            shared = shared - {"object"}
                    if "object" in shared and isinstance(m, dict) and isinstance(n, dict):
                        # objects of branch i that have a property whose value, or whose very presence,
                        # branch j rejects fail branch j: requiring it is a sound restriction
                        key = self._separating_property(m, n)
                        if key is not None:
                            if key not in require:
                                require.append(key)
                            shared = shared - {"object"}
                    if ("array" in shared and isinstance(m, dict) and isinstance(n, dict) and _is_schema(m.get("items"))
                            and _is_schema(n.get("items")) and "prefixItems" not in m and "prefixItems" not in n
                            and self._disjoint(*(self._flatten(x["items"], "", [])[0] for x in (m, n)))):
                        nonempty = True  # only [] has items under both
                        shared = shared - {"array"}
                    # values of a type that branch j accepts unconditionally are invalid here: dropping
                    # them is exact; otherwise the overlap is only possible and dropping over-constrains
                    unsure = unsure or any(not self._accepts_all(n, t) for t in shared)
                    after = after - shared
                if before and not after and unsure:
                    values = frozenset().union(*(self._types_l(b) & types for b, _, _ in branches))
                    if not values & {"array", "object"}:  # scalars: each branch minus the others, as automata
                        exclusive = self._exclusive_scalars(branches, values, self._kwp(s, ptr, "oneOf"))
                        if exclusive is not False:
                            return exclusive
                    self._unsupported("oneOf", self._kwp(s, ptr, "oneOf"),
                                      "branch %d overlaps another branch and cannot be made exclusive" % i)
                    after = before
                    forbid, require, nonempty = [], [], False
                if forbid and isinstance(m, dict):
                    m = self._forbid(m, mp, forbid)
                if (require or nonempty) and isinstance(m, dict):
                    m = self._restrict(m, mp, require, nonempty)
                separated.append((m, mp, exp))
                filters.append(after)
            branches = separated
        return _alt([self._compile_branch(m, mp, exp, f) for (m, mp, exp), f in zip(branches, filters)])

    def _compile_branch(self, m: Any, mp: str, expanded: list[str], types: frozenset) -> str | None:
        """A flattened applicator branch's regex, with the references expanded into it on the stack."""
        self.ref_stack.extend(expanded)
        try:
            return self.compile(m, mp, types)
        finally:
            if expanded:
                del self.ref_stack[-len(expanded):]

    def _exclusive_scalars(self, branches: list[tuple[Any, str, list[str]]], types: frozenset,
                           kwp: str) -> str | None | bool:
        """``oneOf`` over scalar values: each branch's canonical texts minus every other branch's, as
        automata. A scalar value has one canonical text (:data:`_CANON_SCALAR`), so texts differ
        exactly where values do and the difference is exact on values (restricted to canonical
        writing, as everywhere). False when a branch has no automaton (over the state limit)."""
        canonical = self._regex_dfa(_CANON_SCALAR)
        dfas: list[DFA | None] = []
        for m, mp, exp in branches:
            rx = self._compile_branch(m, mp, exp, types)
            try:
                dfas.append(None if rx is None else dfa_ops.intersect(self._regex_dfa(rx), canonical))
            except RegexError:
                return False
        members = []
        for i, dfa in enumerate(dfas):
            if dfa is None:
                continue

            def only_this(dfa: DFA | None = dfa, i: int = i) -> DFA | None:
                for j, other in enumerate(dfas):
                    if dfa is not None and other is not None and j != i:
                        dfa = dfa_ops.difference(dfa, other)
                return dfa

            members.append(self._automaton(("oneOf", kwp, i), only_this, "oneOf", kwp, None))
        return _alt(members)

    def _separating_property(self, m: dict, n: dict) -> str | None:
        """A property that, present in an object of ``m``, makes it fail ``n``: one both declare with
        disjoint value schemas, or one ``n`` does not allow at all."""
        props_m, props_n = m.get("properties", {}), n.get("properties", {})
        for key, sub in props_m.items():
            if sub is False:
                continue
            if key in props_n:
                try:
                    a, _ = self._flatten(sub, "", [])
                    b, _ = self._flatten(props_n[key], "", [])
                except (UnsupportedSchemaError, SchemaError):
                    continue
                if self._disjoint(a, b):
                    return key
            elif n.get("additionalProperties") is False and not n.get("patternProperties"):
                return key
        return None

    def _restrict(self, m: dict, mp: str, required: list[str], nonempty_array: bool) -> dict:
        """``m`` with ``required`` properties added and, with ``nonempty_array``, at least one item."""
        d = dict(m)
        kp = {k: self._kwp(m, mp, k) for k in m}
        if required:
            d["required"] = list(dict.fromkeys(list(m.get("required", [])) + required))
            kp.setdefault("required", self._kwp(m, mp, "required"))
        if nonempty_array:
            d["minItems"] = max(1, int(m.get("minItems", 0)))
            kp.setdefault("minItems", self._kwp(m, mp, "minItems"))
        return self._synth(d, mp, self.bases.get(id(m), self.root_base), kp)

    # ---------------------------------------------------------------------------- not
    def _not(self, s: dict, ptr: str, types: frozenset) -> str | None:
        kwp = self._kwp(s, ptr, "not")
        return _alt(self._and_not(self._sub(s, ptr, [k for k in s if k != "not"]), ptr, s["not"], kwp, types))

    def _if_then_else(self, s: dict, ptr: str, types: frozenset) -> str | None:
        """(rest ∧ if ∧ then) ∨ (rest ∧ ¬if ∧ else); a missing branch is true."""
        kwp = {k: self._kwp(s, ptr, k) for k in ("if", "then", "else")}
        rest = self._sub(s, ptr, [k for k in s if k not in kwp])
        yes, yp = self._merge(rest, ptr, s["if"], kwp["if"], [], parent=True)
        if "then" in s:
            yes, yp = self._merge(yes, yp, s["then"], kwp["then"], [], parent=True)
        no, nop = self._merge(rest, ptr, s["else"], kwp["else"], [], parent=True) if "else" in s else (rest, ptr)
        return _alt([self.compile(yes, yp, types)] + self._and_not(no, nop, s["if"], kwp["if"], types))

    def _and_not(self, rest: Any, ptr: str, x: Any, kwp: str, types: frozenset) -> list[str | None]:
        """``rest`` intersected with each alternative of ``x``'s negation (see :meth:`_negation`)."""
        parts: list[str | None] = []
        for m, t in self._negation(x, kwp):
            if not types & t:
                continue
            if isinstance(m, str):  # strings as a regex, no schema: intersected with the rest's strings
                strings = self.compile(rest, ptr, types & t)
                if strings == _STRING:  # the rest does not constrain strings
                    parts.append(m)
                elif strings is not None:
                    parts.append(self._intersection(strings, m, "not", kwp))
                continue
            merged, mp = self._merge(rest, ptr, m, kwp, [])
            parts.append(self.compile(merged, mp, types & t))
        return parts

    def _negation(self, x: Any, kwp: str) -> list[tuple[Any, frozenset]]:
        """The values ``x`` rejects, as ``(schema or string regex, types)`` alternatives: De Morgan over
        ``x``'s keywords (a value fails ``x`` when it fails one of them), each keyword negated on the
        types it constrains. Keywords with no such negation are unsupported."""
        x, xp = self._flatten(x, kwp, [])
        if x is False:
            return [(True, _ALL)]
        if x is True or not _has_constraints(x):
            return []
        if isinstance(x, _Call):
            self._unsupported("not", kwp, "a recursive reference")
            return [(True, _ALL)]
        base = self.bases.get(id(x), self.root_base)

        def syn(d: dict, kw: str) -> dict:
            return self._synth(d, xp, base, {k: self._kwp(x, xp, kw) for k in d})

        out: list[tuple[Any, frozenset]] = []
        numbers = frozenset({"integer", "nonint"})
        flips = {"minimum": "exclusiveMaximum", "maximum": "exclusiveMinimum", "exclusiveMinimum": "maximum",
                 "exclusiveMaximum": "minimum"}
        counts = {"minLength": ("maxLength", "string"), "maxLength": ("minLength", "string"),
                  "minItems": ("maxItems", "array"), "maxItems": ("minItems", "array"),
                  "minProperties": ("maxProperties", "object"), "maxProperties": ("minProperties", "object")}
        for kw in [k for k in x if k in _KNOWN]:
            v = x[kw]
            if kw == "type":
                out.append((True, _ALL - self._types_of({"type": v})))
            elif kw in ("enum", "const"):
                out += self._negate_values([v] if kw == "const" else list(v), self._kwp(x, xp, kw))
            elif kw == "required":
                out += [(syn({"properties": {r: False}}, kw), frozenset({"object"})) for r in v]
            elif kw == "properties":
                out += [(syn({"required": [p], "properties": {p: {"not": sub}}}, kw), frozenset({"object"}))
                        for p, sub in v.items()]
            elif kw in flips and not isinstance(v, bool):
                out.append((syn({flips[kw]: v}, kw), numbers))
            elif kw in counts:
                flip, t = counts[kw]
                bound = int(v) + (1 if kw.startswith("max") else -1)
                if bound >= 0:
                    out.append((syn({flip: bound}, kw), frozenset({t})))
            elif kw in ("pattern", _MORE_PATTERNS):
                for pat, pat_ptr in [(v, self._kwp(x, xp, kw))] if kw == "pattern" else v:
                    unmatched = self._unmatched(pat, pat_ptr)
                    if unmatched is not None:  # None: the pattern matches every string
                        out.append((unmatched, frozenset({"string"})))
            elif kw == "not":
                out.append((v, _ALL))
            elif kw == "contains" and not {"minContains", "maxContains"} & set(x):  # no item is valid under v
                kp = self._kwp(x, xp, kw)
                out.append((syn({"items": self._synth({"not": v}, kp, base, {"not": kp})}, kw), frozenset({"array"})))
            elif kw == "allOf":
                for i, part in enumerate(v):
                    out += self._negation(part, self._cptr(x, xp, "allOf", i))
            elif kw in ("anyOf", "oneOf"):  # a value fails every branch (or, for oneOf, passes two)
                kp = self._kwp(x, xp, kw)
                out += self._conjunction([self._negation(part, self._cptr(x, xp, kw, i)) for i, part in enumerate(v)],
                                         kw, kp, base)
                if kw == "oneOf":
                    out += self._overlaps(x, xp, kp)
            elif kw == "format" and v not in _FORMATS and v not in _SPEC_FORMATS:
                continue  # asserts nothing, so nothing violates it
            else:
                self._unsupported("not", self._kwp(x, xp, kw), "the negation of %r" % kw)
                out.append((True, _ALL))
        return out

    def _conjunction(self, negations: list[list[tuple[Any, frozenset]]], kw: str, kwp: str,
                     base: str) -> list[tuple[Any, frozenset]]:
        """The values in every one of ``negations`` (each a union of alternatives, as :meth:`_negation`
        gives them): a union with one member per choice of an alternative from each, intersected. A
        choice that holds every alternative of another choice is left out (its values are among the
        other's). More than :data:`_MAX_NOT_ALTERNATIVES` choices are unsupported (``kw`` at ``kwp``)."""
        def identity(m: Any, t: frozenset) -> tuple:
            return (t, m if isinstance(m, str) else json.dumps(m, sort_keys=True, default=repr))

        choices: list[tuple[frozenset, list[Any], frozenset]] = [(frozenset(), [], _ALL)]
        for alternatives in negations:
            crossed = []
            for made, members, types in choices:
                for m, t in alternatives:
                    key = identity(m, t)
                    if types & t:
                        crossed.append((made | {key}, members if key in made else members + [m], types & t))
            crossed.sort(key=lambda choice: len(choice[0]))
            choices = []
            for choice in crossed:
                if not any(kept[0] <= choice[0] for kept in choices):
                    choices.append(choice)
            if len(choices) > _MAX_NOT_ALTERNATIVES:
                self._unsupported("not", kwp, "the negation of %r has more than %d alternatives"
                                  % (kw, _MAX_NOT_ALTERNATIVES))
                return [(True, _ALL)]
        out: list[tuple[Any, frozenset]] = []
        for _, members, types in choices:
            regexes = [m for m in members if isinstance(m, str)]
            schemas = [m for m in members if not isinstance(m, str) and m is not True]
            schema = True if not schemas else schemas[0] if len(schemas) == 1 else \
                self._synth({"allOf": schemas}, kwp, base, {"allOf": kwp})
            if not regexes:
                out.append((schema, types))
                continue
            if "string" not in types:
                continue
            strings: str | None = regexes[0]
            for rx in regexes[1:]:  # strings as regexes (negated patterns...): intersected
                strings = None if strings is None else self._intersection(strings, rx, "not", kwp)
            if strings is not None and schema is not True:
                constrained = self.compile(schema, kwp, frozenset({"string"}))
                strings = None if constrained is None else strings if constrained == _STRING else \
                    self._intersection(constrained, strings, "not", kwp)
            if strings is not None:
                out.append((strings, frozenset({"string"})))
        return out

    def _overlaps(self, x: dict, xp: str, kwp: str) -> list[tuple[Any, frozenset]]:
        """The values valid under two branches of ``x``'s ``oneOf`` at once: each pair of branches not
        provably disjoint, intersected."""
        branches = []
        for i, part in enumerate(x["oneOf"]):
            bp = self._cptr(x, xp, "oneOf", i)
            try:
                flat, _ = self._flatten(part, bp, [])
            except (UnsupportedSchemaError, SchemaError):
                flat = True  # undecided: the pair's intersection is lowered, and refused there
            branches.append((part, flat))
        pairs = [(p, q) for i, (p, fp) in enumerate(branches) for q, fq in branches[i + 1:] if not self._disjoint(fp, fq)]
        if len(pairs) > _MAX_NOT_ALTERNATIVES:
            self._unsupported("not", kwp, "the negation of 'oneOf' has more than %d alternatives" % _MAX_NOT_ALTERNATIVES)
            return [(True, _ALL)]
        base = self.bases.get(id(x), self.root_base)
        return [(self._synth({"allOf": [p, q]}, kwp, base, {"allOf": kwp}), _ALL) for p, q in pairs]

    def _unmatched(self, pat: str, kwp: str) -> str | None:
        """The strings the ECMA pattern ``pat`` does not match: the canonical strings of BMP characters
        less those it matches in ECMAScript or in Python (a difference of automata)."""
        try:
            matched = pattern_to_regex(pat, mode="super")[0]
        except _PatSyntax as e:
            raise self._malformed(kwp, "invalid regular expression %r: %s" % (pat, e)) from None
        except _PatUnsupported as e:
            self._unsupported("not", kwp, "%s in %r" % (e, pat))
            return _STRING
        if matched is None:
            return _BMP_STRING
        return self._automaton(
            ("unmatched", matched),
            lambda: dfa_ops.difference(self._regex_dfa(_BMP_STRING), self._regex_dfa('"' + matched + '"')),
            "not", kwp, _STRING)

    def _negate_values(self, values: list[Any], kwp: str) -> list[tuple[Any, frozenset]]:
        """Every value but ``values``: whole types none of them has, the other boolean, strings but
        those (a regex), numbers in the open intervals between them; arrays and objects among them are
        unsupported."""
        present = {_jtype(v) for v in values}
        out: list[tuple[Any, frozenset]] = [(True, frozenset({t})) for t in _ALL - present]
        booleans = [b for b in (True, False) if not any(v is b for v in values)]
        if "boolean" in present and booleans:
            out.append(({"enum": booleans}, frozenset({"boolean"})))
        if "string" in present:
            out.append((self._strings_but(tuple(v for v in values if isinstance(v, str)), "not", kwp),
                        frozenset({"string"})))
        numbers = sorted({_to_fraction(v): v for v in values if _is_num(v)}.items())
        ends = [None] + [v for _, v in numbers] + [None]
        for after, before in zip(ends, ends[1:]) if numbers else ():
            interval = {kw: v for kw, v in (("exclusiveMinimum", after), ("exclusiveMaximum", before)) if v is not None}
            out.append((self._synth(interval, kwp, self.root_base, dict.fromkeys(interval, kwp)),
                        frozenset({"integer", "nonint"})))
        if present & {"array", "object"}:
            self._unsupported("not", kwp, "excluding an array or object value")
            out += [(True, frozenset({t})) for t in present & {"array", "object"}]
        return out

    def _forbid(self, m: dict, mp: str, keys: list[str]) -> dict:
        """``m`` with the properties ``keys`` forbidden (``"k": false``)."""
        props = dict(m.get("properties", {}))
        for k in keys:
            props[k] = False
        d = dict(m)
        d["properties"] = props
        return self._synth(d, mp, self.bases.get(id(m), self.root_base),
                           {k: self._kwp(m, mp, k) for k in m} | {"properties": self._kwp(m, mp, "properties")})

    @staticmethod
    def _accepts_all(n: Any, t: str) -> bool:
        """Does the flattened schema ``n`` accept every value of type ``t``?"""
        if n is True:
            return True
        if n is False or not isinstance(n, dict):
            return False
        kws = {k for k in n if k in _KNOWN}
        if "type" in kws:
            tt = n["type"]
            if not set().union(*(_TYPE_SETS[x] for x in ([tt] if isinstance(tt, str) else tt))) >= {t}:
                return False
            kws.discard("type")
        own = {"object": _OBJECT_KWS, "array": _ARRAY_KWS, "string": _STRING_KWS,
               "integer": _NUMBER_KWS, "nonint": _NUMBER_KWS}.get(t, frozenset())
        return not (kws & (own | (_GENERAL_KWS - {"then", "else"})))

    def _forbids(self, q: dict, key: str) -> bool:
        """Does the object schema ``q`` certainly reject every object that has property ``key``?"""
        props = q.get("properties", {})
        if key in props:
            return props[key] is False
        if q.get("additionalProperties") is not False:
            return False
        try:  # an undeclared name no pattern matches is an additional property
            return all(self._pattern_test(pat, key, "") is False for pat in q.get("patternProperties", {}))
        except (UnsupportedSchemaError, SchemaError):
            return False

    def _types_l(self, s: Any, depth: int = 0) -> frozenset:
        """An upper bound on the JSON types the schema ``s`` (flattened) accepts."""
        if s is False:
            return frozenset()
        if s is True or isinstance(s, _Call) or depth > 20:
            return _ALL
        t = _ALL
        if "type" in s:
            t = self._types_of({"type": s["type"]})
        if "const" in s:
            t = t & {_jtype(s["const"])}
        if "enum" in s:
            t = t & frozenset(_jtype(v) for v in s["enum"])
        for key in ("anyOf", "oneOf"):
            if key in s:
                u: frozenset = frozenset()
                for b in s[key]:
                    try:
                        fb, _ = self._flatten(b, "", [])
                    except (UnsupportedSchemaError, SchemaError):
                        fb = True
                    u = u | self._types_l(fb, depth + 1)
                t = t & u
        return t

    def _disjoint(self, x: Any, y: Any, depth: int = 0) -> bool:
        """True only if no JSON value is valid under both (flattened) schemas."""
        if x is False or y is False:
            return True
        if x is True or y is True or isinstance(x, _Call) or isinstance(y, _Call) or depth > 10:
            return False
        common = self._types_l(x) & self._types_l(y)
        if not common:
            return True
        for p, q in ((x, y), (y, x)):
            cands = None
            if "const" in p:
                cands = [p["const"]]
            elif "enum" in p:
                cands = p["enum"]
            elif self._types_l(p) == {"string"} and isinstance(p.get("pattern"), str):
                literal = _ANCHORED_LITERAL.fullmatch(p["pattern"])
                # Python's $ also matches before a final newline: its values too
                cands = None if literal is None else [literal.group(1), literal.group(1) + "\n"]
            if cands is not None:
                try:
                    if all(self._validate(v, q, "") is False for v in cands):
                        return True
                except (UnsupportedSchemaError, SchemaError):
                    pass
        if common <= {"object"}:
            for p, q in ((x, y), (y, x)):
                if isinstance(p.get("required"), list) and any(self._forbids(q, k) for k in p["required"]):
                    return True
            req = set(x.get("required", [])) & set(y.get("required", []))
            for name in req:
                px = x.get("properties", {}).get(name, _MISSING)
                py = y.get("properties", {}).get(name, _MISSING)
                if px is _MISSING or py is _MISSING:
                    continue
                try:
                    fx, _ = self._flatten(px, "", [])
                    fy, _ = self._flatten(py, "", [])
                except (UnsupportedSchemaError, SchemaError):
                    continue
                if self._disjoint(fx, fy, depth + 1):
                    return True
        if common <= {"integer"}:
            ix, iy = self._int_bounds(x), self._int_bounds(y)
            if ix is not None and iy is not None:
                (a, b), (c, d) = ix, iy
                if (b is not None and c is not None and b < c) or (d is not None and a is not None and d < a):
                    return True
        return False

    # ---------------------------------------------------------------------------- scalars
    def _int_bounds(self, s: dict) -> tuple[int | None, int | None] | None:
        lo: int | None = None
        hi: int | None = None
        try:
            if "minimum" in s:
                m = _to_fraction(s["minimum"])
                lo = math.floor(m) + 1 if s.get("exclusiveMinimum") is True else math.ceil(m)
            em = s.get("exclusiveMinimum")
            if _is_num(em):
                c = math.floor(_to_fraction(em)) + 1
                lo = c if lo is None else max(lo, c)
            if "maximum" in s:
                m = _to_fraction(s["maximum"])
                hi = math.ceil(m) - 1 if s.get("exclusiveMaximum") is True else math.floor(m)
            eM = s.get("exclusiveMaximum")
            if _is_num(eM):
                c = math.ceil(_to_fraction(eM)) - 1
                hi = c if hi is None else min(hi, c)
        except (ValueError, OverflowError, ArithmeticError):
            return None
        return lo, hi

    def _integer(self, s: dict, ptr: str) -> str | None:
        bounds = self._int_bounds(s)
        if bounds is None:
            raise self._malformed(ptr, "numeric bounds are not finite numbers")
        if "multipleOf" in s:
            # the value of the JSON literal (0.1 is 1/10): an integer is a multiple of p/q iff p divides it
            p = _to_fraction(s["multipleOf"]).numerator
            if p != 1:
                lo, hi = bounds
                return self._multiples(s, ptr, Fraction(p), None if lo is None else Fraction(lo),
                                       None if hi is None else Fraction(hi), fraction=False, nonint=False,
                                       within=integer_range_regex(lo, hi))
        return integer_range_regex(*bounds)

    def _number(self, s: dict, ptr: str, nonint_only: bool) -> str | None:
        bounded = [kw for kw in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
                   if kw in s and not isinstance(s[kw], bool)]
        step = _to_fraction(s["multipleOf"]) if "multipleOf" in s else None
        if not bounded and step is not None:
            return self._multiples(s, ptr, step, None, None, fraction=True, nonint=nonint_only,
                                   within=_NONINT if nonint_only else decimal_range_regex(None, None))
        if not bounded:
            return _NONINT if nonint_only else _NUMBER
        if nonint_only:
            self._unsupported(bounded[0], self._kwp(s, ptr, bounded[0]), "bounds on non-integral numbers in oneOf")
            return _NONINT
        # bounded numbers are written without exponent (a sound restriction); exclusive bounds keep a gap
        # of 1e-14 relative so that binary64 validators agree
        lo: Decimal | None = None
        hi: Decimal | None = None

        def lower(v: Decimal) -> None:
            nonlocal lo
            lo = v if lo is None else max(lo, v)

        def upper(v: Decimal) -> None:
            nonlocal hi
            hi = v if hi is None else min(hi, v)

        def gap(kw: str, exclusive: bool) -> bool:
            # an integer bound beyond 2**53 is not a binary64 value: a fractional instance near it
            # rounds across it in validators that compare floats with exact integers
            v = s[kw]
            return exclusive or (isinstance(v, int) and abs(v) > 2**53)

        try:
            if "minimum" in s:
                m = _to_decimal(s["minimum"])
                lower(m + _exclusive_margin(m) if gap("minimum", s.get("exclusiveMinimum") is True) else m)
            if "maximum" in s:
                m = _to_decimal(s["maximum"])
                upper(m - _exclusive_margin(m) if gap("maximum", s.get("exclusiveMaximum") is True) else m)
            if _is_num(s.get("exclusiveMinimum")):
                e = _to_decimal(s["exclusiveMinimum"])
                lower(e + _exclusive_margin(e))
            if _is_num(s.get("exclusiveMaximum")):
                e = _to_decimal(s["exclusiveMaximum"])
                upper(e - _exclusive_margin(e))
        except (ArithmeticError, ValueError):
            raise self._malformed(ptr, "numeric bounds are not finite numbers") from None
        for v in (lo, hi):
            if v is not None and abs(v.adjusted()) > 400:
                self._unsupported(bounded[0], self._kwp(s, ptr, bounded[0]), "bound %s too large or too small" % v)
                return _NUMBER
        if step is not None:
            places = _decimal_places(step)
            if step * 10**places == 1:  # 0.01: at most two significant fraction digits
                return decimal_range_regex(lo, hi, places)
            return self._multiples(s, ptr, step, None if lo is None else Fraction(lo),
                                   None if hi is None else Fraction(hi), fraction=True, nonint=False,
                                   within=decimal_range_regex(lo, hi))
        return decimal_range_regex(lo, hi)

    def _multiples(self, s: dict, ptr: str, step: Fraction, lo: Fraction | None, hi: Fraction | None,
                   fraction: bool, nonint: bool, within: str | None) -> str | None:
        """The numbers of ``within`` (the regex of the JSON numbers without exponent in [lo, hi], None:
        unbounded: integers unless ``fraction``; non-integral ones only with ``nonint``) that are
        multiples of ``step``. A regex when one is small: the range holds few multiples (listed), or is
        bounded on one side by a multiple next to 0 plus a few listed ones. Otherwise the remainder
        automaton of ``step`` intersected with ``within``'s: exact for every step and bound."""
        if within is None:
            return None
        places = _decimal_places(step)
        k = int(step * 10**places)

        def unsigned(require: str) -> str | None:
            return _multiples_regex(k, places, fraction, "nonint" if nonint else require)

        def negated(rx: str | None) -> str | None:
            return None if rx is None else "-" + _group(rx)

        def listed(first: int, last: int) -> str | None:
            values = [j * step for j in range(first, last + 1)]
            whole = _trie_regex(str(v.numerator) for v in values if v.denominator == 1 and not nonint)
            parts = [_seq(whole, "(?:\\.0+)?" if fraction else "")]
            if fraction:
                texts = [format(Decimal(v.numerator) / Decimal(v.denominator), "f") for v in values if v.denominator != 1]
                parts.append(_seq(_trie_regex(texts), "0*"))
            return _alt(parts)

        first = None if lo is None else math.ceil(lo / step)
        last = None if hi is None else math.floor(hi / step)
        cap = _MAX_LISTED_MULTIPLES
        try:
            if first is None and last is None:
                everyone = unsigned("")
                return _alt([everyone, negated(everyone)])
            if first is not None and last is not None and last - first < cap:
                return listed(first, last)
            # one side unbounded: the multiples of one sign, and those listed between the bound and 0
            if last is None and -cap < first <= 1:  # type: ignore[operator]
                return _alt([unsigned("nonzero" if first == 1 else ""),
                             listed(first, -1) if first < 0 else None])  # type: ignore[operator]
            if first is None and -1 <= last < cap:  # type: ignore[operator]
                return _alt([negated(unsigned("nonzero")), listed(0, last) if last >= 0 else None])  # type: ignore[operator]
        except _TooLarge:
            pass
        return self._automaton(
            ("multiples", k, places, fraction, within),
            lambda: dfa_ops.intersect(_multiples_dfa(k, places, fraction), self._regex_dfa(within)),
            "multipleOf", self._kwp(s, ptr, "multipleOf"), within)

    def _string(self, s: dict, ptr: str) -> str | None:
        min_l = int(s.get("minLength", 0))
        max_l = None if "maxLength" not in s else int(s["maxLength"])
        # the languages every string is in: each pattern's and the format's (`format` is asserted, as
        # validators that check formats do)
        shapes: list[_Shape] = []
        for pat, kwp in self._patterns(s, ptr):
            got = self._pattern(pat, kwp, "pattern")
            if got is not None:
                shapes.append(_Shape(*got, "pattern", kwp, pat))
        if "format" in s:
            kwp = self._kwp(s, ptr, "format")
            fmt = _FORMATS.get(s["format"])
            if fmt is not None:
                shapes.append(_Shape(*fmt, "format", kwp, None))
            elif s["format"] in _SPEC_FORMATS:
                self._unsupported("format", kwp, "format %r" % s["format"])
        # counted characters are written canonically (json.dumps escapes): far smaller automata
        counted = _seq('"', _rep(_CANON_CHAR, min_l, max_l), '"')
        if not shapes:
            return _STRING if min_l == 0 and max_l is None else counted
        lo = max(shape.min_len for shape in shapes)
        his = [shape.max_len for shape in shapes if shape.max_len is not None]
        if (counted is None or any(shape.body is None for shape in shapes) or (max_l is not None and max_l < lo)
                or (his and min_l > min(his))):
            return None
        lengths_met = any(min_l <= shape.min_len and (max_l is None or (shape.max_len is not None
                                                                         and shape.max_len <= max_l))
                          for shape in shapes)
        if len(shapes) == 1:
            only = shapes[0]
            if lengths_met:
                return '"' + only.body + '"'  # type: ignore[operator]
            if only.pattern is not None:
                try:
                    return _seq('"', pattern_to_regex(only.pattern, min_l, max_l)[0], '"')
                except _PatUnsupported:
                    pass  # more than one part of the pattern varies in length: the intersection below
        # a regex writes no intersection, but the automata of the languages intersect exactly; all of
        # them write strings canonically, so the same string is the same text in each
        languages = ['"' + shape.body + '"' for shape in shapes]  # type: ignore[operator]
        kw, kwp = shapes[-1].kw, shapes[-1].kwp
        if not lengths_met:
            languages.append(counted)
            kw = "minLength" if min_l > lo else "maxLength"
            kwp = self._kwp(s, ptr, kw)

        def build() -> DFA | None:
            both: DFA | None = self._regex_dfa(languages[0])
            for rx in languages[1:]:
                if both is None:
                    break
                both = dfa_ops.intersect(both, self._regex_dfa(rx))
            return both

        return self._automaton(("strings", *languages), build, kw, kwp, languages[0])

    def _patterns(self, s: dict, ptr: str) -> list[tuple[str, str]]:
        """Every pattern a string must match, with its pointer: ``pattern`` and those of other allOf
        parts merged into ``s``."""
        own = [(s["pattern"], self._kwp(s, ptr, "pattern"))] if "pattern" in s else []
        return own + list(s.get(_MORE_PATTERNS, ()))

    def _pattern(self, pat: str, kwp: str, kw: str) -> tuple[str | None, int, int | None] | None:
        try:
            return pattern_to_regex(pat)
        except _PatSyntax as e:
            raise self._malformed(kwp, "invalid regular expression %r: %s" % (pat, e)) from None
        except _PatUnsupported as e:
            self._unsupported(kw, kwp, "%s in %r" % (e, pat))
            return None

    def _pattern_test(self, pat: str, text: str, kwp: str) -> bool | None:
        """Does the ECMA pattern match ``text`` (search)? None when the engines may disagree."""
        try:
            sub = _pattern_decoded(pat, "sub")
            if sub is not None and sub.fullmatch(text):
                return True
            if any(ord(c) > 0xFFFF for c in text):
                return None
            sup = _pattern_decoded(pat, "super")
            return None if sup is not None and sup.fullmatch(text) else False
        except _PatSyntax as e:
            raise self._malformed(kwp, "invalid regular expression %r: %s" % (pat, e)) from None
        except _PatUnsupported as e:
            self._unsupported("pattern", kwp, "%s in %r" % (e, pat))
            return True

    # ---------------------------------------------------------------------------- arrays
    def _array(self, s: dict, ptr: str) -> str | None:
        items = s.get("items", _MISSING)
        if isinstance(items, list):
            if "prefixItems" in s:
                raise self._malformed(self._kwp(s, ptr, "items"), "'items' is an array and 'prefixItems' is present")
            prefix, prefix_kw = items, "items"
            rest, rest_kw = s.get("additionalItems", _MISSING), "additionalItems"
        else:
            prefix, prefix_kw = s.get("prefixItems", []), "prefixItems"
            rest, rest_kw = items, "items"
        lo = int(s.get("minItems", 0))
        hi = None if "maxItems" not in s else int(s["maxItems"])
        if rest is _MISSING and "unevaluatedItems" in s:
            rest, rest_kw = s["unevaluatedItems"], "unevaluatedItems"
        regs: list[str] = []
        for i, p in enumerate(prefix):
            if hi is not None and i >= hi:
                break
            r = self.compile(p, self._cptr(s, ptr, prefix_kw, i))
            if r is None:
                hi = i if hi is None else min(hi, i)
                break
            regs.append(r)
        k = len(regs)
        R: str | None
        if rest is _MISSING:
            if (hi is not None and hi <= k) or (k > 0 and lo <= k):
                R = None  # never grow past the prefix (a sound over-constraint)
            else:
                R = self._json_any(_ALL)
        else:
            R = self.compile(rest, self._cptr(s, ptr, rest_kw)) if (hi is None or hi > k) else None
            if R is not None:
                R = self._spliced(R)
        if R is None:
            hi = k if hi is None else min(hi, k)
        if hi is not None and lo > hi:
            return None
        if s.get("uniqueItems") is True and not (hi is not None and hi <= 1):
            got = self._distinct_items(s, ptr, prefix, prefix_kw, k, rest, rest_kw, R, lo, hi)
            if got is not _MISSING:
                return got
        if "contains" in s:
            got = self._contains(s, ptr, rest, rest_kw, k, R, lo)
            if got is not _MISSING:
                return got
        sep = self.sep
        # tail[i]: the elements at positions >= i when at least one element precedes them
        if hi is not None and hi <= k:
            tail: str | None = ""
            start = hi
        else:
            unit = None if R is None else sep + R
            tail = _rep(unit, max(0, lo - k), None if hi is None else hi - k)
            start = k
        for i in range(min(start, k) - 1, 0, -1):
            item = _seq(sep, regs[i], tail)
            tail = item if i < lo else _opt(item)
        if hi == 0:
            elems: str | None = ""
        else:
            if k > 0:
                first = _seq(regs[0], tail)
            else:
                first = _seq(R, _rep(None if R is None else sep + R, max(0, lo - 1), None if hi is None else hi - 1))
            elems = first if lo >= 1 else _opt(first)
        return _seq("\\[", self.ws, elems, self.ws, "\\]")

    def _distinct_items(self, s: dict, ptr: str, prefix: list, prefix_kw: str, k: int, rest: Any, rest_kw: str,
                        R: str | None, lo: int, hi: int | None) -> Any:
        """``uniqueItems`` where every item is one of at most ``_MAX_UNIQUE`` scalar values (per position:
        ``prefixItems``, then ``items``): every sequence of distinct values with an allowed length (exact).
        _MISSING (unsupported) otherwise."""
        kwp = self._kwp(s, ptr, "uniqueItems")
        schemas = [(prefix[i], self._cptr(s, ptr, prefix_kw, i)) for i in range(k)]
        if R is not None:
            schemas.append((rest, self._cptr(s, ptr, rest_kw)) if rest is not _MISSING else (True, ptr))
        values: list[Any] = []
        allowed: list[frozenset] = []  # per position (the last one for every later position), indices into values
        for sch, sp in schemas:
            got = None if "contains" in s else self._scalar_values(self._flatten(sch, sp, [])[0], sp)
            if got is None:
                break
            for v in got:
                if not any(_json_eq(v, w) for w in values):
                    values.append(v)
            allowed.append(frozenset(i for i, w in enumerate(values) if any(_json_eq(v, w) for v in got)))
        if len(allowed) < len(schemas) or len(values) > _MAX_UNIQUE:
            self._unsupported("uniqueItems", kwp, "unique items are supported when each item is one of at most %d "
                              "scalar values (enum, const, boolean, null)" % _MAX_UNIQUE)
            return _MISSING
        texts = [self._value_regex(v) for v in values]

        def more(used: frozenset, count: int) -> str | None:
            """The items after the ``count`` first ones, whose values are ``used``."""
            parts = ["" if count >= lo else None]
            if (hi is None or count < hi) and (count < k or R is not None):
                fresh = allowed[min(count, len(allowed) - 1)] - used
                parts += [_seq(self.sep if count else "", texts[i], more(used | {i}, count + 1)) for i in sorted(fresh)]
            return _alt(parts)

        return _seq("\\[", self.ws, more(frozenset(), 0), self.ws, "\\]")

    def _scalar_values(self, item: Any, ptr: str) -> list[Any] | None:
        """The distinct values (by JSON equality) of a flattened item schema that accepts only a few
        scalars: ``enum``/``const`` (other keywords decided on each value) or ``type`` boolean/null.
        None when it accepts others, or when a value's validity is undecided."""
        if item is False:
            return []
        if not isinstance(item, dict):
            return None
        keys = {key for key in item if key in _KNOWN}
        if "enum" in keys or "const" in keys:
            cands = [item["const"]] if "const" in keys else list(item["enum"])
            if "const" in keys and "enum" in keys:
                cands = [v for v in cands if any(_json_eq(v, w) for w in item["enum"])]
            rest = self._sub(item, ptr, keys - {"enum", "const"})
            verdicts = [self._validate(v, rest, ptr) for v in cands]
            if None in verdicts or any(isinstance(v, (list, dict)) for v in cands):
                return None
            cands = [v for v, ok in zip(cands, verdicts) if ok]
        elif keys == {"type"} and self._types_of(item) <= {"boolean", "null"}:
            cands = ([True, False] if "boolean" in self._types_of(item) else []) + (
                [None] if "null" in self._types_of(item) else [])
        else:
            return None
        distinct: list[Any] = []
        for v in cands:
            if not any(_json_eq(v, w) for w in distinct):
                distinct.append(v)
        return distinct

    def _contains(self, s: dict, ptr: str, rest: Any, rest_kw: str, k: int, R: str | None, min_items: int) -> Any:
        """Arrays of items ``R`` (``rest``, or any value) of which between ``minContains`` (default 1) and
        ``maxContains`` are valid under ``contains`` too; with ``maxContains`` the others must fail it
        (its negation, see :meth:`_negation`). Items that ``unevaluatedItems`` constrains are exempt
        from it when ``contains`` evaluates them. Exact; unsupported with ``prefixItems``, ``maxItems``,
        a ``minItems`` above ``minContains``, or counts above ``_MAX_CONTAINS``.
        _MISSING: build the array without it (it does not constrain, or lenient mode)."""
        kwp = self._kwp(s, ptr, "contains")
        lo_c = int(s.get("minContains", 1))
        hi_c = None if "maxContains" not in s else int(s["maxContains"])
        unevaluated = rest_kw == "unevaluatedItems" and rest is not _MISSING
        if lo_c == 0 and hi_c is None and not unevaluated:
            return _MISSING
        for kw, count in (("minContains", lo_c), ("maxContains", hi_c or 0)):
            if count > _MAX_CONTAINS:
                self._unsupported(kw, self._kwp(s, ptr, kw), "%s above %d" % (kw, _MAX_CONTAINS))
                return _MISSING
        combined = [kw for kw, present in (("prefixItems", k > 0), ("maxItems", "maxItems" in s),
                                           ("minItems", min_items > lo_c)) if present]
        if combined:
            self._unsupported("contains", kwp, "contains together with %s" % combined[0])
            return _MISSING
        item = True if rest is _MISSING else rest
        item_ptr = ptr if rest is _MISSING else self._cptr(s, ptr, rest_kw)
        base = self.bases.get(id(s), self.root_base)
        if unevaluated:
            item = self._synth({"anyOf": [s["contains"], rest]}, item_ptr, base, {"anyOf": item_ptr})
            R = self.compile(item, item_ptr)
        both = self._synth({"allOf": [item, s["contains"]]}, kwp, base, {"allOf": kwp})
        counted = self.compile(both, kwp)
        other = R if hi_c is None else _alt(self._and_not(item, item_ptr, s["contains"], kwp, _ALL))
        sep = self.sep
        others = _rep(_seq(sep, other), 0, None)
        then_counted = _seq(sep, counted, others)
        content = _alt([_seq(other, others, _rep(then_counted, lo_c, hi_c)),
                        _seq(counted, others, _rep(then_counted, max(0, lo_c - 1), None if hi_c is None else hi_c - 1)),
                        "" if lo_c == 0 else None])
        return _seq("\\[", self.ws, content, self.ws, "\\]")

    # ---------------------------------------------------------------------------- objects
    def _object(self, s: dict, ptr: str) -> str | None:
        props: dict = s.get("properties", {})
        req: list[str] = list(dict.fromkeys(s.get("required", []) if isinstance(s.get("required"), list) else []))
        addl = s.get("additionalProperties", _MISSING)
        pats: dict = s.get("patternProperties", {})
        pnames = s.get("propertyNames", _MISSING)
        uneval = s.get("unevaluatedProperties", _MISSING)
        min_p = int(s.get("minProperties", 0))
        max_p = None if "maxProperties" not in s else int(s["maxProperties"])
        ws, sep, colon = self.ws, self.sep, self.colon
        # a map whose dependency keywords mention names: those names become optional members (their
        # values as undeclared properties' would be), so that the dependencies can be split on them
        dependency_names = [] if props or req else self._dependency_names(s)
        if props or req or dependency_names:
            entries: list[tuple[str, str, bool]] = []
            base = self.bases.get(id(s), self.root_base)
            for name in dict.fromkeys(list(props) + req + dependency_names):
                required = name in req
                schemas: list[tuple[Any, str]] = []
                if name in props:
                    schemas.append((props[name], self._cptr(s, ptr, "properties", name)))
                for pat, psch in pats.items():
                    pp = self._kwp(s, ptr, "patternProperties") + "/" + _esc(pat)
                    hit = self._pattern_test(pat, name, pp)
                    if hit is None:
                        self._unsupported("patternProperties", pp, "cannot decide whether %r matches" % name)
                    elif hit:
                        schemas.append((psch, pp))
                if not schemas:
                    if addl is not _MISSING:
                        schemas.append((addl, self._kwp(s, ptr, "additionalProperties")))
                    elif uneval is not _MISSING:
                        schemas.append((uneval, self._kwp(s, ptr, "unevaluatedProperties")))
                    else:
                        schemas.append((None, self._kwp(s, ptr, "required")))
                if pnames is not _MISSING:
                    ok = self._validate(name, pnames, self._kwp(s, ptr, "propertyNames"))
                    if ok is not True:
                        if required:
                            return None
                        continue
                if schemas[0][0] is None:  # required, declared nowhere: any JSON value
                    value = self._json_any(_ALL)
                elif len(schemas) == 1:
                    value = self.compile(schemas[0][0], schemas[0][1])
                else:
                    syn = self._synth({"allOf": [x for x, _ in schemas]}, schemas[0][1], base, {"allOf": schemas[0][1]})
                    value = self.compile(syn, schemas[0][1])
                if value is None:
                    if required:
                        return None
                    continue
                entries.append((name, _canon_str(name) + colon + self._spliced(value), required))
            present = {n for n, _, _ in entries}
            must = {n for n, _, r in entries if r}
            pending: list[tuple[str, str, Any]] = []
            for kw in ("dependentRequired", "dependencies", "dependentSchemas"):
                for a, dep in (s.get(kw) or {}).items():
                    if a not in present or dep is True or dep == {}:
                        continue
                    if isinstance(dep, list) and all(b in must for b in dep):
                        continue
                    pending.append((kw, a, dep))
            if pending:
                return self._split_dependencies(s, ptr, pending)
            if max_p is not None and max_p < len(must):
                return None
            extra = self._extra_member(s, ptr, addl, uneval, pats, pnames)
            any_order = self.any_order and len(entries) > 1
            counted = min_p > max(len(must), 1) or (max_p is not None and (max_p < len(entries) or extra is not None))
            nonempty = min_p > len(must)
            if counted and not any_order:
                members = self._counted_members(s, ptr, entries, extra, min_p, max_p)
            elif any_order:
                if counted:  # the any-order rules do not count members
                    if min_p > max(len(must), 1):
                        self._unsupported("minProperties", self._kwp(s, ptr, "minProperties"), "in any order")
                    if max_p is not None and max_p < len(entries):
                        self._unsupported("maxProperties", self._kwp(s, ptr, "maxProperties"), "in any order")
                    extra = None  # no undeclared property generated: a sound restriction
                members = self._members_any_order(s, ptr, entries, nonempty, extra)
            else:
                members = self._members_then_extra(entries, extra, nonempty)
            return _seq("\\{", ws, members, ws, "\\}")
        # no named properties: a map (its dependencies, if any, all hold trivially)
        member = None  # with patterns: the names they match and, taking additionalProperties, names they do not
        if pats:
            if len(pats) > _MAX_PATTERNS:
                self._unsupported("patternProperties", self._kwp(s, ptr, "patternProperties"),
                                  "more than %d patterns without 'properties'" % _MAX_PATTERNS)
            pat, psch = next(iter(pats.items()))
            pp = self._kwp(s, ptr, "patternProperties") + "/" + _esc(pat)
            got = [self._pattern(p, self._kwp(s, ptr, "patternProperties") + "/" + _esc(p), "patternProperties")
                   for p in pats]
            if None in got or len(pats) > _MAX_PATTERNS:  # lenient: any name, any value
                key, val_schema, val_ptr = _STRING, True, pp
            else:
                key, val_schema, val_ptr = _seq('"', got[0][0], '"'), psch, pp  # type: ignore[index]
                # names no pattern matches take additionalProperties (unevaluatedProperties then:
                # only those, which the lowering leaves to the restriction of no such names)
                other = None
                if addl is not False and (addl is not _MISSING or uneval is _MISSING):
                    other = self._json_any(_ALL) if addl is _MISSING or addl is True else \
                        self.compile(addl, self._kwp(s, ptr, "additionalProperties"))
                exact = len(pats) > 1 or pnames is not _MISSING
                names: str | None = _CANON_STRING  # (the names propertyNames allows)
                if pnames is not _MISSING:
                    names = self._property_names(s, ptr, pnames, _CANON_STRING, exact=True)
                if names is None:
                    key = None  # no name is left that a member may have
                elif other is not None or exact:
                    member = self._pattern_member(s, ptr, pats, names, other, exact=exact)
                    if member is None and exact:
                        key = None
        else:
            if addl is not _MISSING and addl is not True:
                val_schema, val_ptr = addl, self._kwp(s, ptr, "additionalProperties")
            elif uneval is not _MISSING and uneval is not True:
                val_schema, val_ptr = uneval, self._kwp(s, ptr, "unevaluatedProperties")
            else:
                val_schema, val_ptr = True, ptr
            if pnames is _MISSING:
                key = _STRING
            else:
                key = self.compile(pnames, self._kwp(s, ptr, "propertyNames"), frozenset({"string"}))
        entry = member if member is not None or key is None else _seq(key, colon, self.compile(val_schema, val_ptr))
        lo = 1 if min_p >= 1 else 0
        if min_p >= 2:
            self._unsupported("minProperties", self._kwp(s, ptr, "minProperties"), "with arbitrary property names")
        if entry is None:
            members = "" if lo == 0 else None
        elif max_p == 0:
            members = "" if lo == 0 else None
        else:
            more = _rep(sep + entry, 0, None if max_p is None else min(max_p, _MAX_COUNTED_MEMBERS) - 1)
            members = _seq(entry, more)
            if lo == 0:
                members = _opt(members)
        return _seq("\\{", ws, members, ws, "\\}")

    def _extra_member(self, s: dict, ptr: str, addl: Any, uneval: Any, pats: dict, pnames: Any) -> str | None:
        """A call to the rule ``"name":value`` of a property the schema does not declare, when one is
        allowed and can be constrained exactly: names are written canonically and differ from every
        declared, required or dependency-triggering name; values follow ``additionalProperties``, or
        the schemas of the ``patternProperties`` entries whose patterns match the name; names also
        follow ``propertyNames``. None when no undeclared property is generated (a sound restriction
        where names would need unevaluatedProperties, or propertyNames has no exact automaton).

        A rule of its own keeps the name automaton (a trie of the excluded names) out of the object's
        regex, which it would otherwise multiply."""
        if not self.extra_properties or uneval is not _MISSING:
            return None
        declared = set(s.get("properties", {})) | set(s.get("required", []))
        for kw in ("dependentRequired", "dependencies", "dependentSchemas"):
            declared |= set(s.get(kw) or {})
        if addl is False:
            value = None
        elif addl is _MISSING or addl is True:
            value = self._json_any(_ALL)
        else:
            value = self.compile(addl, self._kwp(s, ptr, "additionalProperties"))
        if value is None and not pats:
            return None
        names: str | None = self._strings_but(tuple(sorted(declared)), "properties", ptr)
        if pnames is not _MISSING:
            names = self._property_names(s, ptr, pnames, names)
            if names is None:
                return None
        if pats:
            return self._pattern_member(s, ptr, pats, names, value)
        return self._call(("extra", names, value), lambda: names + self.colon + value)

    def _property_names(self, s: dict, ptr: str, pnames: Any, names: str, exact: bool = False) -> str | None:
        """The names of ``names`` (a regex of canonical JSON strings) that ``propertyNames`` allows, as
        an automaton rule. None when none is left or there is no exact automaton (with ``exact``,
        an unsupported propertyNames)."""
        kwp = self._kwp(s, ptr, "propertyNames")
        allowed = self.compile(pnames, kwp, frozenset({"string"}))
        if allowed is None:
            return None
        try:
            dfa = dfa_ops.intersect(self._regex_dfa(names), self._regex_dfa(allowed))
        except RegexError as e:
            if exact:
                self._unsupported("propertyNames", kwp, str(e))
            return None
        return None if dfa is None else self._automaton(("and", names, allowed), lambda: dfa, "propertyNames",
                                                        kwp, None)

    def _pattern_member(self, s: dict, ptr: str, pats: dict, names: str, other: str | None,
                        exact: bool = False) -> str | None:
        """The member regex of an undeclared property, whose name ``names`` (a regex of canonical
        JSON strings) matches, under the patternProperties ``pats`` of ``s``: a name takes a value of
        the schemas of every pattern it matches, a name no pattern matches a value ``other``
        (additionalProperties; None: no such property). Names are automata, one per set of patterns
        a name matches (at most ``_MAX_PATTERNS`` patterns, so 2^n sets): every pattern's intersected
        with or subtracted from ``names`` (spliced, so the member needs no call). None when a pattern has no exact
        automaton (no undeclared property generated, a sound restriction; with ``exact``, an
        unsupported patternProperties) or no member is left."""
        items = list(pats.items())
        kwp = self._kwp(s, ptr, "patternProperties")
        if len(items) > _MAX_PATTERNS:
            return None
        try:
            bodies = [pattern_to_regex(pat)[0] for pat, _ in items]
            if None in bodies:
                return None
            names_dfa = self._regex_dfa(names)
            patterns = [self._regex_dfa(_seq('"', body, '"')) for body in bodies]  # type: ignore[arg-type]
        except (_PatSyntax, _PatUnsupported, RegexError) as e:
            if exact:
                self._unsupported("patternProperties", kwp, str(e))
            return None
        base = self.bases.get(id(s), self.root_base)
        members = []
        for matched in range(1 << len(items)):
            name_dfa: DFA | None = names_dfa
            try:
                for i, pattern in enumerate(patterns):
                    if name_dfa is not None:
                        name_dfa = (dfa_ops.intersect if matched >> i & 1 else dfa_ops.difference)(name_dfa, pattern)
            except RegexError as e:
                if exact:
                    self._unsupported("patternProperties", kwp, str(e))
                return None
            if name_dfa is None:
                continue
            schemas = [(psch, kwp + "/" + _esc(pat)) for i, (pat, psch) in enumerate(items) if matched >> i & 1]
            if not schemas:
                value = other
            elif len(schemas) == 1:
                value = self.compile(*schemas[0])
            else:
                pp = schemas[0][1]
                value = self.compile(self._synth({"allOf": [x for x, _ in schemas]}, pp, base, {"allOf": pp}), pp)
            if value is None:
                continue
            name = self._automaton(("pattern-names", tuple(pats), matched, names), lambda d=name_dfa: d,
                                   "patternProperties", kwp, None)
            members.append(None if name is None else name + self.colon + value)
        return _alt(members)

    @staticmethod
    def _dependency_names(s: dict) -> list[str]:
        """The names that the non-trivial dependencies of ``s`` mention, each one after the names it
        requires (an object lists a property after those it depends on)."""
        names: list[str] = []
        for kw in ("dependentRequired", "dependencies", "dependentSchemas"):
            for a, dep in (s.get(kw) or {}).items():
                if dep is True or dep == {} or dep == []:
                    continue
                if isinstance(dep, list):
                    names += dep
                names.append(a)
        return list(dict.fromkeys(names))

    def _split_dependencies(self, s: dict, ptr: str, pending: list[tuple[str, str, Any]]) -> str | None:
        """Exact case split of dependentRequired / dependencies / dependentSchemas: for every trigger
        property, either it is absent, or it is present together with what it requires."""
        if len(pending) > 4:
            kw, a, _ = pending[4]
            self._unsupported(kw, self._kwp(s, ptr, kw) + "/" + _esc(a), "more than 4 property dependencies")
            pending = pending[:4]
        base = {k: v for k, v in s.items() if k not in ("dependentRequired", "dependencies", "dependentSchemas")}
        parts: list[str | None] = []
        for mask in range(1 << len(pending)):
            props = dict(base.get("properties", {}))
            req = list(base.get("required", []))
            merge: list[tuple[Any, str]] = []
            ok = True
            for bit, (kw, a, dep) in enumerate(pending):
                if mask >> bit & 1:
                    if isinstance(dep, list):
                        req += dep
                    else:
                        merge.append((dep, self._kwp(s, ptr, kw) + "/" + _esc(a)))
                    req.append(a)
                elif a in req:
                    ok = False
                else:
                    props[a] = False
            if not ok:
                continue
            d = dict(base)
            d["properties"] = props
            d["required"] = list(dict.fromkeys(req))
            kp = {k: self._kwp(s, ptr, k) for k in d}
            m: Any = self._synth(d, ptr, self.bases.get(id(s), self.root_base), kp)
            mp = ptr
            exp: list[str] = []
            for dep, dp in merge:
                m, mp = self._merge(m, mp, dep, dp, exp, parent=True)
            parts.append(self.compile(m, mp, frozenset({"object"}), pre=exp))
        return _alt(parts)

    def _members_any_order(self, s: dict, ptr: str, entries: list[tuple[str, str, bool]], nonempty: bool,
                           extra: str | None) -> str | None:
        """The declared members in any order, each at most once and the required ones all present,
        then the undeclared ones (``extra``). A rule per set of members still to come: 2^n rules,
        so at most ``_MAX_ANY_ORDER`` declared properties."""
        if len(entries) > _MAX_ANY_ORDER:
            self._unsupported("properties", self._kwp(s, ptr, "properties"),
                              "any property order with more than %d properties" % _MAX_ANY_ORDER)
            return self._members(entries, nonempty)
        sep = self.sep
        tail = "" if extra is None else _rep(sep + extra, 0, None)

        def rest(left: frozenset) -> str:
            """``,member`` for members still allowed, in any order, then the tail."""
            def body() -> str | None:
                parts = [sep + entries[i][1] + rest(left - {i}) for i in sorted(left)]
                if not any(entries[i][2] for i in left):
                    parts.append(tail)
                return _alt(parts)

            return self._call(("order", id(s), left, extra), body) if left else tail

        everyone = frozenset(range(len(entries)))
        parts = [entries[i][1] + rest(everyone - {i}) for i in everyone]
        if not any(r for _, _, r in entries):
            if extra is not None:
                parts.append(extra + tail)
            if not nonempty:
                parts.append("")
        return _alt(parts)

    def _counted_members(self, s: dict, ptr: str, entries: list[tuple[str, str, bool]], extra: str | None,
                         min_p: int, max_p: int | None) -> str | None:
        """The declared members in order, then undeclared ones (``extra``; None: none), at least
        ``min_p`` and at most ``max_p`` properties in all: one alternative per set of optional
        members present that the counts allow, so at most ``_MAX_COUNTED_ALTERNATIVES`` of them,
        and at most ``_MAX_COUNTED_MEMBERS`` undeclared ones under a maxProperties.

        Two undeclared members may repeat a name, which a parser keeps once: they count as at most
        as many properties towards ``maxProperties``, and as one towards ``minProperties`` (more
        undeclared members than that are not generated where the declared ones fall short, a sound
        restriction)."""
        optional = [i for i, (_, _, r) in enumerate(entries) if not r]
        n_required = len(entries) - len(optional)
        # how many optional members may be present: one undeclared member or more counts as one
        fewest = max(0, min_p - n_required - (extra is not None))
        most = len(optional) if max_p is None else min(len(optional), max_p - n_required)
        if sum(math.comb(len(optional), n) for n in range(fewest, most + 1)) > _MAX_COUNTED_ALTERNATIVES:
            kw = "maxProperties" if max_p is not None else "minProperties"
            self._unsupported(kw, self._kwp(s, ptr, kw), "more than %d sets of optional properties to count"
                              % _MAX_COUNTED_ALTERNATIVES)
            return self._members_then_extra(entries, extra, False)  # lenient: the counts are dropped
        sep = self.sep
        alts: list[str | None] = []
        for n in range(fewest, most + 1):
            for present in itertools.combinations(optional, n):
                chosen = [m for i, (_, m, r) in enumerate(entries) if r or i in present]
                k = len(chosen)
                hi = 0 if extra is None else None if max_p is None else min(max_p - k, _MAX_COUNTED_MEMBERS)
                lo = 0 if k >= min_p else 1
                if hi is not None and hi < lo:
                    continue
                if k:
                    alts.append(_seq(sep.join(chosen), _rep(sep + extra, lo, hi)) if hi != 0 else sep.join(chosen))
                elif hi == 0:
                    alts.append("")
                else:
                    some = _seq(extra, _rep(sep + extra, 0, None if hi is None else hi - 1))
                    alts.append(some if lo else _opt(some))
        return _alt(alts)

    def _members_then_extra(self, entries: list[tuple[str, str, bool]], extra: str | None,
                            nonempty: bool) -> str | None:
        """The declared members in order, then any number of undeclared ones (``extra``; None: none)."""
        if extra is None:
            return self._members(entries, nonempty)
        more = _rep(self.sep + extra, 0, None)
        if any(r for _, _, r in entries):
            return _seq(self._members(entries, False), more)
        return _alt([_seq(self._members(entries, True), more), _seq(extra, more)] + ([] if nonempty else [""]))

    def _members(self, entries: list[tuple[str, str, bool]], nonempty: bool) -> str | None:
        """Comma-separated members, in order, each optional one possibly absent (linear size)."""
        sep = self.sep
        if not entries:
            return None if nonempty else ""
        first_req = next((i for i, (_, _, r) in enumerate(entries) if r), None)
        if first_req is not None:
            out = "".join(_opt(p + sep) for _, p, _ in entries[:first_req]) + entries[first_req][1]
            for _, p, r in entries[first_req + 1:]:
                out += (sep + p) if r else _opt(sep + p)
            return out
        # "first present member" chain: B_k = B_{k-1} (,P_k)? | P_k
        acc: str | None = None
        for _, p, _ in entries:
            acc = p if acc is None else _alt([acc + _opt(sep + p), p])
        return acc if nonempty else _opt(acc)

    # ---------------------------------------------------------------------------- validation of values
    def _validate(self, v: Any, s: Any, ptr: str, depth: int = 0) -> bool | None:
        """Is the JSON value ``v`` valid under ``s``? True / False / None (undecided)."""
        if s is True:
            return True
        if s is False:
            return False
        self._check(s, ptr)
        if depth > 60:
            return None
        res: bool | None = True

        def kp(kw: str) -> str:
            return self._kwp(s, ptr, kw)

        def sub(kw: str, *names: Any) -> tuple[Any, str]:
            x: Any = s[kw]
            for n in names:
                x = x[n]
            return x, self._cptr(s, ptr, kw, *names)

        if "$ref" in s:
            target, tptr = self._resolve(s["$ref"], s, kp("$ref"))
            r = self._validate(v, target, tptr, depth + 1)
            if self.old_draft:
                return r
            res = _and3(res, r)
        for kw in ("$dynamicRef", "$recursiveRef", "unevaluatedProperties", "unevaluatedItems", "disallow", "extends",
                   "divisibleBy"):
            if kw in s:
                self._unsupported(kw, kp(kw))
        if "type" in s:
            t = self._types_of({"type": s["type"]})
            res = _and3(res, _jtype(v) in t)
        if "const" in s:
            res = _and3(res, _json_eq(v, s["const"]))
        if "enum" in s:
            res = _and3(res, any(_json_eq(v, e) for e in s["enum"]))
        if res is False:
            return False
        if _is_num(v):
            fv = _to_fraction(v)
            if "minimum" in s:
                m = _to_fraction(s["minimum"])
                res = _and3(res, fv > m if s.get("exclusiveMinimum") is True else fv >= m)
            if "maximum" in s:
                m = _to_fraction(s["maximum"])
                res = _and3(res, fv < m if s.get("exclusiveMaximum") is True else fv <= m)
            if _is_num(s.get("exclusiveMinimum")):
                res = _and3(res, fv > _to_fraction(s["exclusiveMinimum"]))
            if _is_num(s.get("exclusiveMaximum")):
                res = _and3(res, fv < _to_fraction(s["exclusiveMaximum"]))
            if "multipleOf" in s:  # exactly, on the values of the JSON literals (as the lowering decides it)
                res = _and3(res, (fv / _to_fraction(s["multipleOf"])).denominator == 1)
        elif isinstance(v, str):
            n = len(v)
            if "minLength" in s:
                res = _and3(res, n >= s["minLength"])
            if "maxLength" in s:
                res = _and3(res, n <= s["maxLength"])
            for pat, pat_ptr in self._patterns(s, ptr):
                res = _and3(res, self._pattern_test(pat, v, pat_ptr))
            if "format" in s:
                f = _FORMATS.get(s["format"])
                if f is not None:
                    res = _and3(res, True if re.fullmatch(f[0], json.dumps(v, ensure_ascii=False)[1:-1]) else None)
                elif s["format"] in _SPEC_FORMATS:
                    self._unsupported("format", kp("format"), "format %r" % s["format"])
        elif isinstance(v, list):
            if "minItems" in s:
                res = _and3(res, len(v) >= s["minItems"])
            if "maxItems" in s:
                res = _and3(res, len(v) <= s["maxItems"])
            if s.get("uniqueItems") is True:
                res = _and3(res, not any(_json_eq(v[i], v[j]) for i in range(len(v)) for j in range(i)))
            items = s.get("items", _MISSING)
            if isinstance(items, list):
                prefix, pkw, rest, rkw = items, "items", s.get("additionalItems", _MISSING), "additionalItems"
            else:
                prefix, pkw, rest, rkw = s.get("prefixItems", []), "prefixItems", items, "items"
            for i, x in enumerate(v):
                if res is False:
                    return False
                if i < len(prefix):
                    sch, sp = sub(pkw, i)
                elif rest is not _MISSING:
                    sch, sp = sub(rkw)
                else:
                    continue
                res = _and3(res, self._validate(x, sch, sp, depth + 1))
            if "contains" in s:
                sch, sp = sub("contains")
                rs = [self._validate(x, sch, sp, depth + 1) for x in v]
                yes = sum(r is True for r in rs)
                maybe = sum(r is None for r in rs)
                lo_c = s.get("minContains", 1)
                hi_c = s.get("maxContains")
                if yes >= lo_c and (hi_c is None or yes + maybe <= hi_c):
                    pass
                elif yes + maybe < lo_c or (hi_c is not None and yes > hi_c):
                    res = False
                else:
                    res = _and3(res, None)
        elif isinstance(v, dict):
            if "minProperties" in s:
                res = _and3(res, len(v) >= s["minProperties"])
            if "maxProperties" in s:
                res = _and3(res, len(v) <= s["maxProperties"])
            for name in s.get("required", []) if isinstance(s.get("required"), list) else []:
                res = _and3(res, name in v)
            if res is False:
                return False
            props = s.get("properties", {})
            pats = s.get("patternProperties", {})
            for name, x in v.items():
                covered = False
                if name in props:
                    covered = True
                    sch, sp = sub("properties", name)
                    res = _and3(res, self._validate(x, sch, sp, depth + 1))
                for pat in pats:
                    pp = kp("patternProperties") + "/" + _esc(pat)
                    hit = self._pattern_test(pat, name, pp)
                    if hit is None:
                        res = _and3(res, None)
                    elif hit:
                        covered = True
                        res = _and3(res, self._validate(x, pats[pat], pp, depth + 1))
                if not covered and "additionalProperties" in s:
                    sch, sp = sub("additionalProperties")
                    res = _and3(res, self._validate(x, sch, sp, depth + 1))
                if "propertyNames" in s:
                    sch, sp = sub("propertyNames")
                    res = _and3(res, self._validate(name, sch, sp, depth + 1))
                if res is False:
                    return False
            for kw in ("dependentRequired", "dependencies", "dependentSchemas"):
                for a, dep in (s.get(kw) or {}).items():
                    if a not in v:
                        continue
                    if isinstance(dep, list):
                        res = _and3(res, all(b in v for b in dep))
                    else:
                        sch, sp = sub(kw, a)
                        res = _and3(res, self._validate(v, sch, sp, depth + 1))
        if res is False:
            return False
        if "allOf" in s:
            for i in range(len(s["allOf"])):
                sch, sp = sub("allOf", i)
                res = _and3(res, self._validate(v, sch, sp, depth + 1))
        if "anyOf" in s:
            rs = [self._validate(v, *sub("anyOf", i), depth + 1) for i in range(len(s["anyOf"]))]
            res = _and3(res, True if True in rs else (None if None in rs else False))
        if "oneOf" in s:
            rs = [self._validate(v, *sub("oneOf", i), depth + 1) for i in range(len(s["oneOf"]))]
            if None in rs:
                res = _and3(res, False if rs.count(True) >= 2 else None)
            else:
                res = _and3(res, rs.count(True) == 1)
        if "not" in s:
            r = self._validate(v, *sub("not"), depth + 1)
            res = _and3(res, None if r is None else not r)
        if "if" in s and ("then" in s or "else" in s):
            r = self._validate(v, *sub("if"), depth + 1)
            if r is None:
                res = _and3(res, None)
            elif r and "then" in s:
                res = _and3(res, self._validate(v, *sub("then"), depth + 1))
            elif not r and "else" in s:
                res = _and3(res, self._validate(v, *sub("else"), depth + 1))
        return res


# ==================================================================================================
# public API


def schema_to_rules(
    schema: dict | bool | str,
    *,
    lenient: bool = False,
    whitespace: str = "compact",
    max_whitespace: int = 2,
    extra_properties: bool = True,
    property_order: str = "schema",
) -> list[str | DFA | None]:
    """The grammar of JSON texts valid under ``schema``: one regular expression per rule (Python
    ``re`` syntax, full match), rule 0 for the whole value, for
    :meth:`guidegen.automata.pushdown.Grammar.from_regexes`. Where the language nests without bound
    (a recursive ``$ref``, a value of any type), a rule's regex holds a
    :func:`~guidegen.automata.pushdown.call_marker`; a schema without either lowers to one rule with
    none. A rule given as a :class:`~guidegen.automata.dfa.DFA` calls nothing: an intersection or
    difference of regular languages that no regex writes (a ``pattern`` with length bounds,
    ``not: {pattern: ...}``, bounded ``multipleOf``...), or a long member value or array item
    (compiled once; determinizing it at every place the regex writes it costs more than splicing),
    spliced into the rules that call it. A rule that is None derives no text.

    ``schema``: a JSON Schema as a dict or boolean (or its JSON text).

    ``lenient``: False (default) raises :class:`~guidegen.errors.UnsupportedSchemaError` (``.keyword``,
    ``.pointer``) for anything that cannot be enforced exactly, so every matching text is valid. True
    over-approximates such keywords instead (drops them, treats an undecidable ``oneOf`` as ``anyOf``,
    ignores the siblings of a recursive ``$ref``) and emits a :class:`SchemaApproximationWarning`
    naming keyword and pointer.

    ``whitespace``: ``"compact"`` (default) allows no whitespace at all (``{"a":1,"b":[true]}``);
    ``"flexible"`` allows up to ``max_whitespace`` JSON whitespace characters (space, tab, newline,
    carriage return) after every ``{ [ , :`` and before every ``} ] , :``. Never before or after the
    whole value.

    ``extra_properties``: True (default) lets an object that allows undeclared properties have them,
    after the declared ones (names written canonically); False generates declared properties only
    (a sound restriction: every text is still valid).

    ``property_order``: ``"schema"`` (default) writes declared properties in the schema's order;
    ``"any"`` allows every order (each property at most once, the required ones present), for
    objects of at most 10 declared properties (more raise ``UnsupportedSchemaError`` unless
    lenient, which keeps the schema's order).

    Malformed schemas (a keyword with a value of the wrong kind, an unknown type name, a ``$ref`` that
    does not resolve, an invalid ``pattern``, a schema that accepts nothing) raise
    :class:`~guidegen.errors.SchemaError` naming the JSON pointer.
    """
    return _schema_rules(schema, lenient=lenient, whitespace=whitespace, max_whitespace=max_whitespace,
                         extra_properties=extra_properties, property_order=property_order)


def _schema_rules(schema: dict | bool | str, *, lenient: bool = False, whitespace: str = "compact",
                  max_whitespace: int = 2, extra_properties: bool = True, property_order: str = "schema",
                  splice_values: bool = True, calling_automata: bool = False) -> list[str | DFA | None]:
    """:func:`schema_to_rules`; ``splice_values``: long values are automaton rules, which may call
    regex rules with ``calling_automata`` (for :meth:`Grammar.from_regexes` only)."""
    if isinstance(schema, str):
        try:
            schema = json.loads(schema)
        except ValueError as e:
            raise SchemaError("the schema is not valid JSON: %s" % e) from None
    if whitespace not in ("compact", "flexible"):
        raise ValueError("whitespace must be 'compact' or 'flexible', not %r" % (whitespace,))
    if not isinstance(max_whitespace, int) or isinstance(max_whitespace, bool) or max_whitespace < 0:
        raise ValueError("max_whitespace must be a non-negative integer")
    ws = "" if whitespace == "compact" or max_whitespace == 0 else _rep("[ \\t\\n\\r]", 0, max_whitespace)
    if property_order not in ("schema", "any"):
        raise ValueError("property_order must be 'schema' or 'any', not %r" % (property_order,))
    rules = _Lowering(schema, lenient=lenient, ws=ws or "", extra_properties=extra_properties,
                      any_order=property_order == "any", splice_values=splice_values,
                      calling_automata=calling_automata).lower()
    if rules[0] is None:
        err = SchemaError("the JSON Schema at # accepts no JSON value (nothing to generate)")
        err.pointer = ""  # type: ignore[attr-defined]
        raise err
    return rules


def schema_to_regex(schema: dict | bool | str, **options: Any) -> str:
    """One regular expression (Python ``re`` syntax, for :func:`re.fullmatch`) matching the JSON texts
    valid under ``schema``; ``options`` and errors as in :func:`schema_to_rules`. A schema that nests
    without bound (a recursive ``$ref``, a value of any type) is context-free, and one that needs an
    intersection or difference of automata (a ``pattern`` with length bounds...) has no regex written:
    both raise :class:`~guidegen.errors.SchemaError` (use :func:`schema_to_rules` or
    :class:`JSONSchemaCompiler`)."""
    rules = _schema_rules(schema, splice_values=False, **options)
    if any(isinstance(r, str) or r is None for r in rules[1:]):
        raise SchemaError("the schema nests without bound (a recursive $ref or a value of any type): its "
                          "language is context-free, not regular; use schema_to_rules or JSONSchemaCompiler")
    if len(rules) > 1:
        raise SchemaError("the schema needs an intersection or difference of automata (a pattern with length "
                          "bounds or a format, not: {pattern}, bounded multipleOf...), which no regular expression "
                          "here writes; use schema_to_rules or JSONSchemaCompiler")
    assert isinstance(rules[0], str)
    return rules[0]


def _is_pydantic_model(obj: Any) -> bool:
    return isinstance(obj, type) and callable(getattr(obj, "model_json_schema", None)) and callable(
        getattr(obj, "model_validate_json", None))


def _type_adapter(obj: Any) -> Any:
    try:
        from pydantic import TypeAdapter
    except ImportError:  # pragma: no cover - depends on the environment
        raise SchemaError(
            "%r is not a JSON Schema; deriving one from a Python type needs pydantic "
            "(pip install 'guidegen[pydantic]')" % (obj,)) from None
    try:
        return TypeAdapter(obj)
    except Exception as e:  # pydantic raises its own error types
        raise SchemaError("cannot derive a JSON Schema from %r: %s" % (obj, e)) from e


def schema_from_python(obj: Any) -> dict | bool:
    """The JSON Schema of ``obj``: a dict/bool schema (returned as is), its JSON text, a pydantic
    ``BaseModel`` subclass (``model_json_schema()``) or any type hint pydantic understands
    (``TypeAdapter(t).json_schema()``: ``list[int]``, ``Literal[...]``, dataclasses, TypedDicts...)."""
    if isinstance(obj, (dict, bool)):
        return obj
    if isinstance(obj, str):
        try:
            out = json.loads(obj)
        except ValueError as e:
            raise SchemaError("the schema is not valid JSON: %s" % e) from None
        if not isinstance(out, (dict, bool)):
            raise SchemaError("a JSON Schema must be an object or a boolean")
        return out
    if _is_pydantic_model(obj):
        return obj.model_json_schema()
    try:
        return _type_adapter(obj).json_schema()
    except SchemaError:
        raise
    except Exception as e:
        raise SchemaError("cannot derive a JSON Schema from %r: %s" % (obj, e)) from e


def parse_json_value(text: str, target: Any = None) -> Any:
    """Parse a generated JSON text: ``json.loads`` for plain schemas (``target`` None, dict, bool, str),
    ``Model.model_validate_json`` for pydantic models, ``TypeAdapter(target).validate_json`` for other
    type hints."""
    if target is None or isinstance(target, (dict, bool, str)):
        return json.loads(text)
    if _is_pydantic_model(target):
        return target.model_validate_json(text)
    return _type_adapter(target).validate_json(text)


def _parser_for(spec: Any) -> Callable[[str], Any]:
    if spec is None or isinstance(spec, (dict, bool, str)):
        return json.loads
    if _is_pydantic_model(spec):
        return spec.model_validate_json
    adapter = _type_adapter(spec)
    return adapter.validate_json


class JSONSchemaCompiler:
    """The ``"schema"`` constraint compiler: JSON Schema / pydantic model / type hint → a DFA constraint
    (rules given as automata spliced in), or a pushdown constraint when the schema nests without bound."""

    kind = "schema"

    def compile(self, spec: Any, vocab: Any, *, lenient: bool = False, whitespace: str = "compact",
                **options: Any) -> Any:
        """Compile ``spec`` for ``vocab``. ``options``: ``max_whitespace``, ``extra_properties``, ``property_order`` (see
        :func:`schema_to_rules`)."""
        schema = schema_from_python(spec)
        rules = _schema_rules(schema, lenient=lenient, whitespace=whitespace, calling_automata=True, **options)
        assert isinstance(rules[0], str)
        compiled = {r: cached_compile_regex(r, vocab_fingerprint=vocab.fingerprint, call_markers=True)
                    for r in rules if isinstance(r, str)}
        automata = {k: r for k, r in enumerate(rules) if isinstance(r, DFA)}
        if len(automata) == len(rules) - 1:  # regular: the automata spliced into the root's, no pushdown
            dfa = dfa_ops.splice(compiled[rules[0]], automata)
        else:  # rules of their own for size or sharing: one automaton unless recursive or much larger
            try:
                dfa = dfa_ops.flatten([compiled[r] if isinstance(r, str) else r for r in rules])
            except RegexError:
                dfa = None
        if dfa is not None:
            return DFAConstraint(dfa, vocab, parse=_parser_for(spec))
        try:
            grammar = Grammar.from_regexes(rules, vocab_fingerprint=vocab.fingerprint, compiled=compiled)
        except GrammarError as e:
            if isinstance(e.__cause__, RegexError):  # a rule's automaton is too large, as for a single regex
                raise e.__cause__ from None
            raise SchemaError("the JSON Schema has no finite valid value or loops without text: %s" % e) from e
        return PushdownConstraint(grammar, vocab, parse=_parser_for(spec))
