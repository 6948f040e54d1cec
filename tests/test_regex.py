"""Regex → byte DFA: agreement with re.fullmatch, errors, minimality, size limits."""

from __future__ import annotations

import pickle
import re
from functools import lru_cache

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from guidegen.automata import regex as regex_module
from guidegen.automata import regex_kernels
from guidegen.automata.dfa import DFA
from guidegen.automata.regex import compile_regex
from guidegen.errors import ConstraintError, RegexError

# characters that stress the UTF-8 expansion and case folding: 1-4 byte encodings, the Kelvin sign
# and long s (which fold to ASCII k and s), sharp s, dotted/dotless i, Greek sigma forms
EXTRA = "aAbZz0159 _-.\n\t\x00\x7fé€中😀\u212a\u017fßẞİıΣσςǅ٣\u00a0\u2028\U0010ffff\ud7ff\ue000"

PATTERNS = [
    r"",
    r"a",
    r"abc",
    r"a*",
    r"a+b?",
    r"(a|b)*abb",
    r"[a-c]{2,4}",
    r"x{3}",
    r"x{2,}",
    r"x{0,3}y",
    r"(?:ab|a)*c?",
    r"[^a]",
    r"[^\n]*",
    r".",
    r".+",
    r"(?s).",
    r"(?s:.)a.",
    r"\d+(\.\d+)?",
    r"\w+",
    r"\W\S\D",
    r"\s*",
    r"[\d\s]+",
    r"[^\w\s]",
    r"é|€|中|😀",
    r"[é-中]+",
    r"[\u0080-\U0010ffff]",
    r"[^\u0000-\u007f]{1,2}",
    r"[😀-🙏]",
    r"-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?",
    r'"([^"\\]|\\.)*"',
    r"(?P<year>\d{4})-(?P<m>\d\d)",
    r"a*?b+?c??d{1,2}?",
    r"(a|)+",
    r"((a*)*b)*",
    r"(?i)straße",
    r"(?i)[a-z]+",
    r"(?i)k",
    r"(?i)[^k]",
    r"(?i)s|σ",
    r"(?i)[ǅ-ǆ]",
    r"(?i:ab)c",
    r"(?i)a(?-i:b)",
    r"(?i)\w",
    r"(?ia)k\w",
    r"(?a)\w+\d\s",
    r"(?x) a  b # comment\n c",
    r"^abc$",
    r"\Aab\Z",
    r"^$",
    r"(^a|^b)c",
    r"a(b$|c$)",
    r"(?m)^a$",
    r"^(?:x|y)*$",
]


_compiled = lru_cache(maxsize=None)(compile_regex)


# hypothesis' from_regex enumerates huge classes slowly; random_text covers these
SLOW_FOR_FROM_REGEX = {r"[\u0080-\U0010ffff]", r"[^\u0000-\u007f]{1,2}"}


def alphabet_of(pattern: str) -> str:
    chars = {c for c in pattern if c not in "\\()[]{}?*+|^$"}
    return "".join(sorted(chars)) + EXTRA


@pytest.mark.parametrize("pattern", PATTERNS)
def test_agrees_with_re_fullmatch(pattern: str) -> None:
    dfa = compile_regex(pattern)
    compiled = re.compile(pattern)
    alphabet = alphabet_of(pattern)

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.text(alphabet=alphabet, max_size=8))
    def random_text(text: str) -> None:
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogate: not valid UTF-8, never generated
            return
        assert dfa.matches(data) == bool(compiled.fullmatch(text)), (pattern, text)

    @settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.from_regex(compiled, fullmatch=True))
    def matching_text(text: str) -> None:
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            return
        assume(compiled.fullmatch(text))
        assert dfa.matches(data), (pattern, text)

    random_text()
    if pattern not in SLOW_FOR_FROM_REGEX:
        matching_text()


@pytest.mark.parametrize("pattern", [r".", r"\w*", r"[^a]+", r"(?s).*", r"[\u0080-\U0010ffff]+"])
@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=8))
def test_only_valid_utf8_is_accepted(pattern: str, data: bytes) -> None:
    dfa = _compiled(pattern)
    if dfa.matches(data):
        text = data.decode("utf-8")  # raises if the DFA accepted invalid UTF-8
        assert re.fullmatch(pattern, text)
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return
        assert not re.fullmatch(pattern, text)


# random regexes ------------------------------------------------------------------------------------

RANDOM_ALPHABET = "ab\u00e9\u4e2d\U0001f600\n"
_atoms = st.sampled_from(
    ["a", "b", "é", "中", "😀", ".", r"\d", r"\w", r"\s", r"\S", "[ab]", "[^a]", "[a-é]", "[^\n中]", "[😀-😂]", "(?i:A)"]
)


def _combine(children):
    quantifiers = st.sampled_from(["*", "+", "?", "{2}", "{0,2}", "{1,3}", "{2,}", "*?", "{1,2}?"])
    return st.one_of(
        st.tuples(children, children).map(lambda t: t[0] + t[1]),
        st.tuples(children, children).map(lambda t: f"(?:{t[0]}|{t[1]})"),
        st.tuples(children, quantifiers).map(lambda t: f"(?:{t[0]}){t[1]}"),
        children.map(lambda c: f"({c})"),
    )


random_regexes = st.recursive(_atoms, _combine, max_leaves=8)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(pattern=random_regexes, texts=st.lists(st.text(alphabet=RANDOM_ALPHABET + "A1 ", max_size=7), max_size=25))
def test_random_regexes_agree_with_re(pattern: str, texts: list[str]) -> None:
    dfa = _compiled(pattern)
    compiled = re.compile(pattern)
    for text in texts:
        assert dfa.matches(text.encode()) == bool(compiled.fullmatch(text)), (pattern, text)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_random_regexes_accept_their_matches(data) -> None:
    pattern = data.draw(random_regexes)
    dfa = compile_regex(pattern)
    text = data.draw(st.from_regex(re.compile(pattern), fullmatch=True))
    try:
        encoded = text.encode()
    except UnicodeEncodeError:
        return
    assert dfa.matches(encoded) == bool(re.fullmatch(pattern, text)), (pattern, text)


# errors ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern, construct, position",
    [
        (r"a(?=b)", "lookahead", 1),
        (r"a(?!b)", "negative lookahead", 1),
        (r"x(?<=a)b", "lookbehind", 1),
        (r"(?<!a)b", "negative lookbehind", 0),
        (r"(a)\1", "backreference", 3),
        (r"(?P<n>a)(?P=n)", "backreference", 8),
        (r"(a)?(?(1)b|c)", "conditional", 4),
        (r"\bfoo", r"\b", 0),
        (r"foo\B", r"\B", 3),
        (r"[\b]a\b", r"\b", 5),
        (r"a^b", "anchor ^", 1),
        (r"a$b", "anchor $", 1),
        (r"a\Zb", r"anchor \Z", 1),
        (r"b\A", r"anchor \A", 1),
        (r"(?:^a)*", "anchor ^", 3),
    ],
)
def test_unsupported_constructs_name_construct_and_position(pattern: str, construct: str, position: int) -> None:
    with pytest.raises(RegexError) as info:
        compile_regex(pattern)
    msg = str(info.value)
    assert construct in msg
    assert f"position {position}" in msg
    assert isinstance(info.value, ConstraintError)


@pytest.mark.skipif(not hasattr(re, "NOFLAG"), reason="atomic groups and possessive quantifiers need Python 3.11")
@pytest.mark.parametrize("pattern, construct", [(r"(?>ab)c", "atomic group"), (r"a*+b", "possessive")])
def test_atomic_and_possessive_rejected(pattern: str, construct: str) -> None:
    with pytest.raises(RegexError, match=construct):
        compile_regex(pattern)


@pytest.mark.parametrize("pattern", ["(", "a)", "[a-", "a{2,1}", "*a", "a**", "(?P<1>a)", r"\p{L}"])
def test_malformed_regex_reports_re_message(pattern: str) -> None:
    with pytest.raises(re.error) as expected:
        re.compile(pattern)
    with pytest.raises(RegexError) as info:
        compile_regex(pattern)
    assert expected.value.msg in str(info.value)
    assert "invalid regex" in str(info.value)
    assert isinstance(info.value.__cause__, re.error)


@pytest.mark.parametrize("pattern", [r"[^\s\S]", r"[\ud800-\udfff]+", r"a[^\w\W]"])
def test_empty_language_is_an_error(pattern: str) -> None:
    with pytest.raises(RegexError, match="matches no valid UTF-8"):
        compile_regex(pattern)


def test_non_str_pattern_rejected() -> None:
    with pytest.raises(RegexError, match="str"):
        compile_regex(b"abc")  # type: ignore[arg-type]


def test_state_limit() -> None:
    # the n-th symbol from the end must be 'a': 2^n DFA states
    with pytest.raises(RegexError, match="more than 1000 automaton states"):
        compile_regex(r"(a|b)*a(a|b){12}", max_states=1000)
    assert compile_regex(r"(a|b)*a(a|b){4}").n_states == 32


def test_huge_repetition_is_refused() -> None:
    with pytest.raises(RegexError, match="too large"):
        compile_regex(r"(?:(?:[a-z]{1000}){1000}){1000}")


# minimality ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern, n_states",
    [
        (r"a*", 1),
        (r"(a|b)*", 1),
        (r"(a|b)*abb", 4),
        (r"[ab]{3}", 4),
        (r"abc|abd", 4),
        (r"a|aa|aaa", 4),
        (r"a{1,200}", 201),
        (r"[a-z]{1,200}", 201),
        (r"(aa)*", 2),
        (r"(a|b)*a(a|b){4}", 32),
        (r"é", 3),
        # start, accept, one/two/three continuation bytes left, and the four lead bytes with a
        # restricted second byte (E0, ED, F0, F4)
        (r".", 9),
        (r"(?s).", 9),
        (r"", 1),
    ],
)
def test_minimal_state_counts(pattern: str, n_states: int) -> None:
    assert compile_regex(pattern).n_states == n_states


def _naive_minimal(dfa: DFA) -> bool:
    """Moore refinement from scratch: every state distinct, reachable, and co-reachable."""
    t = dfa.transitions
    n = dfa.n_states
    full = np.where(t < 0, n, t)
    full = np.vstack([full, np.full((1, 256), n)])
    cls = np.append(dfa.accepting.astype(np.int64), 0)
    while True:
        sig = np.hstack([cls[:, None], cls[full]])
        _, new = np.unique(sig, axis=0, return_inverse=True)
        new = new.reshape(-1)
        if len(np.unique(new)) == len(np.unique(cls)):
            break
        cls = new
    distinct = len(np.unique(cls[:n])) == n and cls[n] not in set(cls[:n].tolist())
    seen = {0}
    stack = [0]
    while stack:
        s = stack.pop()
        for x in set(t[s].tolist()) - {-1}:
            if x not in seen:
                seen.add(x)
                stack.append(x)
    return distinct and len(seen) == n


@pytest.mark.parametrize("pattern", PATTERNS[:40])
def test_result_is_minimal_reachable_and_trimmed(pattern: str) -> None:
    assert _naive_minimal(compile_regex(pattern))


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(pattern=random_regexes)
def test_random_results_are_minimal(pattern: str) -> None:
    assert _naive_minimal(compile_regex(pattern))


@pytest.mark.parametrize(
    "a, b",
    [(r"a+?", r"a+"), (r"(?:a|b)", r"[ab]"), (r"(x)(y)", r"xy"), (r"a{2,3}?", r"aaa?"), (r"(?i)a", r"[aA]"), (r"^ab$", r"ab")],
)
def test_same_language_same_automaton(a: str, b: str) -> None:
    assert compile_regex(a).fingerprint == compile_regex(b).fingerprint


# the kernels against plain references, numbering included ---------------------------------------


def _program(pattern: str) -> tuple:
    cps = np.frombuffer(bytearray(pattern.encode("utf-32-le", "surrogatepass")), dtype=np.int32)
    status, prog, n_ops, pool = regex_kernels.parse_pattern(cps, *regex_module._category_tables("dDsSwW"))
    assume(status == regex_kernels.OK)
    return prog, np.int64(n_ops), pool


def _reference_determinize(n_states, start, accept, e_src, e_lo, e_hi, e_dst, n_e, p_src, p_dst, n_p):
    """Subset construction written plainly: the classes are the intervals between edge boundaries;
    states are numbered as they are found, expanding state by state, class by class."""
    edges: dict[int, list[tuple[int, int, int]]] = {}
    for q in range(n_e):
        edges.setdefault(int(e_src[q]), []).append((int(e_lo[q]), int(e_hi[q]), int(e_dst[q])))
    eps: dict[int, list[int]] = {}
    for q in range(n_p):
        eps.setdefault(int(p_src[q]), []).append(int(p_dst[q]))
    bounds = sorted({0} | {int(b) for b in e_lo[:n_e]} | {int(b) + 1 for b in e_hi[:n_e] if b < 255})
    cls = np.searchsorted(bounds, np.arange(256), side="right").astype(np.int32) - 1

    def closure(d: int) -> tuple[int, ...]:
        seen, todo = {d}, [d]
        while todo:
            for y in eps.get(todo.pop(), ()):
                if y not in seen:
                    seen.add(y)
                    todo.append(y)
        return tuple(sorted(x for x in seen if x in edges or x == accept))

    ids: dict[tuple[int, ...], int] = {}
    sets: list[tuple[int, ...]] = []

    def state(members: tuple[int, ...]) -> int:
        if members and members not in ids:
            ids[members] = len(sets)
            sets.append(members)
        return ids.get(members, -1)

    state(closure(int(start)))
    rows = []
    for members in sets:  # grows while it is read
        rows.append([state(tuple(sorted({x for lo, hi, dst in (e for m in members for e in edges.get(m, ()))
                                              if lo <= bounds[c] <= hi for x in closure(dst)})))
                     for c in range(len(bounds))])
    table = np.array(rows, dtype=np.int32).reshape(len(sets), len(bounds))
    return table, np.array([accept in s for s in sets], dtype=np.bool_), cls, len(bounds)


def _reference_minimize(table: np.ndarray, acc: np.ndarray, cls: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Trim, Moore refinement, then breadth-first numbering over bytes in increasing order (None:
    no text)."""
    full = table[:, cls]
    n = len(acc)
    live = acc.copy()
    while True:
        more = live | ((full >= 0) & live[np.maximum(full, 0)]).any(axis=1)
        if (more == live).all():
            break
        live = more
    if not n or not live[0]:
        return None
    full = np.where((full >= 0) & live[np.maximum(full, 0)], full, -1)
    block = acc.astype(np.int64)
    while True:
        targets = np.where(full >= 0, block[np.maximum(full, 0)], -1)
        _, refined = np.unique(np.column_stack([block, targets]), axis=0, return_inverse=True)
        refined = refined.reshape(-1)
        if len(np.unique(refined)) == len(np.unique(block)):
            break
        block = refined
    new_id = {int(block[0]): 0}
    order = [0]
    for s in order:  # one state of each block, in the order found
        for t in full[s].tolist():
            if t >= 0 and int(block[t]) not in new_id:
                new_id[int(block[t])] = len(order)
                order.append(t)
    out = np.array([[new_id[int(block[t])] if t >= 0 else -1 for t in full[s].tolist()] for s in order], dtype=np.int32)
    return out.reshape(-1, 256), acc[order]


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(pattern=random_regexes)
def test_kernels_equal_the_plain_references(pattern: str) -> None:
    status, *nfa = regex_kernels.build_nfa(*_program(pattern), np.int64(100_000))
    assert status == regex_kernels.OK
    status, table, acc, n, cls, k = regex_kernels.determinize(*nfa, np.int64(100_000))
    assert status == regex_kernels.OK
    ref_table, ref_acc, ref_cls, ref_k = _reference_determinize(*nfa)
    assert k == ref_k and np.array_equal(cls, ref_cls)
    assert np.array_equal(table, ref_table) and np.array_equal(acc, ref_acc)
    _assert_minimize_matches_reference(table, acc, n, k, cls)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**32 - 1))
def test_minimize_equals_the_plain_reference_on_random_tables(seed: int) -> None:
    """Random partial DFAs (every state reachable) over byte classes that are no intervals, as
    products have (numbered by first byte)."""
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, 6))
    n = int(rng.integers(1, 40))
    raw = np.where(rng.random((n, k)) < 0.3, -1, rng.integers(0, n, (n, k))).astype(np.int32)
    order = [0]  # the states reachable from 0, numbered as found
    for s in order:
        order.extend(t for t in dict.fromkeys(raw[s].tolist()) if t >= 0 and t not in order)
    renumber = np.full(n + 1, -1, dtype=np.int32)
    renumber[order] = np.arange(len(order))
    table = renumber[raw[order]]
    acc = rng.random(len(order)) < 0.3
    cls = rng.permutation(np.concatenate([np.arange(k), rng.integers(0, k, 256 - k)]))
    first_byte = np.unique(cls, return_index=True)[1]
    cls = np.argsort(np.argsort(first_byte))[cls].astype(np.int32)  # classes numbered by first byte
    _assert_minimize_matches_reference(table, acc, len(order), k, cls)


def _assert_minimize_matches_reference(table: np.ndarray, acc: np.ndarray, n: int, k: int, cls: np.ndarray) -> None:
    status, out, out_acc = regex_kernels.minimize(table, acc, np.int64(n), np.int64(k), cls)
    expected = _reference_minimize(table, acc, cls)
    if expected is None:
        assert status == regex_kernels.EMPTY_LANGUAGE
    else:
        assert status == regex_kernels.OK
        assert np.array_equal(out, expected[0]) and np.array_equal(out_acc, expected[1])

# DFA object ------------------------------------------------------------------------------------------


def test_dfa_api_and_pickle() -> None:
    dfa = compile_regex(r"ab*c")
    assert dfa.matches(b"abbbc") and dfa.matches("ac") and not dfa.matches(b"ab")
    s = dfa.walk(0, b"ab")
    assert s >= 0 and not dfa.accepting[s]
    assert dfa.walk(s, b"c") >= 0 and dfa.accepting[dfa.walk(s, b"c")]
    assert dfa.walk(0, b"x") == -1 and dfa.walk(-1, b"") == -1
    assert dfa.transitions.dtype == np.int32 and dfa.transitions.shape == (dfa.n_states, 256)
    assert dfa.accepting.dtype == np.bool_
    assert not dfa.transitions.flags.writeable
    assert list(dfa.live_bytes(0)) == [ord("a")]
    again = pickle.loads(pickle.dumps(dfa))
    assert again.fingerprint == dfa.fingerprint == compile_regex(r"ab*c").fingerprint
    assert np.array_equal(again.transitions, dfa.transitions)
    assert compile_regex(r"ab*d").fingerprint != dfa.fingerprint


def test_dfa_validates_arrays() -> None:
    with pytest.raises(ValueError):
        DFA(np.zeros((2, 10), np.int32), np.zeros(2, bool))
    with pytest.raises(ValueError):
        DFA(np.full((2, 256), 5, np.int32), np.zeros(2, bool))
    with pytest.raises(ValueError):
        DFA(np.full((2, 256), -1, np.int32), np.zeros(3, bool))


def test_flags_argument() -> None:
    assert compile_regex("abc", re.IGNORECASE).matches(b"AbC")
    assert compile_regex("a.b", re.DOTALL).matches(b"a\nb")
    assert not compile_regex("a.b").matches(b"a\nb")
    assert compile_regex(r"a b  c", re.VERBOSE).matches(b"abc")
    assert not compile_regex(r"\w", re.ASCII).matches("é")


# large bounded repetitions (their compile time is measured in bench/, not here) ---------------------


@pytest.mark.parametrize("pattern", [r"[a-z]{1,200}", r"a{0,1000}", r'[^"]{0,300}'])
def test_bounded_repetition_compiles(pattern: str) -> None:
    dfa = compile_regex(pattern)
    assert dfa.matches(b"") == pattern.startswith(("a{0", '[^"]{0'))


# the two parsing routes and the kernels --------------------------------------------------------------

# (pattern, fingerprint, n_states) computed by the pure-Python compiler this one replaced: the minimal DFA
# is unique up to renumbering and both number states breadth-first, so the tables must be identical
GOLDEN = [
    ('-?(0|[1-9]\\d*)(\\.\\d+)?([eE][+-]?\\d+)?', '1f146e1dfc0b555fe8b621d179826074', 72),
    ('"([^"\\\\]|\\\\.)*"', '3006ccff6432dae3aef7225443466de9', 11),
    ('[^\\u0000-\\u007f]{1,2}', '14bee5f4c03cdec60348af56a8134bc5', 17),
    ('(?i)straße', 'a910100e336ec46ebd800f3dcca7137d', 11),
    ('(?i)[^k]', 'd5d6e66dcb7187ab2dd98fa6b15a56eb', 11),
    ('(?ia)k\\w', 'b6e8f06dc278f46df8f033c715099532', 3),
    ('\\W\\S\\D', '9e4825c1418bf88ce61461d5fddf7aef', 354),
    ('[\\d\\s]+', '5a86e560a0030c66a2d4a086b0023f73', 29),
    ('[😀-🙏]', '129fde7ae3730813d75b8581caed738d', 6),
    ('(a|b)*a(a|b){4}', 'a3ecc1027682154c03fc3aec5e1f6fc5', 32),
    ('[a-z]{1,200}', 'f436e06c9ae236f0c8ffdf9b9c9ed9df', 201),
    ('x{2,}', '659b072b402c206dfcc582152d7ae029', 3),
    ('(?s:.)a.', '6adfc3a0aecf07cabf89e348ba997e9b', 18),
    ('a*?b+?c??d{1,2}?', '753f0f4974e79c5083e2c6573fa5ce4b', 5),
    ('\\w+@\\w+\\.(com|org)', '0a6038b0fb77ec5cb072efb2ffefacd4', 626),
    ('[\\x00-\\x1f\\x7f]+', 'c34b0fe756475310e54ba4f829a9da05', 2),
    ('\\u00e9{0,3}[\\U0001F600-\\U0001F64F]?', 'f1088ddd44311137e6ec97abd0dcfdbb', 12),
    # JSONSchemaBench Github_easy---o10091, lowered by schema_to_regex
    (
        '\\{(?:"paging":\\{(?:"addPageInfo":(?:true|false)(?:,"limit":[1-9][0-9]*)?|"limit":[1-9][0-9]*)?\\})?\\}',
        'cdff9035a2535b46e590d8b563c0d178',
        45,
    ),
    # JSONSchemaBench Github_easy---o10012, lowered by schema_to_regex
    (
        '\\{(?:"id":"(?:[ !#-\\[\\]-}]|\\\\"|\\\\\\\\){30}"(?:,"secret":"(?:[ !#-\\[\\]-}]|\\\\"|\\\\\\\\){30,}")?|"secret":"(?:[ !#-\\[\\]-}]|\\\\"|\\\\\\\\){30,}")?\\}',
        'e0af566e7aa51f0b7f584bcdc47e0c96',
        142,
    ),
    # JSONSchemaBench Github_easy---o12068, lowered by schema_to_regex
    (
        '\\[(?:\\{"category":"(?:[^"\\\\\\x00-\\x1f]|\\\\["\\\\/bfnrt]|\\\\u(?:[0-9a-cA-CeEfF][0-9a-fA-F]{3}|[dD][0-7][0-9a-fA-F]{2})|\\\\u[dD][89abAB][0-9a-fA-F]{2}\\\\u[dD][c-fC-F][0-9a-fA-F]{2})*"\\}(?:,\\{"category":"(?:[^"\\\\\\x00-\\x1f]|\\\\["\\\\/bfnrt]|\\\\u(?:[0-9a-cA-CeEfF][0-9a-fA-F]{3}|[dD][0-7][0-9a-fA-F]{2})|\\\\u[dD][89abAB][0-9a-fA-F]{2}\\\\u[dD][c-fC-F][0-9a-fA-F]{2})*"\\})*)?\\]',
        '4b63df1dfe63431b7f566e3a29517c7d',
        38,
    ),
]


@pytest.mark.parametrize("pattern, fingerprint, n_states", GOLDEN)
def test_golden_fingerprints(pattern: str, fingerprint: str, n_states: int) -> None:
    for fast in (True, False):
        dfa = regex_module._compile(pattern, fast=fast)
        assert (dfa.fingerprint, dfa.n_states) == (fingerprint, n_states), (pattern, fast)


def _outcome(pattern: str, fast: bool) -> str:
    try:
        dfa = regex_module._compile(pattern, fast=fast)
    except RegexError as exc:
        return f"error: {exc}"
    return dfa.fingerprint


def _kernel_parses(pattern: str) -> bool:
    cps = np.frombuffer(bytearray(pattern.encode("utf-32-le", "surrogatepass")), dtype=np.int32)
    status = regex_kernels.parse_pattern(cps, *regex_module._category_tables("dDsSwW"))[0]
    return status == regex_kernels.OK


# syntax corners of the kernel parser; each must give what re's parser gives (an automaton or the
# same error), whether the kernel parses it or hands it over
SYNTAX_CORNERS = [
    "[-a]", "[a-]", "[a\\-z]", "[]a]", "[^]a]", "[a]]", "[\\]]", "[\\[]", "[[a]", "[a--]", "[a&&b]", "[a||b]",
    "[\\d-z]", "[a-\\d]", "[z-a]", "[\\0-\\7]", "[\\08]", "[\\1]", "[\\8]", "[\\b]", "[\\A]", "[\\x41-\\x43]",
    "[\\u00e9-\\u00ff]", "[^\\s\\S]", "[é-中]", "[\\é]", "\\x4", "\\x41", "\\u00e9", "\\U0001F600", "\\U00110000",
    "\\0", "\\07", "\\012", "\\08", "\\1", "\\b", "\\B", "\\A", "\\Z", "\\é", "\\-", "\\p", "\\N{DIGIT ONE}", "\\",
    "a{", "a{}", "a{,}", "a{,3}", "a{2,}", "a{3,1}", "a{2}{3}", "a**", "a*?", "a*+", "a*?+", "a{1,2}?", "{2}", "*a",
    "a|*", "()*", "(?:)*", "(|)", "|", "a||b", "(", ")", "a)", "((a)", "(?P<n>a)", "(?P<n>a)(?P<n>b)", "(?:a|b)+?",
    "^", "$", "^$", "^*", "a^", "$a", "a$|b", "(^a)", "^(a)$", "}", "]", "a}", "\ud800", "a\ud800|b", "a|\ud800", "(?i)\ud800|b", ".", "..*",
    "\\d\\D\\s\\S\\w\\W", "\\\\d", "#", " ", "x{100000001}", "x{99999999999}", "(" * 120 + "a" + ")" * 120,
]


@pytest.mark.parametrize("pattern", SYNTAX_CORNERS + PATTERNS)
def test_kernel_parser_agrees_with_re_parser(pattern: str) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # re's FutureWarnings on possible set operations
        assert _outcome(pattern, True) == _outcome(pattern, False)


@pytest.mark.parametrize("pattern", [golden[0] for golden in GOLDEN if not golden[0].startswith("(?")])
def test_kernel_parser_takes_the_common_syntax(pattern: str) -> None:
    # JSON-Schema lowering's output must not fall back to re's (much slower) parser
    assert _kernel_parses(pattern)


_TOKENS = st.sampled_from(
    ["a", "é", "中", "😀", "[a-c]", "[^a]", "[\\w-]", "[-a]", "[a-]", "[\\]]", "[\\0-\\7]", "[é-中]", "\\x41", "\\u00e9",
     "\\0", "\\d", "\\W", "\\s", "\\.", "\\\\", "\\n", "(?:", "(", ")", ")", "|", "*", "+", "?", "*?", "{2}", "{1,3}",
     "{,2}", "{2,}", "{", "}", ".", "^", "$", "\\b", "(?i)", "\ud800"]
)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_TOKENS, max_size=8).map("".join))
def test_random_token_soup_same_on_both_routes(pattern: str) -> None:
    assert _outcome(pattern, True) == _outcome(pattern, False)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(pattern=random_regexes)
def test_random_regexes_same_on_both_routes(pattern: str) -> None:
    assert _outcome(pattern, True) == _outcome(pattern, False)


def test_stored_unicode_tables_match_a_fresh_scan(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(regex_module, "_tables_path", lambda: tmp_path / "tables.json")
    regex_module._stored_tables.cache_clear()
    try:
        regex_module._store_categories()
        stored = regex_module._stored_tables()
        assert stored
        for category, src in regex_module._CATEGORY_SOURCE.items():
            for ascii_only in (False, True):
                assert stored[f"{src}/{int(ascii_only)}"] == regex_module._scan_category(category, ascii_only)
        assert stored["cased/0"] == regex_module._scan_cased(False)
    finally:
        regex_module._stored_tables.cache_clear()


def test_json_schema_sized_regex_compiles_through_the_kernel_parser() -> None:
    string = r'"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"'
    number = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
    props = [f'"p{i}":' + (string if i % 2 else number) for i in range(40)]
    pattern = r"\{" + props[0] + "".join(f"(?:,{p})?" for p in props[1:]) + r"\}"
    assert _kernel_parses(pattern)
    dfa = compile_regex(pattern)
    assert dfa.matches('{"p0":1,"p1":"x\\u00e9y","p3":"","p38":-0.5e3}')
    assert not dfa.matches('{"p0":1,"p1":2}')
