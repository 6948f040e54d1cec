"""The ``guidegen`` command line: ``generate``, ``plugins``, ``check``, ``bench masks`` and ``bench grammar``."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

from .errors import GuidegenError


@contextmanager
def progress(description: str, enabled: bool) -> Iterator[None]:
    """An elapsed-time bar on stderr for a blocking step (model load, long compile)."""
    if not enabled:
        yield
        return
    from tqdm import tqdm

    done = threading.Event()
    bar = tqdm(desc=description, bar_format="{desc}: {elapsed}", file=sys.stderr, leave=False)

    def tick() -> None:
        while not done.wait(0.2):
            bar.refresh()

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        bar.close()


def _cmd_generate(args: argparse.Namespace) -> int:
    import guidegen

    from .check import read_grammar_file, read_schema_file

    if sum(x is not None for x in (args.schema, args.regex, args.grammar)) > 1:
        raise GuidegenError("pass at most one of --schema, --regex and --grammar")
    schema = read_schema_file(args.schema) if args.schema is not None else None
    grammar = read_grammar_file(args.grammar) if args.grammar is not None else None
    options = json.loads(args.options) if args.options else {}
    show = not args.quiet and sys.stderr.isatty()
    timings: dict[str, float] = {}
    start = time.perf_counter()
    with progress("loading model", show):
        model = guidegen.load_model(args.model, device=args.device, progress=show)
    timings["load_s"] = round(time.perf_counter() - start, 3)
    if (args.lenient or args.whitespace) and schema is None:
        raise GuidegenError("--lenient and --whitespace apply to --schema only")
    constraint_options = {"lenient": True} if args.lenient else {}
    if args.whitespace:
        constraint_options["whitespace"] = args.whitespace
    if schema is not None or args.regex is not None or grammar is not None:
        start = time.perf_counter()
        with progress("compiling constraint", show):
            guidegen.compile_constraint(model.vocab, schema=schema, regex=args.regex, grammar=grammar,
                                        **constraint_options)
        timings["compile_s"] = round(time.perf_counter() - start, 3)
    kwargs = dict(
        schema=schema, regex=args.regex, grammar=grammar, model=model, max_tokens=args.max_tokens,
        temperature=args.temperature, top_p=args.top_p, top_k=args.top_k, min_p=args.min_p,
        seed=args.seed, stop=args.stop or (), constraint_options=constraint_options, **options,
    )
    if args.json:
        result = guidegen.generate(args.prompt, **kwargs)
        out = result.as_dict()
        out["stats"].update(timings)
        print(json.dumps(out, ensure_ascii=False))
    else:
        for delta in guidegen.stream(args.prompt, **kwargs):
            sys.stdout.write(delta)
            sys.stdout.flush()
        sys.stdout.write("\n")
    return 0


def _cmd_plugins(args: argparse.Namespace) -> int:
    from .host import default_host

    rows = default_host().plugin_info()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        origin = row["source"] + (f" ({row['distribution']})" if row["distribution"] else "")
        print(f"{row['name']:<16} {origin}")
        for hook in row["hooks"]:
            print(f"    {hook}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from .check import check_texts, format_report, read_grammar_file, read_inputs, read_schema_file

    if sum(x is not None for x in (args.schema, args.regex, args.grammar)) != 1:
        raise GuidegenError("pass exactly one of --schema FILE, --regex R or --grammar FILE")
    if (args.lenient or args.whitespace) and args.schema is None:
        raise GuidegenError("--lenient and --whitespace apply to --schema only")
    schema = read_schema_file(args.schema) if args.schema is not None else None
    grammar = read_grammar_file(args.grammar) if args.grammar is not None else None
    inputs = read_inputs(args.inputs, exact=args.exact)  # a missing file fails before any work
    report = check_texts(inputs, vocab=args.vocab, schema=schema, regex=args.regex, grammar=grammar,
                         lenient=args.lenient, whitespace=args.whitespace)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(format_report(report))
    return 0 if report["rejected"] == 0 else 1


def _cmd_bench_masks(args: argparse.Namespace) -> int:
    from .bench import format_subset_table, format_table, parse_engines, run_masks

    engines = parse_engines(args.engines)
    subsets = [name.strip() for arg in (args.subset or []) for name in arg.split(",") if name.strip()]
    if args.limit is not None and args.limit <= 0:
        raise GuidegenError(f"--limit must be positive, got {args.limit}")
    if args.timeout <= 0:
        raise GuidegenError(f"--timeout must be positive, got {args.timeout}")
    if args.json:
        out_path = Path(args.json)
        if out_path.parent and not out_path.parent.is_dir():
            raise GuidegenError(f"--json {args.json}: folder {out_path.parent} does not exist")
    show = not args.quiet and sys.stderr.isatty()
    log = (lambda s: print(s, file=sys.stderr)) if not args.quiet else None
    result = run_masks(args.data, vocab=args.vocab, engines=engines, limit=args.limit, subsets=subsets,
                       timeout_s=args.timeout, progress=show, log=log)
    print(f"MaskBench protocol: vocab {args.vocab}, data {args.data}"
          + (f", subsets {','.join(subsets)}" if subsets else "") + (f", limit {args.limit}" if args.limit else ""))
    print(format_table(result))
    if args.by_subset:
        print(format_subset_table(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


def _cmd_bench_grammar(args: argparse.Namespace) -> int:
    from .bench import format_table, parse_engines, run_grammar

    engines = parse_engines(args.engines)
    if args.timeout <= 0:
        raise GuidegenError(f"--timeout must be positive, got {args.timeout}")
    log = (lambda s: print(s, file=sys.stderr)) if not args.quiet else None
    result = run_grammar(args.grammar, args.inputs, vocab=args.vocab, engines=engines, timeout_s=args.timeout, log=log)
    print(f"grammar {args.grammar} on {args.inputs}: vocab {args.vocab}; 'valid rej' = inputs rejected, "
          "ttfm = compile + first mask")
    print(format_table(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="guidegen", description="Constrained and guided text generation.")
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="generate text, optionally constrained by a JSON Schema or regex")
    gen.add_argument("prompt", help="the prompt (wrapped in the model's chat template when it has one)")
    gen.add_argument("--model", default=None, help="local Hugging Face model folder (default: embedded SmolLM2-135M-Instruct)")
    gen.add_argument("--schema", metavar="FILE", help="JSON Schema file the output must satisfy")
    gen.add_argument("--regex", help="regular expression the whole output must match")
    gen.add_argument("--grammar", metavar="FILE", help="Lark grammar file the output must derive from (start rule), "
                     "or a shipped grammar's name (json, sql, ...)")
    gen.add_argument("--lenient", action="store_true", help="over-approximate unsupported schema keywords with a warning")
    gen.add_argument("--whitespace", choices=["compact", "flexible"], help="JSON whitespace policy")
    gen.add_argument("--max-tokens", type=int, default=256)
    gen.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default)")
    gen.add_argument("--top-p", type=float, default=1.0)
    gen.add_argument("--top-k", type=int, default=0)
    gen.add_argument("--min-p", type=float, default=0.0)
    gen.add_argument("--seed", type=int, default=None)
    gen.add_argument("--stop", action="append", help="stop string (repeatable)")
    gen.add_argument("--device", default=None, help="torch device, e.g. cpu or cuda")
    gen.add_argument("--options", help='plugin options as JSON, e.g. \'{"prompt_lookup": true}\'')
    gen.add_argument("--json", action="store_true", help="print one JSON object: text, value, tokens, stats")
    gen.add_argument("--quiet", action="store_true", help="no progress bars")
    gen.set_defaults(func=_cmd_generate)

    plugins = sub.add_parser("plugins", help="list installed plugins and the hooks they implement")
    plugins.add_argument("--json", action="store_true")
    plugins.set_defaults(func=_cmd_plugins)

    check = sub.add_parser("check", help="walk input texts token by token through a constraint's masks")
    check.add_argument("inputs", nargs="+", metavar="INPUT_FILE", help="text file(s) to check ('-' = stdin)")
    check.add_argument("--schema", metavar="FILE", help="JSON Schema file")
    check.add_argument("--regex", help="regular expression the whole text must match")
    check.add_argument("--grammar", metavar="FILE", help="Lark grammar file (the text derives from its start rule), "
                       "or a shipped grammar's name")
    check.add_argument("--vocab", required=True, help="vocabulary name: llama3, qwen2, gpt2, smollm2, llama2-spm, mistral-spm, ...")
    check.add_argument("--lenient", action="store_true", help="over-approximate unsupported schema keywords with a warning")
    check.add_argument("--whitespace", choices=["compact", "flexible"], help="JSON whitespace policy")
    check.add_argument("--exact", action="store_true", help="keep a trailing newline (dropped by default)")
    check.add_argument("--json", action="store_true", help='print {"results": [{"input", "accepted", "error", ...}], ...}')
    check.set_defaults(func=_cmd_check)

    bench = sub.add_parser("bench", help="benchmarks")
    bench_sub = bench.add_subparsers(dest="bench_command", required=True)
    masks = bench_sub.add_parser(
        "masks", help="MaskBench protocol on JSONSchemaBench files: guidegen vs llguidance and XGrammar")
    masks.add_argument("--data", required=True, metavar="DIR", help="folder of MaskBench .json files (searched recursively) or one file")
    masks.add_argument("--subset", action="append", metavar="NAME",
                       help="only files named NAME---*.json, e.g. Github_easy (repeatable or comma-separated)")
    masks.add_argument("--limit", type=int, default=None, metavar="N", help="first N schemas (per subset with --subset)")
    masks.add_argument("--by-subset", action="store_true",
                       help="also print a Markdown table with one row per subset and engine")
    _engine_options(masks, 30.0, "per schema and engine; over it counts as a compile error")
    masks.set_defaults(func=_cmd_bench_masks)
    gram = bench_sub.add_parser(
        "grammar", help="a Lark grammar on input texts: mask times and time to first mask, every engine")
    gram.add_argument("--grammar", required=True, metavar="FILE", help="Lark grammar file, or a shipped grammar's name")
    gram.add_argument("--inputs", required=True, metavar="DIR", help="folder of input texts (searched recursively) or one file")
    _engine_options(gram, 120.0, "per engine")
    gram.set_defaults(func=_cmd_bench_grammar)
    return parser


def _engine_options(parser: argparse.ArgumentParser, timeout: float, timeout_help: str) -> None:
    """The options every benchmark takes: vocabulary, engines, time limit, JSON output, quiet."""
    parser.add_argument("--vocab", default="llama3", help="vocabulary name (default: llama3)")
    parser.add_argument("--engines", default=None,
                        help="comma-separated: guidegen,llguidance,xgrammar (default: guidegen and the installed anchors)")
    parser.add_argument("--timeout", type=float, default=timeout, metavar="S", help=f"{timeout_help} (default {timeout:g})")
    parser.add_argument("--json", metavar="OUT", help="write the per-engine summary as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress output")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except GuidegenError as exc:
        print(f"guidegen: error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"guidegen: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
