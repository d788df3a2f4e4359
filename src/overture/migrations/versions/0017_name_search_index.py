"""The search index of names (`person_name_words`, `company_name_words`): each word of a person's first and last
name and of a company's name, in lower case, so that the people and conversations searches find a name by the start
of one of its words through an index range instead of reading every person (people/directory.py). The same plain
tables and btree indexes on both engines: nothing to install (no extension), code-point order ("C" on PostgreSQL)
so that a prefix is an index range.

The words of the people and companies of before are filled in batches, in id order. A person's conversations are
indexed newest first (`ix_conversations_person_started_at`, which serves every look-up by person the index on
`person_id` alone served, and replaces it): the inbox's search reads the conversations of the people it found by it.
People are indexed by (last_seen_at, id), the People list's order, instead of last_seen_at alone: PostgreSQL's
index has no row id to break ties, so people seen at the same instant were sorted all together (2 s for a search
matching a third of 400,000 people seen at once).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000
WORD_LENGTH = 100

people = sa.table(
    "people", sa.column("id", sa.Integer()), sa.column("first_name", sa.String()), sa.column("last_name", sa.String())
)
companies = sa.table("companies", sa.column("id", sa.Integer()), sa.column("name", sa.String()))


def _word() -> sa.types.TypeEngine[str]:
    return sa.String(WORD_LENGTH).with_variant(sa.String(WORD_LENGTH, collation="C"), "postgresql")


def upgrade() -> None:
    person_words = op.create_table(
        "person_name_words",
        sa.Column("word", _word(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("word", "person_id", name=op.f("pk_person_name_words")),
    )
    company_words = op.create_table(
        "company_name_words",
        sa.Column("word", _word(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_company_name_words_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("word", "company_id", name=op.f("pk_company_name_words")),
    )
    _fill(people, [people.c.first_name, people.c.last_name], person_words, "person_id")
    _fill(companies, [companies.c.name], company_words, "company_id")
    op.create_index("ix_person_name_words_person_id_word", "person_name_words", ["person_id", "word"])
    op.create_index("ix_company_name_words_company_id_word", "company_name_words", ["company_id", "word"])
    op.create_index("ix_conversations_person_started_at", "conversations", ["person_id", "started_at", "id"])
    op.drop_index("ix_conversations_person_id", "conversations")
    op.create_index("ix_people_last_seen_at_id", "people", ["last_seen_at", "id"])
    op.drop_index("ix_people_last_seen_at", "people")


def _words(*names: str | None) -> set[str]:
    """As `people.models.name_words` says them today (a migration keeps its own copy: the code may change)."""
    return {word[:WORD_LENGTH] for name in names if name for word in name.lower().split(" ") if word}


def _fill(source: Any, names: list[Any], words: Any, key: str) -> None:
    connection = op.get_bind()
    after = 0
    while True:
        rows = connection.execute(
            sa.select(source.c.id, *names)
            .where(source.c.id > after, sa.or_(*(name.is_not(None) for name in names)))
            .order_by(source.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        values = [{"word": word, key: row[0]} for row in rows for word in sorted(_words(*row[1:]))]
        if values:
            connection.execute(sa.insert(words), values)
        after = rows[-1][0]


def downgrade() -> None:
    op.create_index("ix_people_last_seen_at", "people", ["last_seen_at"])
    op.drop_index("ix_people_last_seen_at_id", "people")
    op.create_index("ix_conversations_person_id", "conversations", ["person_id"])
    op.drop_index("ix_conversations_person_started_at", "conversations")
    op.drop_table("company_name_words")
    op.drop_table("person_name_words")
