"""Meetings (no two of one agent overlap: an exclusion constraint on PostgreSQL, triggers on SQLite), calendar
connections and their busy-time cache, agents’ availability settings, account owners, routing rules, meeting types
and the visitor’s time zone on conversations, and each site's invitation email body.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WORKING_WEEK = json.dumps({day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")})


def upgrade() -> None:
    op.create_table(
        "account_owners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_name", sa.String(length=200), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_account_owners_agent_id_agents"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_owners")),
        sa.UniqueConstraint("domain", name=op.f("uq_account_owners_domain")),
    )
    with op.batch_alter_table("account_owners", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_owners_agent_id"), ["agent_id"], unique=False)

    op.create_table(
        "calendar_busy_cache",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("range_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("range_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("intervals", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_calendar_busy_cache_agent_id_agents"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("agent_id", name=op.f("pk_calendar_busy_cache")),
    )
    op.create_table(
        "calendar_connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("problem", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_calendar_connections_agent_id_agents"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_connections")),
        sa.UniqueConstraint("agent_id", name=op.f("uq_calendar_connections_agent_id")),
    )
    op.create_table(
        "meeting_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=True),
        sa.Column("buffer_before_minutes", sa.Integer(), nullable=True),
        sa.Column("buffer_after_minutes", sa.Integer(), nullable=True),
        sa.Column("notice_minutes", sa.Integer(), nullable=True),
        sa.Column("horizon_days", sa.Integer(), nullable=True),
        sa.Column("step_minutes", sa.Integer(), nullable=True),
        sa.Column("daily_max", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_meeting_types_team_id_teams"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_types")),
        sa.UniqueConstraint("key", name=op.f("uq_meeting_types_key")),
    )
    op.create_table(
        "routing_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_routing_rules_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rules")),
        sa.UniqueConstraint("key", name=op.f("uq_routing_rules_key")),
        sa.UniqueConstraint("team_id", name=op.f("uq_routing_rules_team_id")),
    )
    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("uid", sa.String(length=255), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("dialogue_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("meeting_type_id", sa.Integer(), nullable=True),
        sa.Column("routing_decision_id", sa.Integer(), nullable=True),
        sa.Column("site_key", sa.String(length=80), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("visitor_zone", sa.String(length=64), nullable=False),
        sa.Column("meeting_link", sa.String(length=2000), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("calendar_state", sa.String(length=16), nullable=False),
        sa.Column("calendar_href", sa.String(length=2000), nullable=True),
        sa.Column("calendar_etag", sa.String(length=255), nullable=True),
        sa.Column("calendar_attempts", sa.Integer(), nullable=False),
        sa.Column("calendar_retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("calendar_error", sa.Text(), nullable=True),
        sa.Column("calendar_removals", sa.JSON(), nullable=False),
        sa.Column("reminders_sent", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_meetings_agent_id_agents"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_meetings_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["dialogue_id"], ["dialogues.id"], name=op.f("fk_meetings_dialogue_id_dialogues"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["meeting_type_id"],
            ["meeting_types.id"],
            name=op.f("fk_meetings_meeting_type_id_meeting_types"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_meetings_person_id_people"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["routing_decision_id"],
            ["routing_decisions.id"],
            name=op.f("fk_meetings_routing_decision_id_routing_decisions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_meetings_team_id_teams"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
        sa.UniqueConstraint("public_id", name=op.f("uq_meetings_public_id")),
        sa.UniqueConstraint("uid", name=op.f("uq_meetings_uid")),
    )
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.create_index("ix_meetings_agent_starts", ["agent_id", "starts_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_meetings_person_id"), ["person_id"], unique=False)
        batch_op.create_index("ix_meetings_starts_at", ["starts_at"], unique=False)
    _forbid_overlapping_meetings()

    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("display_name", sa.String(length=200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("photo_url", sa.String(length=2000), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("time_zone", sa.String(length=64), nullable=False, server_default="UTC"))
        batch_op.add_column(
            sa.Column(
                "weekly_hours",
                sa.JSON(),
                nullable=False,
                server_default=WORKING_WEEK,
            )
        )
        batch_op.add_column(sa.Column("date_overrides", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("out_of_office", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("duration_minutes", sa.Integer(), nullable=False, server_default="30"))
        batch_op.add_column(sa.Column("buffer_before_minutes", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("buffer_after_minutes", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("notice_minutes", sa.Integer(), nullable=False, server_default="1440"))
        batch_op.add_column(sa.Column("horizon_days", sa.Integer(), nullable=False, server_default="28"))
        batch_op.add_column(sa.Column("step_minutes", sa.Integer(), nullable=False, server_default="30"))
        batch_op.add_column(sa.Column("daily_max", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("weekly_max", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("meeting_link", sa.String(length=2000), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("attention", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("attention_since", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))

    with op.batch_alter_table("routing_decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mode", sa.String(length=20), nullable=False, server_default="round_robin"))
        batch_op.add_column(sa.Column("note", sa.String(length=500), nullable=False, server_default=""))
        batch_op.alter_column("team_id", existing_type=sa.INTEGER(), nullable=True)
        # A deleted team keeps its past routings (and the meetings their "why"): the decision loses its team only.
        batch_op.drop_constraint("fk_routing_decisions_team_id_teams", type_="foreignkey")
        batch_op.create_foreign_key(
            "fk_routing_decisions_team_id_teams", "teams", ["team_id"], ["id"], ondelete="SET NULL"
        )

    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("invitation_body", sa.Text(), nullable=True))

    with op.batch_alter_table("team_members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("credits", sa.Integer(), nullable=False, server_default="0"))

    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=10), nullable=False, server_default="team"))
        batch_op.add_column(sa.Column("credit_back", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.drop_column("credit_back")
        batch_op.drop_column("kind")

    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_column("invitation_body")

    with op.batch_alter_table("team_members", schema=None) as batch_op:
        batch_op.drop_column("credits")

    with op.batch_alter_table("routing_decisions", schema=None) as batch_op:
        batch_op.drop_constraint("fk_routing_decisions_team_id_teams", type_="foreignkey")
        batch_op.create_foreign_key(
            "fk_routing_decisions_team_id_teams", "teams", ["team_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.alter_column("team_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("note")
        batch_op.drop_column("mode")

    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("time_zone")

    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("attention_since")
        batch_op.drop_column("attention")
        batch_op.drop_column("meeting_link")
        batch_op.drop_column("weekly_max")
        batch_op.drop_column("daily_max")
        batch_op.drop_column("step_minutes")
        batch_op.drop_column("horizon_days")
        batch_op.drop_column("notice_minutes")
        batch_op.drop_column("buffer_after_minutes")
        batch_op.drop_column("buffer_before_minutes")
        batch_op.drop_column("duration_minutes")
        batch_op.drop_column("out_of_office")
        batch_op.drop_column("date_overrides")
        batch_op.drop_column("weekly_hours")
        batch_op.drop_column("time_zone")
        batch_op.drop_column("photo_url")
        batch_op.drop_column("display_name")

    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_index("ix_meetings_starts_at")
        batch_op.drop_index(batch_op.f("ix_meetings_person_id"))
        batch_op.drop_index("ix_meetings_agent_starts")

    _allow_overlapping_meetings()
    op.drop_table("meetings")
    op.drop_table("routing_rules")
    op.drop_table("meeting_types")
    op.drop_table("calendar_connections")
    op.drop_table("calendar_busy_cache")
    with op.batch_alter_table("account_owners", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_owners_agent_id"))

    op.drop_table("account_owners")


# Two meetings of one agent that are not cancelled never overlap ([start, end) ranges), whatever process writes
# them: the database refuses the second. The name is what scheduling.booking recognises in the error.
OVERLAP = "meetings_no_overlap"


def _forbid_overlapping_meetings() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            f"ALTER TABLE meetings ADD CONSTRAINT {OVERLAP} EXCLUDE USING gist "
            "(agent_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) WHERE (status <> 'cancelled')"
        )
        return
    # SQLite stores the times as text of one fixed format, so text order is time order.
    overlap = (
        "SELECT 1 FROM meetings WHERE agent_id = NEW.agent_id AND status <> 'cancelled' AND id IS NOT NEW.id "
        "AND starts_at < NEW.ends_at AND NEW.starts_at < ends_at"
    )
    op.execute(
        f"CREATE TRIGGER {OVERLAP}_insert BEFORE INSERT ON meetings WHEN NEW.status <> 'cancelled' "
        f"AND EXISTS ({overlap}) BEGIN SELECT RAISE(ABORT, '{OVERLAP}'); END"
    )
    op.execute(
        f"CREATE TRIGGER {OVERLAP}_update BEFORE UPDATE OF agent_id, starts_at, ends_at, status ON meetings "
        f"WHEN NEW.status <> 'cancelled' AND EXISTS ({overlap}) BEGIN SELECT RAISE(ABORT, '{OVERLAP}'); END"
    )


def _allow_overlapping_meetings() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE meetings DROP CONSTRAINT IF EXISTS {OVERLAP}")
        return
    op.execute(f"DROP TRIGGER IF EXISTS {OVERLAP}_insert")
    op.execute(f"DROP TRIGGER IF EXISTS {OVERLAP}_update")
