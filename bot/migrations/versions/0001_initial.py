"""Initial schema: customers, providers and plans, installment orders, bills, chat linking.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.db import AwareDateTime, ExactDecimal

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("ref", name=op.f("uq_customers_ref")),
    )
    op.create_table(
        "providers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("early_repayment_fee_rate", ExactDecimal(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_providers")),
    )
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("term", sa.Integer(), nullable=False),
        sa.Column("fee_rate_per_period", ExactDecimal(), nullable=False),
        sa.Column("interest_free", sa.Boolean(), nullable=False),
        sa.CheckConstraint("term > 0", name=op.f("ck_plans_term_positive")),
        sa.ForeignKeyConstraint(["provider_id"], ["providers.id"], name=op.f("fk_plans_provider_id_providers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
        sa.UniqueConstraint("provider_id", "term", name=op.f("uq_plans_provider_id_term")),
    )
    op.create_table(
        "installment_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_no", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("price_fen", sa.BigInteger(), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("first_due_date", sa.Date(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_installment_orders_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name=op.f("fk_installment_orders_plan_id_plans")),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name=op.f("fk_installment_orders_provider_id_providers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_installment_orders")),
        sa.UniqueConstraint("order_no", name=op.f("uq_installment_orders_order_no")),
    )
    op.create_index(op.f("ix_installment_orders_customer_id"), "installment_orders", ["customer_id"])
    op.create_table(
        "bills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("principal_fen", sa.BigInteger(), nullable=False),
        sa.Column("fee_fen", sa.BigInteger(), nullable=False),
        sa.Column("amount_due_fen", sa.BigInteger(), nullable=False),
        sa.Column("amount_paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("paid_at", AwareDateTime(), nullable=True),
        sa.CheckConstraint("number > 0", name=op.f("ck_bills_number_positive")),
        sa.CheckConstraint("principal_fen >= 0 AND fee_fen >= 0", name=op.f("ck_bills_amounts_not_negative")),
        sa.CheckConstraint("amount_due_fen = principal_fen + fee_fen", name=op.f("ck_bills_due_is_principal_plus_fee")),
        sa.CheckConstraint(
            "amount_paid_fen >= 0 AND amount_paid_fen <= amount_due_fen", name=op.f("ck_bills_paid_within_due")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["installment_orders.id"], name=op.f("fk_bills_order_id_installment_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bills")),
        sa.UniqueConstraint("order_id", "number", name=op.f("uq_bills_order_id_number")),
    )
    op.create_table(
        "chat_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("linked_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_chat_links_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_links")),
    )
    op.create_index(op.f("ix_chat_links_customer_id"), "chat_links", ["customer_id"])
    op.create_index(
        "uq_chat_links_active_chat",
        "chat_links",
        ["chat_id"],
        unique=True,
        sqlite_where=sa.text("active"),
        postgresql_where=sa.text("active"),
    )
    op.create_table(
        "link_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("expires_at", AwareDateTime(), nullable=False),
        sa.Column("used_at", AwareDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_link_codes_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_link_codes_code_hash")),
    )
    op.create_table(
        "failed_link_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("attempted_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_failed_link_attempts")),
    )
    op.create_index("ix_failed_link_attempts_chat_time", "failed_link_attempts", ["chat_id", "attempted_at"])
    op.create_table(
        "chat_preferences",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("language", sa.Enum("zh", "en", name="lang", native_enum=False, length=8), nullable=False),
        sa.Column("reminders", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_chat_preferences")),
    )


def downgrade() -> None:
    op.drop_table("chat_preferences")
    op.drop_index("ix_failed_link_attempts_chat_time", table_name="failed_link_attempts")
    op.drop_table("failed_link_attempts")
    op.drop_table("link_codes")
    op.drop_index("uq_chat_links_active_chat", table_name="chat_links")
    op.drop_index(op.f("ix_chat_links_customer_id"), table_name="chat_links")
    op.drop_table("chat_links")
    op.drop_table("bills")
    op.drop_index(op.f("ix_installment_orders_customer_id"), table_name="installment_orders")
    op.drop_table("installment_orders")
    op.drop_table("plans")
    op.drop_table("providers")
    op.drop_table("customers")
