"""The ``guidegen`` command line: ``generate`` and ``plugins``."""

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

    if args.schema and args.regex:
        raise GuidegenError("pass either --schema or --regex, not both")
    schema = None
    if args.schema:
        try:
            schema = json.loads(Path(args.schema).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise GuidegenError(f"cannot read schema file {args.schema}: {exc}") from exc
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
    if schema is not None or args.regex is not None:
        start = time.perf_counter()
        with progress("compiling constraint", show):
            guidegen.compile_constraint(model.vocab, schema=schema, regex=args.regex, **constraint_options)
        timings["compile_s"] = round(time.perf_counter() - start, 3)
    kwargs = dict(
        schema=schema, regex=args.regex, model=model, max_tokens=args.max_tokens,
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="guidegen", description="Constrained and guided text generation.")
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="generate text, optionally constrained by a JSON Schema or regex")
    gen.add_argument("prompt", help="the prompt (wrapped in the model's chat template when it has one)")
    gen.add_argument("--model", default=None, help="local Hugging Face model folder (default: embedded SmolLM2-135M-Instruct)")
    gen.add_argument("--schema", metavar="FILE", help="JSON Schema file the output must satisfy")
    gen.add_argument("--regex", help="regular expression the whole output must match")
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
    return parser


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
