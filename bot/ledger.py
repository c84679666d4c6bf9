"""Reading the bill data: which customer a chat speaks for, and that customer's account.

Every function takes the caller's ``AsyncSession`` and never commits: one session per update or
command, opened and committed by the caller (``async with factory() as session, session.begin(): …``).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bot import billing
from bot.errors import CustomerNotFound, NotLinked
from bot.models import Bill, ChatLink, Customer, InstallmentOrder, Plan, Provider
from knowledge.operator import OperatorData
from knowledge.text import Localized


async def customer_for_chat(session: AsyncSession, chat_id: int) -> int | None:
    """The customer id the chat is linked to (active links only), or ``None``."""
    return await session.scalar(select(ChatLink.customer_id).where(ChatLink.chat_id == chat_id, ChatLink.active))


async def resolve_customer(session: AsyncSession, key: str) -> int:
    """A customer id from what an operator types: a customer ref (``DEMO-2DAYS``) or a numeric id."""
    customer_id = await session.scalar(select(Customer.id).where(Customer.ref == key))
    if customer_id is None and key.isdigit():
        customer_id = await session.scalar(select(Customer.id).where(Customer.id == int(key)))
    if customer_id is None:
        raise CustomerNotFound(key)
    return customer_id


def _bill(row: Bill) -> billing.Bill:
    return billing.Bill(
        number=row.number,
        due_date=row.due_date,
        principal_fen=row.principal_fen,
        fee_fen=row.fee_fen,
        amount_due_fen=row.amount_due_fen,
        amount_paid_fen=row.amount_paid_fen,
        paid_at=row.paid_at,
    )


def _order(row: InstallmentOrder) -> billing.Order:
    return billing.Order(
        order_no=row.order_no,
        product=row.product,
        price_fen=row.price_fen,
        provider_id=row.provider_id,
        provider_name=Localized(zh=row.provider.name_zh, en=row.provider.name_en),
        term=row.plan.term,
        fee_rate_per_period=row.plan.fee_rate_per_period,
        interest_free=row.plan.interest_free,
        early_repayment_fee_rate=row.provider.early_repayment_fee_rate,
        first_due_date=row.first_due_date,
        bills=tuple(_bill(bill) for bill in row.bills),
    )


async def load_account(session: AsyncSession, customer_id: int) -> billing.Account:
    """The customer's orders and bills as plain, immutable data (oldest order first).

    One query for everything (a customer has a handful of orders of at most a few dozen bills):
    each round trip to the database costs more than the rows it would save.
    """
    orders = joinedload(Customer.orders)
    found = await session.scalars(
        select(Customer)
        .where(Customer.id == customer_id)
        .options(
            orders.joinedload(InstallmentOrder.bills),
            orders.joinedload(InstallmentOrder.plan),
            orders.joinedload(InstallmentOrder.provider),
        )
        # Re-read rows this session already holds, so an import earlier in the session is seen.
        .execution_options(populate_existing=True)
    )
    customer = found.unique().one_or_none()
    if customer is None:
        raise CustomerNotFound(customer_id)
    return billing.Account(
        customer_id=customer.id,
        customer_ref=customer.ref,
        name=customer.name,
        orders=tuple(_order(order) for order in sorted(customer.orders, key=lambda o: (o.first_due_date, o.id))),
    )


async def account_for_chat(session: AsyncSession, chat_id: int) -> billing.Account:
    """The linked customer's account; ``NotLinked`` for any other chat, which must see no data."""
    customer_id = await customer_for_chat(session, chat_id)
    if customer_id is None:
        raise NotLinked(chat_id)
    return await load_account(session, customer_id)


async def sync_providers(session: AsyncSession, operator: OperatorData) -> None:
    """Copy the operator's providers and plans into the database, which orders reference.

    Run before an import or the demo. Rates and names are updated in place; a plan the operator
    data no longer offers stays, because existing orders still point at it.
    """
    existing = {provider.id: provider for provider in await session.scalars(select(Provider))}
    plans = {(plan.provider_id, plan.term): plan for plan in await session.scalars(select(Plan))}
    for data in operator.providers:
        provider = existing.get(data.id)
        if provider is None:
            provider = Provider(id=data.id)
            session.add(provider)
        provider.name_zh, provider.name_en = data.name.zh, data.name.en
        provider.early_repayment_fee_rate = data.early_repayment_fee_rate
        for plan_data in data.plans:
            plan = plans.get((data.id, plan_data.term))
            if plan is None:
                plan = Plan(provider_id=data.id, term=plan_data.term)
                session.add(plan)
            plan.fee_rate_per_period = plan_data.fee_rate_per_period
            plan.interest_free = plan_data.interest_free
    await session.flush()
