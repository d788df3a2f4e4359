"""Programs with their ordered statuses, static lists, their members and the history of every membership change
(programs/models.py, docs/programs.md). New tables only: nothing existing changes.

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _named() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("name_key", sa.String(length=120), nullable=False),
    ]


def _source() -> list[sa.Column[object]]:
    return [
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_kind", sa.String(length=20), nullable=False),
        sa.Column("source_ref", sa.String(length=100), nullable=False),
    ]


def _person(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["person_id"], ["people.id"], name=op.f(f"fk_{table}_person_id_people"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "programs",
        *_named(),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programs")),
        sa.UniqueConstraint("name_key", name=op.f("uq_programs_name_key")),
    )
    op.create_table(
        "static_lists",
        *_named(),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_static_lists")),
        sa.UniqueConstraint("name_key", name=op.f("uq_static_lists_name_key")),
    )
    op.create_table(
        "program_statuses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("name_key", sa.String(length=60), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_program_statuses_program_id_programs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_statuses")),
        sa.UniqueConstraint("program_id", "name_key", name="uq_program_statuses_program_name"),
    )
    op.create_index(op.f("ix_program_statuses_program_id"), "program_statuses", ["program_id"])
    op.create_table(
        "program_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("status_id", sa.Integer(), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        _person("program_members"),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_program_members_program_id_programs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["status_id"],
            ["program_statuses.id"],
            name=op.f("fk_program_members_status_id_program_statuses"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_members")),
        sa.UniqueConstraint("program_id", "person_id", name="uq_program_members_program_person"),
    )
    op.create_index(op.f("ix_program_members_person_id"), "program_members", ["person_id"])
    op.create_index("ix_program_members_program_status", "program_members", ["program_id", "status_id"])
    op.create_index(op.f("ix_program_members_status_id"), "program_members", ["status_id"])
    op.create_table(
        "program_member_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=60), nullable=True),
        sa.Column("from_step", sa.Integer(), nullable=True),
        sa.Column("to_status", sa.String(length=60), nullable=True),
        sa.Column("to_step", sa.Integer(), nullable=True),
        *_source(),
        _person("program_member_changes"),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_program_member_changes_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_member_changes")),
    )
    op.create_index(
        "ix_program_member_changes_person_program", "program_member_changes", ["person_id", "program_id", "id"]
    )
    op.create_index(op.f("ix_program_member_changes_program_id"), "program_member_changes", ["program_id"])
    op.create_table(
        "list_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"], ["static_lists.id"], name=op.f("fk_list_members_list_id_static_lists"), ondelete="CASCADE"
        ),
        _person("list_members"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_list_members")),
        sa.UniqueConstraint("list_id", "person_id", name="uq_list_members_list_person"),
    )
    op.create_index(op.f("ix_list_members_person_id"), "list_members", ["person_id"])
    op.create_table(
        "list_member_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        *_source(),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["static_lists.id"],
            name=op.f("fk_list_member_changes_list_id_static_lists"),
            ondelete="CASCADE",
        ),
        _person("list_member_changes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_list_member_changes")),
    )
    op.create_index(op.f("ix_list_member_changes_list_id"), "list_member_changes", ["list_id"])
    op.create_index("ix_list_member_changes_person_list", "list_member_changes", ["person_id", "list_id", "id"])


def downgrade() -> None:
    for table in ("list_member_changes", "list_members", "program_member_changes", "program_members",
                  "program_statuses", "static_lists", "programs"):  # fmt: skip
        op.drop_table(table)
