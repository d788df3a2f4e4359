"""Who or what made a membership change: the `source` every change of a program status or a list records.

Small and typed so that each caller names itself the same way: the admin pages (a user), the admin API (the user
whose token called it), an automation (its id, when automations come), an import (its file or batch name), and a
merge of two people (people/identity.py). Stored as two columns, `source_kind` and `source_ref`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

REF_MAX = 100


class SourceKind(StrEnum):
    user = "user"  # an admin page; ref: the user's id
    api = "api"  # the admin API; ref: the id of the user whose token called it
    automation = "automation"  # ref: the automation's id
    import_ = "import"  # ref: the import's name (a file name, a batch)
    merge = "merge"  # two people were merged; ref: the merged person's id


SOURCE_LABELS: dict[SourceKind, str] = {
    SourceKind.user: "User",
    SourceKind.api: "API",
    SourceKind.automation: "Automation",
    SourceKind.import_: "Import",
    SourceKind.merge: "Merge",
}


@dataclass(frozen=True)
class Source:
    kind: SourceKind
    ref: str = ""

    def __post_init__(self) -> None:
        if len(self.ref) > REF_MAX:
            raise ValueError(f"a source's ref is at most {REF_MAX} characters")

    @classmethod
    def user(cls, user_id: int) -> Source:
        return cls(SourceKind.user, str(user_id))

    @classmethod
    def api(cls, user_id: int) -> Source:
        return cls(SourceKind.api, str(user_id))

    @classmethod
    def automation(cls, automation_id: int | str) -> Source:
        return cls(SourceKind.automation, str(automation_id))

    @classmethod
    def imported(cls, name: str) -> Source:
        return cls(SourceKind.import_, name[:REF_MAX])

    @classmethod
    def merged(cls, person_id: int) -> Source:
        return cls(SourceKind.merge, str(person_id))

    def as_attributes(self) -> dict[str, str]:
        """The source as an activity's attributes carry it."""
        return {"source": self.kind.value, "source_ref": self.ref}
