"""Replies to the account lookups, in Chinese and English, from a customer's bills. Pure.

Each answer carries ``figures``: the numbers the text was built from, JSON-serialisable (amounts as
int fen, dates as ISO strings, rates as decimal strings), so ``ask --json`` and tests can check the
arithmetic without parsing prose. Money is formatted by ``bot.formatting.money`` (¥1,234.50 in both
languages), dates by Babel with the weekday ("11月27日 星期五" / "Fri, 27 Nov"; the year is added
when it is not the current one). The figures come from ``bot.billing``; see there for what a payoff
quote charges and how late fees are estimated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from bot import billing
from bot.billing import Account, Bill, Order
from bot.formatting import day as _day
from bot.formatting import days as _days
from bot.formatting import money
from intents.catalogue import IntentId
from knowledge.operator import LateFeeRule, OperatorData
from knowledge.placeholders import percent
from knowledge.text import Lang

Figures = dict[str, object]


@dataclass(frozen=True)
class AccountAnswer:
    text: str
    figures: Figures


# --- formatting -----------------------------------------------------------------------------------


def _when(days_left: int, lang: Lang) -> str:
    if lang is Lang.ZH:
        return {0: "今天到期", 1: "明天到期"}.get(days_left, f"还有 {days_left} 天")
    return {0: "due today", 1: "due tomorrow"}.get(days_left, f"in {days_left} days")


def _periods(count: int, lang: Lang) -> str:
    if lang is Lang.ZH:
        return f"{count} 期"
    return f"{count} period" if count == 1 else f"{count} periods"


def _order(order: Order, lang: Lang) -> str:
    return f"{order.product}（订单 {order.order_no}）" if lang is Lang.ZH else f"{order.product} (order {order.order_no})"


def _period(bill: Bill, order: Order, lang: Lang) -> str:
    return f"第 {bill.number}/{order.term} 期" if lang is Lang.ZH else f"period {bill.number} of {order.term}"


def _plan(order: Order, lang: Lang) -> str:
    if lang is Lang.ZH:
        return f"{order.provider_name.zh} {order.term} 期{'免息' if order.interest_free else ''}"
    return f"{order.provider_name.en}, {order.term} months{' interest-free' if order.interest_free else ''}"


def _all_paid(account: Account, lang: Lang) -> str:
    if not account.orders:
        return "您的账户下还没有分期订单。" if lang is Lang.ZH else "There are no installment orders on your account."
    return "您的分期已全部还清，没有待还款项。" if lang is Lang.ZH else "Your installments are all paid off: nothing is left to pay."


def _rule(rule: LateFeeRule, lang: Lang) -> str:
    daily, cap = percent(rule.daily_rate, lang), percent(rule.cap_rate, lang)
    if lang is Lang.ZH:
        grace = f"宽限 {rule.grace_days} 天后" if rule.grace_days else ""
        return f"{grace}每日 {daily}，最高为逾期金额的 {cap}"
    grace = f" after {_days(rule.grace_days, lang)} of grace" if rule.grace_days else ""
    return f"{daily} a day{grace}, at most {cap} of the overdue amount"


# --- the lookups ----------------------------------------------------------------------------------


def _overdue_note(status: billing.OverdueStatus, lang: Lang) -> str:
    if not status.is_overdue:
        return ""
    count, amount = len(status.bills), money(status.amount_fen, lang)
    if lang is Lang.ZH:
        return f"\n另有 {count} 期已逾期，共 {amount}，请尽快还款（问“我逾期了吗”查看滞纳金）。"
    return (
        f"\nAlso {_periods(count, lang)} overdue, {amount} in all: please pay soon "
        "(ask “am I overdue?” for late fees)."
    )


def _upcoming(upcoming: billing.NextDue, today: date, lang: Lang) -> tuple[str, str, str]:
    """The date, the amount and "in N days" of the next payment."""
    return _day(upcoming.due_date, today, lang), money(upcoming.amount_fen, lang), _when(upcoming.days_left, lang)


def _next_due_figures(upcoming: billing.NextDue) -> Figures:
    return {
        "date": upcoming.due_date.isoformat(),
        "days_left": upcoming.days_left,
        "amount_fen": upcoming.amount_fen,
        "items": [
            {
                "order_no": item.order.order_no,
                "product": item.order.product,
                "period": item.bill.number,
                "term": item.order.term,
                "amount_fen": item.amount_fen,
            }
            for item in upcoming.items
        ],
    }


def _next_due(account: Account, today: date, lang: Lang, operator: OperatorData) -> tuple[str, Figures]:
    upcoming = billing.next_due(account, today)
    overdue = billing.overdue_status(account, today, operator.late_fee)
    figures: Figures = {
        "next_due": None if upcoming is None else _next_due_figures(upcoming),
        "overdue": {"periods": len(overdue.bills), "amount_fen": overdue.amount_fen},
    }
    if upcoming is None:
        if not overdue.is_overdue:
            return _all_paid(account, lang), figures
        nothing = "您没有即将到期的账单。" if lang is Lang.ZH else "Nothing else is coming up."
        return nothing + _overdue_note(overdue, lang), figures
    when, amount, relative = _upcoming(upcoming, today, lang)
    lines = []
    for item in upcoming.items:
        order, period = _order(item.order, lang), _period(item.bill, item.order, lang)
        owed = money(item.amount_fen, lang)
        lines.append(f"• {order}{period} {owed}" if lang is Lang.ZH else f"• {order}, {period}: {owed}")
    if lang is Lang.ZH:
        head = f"下一期还款：{when}（{relative}），应还 {amount}："
    else:
        head = f"Your next payment: {amount} on {when} ({relative}):"
    return "\n".join([head, *lines]) + _overdue_note(overdue, lang), figures


def _order_state(order: Order, today: date, lang: Lang) -> tuple[str, Figures]:
    """One line of the bills answer: progress, overdue periods and the next bill of one order."""
    progress = billing.progress(order)
    overdue = [bill for bill in order.unpaid_bills if bill.due_date < today]
    upcoming = next((bill for bill in order.unpaid_bills if bill.due_date >= today), None)
    zh = lang is Lang.ZH
    state = [f"已还 {progress} 期" if zh else f"{progress} paid"]
    if order.is_paid_off:
        state.append("已还清" if zh else "paid off")
    if overdue:
        owed = money(sum(bill.unpaid_fen for bill in overdue), lang)
        state.append(f"{len(overdue)} 期逾期 {owed}" if zh else f"{_periods(len(overdue), lang)} overdue ({owed})")
    if upcoming is not None:
        when, owed = _day(upcoming.due_date, today, lang), money(upcoming.unpaid_fen, lang)
        state.append(f"下期 {when} {owed}" if zh else f"next {owed} on {when}")
    separator = "，" if zh else ", "
    line = f"• {_order(order, lang)}{'：' if zh else ': '}{_plan(order, lang)}{separator}{separator.join(state)}"
    figures: Figures = {
        "order_no": order.order_no,
        "product": order.product,
        "provider_id": order.provider_id,
        "term": order.term,
        "paid": progress.paid,
        "overdue_periods": len(overdue),
        "next_due": None
        if upcoming is None
        else {"date": upcoming.due_date.isoformat(), "period": upcoming.number, "amount_fen": upcoming.unpaid_fen},
    }
    return line, figures


def _bills(account: Account, today: date, lang: Lang, operator: OperatorData) -> tuple[str, Figures]:
    states = [_order_state(order, today, lang) for order in account.orders]
    head = "您的分期订单：" if lang is Lang.ZH else "Your installment orders:"
    return "\n".join([head, *(line for line, _ in states)]), {"orders": [figures for _, figures in states]}


def _outstanding(account: Account, today: date, lang: Lang, operator: OperatorData) -> tuple[str, Figures]:
    left = billing.outstanding(account, today)
    figures: Figures = {
        "total_fen": left.total_fen,
        "principal_fen": left.principal_fen,
        "fee_fen": left.fee_fen,
        "periods_left": left.periods_left,
        "overdue_fen": left.overdue_fen,
        "orders": [
            {
                "order_no": item.order.order_no,
                "principal_fen": item.principal_fen,
                "fee_fen": item.fee_fen,
                "total_fen": item.total_fen,
                "periods_left": item.periods_left,
            }
            for item in left.orders
        ],
    }
    if not left.orders:
        return _all_paid(account, lang), figures
    total, principal, fee = money(left.total_fen, lang), money(left.principal_fen, lang), money(left.fee_fen, lang)
    overdue = money(left.overdue_fen, lang)
    if lang is Lang.ZH:
        head = f"待还总额 {total}（本金 {principal} + 手续费 {fee}），剩余 {_periods(left.periods_left, lang)}："
        lines = [f"• {_order(i.order, lang)}：{money(i.total_fen, lang)}，剩 {i.periods_left} 期" for i in left.orders]
        note = f"\n其中 {overdue} 已逾期（不含滞纳金），请尽快还款。"
    else:
        head = f"Left to pay: {total} (principal {principal} + fees {fee}) over {_periods(left.periods_left, lang)}:"
        lines = [
            f"• {_order(i.order, lang)}: {money(i.total_fen, lang)}, {_periods(i.periods_left, lang)} left"
            for i in left.orders
        ]
        note = f"\n{overdue} of it is overdue (late fees not included): please pay soon."
    return "\n".join([head, *lines]) + (note if left.overdue_fen else ""), figures


def _overdue_status(account: Account, today: date, lang: Lang, operator: OperatorData) -> tuple[str, Figures]:
    rule = operator.late_fee
    status = billing.overdue_status(account, today, rule)
    figures: Figures = {
        "overdue": status.is_overdue,
        "days_overdue": status.days_overdue,
        "amount_fen": status.amount_fen,
        "late_fee_fen": status.late_fee_fen,
        "total_fen": status.amount_fen + status.late_fee_fen,
        "bills": [
            {
                "order_no": item.order.order_no,
                "period": item.bill.number,
                "due_date": item.bill.due_date.isoformat(),
                "days_overdue": item.days_overdue,
                "amount_fen": item.amount_fen,
                "late_fee_fen": item.late_fee_fen,
            }
            for item in status.bills
        ],
        "late_fee_rule": {
            "daily_rate": str(rule.daily_rate),
            "grace_days": rule.grace_days,
            "cap_rate": str(rule.cap_rate),
        },
    }
    zh = lang is Lang.ZH
    if not status.is_overdue:
        upcoming = billing.next_due(account, today)
        if upcoming is None:
            return ("您没有逾期账单。" if zh else "Nothing is overdue. ") + _all_paid(account, lang), figures
        when, amount, relative = _upcoming(upcoming, today, lang)
        if zh:
            return f"您没有逾期账单。下一期 {when}（{relative}）应还 {amount}。", figures
        return f"Nothing is overdue. Your next payment is {amount} on {when} ({relative}).", figures
    amount, fee = money(status.amount_fen, lang), money(status.late_fee_fen, lang)
    total, count = money(status.amount_fen + status.late_fee_fen, lang), len(status.bills)
    lines = []
    for item in status.bills:
        order, period = _order(item.order, lang), _period(item.bill, item.order, lang)
        due = _day(item.bill.due_date, today, lang)
        owed, late = money(item.amount_fen, lang), money(item.late_fee_fen, lang)
        if zh:
            lines.append(f"• {order}{period}：{due}到期，逾期 {item.days_overdue} 天，{owed}，滞纳金 {late}")
        else:
            days = _days(item.days_overdue, lang)
            lines.append(f"• {order}, {period}: due {due}, {days} late, {owed}, late fee {late}")
    if zh:
        head = (
            f"您有 {count} 期账单逾期，最早的已逾期 {status.days_overdue} 天。逾期金额 {amount}，"
            f"滞纳金约 {fee}（{_rule(rule, lang)}），合计 {total}。请尽快还款，以免影响征信。"
        )
    else:
        head = (
            f"You have {_periods(count, lang)} overdue; the oldest is {_days(status.days_overdue, lang)} late. "
            f"Overdue: {amount}, late fee about {fee} ({_rule(rule, lang)}), {total} in all. "
            "Please pay soon so your credit record is not affected."
        )
    return "\n".join([head, *lines]), figures


def _payoff_parts(item: billing.OrderPayoff, today: date, lang: Lang) -> list[str]:
    rate = percent(item.order.early_repayment_fee_rate, lang)
    overdue = any(bill.due_date < today for bill in item.order.unpaid_bills)
    if lang is Lang.ZH:
        parts = [f"剩余本金 {money(item.principal_fen, lang)}"]
        if item.fee_fen:
            parts.append(f"{'逾期及本期' if overdue else '本期'}手续费 {money(item.fee_fen, lang)}")
        if item.early_principal_fen:
            parts.append(f"提前还款手续费 {money(item.early_fee_fen, lang)}（未到期本金的 {rate}）")
        if item.late_fee_fen:
            parts.append(f"滞纳金 {money(item.late_fee_fen, lang)}")
        return parts
    parts = [f"principal {money(item.principal_fen, lang)}"]
    if item.fee_fen:
        periods = "overdue and current periods" if overdue else "current period"
        parts.append(f"fees of the {periods} {money(item.fee_fen, lang)}")
    if item.early_principal_fen:
        parts.append(f"early-repayment fee {money(item.early_fee_fen, lang)} ({rate} of the principal not yet due)")
    if item.late_fee_fen:
        parts.append(f"late fees {money(item.late_fee_fen, lang)}")
    return parts


def _payoff_quote(account: Account, today: date, lang: Lang, operator: OperatorData) -> tuple[str, Figures]:
    quote = billing.payoff_quote(account, today, operator.late_fee)
    figures: Figures = {
        "total_fen": quote.total_fen,
        "principal_fen": quote.principal_fen,
        "fee_fen": quote.fee_fen,
        "waived_fee_fen": quote.waived_fee_fen,
        "early_fee_fen": quote.early_fee_fen,
        "late_fee_fen": quote.late_fee_fen,
        "orders": [
            {
                "order_no": item.order.order_no,
                "total_fen": item.total_fen,
                "principal_fen": item.principal_fen,
                "fee_fen": item.fee_fen,
                "waived_fee_fen": item.waived_fee_fen,
                "early_principal_fen": item.early_principal_fen,
                "early_repayment_fee_rate": str(item.order.early_repayment_fee_rate),
                "early_fee_fen": item.early_fee_fen,
                "late_fee_fen": item.late_fee_fen,
            }
            for item in quote.orders
        ],
    }
    if not quote.orders:
        return _all_paid(account, lang), figures
    total, waived = money(quote.total_fen, lang), money(quote.waived_fee_fen, lang)
    if lang is Lang.ZH:
        head = f"今天一次性还清需 {total}："
        lines = [
            f"• {_order(i.order, lang)}：{money(i.total_fen, lang)}，其中{'，'.join(_payoff_parts(i, today, lang))}"
            for i in quote.orders
        ]
        tail = f"\n之后各期的手续费 {waived} 不再收取。" if quote.waived_fee_fen else ""
        tail += "\n以上为估算，实际金额以资金方还款页面为准。"
    else:
        head = f"To pay everything off today: {total}"
        lines = [
            f"• {_order(i.order, lang)}: {money(i.total_fen, lang)} — {', '.join(_payoff_parts(i, today, lang))}"
            for i in quote.orders
        ]
        tail = f"\nThe fees of later periods ({waived}) are not charged." if quote.waived_fee_fen else ""
        tail += "\nAn estimate: the provider's repayment page shows the binding amount."
    return "\n".join([head, *lines]) + tail, figures


_Renderer = Callable[[Account, date, Lang, OperatorData], tuple[str, Figures]]
_RENDERERS: dict[IntentId, _Renderer] = {
    IntentId.NEXT_DUE: _next_due,
    IntentId.BILLS: _bills,
    IntentId.OUTSTANDING: _outstanding,
    IntentId.OVERDUE_STATUS: _overdue_status,
    IntentId.PAYOFF_QUOTE: _payoff_quote,
}
ACCOUNT_INTENTS = frozenset(_RENDERERS)


def render_account_answer(
    intent: str, account: Account, today: date, lang: Lang, operator: OperatorData
) -> AccountAnswer:
    """The reply to one account lookup; ``today`` is the date in Asia/Shanghai (``bot.clock.today``).

    A customer without orders, or with everything paid, gets a plain sentence saying so (with the
    figures showing zeros). Raises ``ValueError`` for an intent that is not an account lookup.
    """
    intent_id = IntentId(intent)
    if intent_id not in _RENDERERS:
        raise ValueError(f"{intent} is not an account lookup")
    text, figures = _RENDERERS[intent_id](account, today, lang, operator)
    if not account.orders:
        text = _all_paid(account, lang)
    common: Figures = {"intent": intent_id.value, "customer_ref": account.customer_ref, "today": today.isoformat()}
    return AccountAnswer(text=text, figures=common | figures)
