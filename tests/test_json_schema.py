"""JSON Schema → regex lowering (guidegen.grammar.json_schema).

The soundness tests run real schemas: the official JSON-Schema-Test-Suite (draft 2020-12, optional
tests included) and a sample of JSONSchemaBench. For every schema that compiles in strict mode, the
compact serialization of every *invalid* instance must not match (a match is an under-constraint bug),
and valid instances should match (misses are over-constraints: undeclared properties, ``1.0`` for an
integer...). A Hypothesis test samples texts from the regexes and validates them with ``jsonschema``.

``python tests/test_json_schema.py`` prints the full coverage report (all bench files, whole suite).
"""

from __future__ import annotations

import datetime
import ipaddress
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
import uuid
import warnings
from collections import Counter
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Literal, Optional
from urllib.parse import unquote

import numpy as np
import pytest

from guidegen.automata.dfa import DFA
from guidegen.automata.pushdown import Grammar
from guidegen.errors import GrammarError, RegexError, SchemaError, UnsupportedSchemaError
from guidegen.grammar.json_schema import (
    JSONSchemaCompiler,
    SchemaApproximationWarning,
    decimal_range_regex,
    integer_range_regex,
    parse_json_value,
    schema_from_python,
    schema_to_regex,
    schema_to_rules,
)

try:  # Python 3.11+
    import re._constants as _sre_c
    import re._parser as _sre_p
except ImportError:  # pragma: no cover
    import sre_constants as _sre_c  # type: ignore[no-redef]
    import sre_parse as _sre_p  # type: ignore[no-redef]

REPO = Path(__file__).resolve().parents[1]


def _data_dir() -> Path | None:
    for cand in (os.environ.get("GUIDEGEN_SHARED_DATA"), REPO / "shared" / "data", REPO.parent / "shared" / "data",
                 "/work/shared/data"):
        if cand and Path(cand).is_dir():
            return Path(cand)
    return None


DATA = _data_dir()
SUITE = DATA / "json-schema-test-suite" / "tests" / "draft2020-12" if DATA else None
BENCH = DATA / "jsonschemabench" if DATA else None
needs_suite = pytest.mark.skipif(SUITE is None or not SUITE.is_dir(), reason="JSON-Schema-Test-Suite not found")
needs_bench = pytest.mark.skipif(BENCH is None or not (BENCH / "index.jsonl").is_file(), reason="JSONSchemaBench not found")


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def matches(rx: "str | Lowered", value: Any) -> bool:
    if isinstance(rx, Lowered):
        return bool(rx.match(compact(value)))
    return re.fullmatch(rx, compact(value)) is not None


def lower(schema: Any, **options: Any) -> "Lowered":
    """The schema's language, regular or not (extra properties make most objects context-free)."""
    return Lowered(schema_to_rules(schema, **options))


def grammar_of(schema: Any, **options: Any) -> Grammar:
    """The pushdown grammar of a schema that nests without bound (``schema_to_regex`` refuses it)."""
    with pytest.raises(SchemaError, match="context-free"):
        schema_to_regex(schema, **options)
    return Grammar.from_regexes(schema_to_rules(schema, **options))


def grammar_matches(grammar: Grammar, value: Any) -> bool:
    return grammar.matches(compact(value))


# ------------------------------------------------------------------------------------------------
# reordering an instance's object keys to the schema's property order


def _resolve(root: Any, ref: str) -> Any:
    if not ref.startswith("#"):
        return None
    frag = unquote(ref[1:])
    if frag == "":
        return root
    if not frag.startswith("/"):
        return None
    t = root
    for tok in frag[1:].split("/"):
        tok = tok.replace("~1", "/").replace("~0", "~")
        if isinstance(t, dict) and tok in t:
            t = t[tok]
        elif isinstance(t, list) and tok.isdigit() and int(tok) < len(t):
            t = t[int(tok)]
        else:
            return None
    return t


def _collect(schemas: list, root: Any) -> list[dict]:
    out, seen, todo = [], set(), list(schemas)
    while todo:
        s = todo.pop(0)
        if not isinstance(s, dict) or id(s) in seen:
            continue
        seen.add(id(s))
        out.append(s)
        if isinstance(s.get("$ref"), str):
            t = _resolve(root, s["$ref"])
            if t is not None:
                todo.append(t)
        for k in ("allOf", "anyOf", "oneOf"):
            if isinstance(s.get(k), list):
                todo.extend(s[k])
        for k in ("then", "else"):
            if isinstance(s.get(k), dict):
                todo.append(s[k])
    return out


def _jeq(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_jeq(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_jeq(x, y) for x, y in zip(a, b))
    return a == b


def reorder(inst: Any, schemas: list, root: Any, depth: int = 0) -> Any:
    """``inst`` with object keys in the order the schema declares them (recursively)."""
    if depth > 60:
        return inst
    col = _collect(schemas, root)
    for s in col:
        cands = [s["const"]] if "const" in s else (s["enum"] if isinstance(s.get("enum"), list) else [])
        for c in cands:
            if isinstance(c, (dict, list)) and _jeq(c, inst):
                return c
    if isinstance(inst, dict):
        names: list[str] = []
        for s in col:
            if isinstance(s.get("properties"), dict):
                names += [n for n in s["properties"] if n not in names]
        idx = {n: i for i, n in enumerate(names)}
        out = {}
        for k in sorted(inst, key=lambda k: idx.get(k, len(names))):
            subs = []
            for s in col:
                if isinstance(s.get("properties"), dict) and k in s["properties"]:
                    subs.append(s["properties"][k])
                if isinstance(s.get("additionalProperties"), dict):
                    subs.append(s["additionalProperties"])
                if isinstance(s.get("patternProperties"), dict):
                    subs += list(s["patternProperties"].values())
            out[k] = reorder(inst[k], subs, root, depth + 1)
        return out
    if isinstance(inst, list):
        out_l = []
        for i, x in enumerate(inst):
            subs = []
            for s in col:
                it, pre = s.get("items"), s.get("prefixItems")
                if isinstance(pre, list) and i < len(pre):
                    subs.append(pre[i])
                elif isinstance(it, list):
                    if i < len(it):
                        subs.append(it[i])
                    elif isinstance(s.get("additionalItems"), dict):
                        subs.append(s["additionalItems"])
                elif isinstance(it, dict):
                    subs.append(it)
            out_l.append(reorder(x, subs, root, depth + 1))
        return out_l
    return inst


def serialize(inst: Any, schema: Any, separators=(",", ":")) -> str:
    return json.dumps(reorder(inst, [schema], schema), separators=separators, ensure_ascii=False)


class _Slow(Exception):
    pass


def _raise_slow(*_: Any) -> None:
    raise _Slow()


@lru_cache(maxsize=64)
def _dfa(rx: str) -> Any:
    try:
        from guidegen.automata.regex import compile_regex

        return compile_regex(rx, max_states=2_000_000)
    except Exception:  # sibling module missing, or the automaton is too large
        return None


def decide(rx: str, pat: "re.Pattern[str]", text: str, seconds: float = 2.0) -> bool | None:
    """Does ``rx`` fully match ``text``? Python's backtracking ``re`` can take exponential time on some
    non-matching texts (overlapping alternatives under a repetition); past ``seconds`` the byte DFA of
    guidegen.automata decides. None: undecided."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        return pat.fullmatch(text) is not None
    old = signal.signal(signal.SIGALRM, _raise_slow)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return pat.fullmatch(text) is not None
    except _Slow:
        pass
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    dfa = _dfa(rx)
    if dfa is None:
        return None
    state = 0
    for byte in text.encode("utf-8"):
        state = int(dfa.transitions[state, byte])
        if state < 0:
            return False
    return bool(dfa.accepting[state])


class _TooDeep(Exception):
    pass


class Lowered:
    """A schema's language as :func:`schema_to_rules` lowers it: one regex (decided by ``re``, with the
    DFA as a fallback) or, when it nests without bound, a pushdown grammar."""

    def __init__(self, rules: list[str | None]) -> None:
        self.rules = rules
        self.rx = rules[0] if len(rules) == 1 else None
        self._pat = re.compile(self.rx) if self.rx is not None else None
        self.grammar = Grammar.from_regexes(rules) if self.rx is None else None

    def match(self, text: str) -> bool | None:
        if self.rx is not None:
            return decide(self.rx, self._pat, text)  # type: ignore[arg-type]
        assert self.grammar is not None
        return self.grammar.matches(text)

    def sample(self, choose, max_depth: int = 4) -> str:
        """A text of the language (:func:`sample_text` per rule, :func:`sample_dfa` for a rule given as
        an automaton, calls expanded); raises ``_TooDeep`` when the draw nests past ``max_depth`` calls."""
        def expand(k: int, depth: int) -> str:
            if depth > max_depth:
                raise _TooDeep()
            rule = self.rules[k]
            if isinstance(rule, DFA):
                return sample_dfa(rule, choose)
            text = sample_text(rule, choose)  # type: ignore[arg-type]
            return "".join(expand(ord(ch) - 0xD800, depth + 1) if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in text)

        return expand(0, 0)


def try_compile(schema: Any, **kw: Any) -> Lowered | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rules = schema_to_rules(schema, **kw)
    except (UnsupportedSchemaError, SchemaError):
        return None
    try:
        return Lowered(rules)
    except (GrammarError, RegexError):  # an automaton over the state limit: JSONSchemaCompiler refuses it too
        return None


# ------------------------------------------------------------------------------------------------
# random texts from a regex (walk of Python's own parse tree)

_POOL = [chr(c) for c in range(0x20, 0x7F)] + list("\t\né中€ßΩ😀\u2028\u00a0\x7f")
_CATS = {
    _sre_c.CATEGORY_DIGIT: r"\d", _sre_c.CATEGORY_NOT_DIGIT: r"\D", _sre_c.CATEGORY_SPACE: r"\s",
    _sre_c.CATEGORY_NOT_SPACE: r"\S", _sre_c.CATEGORY_WORD: r"\w", _sre_c.CATEGORY_NOT_WORD: r"\W",
}


def _in_class(ch: str, items) -> bool:
    hit = False
    neg = False
    for op, av in items:
        if op is _sre_c.NEGATE:
            neg = True
        elif op is _sre_c.LITERAL:
            hit = hit or ord(ch) == av
        elif op is _sre_c.RANGE:
            hit = hit or av[0] <= ord(ch) <= av[1]
        elif op is _sre_c.CATEGORY:
            hit = hit or re.match(_CATS[av], ch) is not None
    return hit != neg


def sample_text(rx: str, choose) -> str:
    """A text matching ``rx``; ``choose(lo, hi)`` picks an int in [lo, hi] (Hypothesis or random)."""
    out: list[str] = []

    def walk(seq) -> None:
        for op, av in seq:
            if op is _sre_c.LITERAL:
                out.append(chr(av))
            elif op is _sre_c.NOT_LITERAL:
                pool = [c for c in _POOL if ord(c) != av]
                out.append(pool[choose(0, len(pool) - 1)])
            elif op is _sre_c.ANY:
                pool = [c for c in _POOL if c != "\n"]
                out.append(pool[choose(0, len(pool) - 1)])
            elif op is _sre_c.IN:
                positive = [x for x in av if x[0] in (_sre_c.LITERAL, _sre_c.RANGE)]
                if av and av[0][0] is not _sre_c.NEGATE and positive and choose(0, 3):
                    op2, av2 = positive[choose(0, len(positive) - 1)]
                    out.append(chr(av2) if op2 is _sre_c.LITERAL else chr(choose(av2[0], min(av2[1], av2[0] + 300))))
                else:
                    pool = [c for c in _POOL if _in_class(c, av)]
                    if not pool:
                        op2, av2 = positive[0]
                        pool = [chr(av2) if op2 is _sre_c.LITERAL else chr(av2[0])]
                    out.append(pool[choose(0, len(pool) - 1)])
            elif op is _sre_c.BRANCH:
                alts = av[1]
                walk(alts[choose(0, len(alts) - 1)])
            elif op is _sre_c.SUBPATTERN:
                walk(av[-1])
            elif op in (_sre_c.MAX_REPEAT, _sre_c.MIN_REPEAT):
                lo, hi, sub = av
                hi = lo + 3 if hi is _sre_c.MAXREPEAT else min(hi, lo + 3)
                for _ in range(choose(lo, hi)):
                    walk(sub)
            elif op is _sre_c.AT:
                pass
            else:  # pragma: no cover - constructs the lowering never emits
                raise AssertionError("unexpected regex construct %s" % op)

    walk(_sre_p.parse(rx))
    return "".join(out)


def sample_dfa(dfa: DFA, choose, length: int = 12) -> str:
    """A text of the (trimmed) automaton: a random walk that stops at an accepting state with odds 1/4,
    and after ``length`` bytes heads for the nearest one."""
    t = dfa.transitions
    distance = np.where(dfa.accepting, 0, np.iinfo(np.int32).max)  # bytes to the nearest accepting state
    while True:
        reach = np.where(t >= 0, distance[np.maximum(t, 0)], np.iinfo(np.int32).max).min(axis=1)
        closer = np.minimum(distance, np.where(reach < np.iinfo(np.int32).max, reach + 1, reach))
        if (closer == distance).all():
            break
        distance = closer
    out, state = bytearray(), 0
    while not (dfa.accepting[state] and (len(out) >= length or (t[state] < 0).all() or choose(0, 3) == 0)):
        live = np.flatnonzero(t[state] >= 0)
        if len(out) >= length:
            live = live[distance[t[state, live]] < distance[state]]
        byte = int(live[choose(0, len(live) - 1)])
        out.append(byte)
        state = int(t[state, byte])
    return out.decode("utf-8")


# ------------------------------------------------------------------------------------------------
# validation with jsonschema (+ the format checks jsonschema skips without optional packages)


def _check_time(s: str) -> bool:
    m = re.fullmatch(r"(\d\d):(\d\d):(\d\d)(\.\d+)?(Z|z|[+-]\d\d:\d\d)", s)
    if not m:
        return False
    return int(m[1]) < 24 and int(m[2]) < 60 and int(m[3]) < 60


def _check_date_time(s: str) -> bool:
    if len(s) < 11 or s[10] not in "Tt":
        return False
    try:
        datetime.date.fromisoformat(s[:10])
    except ValueError:
        return False
    return _check_time(s[11:])


def validator(schema: Any):
    import jsonschema

    checker = jsonschema.FormatChecker()
    checker.checks("date-time")(lambda s: not isinstance(s, str) or _check_date_time(s))
    checker.checks("time")(lambda s: not isinstance(s, str) or _check_time(s))
    checker.checks("ipv4", raises=ValueError)(lambda s: not isinstance(s, str) or bool(ipaddress.IPv4Address(s)))
    checker.checks("uuid", raises=ValueError)(lambda s: not isinstance(s, str) or bool(uuid.UUID(s)))
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema, format_checker=checker)


# ================================================================================================
# unit tests


def test_compact_basics() -> None:
    rx = schema_to_regex({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "boolean"}},
                          "required": ["a"], "additionalProperties": False})
    assert re.fullmatch(rx, '{"a":1,"b":true}')
    assert re.fullmatch(rx, '{"a":-0}')
    assert not re.fullmatch(rx, '{"a": 1}')  # compact: no whitespace
    assert not re.fullmatch(rx, '{"b":true,"a":1}')  # schema order
    assert not re.fullmatch(rx, '{"b":true}')
    assert not re.fullmatch(rx, '{"a":01}')


def test_flexible_whitespace() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "array", "items": {"type": "integer"}}}, "required": ["a"]}
    rx = lower(schema, whitespace="flexible")
    assert rx.match('{"a": [1, 2]}')
    assert rx.match('{\n "a" : [ 1 ,\n 2 ]\n}')
    assert rx.match('{"a":[1,2]}')
    assert not rx.match('{"a":   [1]}')  # at most 2 whitespace characters per gap
    assert lower(schema, whitespace="flexible", max_whitespace=4).match('{"a":   [1]}')
    assert not rx.match(' {"a":[1]}')  # none around the whole value
    with pytest.raises(ValueError):
        lower(schema, whitespace="pretty")


def test_optional_properties_all_in_order_subsets() -> None:
    import itertools

    names = ["a", "b", "c", "d"]
    for required in ([], ["c"], ["a", "d"]):
        schema = {"type": "object", "properties": {n: {"const": i} for i, n in enumerate(names)},
                  "required": required, "additionalProperties": False}
        rx = lower(schema)
        v = validator(schema)
        for k in range(len(names) + 1):
            for combo in itertools.permutations(names, k):
                obj = {n: names.index(n) for n in combo}
                in_order = list(combo) == sorted(combo)
                assert matches(rx, obj) == (in_order and v.is_valid(obj)), (required, combo)
    # linear, not exponential, size
    big = {"type": "object", "properties": {"p%d" % i: {"type": "boolean"} for i in range(60)}}
    assert len(lower(big, extra_properties=False).rx or "") < 20000


def test_extra_properties_follow_the_declared_ones() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}},
              "required": ["a"], "dependentRequired": {"t": ["b"]}}
    rx = lower(schema)
    v = validator(schema)
    for obj, ok in [({"a": 1, "x": [{"y": None}]}, True), ({"a": 1, "b": "s", "zz": 2, "\n": "é"}, True),
                    ({"a": 1, "a\"": 1}, True), ({"x": 1, "a": 1}, False),  # extras only after the declared
                    ({"a": 1, "t": 1}, False)]:  # a dependency trigger is never an extra
        assert matches(rx, obj) == ok, obj
        assert not ok or v.is_valid(obj)
    assert not rx.match('{"a":1,"b":"s","b":"t"}')  # a declared name is never an extra
    assert not rx.match('{"a":1,"\\u0078":1}')  # extra names are written canonically
    typed = lower({"type": "object", "properties": {"a": {"type": "null"}}, "additionalProperties": {"type": "integer"}})
    assert matches(typed, {"a": None, "n": 3}) and not matches(typed, {"a": None, "n": "3"})
    declared_only = lower(schema, extra_properties=False)
    assert declared_only.rx is not None and not matches(declared_only, {"a": 1, "x": 1})


def test_any_property_order() -> None:
    import itertools

    schema = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}, "c": {"type": "null"}},
              "required": ["a"]}
    lang = lower(schema, property_order="any")
    v = validator(schema)
    values = {"a": 1, "b": "x", "c": None}
    for k in range(4):
        for combo in itertools.permutations("abc", k):
            obj = {n: values[n] for n in combo}
            assert matches(lang, obj) == v.is_valid(obj), obj
    assert not lang.match('{"a":1,"a":2}') and not lang.match('{"b":"x","c":null,"b":"y","a":1}')
    assert matches(lang, {"c": None, "a": 1, "extra": [1]})  # undeclared properties after the declared ones
    closed = lower({**schema, "additionalProperties": False}, property_order="any")
    assert matches(closed, {"b": "x", "a": 1}) and not matches(closed, {"b": "x", "a": 1, "z": 1})
    big = {"type": "object", "properties": {f"p{i}": {"type": "null"} for i in range(11)}}
    with pytest.raises(UnsupportedSchemaError, match="any property order with more than 10"):
        schema_to_rules(big, property_order="any")
    with pytest.raises(ValueError, match="property_order"):
        schema_to_rules(schema, property_order="sorted")
    # through the compiler's options, token by token (one byte per token)
    from guidegen.check import check_tokens

    constraint = JSONSchemaCompiler().compile(schema, _tiny_vocab(), property_order="any")
    assert check_tokens(constraint, list(b'{"c":null,"a":1}')).accepted
    assert not check_tokens(constraint, list(b'{"c":null}')).accepted


def test_min_properties_one() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "null"}, "b": {"type": "null"}}, "minProperties": 1}
    rx = lower(schema)
    assert not matches(rx, {}) and matches(rx, {"a": None}) and matches(rx, {"b": None})


@pytest.mark.parametrize("counts", [{"maxProperties": 2}, {"minProperties": 2}, {"minProperties": 3, "maxProperties": 4},
                                    {"minProperties": 1, "maxProperties": 1}, {"maxProperties": 0}])
@pytest.mark.parametrize("extra", [False, {"type": "integer"}])
def test_property_counts_against_jsonschema(counts: dict, extra: Any) -> None:
    """min/maxProperties with optional members and undeclared ones: every object of up to five
    members (declared ones first, in order) is accepted only if valid (none is where the schema
    raises), and valid ones are accepted
    except where two or more undeclared members would have to make up minProperties (a name may
    repeat, so they count as one)."""
    schema = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
              "required": ["a"] if "maxProperties" in counts and counts["maxProperties"] == 2 else [],
              "additionalProperties": extra, **counts}
    try:
        rx = lower(schema)
    except SchemaError:  # no object is valid: the checks below confirm it
        rx = None
    check = validator(schema)
    for declared in ([], ["a"], ["b"], ["a", "b"]):
        for undeclared in range(4):
            obj = {**{k: 1 for k in declared}, **{f"x{i}": 1 for i in range(undeclared)}}
            valid = check.is_valid(obj)
            accepted = rx is not None and matches(rx, obj)
            assert not accepted or valid, obj
            if valid and not (undeclared >= 2 and len(declared) + 1 < counts.get("minProperties", 0)):
                assert accepted, obj


@pytest.mark.parametrize("schema", [{"type": "object", "maxProperties": 100000},
                                    {"type": "object", "properties": {"a": {}}, "maxProperties": 100000}])
def test_a_large_max_properties_generates_at_most_64_members(schema: dict) -> None:
    """A bounded repetition writes a copy of the member per count: past 64, more members are not
    generated (a sound restriction) rather than the automaton outgrowing its state limit."""
    lang = lower(schema)
    assert matches(lang, {"x": 1, "y": [2]}) and matches(lang, {f"k{i}": i for i in range(64)})
    assert not matches(lang, {f"k{i}": i for i in range(65)})


def test_property_counts_over_many_optional_members() -> None:
    """One alternative per set of optional members the counts allow: up to 64 of them (seven
    optional members, at most three present), past that unsupported."""
    schema = {"type": "object", "properties": {k: {"type": "null"} for k in "abcdefgh"}, "maxProperties": 3}
    with pytest.raises(UnsupportedSchemaError) as e:
        lower(schema)
    assert e.value.keyword == "maxProperties" and e.value.pointer == "/maxProperties"
    with pytest.warns(SchemaApproximationWarning):  # lenient drops the count, and still writes JSON
        approximated = lower(schema, lenient=True)
    assert matches(approximated, {"a": None, "x": 1}) and matches(approximated, {"x": 1}) and matches(approximated, {})
    assert not approximated.match('{,"x":1}')
    seven = lower({**schema, "properties": dict(list(schema["properties"].items())[:7])})
    assert matches(seven, {"a": None, "c": None, "g": None}) and matches(seven, {"b": None, "x": 1})
    assert not matches(seven, {"a": None, "b": None, "c": None, "d": None})
    assert not matches(seven, {"a": None, "b": None, "c": None, "x": 1})
    one_of_many = lower({"type": "object", "properties": {f"p{i}": {"type": "integer"} for i in range(40)},
                         "minProperties": 1, "maxProperties": 1, "additionalProperties": False})
    assert matches(one_of_many, {"p7": 1}) and matches(one_of_many, {"p39": 2})
    assert not matches(one_of_many, {}) and not matches(one_of_many, {"p1": 1, "p2": 2})


def test_integer_ranges_exhaustive() -> None:
    points = [None, -1001, -100, -99, -10, -1, 0, 1, 9, 10, 55, 99, 100, 101, 999, 1000, 1234]
    for lo in points:
        for hi in points:
            rx = integer_range_regex(lo, hi)
            c = re.compile(rx) if rx is not None else None
            for v in range(-1300, 1300):
                want = (lo is None or v >= lo) and (hi is None or v <= hi)
                assert bool(c and c.fullmatch(str(v))) == want, (lo, hi, v)
            if c:
                assert not c.fullmatch("01") and not c.fullmatch("-01") and not c.fullmatch("1.0")
    assert re.fullmatch(integer_range_regex(0, 2**64), str(2**64))
    assert not re.fullmatch(integer_range_regex(0, 2**64), str(2**64 + 1))


def test_integer_keywords() -> None:
    rx = schema_to_regex({"type": "integer", "minimum": 1.5, "exclusiveMaximum": 10})
    assert [v for v in range(-5, 15) if re.fullmatch(rx, str(v))] == list(range(2, 10))
    rx = schema_to_regex({"$schema": "http://json-schema.org/draft-04/schema#", "type": "integer",
                          "minimum": 3, "exclusiveMinimum": True})
    assert not re.fullmatch(rx, "3") and re.fullmatch(rx, "4")
    assert re.fullmatch(schema_to_regex({"type": "integer", "multipleOf": 1}), "7")


def _multiple_ok(schema: dict, text: str) -> bool:
    """The exact reading of multipleOf and bounds on the values of the JSON literals (the lowering's;
    jsonschema divides binary64 floats, so 0.07 is not a multiple of 0.01 there)."""
    def val(v: Any) -> Fraction:
        return Fraction(Decimal(repr(v) if isinstance(v, float) else v))

    x = Fraction(Decimal(text))
    if schema.get("type") == "integer" and x.denominator != 1:
        return False
    ops = {"minimum": x.__ge__, "maximum": x.__le__, "exclusiveMinimum": x.__gt__, "exclusiveMaximum": x.__lt__}
    return (x / val(schema["multipleOf"])).denominator == 1 and all(op(val(schema[kw])) for kw, op in ops.items()
                                                                      if kw in schema)


def test_multiple_of_exact() -> None:
    import random

    rng = random.Random(3)
    texts = {str(i) for i in range(-260, 261)} | {"-0", "0.0", "2.50", "1e2", "7.5e0"}
    for _ in range(1500):
        t = str(rng.choice([0, 1, 2, 3, 7, 12, 25, 100, rng.randint(0, 3000)]))
        if rng.random() < 0.7:
            t += "." + "".join(rng.choice("0123456789" if rng.random() < 0.5 else "05") for _ in range(rng.randint(1, 4)))
        texts.add(("-" if rng.random() < 0.4 else "") + t)
    bounds = [{}, {"minimum": 0}, {"exclusiveMinimum": 0}, {"minimum": 0.001}, {"maximum": 35}, {"exclusiveMaximum": 0},
              {"maximum": -0.001}, {"minimum": -20}, {"minimum": -20, "maximum": 30}, {"exclusiveMinimum": -7.5, "maximum": 12.25}]
    for step in [2, 3, 4, 7, 10, 12, 0.5, 0.25, 2.5, 1.5, 0.01, 0.1, 1e-8]:
        for t in ["integer", "number"]:
            for b in bounds:
                schema = {"type": t, "multipleOf": step, **b}
                rx = re.compile(schema_to_regex(schema))
                for text in texts:
                    want = _multiple_ok(schema, text) and "e" not in text  # sound: no exponent form
                    if t == "integer":
                        want = want and re.fullmatch(r"-?(0|[1-9][0-9]*)", text) is not None  # canonical integers
                    if text.startswith("-") and Fraction(Decimal(text)) == 0 and (b or t == "number"):
                        want = want and bool(rx.fullmatch(text))  # "-0" may be left out
                    assert bool(rx.fullmatch(text)) == want, (schema, text)
    # any integer is a multiple of 0.5 or of 1e-8; one of 1.5 is one of 3
    assert schema_to_regex({"type": "integer", "multipleOf": 0.5}) == schema_to_regex({"type": "integer"})
    rx = schema_to_regex({"type": "integer", "multipleOf": 1.5})
    assert [v for v in range(-7, 8) if re.fullmatch(rx, str(v))] == [-6, -3, 0, 3, 6]
    # binary-exact steps: jsonschema agrees
    for step in (0.5, 2.5, 0.25):
        schema = {"multipleOf": step}
        lang, v = lower(schema), validator(schema)
        for x in [0, 1, 2.5, -7.5, 0.75, 0.1, 12.25, 1e3, "x", [1]]:
            assert bool(lang.match(compact(x))) == v.is_valid(x) or isinstance(x, list), (step, x)


def test_all_of_keeps_if_then_else_of_different_parts_apart() -> None:
    """``then``/``else`` without ``if`` (and ``if`` alone) do nothing: merged from different allOf parts,
    they must not form a conditional."""
    rx = schema_to_regex({"type": "integer", "allOf": [{"if": {"exclusiveMaximum": 0}}, {"then": {"minimum": -10}},
                                                       {"else": {"multipleOf": 2}}]})
    assert re.fullmatch(rx, "-100") and re.fullmatch(rx, "3")


def test_multiple_of_any_step_with_any_bounds() -> None:
    """Steps whose multiples no small regex writes (11, 16, 64...), and bounds far from 0 or wide
    ranges: the remainder automaton intersected with the automaton of the range, in one DFA."""
    import random

    from guidegen.automata.constraint import DFAConstraint

    rng = random.Random(5)
    texts = {str(i) for i in range(-130, 131)} | {"-0", "1e2", "7.04", "-64.0", "0.320", "1.1", "2.2000", "-3.3"}
    for _ in range(700):
        t = str(rng.choice([rng.randint(0, 2000), 11 * rng.randint(0, 200), 64 * rng.randint(0, 40)]))
        if rng.random() < 0.4:
            t += "." + "".join(rng.choice("0123456789" if rng.random() < 0.5 else "05") for _ in range(rng.randint(1, 3)))
        texts.add(("-" if rng.random() < 0.4 else "") + t)
    bounds = [{}, {"minimum": 100}, {"maximum": -50}, {"minimum": -1000, "maximum": 100000},
              {"exclusiveMinimum": 0.5, "maximum": 5000}]
    for step in [11, 16, 64, 0.32, 1.1, 7]:
        for t in ["integer", "number"]:
            for b in bounds:
                schema = {"type": t, "multipleOf": step, **b}
                c = JSONSchemaCompiler().compile(schema, _tiny_vocab())
                assert isinstance(c, DFAConstraint), schema
                for text in texts:
                    want = _multiple_ok(schema, text) and "e" not in text  # sound: no exponent form
                    if t == "integer":
                        want = want and re.fullmatch(r"-?(0|[1-9][0-9]*)", text) is not None  # canonical integers
                    got = c.dfa.matches(text)
                    if text.startswith("-") and Fraction(Decimal(text)) == 0:
                        want = want and got  # "-0" may be left out
                    assert got == want, (schema, text)


def test_multiple_of_unsupported() -> None:
    """A step whose remainder automaton has more than 20,000 states (a numerator of that size, prime
    to 10) is refused; lenient mode drops it."""
    for schema in [{"type": "integer", "multipleOf": 0.123456789},
                   {"type": "number", "multipleOf": 0.0123457, "minimum": 1}]:
        with pytest.raises(UnsupportedSchemaError, match="needs more than 20000 states") as e:
            schema_to_rules(schema)
        assert e.value.keyword == "multipleOf" and e.value.pointer == "/multipleOf"
        without = {k: v for k, v in schema.items() if k != "multipleOf"}
        with pytest.warns(SchemaApproximationWarning):
            assert schema_to_regex(schema, lenient=True) == schema_to_regex(without)


def test_decimal_ranges() -> None:
    import random

    rng = random.Random(7)
    texts = set()
    for _ in range(1500):
        t = str(rng.choice([0, 1, 2, 9, 10, 12, 99, 100, rng.randint(0, 3000)]))
        if rng.random() < 0.6:
            t += "." + "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 4)))
        texts.add(("-" if rng.random() < 0.4 else "") + t)
    bounds = [None, Decimal("0"), Decimal("1.5"), Decimal("-2.25"), Decimal("0.001"), Decimal("100"), Decimal("12.3456")]
    for lo in bounds:
        for hi in bounds:
            rx = decimal_range_regex(lo, hi)
            c = re.compile(rx) if rx is not None else None
            for t in texts:
                v = Decimal(t)
                want = (lo is None or v >= lo) and (hi is None or v <= hi)
                got = bool(c and c.fullmatch(t))
                if t.startswith("-") and v == 0:
                    assert got <= want  # "-0" may be left out
                else:
                    assert got == want, (lo, hi, t)


def test_number_bounds() -> None:
    rx = schema_to_regex({"type": "number", "minimum": 0, "exclusiveMaximum": 1})
    for t in ["0", "0.5", "0.999", "0.0"]:
        assert re.fullmatch(rx, t), t
    for t in ["1", "1.0", "-0.5", "1e-3", "2"]:
        assert not re.fullmatch(rx, t), t
    rx = schema_to_regex({"type": "number", "exclusiveMinimum": 0})
    assert re.fullmatch(rx, "0.001") and not re.fullmatch(rx, "0") and not re.fullmatch(rx, "0.000")
    rx = schema_to_regex({"type": "number"})
    for t in ["0", "-1.5e+10", "3.25", "1E5"]:
        assert re.fullmatch(rx, t)


def test_strings_lengths_and_escapes() -> None:
    rx = schema_to_regex({"type": "string", "minLength": 2, "maxLength": 3})
    for s, ok in [("ab", True), ("abc", True), ("a", False), ("abcd", False), ("é😀", True), ('a"', True),
                  ("\n\x01", True), ("a\\b", True), ("a\\b\\", False)]:
        assert matches(rx, s) == ok, s
    rx = schema_to_regex({"type": "string"})
    for text in ['"a\\u00e9"', '"\\ud83d\\ude00"', '"\\/"', '""']:
        assert re.fullmatch(rx, text), text
    for text in ['"\\ud83d"', '"a\nb"', '"\\x"', '"a"b"']:
        assert not re.fullmatch(rx, text), text


def test_pattern_semantics() -> None:
    rx = schema_to_regex({"type": "string", "pattern": "^\\d{2}$"})
    assert matches(rx, "12") and not matches(rx, "\u0661\u0662") and not matches(rx, "12\n")
    rx = schema_to_regex({"type": "string", "pattern": "ab+"})  # unanchored: search
    assert matches(rx, "xxabbby") and not matches(rx, "xxa")
    rx = schema_to_regex({"type": "string", "pattern": "^[a-z]+$", "maxLength": 3})
    assert matches(rx, "abc") and not matches(rx, "abcd") and not matches(rx, "")
    rx = schema_to_regex({"type": "string", "pattern": '^"\\\\$'})  # a quote then a backslash
    assert matches(rx, '"\\')
    rx = schema_to_regex({"type": "string", "pattern": "^([^,]|$)"})
    assert matches(rx, "") and matches(rx, "x,") and not matches(rx, ",x")
    with pytest.raises(UnsupportedSchemaError) as e:
        schema_to_regex({"type": "object", "properties": {"p": {"type": "string", "pattern": "^(?!x)"}}})
    assert e.value.keyword == "pattern" and e.value.pointer == "/properties/p/pattern"
    with pytest.raises(SchemaError):
        schema_to_regex({"type": "string", "pattern": "(ab"})


def _strings(alphabet: str, longest: int) -> list[str]:
    return [""] + ["".join(p) for n in range(1, longest + 1) for p in itertools.product(alphabet, repeat=n)]


def assert_agrees(schema: Any, values: Iterable[Any], exact: Callable[[Any], bool] = lambda _: True) -> Lowered:
    """The schema's language never holds an instance jsonschema rejects, and holds every valid one
    ``exact`` selects (the others may be left out: the documented over-constraints)."""
    lang, v = lower(schema), validator(schema)
    for value in values:
        got, want = bool(lang.match(compact(value))), v.is_valid(value)
        assert got <= want, ("invalid instance accepted", schema, value)
        assert got == want or not exact(value), ("valid instance rejected", schema, value)
    return lang


def _engines_agree(value: Any) -> bool:
    """Do ECMAScript and Python (jsonschema) surely agree on patterns over ``value``? Not on characters
    beyond the BMP (two UTF-16 units in ECMAScript) nor before a final newline (Python's ``$``)."""
    return not isinstance(value, str) or (all(ord(c) <= 0xFFFF for c in value) and not value.endswith("\n"))


def test_pattern_with_length_bounds_is_an_intersection() -> None:
    """Length bounds the pattern's repetitions cannot absorb: the pattern's automaton intersected with
    that of the canonical strings of those lengths (no single regex is written)."""
    texts = _strings("ab-1é\"\n😀", 4) + ["abc-12", "ab-123", "a-1b-1", "ab" * 5]
    for schema in [{"type": "string", "pattern": "^[a-z]+-[0-9]+$", "minLength": 4, "maxLength": 5},
                   {"type": "string", "pattern": "a.*1", "maxLength": 3},
                   {"type": "string", "pattern": "^(a|bb)+$", "minLength": 3, "maxLength": 4},
                   {"type": "string", "pattern": "^[^-]*-?[^-]*$", "minLength": 2, "maxLength": 3}]:
        lang = assert_agrees(schema, texts, _engines_agree)
        assert lang.rx is None and isinstance(lang.rules[1], DFA), schema
        with pytest.raises(SchemaError, match="intersection or difference of automata"):
            schema_to_regex(schema)
    assert schema_to_regex({"type": "string", "pattern": "^[a-z]+x$", "maxLength": 3})  # fitted: still one regex


def test_format_with_pattern_or_length_is_an_intersection() -> None:
    dates = ["2024-02-29", "2023-02-29", "2024-12-01", "2024-02-01", "1999-02-10", "2024-2-01", "x"]
    assert_agrees({"type": "string", "format": "date", "pattern": "-02-"}, dates)
    addresses = ["1.2.3.4", "10.20.30.4", "10.20.30.40", "255.255.255.255", "1.2.3", "01.2.3.4", ""]
    assert_agrees({"type": "string", "format": "ipv4", "maxLength": 10}, addresses)
    assert_agrees({"type": "string", "format": "ipv4", "minLength": 11, "pattern": "^1"}, addresses)
    lang = lower({"type": "string", "format": "uri", "maxLength": 12})
    assert lang.match('"http://a.b/c"') and not lang.match('"http://a.b/cd"') and not lang.match('"a b:c"')


def test_all_of_patterns_all_match() -> None:
    texts = _strings("ab1-", 4)
    assert_agrees({"allOf": [{"type": "string", "pattern": "a"}, {"pattern": "b$"}, {"pattern": "^[^1]"}]}, texts)
    assert_agrees({"allOf": [{"pattern": "a"}, {"pattern": "b"}], "maxLength": 3, "type": ["string", "integer"]},
                  texts + [7, None])
    assert_agrees({"type": "string", "not": {"allOf": [{"pattern": "^a"}, {"pattern": "b"}]}}, texts)
    assert_agrees({"enum": ["ab", "ba", "a1"], "allOf": [{"pattern": "^a"}, {"pattern": "b"}]}, ["ab", "ba", "a1"])


def test_not_pattern_is_a_difference() -> None:
    """``not: {pattern: P}``: the canonical strings of BMP characters less those P matches in either
    ECMAScript or Python (``$`` before a final newline too), intersected with the rest's strings."""
    texts = _strings("ab1\n😀", 3) + ["ba\n", "xyz"]
    for schema in [{"type": "string", "not": {"pattern": "^a"}},
                   {"type": "string", "not": {"pattern": "b$"}},
                   {"not": {"pattern": "[0-9]|^$"}},
                   {"type": "string", "maxLength": 2, "not": {"pattern": "a"}},
                   {"type": "string", "pattern": "^[ab]+$", "not": {"enum": ["a", "ab"]}},
                   {"type": "string", "if": {"pattern": "^a"}, "then": {"minLength": 3}},
                   {"type": "string", "format": "ipv4", "not": {"pattern": "^1"}},
                   {"anyOf": [{"type": "string", "pattern": "^b", "not": {"pattern": "1"}}, {"type": "integer"}]}]:
        assert_agrees(schema, texts + [1, None, "1.2.3.4", "2.2.2.2"], _engines_agree)
    assert not lower({"type": "string", "not": {"pattern": "b$"}}).match(compact("ab\n"))  # Python's `$`
    with pytest.raises(SchemaError, match="accepts no JSON value"):
        lower({"type": "string", "not": {"pattern": ""}})


def test_intersection_only_schema_compiles_to_one_dfa() -> None:
    from guidegen.automata.constraint import DFAConstraint

    schema = {"type": "object", "properties": {"id": {"type": "string", "pattern": "^[a-z]+[0-9]+$", "maxLength": 4},
                                               "tag": {"type": "string", "not": {"pattern": "^x"}}},
              "required": ["id"], "additionalProperties": False}
    c = JSONSchemaCompiler().compile(schema, _tiny_vocab())
    assert isinstance(c, DFAConstraint)  # the automata spliced into the root's: no pushdown
    for text, ok in [('{"id":"ab12"}', True), ('{"id":"ab123"}', False), ('{"id":"a1","tag":"y"}', True),
                     ('{"id":"a1","tag":"xy"}', False), ('{"id":"12"}', False)]:
        st = c.new_state()
        assert (all(st.advance(b) for b in text.encode()) and st.is_accepting()) == ok, text


def test_regular_schema_with_rules_of_its_own_compiles_to_one_dfa() -> None:
    """Undeclared members are a rule of their own (their name automaton excludes the declared
    names); with no recursion the rules are spliced into one DFA, which accepts what the grammar
    of the same rules does. Any-JSON values recurse, so they stay a pushdown constraint."""
    from guidegen.automata.constraint import DFAConstraint
    from guidegen.automata.pushdown import Grammar, PushdownConstraint

    schema = {"type": "object", "properties": {"a": {"type": "integer"}, "ab": {"enum": ["x", "y"]}},
              "additionalProperties": {"type": "string", "maxLength": 3}}
    c = JSONSchemaCompiler().compile(schema, _tiny_vocab())
    assert isinstance(c, DFAConstraint)
    grammar = Grammar.from_regexes(schema_to_rules(schema))
    for text in ['{"a":1,"b":"xyz"}', '{"ab":"x","abc":""}', '{"a":1,"a":"x"}', '{"ab":"z"}', '{"a\\u0000":"x"}',
                 '{"b":"long"}', '{"":"","c":"d"}', '{"ab":"y","ab":"x"}']:
        st = c.new_state()
        assert (all(st.advance(b) for b in text.encode()) and st.is_accepting()) == grammar.matches(text), text
    assert grammar.matches('{"abc":""}') and not grammar.matches('{"ab":"abc"}')
    assert isinstance(JSONSchemaCompiler().compile({"type": "object", "properties": {"a": {"type": "integer"}}},
                                                   _tiny_vocab()), PushdownConstraint)


def test_names_one_pattern_does_not_match_take_additional_properties() -> None:
    """With one patternProperties entry, undeclared names the pattern matches take its schema and
    the others additionalProperties (absent: any value), in objects with declared properties and in
    maps; additionalProperties false leaves the pattern's names only."""
    cases = [
        ({"type": "object", "properties": {"a": {"type": "string"}}, "patternProperties": {"^p": {"type": "boolean"}},
          "additionalProperties": {"type": "integer"}},
         {'{"a":"x","p1":true,"zz":3}': True, '{"a":"x","zz":"s"}': False, '{"a":"x","p1":3}': False,
          '{"a":"x","a":"y"}': False, '{"q":1,"p":false}': True}),
        ({"type": "object", "patternProperties": {"^x": {"type": "string"}}},
         {'{"y":[1,{"z":null}],"x1":"s"}': True, '{"x1":2}': False, '{}': True}),
        ({"type": "object", "patternProperties": {"^x": {"type": "string"}}, "additionalProperties": False},
         {'{"x1":"s"}': True, '{"y":1}': False}),
    ]
    for schema, texts in cases:
        c = JSONSchemaCompiler().compile(schema, _tiny_vocab())
        for text, ok in texts.items():
            st = c.new_state()
            assert (all(st.advance(b) for b in text.encode()) and st.is_accepting()) == ok, (schema, text)


@pytest.mark.parametrize("schema", [
    {"type": "object", "properties": {"foo": {"type": "string"}},
     "patternProperties": {"^S_": {"type": "string"}, "^I_": {"type": "integer"}}, "additionalProperties": False},
    {"type": "object", "patternProperties": {"a": {"type": "integer"}, "b": {"minimum": 3}},
     "additionalProperties": {"type": "string"}},
    {"type": "object", "patternProperties": {"^x": {"type": "integer"}, "y$": {"type": "string"}}},
    {"type": "object", "patternProperties": {"^x": {"type": "integer"}, "y$": {"type": "string"}},
     "additionalProperties": False},
])
def test_names_take_the_schemas_of_every_pattern_they_match(schema: dict) -> None:
    """With several patternProperties entries, an undeclared name takes the schemas of all the
    patterns it matches (one name automaton per set of patterns), and additionalProperties where
    none matches: every object of up to two members over names that match none, one or both
    patterns is accepted exactly when it is valid."""
    lang, check = lower(schema), validator(schema)
    names = ["foo", "S_a", "I_b", "ab", "a", "b", "xy", "x1", "zy", "q"]
    for n in range(3):
        for keys in itertools.permutations(names, n):
            if "foo" in keys[1:]:
                continue  # declared names come first
            for values in itertools.product([1, 5, "s", None], repeat=n):
                obj = dict(zip(keys, values))
                assert matches(lang, obj) == check.is_valid(obj), obj


@pytest.mark.parametrize("schema", [
    {"type": "object", "properties": {"foo": {"type": "string"}}, "propertyNames": {"maxLength": 2}},
    {"type": "object", "properties": {"ab": {"type": "integer"}}, "propertyNames": {"pattern": "^[a-z]+$"},
     "additionalProperties": {"type": "integer"}},
    {"type": "object", "patternProperties": {"^x": {"type": "integer"}}, "propertyNames": {"maxLength": 2}},
    {"type": "object", "patternProperties": {"^x": {"type": "integer"}}, "propertyNames": {"maxLength": 2},
     "additionalProperties": False},
    {"type": "object", "patternProperties": {"^x": {"type": "integer"}, "y$": {"type": "string"}},
     "propertyNames": {"enum": ["xy", "x", "q", "zy"]}},
    {"type": "object", "properties": {"a": {}}, "patternProperties": {"^x": {"type": "integer"}},
     "propertyNames": {"pattern": "^[a-x]"}},
])
def test_undeclared_names_follow_property_names(schema: dict) -> None:
    """propertyNames beside declared properties or patternProperties: undeclared names are the
    names it allows (an automaton intersection), so every object of up to two members is accepted
    exactly when it is valid."""
    lang, check = lower(schema), validator(schema)
    declared = list(schema.get("properties", {}))
    for n in range(3):
        for keys in itertools.permutations(["foo", "ab", "a", "xy", "x1", "zy", "q", "Q", "xyz"], n):
            if [k for k in keys if k in declared] != list(keys[:len([k for k in keys if k in declared])]):
                continue  # declared names come first
            for values in itertools.product([1, "s", None], repeat=n):
                obj = dict(zip(keys, values))
                assert matches(lang, obj) == check.is_valid(obj), obj


def test_several_patterns_in_a_map_over_the_limit_raise() -> None:
    schema = {"type": "object", "patternProperties": {f"^{c}": {"type": "integer"} for c in "abcde"}}
    with pytest.raises(UnsupportedSchemaError) as e:
        lower(schema)
    assert e.value.keyword == "patternProperties" and e.value.pointer == "/patternProperties"


def _one_dfa(rules: list, k: int = 0) -> DFA:
    """A regular schema's rule ``k`` as one automaton: the rules it calls spliced in."""
    from guidegen.automata import dfa_ops
    from guidegen.automata.regex import compile_regex

    rule = rules[k]
    dfa = rule if isinstance(rule, DFA) else compile_regex(rule, call_markers=True)
    return dfa_ops.splice(dfa, {j: _one_dfa(rules, j) for j in dfa_ops.called_rules(dfa)})


_NAME = {"type": "string", "maxLength": 60}
_ADDRESS = {"type": "object", "properties": {"street": _NAME, "city": _NAME, "zip": {"type": "string", "pattern": "^[0-9]{5}$"},
                                             "when": {"type": "string", "format": "date-time"}},
            "required": ["city"], "additionalProperties": False}
_PERSON = {"type": "object", "additionalProperties": False,
           "properties": {"name": _NAME, "home": _ADDRESS, "work": _ADDRESS, "aliases": {"type": "array", "items": _NAME},
                          "visits": {"type": "array", "items": _ADDRESS, "maxItems": 3},
                          "born": {"type": "string", "format": "date"}}}


@pytest.mark.parametrize("schema", [
    _PERSON,
    {"type": "array", "items": _PERSON},
    {"type": "object", "properties": {"a": _PERSON, "b": {"anyOf": [_ADDRESS, {"type": "null"}]}}, "required": ["b"],
     "additionalProperties": False},
    {"type": "object", "properties": {f"p{i}": {"type": "string", "maxLength": 255} for i in range(8)},
     "additionalProperties": False},
])
def test_long_values_spliced_as_automata_keep_the_language(schema: dict) -> None:
    from guidegen.grammar.json_schema import _schema_rules

    spliced, written = _schema_rules(schema), _schema_rules(schema, splice_values=False)
    assert any(isinstance(r, DFA) for r in spliced) and not any(isinstance(r, DFA) for r in written)
    assert _one_dfa(spliced).fingerprint == _one_dfa(written).fingerprint


def test_spliced_automata_keep_their_calls_to_recursive_rules() -> None:
    """Values that call a recursive rule are automata too (for JSONSchemaCompiler), with the calls kept."""
    import random

    from guidegen.automata.dfa_ops import called_rules
    from guidegen.grammar.json_schema import _schema_rules

    kid = {"type": "object", "additionalProperties": False,
           "properties": {**{f"n{i}": {"type": "integer"} for i in range(30)}, "where": _ADDRESS, "sub": {"$ref": "#"}}}
    node = {"type": "object", "additionalProperties": False,
            "properties": {"name": _NAME, "home": _ADDRESS, "kids": {"type": "array", "items": kid},
                           "best": {"$ref": "#"}, "tags": {"type": "array", "items": _NAME, "maxItems": 4}}}
    assert any(isinstance(r, DFA) and called_rules(r) for r in _schema_rules(node, calling_automata=True))
    compiled = JSONSchemaCompiler().compile(node, _tiny_vocab()).grammar
    written = Lowered(_schema_rules(node, splice_values=False))
    assert written.grammar is not None
    rng = random.Random(7)
    texts: list[str] = []
    while len(texts) < 150:
        try:
            texts.append(written.sample(rng.randint, max_depth=3))
        except _TooDeep:
            pass
    for text in texts:
        assert compiled.matches(text), text
        for cut in {len(text) // 3, len(text) // 2, len(text) - 2}:
            for mutant in (text[:cut] + text[cut + 1:], text[:cut] + "," + text[cut:], text[:cut] + '"' + text[cut:]):
                assert compiled.matches(mutant) == written.grammar.matches(mutant), mutant


def test_intersection_composes_into_a_lark_grammar() -> None:
    import guidegen

    code = {"type": "string", "pattern": "^[A-Z]+-[0-9]+$", "maxLength": 6}
    c = guidegen.compile_constraint(_tiny_vocab(), grammar='start: "id=" code ("," code)*', schemas={"code": code})
    for text, ok in [('id="AB-12"', True), ('id="AB-12","C-1"', True), ('id="AB-1234"', False), ('id="ab-1"', False)]:
        st = c.new_state()
        assert (all(st.advance(b) for b in text.encode()) and st.is_accepting()) == ok, text


@pytest.mark.parametrize("fmt,good,bad", [
    ("date", ["2024-02-29", "1999-12-31"], ["2023-02-29", "2024-13-01", "2024-1-01", "0000-01-01"]),
    ("time", ["23:59:59Z", "08:30:06.283185+05:30"], ["24:00:00Z", "12:00:00", "23:59:60Z"]),
    ("date-time", ["2024-01-02T03:04:05Z", "1900-02-28T00:00:00-08:00"], ["2024-01-02 03:04:05Z"]),
    ("uuid", ["2eb8aa08-aa98-11ea-b4aa-73b441d16380"], ["2eb8aa08aa9811eab4aa73b441d16380"]),
    ("ipv4", ["192.168.0.1", "0.0.0.0"], ["256.1.1.1", "01.2.3.4", "1.2.3"]),
    ("email", ["joe.bloggs@example.com", "a+b@x.io"], [".a@x.io", "a..b@x.io", "a@", "a b@x.io"]),
])
def test_formats(fmt: str, good: list[str], bad: list[str]) -> None:
    rx = schema_to_regex({"type": "string", "format": fmt})
    for s in good:
        assert matches(rx, s), s
    for s in bad:
        assert not matches(rx, s), s


def test_format_unknown_and_on_other_types() -> None:
    """A format a draft defines but guidegen cannot assert raises; a name no draft defines asserts
    nothing (the specification's rule for unknown formats), alone and under other keywords."""
    for fmt in ("idn-hostname", "regex", "color"):
        with pytest.raises(UnsupportedSchemaError) as e:
            schema_to_regex({"type": "string", "format": fmt})
        assert e.value.keyword == "format" and e.value.pointer == "/format"
    assert schema_to_regex({"type": "string", "format": "url"}) == schema_to_regex({"type": "string"})
    for old, new in (("host-name", "hostname"), ("ip-address", "ipv4")):  # draft 3's names
        assert schema_to_regex({"type": "string", "format": old}) == schema_to_regex({"type": "string", "format": new})
    rx = schema_to_regex({"type": "string", "format": "int32", "maxLength": 2})
    assert matches(rx, "ab") and not matches(rx, "abc")
    rx = schema_to_regex({"type": "string", "not": {"format": "path", "maxLength": 2}})
    assert matches(rx, "abc") and not matches(rx, "ab")
    assert schema_to_regex({"type": "string", "format": "uuid", "maxLength": 36})  # the format fits the bound
    rx = schema_to_regex({"type": "string", "format": "iri"})
    assert matches(rx, "http://例え.jp/パス?q=値") and not matches(rx, "例え")
    rx = schema_to_regex({"type": "string", "format": "uri-template"})
    assert matches(rx, "http://example.com/{user}/{+path}{?x,y*,z:3}") and not matches(rx, "http://e/{")
    rx = schema_to_regex({"type": "string", "format": "byte"})
    assert matches(rx, "aGk=") and not matches(rx, "aGk")
    rx = schema_to_regex({"type": "string", "format": "json-pointer"})
    assert matches(rx, "/a~1b/0") and matches(rx, "") and not matches(rx, "a") and not matches(rx, "/~2")
    rx = schema_to_regex({"type": "string", "format": "uri"})
    assert matches(rx, "https://[::1]:8080/a/b?q=1#f") and matches(rx, "urn:isbn:0451450523")
    assert not matches(rx, "//no/scheme") and not matches(rx, "http://a b")
    rx = schema_to_regex({"type": "string", "format": "hostname"})
    assert matches(rx, "www.example.com") and not matches(rx, "-a.com") and not matches(rx, "a" * 64)
    rx = schema_to_regex({"type": "string", "format": "duration"})
    assert matches(rx, "P1Y2M3DT4H5M6S") and matches(rx, "P2W") and not matches(rx, "P1Y2D")
    rx = schema_to_regex({"type": "string", "format": "ipv6"})
    assert matches(rx, "::ffff:1.2.3.4") and matches(rx, "1::") and not matches(rx, "1::2::3")
    # formats only constrain strings: exact no-op on integers
    assert re.fullmatch(schema_to_regex({"type": "integer", "format": "int64"}), "42")


def test_const_and_enum() -> None:
    rx = schema_to_regex({"enum": ["a\"b", 1, 2.5, None, True, [1, {"x": "y"}], {"k": [False]}]})
    for v in ["a\"b", 1, 2.5, None, True, [1, {"x": "y"}], {"k": [False]}]:
        assert matches(rx, v), v
    for v in ["ab", 2, False, [1], {"k": []}]:
        assert not matches(rx, v), v
    # enum values are filtered by the rest of the schema
    rx = schema_to_regex({"type": "string", "enum": ["a", 1, "bb"], "maxLength": 1})
    assert matches(rx, "a") and not matches(rx, 1) and not matches(rx, "bb")
    # unsupported-for-compilation keywords are exact when they only filter an enum
    rx = schema_to_regex({"enum": [[1, 1], [1, 2]], "uniqueItems": True})
    assert matches(rx, [1, 2]) and not matches(rx, [1, 1])
    assert re.fullmatch(schema_to_regex({"const": 1.0}), "1")
    rx = schema_to_regex({"enum": ["a", "b"]}, whitespace="flexible")
    assert re.fullmatch(rx, '"a"')


def test_arrays() -> None:
    rx = schema_to_regex({"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 3})
    for v, ok in [([], False), ([1], True), ([1, 2, 3], True), ([1, 2, 3, 4], False), (["x"], False)]:
        assert matches(rx, v) == ok, v
    rx = schema_to_regex({"type": "array", "prefixItems": [{"type": "string"}, {"type": "boolean"}],
                          "items": {"type": "null"}, "maxItems": 4})
    for v, ok in [([], True), (["a"], True), (["a", True], True), (["a", True, None, None], True),
                  (["a", True, None, None, None], False), ([True], False), (["a", True, 1], False)]:
        assert matches(rx, v) == ok, v
    rx = schema_to_regex({"type": "array", "prefixItems": [{"type": "integer"}]})
    assert matches(rx, [1]) and matches(rx, []) and not matches(rx, [1, 2])  # no growth past the prefix
    rx = schema_to_regex({"type": "array", "items": [{"type": "integer"}], "additionalItems": False})
    assert matches(rx, [1]) and not matches(rx, [1, 2])
    assert re.fullmatch(schema_to_regex({"type": "array", "items": {"type": "integer"}, "uniqueItems": True,
                                         "maxItems": 1}), "[7]")
    with pytest.raises(UnsupportedSchemaError, match="at most 5 scalar values") as e:
        schema_to_regex({"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string"},
                                                                   "uniqueItems": True}}})
    assert e.value.keyword == "uniqueItems" and e.value.pointer == "/properties/tags/uniqueItems"
    g = grammar_of({"type": "array"})  # items of any type: nested without bound
    assert grammar_matches(g, [1, [2, [3, {"a": [None]}]], "x"]) and grammar_matches(g, [])
    assert not grammar_matches(g, {}) and not g.matches("[1,]")


def test_contains_counts() -> None:
    """contains / minContains / maxContains against jsonschema on every array of up to 5 items."""
    import itertools

    items = {"enum": [1, 2, "a"]}
    schemas = [
        {"contains": {"const": 1}},
        {"type": "array", "items": {"type": "integer"}, "contains": {"const": 1}, "minContains": 2},
        {"type": "array", "items": items, "contains": {"const": 1}, "maxContains": 1},
        {"type": "array", "items": items, "contains": {"type": "integer"}, "minContains": 1, "maxContains": 2},
        {"type": "array", "items": items, "contains": {"const": 2}, "minContains": 2, "maxContains": 2},
        {"type": "array", "items": items, "contains": {"const": 2}, "minContains": 0, "maxContains": 0},
        {"type": "array", "items": items, "contains": True, "minContains": 2, "maxContains": 3},
        {"type": "array", "items": items, "contains": {"const": 1}, "minContains": 0, "minItems": 2},
        {"type": "array", "contains": {"type": "string"}, "minContains": 0, "unevaluatedItems": {"const": 1}},
        {"type": "array", "items": items, "not": {"contains": {"const": 1}}},
        {"type": "array", "items": items, "allOf": [{"contains": {"const": 1}, "maxContains": 1}, {"minContains": 3}]},
    ]
    for schema in schemas:
        lang, v = lower(schema), validator(schema)
        accepted = 0
        for n in range(6):
            for arr in map(list, itertools.product([1, 2, "a"], repeat=n)):
                assert bool(lang.match(compact(arr))) == v.is_valid(arr), (schema, arr)
                accepted += v.is_valid(arr)
        assert accepted, schema
    with pytest.raises(UnsupportedSchemaError, match="minContains above 16"):
        schema_to_regex({"type": "array", "items": items, "contains": {"const": 1}, "minContains": 17})
    with pytest.raises(UnsupportedSchemaError, match="contains together with prefixItems"):
        schema_to_regex({"type": "array", "prefixItems": [True], "items": items, "contains": {"const": 1}})
    with pytest.raises(UnsupportedSchemaError, match="cannot intersect 'contains'"):
        schema_to_regex({"type": "array", "items": items, "allOf": [{"contains": {"const": 1}}, {"contains": {"const": 2}}]})


def test_unique_items_of_few_scalars() -> None:
    """Distinct items drawn from a few scalar values: every order of every subset, against jsonschema
    (instances with 1.0 aside: integers are written canonically)."""
    import itertools

    schemas = [
        {"type": "array", "items": {"enum": [1, 2, "a"]}, "uniqueItems": True},
        {"type": "array", "items": {"enum": [1, 1.0, "a", None]}, "uniqueItems": True, "minItems": 2, "maxItems": 3},
        {"type": "array", "items": {"type": ["boolean", "null"]}, "uniqueItems": True, "minItems": 1},
        {"type": "array", "items": {"enum": [1, 2, 3], "minimum": 2}, "uniqueItems": True},
        {"prefixItems": [{"type": "boolean"}, {"enum": [1, True]}], "items": {"enum": [None, 1, 2]}, "uniqueItems": True},
    ]
    for schema in schemas:
        lang, v = lower(schema), validator(schema)
        for n in range(6):
            for arr in map(list, itertools.product([1, 2, "a", True, False, None, 1.0], repeat=n)):
                if not any(isinstance(x, float) for x in arr):
                    assert bool(lang.match(compact(arr))) == v.is_valid(arr), (schema, arr)
    for schema in ({"type": "array", "items": {"enum": [[1], 2]}, "uniqueItems": True},
                   {"type": "array", "items": {"enum": list(range(6))}, "uniqueItems": True}):
        with pytest.raises(UnsupportedSchemaError, match="at most 5 scalar values"):
            schema_to_regex(schema)


def test_not_of_numbers() -> None:
    rx = schema_to_regex({"type": "integer", "not": {"enum": [1, 3]}})
    assert [v for v in range(-3, 6) if re.fullmatch(rx, str(v))] == [-3, -2, -1, 0, 2, 4, 5]
    rx = schema_to_regex({"type": "number", "maximum": 3, "not": {"const": 1.5}})
    assert re.fullmatch(rx, "1.25") and re.fullmatch(rx, "2") and not re.fullmatch(rx, "1.5")
    assert not re.fullmatch(rx, "1.50")


def test_dependencies_case_split() -> None:
    import itertools

    schema = {"type": "object", "properties": {n: {"type": "integer"} for n in "abcd"},
              "dependentRequired": {"a": ["c"], "d": ["b"]},
              "dependentSchemas": {"b": {"properties": {"c": {"const": 1}}}}}
    rx = lower(schema)
    v = validator(schema)
    valid = 0
    for k in range(5):
        for combo in itertools.combinations("abcd", k):
            for vals in itertools.product([1, 2], repeat=k):
                obj = dict(zip(combo, vals))
                assert matches(rx, obj) == v.is_valid(obj), obj
                valid += v.is_valid(obj)
    assert valid > 10
    old = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
           "properties": {"x": {"type": "string"}, "y": {"type": "string"}}, "dependencies": {"x": ["y"]}}
    rx = lower(old)
    assert matches(rx, {"x": "1", "y": "2"}) and matches(rx, {"y": "2"}) and not matches(rx, {"x": "1"})


def test_undeclared_properties_matching_one_pattern() -> None:
    """With one patternProperties entry, undeclared names matching it are generated with its schema
    (never a declared name, never a name it does not match); every object agrees with jsonschema."""
    import itertools

    names = ["a", "ab", "b", "/x", "/x/y", "/"]
    schemas = [
        {"type": "object", "properties": {"a": {"type": "integer"}}, "patternProperties": {".*": {"type": "string"}}},
        {"type": "object", "required": ["/"], "properties": {"/": {"type": "integer"}},
         "patternProperties": {"^(/[^/]+)+$": {"type": "integer"}}, "additionalProperties": False},
        {"type": "object", "properties": {"ab": {"type": "string"}}, "patternProperties": {"^a": {"type": "integer"}},
         "additionalProperties": {"type": "string"}},
    ]
    for schema in schemas:
        lang = lower(schema)
        v = validator(schema)
        for k in range(4):
            for combo in itertools.permutations(names, k):
                for values in itertools.product([1, "s"], repeat=k):
                    obj = dict(zip(combo, values))
                    assert not (lang.match(compact(obj)) and not v.is_valid(obj)), (schema, obj)
    # "a" would have to be an integer and a string; other names take the pattern's schema
    assert matches(lower(schemas[0]), {"b": "x", "ab": "y"})
    assert not matches(lower(schemas[0]), {"b": 2}) and not matches(lower(schemas[0]), {"a": 1})
    assert matches(lower(schemas[1]), {"/": 1, "/x": 2, "/x/y": 3})
    assert not matches(lower(schemas[1]), {"/": 1, "x": 2})
    # "ab" would have to be a string and an integer; "b" matches no pattern (not generated)
    assert matches(lower(schemas[2]), {"a": 1, "ax": 2}) and not matches(lower(schemas[2]), {"a": "s"})


def test_dependencies_on_maps() -> None:
    """Objects with no declared property: the names dependencies mention become optional members
    (each after the names it requires); all other names stay undeclared extras."""
    import itertools

    names = ["a", "b", "c", "x"]
    schemas = [
        {"dependentRequired": {"b": ["a"]}},
        {"type": "object", "additionalProperties": {"type": "integer"}, "dependentRequired": {"c": ["a", "b"]}},
        {"type": "object", "dependentSchemas": {"b": {"properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}},
                                                "c": False}},
        {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
         "patternProperties": {"^a": {"type": "string"}}, "additionalProperties": {"type": "integer"},
         "dependencies": {"b": ["a"], "c": {"required": ["b"]}}},
    ]
    for schema in schemas:
        lang = lower(schema)
        v = validator(schema)
        accepted = 0
        for k in range(len(names) + 1):
            for combo in itertools.permutations(names, k):
                for values in itertools.product([1, "s"], repeat=k):
                    obj = dict(zip(combo, values))
                    got = lang.match(compact(obj))
                    assert not (got and not v.is_valid(obj)), (schema, obj)
                    accepted += bool(got)
        assert accepted > 0, schema
    lang = lower(schemas[0])
    for obj in ({}, {"a": 1}, {"a": 1, "b": 2}, {"a": 1, "b": 2, "x": 3}, {"x": [None]}):
        assert matches(lang, obj), obj
    assert not matches(lang, {"b": 2}) and not matches(lang, {"b": 2, "x": 1})
    lang = lower(schemas[2])
    assert matches(lang, {"a": 1, "b": 2}) and matches(lang, {"a": "s"}) and not matches(lang, {"a": "s", "b": 2})
    assert not matches(lang, {"c": 1}) and not matches(lang, {"x": 1, "c": 1})


def test_maps_and_property_names() -> None:
    rx = schema_to_regex({"type": "object", "additionalProperties": {"type": "integer"}, "maxProperties": 2})
    assert matches(rx, {}) and matches(rx, {"x": 1, "y": 2}) and not matches(rx, {"a": 1, "b": 2, "c": 3})
    assert not matches(rx, {"x": "s"})
    rx = schema_to_regex({"type": "object", "additionalProperties": {"type": "integer"},
                          "propertyNames": {"pattern": "^[a-z]+$"}})
    assert matches(rx, {"ab": 1}) and not matches(rx, {"A": 1})
    rx = schema_to_regex({"type": "object", "patternProperties": {"^x-": {"type": "string"}},
                          "additionalProperties": False})
    assert matches(rx, {"x-a": "v"}) and not matches(rx, {"y": "v"})
    # undeclared "x-" names take the pattern's schema, whose values of any type nest without bound
    lang = lower({"type": "object", "properties": {"x-a": {"type": "string"}, "b": {"type": "string"}},
                  "patternProperties": {"^x-": {"maxLength": 1}}})
    assert matches(lang, {"x-a": "v"}) and not matches(lang, {"x-a": "vv"}) and matches(lang, {"b": "vv"})
    assert matches(lang, {"b": "vv", "x-b": [{"c": 1}]}) and not matches(lang, {"x-b": "vv"})
    rx = schema_to_regex({"type": "object", "additionalProperties": False})
    assert re.fullmatch(rx, "{}") and not matches(rx, {"a": 1})
    g = grammar_of({"type": "object"})
    assert grammar_matches(g, {"a": [1, {"b": None}], "c": "d"}) and grammar_matches(g, {})
    assert not grammar_matches(g, []) and not g.matches('{"a"}')


def test_any_of_one_of() -> None:
    rx = lower({"anyOf": [{"type": "string", "maxLength": 1}, {"type": "string", "minLength": 3}]})
    assert matches(rx, "a") and matches(rx, "abc") and not matches(rx, "ab")
    rx = lower({"oneOf": [{"type": "string"}, {"type": "integer"}]})
    assert matches(rx, "a") and matches(rx, 1)
    # discriminator
    rx = lower({"oneOf": [
        {"type": "object", "properties": {"kind": {"const": "a"}, "x": {"type": "integer"}}, "required": ["kind"]},
        {"type": "object", "properties": {"kind": {"const": "b"}, "y": {"type": "string"}}, "required": ["kind"]},
    ]})
    assert matches(rx, {"kind": "a", "x": 1}) and matches(rx, {"kind": "b", "y": "s"})
    assert not matches(rx, {"kind": "c"})
    # exclusive by required keys
    schema = {"type": "object", "properties": {"r": {"type": "integer"}, "w": {"type": "integer"}, "h": {"type": "integer"}},
              "oneOf": [{"required": ["r"]}, {"required": ["w", "h"]}]}
    rx = lower(schema)
    v = validator(schema)
    for obj in [{"r": 1}, {"w": 1, "h": 2}, {"r": 1, "w": 1, "h": 2}, {}, {"r": 1, "w": 2}]:
        if matches(rx, obj):
            assert v.is_valid(obj), obj
    assert matches(rx, {"r": 1}) and matches(rx, {"w": 1, "h": 2})
    # overlapping object branches that no property separates
    bad = {"oneOf": [{"type": "object", "properties": {"a": {"type": "integer"}}},
                     {"type": "object", "properties": {"b": {"type": "integer"}}}]}
    with pytest.raises(UnsupportedSchemaError) as e:
        lower(bad)
    assert e.value.keyword == "oneOf" and e.value.pointer == "/oneOf"
    with pytest.warns(SchemaApproximationWarning, match="oneOf"):
        rx = lower(bad, lenient=True)
    assert matches(rx, {"a": 1})
    # a null branch next to an untyped one keeps only what is exclusive
    rx = lower({"oneOf": [{"type": "null"}, {"properties": {"a": {"type": "integer"}}}]})
    assert matches(rx, {"a": 1}) and not matches(rx, None)


def test_one_of_over_scalars_is_each_branch_minus_the_others() -> None:
    """Overlapping branches over scalar values: each branch's canonical texts minus the other
    branches', as automata (one canonical text per value, so the difference is exact on values)."""
    cases = [
        ({"oneOf": [{"type": "string", "maxLength": 5}, {"type": "string", "minLength": 3}]},
         ["", "ab", "abc", "abcde", "abcdef", "\u00e9t\u00e9!!!"]),
        ({"type": "number", "oneOf": [{"maximum": 2}, {"maximum": 5}, {"multipleOf": 3}]},
         [1, 2, 2.5, 3, 4.5, 5, 6, 7, 9, -3]),
        ({"type": "string", "oneOf": [{"format": "date"}, {"pattern": "^2"}]},
         ["2024-01-01", "1999-01-01", "2x", "x", "1999-13-01"]),
        ({"oneOf": [{"enum": ["a", 1, None]}, {"type": ["string", "null"]}, {"const": 2}]}, ["a", "b", 1, 2, None, 3]),
    ]
    for schema, values in cases:
        rx, v = lower(schema), validator(schema)
        for value in values:
            assert matches(rx, value) == v.is_valid(value), (schema, value)
    # integral numbers are written as integers, here as everywhere
    rx = lower({"type": "number", "oneOf": [{"maximum": 2}, {"maximum": 5}]})
    assert matches(rx, 3) and not matches(rx, 3.0)


def test_one_of_separated_by_a_property_or_by_items() -> None:
    """Overlapping oneOf branches made exclusive by a sound restriction: require a property whose
    value (or presence) the other branch rejects; keep arrays non-empty when their items are disjoint."""
    cases = [
        ({"oneOf": [{"type": "object", "properties": {"type": {"enum": ["a"]}, "v": {"type": "string"}}},
                    {"type": "object", "properties": {"type": {"enum": ["b", "c"]}, "v": {"type": ["string", "null"]}}}]},
         [({"type": "a", "v": "x"}, True), ({"type": "b", "v": None}, True), ({"v": "x"}, False), ({}, False)]),
        ({"oneOf": [{"type": "array", "items": {"type": "number"}}, {"type": "array", "items": {"type": "string"}}]},
         [([1, 2], True), (["a"], True), ([], False), ([1, "a"], False)]),
        ({"oneOf": [{"type": "object", "additionalProperties": False, "properties": {"foo": {"type": "string"}}},
                    {"type": "object", "additionalProperties": False, "properties": {"bar": {"type": "string"}}}]},
         [({"foo": "x"}, True), ({"bar": "y"}, True), ({}, False)]),
    ]
    for schema, instances in cases:
        lang = lower(schema)
        v = validator(schema)
        for inst, ok in instances:
            assert matches(lang, inst) == ok, (schema, inst)
            assert v.is_valid(inst) or not ok


def _mask_path_agrees(schema: dict, values: list, vocabulary: Any, tokenizer: Any) -> None:
    """Every value (its keys in schema order) is accepted token by token through the real masks of
    ``vocabulary`` exactly when ``jsonschema`` says it is valid."""
    from guidegen.check import check_tokens

    constraint = JSONSchemaCompiler().compile(schema, vocabulary)
    v = validator(schema)
    for value in values:
        tokens = tokenizer.encode(compact(value), add_special_tokens=False)
        assert check_tokens(constraint, tokens, tokenizer=tokenizer).accepted == v.is_valid(value), (schema, value)


_ONE_OF_PROVEN_DISJOINT = [
    # a branch closed by patterns forbids a name no pattern matches: a branch requiring it is disjoint
    ({"oneOf": [{"type": "object", "properties": {"ios": {"type": "string"}}, "required": ["ios"],
                 "additionalProperties": False},
                {"type": "object", "patternProperties": {"^[0-9]x$": {"type": "string"}}, "additionalProperties": False,
                 "minProperties": 1}]},
     [{}, {"ios": "a"}, {"1x": "a"}, {"ios": "a", "1x": "b"}, {"x": "a"}]),
    # a required discriminator whose anchored literal patterns differ (JSend's status)
    ({"type": "object", "oneOf": [
        {"required": ["status", "data"], "properties": {"status": {"type": "string", "pattern": "^success$"},
                                                       "data": {"type": ["object", "null"]}}},
        {"required": ["status", "data"], "properties": {"status": {"type": "string", "pattern": "^fail$"},
                                                       "data": {"type": ["object", "null"]}}},
        {"required": ["status", "message"], "properties": {"status": {"type": "string", "pattern": "^error$"},
                                                          "message": {"type": "string"}}}]},
     [{}, {"status": "success", "data": None}, {"status": "fail", "data": {}}, {"status": "error", "message": "m"},
      {"status": "error", "data": None}, {"status": "other", "data": None}, {"status": "success", "message": "x"}]),
]


@pytest.mark.parametrize("schema,values", _ONE_OF_PROVEN_DISJOINT)
def test_one_of_branches_proven_disjoint(schema: dict, values: list) -> None:
    lang = lower(schema)
    v = validator(schema)
    for value in values:
        assert matches(lang, value) == v.is_valid(value), value


@pytest.mark.assets
@pytest.mark.parametrize("schema,values", _ONE_OF_PROVEN_DISJOINT)
def test_one_of_branches_proven_disjoint_through_the_masks(schema: dict, values: list, asset_vocabulary,
                                                           asset_tokenizer) -> None:
    _mask_path_agrees(schema, values, asset_vocabulary("smollm2"), asset_tokenizer("smollm2"))

def test_not_and_if_then_else() -> None:
    """``not`` by De Morgan over the negated schema's keywords, each negated on the types it constrains;
    if/then/else through the same negation."""
    cases = [
        ({"type": "string", "not": {"enum": ["a", "b"]}}, ["a", "b", "c", "", "a\"b"]),
        ({"not": {"type": "null"}}, [None, 1, "x", [], {}]),
        ({"type": "object", "properties": {"q": {"type": "integer"}, "e": {"type": "integer"}},
          "not": {"required": ["q", "e"]}, "additionalProperties": False}, [{"q": 1}, {"e": 1}, {"q": 1, "e": 2}, {}]),
        ({"type": "integer", "not": {"minimum": 5}}, [1, 4, 5, 6]),
        ({"type": "object", "properties": {"t": {"type": "string"}},
          "not": {"properties": {"t": {"const": "x"}}, "required": ["t"]}}, [{"t": "x"}, {"t": "y"}, {}]),
        ({"type": "boolean", "not": {"const": True}}, [True, False]),
        ({"type": "string", "not": {"not": {"maxLength": 2}}}, ["ab", "abc"]),
        ({"type": "array", "items": {"type": "integer"}, "not": {"maxItems": 1}}, [[], [1], [1, 2]]),
        ({"not": {"allOf": [{"type": "string"}, {"minLength": 2}]}}, ["a", "ab", 3, None]),
        # if/then/else: (if ∧ then) ∨ (¬if ∧ else)
        ({"type": "object", "properties": {"kind": {"enum": ["a", "b"]}, "x": {"type": "integer"}}, "required": ["kind"],
          "if": {"properties": {"kind": {"const": "a"}}}, "then": {"required": ["x"]},
          "else": {"properties": {"x": {"maximum": 0}}}, "additionalProperties": False},
         [{"kind": "a", "x": 5}, {"kind": "a"}, {"kind": "b"}, {"kind": "b", "x": 5}, {"kind": "b", "x": -1}]),
        ({"type": "string", "if": {"maxLength": 2}, "then": {"enum": ["ab", "x"]}}, ["ab", "x", "y", "abc", ""]),
    ]
    for schema, values in cases:
        lang = lower(schema)
        v = validator(schema)
        for value in values:
            assert matches(lang, value) == v.is_valid(value), (schema, value)


_OBJECTS_ABC = [{}, {"a": 1}, {"b": 1}, {"c": 1}, {"a": 1, "b": 1}, {"a": 1, "c": 1}, {"b": 1, "c": 1},
                {"a": 1, "b": 1, "c": 1}]
_ABC = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}, "c": {"type": "integer"}},
        "additionalProperties": False}
_NOT_ANY_OF_CASES = [
    # not anyOf: every branch fails (De Morgan), each branch negated keyword by keyword
    ({**_ABC, "not": {"anyOf": [{"required": ["a"]}, {"required": ["b"]}]}}, _OBJECTS_ABC),
    ({**_ABC, "not": {"anyOf": [{"required": ["a", "c"]}, {"required": ["b", "c"]}]}}, _OBJECTS_ABC),
    ({"not": {"anyOf": [{"type": "string"}, {"type": "integer", "minimum": 3}, {"type": "object"}]}},
     [1, 2, 3, 4, "s", {}, [], None, 2.5, 3.5, True]),
    ({"type": "string", "not": {"anyOf": [{"pattern": "^a"}, {"pattern": "b$"}, {"maxLength": 1}]}},
     ["", "a", "ab", "cb", "ca", "cc", "acb", "ccc"]),
    ({"type": "string", "not": {"anyOf": [{"not": {"minLength": 2}}, {"not": {"pattern": "^x"}}]}},
     ["", "x", "xy", "yy", "xyz"]),
    # not allOf: some part fails; not oneOf: no branch holds, or two at once
    ({**_ABC, "not": {"allOf": [{"required": ["a"]}, {"required": ["b"]}]}}, _OBJECTS_ABC),
    ({**_ABC, "not": {"oneOf": [{"required": ["a"]}, {"required": ["b"]}]}}, _OBJECTS_ABC),
    ({"type": "string", "not": {"oneOf": [{"pattern": "^a"}, {"pattern": "b$"}]}},
     ["", "a", "ab", "cb", "ca", "cc", "acb", "ccc"]),
    ({"type": "integer", "not": {"oneOf": [{"minimum": 3}, {"maximum": 1}, {"enum": [0, 5]}]}}, list(range(-1, 7))),
]


@pytest.mark.parametrize("schema,values", _NOT_ANY_OF_CASES)
def test_not_of_any_of_one_of_all_of(schema: dict, values: list) -> None:
    lang = lower(schema)
    v = validator(schema)
    for value in values:
        assert matches(lang, value) == v.is_valid(value), (schema, value)


@pytest.mark.assets
def test_not_of_any_of_through_the_masks(asset_vocabulary, asset_tokenizer) -> None:
    # the form real schemas use: at most one of several properties
    schema = {"type": "object", "properties": {"build": {"type": "string"}, "image": {"type": "string"},
                                               "dockerfile": {"type": "string"}},
              "required": ["image"], "not": {"anyOf": [{"required": ["build"]}, {"required": ["dockerfile"]}]}}
    values = [{"image": "x"}, {"build": "b", "image": "x"}, {"image": "x", "dockerfile": "d"},
              {"build": "b", "image": "x", "dockerfile": "d"}, {}]
    _mask_path_agrees(schema, values, asset_vocabulary("smollm2"), asset_tokenizer("smollm2"))
    _mask_path_agrees(_NOT_ANY_OF_CASES[6][0], _OBJECTS_ABC, asset_vocabulary("smollm2"), asset_tokenizer("smollm2"))


_ALL_OF_OBJECT_CASES = [
    # both parts close the object: a name one part declares takes the other's additionalProperties
    ({"allOf": [{"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": False},
                {"properties": {"b": {"type": "string"}}, "additionalProperties": {"type": "integer"}}]},
     [{}, {"a": 1}, {"a": "x"}, {"b": "x"}, {"c": 1}]),
    ({"allOf": [{"type": "object", "properties": {"a": {"type": "integer"}, "b": {}},
                 "additionalProperties": {"type": "integer"}},
                {"properties": {"b": {"type": "integer"}, "c": {"minimum": 3}}, "additionalProperties": {"minimum": 0}}]},
     [{}, {"a": -1}, {"a": 1}, {"b": "x"}, {"b": -1}, {"c": 2}, {"c": 4}, {"d": -1}, {"d": 1}, {"d": "x"},
      {"a": 1, "b": 2, "c": 3, "d": 0}]),
    # a pattern of one part: the other part, which has no pattern, gives its names its additionalProperties
    ({"allOf": [{"type": "object", "properties": {"a": {"type": "integer"}, "xa": {"maxLength": 1}},
                 "patternProperties": {"^x": {"type": "string"}}},
                {"properties": {"yb": {"maxLength": 2}}, "additionalProperties": {"type": "string"}}]},
     [{}, {"a": 1}, {"a": "s"}, {"xa": "ab"}, {"xa": "a"}, {"yb": "abc"}, {"yb": "ab"}, {"yb": 1}, {"xc": 1},
      {"xc": "s"}, {"y": 1}, {"y": "s"}]),
    # patterns of both parts: an undeclared name takes every pattern it matches
    ({"allOf": [{"type": "object", "properties": {"p": {"type": "integer"}, "xa": {}},
                 "patternProperties": {"^x": {"type": "string"}}},
                {"properties": {"q": {"type": "null"}, "xb": {}},
                 "patternProperties": {"^x": {"maxLength": 2}, "^y": {"type": "integer"}}}]},
     [{}, {"p": 1, "q": None}, {"p": "s"}, {"xa": "ab"}, {"xa": "abc"}, {"xa": 1}, {"xb": "a"}, {"xb": "abc"},
      {"xc": "ab"}, {"xc": "abc"}, {"xc": 1}, {"y1": 1}, {"y1": "s"}, {"z": None}]),
]


@pytest.mark.parametrize("schema,values", _ALL_OF_OBJECT_CASES)
def test_all_of_intersects_object_parts(schema: dict, values: list) -> None:
    """A member's value follows, under each part, its properties entry, else its patterns, else
    additionalProperties: merged, each declared name takes what both parts say of it."""
    lang = lower(schema)
    v = validator(schema)
    for value in values:
        assert matches(lang, value) == v.is_valid(value), (schema, value)



_KIND = {"type": "object", "properties": {"kind": {"enum": ["a", "b", "c"]}, "x": {"type": "integer"}, "y": {"type": "string"}},
         "required": ["kind"], "additionalProperties": False}
_ALL_OF_CONDITIONALS = (
    {**_KIND, "allOf": [{"if": {"properties": {"kind": {"const": "a"}}}, "then": {"required": ["x"]}},
                        {"if": {"properties": {"kind": {"const": "b"}}}, "then": {"required": ["y"]},
                         "else": {"properties": {"y": False}}}]},
    [{"kind": "a"}, {"kind": "a", "x": 1}, {"kind": "a", "x": 1, "y": "s"}, {"kind": "b"}, {"kind": "b", "y": "s"},
     {"kind": "b", "x": 1, "y": "s"}, {"kind": "c"}, {"kind": "c", "y": "s"}, {"kind": "c", "x": 2}],
)


def test_all_of_conditionals_nest() -> None:
    """Two allOf parts' if/then/else: the second holds in both branches of the first; past 6 nested
    conditionals (2**6 cases) allOf is unsupported."""
    schema, values = _ALL_OF_CONDITIONALS
    lang = lower(schema)
    v = validator(schema)
    for value in values:
        assert matches(lang, value) == v.is_valid(value), value
    many = {**_KIND, "allOf": [{"if": {"properties": {"x": {"const": i}}}, "then": {"required": ["y"]}} for i in range(7)]}
    with pytest.raises(UnsupportedSchemaError, match="more than 6 if/then/else") as e:
        lower(many)
    assert e.value.keyword == "allOf" and e.value.pointer == "/allOf/6"

@pytest.mark.assets
def test_all_of_object_parts_through_the_masks(asset_vocabulary, asset_tokenizer) -> None:
    vocabulary, tokenizer = asset_vocabulary("smollm2"), asset_tokenizer("smollm2")
    for schema, values in [*_ALL_OF_OBJECT_CASES[:3], _ALL_OF_CONDITIONALS]:
        _mask_path_agrees(schema, values, vocabulary, tokenizer)


def test_refs_and_all_of() -> None:
    schema = {
        "$defs": {"pos": {"type": "integer", "minimum": 1}},
        "definitions": {"name": {"type": "string", "minLength": 1}},
        "type": "object",
        "properties": {"n": {"$ref": "#/$defs/pos"}, "s": {"$ref": "#/definitions/name", "maxLength": 2},
                       "t": {"allOf": [{"$ref": "#/definitions/name"}], "description": "x"}},
        "required": ["n"],
    }
    rx = lower(schema)
    assert matches(rx, {"n": 1, "s": "ab", "t": "x"}) and not matches(rx, {"n": 0})
    assert not matches(rx, {"n": 1, "s": "abc"}) and not matches(rx, {"n": 1, "s": ""})
    rx = lower({"allOf": [{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
                                    {"properties": {"b": {"type": "string"}}, "required": ["b"]}]})
    assert matches(rx, {"a": 1, "b": "x"}) and not matches(rx, {"a": 1})
    with pytest.raises(UnsupportedSchemaError) as e:
        lower({"allOf": [{"type": "object", "patternProperties": {"^a": {"type": "integer"}}, "additionalProperties": False},
                         {"patternProperties": {"^b": {"type": "string"}}}]})
    assert e.value.keyword == "allOf" and e.value.pointer == "/allOf/1" and "'patternProperties'" in str(e.value)


def test_recursive_ref() -> None:
    tree = {"$defs": {"node": {"type": "object", "properties": {"v": {"type": "integer"},
                                                                "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
                               "required": ["v"]}},
            "$ref": "#/$defs/node"}
    g = grammar_of(tree)
    v = validator(tree)
    doc: dict = {"v": 1, "kids": [{"v": 2, "kids": [{"v": 3}]}]}
    assert grammar_matches(g, doc) and v.is_valid(doc)
    assert not grammar_matches(g, {"kids": []}) and not grammar_matches(g, {"v": 1, "kids": [{"kids": []}]})
    deep: dict = {"v": 0}
    for i in range(1, 60):  # no depth cut
        deep = {"v": i, "kids": [deep]}
    assert grammar_matches(g, deep) and v.is_valid(deep)
    # mutual recursion and a reference to the root
    mutual = {"$defs": {"a": {"type": "array", "items": {"$ref": "#/$defs/b"}},
                        "b": {"anyOf": [{"type": "integer"}, {"$ref": "#/$defs/a"}]}},
              "type": "object", "properties": {"x": {"$ref": "#/$defs/a"}, "self": {"$ref": "#"}}}
    g = grammar_of(mutual)
    for doc, ok in [({"x": [1, [2, [[3]]]]}, True), ({"self": {"self": {"x": []}}}, True), ({"x": [[1], "a"]}, False),
                    ({"self": {"x": {}}}, False)]:
        assert grammar_matches(g, doc) == ok == validator(mutual).is_valid(doc), doc
    # a recursive reference with sibling keywords is not exact
    with pytest.raises(UnsupportedSchemaError) as e:
        schema_to_rules({"type": "object", "properties": {"n": {"$ref": "#", "required": ["x"]}}})
    assert e.value.keyword == "$ref" and e.value.pointer == "/properties/n/$ref"
    # a schema whose every value nests forever has no value
    with pytest.raises(SchemaError, match="no finite"):
        JSONSchemaCompiler().compile({"type": "object", "properties": {"n": {"$ref": "#"}}, "required": ["n"]},
                                     _tiny_vocab())


def _tiny_vocab() -> Any:
    from guidegen.vocab import Vocabulary

    return Vocabulary.from_token_bytes([bytes([b]) for b in range(256)] + [None], eos_token_ids=[256])


def test_booleans_and_unconstrained() -> None:
    rx = lower({"type": "object", "properties": {"a": False, "b": {"type": "null"}}})
    assert matches(rx, {"b": None}) and not matches(rx, {"a": None})
    with pytest.raises(SchemaError):
        lower(False)
    with pytest.raises(SchemaError):
        lower({"type": "object", "properties": {"a": False}, "required": ["a"]})
    g = grammar_of(True)
    assert all(grammar_matches(g, v) for v in [None, 1, "s", [1, {"a": []}], {"": {"": [True]}}])
    g = grammar_of({"type": "object", "properties": {"meta": {}}}, extra_properties=False)
    assert grammar_matches(g, {"meta": [{"x": 1}]}) and not grammar_matches(g, {"meta": [{"x": 1}], "y": 1})
    # {} is fine where only scalars can occur
    assert lower({"type": "object", "additionalProperties": {"type": "integer"}, "propertyNames": {}}).match('{"a":1}')
    # required without a schema: any JSON value
    g = grammar_of({"type": "object", "properties": {"a": {"type": "string"}}, "dependentRequired": {"a": ["b"]}})
    assert grammar_matches(g, {"a": "x", "b": [{}]}) and not grammar_matches(g, {"a": "x"})


def test_annotations_and_unknown_keywords_ignored() -> None:
    rx = schema_to_regex({"title": "t", "description": "d", "default": 1, "examples": [1], "$comment": "c",
                          "deprecated": True, "readOnly": True, "writeOnly": False, "x-vendor": {"a": 1},
                          "markdownDescription": "m", "nullable": True, "type": "integer"})
    assert re.fullmatch(rx, "1") and not re.fullmatch(rx, "null")


@pytest.mark.parametrize("schema,keyword,pointer", [
    ({"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string"}, "contains": {"const": "x"},
                                                "maxItems": 5}}}, "contains", "/properties/tags/contains"),
    ({"type": "string", "not": {"format": "date"}}, "not", "/not/format"),
    ({"type": "string", "not": {"pattern": "^(?!x)"}}, "not", "/not/pattern"),
    ({"type": "array", "not": {"enum": [[1], [2]]}}, "not", "/not/enum"),
    ({"type": "object", "additionalProperties": {"type": "integer"}, "dependentRequired": {n: ["z"] for n in "abcde"}},
     "dependentRequired", "/dependentRequired/e"),
    ({"if": {"format": "date"}, "then": {"minLength": 3}, "type": "string"}, "not", "/if/format"),
    ({"items": {"$dynamicRef": "#x"}, "type": "array"}, "$dynamicRef", "/items/$dynamicRef"),
    ({"$ref": "https://example.com/other.json"}, "$ref", "/$ref"),
    ({"type": "string", "not": {"anyOf": [{"maxLength": 3}, {"format": "date"}]}}, "not", "/not/anyOf/1/format"),
    ({"type": "string", "not": {"oneOf": [{"maxLength": 3}, {"format": "date"}]}}, "not", "/not/oneOf/1/format"),
    ({"type": "object", "not": {"anyOf": [{"required": [f"a{i}", f"b{i}"]} for i in range(7)]}}, "not", "/not/anyOf"),
    ({"allOf": [{"type": "object", "patternProperties": {"^a": {"type": "integer"}}, "additionalProperties": False},
                {"patternProperties": {"^b": {"type": "string"}}}]}, "allOf", "/allOf/1"),
])
def test_unsupported_keywords_name_keyword_and_pointer(schema: dict, keyword: str, pointer: str) -> None:
    with pytest.raises(UnsupportedSchemaError) as e:
        schema_to_regex(schema)
    assert e.value.keyword == keyword and e.value.pointer == pointer
    assert keyword in str(e.value) and pointer in str(e.value)
    with pytest.warns(SchemaApproximationWarning) as rec:
        schema_to_rules(schema, lenient=True)
    assert any(keyword in str(w.message) and pointer in str(w.message) for w in rec)


@pytest.mark.parametrize("schema,pointer", [
    ({"type": "object", "properties": {"a": {"type": "string"}}, "required": "a"}, "/required"),
    ({"type": "strin"}, "/type"),
    ({"type": "object", "properties": {"a": {"type": "array", "items": {"minItems": -1}}}}, "/properties/a/items/minItems"),
    ({"type": "object", "properties": {"a": 3}}, "/properties"),
    ({"anyOf": []}, "/anyOf"),
    ({"$ref": "#/$defs/missing"}, "/$ref"),
])
def test_malformed_schema(schema: dict, pointer: str) -> None:
    with pytest.raises(SchemaError) as e:
        schema_to_regex(schema)
    assert pointer in str(e.value)
    assert not isinstance(e.value, UnsupportedSchemaError)


def test_pydantic_is_optional_import() -> None:
    code = "import sys, guidegen.grammar.json_schema as m; m.schema_to_regex({'type': 'integer'}); print('pydantic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "False"


def test_pydantic_models_and_type_hints() -> None:
    pydantic = pytest.importorskip("pydantic")

    class Item(pydantic.BaseModel):
        name: str
        qty: int = pydantic.Field(ge=1, le=99)
        tag: Optional[Literal["a", "b"]] = None

    class Order(pydantic.BaseModel):
        id: int
        items: list[Item] = pydantic.Field(max_length=3)
        price: float = pydantic.Field(ge=0)

    schema = schema_from_python(Order)
    assert schema == Order.model_json_schema()
    rx = lower(schema)
    text = '{"id":7,"items":[{"name":"x","qty":2,"tag":"a"},{"name":"y","qty":99,"tag":null}],"price":12.5}'
    assert rx.match(text)
    order = parse_json_value(text, Order)
    assert isinstance(order, Order) and order.items[1].qty == 99
    assert not rx.match(text.replace('"qty":2', '"qty":0'))
    assert schema_from_python({"type": "null"}) == {"type": "null"}
    assert schema_from_python(list[int]) == {"items": {"type": "integer"}, "type": "array"}
    assert parse_json_value("[1,2]", list[int]) == [1, 2]
    assert parse_json_value('{"a":1}') == {"a": 1}
    with pytest.raises(SchemaError):
        schema_from_python(object())


def test_compiler_builds_a_dfa_constraint() -> None:
    pytest.importorskip("guidegen.automata.regex")
    pytest.importorskip("guidegen.automata.constraint")
    from guidegen.vocab import Vocabulary

    vocab = Vocabulary.from_token_bytes([bytes([b]) for b in range(256)] + [None], [256])
    comp = JSONSchemaCompiler()
    assert comp.kind == "schema"
    c = comp.compile({"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}, vocab)
    st = c.new_state()
    for b in b'{"ok":true}':
        assert st.advance(b), chr(b)
    assert st.is_accepting()
    assert c.parse('{"ok":true}') == {"ok": True}
    st2 = c.new_state()
    assert not st2.advance(ord("["))


# ================================================================================================
# real schemas


def _suite_files() -> list[Path]:
    if SUITE is None or not SUITE.is_dir():
        return []
    return sorted(SUITE.glob("*.json")) + sorted(SUITE.glob("optional/*.json")) + sorted(SUITE.glob("optional/format/*.json"))


def suite_report(whitespace: str = "compact") -> dict[str, Counter]:
    seps = (",", ":") if whitespace == "compact" else (", ", ": ")
    report: dict[str, Counter] = {}
    for f in _suite_files():
        c = Counter()
        for group in json.loads(f.read_text(encoding="utf-8")):
            c["schemas"] += 1
            lang = try_compile(group["schema"], whitespace=whitespace)
            if lang is None:
                continue
            c["compiled"] += 1
            for t in group["tests"]:
                hit = lang.match(serialize(t["data"], group["schema"], seps))
                if hit is None:
                    c["undecided"] += 1
                    continue
                if t["valid"]:
                    c["valid"] += 1
                    c["valid_matched"] += hit
                else:
                    c["invalid"] += 1
                    c["invalid_matched"] += hit
                    if hit:
                        c.setdefault("bad", [])  # type: ignore[call-overload]
                        c["bad"].append((group["description"], t["description"]))  # type: ignore[attr-defined]
        report[str(f.relative_to(SUITE))] = c
    return report


@needs_suite
@pytest.mark.parametrize("whitespace", ["compact", "flexible"])
def test_json_schema_test_suite(whitespace: str) -> None:
    report = suite_report(whitespace)
    bad = {k: c["bad"] for k, c in report.items() if c.get("invalid_matched")}
    assert not bad, "invalid instances matched (under-constraint): %s" % bad
    total = sum((Counter({k: v for k, v in c.items() if k != "bad"}) for c in report.values()), Counter())
    assert not total["undecided"], total
    # coverage floors (see the __main__ report): a drop means a regression
    assert total["compiled"] >= 190, total
    assert total["valid_matched"] >= 270, total
    assert total["invalid"] >= 400, total


def _bench_entries() -> list[dict]:
    if BENCH is None:
        return []
    return [json.loads(line) for line in (BENCH / "index.jsonl").read_text(encoding="utf-8").splitlines() if line]


def _bench_sample(per_subset: int = 25, max_bytes: int = 15000) -> list[dict]:
    by: dict[str, list[dict]] = {}
    for e in _bench_entries():
        if e["bytes"] <= max_bytes and e["n_valid"] + e["n_invalid"] > 0:
            by.setdefault(e["subset"], []).append(e)
    out = []
    for entries in by.values():
        step = max(1, len(entries) // per_subset)
        out += entries[::step][:per_subset]
    return out


def bench_check(entry: dict, whitespace: str = "compact") -> Counter:
    data = json.loads((BENCH / entry["file"]).read_text(encoding="utf-8"))
    c = Counter(files=1)
    lang = try_compile(data["schema"], whitespace=whitespace)
    if lang is None:
        return c
    c["compiled"] += 1
    seps = (",", ":") if whitespace == "compact" else (", ", ": ")
    for t in data["tests"]:
        hit = lang.match(serialize(t["data"], data["schema"], seps))
        if hit is None:
            c["undecided"] += 1
            continue
        key = "valid" if t["valid"] else "invalid"
        c[key] += 1
        c[key + "_matched"] += hit
    return c


@needs_bench
@pytest.mark.parametrize("whitespace", ["compact", "flexible"])
def test_jsonschemabench_sample_never_accepts_invalid(whitespace: str) -> None:
    total = Counter()
    bad = []
    for e in _bench_sample(per_subset=40 if whitespace == "compact" else 15):
        c = bench_check(e, whitespace)
        total += c
        if c["invalid_matched"]:
            bad.append(e["file"])
    assert not bad, "invalid instances matched (under-constraint) in %s" % bad
    assert not total["undecided"], total
    assert total["compiled"] >= 0.6 * total["files"], total
    assert total["valid_matched"] >= 0.85 * total["valid"], total
    assert total["invalid"] >= (300 if whitespace == "compact" else 100), total


# ------------------------------------------------------------------------------------------------
# property test: texts sampled from the regex are valid JSON and valid under the schema

HANDWRITTEN = [
    {"type": "object", "properties": {"a": {"type": "integer", "minimum": -3, "maximum": 250},
                                      "b": {"type": "string", "maxLength": 3},
                                      "c": {"type": "array", "items": {"enum": ["x", 1, None, {"k": [True]}]}, "maxItems": 3},
                                      "d": {"type": "number", "exclusiveMinimum": 0.5, "maximum": 10}},
     "required": ["b"], "additionalProperties": False},
    {"type": "object", "properties": {"kind": {"const": "circle"}, "r": {"type": "number", "minimum": 0}},
     "required": ["kind", "r"]},
    {"oneOf": [{"type": "string", "format": "date"}, {"type": "integer"}, {"type": "null"}]},
    {"type": "string", "pattern": "^[A-Z]{2}-\\d{3,5}(\\.[a-z]+)?$"},
    {"type": "string", "pattern": "\\s\\S[^a-z\\d]"},
    {"type": "array", "prefixItems": [{"type": "string", "format": "uuid"}, {"type": "string", "format": "ipv4"}],
     "items": {"type": "string", "format": "email"}, "maxItems": 4},
    {"type": "object", "additionalProperties": {"type": "string", "format": "date-time"},
     "propertyNames": {"pattern": "^[a-z]{1,4}$"}, "maxProperties": 3},
    {"type": "object", "properties": {"r": {"type": "integer"}, "w": {"type": "integer"}, "h": {"type": "integer"}},
     "oneOf": [{"required": ["r"]}, {"required": ["w", "h"]}]},
    {"type": "string", "format": "time"},
    {"type": "string", "minLength": 1, "maxLength": 4},
    {"type": "string", "pattern": "^[a-z]+-[0-9]+$", "minLength": 4, "maxLength": 6},
    {"type": "string", "not": {"pattern": "^[a-m]"}, "maxLength": 5},
    {"type": "array", "items": {"type": "integer", "multipleOf": 11, "minimum": 100}, "maxItems": 3},
]


@lru_cache(maxsize=1)
def _property_corpus() -> tuple[tuple[Any, Lowered], ...]:
    out: list[tuple[Any, Lowered]] = []
    schemas = list(HANDWRITTEN)
    for f in _suite_files():
        schemas += [group["schema"] for group in json.loads(f.read_text(encoding="utf-8"))]
    for e in _bench_sample(per_subset=4, max_bytes=6000):
        schemas.append(json.loads((BENCH / e["file"]).read_text(encoding="utf-8"))["schema"])  # type: ignore[operator]
    for schema in schemas:
        lang = try_compile(schema)
        if lang is not None and sum(len(r) for r in lang.rules if isinstance(r, str)) < 20000:
            out.append((schema, lang))
    return tuple(out)


def _check_sampled(schema: Any, lang: Lowered, text: str) -> None:
    assert lang.match(text), "sampler produced a text outside the language %r" % text
    value = json.loads(text)
    try:
        v = validator(schema)
    except Exception:  # a schema jsonschema itself cannot load (e.g. ECMA-only regex syntax)
        return
    try:
        errors = list(v.iter_errors(value))
    except re.error:
        return
    assert not errors, "generated %r is invalid under %s: %s" % (text, json.dumps(schema)[:300], errors[0].message)


def test_sampled_texts_are_valid_property() -> None:
    from hypothesis import HealthCheck, assume, given, settings
    from hypothesis import strategies as st

    corpus = _property_corpus()
    assert len(corpus) > 100

    @settings(max_examples=400, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.data())
    def check(data) -> None:
        schema, lang = corpus[data.draw(st.integers(0, len(corpus) - 1), label="schema")]
        try:
            text = lang.sample(lambda lo, hi: data.draw(st.integers(lo, hi)))
        except _TooDeep:
            assume(False)
        _check_sampled(schema, lang, text)

    check()


def test_sampled_texts_are_valid_sweep() -> None:
    """Every schema of the corpus, a few random texts each (complements the Hypothesis test)."""
    import random

    rng = random.Random(1234)
    grammars = 0
    for schema, lang in _property_corpus():
        grammars += lang.rx is None
        for _ in range(3):
            try:
                text = lang.sample(rng.randint)
            except _TooDeep:
                continue
            _check_sampled(schema, lang, text)
    assert grammars > 20


# ================================================================================================
# full coverage report: python tests/test_json_schema.py


def _main() -> None:  # pragma: no cover - a report, not a test
    import time

    t0 = time.time()
    print("JSON-Schema-Test-Suite draft2020-12 (strict, compact)")
    print("%-44s %9s %12s %16s" % ("file", "compiled", "valid ok", "invalid matched"))
    total = Counter()
    for name, c in suite_report().items():
        total += Counter({k: v for k, v in c.items() if k != "bad"})
        print("%-44s %4d/%-4d %5d/%-6d %6d/%-6d" % (name, c["compiled"], c["schemas"], c["valid_matched"], c["valid"],
                                                    c["invalid_matched"], c["invalid"]))
    print("%-44s %4d/%-4d %5d/%-6d %6d/%-6d" % ("TOTAL", total["compiled"], total["schemas"], total["valid_matched"],
                                                total["valid"], total["invalid_matched"], total["invalid"]))
    print("undecided matches (Python re too slow and no DFA):", total["undecided"])
    print()
    print("JSONSchemaBench (strict, compact): all %d files" % len(_bench_entries()))
    by: dict[str, Counter] = {}
    for e in _bench_entries():
        by.setdefault(e["subset"], Counter()).update(bench_check(e))
    print("%-24s %6s %7s %6s %14s %16s" % ("subset", "files", "strict", "%", "valid ok", "invalid matched"))
    total = Counter()
    for k in sorted(by):
        c = by[k]
        total += c
        print("%-24s %6d %7d %6.1f %6d/%-7d %6d/%-7d" % (k, c["files"], c["compiled"], 100 * c["compiled"] / c["files"],
                                                       c["valid_matched"], c["valid"], c["invalid_matched"], c["invalid"]))
    print("%-24s %6d %7d %6.1f %6d/%-7d %6d/%-7d" % ("TOTAL", total["files"], total["compiled"],
                                                   100 * total["compiled"] / total["files"], total["valid_matched"],
                                                   total["valid"], total["invalid_matched"], total["invalid"]))
    print("undecided matches (Python re too slow and no DFA):", total["undecided"])
    print("(%.0f s)" % (time.time() - t0))


if __name__ == "__main__":  # pragma: no cover
    _main()
