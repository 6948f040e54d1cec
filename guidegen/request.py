"""What a caller asks for and what comes back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

Prompt = str | Sequence[Mapping[str, str]]
"""A plain string, or chat messages (``[{"role": "user", "content": "..."}]``)."""


@dataclass(frozen=True)
class SamplingParams:
    """How the next token is chosen from the processed logits.

    ``temperature == 0`` is greedy decoding. ``top_k``, ``top_p`` and ``min_p`` filter the
    distribution in that order; ``seed`` makes sampling reproducible for this sequence alone,
    whatever else shares the batch.
    """

    temperature: float = 0.0
    top_k: int = 0
    top_p: float = 1.0
    min_p: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if self.top_k < 0:
            raise ValueError(f"top_k must be >= 0 (0 disables it), got {self.top_k}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if not 0 <= self.min_p < 1:
            raise ValueError(f"min_p must be in [0, 1), got {self.min_p}")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0


@dataclass
class GenerationRequest:
    """One sequence to generate.

    ``constraint`` maps a constraint kind to its specification, e.g. ``{"schema": {...}}`` or
    ``{"regex": "[0-9]+"}``; the host finds the compiler for that kind among the plugins.
    ``options`` carries plugin options (``negative_prompt``, ``prompt_lookup``, ...); every key
    must be declared by some plugin, so a typo is an error and not a silently ignored feature.
    """

    prompt: Prompt
    constraint: Mapping[str, Any] = field(default_factory=dict)
    constraint_options: Mapping[str, Any] = field(default_factory=dict)
    sampling: SamplingParams = field(default_factory=SamplingParams)
    max_tokens: int = 256
    stop: Sequence[str] = ()
    chat: bool | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.max_tokens < 1:
            raise ValueError(f"max_tokens must be >= 1, got {self.max_tokens}")
        if len(self.constraint) > 1:
            raise ValueError(f"one constraint per request, got {sorted(self.constraint)}")
        if isinstance(self.stop, str):
            self.stop = (self.stop,)
        if any(not s for s in self.stop):
            raise ValueError("stop strings must be non-empty")


@dataclass
class GenerationStats:
    prompt_tokens: int = 0
    generated_tokens: int = 0
    forward_passes: int = 0
    drafted_tokens: int = 0
    accepted_draft_tokens: int = 0
    rollbacks: int = 0
    compile_s: float = 0.0
    prefill_s: float = 0.0
    decode_s: float = 0.0
    mask_s: float = 0.0

    @property
    def tokens_per_s(self) -> float:
        return self.generated_tokens / self.decode_s if self.decode_s > 0 else 0.0

    def as_dict(self) -> dict[str, float | int]:
        out = dict(vars(self))
        out["tokens_per_s"] = round(self.tokens_per_s, 3)
        return out


@dataclass
class GenerationResult:
    """The outcome of one request.

    ``finish_reason`` is one of ``"eos"``, ``"constraint"`` (the constraint admits nothing more),
    ``"stop"`` (a stop string), ``"length"`` (max_tokens) or ``"monitor"`` (a monitor stopped it).
    ``value`` is the constraint's parsed value (a dict, a pydantic model, the matched text), or
    None when there was no constraint or the text is incomplete.
    """

    text: str
    token_ids: list[int]
    finish_reason: str
    value: Any = None
    stats: GenerationStats = field(default_factory=GenerationStats)
    flags: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        value = self.value
        if hasattr(value, "model_dump"):
            value = value.model_dump(mode="json")
        return {
            "text": self.text,
            "value": value,
            "tokens": len(self.token_ids),
            "token_ids": self.token_ids,
            "finish_reason": self.finish_reason,
            "flags": self.flags,
            "stats": self.stats.as_dict(),
        }
