"""What plugins implement (processors, monitors, draft proposers) and the context they receive.

First-party plugins use exactly this module and the hooks in :mod:`guidegen.hookspecs`, nothing
else, so a third party can do everything they do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping, Sequence

import torch

from .request import GenerationRequest

if TYPE_CHECKING:
    from .constraint import ConstraintState
    from .model import LoadedModel


@dataclass
class RowContext:
    """One sequence at one decoding step, as a logits processor sees it.

    The processor receives ``1 + len(draft_ids)`` logits rows: row ``p`` scores the token that
    follows ``prompt_ids + generated_ids + draft_ids[:p]`` (row 0 is the ordinary next token; the
    others verify speculative draft tokens). ``aux_logits[name]`` holds the rows of the auxiliary
    prompt the processor asked for under ``name``, at the same positions.
    """

    request: GenerationRequest
    model: "LoadedModel"
    prompt_ids: Sequence[int]
    generated_ids: Sequence[int]
    draft_ids: Sequence[int]
    aux_logits: Mapping[str, torch.Tensor] = field(default_factory=dict)

    def tokens_at(self, position: int) -> list[int]:
        """The full token sequence that logits row ``position`` continues."""
        return [*self.prompt_ids, *self.generated_ids, *self.draft_ids[:position]]


class LogitsProcessor:
    """Rewrites a sequence's logits rows; subclass it and return instances from
    ``guidegen_logits_processors``.

    ``auxiliary_prompts`` maps a name to prompt token ids: the loop then runs that prompt beside
    the sequence, feeding it the same generated tokens, and hands its logits over as
    ``ctx.aux_logits[name]`` (classifier-free guidance, context-aware decoding).

    Processors run before the constraint mask, so no processor can re-enable a forbidden token.

    Example::

        class NoDigits(guidegen.LogitsProcessor):
            def __init__(self, digit_ids):
                self.digit_ids = torch.tensor(digit_ids)

            def __call__(self, ctx, logits):
                logits[:, self.digit_ids.to(logits.device)] = float("-inf")
                return logits
    """

    auxiliary_prompts: Mapping[str, Sequence[int]] = {}

    def __call__(self, ctx: RowContext, logits: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


@dataclass(frozen=True)
class Stop:
    """Monitor action: end this sequence now."""

    reason: str


@dataclass(frozen=True)
class Rollback:
    """Monitor action: drop the last ``n_tokens`` generated tokens and resume from there, never
    choosing any of ``ban`` as the next token at that position."""

    n_tokens: int
    ban: tuple[int, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class Flag:
    """Monitor action: record ``message`` on the result and carry on."""

    message: str


MonitorAction = Stop | Rollback | Flag


@dataclass
class MonitorContext:
    """A sequence right after new tokens were committed.

    ``logits`` are the processed rows that chose ``new_ids`` (one row per new token).
    """

    request: GenerationRequest
    model: "LoadedModel"
    prompt_ids: Sequence[int]
    generated_ids: Sequence[int]
    new_ids: Sequence[int]
    logits: torch.Tensor

    def text(self) -> str:
        return self.model.tokenizer.decode(list(self.generated_ids), skip_special_tokens=True)


class Monitor:
    """Watches every step of a sequence and may stop it, flag it or roll it back.

    ``max_rollback`` bounds how many tokens ``observe`` may ever roll back; streaming holds that
    many tokens back so a rollback never retracts text already shown.
    """

    max_rollback: int = 0

    def observe(self, ctx: MonitorContext) -> MonitorAction | None:
        raise NotImplementedError


@dataclass
class DraftContext:
    """What a draft proposer may look at. ``constraint_state`` is a private fork (or None)."""

    request: GenerationRequest
    model: "LoadedModel"
    prompt_ids: Sequence[int]
    generated_ids: Sequence[int]
    constraint_state: "ConstraintState | None"


class DraftProposer:
    """Guesses the next tokens cheaply; the loop verifies them in one forward pass and keeps the
    longest prefix the target distribution accepts (lossless)."""

    def propose(self, ctx: DraftContext, max_tokens: int) -> list[int]:
        raise NotImplementedError


@dataclass
class StepReport:
    """Passed to ``guidegen_generation_step`` observers after each decoding step."""

    step: int
    row: int
    request: GenerationRequest
    new_ids: Sequence[int]
    drafted: int
    accepted: int
