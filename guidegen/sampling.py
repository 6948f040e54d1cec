"""Choosing tokens from processed logits: greedy, temperature, top-k, top-p, min-p, and the
lossless acceptance rule for speculative drafts."""

from __future__ import annotations

import torch

from .request import SamplingParams


def make_generator(params: SamplingParams, device: torch.device) -> torch.Generator | None:
    """A per-sequence generator, so a seeded sequence samples the same whatever shares its batch."""
    if params.greedy:
        return None
    generator = torch.Generator(device=device)
    if params.seed is None:
        generator.seed()
    else:
        generator.manual_seed(params.seed)
    return generator


def probabilities(logits: torch.Tensor, params: SamplingParams) -> torch.Tensor:
    """The sampling distribution for each row of ``logits`` (``[..., V]``), filters applied.

    Greedy decoding gives the one-hot distribution of the argmax, so the same acceptance rule
    serves both modes.
    """
    if params.greedy:
        probs = torch.zeros_like(logits, dtype=torch.float32)
        probs.scatter_(-1, logits.argmax(dim=-1, keepdim=True), 1.0)
        return probs
    scores = logits.float() / params.temperature
    if params.top_k and params.top_k < scores.shape[-1]:
        kth = torch.topk(scores, params.top_k, dim=-1).values[..., -1:]
        scores = scores.masked_fill(scores < kth, float("-inf"))
    probs = torch.softmax(scores, dim=-1)
    if params.top_p < 1.0:
        sorted_probs, order = torch.sort(probs, dim=-1, descending=True)
        # Keep the smallest prefix whose mass reaches top_p; the first token always stays.
        outside = (sorted_probs.cumsum(-1) - sorted_probs) >= params.top_p
        sorted_probs = sorted_probs.masked_fill(outside, 0.0)
        probs = torch.zeros_like(probs).scatter_(-1, order, sorted_probs)
    if params.min_p > 0.0:
        floor = params.min_p * probs.max(dim=-1, keepdim=True).values
        probs = probs.masked_fill(probs < floor, 0.0)
    return probs / probs.sum(dim=-1, keepdim=True)


def sample(probs: torch.Tensor, generator: torch.Generator | None) -> int:
    """Draw one token id from a 1-D distribution (argmax when there is no generator)."""
    if generator is None:
        return int(probs.argmax())
    return int(torch.multinomial(probs, 1, generator=generator))


def verify_draft(
    logits: torch.Tensor,
    draft: list[int],
    params: SamplingParams,
    generator: torch.Generator | None,
) -> tuple[int, int]:
    """Speculative acceptance for a deterministic draft.

    ``logits`` holds ``len(draft) + 1`` processed rows: row ``i`` is the distribution after the
    first ``i`` draft tokens. Returns ``(n_accepted, next_token)``: the number of draft tokens
    kept and the token that follows them. Draft token ``i`` is kept with probability ``p_i(d_i)``;
    on rejection the replacement is drawn from ``p_i`` without ``d_i``. That makes the output
    distribution exactly the target's (for greedy: exactly the greedy sequence).
    """
    if generator is None:
        best = logits.argmax(dim=-1).tolist()
        for i, token in enumerate(draft):
            if best[i] != token:
                return i, best[i]
        return len(draft), best[len(draft)]
    probs = probabilities(logits, params)
    for i, token in enumerate(draft):
        p = probs[i]
        p_token = float(p[token])
        if p_token > 0 and torch.rand((), generator=generator, device=p.device) < p_token:
            continue
        residual = p.clone()
        residual[token] = 0.0
        return i, sample(residual / residual.sum(), generator)
    return len(draft), sample(probs[len(draft)], generator)
