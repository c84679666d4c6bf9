"""The installment calculator: what each period and the fees come to, for every plan that fits.

Pure: the plans come from the operator data, the arithmetic from ``bot.billing.split`` — the same
split the bills use, so a quote and the later bills agree to the fen.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.billing import split
from bot.formatting import money
from knowledge.operator import OperatorData, Plan, Provider
from knowledge.text import Lang


@dataclass(frozen=True)
class Quote:
    provider: Provider
    plan: Plan
    first_period_fen: int
    """Period 1 carries the rounding remainder, so it can be a few fen more than the others."""
    per_period_fen: int
    total_fee_fen: int


def quotes(amount_fen: int, term: int | None, operator: OperatorData) -> list[Quote]:
    """Every plan with the given term, or every plan of every provider when term is None."""
    result = []
    for provider in operator.providers:
        for plan in provider.plans:
            if term is None or plan.term == term:
                periods = split(amount_fen, plan.term, plan.fee_rate_per_period)
                result.append(
                    Quote(
                        provider=provider,
                        plan=plan,
                        first_period_fen=periods[0].amount_fen,
                        per_period_fen=periods[-1].amount_fen,
                        total_fee_fen=sum(period.fee_fen for period in periods),
                    )
                )
    return result


def _line(quote: Quote, lang: Lang) -> str:
    first = quote.first_period_fen != quote.per_period_fen
    if lang is Lang.ZH:
        each = f"每期 {money(quote.per_period_fen, lang)}" + (f"（首期 {money(quote.first_period_fen, lang)}）" if first else "")
        fee = "免息" if quote.plan.interest_free else f"手续费共 {money(quote.total_fee_fen, lang)}"
        return f"• {quote.provider.name.zh} {quote.plan.term} 期：{each}，{fee}"
    each = f"{money(quote.per_period_fen, lang)} a month" + (f" (first month {money(quote.first_period_fen, lang)})" if first else "")
    fee = "interest-free" if quote.plan.interest_free else f"fees {money(quote.total_fee_fen, lang)} in total"
    return f"• {quote.provider.name.en}, {quote.plan.term} months: {each}, {fee}"


def render_quotes(amount_fen: int, term: int | None, operator: OperatorData, lang: Lang) -> tuple[str, dict[str, object]]:
    """The calculator's answer and the figures it was built from."""
    found = quotes(amount_fen, term, operator)
    header = ""
    if not found:
        offered = "、".join(str(t) for t in operator.terms) if lang is Lang.ZH else ", ".join(str(t) for t in operator.terms)
        header = (
            f"暂无 {term} 期的方案（可选：{offered} 期），以下是全部方案：\n"
            if lang is Lang.ZH
            else f"No plan offers {term} months (available: {offered}). All plans:\n"
        )
        found = quotes(amount_fen, None, operator)
    elif lang is Lang.ZH:
        header = f"{money(amount_fen, lang)}" + (f" 分 {term} 期：\n" if term else " 的各期方案：\n")
    else:
        header = f"{money(amount_fen, lang)}" + (f" over {term} months:\n" if term else ", every plan:\n")
    note = (
        "\n以上按当前方案估算，实际以结算页面显示为准。"
        if lang is Lang.ZH
        else "\nEstimates from the current plans; the checkout page shows the binding figures."
    )
    if operator.sample:
        note += "（示例费率）" if lang is Lang.ZH else " (sample rates)"
    text = header + "\n".join(_line(quote, lang) for quote in found) + note
    figures: dict[str, object] = {
        "amount_fen": amount_fen,
        "term": term,
        "quotes": [
            {
                "provider": quote.provider.id,
                "term": quote.plan.term,
                "first_period_fen": quote.first_period_fen,
                "per_period_fen": quote.per_period_fen,
                "total_fee_fen": quote.total_fee_fen,
                "interest_free": quote.plan.interest_free,
            }
            for quote in found
        ],
    }
    return text, figures
