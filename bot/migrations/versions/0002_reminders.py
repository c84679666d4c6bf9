"""Due-date reminders: the once-only delivery record, and an index on bills' due dates.

Revision ID: 0002_reminders
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.db import AwareDateTime

revision = "0002_reminders"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_bills_due_date"), "bills", ["due_date"])
    op.create_table(
        "reminder_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("bill_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind", sa.Enum("before", "due", "overdue", name="reminderkind", native_enum=False, length=16), nullable=False
        ),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("claimed", "sent", "blocked", "failed", name="deliverystatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", AwareDateTime(), nullable=False),
        sa.Column("finished_at", AwareDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["bill_id"], ["bills.id"], name=op.f("fk_reminder_deliveries_bill_id_bills")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_deliveries")),
        sa.UniqueConstraint(
            "chat_id", "bill_id", "kind", "on_date", name=op.f("uq_reminder_deliveries_chat_id_bill_id_kind_on_date")
        ),
    )


def downgrade() -> None:
    op.drop_table("reminder_deliveries")
    op.drop_index(op.f("ix_bills_due_date"), table_name="bills")
