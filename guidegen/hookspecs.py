"""Every hook a guidegen plugin can implement. Hooks are the only door into the host.

Implementations may accept a subset of a hook's arguments (pluggy prunes the rest), so adding an
argument here never breaks an existing plugin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

import pluggy

if TYPE_CHECKING:
    from .constraint import ConstraintCompiler
    from .model import LoadedModel
    from .plugin_api import DraftProposer, LogitsProcessor, Monitor, StepReport
    from .request import GenerationRequest, GenerationResult

PROJECT = "guidegen"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def guidegen_options() -> Mapping[str, str]:
    """Declare the request options this plugin reads, as ``{name: one-line description}``.

    A request that passes an option no plugin declared is rejected, naming the option.
    """


@hookspec
def guidegen_constraint_compilers() -> Sequence["ConstraintCompiler"]:
    """Return constraint compilers, each serving one ``kind`` (``"regex"``, ``"schema"``...).

    Two plugins serving the same kind is an error naming both.
    """


@hookspec
def guidegen_logits_processors(
    request: "GenerationRequest", model: "LoadedModel"
) -> Sequence["LogitsProcessor"]:
    """Return the processors that should rewrite logits for this request (may be empty).

    They run at every position of every step, draft positions included, before the constraint.
    """


@hookspec
def guidegen_monitors(request: "GenerationRequest", model: "LoadedModel") -> Sequence["Monitor"]:
    """Return monitors that watch this request's steps and may stop, flag or roll it back."""


@hookspec
def guidegen_draft_proposers(
    request: "GenerationRequest", model: "LoadedModel"
) -> Sequence["DraftProposer"]:
    """Return draft proposers for speculative decoding of this request.

    The loop asks them in order and uses the first non-empty draft.
    """


@hookspec
def guidegen_generation_start(requests: Sequence["GenerationRequest"], model: "LoadedModel") -> None:
    """Called once before a batch is prefilled."""


@hookspec
def guidegen_generation_step(report: "StepReport") -> None:
    """Called for each sequence after each decoding step commits tokens."""


@hookspec
def guidegen_generation_end(
    requests: Sequence["GenerationRequest"], results: Sequence["GenerationResult"]
) -> None:
    """Called once when the whole batch is done."""
