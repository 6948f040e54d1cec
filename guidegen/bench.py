"""``guidegen bench masks``: the MaskBench protocol, run on guidegen and its yardsticks in one process.

Protocol (the same for every engine, on the same files, with the same tokenizer instance):

1. compile the schema; *time to first mask* (TTFM) is compile + the first mask of a fresh state;
2. for every test instance: serialize it compactly
   (``json.dumps(data, separators=(",", ":"), ensure_ascii=False)``, keys in the order the file
   stores them: MaskBench's data was reordered to follow each schema's ``properties`` order),
   tokenize it (``add_special_tokens=False``), then for every token compute the mask (timed:
   ``mask_us``), check the token's bit and consume it (mask + consume is ``step_us``, MaskBench's
   "time between masks"); an instance is *accepted* when every token was allowed and the end is
   accepting;
3. count schemas, compile errors (timeouts included), valid instances rejected and invalid
   instances accepted.

Engines run single-threaded and compact-JSON (no free whitespace): guidegen with its defaults
(strict: unsupported keywords are compile errors); llguidance with ``whitespace_flexible=False``,
``","``/``":"`` separators and ``lenient=False``; XGrammar with ``any_whitespace=False``,
``separators=(",", ":")`` and its default ``strict_mode=True`` (MaskBench's "xgr" setting).
The anchors (``pip install 'guidegen[bench]'``) are imported only when their engine runs.

A schema on which an engine spends more than ``timeout_s`` (compile and instances together) counts
as a compile error (and a timeout) for that engine; in the main thread the engine is interrupted
by ``SIGALRM`` (Python code stops at once, native code when it returns), elsewhere only measured.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from .errors import GuidegenError

__all__ = [
    "ENGINES",
    "BenchTimeout",
    "available_engines",
    "find_schema_files",
    "format_table",
    "make_engine",
    "run_masks",
    "summarize",
]

ENGINES: tuple[str, ...] = ("guidegen", "llguidance", "xgrammar")
ANCHOR_PACKAGES = {"llguidance": "llguidance", "xgrammar": "xgrammar"}
DEFAULT_TIMEOUT_S = 30.0


class CompileFailure(Exception):
    """An engine refused a schema (its own error message is kept)."""


class BenchTimeout(BaseException):
    """Raised by SIGALRM when an engine overruns its per-schema budget (BaseException: engines'
    ``except Exception`` must not swallow it)."""


# ------------------------------------------------------------------------------------------------
# engines: compile(schema) -> handle; matcher(handle) -> Matcher


class Matcher:
    """One instance's cursor: ``fill()`` computes the mask into ``bits`` (a uint32 view)."""

    bits: np.ndarray

    def fill(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def consume(self, token: int) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def accepting(self) -> bool:  # pragma: no cover - interface
        raise NotImplementedError


class GuidegenEngine:
    name = "guidegen"

    def __init__(self, tokenizer: Any, vocab: Any) -> None:
        from .automata import load_kernels
        from .automata.slices import vocab_index
        from .host import Host

        load_kernels()
        vocab_index(vocab)  # the vocabulary's trie and slices, built once per vocabulary as the anchors build theirs
        self.vocab = vocab
        self.row = np.zeros(vocab.bitmask_width, dtype=np.int32)
        self._host_factory = Host

    def compile(self, schema: Any) -> Any:
        import guidegen

        from .errors import ConstraintError

        # a fresh host per schema: nothing memoized from one schema helps another
        host = self._host_factory()
        host.compilers()
        return _TimedCompile(lambda: guidegen.compile_constraint(self.vocab, schema=schema, host=host),
                             expected=(ConstraintError,))

    def compile_grammar(self, lark: str) -> Any:
        import guidegen

        from .errors import ConstraintError

        host = self._host_factory()
        host.compilers()
        return _TimedCompile(lambda: guidegen.compile_constraint(self.vocab, grammar=lark, host=host),
                             expected=(ConstraintError,))

    def matcher(self, compiled: Any, *, first: bool = False) -> "Matcher":
        state = compiled.new_state()
        row = self.row
        m = Matcher()
        m.bits = row.view(np.uint32)
        m.fill = lambda: state.fill_mask(row)  # type: ignore[method-assign]
        m.consume = state.advance  # type: ignore[method-assign]
        m.accepting = state.is_accepting  # type: ignore[method-assign]
        return m


class LLGuidanceEngine:
    name = "llguidance"

    def __init__(self, tokenizer: Any, vocab: Any) -> None:
        os.environ.setdefault("RAYON_NUM_THREADS", "1")
        import llguidance
        import llguidance.hf
        import llguidance.numpy

        self._llg = llguidance
        self.tokenizer = llguidance.hf.from_tokenizer(tokenizer, n_vocab=vocab.size)
        self.mask = llguidance.numpy.allocate_token_bitmask(1, self.tokenizer.vocab_size)
        self._ptr = self.mask[0].ctypes.data
        self._nbytes = self.mask[0].size * self.mask[0].itemsize
        self.options = {"whitespace_flexible": False, "item_separator": ",", "key_separator": ":", "lenient": False}

    def compile(self, schema: Any) -> Any:
        llg = self._llg

        return self._build(lambda: llg.LLMatcher.grammar_from_json_schema(schema, overrides=self.options))

    def compile_grammar(self, lark: str) -> Any:
        return self._build(lambda: self._llg.LLMatcher.grammar_from_lark(lark))

    def _build(self, grammar: Callable[[], Any]) -> Any:
        def build() -> Any:
            matcher = self._llg.LLMatcher(self.tokenizer, grammar(), log_level=0)
            if matcher.is_error():
                raise CompileFailure(matcher.get_error())
            return matcher

        return _TimedCompile(build, expected=(ValueError,))

    def matcher(self, compiled: Any, *, first: bool = False) -> Matcher:
        # instances run on copies (MaskBench's protocol); the first mask is read off the compiled
        # matcher itself, since computing a mask does not change its state
        mm = compiled if first else compiled.deep_copy()
        ptr, nbytes = self._ptr, self._nbytes
        m = Matcher()
        m.bits = self.mask[0].view(np.uint32)
        m.fill = lambda: mm.unsafe_compute_mask_ptr(ptr, nbytes)  # type: ignore[method-assign]
        m.consume = mm.consume_token  # type: ignore[method-assign]
        m.accepting = mm.is_accepting  # type: ignore[method-assign]
        return m


class XGrammarEngine:
    name = "xgrammar"

    def __init__(self, tokenizer: Any, vocab: Any) -> None:
        import xgrammar as xgr

        self._xgr = xgr
        info = xgr.TokenizerInfo.from_huggingface(tokenizer, vocab_size=vocab.size)
        self.compiler = xgr.GrammarCompiler(info, max_threads=1)
        self.mask = xgr.allocate_token_bitmask(1, info.vocab_size)
        self._bits = self.mask.numpy()[0].view(np.uint32)

    def compile(self, schema: Any) -> Any:
        text = json.dumps(schema)
        return _TimedCompile(
            lambda: self.compiler.compile_json_schema(text, any_whitespace=False, separators=(",", ":"), strict_mode=True),
            expected=(RuntimeError, ValueError),
        )

    def compile_grammar(self, lark: str) -> Any:
        return _TimedCompile(lambda: self.compiler.compile_grammar(self._xgr.Grammar.from_lark(lark)),
                             expected=(RuntimeError, ValueError))

    def matcher(self, compiled: Any, *, first: bool = False) -> Matcher:
        mm = self._xgr.GrammarMatcher(compiled)
        mask = self.mask
        m = Matcher()
        m.bits = self._bits
        m.fill = lambda: mm.fill_next_token_bitmask(mask)  # type: ignore[method-assign]
        m.consume = mm.accept_token  # type: ignore[method-assign]
        m.accepting = mm.is_completed  # type: ignore[method-assign]
        return m


@dataclass
class _TimedCompile:
    """A deferred compile: ``build()`` makes the engine's compiled grammar; exceptions of the
    ``expected`` types are the engine refusing the schema (anything else is recorded as a crash)."""

    build: Callable[[], Any]
    expected: tuple[type[BaseException], ...] = ()


_ENGINE_CLASSES = {"guidegen": GuidegenEngine, "llguidance": LLGuidanceEngine, "xgrammar": XGrammarEngine}


def available_engines() -> list[str]:
    """guidegen plus the anchors whose package is installed."""
    return [e for e in ENGINES if e not in ANCHOR_PACKAGES or importlib.util.find_spec(ANCHOR_PACKAGES[e]) is not None]


def parse_engines(spec: str | None) -> list[str]:
    """``"guidegen,llguidance"`` -> names, checked; None -> :func:`available_engines`."""
    if spec is None:
        return available_engines()
    names = [s.strip() for s in spec.split(",") if s.strip()]
    if not names:
        raise GuidegenError("--engines is empty; known engines: " + ", ".join(ENGINES))
    for n in names:
        if n not in ENGINES:
            raise GuidegenError(f"unknown engine {n!r}; known engines: {', '.join(ENGINES)}")
        pkg = ANCHOR_PACKAGES.get(n)
        if pkg and importlib.util.find_spec(pkg) is None:
            raise GuidegenError(f"engine {n!r} needs the {pkg} package: pip install 'guidegen[bench]'")
    if len(set(names)) != len(names):
        raise GuidegenError(f"--engines names an engine twice: {spec}")
    return names


def make_engine(name: str, tokenizer: Any, vocab: Any) -> Any:
    try:
        cls = _ENGINE_CLASSES[name]
    except KeyError:
        raise GuidegenError(f"unknown engine {name!r}; known engines: {', '.join(ENGINES)}") from None
    return cls(tokenizer, vocab)


# ------------------------------------------------------------------------------------------------
# data


def find_schema_files(data: str | Path, *, subsets: Sequence[str] = (), limit: int | None = None) -> list[Path]:
    """MaskBench files under ``data`` (a folder, searched recursively, or one ``.json`` file),
    sorted by name; ``subsets`` keeps files named ``<Subset>---*.json`` or ``<Subset>_<n>.json`` (or
    under a folder named ``<Subset>``); ``limit`` keeps the first N *per subset* when subsets are
    given, else overall."""
    root = Path(data)
    if not root.exists():
        raise GuidegenError(f"--data {data}: no such file or folder")
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*.json") if p.is_file())
    if not files:
        raise GuidegenError(f"--data {data}: no .json files found")
    if subsets:
        picked: list[Path] = []
        for s in subsets:
            numbered = re.compile(re.escape(s) + r"_\d+\.json")
            mine = [p for p in files if p.name.startswith(f"{s}---") or numbered.fullmatch(p.name) or p.parent.name == s]
            if not mine:
                raise GuidegenError(f"subset {s!r}: no files named {s}---*.json under {data}")
            picked.extend(mine[:limit] if limit else mine)
        return picked
    return files[:limit] if limit else files


def _load(path: Path) -> dict[str, Any]:
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GuidegenError(f"cannot read MaskBench file {path}: {exc}") from exc
    if not isinstance(d, dict) or "schema" not in d:
        raise GuidegenError(f"{path} is not a MaskBench file (no 'schema' key)")
    tests = d.get("tests") or []
    if not isinstance(tests, list) or not all(isinstance(t, dict) and "data" in t and "valid" in t for t in tests):
        raise GuidegenError(f"{path}: 'tests' must be a list of {{'data', 'valid'}} objects")
    return d


def serialize(data: Any) -> str:
    """Compact JSON, key order as given (MaskBench's files already follow schema order)."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


# ------------------------------------------------------------------------------------------------
# timeouts


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`BenchTimeout` in this thread after ``seconds`` (main thread only; a no-op elsewhere)."""
    usable = (
        seconds > 0
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise BenchTimeout()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def _fresh_guidegen_caches() -> Iterator[None]:
    """Point guidegen's on-disk index at an empty folder and clear the in-process DFA cache, so a
    previous run's compiled schemas cannot make this one's time to first mask look better."""
    from .automata.constraint import clear_memory_cache

    old = os.environ.get("GUIDEGEN_CACHE")
    with tempfile.TemporaryDirectory(prefix="guidegen-bench-") as tmp:
        os.environ["GUIDEGEN_CACHE"] = tmp
        clear_memory_cache()
        try:
            yield
        finally:
            if old is None:
                os.environ.pop("GUIDEGEN_CACHE", None)
            else:
                os.environ["GUIDEGEN_CACHE"] = old
            clear_memory_cache()


# ------------------------------------------------------------------------------------------------
# running


@dataclass
class SchemaOutcome:
    """One engine on one schema file."""

    file: str
    status: str  # "ok" | "compile_error" | "timeout" | "crash"
    error: str = ""
    ttfm_us: float = 0.0
    valid_ok: int = 0
    valid_rejected: int = 0
    invalid_ok: int = 0  # invalid and rejected
    invalid_accepted: int = 0
    runtime_errors: int = 0  # exceptions while masking/consuming (instance counted as rejected)
    mismatches: int = 0  # mask bit and consume() disagreed
    mask_ns: list[int] = field(default_factory=list)
    step_ns: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # a few examples


def _run_instance(engine: Any, compiled: Any, tokens: Sequence[int], out: SchemaOutcome) -> bool:
    m = engine.matcher(compiled)
    bits, fill, consume = m.bits, m.fill, m.consume
    perf = time.perf_counter_ns
    mask_ns, step_ns = out.mask_ns, out.step_ns
    n_bits = bits.shape[0] * 32
    for t in tokens:
        t0 = perf()
        fill()
        t1 = perf()
        allowed = t < n_bits and (int(bits[t >> 5]) >> (t & 31)) & 1 == 1
        consumed = consume(t)
        t2 = perf()
        mask_ns.append(t1 - t0)
        step_ns.append(t2 - t0)
        if allowed != bool(consumed):
            out.mismatches += 1
        if not (allowed and consumed):
            return False
    return bool(m.accepting())


def run_schema(engine: Any, path: Path, spec: dict[str, Any], tokenized: list[tuple[list[int], bool, str]],
               *, timeout_s: float, max_examples: int = 3) -> SchemaOutcome:
    """Run one engine on one MaskBench file (already loaded and tokenized); a ``spec`` with a
    ``"grammar"`` (Lark text) instead of a ``"schema"`` runs a grammar."""
    out = SchemaOutcome(file=path.name, status="ok")
    start = time.perf_counter()
    try:
        with _deadline(timeout_s):
            job = engine.compile(spec["schema"]) if "schema" in spec else engine.compile_grammar(spec["grammar"])
            t0 = time.perf_counter_ns()
            try:
                compiled = job.build()
                engine.matcher(compiled, first=True).fill()
            except BenchTimeout:
                raise
            except CompileFailure as exc:
                out.status, out.error = "compile_error", str(exc)
                return out
            except job.expected as exc:  # the engine refused the schema
                out.status, out.error = "compile_error", f"{type(exc).__name__}: {exc}"
                return out
            except Exception as exc:  # a bug in the engine: count it, keep going
                out.status, out.error = "crash", f"{type(exc).__name__}: {exc}"
                return out
            out.ttfm_us = (time.perf_counter_ns() - t0) / 1000.0
            for i, (tokens, valid, _text) in enumerate(tokenized):
                try:
                    accepted = _run_instance(engine, compiled, tokens, out)
                except BenchTimeout:
                    raise
                except Exception as exc:
                    out.runtime_errors += 1
                    accepted = False
                    if len(out.failures) < max_examples:
                        out.failures.append(f"test #{i}: {type(exc).__name__}: {exc}")
                if valid and accepted:
                    out.valid_ok += 1
                elif valid:
                    out.valid_rejected += 1
                    if len(out.failures) < max_examples:
                        out.failures.append(f"test #{i}: valid instance rejected")
                elif accepted:
                    out.invalid_accepted += 1
                    if len(out.failures) < max_examples:
                        out.failures.append(f"test #{i}: invalid instance accepted")
                else:
                    out.invalid_ok += 1
    except BenchTimeout:
        pass
    elapsed = time.perf_counter() - start
    if timeout_s > 0 and elapsed > timeout_s:
        # timed out: what was measured on this schema is dropped (MaskBench loses it too)
        return SchemaOutcome(file=path.name, status="timeout", error=f"over {timeout_s:g} s ({elapsed:.2f} s)")
    return out


def _percentiles(values_us: np.ndarray, keys: Sequence[str]) -> dict[str, float]:
    if values_us.size == 0:
        return {k: None for k in keys}  # type: ignore[misc]
    out: dict[str, float] = {}
    for k in keys:
        if k == "avg":
            v = float(values_us.mean())
        elif k == "max":
            v = float(values_us.max())
        else:
            v = float(np.percentile(values_us, float(k[1:])))
        out[k] = round(v, 3)
    return out


MASK_KEYS = ("avg", "p50", "p90", "p99", "max")
TTFM_KEYS = ("p50", "p99")


def summarize(outcomes: Sequence[SchemaOutcome], *, max_examples: int = 5) -> dict[str, Any]:
    """The per-engine summary (the ``--json`` shape, plus detail keys)."""
    ok = [o for o in outcomes if o.status == "ok"]
    mask = np.fromiter((t for o in ok for t in o.mask_ns), dtype=np.float64) / 1000.0
    step = np.fromiter((t for o in ok for t in o.step_ns), dtype=np.float64) / 1000.0
    ttfm = np.asarray([o.ttfm_us for o in ok], dtype=np.float64) / 1000.0
    not_ok = [o for o in outcomes if o.status != "ok"]
    return {
        "schemas": len(outcomes),
        "compile_errors": len(not_ok),
        "valid_rejected": sum(o.valid_rejected for o in ok),
        "invalid_accepted": sum(o.invalid_accepted for o in ok),
        "mask_us": _percentiles(mask, MASK_KEYS),
        "ttfm_ms": _percentiles(ttfm, TTFM_KEYS),
        # detail
        "timeouts": sum(o.status == "timeout" for o in outcomes),
        "crashes": sum(o.status == "crash" for o in outcomes),
        "passing": sum(1 for o in ok if o.valid_rejected == 0 and o.invalid_accepted == 0 and o.runtime_errors == 0),
        "valid_tested": sum(o.valid_ok + o.valid_rejected for o in ok),
        "invalid_tested": sum(o.invalid_ok + o.invalid_accepted for o in ok),
        "runtime_errors": sum(o.runtime_errors for o in ok),
        "mask_consume_mismatches": sum(o.mismatches for o in ok),
        "tokens": int(mask.size),
        "step_us": _percentiles(step, MASK_KEYS),
        "ttfm_avg_ms": round(float(ttfm.mean()), 3) if ttfm.size else None,
        "compile_error_examples": [f"{o.file}: {o.status}: {o.error[:200]}" for o in not_ok[:max_examples]],
        "failure_examples": [f"{o.file}: {f}" for o in ok for f in o.failures][:max_examples],
    }


def _common_summary(per_engine: dict[str, list[SchemaOutcome]]) -> dict[str, dict[str, Any]]:
    """Mask and TTFM statistics, valid rejected and invalid accepted, restricted to the schemas every
    engine compiled (an engine that refuses a schema cannot reject its valid instances)."""
    names = list(per_engine)
    ok_sets = [{o.file for o in per_engine[n] if o.status == "ok"} for n in names]
    common = set.intersection(*ok_sets) if ok_sets else set()
    out = {}
    for n in names:
        sel = [o for o in per_engine[n] if o.file in common]
        mask = np.fromiter((t for o in sel for t in o.mask_ns), dtype=np.float64) / 1000.0
        ttfm = np.asarray([o.ttfm_us for o in sel], dtype=np.float64) / 1000.0
        out[n] = {"schemas": len(sel), "tokens": int(mask.size),
                  "valid_rejected": sum(o.valid_rejected for o in sel),
                  "invalid_accepted": sum(o.invalid_accepted for o in sel),
                  "mask_us": _percentiles(mask, MASK_KEYS), "ttfm_ms": _percentiles(ttfm, TTFM_KEYS)}
    return out


def _check_engines(names: Sequence[str]) -> None:
    for n in names:
        if n not in ENGINES:
            raise GuidegenError(f"unknown engine {n!r}; known engines: {', '.join(ENGINES)}")


def _build_engines(names: Sequence[str], tokenizer: Any, vocabulary: Any, say: Callable[[str], None],
                   warm_up: Callable[[Any], Any]) -> dict[str, Any]:
    """Each engine, warmed up outside the measurements (Numba cache loads, lazy tables) by
    compiling ``warm_up(engine)`` (a deferred compile of the kind the benchmark runs)."""
    built = {}
    for n in names:
        t0 = time.perf_counter()
        eng = make_engine(n, tokenizer, vocabulary)
        try:
            eng.matcher(warm_up(eng).build()).fill()
        except Exception as exc:
            raise GuidegenError(f"engine {n} failed its warm-up: {type(exc).__name__}: {exc}") from exc
        built[n] = eng
        say(f"{n}: ready in {time.perf_counter() - t0:.1f} s")
    return built


def run_masks(
    data: str | Path,
    *,
    vocab: str = "llama3",
    engines: Sequence[str] | None = None,
    limit: int | None = None,
    subsets: Sequence[str] = (),
    timeout_s: float = DEFAULT_TIMEOUT_S,
    progress: bool = False,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the MaskBench protocol; returns ``{engine: summary}`` (see :func:`summarize`), each
    summary with a ``"common"`` entry: the statistics over the schemas every engine compiled."""
    from .check import load_vocabulary

    names = list(engines) if engines is not None else available_engines()
    _check_engines(names)
    if limit is not None and limit <= 0:
        raise GuidegenError(f"--limit must be positive, got {limit}")
    files = find_schema_files(data, subsets=subsets, limit=limit)
    tokenizer, vocabulary = load_vocabulary(vocab)
    say = log or (lambda s: None)

    with _fresh_guidegen_caches():
        built = _build_engines(names, tokenizer, vocabulary, say,
                               lambda eng: eng.compile({"type": "object", "properties": {"a": {"type": "integer"}}}))
        outcomes: dict[str, list[SchemaOutcome]] = {n: [] for n in names}
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(files), desc="bench masks", unit="schema", file=sys.stderr, leave=False)
        try:
            for path in files:
                spec = _load(path)
                tokenized = []
                for t in spec.get("tests") or []:
                    text = serialize(t["data"])
                    tokenized.append((list(tokenizer.encode(text, add_special_tokens=False)), bool(t["valid"]), text))
                for n in names:
                    outcomes[n].append(run_schema(built[n], path, spec, tokenized, timeout_s=timeout_s))
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()

    return _summaries(outcomes)


def _summaries(outcomes: dict[str, list[SchemaOutcome]]) -> dict[str, Any]:
    """``{engine: summary}``, each with ``"common"`` (the schemas every engine compiled) and
    ``"by_subset"``."""
    result = {n: summarize(o) for n, o in outcomes.items()}
    common = _common_summary(outcomes)
    for n in outcomes:
        result[n]["common"] = common[n]
        result[n]["by_subset"] = {s: summarize(group) for s, group in _by_subset(outcomes[n]).items()}
    return result


def subset_of(file_name: str) -> str:
    """The JSONSchemaBench subset a MaskBench file belongs to: ``Github_easy---o1.json`` and
    ``BFCL_simple_12.json`` give ``Github_easy`` and ``BFCL_simple``."""
    stem = file_name.removesuffix(".json")
    if "---" in stem:
        return stem.split("---", 1)[0]
    return re.sub(r"_\d+$", "", stem)


def _by_subset(outcomes: Sequence[SchemaOutcome]) -> dict[str, list[SchemaOutcome]]:
    groups: dict[str, list[SchemaOutcome]] = {}
    for o in outcomes:
        groups.setdefault(subset_of(o.file), []).append(o)
    return groups


def find_inputs(inputs: str | Path) -> list[Path]:
    """The input texts of a grammar benchmark: a file, or every file below a folder (sorted)."""
    root = Path(inputs)
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise GuidegenError(f"--inputs {inputs}: no such file or folder")
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not files:
        raise GuidegenError(f"--inputs {inputs}: the folder has no files")
    return files


def run_grammar(
    grammar: str | Path,
    inputs: str | Path,
    *,
    vocab: str = "llama3",
    engines: Sequence[str] | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Every engine compiles the Lark grammar once (time to first mask: compile and first mask),
    then walks each input text token by token (mask before each token, then consume); an input
    must be accepted. Returns ``{engine: summary}`` as :func:`run_masks` (one "schema": the grammar,
    its inputs as valid instances)."""
    from .check import load_vocabulary, read_grammar_file, read_inputs

    names = list(engines) if engines is not None else available_engines()
    _check_engines(names)
    path = Path(grammar)
    spec = {"grammar": read_grammar_file(str(path))}
    texts = read_inputs(find_inputs(inputs))
    tokenizer, vocabulary = load_vocabulary(vocab)
    tokenized = [(list(tokenizer.encode(text, add_special_tokens=False)), True, text) for _, text in texts]
    say = log or (lambda s: None)
    with _fresh_guidegen_caches():
        built = _build_engines(names, tokenizer, vocabulary, say,
                               lambda eng: eng.compile_grammar('start: "a" NUMBER+ | "(" start ")"\n'
                                                               '%import common.NUMBER\n'))  # nesting: every kernel
        outcomes = {n: [run_schema(built[n], path, spec, tokenized, timeout_s=timeout_s)] for n in names}
    return _summaries(outcomes)


# ------------------------------------------------------------------------------------------------
# reporting


def _fmt(v: Any, digits: int = 1) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def _ratio(a: Any, b: Any) -> str:
    if a is None or b is None or b == 0:
        return "-"
    return f"{a / b:.2f}"


def format_subset_table(result: dict[str, Any]) -> str:
    """A Markdown table, one row per subset and engine (``--by-subset``)."""
    lines = ["| subset | engine | schemas | comp.err | valid rej | invalid acc | mask p50 µs | p99 µs "
             "| ttfm p50 ms | p99 ms |", "|---|---|---|---|---|---|---|---|---|---|"]
    engines = list(result)
    for subset in sorted(result[engines[0]]["by_subset"]):
        for i, n in enumerate(engines):
            r = result[n]["by_subset"][subset]
            m, f = r["mask_us"], r["ttfm_ms"]
            lines.append(f"| {subset if i == 0 else ''} | {n} | {r['schemas']} | {r['compile_errors']} | "
                         f"{r['valid_rejected']} | {r['invalid_accepted']} | {_fmt(m['p50'])} | {_fmt(m['p99'])} | "
                         f"{_fmt(f['p50'], 2)} | {_fmt(f['p99'], 2)} |")
    return "\n".join(lines)


def format_table(result: dict[str, Any], *, vocab: str = "", files: int | None = None) -> str:
    """The printed table: one row per engine, then guidegen ÷ each anchor."""
    head = (f"{'engine':<11}{'schemas':>8}{'comp.err':>9}{'timeout':>8}{'valid rej':>10}{'inval acc':>10}"
            f"{'tests':>7}{'tokens':>8} | mask µs {'avg':>9}{'p50':>9}{'p90':>9}{'p99':>9}{'max':>10}"
            f" | ttfm ms {'p50':>7}{'p99':>8}")
    lines = [head, "-" * len(head)]
    for n, r in result.items():
        m, f = r["mask_us"], r["ttfm_ms"]
        lines.append(
            f"{n:<11}{r['schemas']:>8}{r['compile_errors']:>9}{r['timeouts']:>8}{r['valid_rejected']:>10}"
            f"{r['invalid_accepted']:>10}{r['valid_tested'] + r['invalid_tested']:>7}{r['tokens']:>8} |"
            f"         {_fmt(m['avg']):>9}{_fmt(m['p50']):>9}{_fmt(m['p90']):>9}{_fmt(m['p99']):>9}{_fmt(m['max']):>10} |"
            f"         {_fmt(f['p50'], 2):>7}{_fmt(f['p99'], 2):>8}"
        )
    if "guidegen" in result:
        g = result["guidegen"]
        for n, r in result.items():
            if n == "guidegen":
                continue
            for label, a, b, na, nb in (
                ("each engine's compiled schemas", g, r, g["schemas"] - g["compile_errors"], r["schemas"] - r["compile_errors"]),
                ("schemas every engine compiled", g["common"], r["common"], g["common"]["schemas"], r["common"]["schemas"]),
            ):
                lines.append(
                    f"guidegen vs {n} ({label}: {na} vs {nb}): valid rejected {a['valid_rejected']} vs "
                    f"{b['valid_rejected']}, invalid accepted {a['invalid_accepted']} vs {b['invalid_accepted']}")
                lines.append(
                    f"  guidegen ÷ {n}: mask avg "
                    f"{_ratio(a['mask_us']['avg'], b['mask_us']['avg'])}, p50 {_ratio(a['mask_us']['p50'], b['mask_us']['p50'])}, "
                    f"p90 {_ratio(a['mask_us']['p90'], b['mask_us']['p90'])}, p99 {_ratio(a['mask_us']['p99'], b['mask_us']['p99'])}, "
                    f"max {_ratio(a['mask_us']['max'], b['mask_us']['max'])}; ttfm p50 "
                    f"{_ratio(a['ttfm_ms']['p50'], b['ttfm_ms']['p50'])}, p99 {_ratio(a['ttfm_ms']['p99'], b['ttfm_ms']['p99'])}"
                )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m guidegen.bench masks ...`` (the same as ``guidegen bench masks ...``)."""
    from .cli import main as cli_main

    return cli_main(["bench", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
