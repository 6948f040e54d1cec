"""Applying token bitmasks to CUDA logits (``guidegen.masks.apply_bitmask_``), timed with CUDA events.

Run on a machine with a CUDA device: ``python bench/gpu_masks.py``. Prints JSON: per dtype and batch
size, the mean time of one call with the bitmask already on the device and with it coming from
host memory (a numpy array, as a CPU-computed mask does).
"""

from __future__ import annotations

import json

import numpy as np
import torch

from guidegen.masks import apply_bitmask_

VOCAB = 128_256  # Llama-3's
CALLS = 200


def _mean_us(fn) -> float:
    for _ in range(5):
        fn()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    torch.cuda.synchronize()
    start.record()
    for _ in range(CALLS):
        fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) * 1000 / CALLS


def main() -> None:
    if not torch.cuda.is_available():
        raise SystemExit("needs a CUDA device")
    rng = np.random.default_rng(0)
    width = (VOCAB + 31) // 32
    rows = []
    for dtype in (torch.float32, torch.bfloat16):
        for batch in (1, 8, 64, 256):
            logits = torch.randn(batch, VOCAB, device="cuda", dtype=dtype)
            host = rng.integers(-(2**31), 2**31 - 1, size=(batch, width), dtype=np.int64).astype(np.int32)
            device = torch.from_numpy(host).cuda()
            rows.append({"dtype": str(dtype), "batch": batch,
                         "device_bitmask_us": round(_mean_us(lambda: apply_bitmask_(logits, device)), 2),
                         "host_bitmask_us": round(_mean_us(lambda: apply_bitmask_(logits, host)), 2)})
    print(json.dumps({"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
