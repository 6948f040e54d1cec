"""End-to-end decoding speed on the default model: unconstrained vs regex vs JSON Schema, and
prompt-lookup drafting. Run: ``.venv/bin/python bench/e2e.py [--max-tokens N] [--repeat R]``."""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import guidegen

SCHEMA = json.loads((Path(__file__).parent.parent / "examples" / "person.schema.json").read_text())
PROMPT = "Invent a person: name, age and favourite programming languages, as JSON."
CASES = {
    "unconstrained": {},
    "regex": {"regex": r"\{\"name\":\"[A-Za-z ]{1,30}\",\"age\":[0-9]{1,3}\}"},
    "json_schema": {"schema": SCHEMA},
    "unconstrained+prompt_lookup": {"prompt_lookup": True},
    "json_schema+prompt_lookup": {"schema": SCHEMA, "prompt_lookup": True},
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--device", default=None)
    args = parser.parse_args()
    start = time.perf_counter()
    model = guidegen.load_model(device=args.device)
    print(f"model load: {time.perf_counter() - start:.2f} s on {model.device}")
    guidegen.generate(PROMPT, model=model, max_tokens=4)  # warm-up
    print(f"{'case':<30}{'tokens':>8}{'tok/s':>9}{'fwd':>6}{'compile ms':>12}{'mask ms/tok':>13}")
    for name, kwargs in CASES.items():
        runs = [guidegen.generate(PROMPT, model=model, max_tokens=args.max_tokens, **kwargs) for _ in range(args.repeat)]
        stats = [r.stats for r in runs]
        total_s = [s.prefill_s + s.decode_s for s in stats]
        tokens = stats[0].generated_tokens
        rate = statistics.median(s.generated_tokens / t for s, t in zip(stats, total_s))
        mask_ms = statistics.median(1000 * s.mask_s / max(1, s.forward_passes) for s in stats)
        print(f"{name:<30}{tokens:>8}{rate:>9.1f}{stats[0].forward_passes:>6}"
              f"{1000 * stats[0].compile_s:>12.1f}{mask_ms:>13.3f}")


if __name__ == "__main__":
    main()
