"""What the widget is told about a dialogue's trigger. The widget evaluates triggers (it sees time, scrolling and the
mouse); the server only describes them, and says when one was already met in an earlier visit."""

from __future__ import annotations

from typing import Any

from overture.dialogues.document import Trigger, TriggerKind


def describe(trigger: Trigger, carried_over: bool = False) -> dict[str, Any]:
    """The trigger as the widget reads it: `{"on": "time_on_page", "seconds": 20}`, `{"on": "scroll_percent",
    "percent": 60}`, `{"on": "exit_intent"}`... A trigger met in an earlier visit carries over: the dialogue shows at
    once, `{"on": "page_load", "carried_over": true}`."""
    if carried_over:
        return {"on": TriggerKind.page_load.value, "carried_over": True}
    described: dict[str, Any] = {"on": trigger.on.value}
    if trigger.seconds is not None:
        described["seconds"] = trigger.seconds
    if trigger.percent is not None:
        described["percent"] = trigger.percent
    return described
