"""The plugin host: a pluggy PluginManager that finds plugins through the ``guidegen`` entry-point
group (first-party ones included) and asks them for what each request needs."""

from __future__ import annotations

import importlib.metadata
import json
from collections import OrderedDict
from typing import Any, Iterable

import pluggy

from . import hookspecs
from .constraint import Constraint, ConstraintCompiler
from .errors import ConstraintError, GuidegenError, PluginError
from .request import GenerationRequest
from .vocab import Vocabulary

ENTRY_POINT_GROUP = "guidegen"
_CONSTRAINT_CACHE_SIZE = 64


class Host:
    """Owns the plugin manager. ``plugins`` are extra plugin objects registered after the entry
    points (handy in tests and notebooks); ``entry_points=False`` skips discovery entirely."""

    def __init__(self, plugins: Iterable[object] = (), *, entry_points: bool = True) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self._origin: dict[str, tuple[str, str | None]] = {}
        self._constraints: OrderedDict[tuple, Constraint] = OrderedDict()
        self._compilers_cache: dict[str, tuple[str, ConstraintCompiler]] | None = None
        if entry_points:
            self._load_entry_points()
        for plugin in plugins:
            self.register(plugin)

    def register(self, plugin: object, name: str | None = None, *, source: str = "registered",
                 distribution: str | None = None) -> str:
        name = name or getattr(plugin, "__name__", None) or type(plugin).__name__
        if self.pm.has_plugin(name):
            other = self._origin.get(name, ("?", None))
            raise PluginError(name, f"a plugin with this name is already registered (from {other[1] or other[0]})")
        try:
            self.pm.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:
            raise PluginError(name, str(exc)) from exc
        except ValueError as exc:
            raise PluginError(name, str(exc)) from exc
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self.pm.unregister(name=name)
            raise PluginError(name, f"implements a hook guidegen does not define: {exc}") from exc
        self._origin[name] = (source, distribution)
        self._compilers_cache = None
        return name

    def _load_entry_points(self) -> None:
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist = ep.dist.name if ep.dist is not None else None
            if self.pm.has_plugin(ep.name):
                other = self._origin[ep.name][1]
                if other == dist:
                    continue  # the same distribution seen twice on sys.path
                raise PluginError(ep.name, f"entry point name is claimed by both {other!r} and {dist!r}")
            try:
                plugin = ep.load()
            except Exception as exc:
                raise PluginError(ep.name, f"failed to load entry point {ep.value!r} from {dist!r}: {exc!r}") from exc
            source = "builtin" if dist == "guidegen" else "entry point"
            self.register(plugin, ep.name, source=source, distribution=dist)

    # -- introspection -------------------------------------------------------------------------

    def plugin_info(self) -> list[dict[str, Any]]:
        """One entry per plugin: name, hooks it implements, where it came from."""
        rows = []
        for name, plugin in self.pm.list_name_plugin():
            hooks = sorted(h.name for h in self.pm.get_hookcallers(plugin) or ())
            source, dist = self._origin.get(name, ("registered", None))
            rows.append({"name": name, "hooks": hooks, "source": source, "distribution": dist})
        return sorted(rows, key=lambda r: (r["source"] != "builtin", r["name"]))

    # -- calling hooks ---------------------------------------------------------------------------

    def _call(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call every implementation of a hook, returning ``(plugin name, result)`` pairs.

        Done by hand rather than through pluggy's caller so a failure names the plugin at fault.
        """
        hook = getattr(self.pm.hook, hook_name)
        results = []
        for impl in reversed(hook.get_hookimpls()):
            args = [kwargs[a] for a in impl.argnames]
            try:
                result = impl.function(*args)
            except GuidegenError:
                raise
            except Exception as exc:
                raise PluginError(impl.plugin_name, f"{hook_name} raised {exc!r}") from exc
            if result is not None:
                results.append((impl.plugin_name, result))
        return results

    def _collect(self, hook_name: str, kind: type | tuple[type, ...], **kwargs: Any) -> list[Any]:
        items = []
        for plugin, result in self._call(hook_name, **kwargs):
            for item in result:
                if not isinstance(item, kind):
                    raise PluginError(plugin, f"{hook_name} returned {item!r}, expected {kind}")
                items.append(item)
        return items

    def notify(self, hook_name: str, **kwargs: Any) -> None:
        self._call(hook_name, **kwargs)

    def options(self) -> dict[str, tuple[str, str]]:
        """Declared request options: ``{option: (plugin, description)}``."""
        declared: dict[str, tuple[str, str]] = {}
        for plugin, result in self._call("guidegen_options"):
            for option, description in dict(result).items():
                if option in declared:
                    raise PluginError(plugin, f"option {option!r} is already declared by plugin {declared[option][0]!r}")
                declared[option] = (plugin, description)
        return declared

    def compilers(self) -> dict[str, tuple[str, ConstraintCompiler]]:
        if self._compilers_cache is None:
            found: dict[str, tuple[str, ConstraintCompiler]] = {}
            for plugin, result in self._call("guidegen_constraint_compilers"):
                for compiler in result:
                    kind = getattr(compiler, "kind", None)
                    if not isinstance(kind, str) or not callable(getattr(compiler, "compile", None)):
                        raise PluginError(plugin, f"{compiler!r} is not a constraint compiler (needs .kind and .compile)")
                    if kind in found:
                        raise PluginError(plugin, f"constraint kind {kind!r} is already served by plugin {found[kind][0]!r}")
                    found[kind] = (plugin, compiler)
            self._compilers_cache = found
        return self._compilers_cache

    # -- per request -----------------------------------------------------------------------------

    def validate(self, request: GenerationRequest) -> None:
        """Reject options and constraint kinds no plugin serves, naming them."""
        unknown = set(request.options) - set(self.options())
        if unknown:
            known = ", ".join(sorted(self.options())) or "none"
            raise PluginError(
                ", ".join(sorted(unknown)),
                f"no installed plugin declares this request option (known options: {known})",
            )
        for kind in request.constraint:
            if kind not in self.compilers():
                known = ", ".join(sorted(self.compilers())) or "none"
                raise ConstraintError(f"no plugin compiles constraints of kind {kind!r} (known kinds: {known})")

    def compile_constraint(self, request: GenerationRequest, vocab: Vocabulary) -> Constraint | None:
        """The request's compiled constraint, memoized per (kind, spec, options, vocabulary)."""
        if not request.constraint:
            return None
        ((kind, spec),) = request.constraint.items()
        key = (kind, _spec_key(spec), _spec_key(dict(request.constraint_options)), vocab.fingerprint)
        constraint = self._constraints.get(key)
        if constraint is None:
            plugin, compiler = self.compilers()[kind]
            constraint = compiler.compile(spec, vocab, **request.constraint_options)
            self._constraints[key] = constraint
            if len(self._constraints) > _CONSTRAINT_CACHE_SIZE:
                self._constraints.popitem(last=False)
        else:
            self._constraints.move_to_end(key)
        return constraint

    def processors(self, request: GenerationRequest, model: Any) -> list:
        from .plugin_api import LogitsProcessor

        return self._collect("guidegen_logits_processors", LogitsProcessor, request=request, model=model)

    def monitors(self, request: GenerationRequest, model: Any) -> list:
        from .plugin_api import Monitor

        return self._collect("guidegen_monitors", Monitor, request=request, model=model)

    def draft_proposers(self, request: GenerationRequest, model: Any) -> list:
        from .plugin_api import DraftProposer

        return self._collect("guidegen_draft_proposers", DraftProposer, request=request, model=model)


def _spec_key(spec: Any) -> Any:
    """A hashable identity for a constraint spec: JSON text for data, the object for classes."""
    if isinstance(spec, (dict, list, str, int, float, bool)) or spec is None:
        return json.dumps(spec, default=repr)  # key order matters: it is the property order
    return spec


_default: Host | None = None


def default_host() -> Host:
    """The process-wide host with every installed plugin loaded (created on first use)."""
    global _default
    if _default is None:
        _default = Host()
    return _default
