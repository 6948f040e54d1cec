"""The official JSON-Schema-Test-Suite (draft 2020-12) walked token by token through the real mask path.

Every group of a suite file is compiled once, in strict mode, with the public compiler
(``JSONSchemaCompiler().compile(schema, vocab)``) for the smollm2 vocabulary. Each instance is
serialized compactly with its object keys in schema order (generation emits properties in that order),
tokenized with the vocabulary's own tokenizer and walked by :func:`guidegen.check.check_tokens`: the
mask is filled before every token, the token's bit must be set, ``advance`` must agree, and at the end
end-of-sequence must be allowed exactly when the state accepts.

* an INVALID instance that is accepted is an under-constraint bug: always a failure;
* a VALID instance that is rejected is an over-constraint: a failure unless it is listed in
  :data:`KNOWN_OVER_CONSTRAINTS` with its reason. A listed instance that is now accepted fails too,
  so that the list is pruned when the engine improves;
* a group whose schema raises :class:`~guidegen.errors.UnsupportedSchemaError` is counted (by keyword);
* a group whose schema "accepts no JSON value" (a :class:`~guidegen.errors.SchemaError` at compile
  time) is counted as refused, and is a failure only if the group has a valid instance;
* any other exception (a malformed-schema error on a suite schema, a crash while walking) and any
  internal inconsistency reported by ``check_tokens`` (mask vs ``advance``, mask vs ``is_accepting``)
  is a failure.

``bench/schema_suite.py`` prints the per-keyword table from the same code (:func:`suite_report`).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from test_json_schema import SUITE, serialize

from guidegen.check import check_tokens
from guidegen.errors import SchemaError, UnsupportedSchemaError
from guidegen.grammar.json_schema import JSONSchemaCompiler

pytestmark = pytest.mark.assets

VOCAB = "smollm2"

# Why valid instances are rejected: the deliberate over-constraints of guidegen.grammar.json_schema.
ONLY_DECLARED = ("undeclared properties come only after the declared ones, with one patternProperties entry at most, "
                 "and none under unevaluatedProperties")
EXTRAS_COUNT_ONE = "undeclared properties count as one property towards minProperties (a generated name may repeat)"
PREFIX_CLOSED = "arrays with `prefixItems` and no `items` never grow past the prefix"
CANONICAL_NUMBER = "an integral number is written canonically as an integer (1, never 1.0)"
FORMAT_ASSERTS = "`format` is enforced as an assertion (the suite's default is annotation only)"
LEAP_SECOND = "date-time/time: no leap second (second 60)"
UPPER_T_Z = "date-time/time: upper-case `T` and `Z` only"
EMAIL_DOT_ATOM = "email: dot-atom local part @ host name only (no quoted local part, no address literal)"
IF_ANNOTATIONS = "`if` without then/else is dropped: its annotations do not count as evaluated for unevaluated*"
NO_VOCABULARY = "a custom metaschema's $vocabulary is not read: validation keywords are always enforced"
A_LABELS = "hostname: no `--` in label positions 3-4, so no A-label (xn--...): its Punycode is not regular"
MERGED_ORDER = "keys of properties merged from allOf/oneOf branches: the test's reordering misses generation's order"
DEPENDENTS_FIRST = ("names that only dependencies mention are generated in a fixed order, each after the names it "
                    "requires")



def _known(file: str, group: str, tests: tuple[str, ...] | str, reason: str) -> dict[tuple[str, str, str], str]:
    return {(file, group, t): reason for t in ((tests,) if isinstance(tests, str) else tests)}


def _format_group(fmt: str) -> dict[tuple[str, str, str], str]:
    return _known("format", f"{fmt} format", f"invalid {fmt} string is only an annotation by default", FORMAT_ASSERTS)


# (suite file id, group description, test description) -> why this valid instance is rejected.
# Every entry must still be rejected: a fix makes the test fail until the entry is removed.
KNOWN_OVER_CONSTRAINTS: dict[tuple[str, str, str], str] = {
    **_known("optional/format/hostname", "validation of A-label (punycode) host names", (
        "a valid host name (example.test in Hangul)", "Exceptions that are PVALID, left-to-right chars",
        "Exceptions that are PVALID, right-to-left chars", "MIDDLE DOT with surrounding 'l's",
        "Greek KERAIA followed by Greek", "Hebrew GERESH preceded by Hebrew", "Hebrew GERSHAYIM preceded by Hebrew",
        "KATAKANA MIDDLE DOT with Hiragana", "KATAKANA MIDDLE DOT with Katakana", "KATAKANA MIDDLE DOT with Han",
        "Arabic-Indic digits not mixed with Extended Arabic-Indic digits",
        "Extended Arabic-Indic digits not mixed with Arabic-Indic digits", "ZERO WIDTH JOINER preceded by Virama",
        "ZERO WIDTH NON-JOINER preceded by Virama", "ZERO WIDTH NON-JOINER not preceded by Virama but matches regexp"),
        A_LABELS),
    **_known("unevaluatedProperties", "unevaluatedProperties + ref inside allOf / oneOf",
             ("a and b and x are valid", "a and b and y are valid"), MERGED_ORDER),
    **_known("dependentRequired", "dependencies with escaped characters", "CRLF", DEPENDENTS_FIRST),
    **_known("dependentSchemas", "dependencies with escaped characters", "quoted tab", EXTRAS_COUNT_ONE),
    **_known("const", "const with 0 does not match other zero-like types", "float zero is valid", CANONICAL_NUMBER),
    **_known("const", "const with 1 does not match true", "float one is valid", CANONICAL_NUMBER),
    **_known("const", "float and integers are equal up to 64-bit representation limits", "float is valid",
             CANONICAL_NUMBER),
    **_known("enum", "enum with 0 does not match false", "float zero is valid", CANONICAL_NUMBER),
    **_known("enum", "enum with 1 does not match true", "float one is valid", CANONICAL_NUMBER),
    **_format_group("email"),
    **_format_group("ipv4"),
    **_format_group("date"),
    **_format_group("date-time"),
    **_format_group("time"),
    **_format_group("uuid"),
    **_format_group("duration"),
    **_format_group("hostname"),
    **_format_group("ipv6"),
    **_format_group("uri"),
    **_format_group("uri-reference"),
    **_format_group("iri"),
    **_format_group("iri-reference"),
    **_format_group("uri-template"),
    **_format_group("json-pointer"),
    **_format_group("relative-json-pointer"),
    **_known("prefixItems", "a schema given for prefixItems", "array with additional items", PREFIX_CLOSED),
    **_known("prefixItems", "additional items are allowed by default", "only the first item is validated",
             PREFIX_CLOSED),
    **_known("type", "integer type matches integers", "a float with zero fractional part is an integer",
             CANONICAL_NUMBER),
    **_known("unevaluatedItems", "unevaluatedItems with nested unevaluatedItems", "with additional items",
             PREFIX_CLOSED),
    **_known("unevaluatedItems", "unevaluatedItems can see annotations from if without then and else",
             "valid in case if is evaluated", IF_ANNOTATIONS),
    **{("unevaluatedProperties", g, t): ONLY_DECLARED for g, t in (
        ("unevaluatedProperties with adjacent bool additionalProperties", "with additional properties"),
        ("unevaluatedProperties with adjacent non-bool additionalProperties", "with additional properties"),
        ("unevaluatedProperties with nested additionalProperties", "with additional properties"),
        ("unevaluatedProperties with nested unevaluatedProperties", "with nested unevaluated properties"),
        ("unevaluatedProperties with nested patternProperties", "with no additional properties"),
        ("unevaluatedProperties with anyOf", "when two match and has no unevaluated properties"),
        ("nested unevaluatedProperties, outer false, inner true, properties outside", "with nested unevaluated properties"),
        ("nested unevaluatedProperties, outer false, inner true, properties inside", "with nested unevaluated properties"),
    )},
    **_known("unevaluatedProperties", "unevaluatedProperties can see annotations from if without then and else",
             "valid in case if is evaluated", IF_ANNOTATIONS),
    **_known("uniqueItems", "uniqueItems with an array of items",
             tuple(f"unique array extended from [{a}] is valid" for a in ("false, true", "true, false")), PREFIX_CLOSED),
    **_known("uniqueItems", "uniqueItems=false with an array of items",
             tuple(f"{u}unique array extended from [{a}] is valid"
                   for u in ("", "non-") for a in ("false, true", "true, false")), PREFIX_CLOSED),
    **_known("vocabulary", "schema that uses custom metaschema with with no validation vocabulary",
             "no validation: invalid number, but it still validates", NO_VOCABULARY),
    **_known("optional/format/date-time", "validation of date-time strings",
             ("a valid date-time with a leap second, UTC", "a valid date-time with a leap second, with minus offset"),
             LEAP_SECOND),
    **_known("optional/format/date-time", "validation of date-time strings", "case-insensitive T and Z", UPPER_T_Z),
    **_known("optional/format/email", "validation of e-mail addresses", (
        "a quoted string with a space in the local part is valid",
        "a quoted string with a double dot in the local part is valid",
        "a quoted string with a @ in the local part is valid",
        "an IPv4-address-literal after the @ is valid",
        "an IPv6-address-literal after the @ is valid"), EMAIL_DOT_ATOM),
    **_known("optional/format/time", "validation of time strings", (
        "a valid time string with leap second, Zulu", "valid leap second, zero time-offset",
        "valid leap second, positive time-offset", "valid leap second, large positive time-offset",
        "valid leap second, negative time-offset", "valid leap second, large negative time-offset"), LEAP_SECOND),
    **_known("optional/format/time", "validation of time strings", "a valid time string with case-insensitive Z",
             UPPER_T_Z),
}


def suite_files(optional: bool = False) -> dict[str, Path]:
    """``{id: path}``: ``draft2020-12/*.json`` and ``optional/format/*.json`` (with ``optional``, also
    ``optional/*.json``). The id is the path relative to the draft folder, without ``.json``."""
    if SUITE is None or not SUITE.is_dir():
        return {}
    paths = sorted(SUITE.glob("*.json"))
    if optional:
        paths += sorted(SUITE.glob("optional/*.json"))
    paths += sorted(SUITE.glob("optional/format/*.json"))
    return {p.relative_to(SUITE).with_suffix("").as_posix(): p for p in paths}


@dataclass
class FileReport:
    """What one suite file gave: counts, and every instance that went the wrong way."""

    name: str
    groups: int = 0
    compiled: int = 0
    refused: int = 0  # the schema accepts nothing (every instance of the group is invalid)
    unsupported: Counter = field(default_factory=Counter)  # UnsupportedSchemaError keyword -> groups
    valid: int = 0
    valid_accepted: int = 0
    invalid: int = 0
    invalid_rejected: int = 0
    rejected_valid: dict[tuple[str, str], str] = field(default_factory=dict)  # (group, test) -> why
    accepted_invalid: list[tuple[str, str, str]] = field(default_factory=list)  # (group, test, text)
    errors: list[str] = field(default_factory=list)  # crashes, malformed-schema errors, inconsistencies
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["unsupported"] = dict(self.unsupported)
        d["rejected_valid"] = [{"group": g, "test": t, "error": e} for (g, t), e in self.rejected_valid.items()]
        d["accepted_invalid"] = [{"group": g, "test": t, "text": x} for g, t, x in self.accepted_invalid]
        return d


def walk(constraint: Any, tokenizer: Any, text: str) -> tuple[bool, str | None]:
    """``(accepted, error)`` of ``text`` tokenized and walked through ``constraint``'s masks.

    Raises AssertionError when the tokens do not spell ``text`` back (the walk would prove nothing) or
    when ``check_tokens`` reports an internal inconsistency."""
    tokens = tokenizer.encode(text, add_special_tokens=False)
    tb = constraint.vocab.token_bytes
    spelled = [tb[t] if 0 <= t < len(tb) else None for t in tokens]
    assert None not in spelled and b"".join(spelled) == text.encode("utf-8"), (
        f"the tokenizer does not round-trip {text!r}: {tokens}")
    result = check_tokens(constraint, tokens, tokenizer=tokenizer)
    assert not (result.error or "").startswith("internal inconsistency"), f"{text!r}: {result.error}"
    return result.accepted, result.error


def run_file(name: str, path: Path, vocab: Any, tokenizer: Any) -> FileReport:
    """Compile every group of one suite file once and walk all of its instances."""
    t0 = time.perf_counter()
    rep = FileReport(name)
    compiler = JSONSchemaCompiler()
    for group in json.loads(path.read_text(encoding="utf-8")):
        rep.groups += 1
        gd, schema, tests = group["description"], group["schema"], group["tests"]
        try:
            constraint = compiler.compile(schema, vocab)
        except UnsupportedSchemaError as e:
            rep.unsupported[e.keyword] += 1
            continue
        except SchemaError as e:
            if "accepts no JSON value" in str(e) and not any(t["valid"] for t in tests):
                rep.refused += 1
            else:
                rep.errors.append(f"{gd!r}: compile raised {type(e).__name__}: {e}")
            continue
        except Exception as e:  # a crash of the compiler
            rep.errors.append(f"{gd!r}: compile crashed: {type(e).__name__}: {e}")
            continue
        rep.compiled += 1
        for t in tests:
            td = t["description"]
            try:
                text = serialize(t["data"], schema)
                ok, why = walk(constraint, tokenizer, text)
            except Exception as e:  # a crash or an inconsistency, reported with its instance
                rep.errors.append(f"{gd!r} / {td!r}: walk failed: {type(e).__name__}: {e}")
                continue
            if t["valid"]:
                rep.valid += 1
                rep.valid_accepted += ok
                if not ok:
                    rep.rejected_valid[(gd, td)] = f"{text!r}: {why}"
            else:
                rep.invalid += 1
                rep.invalid_rejected += not ok
                if ok:
                    rep.accepted_invalid.append((gd, td, text))
    rep.seconds = time.perf_counter() - t0
    return rep


def suite_report(vocab: Any, tokenizer: Any, optional: bool = False) -> dict[str, FileReport]:
    return {name: run_file(name, path, vocab, tokenizer) for name, path in suite_files(optional).items()}


def problems(rep: FileReport) -> list[str]:
    """Why a file's report fails the test (empty: it passes)."""
    out = [f"error: {e}" for e in rep.errors]
    out += [f"UNDER-CONSTRAINT: invalid instance accepted: {g!r} / {t!r}: {x!r}" for g, t, x in rep.accepted_invalid]
    known = {(g, t): why for (f, g, t), why in KNOWN_OVER_CONSTRAINTS.items() if f == rep.name}
    out += [f"over-constraint (new): valid instance rejected: {g!r} / {t!r}: {e}"
            for (g, t), e in rep.rejected_valid.items() if (g, t) not in known]
    out += [f"known over-constraint no longer observed (fixed? prune KNOWN_OVER_CONSTRAINTS): {g!r} / {t!r} ({why})"
            for (g, t), why in known.items() if (g, t) not in rep.rejected_valid]
    return out


_FILES = suite_files()


@pytest.mark.skipif(not _FILES, reason="JSON-Schema-Test-Suite not found (GUIDEGEN_SHARED_DATA, shared/data)")
@pytest.mark.parametrize("name", sorted(_FILES) or ["<none>"])
def test_suite_file(name: str, asset_vocabulary, asset_tokenizer) -> None:
    rep = run_file(name, _FILES[name], asset_vocabulary(VOCAB), asset_tokenizer(VOCAB))
    bad = problems(rep)
    assert not bad, f"{name}: {len(bad)} problem(s):\n" + "\n".join(bad)


def test_known_over_constraints_name_suite_files() -> None:
    """Every entry of the list names a suite file this test runs (a typo would never be checked)."""
    if not _FILES:
        pytest.skip("JSON-Schema-Test-Suite not found")
    assert not {f for f, _, _ in KNOWN_OVER_CONSTRAINTS} - set(_FILES)
