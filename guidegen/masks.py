"""Packed token bitmasks and applying them to logits on the logits' own device.

A mask row is ``int32[ceil(V/32)]``: token ``t`` is allowed when bit ``t & 31`` of word ``t >> 5`` is
set (the layout of llguidance, xgrammar and vLLM). A batch is ``int32[B, W]`` (or ``[B, P, W]`` for
several positions per sequence, as in speculative verification).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["allocate_bitmask", "bitmask_width", "fill_all", "apply_bitmask_", "unpack_bitmask"]


def bitmask_width(vocab_size: int) -> int:
    """Number of int32 words needed for ``vocab_size`` tokens."""
    return (int(vocab_size) + 31) // 32


def allocate_bitmask(batch: int, vocab_size: int) -> np.ndarray:
    """A zeroed (nothing allowed) ``int32[batch, ceil(vocab_size/32)]`` bitmask."""
    if batch < 0 or vocab_size <= 0:
        raise ValueError(f"need batch >= 0 and vocab_size > 0, got batch={batch}, vocab_size={vocab_size}")
    return np.zeros((int(batch), bitmask_width(vocab_size)), dtype=np.int32)


def fill_all(row: np.ndarray, vocab_size: int | None = None) -> None:
    """Allow every token in ``row`` (any shape, last axis = words), in place.

    With ``vocab_size`` the padding bits past the last real token stay clear.
    """
    if row.dtype not in (np.int32, np.uint32):
        raise ValueError(f"bitmask must be int32, got {row.dtype}")
    row[...] = -1 if row.dtype == np.int32 else np.uint32(0xFFFFFFFF)
    if vocab_size is not None:
        width = row.shape[-1]
        if bitmask_width(vocab_size) != width:
            raise ValueError(f"a bitmask for {vocab_size} tokens has {bitmask_width(vocab_size)} words, got {width}")
        rem = vocab_size & 31
        if rem:
            last = np.uint32((1 << rem) - 1)
            row[..., -1] = last.view(np.int32) if row.dtype == np.int32 else last


def set_bits(row: np.ndarray, ids: Iterable[int]) -> None:
    """Set the bits of token ids ``ids`` in a packed row (ids past the row are ignored)."""
    words = row.view(np.uint32)
    for t in ids:
        if 0 <= t < words.shape[0] * 32:
            words[t >> 5] |= np.uint32(1 << (t & 31))


def unpack_bitmask(row: np.ndarray, vocab_size: int) -> np.ndarray:
    """``bool[..., vocab_size]``: which tokens a packed row (or batch of rows) allows."""
    row = np.asarray(row)
    if row.dtype not in (np.int32, np.uint32):
        raise ValueError(f"bitmask must be int32, got {row.dtype}")
    if row.shape[-1] * 32 < vocab_size:
        raise ValueError(f"bitmask of {row.shape[-1]} words cannot hold {vocab_size} tokens")
    as_bytes = np.ascontiguousarray(row).astype("<u4", copy=False).view(np.uint8)
    bits = np.unpackbits(as_bytes.reshape(*row.shape[:-1], -1), axis=-1, bitorder="little")
    return bits[..., :vocab_size].astype(bool)


_LUT_CACHE: dict[Any, "torch.Tensor"] = {}


def _byte_lut(device: "torch.device", dtype: "torch.dtype") -> "torch.Tensor":
    """``[256, 8]`` table: entry ``[b, k]`` is +inf when bit ``k`` of byte ``b`` is set, else -inf.

    Gathering it by the mask's bytes and clamping the logits from above by the result keeps allowed
    logits and turns the others into -inf, branch-free (3-7x faster on CPU than ``masked_fill_``
    with an unpacked boolean mask, and the same ops run on CUDA).
    """
    key = (device, dtype)
    t = _LUT_CACHE.get(key)
    if t is None:
        import torch

        set_bits = ((torch.arange(256)[:, None] >> torch.arange(8)) & 1) == 1
        t = torch.where(set_bits, float("inf"), float("-inf")).to(device=device, dtype=dtype)
        _LUT_CACHE[key] = t
    return t


def _to_device_int32(bitmask: Any, device: "torch.device") -> "torch.Tensor":
    import torch

    if isinstance(bitmask, np.ndarray):
        if bitmask.dtype == np.uint32:
            bitmask = bitmask.view(np.int32)
        if bitmask.dtype != np.int32:
            raise ValueError(f"bitmask must be int32, got numpy {bitmask.dtype}")
        t = torch.from_numpy(np.ascontiguousarray(bitmask))
    elif isinstance(bitmask, torch.Tensor):
        if bitmask.dtype != torch.int32:
            raise ValueError(f"bitmask must be torch.int32, got {bitmask.dtype}")
        t = bitmask
    else:
        raise ValueError(f"bitmask must be a numpy array or torch tensor, got {type(bitmask).__name__}")
    if t.device != device:
        if device.type == "cuda" and t.device.type == "cpu":
            t = t.pin_memory().to(device, non_blocking=True)
        else:
            t = t.to(device)
    return t


def apply_bitmask_(
    logits: "torch.Tensor",
    bitmask: "np.ndarray | torch.Tensor",
    *,
    indices: Sequence[int] | "torch.Tensor" | None = None,
    vocab_size: int | None = None,
) -> "torch.Tensor":
    """Set ``logits`` to ``-inf`` wherever the bitmask bit is 0, in place, batch-wide, on the logits' device.

    ``logits`` is ``[B, V]`` (or ``[B, P, V]``, or ``[V]``) and ``bitmask`` the matching ``[B, W]``
    (``[B, P, W]``, ``[W]``) int32. Columns the bitmask does not cover (a model's padded output
    rows, e.g. Qwen's 151936 logits for 151669 tokens) are masked as well, as are columns from
    ``vocab_size`` on when it is given. ``indices`` restricts the update to those batch rows
    (bitmask rows are taken from the same indices). Returns ``logits``.

    Allowed logits are left bit-for-bit unchanged; a NaN logit stays NaN even where masked.
    """
    import torch

    if not isinstance(logits, torch.Tensor):
        raise ValueError(f"logits must be a torch.Tensor, got {type(logits).__name__}")
    if not logits.is_floating_point():
        raise ValueError(f"logits must be a floating-point tensor, got {logits.dtype}")
    if logits.dim() not in (1, 2, 3):
        raise ValueError(f"logits must be [V], [B, V] or [B, P, V], got shape {tuple(logits.shape)}")
    device = logits.device
    bm = _to_device_int32(bitmask, device)
    if bm.dim() != logits.dim() or tuple(bm.shape[:-1]) != tuple(logits.shape[:-1]):
        raise ValueError(
            f"bitmask shape {tuple(bm.shape)} does not match logits shape {tuple(logits.shape)} "
            "(expected the same leading dimensions and a last dimension of ceil(V/32) words)"
        )
    n_logits = logits.shape[-1]
    width = bm.shape[-1]
    if width > bitmask_width(n_logits):
        raise ValueError(
            f"bitmask has {width} words ({width * 32} tokens) but logits have only {n_logits} columns"
        )
    n_cols = min(n_logits, width * 32)
    if vocab_size is not None:
        if vocab_size <= 0:
            raise ValueError(f"vocab_size must be positive, got {vocab_size}")
        n_cols = min(n_cols, int(vocab_size))

    target = logits
    if indices is not None:
        if logits.dim() == 1:
            raise ValueError("indices need batched logits ([B, V] or [B, P, V])")
        idx = torch.as_tensor(indices, dtype=torch.long, device=device).reshape(-1)
        if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= logits.shape[0]):
            raise ValueError(f"indices out of range for a batch of {logits.shape[0]}")
        bm = bm.index_select(0, idx)
        target = logits.index_select(0, idx)

    if target.is_cuda and indices is None and target.is_contiguous():
        from . import cuda_masks  # imports Triton: only for CUDA logits

        if cuda_masks.available():
            cuda_masks.apply_rows_(target.view(-1, n_logits), bm.contiguous().view(-1, width), n_cols)
            if n_cols < n_logits:
                target[..., n_cols:] = float("-inf")
            return logits

    # unpack on the logits' device: bytes of the little-endian words -> [..., W*4, 8] bounds
    # (+inf = allowed, -inf = masked) -> clamp the logits from above
    if sys.byteorder != "little":  # pragma: no cover - the words' bytes would be reversed
        bm = bm.cpu().numpy().byteswap().view(np.int32)
        bm = torch.from_numpy(bm).to(device)
    import torch.nn.functional as F

    nbytes = bm.contiguous().view(torch.uint8)
    bounds = F.embedding(nbytes.to(torch.int32), _byte_lut(device, target.dtype)).flatten(-2)
    target[..., :n_cols].clamp_(max=bounds[..., :n_cols])
    if n_cols < n_logits:
        target[..., n_cols:] = float("-inf")
    if indices is not None:
        logits.index_copy_(0, idx, target)
    return logits
