"""guidegen: grammar-constrained and guided generation for Hugging Face transformers.

    >>> import guidegen
    >>> result = guidegen.generate("Give me a person as JSON", schema={"type": "object", ...})
    >>> result.value
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from .constraint import Constraint, ConstraintCompiler, ConstraintState
from .errors import (
    ConstraintError,
    GuidegenError,
    ModelLoadError,
    PluginError,
    RegexError,
    SchemaError,
    UnsupportedSchemaError,
    VocabularyError,
)
from .grammar.shipped import shipped_grammar, shipped_grammar_names
from .hookspecs import hookimpl, hookspec
from .host import Host, default_host
from .loop import TokenLoop
from .model import LoadedModel, load_model
from .plugin_api import (
    DraftContext,
    DraftProposer,
    Flag,
    LogitsProcessor,
    Monitor,
    MonitorContext,
    Rollback,
    RowContext,
    StepReport,
    Stop,
)
from .request import (
    GenerationRequest,
    GenerationResult,
    GenerationStats,
    Prompt,
    SamplingParams,
)
from .vocab import Vocabulary

__all__ = [
    "Constraint", "ConstraintCompiler", "ConstraintError", "ConstraintState", "DraftContext",
    "DraftProposer", "Flag", "GenerationRequest", "GenerationResult", "GenerationStats",
    "GuidegenError", "Host", "LoadedModel", "LogitsProcessor", "ModelLoadError", "Monitor",
    "MonitorContext", "PluginError", "RegexError", "Rollback", "RowContext", "SamplingParams",
    "SchemaError", "StepReport", "Stop", "TokenLoop", "UnsupportedSchemaError", "Vocabulary",
    "VocabularyError", "compile_constraint", "default_host", "generate", "generate_batch",
    "hookimpl", "hookspec", "load_model", "make_request", "shipped_grammar", "shipped_grammar_names", "stream",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import version

        return version("guidegen")
    raise AttributeError(name)


def make_request(
    prompt: Prompt,
    *,
    schema: Any = None,
    regex: str | None = None,
    grammar: str | None = None,
    max_tokens: int = 256,
    temperature: float = 0.0,
    top_k: int = 0,
    top_p: float = 1.0,
    min_p: float = 0.0,
    seed: int | None = None,
    stop: str | list[str] = (),
    chat: bool | None = None,
    constraint_options: Mapping[str, Any] | None = None,
    **options: Any,
) -> GenerationRequest:
    """Build a :class:`GenerationRequest` from keyword arguments (see :func:`generate`)."""
    given = {k: v for k, v in (("schema", schema), ("regex", regex), ("grammar", grammar)) if v is not None}
    if len(given) > 1:
        raise ValueError(f"pass at most one of schema=, regex= and grammar=, not {' and '.join(given)}")
    constraint = given
    return GenerationRequest(
        prompt=prompt,
        constraint=constraint,
        constraint_options=dict(constraint_options or {}),
        sampling=SamplingParams(temperature, top_k, top_p, min_p, seed),
        max_tokens=max_tokens,
        stop=(stop,) if isinstance(stop, str) else tuple(stop),
        chat=chat,
        options=options,
    )


def _resolve_model(model: LoadedModel | str | None) -> LoadedModel:
    return model if isinstance(model, LoadedModel) else load_model(model)


def generate(
    prompt: Prompt,
    *,
    schema: Any = None,
    regex: str | None = None,
    grammar: str | None = None,
    model: LoadedModel | str | None = None,
    host: Host | None = None,
    **kwargs: Any,
) -> GenerationResult:
    """Generate one completion, optionally constrained.

    Args:
        prompt: a string (wrapped in the chat template when the model has one, unless
            ``chat=False``) or a list of chat messages.
        schema: a JSON Schema dict, a pydantic model class or a type hint; ``result.value`` is the
            parsed JSON (or the model instance).
        regex: a regular expression the whole output must match.
        grammar: a Lark grammar (its text) the whole output must derive from its ``start`` rule.
        model: a :class:`LoadedModel`, a local model folder, or None for the embedded default.
        max_tokens, temperature, top_k, top_p, min_p, seed, stop, chat: decoding settings.
        constraint_options: compiler options, e.g. ``{"lenient": True, "whitespace": "flexible"}``.
        **options: plugin options such as ``negative_prompt=``, ``guidance_scale=``,
            ``prompt_lookup=True``, ``repetition=True``.

    Example::

        result = guidegen.generate("A user record", schema={"type": "object", "properties":
            {"name": {"type": "string"}}, "required": ["name"], "additionalProperties": False})
        result.value  # {'name': '...'}
    """
    request = make_request(prompt, schema=schema, regex=regex, grammar=grammar, **kwargs)
    return TokenLoop(_resolve_model(model), [request], host).run()[0]


def generate_batch(
    requests: list[GenerationRequest], *, model: LoadedModel | str | None = None, host: Host | None = None
) -> list[GenerationResult]:
    """Generate several requests in one batch (different prompts, constraints and options per row)."""
    return TokenLoop(_resolve_model(model), requests, host).run()


def stream(
    prompt: Prompt,
    *,
    schema: Any = None,
    regex: str | None = None,
    grammar: str | None = None,
    model: LoadedModel | str | None = None,
    host: Host | None = None,
    **kwargs: Any,
) -> Iterator[str]:
    """Like :func:`generate`, but yields the text as it is produced, in deltas.

    Text is held back while it could still change: an incomplete UTF-8 character, and the last
    tokens a monitor may still roll back.
    """
    loaded = _resolve_model(model)
    request = make_request(prompt, schema=schema, regex=regex, grammar=grammar, **kwargs)
    loop = TokenLoop(loaded, [request], host)
    # A stop string may be completed by a later token: keep its length minus one back.
    stop_holdback = max((len(s) for s in request.stop), default=1) - 1
    shown = ""
    for event in loop.events():
        if event.finished:
            text = loop.results[0].text
        else:
            text = loaded.decode(list(event.generated[: max(0, len(event.generated) - event.holdback)]))
            if text.endswith("\ufffd"):
                continue
            text = text[: max(0, len(text) - stop_holdback)]
        if text.startswith(shown) and len(text) > len(shown):
            yield text[len(shown) :]
            shown = text


def compile_constraint(
    vocab: Vocabulary,
    *,
    schema: Any = None,
    regex: str | None = None,
    grammar: str | None = None,
    host: Host | None = None,
    **options: Any,
) -> Constraint:
    """Compile a constraint for a vocabulary without generating (e.g. for the HF adapter)."""
    request = make_request("", schema=schema, regex=regex, grammar=grammar, constraint_options=options)
    if not request.constraint:
        raise ValueError("pass schema=, regex= or grammar=")
    host = host or default_host()
    host.validate(request)
    constraint = host.compile_constraint(request, vocab)
    assert constraint is not None
    return constraint
