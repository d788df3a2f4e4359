"""Programs, their ordered statuses and members; static lists and their members; the history of every change.

A person is a member of a program at one status (`program_members`, unique per program and person) and on a list at
most once (`list_members`). Every change adds a history row (`program_member_changes`, `list_member_changes`) with
its source (see `source.py`). Member and history rows point at the person with ON DELETE CASCADE: they are the
person's data, so a privacy deletion deletes them and a merge moves them (`merging.py` first settles a program or
list both people are in; it is found through the table's `info["on_merge"]`, which people/identity.py calls).
"""

from __future__ import annotations

from datetime import datetime
from types import ModuleType

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from overture.db import Base, UTCDateTime, utcnow

NAME_MAX = 120
STATUS_NAME_MAX = 60
DESCRIPTION_MAX = 500


class Program(Base):
    __tablename__ = "programs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    # The name folded to lower case: unique, so two programs never differ only by case (and two creations at once
    # leave one).
    name_key: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    channel: Mapped[str] = mapped_column(String(20))  # a `Channel` value
    description: Mapped[str] = mapped_column(String(DESCRIPTION_MAX), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProgramStatus(Base):
    """One status of a program. `step` is its place in the order (1 is the first): reaching a higher step is
    progression. Steps are 1..n without gaps, kept so by the service (no unique index: reordering swaps them)."""

    __tablename__ = "program_statuses"
    __table_args__ = (UniqueConstraint("program_id", "name_key", name="uq_program_statuses_program_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(STATUS_NAME_MAX))
    name_key: Mapped[str] = mapped_column(String(STATUS_NAME_MAX))
    step: Mapped[int] = mapped_column(Integer)
    # A success status (Marketo's "success"): the program reached its goal for this member (e.g. Attended).
    success: Mapped[bool] = mapped_column(Boolean, default=False)


class ProgramMember(Base):
    __tablename__ = "program_members"
    __table_args__ = (
        UniqueConstraint("program_id", "person_id", name="uq_program_members_program_person"),
        Index("ix_program_members_program_status", "program_id", "status_id"),
        {"info": {"on_merge": lambda *args: _merging().program_members(*args)}},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    # RESTRICT: a status that members hold cannot be deleted (the service refuses first, with the count).
    status_id: Mapped[int] = mapped_column(ForeignKey("program_statuses.id", ondelete="RESTRICT"), index=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProgramMemberChange(Base):
    """One change of a person's membership of a program. The statuses are kept by name and step as they were (a
    status renamed or deleted later does not rewrite history); `from_status` is None when the person joined,
    `to_status` None when they were removed."""

    __tablename__ = "program_member_changes"
    __table_args__ = (Index("ix_program_member_changes_person_program", "person_id", "program_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    from_status: Mapped[str | None] = mapped_column(String(STATUS_NAME_MAX), default=None)
    from_step: Mapped[int | None] = mapped_column(Integer, default=None)
    to_status: Mapped[str | None] = mapped_column(String(STATUS_NAME_MAX), default=None)
    to_step: Mapped[int | None] = mapped_column(Integer, default=None)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source_kind: Mapped[str] = mapped_column(String(20))  # a `SourceKind` value
    source_ref: Mapped[str] = mapped_column(String(100), default="")


class StaticList(Base):
    __tablename__ = "static_lists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    name_key: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    description: Mapped[str] = mapped_column(String(DESCRIPTION_MAX), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ListMember(Base):
    __tablename__ = "list_members"
    __table_args__ = (
        UniqueConstraint("list_id", "person_id", name="uq_list_members_list_person"),
        {"info": {"on_merge": lambda *args: _merging().list_members(*args)}},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("static_lists.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ListMemberChange(Base):
    """One addition to or removal from a list (`action` "added" or "removed")."""

    __tablename__ = "list_member_changes"
    __table_args__ = (Index("ix_list_member_changes_person_list", "person_id", "list_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("static_lists.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(10))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source_kind: Mapped[str] = mapped_column(String(20))
    source_ref: Mapped[str] = mapped_column(String(100), default="")


def _merging() -> ModuleType:
    """programs/merging.py, imported when a merge first needs it: it imports this module (its tables)."""
    from overture.programs import merging

    return merging
