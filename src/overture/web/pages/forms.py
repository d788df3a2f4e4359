"""One way to refuse a form, as Django gives every page one: the transaction is rolled back (nothing half-written is
kept), and the page shows again with the values typed, the message, and each problem beside its field.

The one rule for "which field a problem is about": a problem's path names a field of the form when the path, or its
longest dotted prefix, is one of the form's names (`choices.2` is about `choices`; `colors.header` is a field of the
Appearance form); a page whose service names a field otherwise passes a small mapping (`{"password": "new_password"}`).
A path naming no field falls to its first part. When several problems are about one field, the first one is shown
beside it (the service lists the plainest first); every problem stays listed in `all_problems`. A field of one
entry per line (a textarea the page names in `lines`) is the exception: each problem says its line ("Line 3: ..."),
and all of them show beside it, since each line is fixed on its own.

A form's fields are a pydantic model read with `Posted` (`form: Posted[TeamForm]`): declared once with their
limits, and shown again as typed with `form.model_dump()`. A form that worked answers with
`rendering.succeeded` (the success flashed, then a redirect).

The template side is templates/admin/forms.html: `forms.csrf()`, `forms.field(...)`, `forms.select(...)`,
`forms.invalid(...)`, `forms.problem(...)` read the `problems` this module hands the page.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Form, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from overture.errors import OvertureError, Problem
from overture.web.pages.rendering import flash, redirect

FormModel = TypeVar("FormModel")

# A form read into its pydantic model (`form: Posted[TeamForm]`): the fields and their limits are declared once, in
# the model, and a refused form shows `form.model_dump()` again, the values as typed.
Posted = Annotated[FormModel, Form()]


class MeetingLimitsForm(BaseModel):
    """The numbers both an agent's settings and a meeting type's set (scheduling/limits.py's
    MEETING_TYPE_SETTINGS), as typed: the services read and bound them, so that each mistake shows at its field."""

    duration_minutes: str = Field("", max_length=20)
    buffer_before_minutes: str = Field("", max_length=20)
    buffer_after_minutes: str = Field("", max_length=20)
    notice_minutes: str = Field("", max_length=20)
    horizon_days: str = Field("", max_length=20)
    step_minutes: str = Field("", max_length=20)
    daily_max: str = Field("", max_length=20)


@dataclass(frozen=True)
class Refusal:
    """What a refused form shows: the status to answer with, the values typed (to fill the form again), the
    message, each problem's message by the field it is about, and every problem as the service listed them."""

    status: int
    message: str
    values: Mapping[str, Any]
    problems: dict[str, str]
    all_problems: list[Problem]

    @property
    def sentence(self) -> str:
        """The message and each problem's own that it does not already say, in one line: for a refusal shown in one
        place (a flash)."""
        return " ".join([self.message, *(p.message for p in self.all_problems if p.message not in self.message)])

    def shown(self, prefix: str = "") -> dict[str, Any]:
        """The template's values: `status`, and `form`, `error`, `problems`, `all_problems`, named with `prefix`
        on a page of several forms (`team_` gives `team_form`, `team_error`, `team_problems`)."""
        named = {"form": dict(self.values), "error": self.message, "problems": self.problems,
                 "all_problems": self.all_problems}  # fmt: skip
        return {"status": self.status, **{prefix + name: value for name, value in named.items()}}


def field_of(path: str, names: Mapping[str, Any], fields: Mapping[str, str]) -> str:
    """The form field a problem's path is about (see the module's rule)."""
    parts = path.split(".")
    for end in range(len(parts), 0, -1):
        head = ".".join(parts[:end])
        if head in fields:
            return fields[head]
        if head in names:
            return head
    return parts[0]


def refuse(
    session: Session,
    exc: OvertureError,
    values: Mapping[str, Any],
    fields: Mapping[str, str] | None = None,
    lines: Collection[str] = (),
) -> Refusal:
    """Rolls the request's transaction back and says what the refused form shows again. `values` are the form's
    values as typed, by field name; `fields` maps a problem path the service uses to the page's field name, for the
    few pages whose names differ; `lines` names the fields of one entry per line (see the module's rule)."""
    session.rollback()
    by_field: dict[str, str] = {}
    for problem in exc.problems:
        field = field_of(problem.path, values, fields or {})
        line = problem.path.removeprefix(field + ".").split(".")[0] if field in lines else ""
        if line.isdigit():
            said = f"Line {int(line) + 1}: {problem.message}"
            by_field[field] = f"{by_field[field]} {said}" if field in by_field else said
        else:
            by_field.setdefault(field, problem.message)
    return Refusal(exc.status, exc.message, values, by_field, list(exc.problems))


def refuse_with_flash(request: Request, session: Session, exc: OvertureError, url: str, lead: str = "") -> Response:
    """For a form of one button (delete, pause, clone...): rolls back, shows the refusal as a flash on `url` (the
    page the button is on) and goes back there. `lead` starts the sentence ("Not cloned: ")."""
    refused = refuse(session, exc, {})
    flash(request, lead + refused.sentence, "error")
    return redirect(url)
