"""A monitor that catches the model looping on the same tokens."""

from __future__ import annotations

from guidegen.hookspecs import hookimpl
from guidegen.plugin_api import Monitor, MonitorAction, MonitorContext, Rollback, Stop


class RepetitionMonitor(Monitor):
    """Detects the last ``period`` tokens repeated ``max_repeats`` times in a row (any period up to
    ``window // max_repeats``).

    With ``action="rollback"`` it removes the repeats but one and bans the token that would start
    the next lap, so the model has to take another path; with ``action="stop"`` it ends the
    sequence.
    """

    def __init__(self, max_repeats: int = 4, window: int = 64, action: str = "rollback") -> None:
        if max_repeats < 2 or window < max_repeats:
            raise ValueError("need max_repeats >= 2 and window >= max_repeats")
        if action not in ("rollback", "stop"):
            raise ValueError(f"action must be 'rollback' or 'stop', got {action!r}")
        self.max_repeats = max_repeats
        self.window = window
        self.action = action
        self.max_rollback = window

    def observe(self, ctx: MonitorContext) -> MonitorAction | None:
        tokens = ctx.generated_ids
        for period in range(1, self.window // self.max_repeats + 1):
            span = period * self.max_repeats
            if span > len(tokens):
                break
            lap = tokens[-period:]
            if all(tokens[-span + k * period : len(tokens) - span + (k + 1) * period] == lap for k in range(self.max_repeats)):
                reason = f"{self.max_repeats} repeats of a {period}-token cycle"
                if self.action == "stop":
                    return Stop(reason)
                return Rollback(period * (self.max_repeats - 1), ban=(lap[0],), reason=reason)
        return None


@hookimpl
def guidegen_options():
    return {
        "repetition": "stop or undo loops: true, or {max_repeats, window, action: rollback|stop}",
    }


@hookimpl
def guidegen_monitors(request):
    setting = request.options.get("repetition")
    if not setting:
        return []
    return [RepetitionMonitor(**(setting if isinstance(setting, dict) else {}))]
