"""The operators' conversation log: redacted messages, pseudonymous chats, how each was understood.

Revision ID: 0003_conversation_log
Revises: 0002_reminders
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.db import AwareDateTime

revision = "0003_conversation_log"
down_revision = "0002_reminders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversation_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("logged_at", AwareDateTime(), nullable=False),
        sa.Column("chat", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(length=64), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("alternatives", sa.JSON(), nullable=False),
        sa.Column("fallback", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_log")),
    )
    op.create_index(op.f("ix_conversation_log_logged_at"), "conversation_log", ["logged_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_conversation_log_logged_at"), table_name="conversation_log")
    op.drop_table("conversation_log")
