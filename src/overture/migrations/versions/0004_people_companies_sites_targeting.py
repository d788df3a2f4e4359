"""People and companies, visitor identities, custom fields, sites, page views, merges, privacy log, signals.

Visitor ids move from people.visitor_id to visitor_identities (a person may have several after a merge); the
default site and the targeting signal are created.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "companies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("domain", sa.String(length=253), nullable=True),
        sa.Column("industry", sa.String(length=100), nullable=True),
        sa.Column("employees", sa.Integer(), nullable=True),
        sa.Column("revenue", sa.Float(), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("owner", sa.String(length=254), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_companies")),
    )
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_companies_name"), ["name"], unique=False)

    op.create_table(
        "field_definitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("type", sa.String(length=10), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("visitor_fillable", sa.Boolean(), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_definitions")),
        sa.UniqueConstraint("name", name=op.f("uq_field_definitions_name")),
    )
    op.create_table(
        "privacy_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("email_sha256", sa.String(length=64), nullable=True),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_actions")),
    )
    op.create_table(
        "signals",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_signals")),
    )
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("origins", sa.JSON(), nullable=False),
        sa.Column("chat_enabled", sa.Boolean(), nullable=False),
        sa.Column("blocked_email_domains", sa.JSON(), nullable=False),
        sa.Column("block_free_email", sa.Boolean(), nullable=False),
        sa.Column("blocked_email_message", sa.String(length=500), nullable=False),
        sa.Column("language_order", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
        sa.UniqueConstraint("key", name=op.f("uq_sites_key")),
    )
    op.create_table(
        "company_domains",
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_company_domains_company_id_companies"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("domain", name=op.f("pk_company_domains")),
    )
    with op.batch_alter_table("company_domains", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_company_domains_company_id"), ["company_id"], unique=False)

    op.create_table(
        "page_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("referrer", sa.String(length=2000), nullable=True),
        sa.Column("session_number", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_page_views_person_id_people"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_page_views_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_views")),
    )
    with op.batch_alter_table("page_views", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_page_views_occurred_at"), ["occurred_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_page_views_person_id"), ["person_id"], unique=False)

    op.create_table(
        "person_merges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survivor_id", sa.Integer(), nullable=False),
        sa.Column("merged_person_id", sa.Integer(), nullable=False),
        sa.Column("visitor_ids", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["survivor_id"], ["people.id"], name=op.f("fk_person_merges_survivor_id_people"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_merges")),
    )
    with op.batch_alter_table("person_merges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_merges_survivor_id"), ["survivor_id"], unique=False)

    op.create_table(
        "visitor_identities",
        sa.Column("visitor_id", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_visitor_identities_person_id_people"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("visitor_id", name=op.f("pk_visitor_identities")),
    )
    with op.batch_alter_table("visitor_identities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visitor_identities_person_id"), ["person_id"], unique=False)

    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.alter_column("person_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.drop_constraint(batch_op.f("fk_activities_person_id_people"), type_="foreignkey")
        batch_op.create_foreign_key(
            batch_op.f("fk_activities_person_id_people"), "people", ["person_id"], ["id"], ondelete="SET NULL"
        )

    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("visitor_id", sa.String(length=64), nullable=True))
        batch_op.alter_column("person_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.drop_constraint(batch_op.f("fk_conversations_person_id_people"), type_="foreignkey")
        batch_op.create_foreign_key(
            batch_op.f("fk_conversations_person_id_people"), "people", ["person_id"], ["id"], ondelete="SET NULL"
        )

    # Visitor ids move to their own table; an email known twice stays on its first person only.
    op.execute(
        "INSERT INTO visitor_identities (visitor_id, person_id, created_at) "
        "SELECT visitor_id, id, created_at FROM people"
    )
    op.execute(
        "UPDATE conversations SET visitor_id = (SELECT p.visitor_id FROM people p WHERE p.id = conversations.person_id)"
    )
    op.execute(
        "UPDATE people SET email = NULL WHERE email IS NOT NULL AND id > "
        "(SELECT MIN(p.id) FROM people p WHERE p.email = people.email)"
    )
    op.execute(
        "INSERT INTO sites (key, name, origins, chat_enabled, blocked_email_domains, block_free_email, "
        "blocked_email_message, language_order, created_at) VALUES ('default', 'Default site', '[]', true, '[]', "
        'false, \'Please use your work email address.\', \'["url", "page", "browser"]\', CURRENT_TIMESTAMP)'
    )
    op.execute("INSERT INTO signals (name, generation) VALUES ('targeting', 0)")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("title", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("language", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("consent", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("company_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("visit_count", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("source", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("visit", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.drop_index(batch_op.f("ix_people_email"))
        batch_op.drop_constraint(batch_op.f("uq_people_visitor_id"), type_="unique")
        batch_op.create_index(batch_op.f("ix_people_company_id"), ["company_id"], unique=False)
        batch_op.create_unique_constraint(batch_op.f("uq_people_email"), ["email"])
        batch_op.create_foreign_key(
            batch_op.f("fk_people_company_id_companies"), "companies", ["company_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.drop_column("visitor_id")


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("visitor_id", sa.VARCHAR(length=64), nullable=True))
    # Back to one visitor id per person: the oldest one.
    op.execute(
        "UPDATE people SET visitor_id = (SELECT MIN(v.visitor_id) FROM visitor_identities v "
        "WHERE v.person_id = people.id)"
    )
    op.execute("UPDATE people SET visitor_id = 'v_restored_' || id WHERE visitor_id IS NULL")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.alter_column("visitor_id", existing_type=sa.VARCHAR(length=64), nullable=False)
        batch_op.drop_constraint(batch_op.f("fk_people_company_id_companies"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_people_email"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_people_company_id"))
        batch_op.create_unique_constraint(batch_op.f("uq_people_visitor_id"), ["visitor_id"])
        batch_op.create_index(batch_op.f("ix_people_email"), ["email"], unique=False)
        batch_op.drop_column("visit")
        batch_op.drop_column("source")
        batch_op.drop_column("visit_count")
        batch_op.drop_column("company_id")
        batch_op.drop_column("consent")
        batch_op.drop_column("language")
        batch_op.drop_column("title")

    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("visitor_id")
        batch_op.drop_constraint(batch_op.f("fk_conversations_person_id_people"), type_="foreignkey")
        batch_op.create_foreign_key(
            batch_op.f("fk_conversations_person_id_people"), "people", ["person_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.alter_column("person_id", existing_type=sa.INTEGER(), nullable=False)

    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_activities_person_id_people"), type_="foreignkey")
        batch_op.create_foreign_key(
            batch_op.f("fk_activities_person_id_people"), "people", ["person_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.alter_column("person_id", existing_type=sa.INTEGER(), nullable=False)

    with op.batch_alter_table("visitor_identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visitor_identities_person_id"))

    op.drop_table("visitor_identities")
    with op.batch_alter_table("person_merges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_merges_survivor_id"))

    op.drop_table("person_merges")
    with op.batch_alter_table("page_views", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_page_views_person_id"))
        batch_op.drop_index(batch_op.f("ix_page_views_occurred_at"))

    op.drop_table("page_views")
    with op.batch_alter_table("company_domains", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_company_domains_company_id"))

    op.drop_table("company_domains")
    op.drop_table("sites")
    op.drop_table("signals")
    op.drop_table("privacy_actions")
    op.drop_table("field_definitions")
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_companies_name"))

    op.drop_table("companies")
