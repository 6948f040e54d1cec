"""Bitmasks applied to CUDA logits by one Triton kernel, which reads each logit and its mask word
once and writes the logit back: :func:`guidegen.masks.apply_bitmask_` uses it for CUDA tensors
when Triton is installed (the portable gather-and-clamp path makes a full-size temporary)."""

from __future__ import annotations

from typing import TYPE_CHECKING

try:
    import triton
    import triton.language as tl
except ImportError:  # CPU-only installs: masks.apply_bitmask_ keeps its torch path
    triton = None

if TYPE_CHECKING:
    import torch

_BLOCK = 4096  # logits per program


def available() -> bool:
    """True when the Triton kernel can run (Triton imports; the tensors must still be on CUDA)."""
    return triton is not None


if triton is not None:

    @triton.jit
    def _apply_kernel(logits_ptr, bitmask_ptr, n_cols, logits_stride, bitmask_stride, BLOCK: tl.constexpr):
        row = tl.program_id(0)
        cols = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
        inside = cols < n_cols
        words = tl.load(bitmask_ptr + row * bitmask_stride + cols // 32, mask=inside, other=0)
        allowed = ((words >> (cols % 32)) & 1) == 1
        ptrs = logits_ptr + row * logits_stride + cols
        x = tl.load(ptrs, mask=inside)
        # a NaN logit stays NaN, as under the portable path's clamp
        tl.store(ptrs, tl.where(allowed | (x != x), x, float("-inf")), mask=inside)


def apply_rows_(logits: "torch.Tensor", bitmask: "torch.Tensor", n_cols: int) -> None:
    """Mask the first ``n_cols`` columns of the CUDA rows ``logits`` ``[R, V]`` (unit column
    stride) by the int32 rows ``bitmask`` ``[R, W]`` on the same device, in place."""
    grid = (logits.shape[0], triton.cdiv(n_cols, _BLOCK))
    _apply_kernel[grid](logits, bitmask, n_cols, logits.stride(0), bitmask.stride(0), BLOCK=_BLOCK)
