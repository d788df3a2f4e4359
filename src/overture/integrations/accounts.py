"""What an integration module hands the registry (`registry.py`) and the service (`service.py`).

- How an admin connects it: a form (`ConnectForm`: the fields they fill in, with the help around them).
- What checking an account returns (`Account`: what to store, and the remote fields read while checking) and what
  opening a stored one is given (`Stored`).
- A remote system's field (`RemoteField`: a Marketo lead or company field) as the field mapping shows it.
- `Check`: what "test connection" says.
- `refused`: the error of a connect form, naming the field at fault.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from overture.calendars.accounts import FormField  # a field of a connect form: the same for a calendar's
from overture.errors import InvalidInput, Problem

__all__ = ["Account", "Check", "ConnectForm", "FormField", "RemoteField", "Stored", "refused"]


@dataclass(frozen=True)
class ConnectForm:
    """The form an admin fills in to connect the integration (the page and the CLI take the same fields). `intro`
    shows before the fields, `hint` after them."""

    heading: str
    fields: tuple[FormField, ...]
    button: str
    intro: str = ""
    hint: str = ""


@dataclass(frozen=True)
class RemoteField:
    """A field of the other system: which of its objects it belongs to (Marketo: "lead" or "company"), its API
    name, its label, its data type in the other system's words ("string", "date"...), and whether it can be
    written."""

    object: str
    name: str
    label: str
    type: str
    updateable: bool = True

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "type": self.type, "updateable": self.updateable}

    @classmethod
    def of(cls, object_: str, stored: Mapping[str, Any]) -> RemoteField:
        return cls(object_, str(stored["name"]), str(stored.get("label", "")), str(stored.get("type", "string")),
                   bool(stored.get("updateable", True)))  # fmt: skip


@dataclass(frozen=True)
class Account:
    """An account checked to work, ready to store. `settings` may be shown (a base URL, a client id); `secret` never
    is and is stored sealed. `fields` are the remote fields read while checking, `message` what the check says."""

    integration: str
    settings: dict[str, Any]
    secret: dict[str, Any]
    fields: tuple[RemoteField, ...] = ()
    message: str = ""


@dataclass(frozen=True)
class Stored:
    """A stored connection as its module opens it: `settings` as stored, `secret` unsealed."""

    settings: Mapping[str, Any]
    secret: Mapping[str, Any]


@dataclass(frozen=True)
class Check:
    """What "test connection" found: `ok`, a sentence for the admin saying exactly what failed (or what works),
    the remote fields read when it worked, and `failure`, the kind of failure ("BadCredentials"...)."""

    ok: bool
    message: str
    fields: tuple[RemoteField, ...] = field(default=())
    failure: str | None = None


def refused(label: str, field_name: str, message: str) -> InvalidInput:
    """The error of a refused connect form: `label` names the integration ("Marketo is not connected. ...")."""
    return InvalidInput(f"{label} is not connected. {message}", [Problem(field_name, message)])
