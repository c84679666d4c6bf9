"""Account answers in zh and en, checked against figures recomputed straight from the bill rows."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.account_answers import ACCOUNT_INTENTS, render_account_answer
from bot.billing import Account
from bot.demo import DEMO_CUSTOMER_REF, seed_demo
from bot.ledger import load_account, resolve_customer
from bot.models import Bill, InstallmentOrder, Provider
from intents.catalogue import IntentId
from knowledge.operator import OperatorData
from knowledge.text import Lang

TODAY = date(2025, 11, 25)  # a Tuesday; the demo's "due in two days" is Thursday 27 November


async def demo_account(session: AsyncSession, operator: OperatorData, ref: str, today: date = TODAY) -> Account:
    await seed_demo(session, operator, today)
    return await load_account(session, await resolve_customer(session, ref))


def half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@pytest.mark.parametrize("ref", ["DEMO-ONTIME", DEMO_CUSTOMER_REF, "DEMO-OVERDUE", "DEMO-PAIDOFF"])
async def test_figures_recomputed_from_the_bill_rows(session: AsyncSession, operator_data: OperatorData, ref: str) -> None:
    account = await demo_account(session, operator_data, ref)
    rows = (
        await session.execute(
            select(Bill, InstallmentOrder.order_no, Provider.early_repayment_fee_rate)
            .join(InstallmentOrder, Bill.order_id == InstallmentOrder.id)
            .join(Provider, InstallmentOrder.provider_id == Provider.id)
            .where(InstallmentOrder.customer_id == account.customer_id)
        )
    ).all()
    unpaid = [(bill, order_no, rate) for bill, order_no, rate in rows if bill.amount_paid_fen < bill.amount_due_fen]
    rule = operator_data.late_fee

    def figures(intent: IntentId) -> dict[str, object]:
        return render_account_answer(intent, account, TODAY, Lang.EN, operator_data).figures

    future = [bill for bill, _, _ in unpaid if bill.due_date >= TODAY]
    next_due = figures(IntentId.NEXT_DUE)["next_due"]
    if future:
        when = min(bill.due_date for bill in future)
        assert next_due == {
            "date": when.isoformat(),
            "days_left": (when - TODAY).days,
            "amount_fen": sum(b.amount_due_fen - b.amount_paid_fen for b in future if b.due_date == when),
            "items": next_due["items"],  # type: ignore[index]
        }
    else:
        assert next_due is None

    outstanding = figures(IntentId.OUTSTANDING)
    assert outstanding["total_fen"] == sum(bill.amount_due_fen - bill.amount_paid_fen for bill, _, _ in unpaid)
    assert outstanding["periods_left"] == len(unpaid)

    overdue = [bill for bill, _, _ in unpaid if bill.due_date < TODAY]
    fees = [
        half_up(min(rule.daily_rate * bill.amount_due_fen * (TODAY - bill.due_date).days, rule.cap_rate * bill.amount_due_fen))
        for bill in overdue
    ]
    status = figures(IntentId.OVERDUE_STATUS)
    assert (status["amount_fen"], status["late_fee_fen"]) == (sum(bill.amount_due_fen for bill in overdue), sum(fees))
    assert status["days_overdue"] == max(((TODAY - bill.due_date).days for bill in overdue), default=0)

    # Payoff: all unpaid principal, the fees of overdue periods and of each order's current period,
    # the early-repayment rate on principal not yet due, and the late fees.
    current = {}
    for bill, order_no, _ in sorted(unpaid, key=lambda row: row[0].due_date):
        if bill.due_date >= TODAY:
            current.setdefault(order_no, bill.number)
    expected = (
        sum(bill.principal_fen for bill, _, _ in unpaid)
        + sum(bill.fee_fen for bill, order_no, _ in unpaid if bill.due_date < TODAY or current.get(order_no) == bill.number)
        + sum(
            half_up(rate * sum(b.principal_fen for b, o, _ in unpaid if o == order_no and b.due_date > TODAY))
            for order_no, rate in {(order_no, rate) for _, order_no, rate in unpaid}
        )
        + sum(fees)
    )
    assert figures(IntentId.PAYOFF_QUOTE)["total_fen"] == expected


TERMINAL_FRAGMENTS = {
    Lang.ZH: {
        IntentId.NEXT_DUE: ["11月27日 星期四", "还有 2 天", "¥501.19", "XM-DEMO-2001", "第 3/6 期", "第 1/12 期"],
        IntentId.BILLS: ["已还 2/6 期", "已还 0/12 期", "6 期免息"],
        IntentId.OUTSTANDING: ["待还总额 ¥4,147.57", "剩余 16 期"],
        IntentId.OVERDUE_STATUS: ["没有逾期", "11月27日 星期四"],
        IntentId.PAYOFF_QUOTE: ["¥4,067.63", "剩余本金 ¥2,999.00", "提前还款手续费 ¥89.97", "3%"],
    },
    Lang.EN: {
        IntentId.NEXT_DUE: ["Thu, 27 Nov", "in 2 days", "¥501.19", "period 3 of 6", "period 1 of 12"],
        IntentId.BILLS: ["2/6 paid", "0/12 paid", "6 months interest-free"],
        IntentId.OUTSTANDING: ["Left to pay: ¥4,147.57", "16 periods"],
        IntentId.OVERDUE_STATUS: ["Nothing is overdue", "Thu, 27 Nov"],
        IntentId.PAYOFF_QUOTE: ["¥4,067.63", "principal ¥2,999.00", "early-repayment fee ¥89.97"],
    },
}


@pytest.mark.parametrize("lang", list(Lang))
async def test_terminal_customer_answers(session: AsyncSession, operator_data: OperatorData, lang: Lang) -> None:
    account = await demo_account(session, operator_data, DEMO_CUSTOMER_REF)
    for intent, fragments in TERMINAL_FRAGMENTS[lang].items():
        answer = render_account_answer(intent, account, TODAY, lang, operator_data)
        assert [fragment for fragment in fragments if fragment not in answer.text] == [], answer.text
        json.dumps(answer.figures)  # serialisable as it is


@pytest.mark.parametrize(("lang", "fragments"), [(Lang.ZH, ["逾期 5 天", "滞纳金约 ¥1.12", "每日 0.05%"]), (Lang.EN, ["5 days late", "late fee about ¥1.12", "0.05% a day"])])
async def test_overdue_customer(session: AsyncSession, operator_data: OperatorData, lang: Lang, fragments: list[str]) -> None:
    account = await demo_account(session, operator_data, "DEMO-OVERDUE")
    answer = render_account_answer(IntentId.OVERDUE_STATUS, account, TODAY, lang, operator_data)
    assert all(fragment in answer.text for fragment in fragments), answer.text
    assert answer.figures["bills"] == [
        {"order_no": "XM-DEMO-3001", "period": 6, "due_date": "2025-11-20", "days_overdue": 5, "amount_fen": 44657, "late_fee_fen": 112}
    ]


@pytest.mark.parametrize(("lang", "expected"), [(Lang.ZH, "11月27日 星期四（今天到期）"), (Lang.EN, "Thu, 27 Nov (due today)")])
async def test_due_today(session: AsyncSession, operator_data: OperatorData, lang: Lang, expected: str) -> None:
    today = TODAY + timedelta(days=2)
    account = await demo_account(session, operator_data, DEMO_CUSTOMER_REF)  # seeded two days ago
    answer = render_account_answer(IntentId.NEXT_DUE, account, today, lang, operator_data)
    assert expected in answer.text
    assert answer.figures["next_due"]["days_left"] == 0  # type: ignore[index]


async def test_a_due_date_next_year_shows_the_year(session: AsyncSession, operator_data: OperatorData) -> None:
    account = await demo_account(session, operator_data, "DEMO-ONTIME", date(2025, 12, 25))
    answer = render_account_answer(IntentId.NEXT_DUE, account, date(2025, 12, 25), Lang.ZH, operator_data)
    assert "2026年1月8日 星期四" in answer.text


EMPTY = Account(customer_id=1, customer_ref="C-0", name="新客户", orders=())
NOTHING_TO_PAY = {Lang.ZH: "全部还清", Lang.EN: "all paid off"}


@pytest.mark.parametrize("intent", sorted(ACCOUNT_INTENTS))
@pytest.mark.parametrize(("lang", "expected"), [(Lang.ZH, "还没有分期订单"), (Lang.EN, "no installment orders")])
def test_a_customer_without_orders(operator_data: OperatorData, intent: IntentId, lang: Lang, expected: str) -> None:
    answer = render_account_answer(intent, EMPTY, TODAY, lang, operator_data)
    assert expected in answer.text
    assert answer.figures["intent"] == intent.value
    json.dumps(answer.figures)


@pytest.mark.parametrize("lang", list(Lang))
async def test_a_paid_off_customer(session: AsyncSession, operator_data: OperatorData, lang: Lang) -> None:
    account = await demo_account(session, operator_data, "DEMO-PAIDOFF")
    for intent in ACCOUNT_INTENTS:
        answer = render_account_answer(intent, account, TODAY, lang, operator_data)
        expected = ("已还 3/3 期，已还清" if lang is Lang.ZH else "3/3 paid, paid off") if intent is IntentId.BILLS else NOTHING_TO_PAY[lang]
        assert expected in answer.text, answer.text
        json.dumps(answer.figures)


def test_only_account_lookups(operator_data: OperatorData) -> None:
    with pytest.raises(ValueError):
        render_account_answer(IntentId.CALCULATOR, EMPTY, TODAY, Lang.ZH, operator_data)
