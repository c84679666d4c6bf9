"""The tables: customers, providers and plans, installment orders, their bills, chat linking, reminders.

Bills store amounts, dates and payments only. Whether a bill is upcoming, due today, overdue or
paid is *derived* (``bot.billing.BillStatus``) from those and today's date, so it never goes stale.
All money is integer fen (``Money``); all timestamps are aware (``bot.db.AwareDateTime``).

``ConversationLogEntry`` is the operators' record of what was asked; it holds no chat id and no
unmasked personal data (see ``bot.conversation_log``).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, CheckConstraint, Enum, Float, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db import Base, Money, Rate
from bot.reminders import ReminderKind
from knowledge.text import Lang


class Customer(Base):
    """A shop customer. ``ref`` is the operator's own customer reference: the natural key imports use."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]

    orders: Mapped[list[InstallmentOrder]] = relationship(back_populates="customer")

    def __repr__(self) -> str:
        return f"Customer(id={self.id!r}, ref={self.ref!r}, name={self.name!r})"


class Provider(Base):
    """A financial institution; a copy of the operator data so orders can reference it.

    The early-repayment fee is a provider rule (as in ``knowledge/operator.yaml``): a fraction of
    the principal repaid ahead of schedule.
    """

    __tablename__ = "providers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    early_repayment_fee_rate: Mapped[Rate]

    plans: Mapped[list[Plan]] = relationship(back_populates="provider", order_by="Plan.term")

    def __repr__(self) -> str:
        return f"Provider(id={self.id!r}, name_en={self.name_en!r})"


class Plan(Base):
    """``term`` monthly periods; the fee per period is ``fee_rate_per_period`` of the price."""

    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("provider_id", "term"), CheckConstraint("term > 0", name="term_positive"))

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"))
    term: Mapped[int]
    fee_rate_per_period: Mapped[Rate]
    interest_free: Mapped[bool]

    provider: Mapped[Provider] = relationship(back_populates="plans")

    def __repr__(self) -> str:
        return f"Plan(provider_id={self.provider_id!r}, term={self.term!r}, rate={self.fee_rate_per_period!r})"


class InstallmentOrder(Base):
    """A purchase paid in installments; ``order_no`` is the shop's order number (the natural key)."""

    __tablename__ = "installment_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_no: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    product: Mapped[str] = mapped_column(String(200))
    price_fen: Mapped[Money]
    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"))
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    first_due_date: Mapped[date]
    created_at: Mapped[datetime]

    customer: Mapped[Customer] = relationship(back_populates="orders")
    provider: Mapped[Provider] = relationship()
    plan: Mapped[Plan] = relationship()
    bills: Mapped[list[Bill]] = relationship(
        back_populates="order", order_by="Bill.number", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"InstallmentOrder(order_no={self.order_no!r}, product={self.product!r}, price_fen={self.price_fen!r})"


class Bill(Base):
    """One period of an order. ``amount_due_fen`` is principal plus fee; late fees are not stored
    (they are an estimate by the operator's rule until the provider charges them)."""

    __tablename__ = "bills"
    __table_args__ = (
        UniqueConstraint("order_id", "number"),
        CheckConstraint("number > 0", name="number_positive"),
        CheckConstraint("principal_fen >= 0 AND fee_fen >= 0", name="amounts_not_negative"),
        CheckConstraint("amount_due_fen = principal_fen + fee_fen", name="due_is_principal_plus_fee"),
        CheckConstraint("amount_paid_fen >= 0 AND amount_paid_fen <= amount_due_fen", name="paid_within_due"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("installment_orders.id"))
    number: Mapped[int]
    due_date: Mapped[date] = mapped_column(index=True)
    """Indexed: the daily reminder run selects the bills of a handful of due dates."""
    principal_fen: Mapped[Money]
    fee_fen: Mapped[Money]
    amount_due_fen: Mapped[Money]
    amount_paid_fen: Mapped[Money] = mapped_column(default=0)
    paid_at: Mapped[datetime | None]

    order: Mapped[InstallmentOrder] = relationship(back_populates="bills")

    def __repr__(self) -> str:
        return (
            f"Bill(order_id={self.order_id!r}, number={self.number!r}, due_date={self.due_date!r}, "
            f"amount_due_fen={self.amount_due_fen!r}, amount_paid_fen={self.amount_paid_fen!r})"
        )


class ChatLink(Base):
    """Which customer a Telegram chat speaks for. Old links stay as history with ``active`` false;
    a partial unique index allows one active link per chat."""

    __tablename__ = "chat_links"
    __table_args__ = (
        Index(
            "uq_chat_links_active_chat",
            "chat_id",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    active: Mapped[bool]
    linked_at: Mapped[datetime]

    def __repr__(self) -> str:
        return f"ChatLink(chat_id={self.chat_id!r}, customer_id={self.customer_id!r}, active={self.active!r})"


class LinkCode(Base):
    """A one-time code an operator gives a customer. Only its SHA-256 is stored; ``attempts`` counts
    how often it was presented (a used code showing up again is worth noticing)."""

    __tablename__ = "link_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"LinkCode(id={self.id!r}, customer_id={self.customer_id!r}, expires_at={self.expires_at!r})"


class FailedLinkAttempt(Base):
    """A wrong code sent by a chat; counted per chat over the last hour, and over all chats since a code
    was issued, to rate-limit guessing."""

    __tablename__ = "failed_link_attempts"
    __table_args__ = (Index("ix_failed_link_attempts_chat_time", "chat_id", "attempted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    attempted_at: Mapped[datetime] = mapped_column(index=True)

    def __repr__(self) -> str:
        return f"FailedLinkAttempt(chat_id={self.chat_id!r}, attempted_at={self.attempted_at!r})"


class InstanceSecret(Base):
    """A secret the assistant generated for itself on first start (e.g. the log's pseudonym key when
    ``PSEUDONYM_SECRET`` is not set), kept with the data so every worker and restart uses the same one."""

    __tablename__ = "instance_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]

    def __repr__(self) -> str:
        return f"InstanceSecret(name={self.name!r})"  # never the value


class ChatPreference(Base):
    """Per-chat settings: reply language and whether due-date reminders are sent."""

    __tablename__ = "chat_preferences"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    language: Mapped[Lang] = mapped_column(
        Enum(Lang, native_enum=False, length=8, values_callable=lambda langs: [lang.value for lang in langs])
    )
    reminders: Mapped[bool] = mapped_column(default=True)

    def __repr__(self) -> str:
        return f"ChatPreference(chat_id={self.chat_id!r}, language={self.language!r}, reminders={self.reminders!r})"


class DeliveryStatus(StrEnum):
    CLAIMED = "claimed"
    """Taken by a run that is sending it (or crashed doing so: retried once ``claimed_at`` is stale)."""
    SENT = "sent"
    BLOCKED = "blocked"
    """The user blocked the bot; the chat's link was made inactive."""
    FAILED = "failed"
    """Telegram refused it for good (e.g. the chat no longer exists); not retried."""


class ReminderDelivery(Base):
    """One reminder to one chat, claimed before it is sent and marked after (``bot.reminder_store``).

    The unique key (chat, bill, kind, day) is what makes a reminder go out once however many runs or
    bot instances try: only the run whose claim inserted (or took over a stale claim of) the row sends.
    """

    __tablename__ = "reminder_deliveries"
    __table_args__ = (UniqueConstraint("chat_id", "bill_id", "kind", "on_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bills.id"))
    kind: Mapped[ReminderKind] = mapped_column(
        Enum(ReminderKind, native_enum=False, length=16, values_callable=lambda kinds: [kind.value for kind in kinds])
    )
    on_date: Mapped[date]
    status: Mapped[DeliveryStatus] = mapped_column(
        Enum(DeliveryStatus, native_enum=False, length=16, values_callable=lambda statuses: [s.value for s in statuses])
    )
    attempts: Mapped[int] = mapped_column(default=1)
    """How many claims were made: more than one means a run crashed or timed out before marking it."""
    claimed_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return (
            f"ReminderDelivery(chat_id={self.chat_id!r}, bill_id={self.bill_id!r}, kind={self.kind!r}, "
            f"on_date={self.on_date!r}, status={self.status!r})"
        )


class ConversationLogEntry(Base):
    """One typed message as operators review it. ``chat`` is a keyed pseudonym of the chat id and
    ``text`` is redacted (``bot.privacy``); ``intent`` is kept as text so entries outlive a renamed
    intent. ``alternatives`` lists the best in-scope intents: [{"intent": …, "confidence": …}]."""

    __tablename__ = "conversation_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    logged_at: Mapped[datetime] = mapped_column(index=True)
    chat: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    intent: Mapped[str] = mapped_column(String(64))
    confidence: Mapped[float] = mapped_column(Float)
    alternatives: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    fallback: Mapped[bool]

    def __repr__(self) -> str:
        return (
            f"ConversationLogEntry(id={self.id!r}, logged_at={self.logged_at!r}, intent={self.intent!r}, "
            f"confidence={self.confidence!r}, fallback={self.fallback!r})"
        )
