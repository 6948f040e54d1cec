"""Lark grammars lowered to pushdown rules (guidegen.grammar.lark) and the grammars in grammars/.

The oracle for what a grammar means is Lark's own Earley parser with the ``dynamic_complete``
lexer: the scannerless reading the lowering implements, where a terminal stands for every string
its pattern matches (the plain ``dynamic`` lexer tries only the first match ``re`` finds, so it
refuses some texts the grammar derives). The lowered rules run in the pushdown engine: its
reference recognizer (``Grammar.matches``) for the language, and the real mask path, token by
token on SmolLM2's and Llama-3's vocabularies, for the shipped grammars.
"""

from __future__ import annotations

import ast
import json
import os
import pickle
import random
import re
import subprocess
import sys
import sysconfig
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from lark import Lark
from lark.exceptions import LarkError
from lark.lexer import PatternStr

import guidegen
from guidegen.automata.pushdown import Grammar, PushdownConstraint
from guidegen.automata.regex import compile_regex
from guidegen.errors import GrammarError
from guidegen.grammar.lark import _without_flags, lark_to_rules, lower_lark

REPO = Path(__file__).resolve().parents[1]
GRAMMARS = REPO / "grammars"
STDLIB = Path(sysconfig.get_paths()["stdlib"])


def _data_dir() -> Path | None:
    for cand in (os.environ.get("GUIDEGEN_SHARED_DATA"), REPO / "shared" / "data", REPO.parent / "shared" / "data"):
        if cand and Path(cand).is_dir():
            return Path(cand)
    return None


DATA = _data_dir()


def lark_parser(text: str, start: str = "start") -> Lark:
    return Lark(text, parser="earley", lexer="dynamic_complete", start=start)


def lark_accepts(parser: Lark, text: str) -> bool:
    try:
        parser.parse(text)
    except LarkError:
        return False
    return True


def python_accepts(text: str) -> bool:
    """CPython's parser: the oracle for the Python grammars (Lark's Earley parser cannot run a
    grammar with _INDENT/_DEDENT without the Indenter, which needs a lexer Earley cannot use here)."""
    try:
        ast.parse(text)
    except SyntaxError:
        return False
    return True


def engine(text: str, start: str = "start", **kwargs) -> Grammar:
    lowered = lower_lark(text, start, **kwargs)
    return Grammar.from_regexes(lowered.rules, lowered.names, implicit_end=lowered.implicit_end)


# --------------------------------------------------------------------------------------------------
# grammar errors name the symbol and the line


@pytest.mark.parametrize(
    "text, expected",
    [
        ('start: "a"\nfoo: ("b"\n', r"line 2, column 10"),
        ('start: a b\na: "x"\n', r"'b' used but not defined \(in rule start\) \(line 1\)"),
        ("start: A\n", r"'A' used but not defined"),
        ('start: A "x"\n%declare A\n', r"%declare A \(line 2\).*post-lexer"),
        ('start: _NL _INDENT "x"\n_NL: /\\n/\n%declare _INDENT\n', r"%declare _INDENT \(line 3\).*need both"),
        ('start: a _INDENT "y" _DEDENT\na: "x"\n%declare _INDENT _DEDENT\n', r"rule 'start' \(line 1\).*_INDENT must come"),
        ('start: "x" _INDENT "y" _DEDENT\n%declare _INDENT _DEDENT\n', r"must match a line break and the indentation"),
        ('start: "(" a ")"\na: _NL _INDENT "x" _DEDENT\n_NL: /\\n[ ]*/\n%declare _INDENT _DEDENT\n',
         r"rule 'start' \(line 1\).*'a' holds line breaks, and is used inside brackets"),
        ('start: _NL _INDENT "x"\n_NL: /\\n[ ]*/\n%declare _INDENT _DEDENT\n',
         r"rule 'start' \(line 1\).*opens a block or a bracket that it does not close"),
        ('start: _NL _INDENT "x" _DEDENT\n_NL: /\\n/\n%declare _INDENT _DEDENT\n',
         r"terminal _NL \(line 2\) must match a line break and the indentation after it"),
        ('start: A\nA: /a(?=b)/\n', r"terminal 'A' \(line 2\).*lookahead"),
        ('start: "x"\n    | "y" /a(?!b)/\n', r"terminal '/a\(\?!b\)/' in rule 'start' \(line 1\).*lookahead"),
        ('start: A\nA: /a*/\n', r"terminal 'A' \(line 2\) matches the empty string"),
        ('start: A\nA: /^a/\n', r"terminal 'A' \(line 2\).*anchor"),
        ('start: W\n%ignore W\nW: /x\\b/\n', r"terminal 'W' \(line 3\).*word boundary"),
        ('start: "a" | b\nb: "x" b\n', r"rule 'b' \(line 2\) matches no finite text"),
        ('start: a\na: a "x"\n', r"rules 'start' \(line 1\), 'a' \(line 2\) match no finite text"),
        ('start: "a"~3..2\n', r"rule 'start' \(line 1\): bad range ~ 3\.\.2"),
        ('start: "a"~0\n', r"start rule 'start' \(line 1\) matches only the empty text"),
        ('a: "x"\n', r"start rule 'start' is not defined"),
        ("start: X\n%import nothere.X\n", r"nothere\.lark"),
    ],
)
def test_grammar_errors(text: str, expected: str) -> None:
    with pytest.raises(GrammarError, match=expected):
        lark_to_rules(text)


def test_syntax_error_has_line_and_column() -> None:
    with pytest.raises(GrammarError) as info:
        lark_to_rules('start: "a"\n\nfoo bar\n')
    assert "line 3" in str(info.value) and "column" in str(info.value)


# --------------------------------------------------------------------------------------------------
# the lowering: same language as Lark's, on derived texts and near misses

LOWERING_CASES = {
    "direct left recursion": r"""
        start: sum
        ?sum: sum "+" product | sum "-" product | product
        ?product: product "*" atom -> mul
                | atom
        atom: NUMBER | "(" sum ")" | "-" atom
        NUMBER: /[0-9]/
        %ignore " "
    """,
    "indirect left recursion": r"""
        start: a
        a: b "x" | "q"
        b: c "y" | a a "p"
        c: a "z" | "w" | b "v"
    """,
    "left recursion behind a nullable rule": r"""
        start: a
        a: n a "x" | "y" | a "z"
        n: "m"?
    """,
    "nullable rules": r"""
        start: x "e" x
        x: x "a" | y
        y: "b" y |
    """,
    "templates, repetition, optionals": r"""
        start: _sep{item, ","} ";" item~2..3 ":" [item] ("k"i)~2 item* ("u" | "v")+
        _sep{x, sep}: x (sep x)*
        item: /[ab]/ | "(" start ")"
        %ignore " "
    """,
    "imported terminals": r"""
        start: (NUMBER | ESCAPED_STRING | CNAME)+ ("=" value)?
        value: "[" [value ("," value)*] "]" | SIGNED_NUMBER
        %import common (NUMBER, SIGNED_NUMBER, ESCAPED_STRING, CNAME, WS)
        %ignore WS
    """,
    "flags": r"""
        start: A B C+
        A: /ab/i
        B: "cd"i
        C: /x.y/s
    """,
}

# strings the sampler may use for regex terminals and ignored text: a terminal takes those it matches
POOL = ["0", "7", "42", "3.5", "-2", "1e3", "a", "b", "xy", "abc", "_x1", '"s"', '"a\\"b"', '""', " ", "  ", "\t",
        "\n", "x\ny", "xZy", "AB", "aB"]


def derive(parser: Lark, rng: random.Random) -> str:
    """A random text of the grammar: a random derivation of Lark's own compiled rules, with
    ignored text between some tokens."""
    rules = defaultdict(list)
    for rule in parser.rules:
        rules[rule.origin.name].append(rule.expansion)
    height: dict[str, int] = {}
    changed = True
    while changed:  # least derivation height of each rule, so that deep derivations can stop
        changed = False
        for name, expansions in rules.items():
            for exp in expansions:
                subs = [height.get(s.name) for s in exp if not s.is_term]
                if None not in subs:
                    h = 1 + max(subs, default=0)
                    if h < height.get(name, 1 << 30):
                        height[name], changed = h, True

    def terminal(name: str) -> str:
        pattern = parser.get_terminal(name).pattern
        if isinstance(pattern, PatternStr):
            value = pattern.value
            return "".join(rng.choice([c.lower(), c.upper()]) for c in value) if "i" in pattern.flags else value
        fits = [p for p in POOL if re.fullmatch(pattern.to_regexp(), p)]
        assert fits, f"no sample in POOL for terminal {name} {pattern.to_regexp()!r}"
        return rng.choice(fits)

    ignored = [p for p in POOL if any(re.fullmatch(parser.get_terminal(n).pattern.to_regexp(), p)
                                      for n in parser.ignore_tokens)]
    tokens: list[str] = []

    def expand(name: str, depth: int) -> None:
        options = rules[name]
        if depth > 4:
            least = min(max((height[s.name] for s in e if not s.is_term), default=0) for e in options)
            options = [e for e in options if max((height[s.name] for s in e if not s.is_term), default=0) == least]
        for sym in rng.choice(options):
            if sym.is_term:
                tokens.append(terminal(sym.name))
            else:
                expand(sym.name, depth + 1)

    expand(parser.options.start[0], 0)
    out = rng.choice(ignored) if ignored and rng.random() < 0.2 else ""
    for t in tokens:
        out += t + (rng.choice(ignored) if ignored and rng.random() < 0.3 else "")
    return out


def mutate(text: str, rng: random.Random, alphabet: str) -> str:
    i = rng.randrange(len(text) + 1)
    op = rng.randrange(3)
    if op == 0 and text:
        i = min(i, len(text) - 1)
        return text[:i] + text[i + 1:]
    if op == 1 and len(text) > 1:
        i = min(i, len(text) - 2)
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    return text[:i] + rng.choice(alphabet) + text[i:]


@pytest.mark.parametrize("case", list(LOWERING_CASES))
def test_lowering_agrees_with_lark(case: str) -> None:
    text = LOWERING_CASES[case]
    parser = lark_parser(text)
    grammar = engine(text)
    rng = random.Random(case)
    positives = [derive(parser, rng) for _ in range(60)]
    alphabet = "".join(sorted(set("".join(positives))))
    negatives = [mutate(rng.choice(positives), rng, alphabet) for _ in range(120)]
    for s in positives:
        assert lark_accepts(parser, s), s  # the sampler derives texts of the grammar
    wrong = [(s, grammar.matches(s)) for s in positives + negatives if grammar.matches(s) != lark_accepts(parser, s)]
    assert not wrong, wrong[:5]  # (text, what the lowered rules said)
    assert sum(not lark_accepts(parser, s) for s in negatives) > 20  # the near misses do include misses


# --------------------------------------------------------------------------------------------------
# the shape of the rules


def test_ignore_stands_once_between_tokens_and_around_the_text() -> None:
    assert lark_to_rules('start: "a" "b"? "c"\n%ignore " "') == [r"\ *a(?:\ *b)?\ *c\ *"]
    assert lark_to_rules('start: "a" ("," "a")*\n%ignore " "') == [r"\ *a(?:\ *,\ *a)*\ *"]
    assert lark_to_rules('start: x x\nx: "a"?\n%ignore " "') == [r"\ *(?:(?:a(?:\ *a)?|a)\ *)?"]


def test_rules_outside_cycles_are_inlined() -> None:
    rules = lark_to_rules('start: pair ("," pair)*\npair: KEY "=" value\nvalue: /[0-9]+/ | "true"\nKEY: /[a-z]+/')
    assert len(rules) == 1 and not re.search("[\ud800-\udfff]", rules[0])


def test_calls_only_where_text_nests() -> None:
    lowered = lower_lark((GRAMMARS / "json.lark").read_text())
    assert set(lowered.names[1:]) <= {"object", "array", "member", "value"}
    assert len(lowered.names) <= 3  # the whole text, and what nests: objects and arrays
    arithmetic = lower_lark((GRAMMARS / "arithmetic.lark").read_text())
    assert set(arithmetic.names[1:]) <= {"sum", "product", "factor", "power", "atom"}


def test_left_recursion_becomes_repetition() -> None:
    rules = lark_to_rules('start: list\nlist: list "," ITEM | ITEM\nITEM: "x"')
    assert rules == ["x(?:,x)*"]
    # indirect: a -> b -> a, rewritten by substitution, with no call left
    rules = lark_to_rules('start: a\na: b "x" | "q"\nb: a "y"')
    assert len(rules) == 1 and re.fullmatch(rules[0], "qyxyx") and not re.fullmatch(rules[0], "qyxy")


def test_line_comments_run_to_their_line_break() -> None:
    common = '%import common (WS, SH_COMMENT)\n%ignore WS\n%ignore SH_COMMENT\n'
    grammar = engine('start: "a" "b"\n' + common)
    assert grammar.matches("a # c\nb") and grammar.matches("a b # c") and grammar.matches("# c\na b\n")
    assert not grammar.matches("a # c b")
    # where a line break is a token, a comment may stop anywhere (Lark's reading): before the break, for one
    lines = engine('start: "a" _NL "b"\n_NL: /\\n/\n%ignore " "\n%ignore /#[^\\n]*/\n')
    assert lines.matches("a # c\nb") and lines.matches("a\n# c b")


def test_escaped_string_from_common_is_exact() -> None:
    grammar = engine("start: ESCAPED_STRING\n%import common.ESCAPED_STRING")
    for ok in ['""', '"abc"', r'"a\"b"', r'"a\\"', r'"\\\\"']:
        assert grammar.matches(ok), ok
    for bad in ['"a"b"', r'"a\\\"', '"a\nb"', '"']:
        assert not grammar.matches(bad), bad


def test_long_string_with_lookbehind_reads_as_lark_lexes_it() -> None:
    """python.lark's LONG_STRING: a triple closing quote, and DOTALL (line breaks inside)."""
    grammar = engine('start: LONG\nLONG: /(""".*?(?<!\\\\)(\\\\\\\\)*?""")/s\n')
    for ok in ['""""""', '"""a\nb"""', '"""a"b""c"""', '"""a\\""""', '"""\\\\"""']:
        assert grammar.matches(ok), ok
    for bad in ['"""a""""', '"""a"""b"""', '"""a\\"""', '"""a""']:
        assert not grammar.matches(bad), bad


@pytest.mark.parametrize("flagged", [
    "(?i:select)", "(?i:k|s|i|\u00df)", "(?s:a.b)", "(?i:[^a-z])+", "(?x: a b # c\n)", "(?i:[\\w]+?)",
    "(?i:\\d{2,5}x?)", "(?i)\u01c5", "(?ia:k)", "(?i:[^\\W\\d])+", "(?i:a(?-i:b)c)", "(?i:[$0-9_a-z]+)",
    "(?ia:[$0-9_a-z]+)", "(?i:[A-Z\u00b5]|[^a-jx])",
])
def test_terminals_with_flags_lower_to_the_same_automaton(flagged: str) -> None:
    """Flags are spelled out (the compiler's fast parser reads no flags), the language unchanged."""
    plain = _without_flags(flagged)
    assert plain is not None and not re.search(r"\(\?[a-zA-Z]", plain)
    a, b = compile_regex(flagged), compile_regex(plain)
    assert np.array_equal(a.transitions, b.transitions) and np.array_equal(a.accepting, b.accepting)


def test_relative_import_next_to_source(tmp_path: Path) -> None:
    (tmp_path / "words.lark").write_text('word: /[a-z]+/\n')
    main = tmp_path / "main.lark"
    main.write_text('start: word ("," word)*\n%import .words.word\n')
    grammar = engine(main.read_text(), source=main)
    assert grammar.matches("ab,c") and not grammar.matches("ab,")


def test_lowering_is_deterministic() -> None:
    """Same grammar, same rules, whatever the hash seed (compiled constraints are cached by them)."""
    code = ("import hashlib, sys; from guidegen.grammar.lark import lark_to_rules; "
            "rules = lark_to_rules(open(sys.argv[1]).read()); "
            "print(hashlib.sha256(repr(rules).encode('utf-8', 'surrogatepass')).hexdigest())")
    outs = {subprocess.run([sys.executable, "-c", code, str(GRAMMARS / "sql.lark")], capture_output=True, text=True,
                           check=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(outs) == 1


def test_names_and_start() -> None:
    lowered = lower_lark('top: "(" top ")" | "x"', start="top")
    assert lowered.names == ["top", "top"]  # the whole text, then the rule it calls
    assert Grammar.from_regexes(lowered.rules).matches("((x))")


# --------------------------------------------------------------------------------------------------
# blocks by indentation (%declare _INDENT _DEDENT, as Lark's Indenter reads them)

INDENTED = r"""
start: (_NEWLINE | stmt)*
stmt: simple _NEWLINE | compound
simple: NAME "=" expr | "pass"
compound: "if" expr ":" suite ("else" ":" suite)?
        | "while" expr ":" _NEWLINE _INDENT stmt+ _DEDENT  // no copy at the deepest level: no error
suite: simple _NEWLINE | _NEWLINE _INDENT stmt+ _DEDENT
expr: NAME | "(" expr ("," expr)* ")"
NAME: /[a-z]+/
_NEWLINE: ( /\r?\n[\t ]*/ | COMMENT )+
COMMENT: /#[^\n]*/
%ignore /[\t \f]+/
%ignore COMMENT
%declare _INDENT _DEDENT
"""


@pytest.fixture(scope="module")
def indented() -> Grammar:
    return engine(INDENTED)


@pytest.mark.parametrize("text, accepted", [
    ("a = b\n", True),
    ("if a:\n    b = c\nelse:\n    pass\n", True),
    ("if a:\n    if b:\n        c = d\n    e = f\nx = y\n", True),  # two blocks close at once
    ("if a:\n    b = c\n\n    # a comment line\n        \n    e = f\n", True),  # blank lines are free
    ("a = (b,\n  c)\n", True),  # inside brackets a line break is ignored
    ("a = b  # comment\n", True),
    ("if a: pass\n", True),
    ("while a:\n    if b:\n        pass\n", True),
    ("a = b\n    ", True),
    ("a = b", True),  # the end of the text ends the last line too, as in Python
    ("if a:\n    if b:\n        c = d", True),
    ("if a:", False),
    ("a = (b,", False),
    ("if a:\n  b = c\n", False),  # four spaces per level
    ("if a:\n     b = c\n", False),
    ("  a = b\n", False),  # no indentation before the first line
    ("if a:\nb = c\n", False),  # a block must be indented
    ("if a:\n    b = c\n  e = f\n", False),  # dedent to no enclosing block's level
    ("if a:\n    b = c\n        e = f\n", False),  # indent without a block opening
    ("a = # comment\n b\n", False),  # a comment runs to its line break
    ("a = b c = d\n", False),
])
def test_indentation_blocks(text: str, accepted: bool, indented: Grammar) -> None:
    assert indented.matches(text) is accepted
    # the grammar is a tiny Python, indented by four spaces a level (Python takes any consistent amount)
    assert python_accepts(text) is accepted or text in ("if a:\n  b = c\n", "if a:\n     b = c\n")


def test_implicit_final_line_break_survives_pickling(indented: Grammar) -> None:
    again = pickle.loads(pickle.dumps(indented))
    assert again.matches("if a:\n    b = c") and not again.matches("if a:")


def test_indentation_depth_is_bounded(indented: Grammar) -> None:
    nested = "".join(f"{'    ' * d}if a:\n" for d in range(16)) + "    " * 16 + "pass\n"
    assert indented.matches(nested)
    deeper = "".join(f"{'    ' * d}if a:\n" for d in range(17)) + "    " * 17 + "pass\n"
    assert not indented.matches(deeper)
    assert indented.matches(deeper.replace("    " * 16 + "if a:\n" + "    " * 17, "    " * 16 + "if a: "))


# --------------------------------------------------------------------------------------------------
# Lark's and SynCode's grammars


EXTERNAL = {
    # file: (start, None if it lowers, else what the error says)
    # blocks by indentation are read; what stops these is the lookahead in their string terminal
    "lark/grammars/python.lark": ("file_input", r"terminal 'STRING' \(line 284\).*lookahead"),
    "lark/examples/advanced/python2.lark": ("file_input", r"terminal 'STRING' \(line 152\).*lookahead"),
    "syncode/grammars/python_grammar.lark": ("start", r"terminal 'STRING' \(line 175\).*lookahead"),
    "lark/grammars/lark.lark": ("start", "terminal 'OP'.*lookahead"),
    "lark/examples/grammars/verilog.lark": ("start", "MULTILINE_COMMENT.*lookahead"),
    "lark/examples/composition/json.lark": ("start", None),
    "lark/examples/composition/storage.lark": ("start", None),
    "lark/examples/composition/csv.lark": ("start", None),
    "syncode/grammars/json_grammar.lark": ("start", None),
    "syncode/grammars/sql_grammar.lark": ("start", None),
    "syncode/grammars/calc_grammar.lark": ("start", None),
    "syncode/grammars/c_grammar.lark": ("start", None),
    "syncode/grammars/go_grammar.lark": ("start", None),
    "syncode/grammars/prover9_grammar.lark": ("start", None),
}


@pytest.mark.skipif(DATA is None, reason="shared data (Lark and SynCode grammars) not found")
@pytest.mark.parametrize("path", list(EXTERNAL))
def test_external_grammars(path: str) -> None:
    start, error = EXTERNAL[path]
    file = DATA / path
    if error is None:
        lowered = lower_lark(file.read_text(), start, source=file)
        Grammar.from_regexes(lowered.rules, lowered.names)
    else:
        with pytest.raises(GrammarError, match=error):
            lark_to_rules(file.read_text(), start, source=file)


# --------------------------------------------------------------------------------------------------
# the shipped grammars: real inputs accepted, broken ones refused, as Lark says

SQL_QUERIES = [
    "SELECT 1",
    "select name from singer where age > 20 order by age desc limit 3;",
    "SELECT COUNT(*) FROM head WHERE age > 56",
    "SELECT T1.name, T2.title FROM artist AS T1 JOIN song AS T2 ON T1.id = T2.artist_id WHERE T2.rating >= 9",
    "SELECT country, avg(age), min(age), max(age) FROM singer GROUP BY country HAVING count(*) > 1",
    "SELECT name FROM stadium WHERE stadium_id NOT IN (SELECT stadium_id FROM concert WHERE year = 2014)",
    "SELECT DISTINCT T1.name FROM student AS T1, has_pet AS T2 WHERE T1.stuid = T2.stuid "
    "INTERSECT SELECT T1.name FROM student AS T1 JOIN has_pet AS T2 ON T1.stuid = T2.stuid",
    "SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty, sum(l_extendedprice * (1 - l_discount)) "
    "AS sum_disc_price FROM lineitem WHERE l_shipdate <= DATE '1998-12-01' - INTERVAL '90' DAY "
    "GROUP BY l_returnflag, l_linestatus ORDER BY l_returnflag, l_linestatus",
    """WITH recent AS (SELECT * FROM orders WHERE placed_at >= DATE '2024-01-01')
SELECT c.name, COUNT(*) AS n, SUM(o.total) AS spent -- per customer
FROM customers AS c LEFT OUTER JOIN recent o ON o.customer_id = c.id
WHERE c.country IN ('FR', 'DE') AND NOT c.banned /* active only */
GROUP BY c.name HAVING COUNT(*) > 2
ORDER BY spent DESC NULLS LAST
LIMIT 10 OFFSET 20;""",
    "SELECT CASE WHEN a > 0 THEN 'pos' WHEN a < 0 THEN 'neg' ELSE 'zero' END AS sign, CAST(b AS VARCHAR(10)), "
    "x::int FROM t WHERE name LIKE 'A%' AND c IS NOT NULL AND d BETWEEN 1 AND 10",
    "SELECT dept, salary, rank() OVER (PARTITION BY dept ORDER BY salary DESC) AS r, "
    "sum(salary) OVER (ORDER BY hired ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) FROM emp",
    "SELECT * FROM a CROSS JOIN b NATURAL JOIN c FULL JOIN d USING (id) WHERE EXISTS (SELECT 1 FROM e WHERE e.x = a.x)",
    "SELECT \"weird name\", `other` FROM \"My Table\" WHERE x = ? AND y = $1 AND z = :z",
    "(SELECT a FROM t1 UNION SELECT a FROM t2) EXCEPT ALL SELECT a FROM t3 ORDER BY a",
    "SELECT a FROM t WHERE b = ANY (SELECT b FROM u) OR c IS DISTINCT FROM d",
]
SQL_BROKEN = ["SELECT FROM t", "SELECT a FROM", "SELECT a b c FROM t", "SELECT a FROM t WHERE", "SELECT (1",
              "SELECT a FROM t ORDER a", "SELECT a,, b FROM t", "SELECT 'abc FROM t", "UPDATE t SET a = 1"]

PYTHON_SNIPPETS = [
    "x = 1\n",
    'import os\nfrom . import a as b, c\n\ndef f(a, b=2, *args, c: int = 3, **kw) -> "str":\n'
    '    """Doc\n    string."""\n    if a and not b:\n        return [i ** 2 for i in range(10) if i % 2]\n',
    "class A(B, metaclass=M):\n    @property\n    def x(self): return self._x  # comment\n",
    "try:\n    pass\nexcept (A, B) as e:\n    del x[0], y.z\nfinally:\n    x += 1; y = z = w\n",
    'print(x if y else z, *a, **b, sep="")\nt = 1, 2\na[1:2, ::3] = b\nwhile (n := n - 1) > 0: pass\n',
    "async def g(self):\n    async with a as b, c:\n        await b\n    yield from c\n",
    "d = {k: v for k, v in items if v}\ns = {1, 2}\nl = lambda y, *, z=1: (y, z)\n",
]
PYTHON_SNIPPETS += [
    "if a:\n    b = (1,\n  2)\n    c = 3\nelif b:\n    pass\nelse:\n    x = [\n1]\n",
    "for i in x:\n    if i:\n        continue\n    break\nelse:\n    pass\n",
    "@dec\n@dec2(1)\nclass A:\n    x: int = 1\n\n    # c\n    def f(self):\n        pass\n",
    "x = 1 \\\n  + 2\n",
    "match p:\n    case Point(x=0, y=y) | [1, *rest] if y:\n        pass\n    case {'k': -1 + 2j, **kw}:\n"
    "        pass\n    case (a, b) as t:\n        pass\n    case x.y, _:\n        pass\n",
    "match = 1\nmatch(x)\ncase = [match]\n",  # soft keywords are names too
]
PYTHON_BROKEN = ["x = = 1\n", "def f(:\n", "x = (1,\n", "return return\n", "x = 1 y = 2\n", "s = 'abc\n",
                 "if = 3\n", "def class(): pass\n",
                 # blocks
                 "  x = 1\n", "if a:\nb = 1\n", "if a:\n    b = 1\n  c = 2\n",
                 "def f():\n    return 1\n        x = 2\n", "else:\n    pass\n", "x = (1 +\n2\n",
                 "x = 1 +\n2\n", "class A:\n", "match x:\ncase 1:\n    pass\n", "match *a:\n    case 1:\n        pass\n"]
# stdlib modules the grammar reads (any CPython has them); checked through the engine only, as
# Earley parsing them takes Lark seconds each
STDLIB_MODULES = ["bisect.py", "colorsys.py", "keyword.py", "stat.py", "abc.py", "fnmatch.py", "glob.py",
                  "shlex.py", "textwrap.py", "heapq.py", "sched.py", "this.py", "copy.py", "queue.py"]

SHIPPED = {
    "json": (
        ['{"a": [1, 2.5e3, -0, true, null, {"b": "c\\n\\u00e9"}], "d": {}}', "[]", '"x"', " 1 ", "-1.5E-7",
         '[[], [[]], {"": ""}]'],
        ['{"a":1,}', "[01]", '{"a" 1}', '"\\x"', "[1,,2]", "nul", "+1", '{"a":1}}', "'s'"],
    ),
    "tool_call": (
        ['<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}\n</tool_call>',
         '<tool_call>{"arguments": {}, "name": "f"}</tool_call>\n'
         '<tool_call>{"name":"g.h","arguments":{"x":[1,{"y":null}]}}</tool_call>'],
        ['<tool_call>{"name": "f"}</tool_call>', '<tool_call>{"name": "f", "arguments": []}</tool_call>',
         '{"name": "f", "arguments": {}}', '<tool_call>{"name": "1f", "arguments": {}}</tool_call>',
         '<tool_call>{"name": "f", "arguments": {}, "x": 1}</tool_call>'],
    ),
    "arithmetic": (
        ["1+2", "2 * (x + 3.5e-2) ^ 2 - max(a, -b) / 4", "-(-x)^-2^3", "f()", "a % b % c", ".5", "5.",
         "sin(x)^2 + cos(x)^2"],
        ["1 +", "(1", "1 2", "max(,)", "2 ** 3", "f(1,)", "x y"],
    ),
    "csv": (
        ["a,b,c\n1,2,3\n", 'name,"quote ""x"", y",z\r\n,,\n"multi\nline",2', "a", ",",
         "id,name,price\n1,Widget,9.99\n2,\"Gadget, large\",19.5\n3,,0\n"],
        ['a,"b\n', "a\n\nb", 'a,b"c', '"a"b', "\n"],
    ),
    "sql": (SQL_QUERIES, SQL_BROKEN),
    "python": (PYTHON_SNIPPETS, PYTHON_BROKEN),
}


@pytest.fixture(scope="module")
def shipped() -> dict[str, Grammar]:
    return {name: engine((GRAMMARS / f"{name}.lark").read_text()) for name in SHIPPED}


@pytest.mark.parametrize("name", list(SHIPPED))
def test_shipped_grammar_inputs(name: str, shipped: dict[str, Grammar]) -> None:
    good, bad = SHIPPED[name]
    if name == "python":
        oracle = python_accepts
    else:
        parser = lark_parser((GRAMMARS / f"{name}.lark").read_text())
        oracle = lambda text: lark_accepts(parser, text)  # noqa: E731
    for text in good:
        assert oracle(text), text
        assert shipped[name].matches(text), text
    for text in bad:
        assert not oracle(text), text
        assert not shipped[name].matches(text), text


def test_python_grammar_indents_by_four_spaces(shipped: dict[str, Grammar]) -> None:
    """Valid Python the grammar refuses by design: it reads (and so generates) four spaces a level."""
    for text in ["if a:\n  b = 1\n", "if a:\n\tb = 1\n", "if a:\n        b = 1\n"]:
        assert python_accepts(text) and not shipped["python"].matches(text), text


def test_python_grammar_reads_stdlib_modules(shipped: dict[str, Grammar]) -> None:
    for module in STDLIB_MODULES:
        assert shipped["python"].matches((STDLIB / module).read_text()), module


def bfcl_tool_calls(limit: int) -> list[str]:
    """BFCL ground-truth calls (first allowed value of each argument) as tool-call envelopes."""
    out = []
    for file in ("BFCL_v4_simple_python.json", "BFCL_v4_parallel.json", "BFCL_v4_multiple.json"):
        path = DATA / "bfcl" / "data" / "possible_answer" / file
        for line in path.read_text().splitlines()[:limit]:
            calls = json.loads(line)["ground_truth"]
            text = ""
            for call in calls:
                (name, params), = call.items()
                args = {k: v[0] for k, v in params.items() if v and v[0] != ""}
                text += "<tool_call>\n" + json.dumps({"name": name, "arguments": args}) + "\n</tool_call>\n"
            out.append(text)
    return out


@pytest.mark.skipif(DATA is None, reason="shared data (BFCL, JSON-Schema-Test-Suite) not found")
def test_real_json_and_tool_calls(shipped: dict[str, Grammar]) -> None:
    calls = bfcl_tool_calls(40)
    assert len(calls) >= 100
    for text in calls:
        assert shipped["tool_call"].matches(text), text
    suite = sorted((DATA / "json-schema-test-suite" / "tests" / "draft2020-12").glob("*.json"))
    assert len(suite) > 30
    for file in suite:
        assert shipped["json"].matches(file.read_text()), file.name


# --------------------------------------------------------------------------------------------------
# end to end: token by token through the real mask path (SmolLM2's and Llama-3's vocabularies)


@pytest.mark.assets
@pytest.mark.parametrize("vocab_name", ["smollm2", "llama3"])
def test_shipped_grammars_token_by_token(vocab_name: str, asset_tokenizer, asset_vocabulary,
                                         shipped: dict[str, Grammar]) -> None:
    from guidegen.check import check_tokens

    tokenizer, vocab = asset_tokenizer(vocab_name), asset_vocabulary(vocab_name)
    cases = {name: (good[:3], bad[:2]) for name, (good, bad) in SHIPPED.items()}
    # bisect.py ends inside a block: without its final line break, that end needs the implicit one
    cases["python"] = ([(STDLIB / "bisect.py").read_text().rstrip("\n"), *PYTHON_SNIPPETS[:2]], PYTHON_BROKEN[:2])
    for name, (good, bad) in cases.items():
        constraint = PushdownConstraint(shipped[name], vocab)
        for text, ok in [(t, True) for t in good] + [(t, False) for t in bad]:
            tokens = tokenizer.encode(text, add_special_tokens=False)
            result = check_tokens(constraint, tokens, name=text[:40], tokenizer=tokenizer)
            assert result.accepted is ok, (name, text, result.error)


# --------------------------------------------------------------------------------------------------
# composition: rules defined by a JSON Schema or a regex (the `grammar` constraint kind)


@pytest.mark.assets
def test_grammar_composes_a_recursive_json_schema_and_a_regex(asset_tokenizer, asset_vocabulary) -> None:
    import guidegen
    from guidegen.check import check_tokens

    tok, vocab = asset_tokenizer("smollm2"), asset_vocabulary("smollm2")
    tree = {"$defs": {"node": {"type": "object", "properties": {"v": {"type": "integer"},
                                                                "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
                               "required": ["v"], "additionalProperties": False}}, "$ref": "#/$defs/node"}
    grammar = 'start: TEXT? "<call>" args "</call>"\nTEXT: /[a-zA-Z ,.]+/\n'
    constraint = guidegen.compile_constraint(vocab, grammar=grammar, schemas={"args": tree}, regexes={})
    deep: dict = {"v": 0}
    for i in range(1, 25):  # recursion through the schema's rule, no depth limit
        deep = {"v": i, "kids": [deep]}
    for text, ok in [('Let me call.<call>{"v":1,"kids":[{"v":2,"kids":[{"v":3}]}]}</call>', True),
                     ("<call>" + json.dumps(deep, separators=(",", ":")) + "</call>", True),
                     ('<call>{"v":"x"}</call>', False), ('<call>{"v":1}', False), ('<call>{"v":1,"w":2}</call>', False)]:
        assert check_tokens(constraint, tok.encode(text, add_special_tokens=False)).accepted == ok, text
    ids = guidegen.compile_constraint(vocab, grammar='start: "id=" ident ("," ident)*', regexes={"ident": "[a-z]{2,4}"})
    for text, ok in [("id=ab,cde", True), ("id=a", False), ("id=abcde", False)]:
        assert check_tokens(ids, tok.encode(text, add_special_tokens=False)).accepted == ok, text
    with pytest.raises(GrammarError, match="not a Lark rule name"):
        guidegen.compile_constraint(vocab, grammar='start: "x"', regexes={"Foo": "a"})
    with pytest.raises(GrammarError, match="both"):
        guidegen.compile_constraint(vocab, grammar='start: x', regexes={"x": "a"}, schemas={"x": {}})


def test_shipped_grammars_are_package_data() -> None:
    names = guidegen.shipped_grammar_names()
    assert names == sorted(p.stem for p in GRAMMARS.glob("*.lark"))
    for name in names:
        assert guidegen.shipped_grammar(name) == (GRAMMARS / f"{name}.lark").read_text(encoding="utf-8")
    with pytest.raises(GrammarError, match="no shipped grammar named 'cobol'; shipped: arithmetic, csv"):
        guidegen.shipped_grammar("cobol")
