"""Secrets the assistant generates for itself, and the index that counts wrong link codes per code.

Revision ID: 0004_hardening
Revises: 0003_conversation_log
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.db import AwareDateTime

revision = "0004_hardening"
down_revision = "0003_conversation_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "instance_secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_instance_secrets")),
    )
    op.create_index(op.f("ix_failed_link_attempts_attempted_at"), "failed_link_attempts", ["attempted_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_failed_link_attempts_attempted_at"), table_name="failed_link_attempts")
    op.drop_table("instance_secrets")
