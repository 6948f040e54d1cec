"""JSON-Schema-Test-Suite (draft 2020-12) coverage through the real mask path, per keyword (suite file).

Every group is compiled in strict mode and every instance walked token by token through the
constraint's masks, exactly as ``tests/test_schema_suite.py`` does (the logic lives there)::

    .venv/bin/python bench/schema_suite.py [--vocab smollm2] [--optional] [--json OUT]

Columns: groups; compiled (strict); refused (the schema accepts nothing, every instance invalid);
unsupported (UnsupportedSchemaError); valid instances accepted / total and invalid instances rejected /
total, both over the compiled groups. Then the UnsupportedSchemaError keywords with their group counts,
and every instance that went the wrong way (an accepted invalid instance is an under-constraint bug).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from test_schema_suite import KNOWN_OVER_CONSTRAINTS, suite_report  # noqa: E402

from guidegen.check import load_vocabulary  # noqa: E402

COUNTS = ("groups", "compiled", "refused", "valid_accepted", "valid", "invalid_rejected", "invalid")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vocab", default="smollm2", help="a vocabulary built by `make install` (default smollm2)")
    ap.add_argument("--optional", action="store_true", help="also run optional/*.json (bignum, ecmascript-regex...)")
    ap.add_argument("--json", metavar="OUT", help="write the full report as JSON to OUT")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    tokenizer, vocab = load_vocabulary(args.vocab)
    load_s = time.perf_counter() - t0
    report = suite_report(vocab, tokenizer, optional=args.optional)
    if not report:
        print("JSON-Schema-Test-Suite not found (set GUIDEGEN_SHARED_DATA)", file=sys.stderr)
        return 2

    row = "%-36s %6s %8s %7s %7s %14s %16s"
    print(f"JSON-Schema-Test-Suite draft2020-12, strict, compact, token walk with vocab {args.vocab}")
    print(row % ("keyword (file)", "groups", "compiled", "refused", "unsupp", "valid accepted", "invalid rejected"))
    total: Counter = Counter()
    unsupported: Counter = Counter()
    for name, rep in report.items():
        total.update({k: getattr(rep, k) for k in COUNTS})
        unsupported.update(rep.unsupported)
        n_unsup = sum(rep.unsupported.values())
        total["unsupported"] += n_unsup
        print(row % (name, rep.groups, rep.compiled, rep.refused, n_unsup, f"{rep.valid_accepted}/{rep.valid}",
                     f"{rep.invalid_rejected}/{rep.invalid}"))
    print(row % ("TOTAL", total["groups"], total["compiled"], total["refused"], total["unsupported"],
                 f"{total['valid_accepted']}/{total['valid']}", f"{total['invalid_rejected']}/{total['invalid']}"))

    print("\nUnsupportedSchemaError keywords (groups):")
    for kw, n in unsupported.most_common():
        print(f"  {kw:28s} {n}")

    known = {(f, g, t) for f, g, t in KNOWN_OVER_CONSTRAINTS}
    wrong = [(name, rep) for name, rep in report.items() if rep.accepted_invalid or rep.errors]
    print("\nInvalid instances accepted (under-constraint bugs) and errors:", "none" if not wrong else "")
    for name, rep in wrong:
        for g, t, text in rep.accepted_invalid:
            print(f"  ACCEPTED INVALID {name}: {g!r} / {t!r}: {text}")
        for e in rep.errors:
            print(f"  ERROR {name}: {e}")
    print("\nValid instances rejected (over-constraints; * = not in KNOWN_OVER_CONSTRAINTS):")
    for name, rep in report.items():
        for (g, t), why in rep.rejected_valid.items():
            print(f"  {' ' if (name, g, t) in known else '*'} {name}: {g!r} / {t!r}: {why}")

    elapsed = time.perf_counter() - t0
    print(f"\n({elapsed:.1f} s, of which {load_s:.1f} s loading the vocabulary)")
    if args.json:
        out = {"vocab": args.vocab, "seconds": round(elapsed, 2), "totals": dict(total),
               "unsupported": dict(unsupported), "files": {k: r.as_dict() for k, r in report.items()}}
        Path(args.json).write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
