"""``guidegen check``: walk texts token by token through a constraint's real mask path.

For every input the text is tokenized with the vocabulary's own tokenizer
(``add_special_tokens=False``), then, token by token: the mask is computed with ``fill_mask`` (and
timed), the token's bit must be set, and ``advance`` must agree with the mask. At the end the mask
must allow end-of-sequence and ``is_accepting`` must say the same. The first disagreement is
reported with the token index, its byte offset in the token stream and the token's text.

    >>> from guidegen.check import check_texts
    >>> report = check_texts(["1989"], vocab="gpt2", regex=r"(19|20)\\d{2}")
    >>> report["results"][0]["accepted"]
    True
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from .errors import GuidegenError

__all__ = [
    "CheckResult",
    "check_inputs",
    "check_texts",
    "check_tokens",
    "format_report",
    "load_vocabulary",
    "read_inputs",
]


@functools.lru_cache(maxsize=8)
def load_vocabulary(name: str) -> tuple[Any, Any]:
    """``(tokenizer, Vocabulary)`` of a vocabulary built by ``make install`` (see :mod:`guidegen.assets`).

    Raises :class:`~guidegen.errors.AssetError` naming the known vocabularies for an unknown name.
    """
    from .assets import load_tokenizer
    from .vocab import Vocabulary

    tokenizer = load_tokenizer(name)
    return tokenizer, Vocabulary.from_tokenizer(tokenizer)


@dataclass
class CheckResult:
    """One input walked through a constraint."""

    input: str
    accepted: bool
    error: str | None
    tokens: int  # tokens of the input
    consumed: int  # tokens the constraint accepted before the verdict
    failed_token_index: int | None = None
    failed_byte_offset: int | None = None  # offset of the failing token in the tokens' byte stream
    failed_token_id: int | None = None
    failed_token_text: str | None = None
    mask_us: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _bit(row_u32: np.ndarray, token: int) -> bool:
    if token < 0 or (token >> 5) >= row_u32.shape[0]:
        return False
    return bool((int(row_u32[token >> 5]) >> (token & 31)) & 1)


def _token_text(vocab: Any, tokenizer: Any, token: int) -> str:
    """What the token stands for: its bytes (as text when they decode), else the tokenizer's name for it."""
    tb = vocab.token_bytes[token] if 0 <= token < vocab.size else None
    if tb is None:
        name = None
        if tokenizer is not None:
            try:
                name = tokenizer.convert_ids_to_tokens(int(token))
            except Exception:  # pragma: no cover - odd tokenizer
                name = None
        return f"<special {name}>" if name else f"<special id {token}>"
    return tb.decode("utf-8", errors="backslashreplace")


def _tail(vocab: Any, tokens: Sequence[int], n: int = 60) -> str:
    """The last ``n`` bytes the constraint consumed, as text."""
    out = bytearray()
    for t in reversed(tokens):
        tb = vocab.token_bytes[int(t)] if 0 <= int(t) < vocab.size else None
        out[:0] = tb or b""
        if len(out) >= n:
            break
    return bytes(out[-n:]).decode("utf-8", errors="backslashreplace")


def _mask_stats(times_ns: Sequence[int]) -> dict[str, float]:
    if not times_ns:
        return {"count": 0, "avg": 0.0, "p50": 0.0, "max": 0.0}
    us = np.asarray(times_ns, dtype=np.float64) / 1000.0
    return {
        "count": int(us.size),
        "avg": round(float(us.mean()), 2),
        "p50": round(float(np.percentile(us, 50)), 2),
        "max": round(float(us.max()), 2),
    }


def check_tokens(
    constraint: Any,
    tokens: Sequence[int],
    *,
    name: str = "<tokens>",
    tokenizer: Any = None,
) -> CheckResult:
    """Walk ``tokens`` through a fresh state of ``constraint`` using the real mask path.

    Before each token the mask is filled (timed); the token's bit must be set and ``advance`` must
    agree with it. At the end, the final mask (also timed) must allow an end-of-sequence id exactly
    when ``is_accepting()`` is true, and the state must be accepting.
    """
    vocab = constraint.vocab
    state = constraint.new_state()
    row = np.zeros(vocab.bitmask_width, dtype=np.int32)
    row_u32 = row.view(np.uint32)
    times: list[int] = []
    offset = 0
    eos = tuple(vocab.eos_token_ids)
    perf = time.perf_counter_ns

    def fail(i: int, t: int, error: str) -> CheckResult:
        text = _token_text(vocab, tokenizer, t)
        return CheckResult(
            input=name, accepted=False, error=error, tokens=len(tokens), consumed=i,
            failed_token_index=i, failed_byte_offset=offset, failed_token_id=int(t),
            failed_token_text=text, mask_us=_mask_stats(times),
        )

    for i, t in enumerate(tokens):
        t = int(t)
        t0 = perf()
        state.fill_mask(row)
        times.append(perf() - t0)
        allowed = _bit(row_u32, t)
        if not allowed:
            # the mask must agree with advance: a token the mask forbids must be refused too
            probe = state.fork()
            if probe.advance(t):
                return fail(i, t, f"internal inconsistency: the mask forbids token {i} (id {t}) but advance() accepts it")
            text = _token_text(vocab, tokenizer, t)
            why = "a special token is never allowed inside constrained text" if (
                0 <= t < vocab.size and vocab.token_bytes[t] is None and t not in eos
            ) else "not allowed by the constraint here"
            return fail(i, t, f"token {i} {text!r} (id {t}) at byte {offset}: {why}; text so far: ...{_tail(vocab, tokens[:i])!r}")
        if not state.advance(t):
            return fail(i, t, f"internal inconsistency: the mask allows token {i} (id {t}) but advance() refuses it")
        tb = vocab.token_bytes[t] if 0 <= t < vocab.size else None
        offset += len(tb) if tb else 0

    t0 = perf()
    state.fill_mask(row)
    times.append(perf() - t0)
    eos_allowed = any(_bit(row_u32, e) for e in eos)
    accepting = bool(state.is_accepting())
    n = len(tokens)
    if eos_allowed != accepting:
        return CheckResult(
            input=name, accepted=False, tokens=n, consumed=n, failed_byte_offset=offset,
            error=(f"internal inconsistency at the end: is_accepting() is {accepting} but the mask "
                   f"{'allows' if eos_allowed else 'forbids'} end-of-sequence"),
            mask_us=_mask_stats(times),
        )
    if not accepting:
        forced = state.forced_bytes() if hasattr(state, "forced_bytes") else b""
        hint = f" (the constraint still requires {forced.decode('utf-8', 'backslashreplace')!r}...)" if forced else ""
        return CheckResult(
            input=name, accepted=False, tokens=n, consumed=n, failed_byte_offset=offset,
            error=f"the text ends at byte {offset} before the constraint is complete: end-of-sequence is not allowed{hint}",
            mask_us=_mask_stats(times),
        )
    return CheckResult(input=name, accepted=True, error=None, tokens=n, consumed=n, mask_us=_mask_stats(times))


def read_inputs(paths: Iterable[str | Path], *, exact: bool = False) -> list[tuple[str, str]]:
    """``[(name, text)]`` of input files (``-`` is standard input), read as UTF-8.

    Unless ``exact``, one trailing newline (``\\n`` or ``\\r\\n``) is dropped: text files end with
    one, and it is not part of the constrained text.
    """
    import sys

    out: list[tuple[str, str]] = []
    for p in paths:
        p = str(p)
        try:
            if p == "-":
                data = sys.stdin.buffer.read()
            else:
                data = Path(p).read_bytes()
        except OSError as exc:
            raise GuidegenError(f"cannot read input file {p}: {exc.strerror or exc}") from exc
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise GuidegenError(f"input file {p} is not UTF-8: {exc}") from exc
        if not exact:
            if text.endswith("\r\n"):
                text = text[:-2]
            elif text.endswith("\n"):
                text = text[:-1]
        out.append((p, text))
    return out


def _compile(vocab: Any, schema: Any, regex: str | None, grammar: str | None, lenient: bool,
             whitespace: str | None) -> Any:
    import guidegen

    if sum(x is not None for x in (schema, regex, grammar)) != 1:
        raise GuidegenError("pass exactly one of a schema, a regex or a grammar")
    options: dict[str, Any] = {}
    if schema is not None:
        if lenient:
            options["lenient"] = True
        if whitespace:
            options["whitespace"] = whitespace
    elif lenient or whitespace:
        raise GuidegenError("--lenient and --whitespace apply to --schema only")
    return guidegen.compile_constraint(vocab, schema=schema, regex=regex, grammar=grammar, **options)


def check_texts(
    texts: Sequence[str | tuple[str, str]],
    *,
    vocab: str,
    schema: Any = None,
    regex: str | None = None,
    grammar: str | None = None,
    lenient: bool = False,
    whitespace: str | None = None,
) -> dict[str, Any]:
    """Check texts (or ``(name, text)`` pairs) against a schema, a regex or a Lark grammar (text)
    with a named vocabulary.

    Returns ``{"vocab", "constraint", "compile_ms", "accepted", "rejected", "results": [...]}``;
    each result is :meth:`CheckResult.as_dict`. A constraint that cannot be compiled raises
    :class:`~guidegen.errors.ConstraintError`.
    """
    from .automata import load_kernels

    tokenizer, vocabulary = load_vocabulary(vocab)
    load_kernels()  # timed below: the compile and the masks, not loading their machine code
    t0 = time.perf_counter()
    constraint = _compile(vocabulary, schema, regex, grammar, lenient, whitespace)
    compile_ms = (time.perf_counter() - t0) * 1000
    results = []
    for i, item in enumerate(texts):
        name, text = item if isinstance(item, tuple) else (f"<text {i}>", item)
        tokens = tokenizer.encode(text, add_special_tokens=False)
        results.append(check_tokens(constraint, tokens, name=name, tokenizer=tokenizer).as_dict())
    n_ok = sum(r["accepted"] for r in results)
    return {
        "vocab": vocab,
        "constraint": {"kind": "schema" if schema is not None else "regex" if regex is not None else "grammar",
                       "lenient": bool(lenient)},
        "compile_ms": round(compile_ms, 3),
        "accepted": n_ok,
        "rejected": len(results) - n_ok,
        "results": results,
    }


def check_inputs(
    paths: Sequence[str | Path],
    *,
    vocab: str,
    schema: Any = None,
    regex: str | None = None,
    grammar: str | None = None,
    lenient: bool = False,
    whitespace: str | None = None,
    exact: bool = False,
) -> dict[str, Any]:
    """:func:`check_texts` over input files (read first, so a missing file fails before any work)."""
    return check_texts(read_inputs(paths, exact=exact), vocab=vocab, schema=schema, regex=regex, grammar=grammar,
                       lenient=lenient, whitespace=whitespace)


def format_report(report: dict[str, Any]) -> str:
    """The human-readable form of a :func:`check_texts` report."""
    lines = []
    for r in report["results"]:
        m = r["mask_us"]
        timing = f"masks {m['count']}: avg {m['avg']:.1f} µs, p50 {m['p50']:.1f} µs, max {m['max']:.1f} µs"
        if r["accepted"]:
            lines.append(f"ACCEPTED  {r['input']}  ({r['tokens']} token(s); {timing})")
        else:
            lines.append(f"REJECTED  {r['input']}  ({r['tokens']} token(s); {timing})")
            lines.append(f"    {r['error']}")
    lines.append(
        f"{len(report['results'])} input(s): {report['accepted']} accepted, {report['rejected']} rejected "
        f"(vocab {report['vocab']}, {report['constraint']['kind']} compiled in {report['compile_ms']:.1f} ms)"
    )
    return "\n".join(lines)


def read_grammar_file(path: str) -> str:
    """A Lark grammar file's text, or a shipped grammar's where ``path`` is one's name and no file
    (``sql``: see :func:`guidegen.shipped_grammar`); errors name the file."""
    from .grammar.shipped import shipped_grammar, shipped_grammar_names

    if not Path(path).exists() and path in shipped_grammar_names():
        return shipped_grammar(path)
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise GuidegenError(f"cannot read grammar file {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise GuidegenError(f"grammar file {path} is not UTF-8: {exc}") from exc


def read_schema_file(path: str) -> Any:
    """A JSON Schema file's content (errors name the file)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise GuidegenError(f"cannot read schema file {path}: {exc.strerror or exc}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GuidegenError(f"schema file {path} is not valid JSON: {exc}") from exc
