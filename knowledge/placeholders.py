"""Placeholder texts built from the operator data, so answers never state a fee or a term in prose."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from babel.numbers import parse_pattern

from knowledge.operator import OperatorData, Plan
from knowledge.text import BABEL_LOCALES, Lang, Localized

_PERCENT = parse_pattern("#,##0.##%")
"""Parsed once, as Babel's ``format_percent`` would on every call (account answers quote many rates)."""


def percent(rate: Decimal, lang: Lang) -> str:
    return _PERCENT.apply(rate, BABEL_LOCALES[lang])


def _join(items: list[str], lang: Lang) -> str:
    if lang is Lang.ZH:
        return "、".join(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _plan(plan: Plan, lang: Lang) -> str:
    if lang is Lang.ZH:
        cost = "免息" if plan.interest_free else f"每期手续费 {percent(plan.fee_rate_per_period, lang)}"
        return f"{plan.term} 期 {cost}"
    cost = "interest-free" if plan.interest_free else f"{percent(plan.fee_rate_per_period, lang)} fee per month"
    return f"{plan.term} months {cost}"


def _for_each_lang(build: Callable[[Lang], str]) -> Localized:
    return Localized(zh=build(Lang.ZH), en=build(Lang.EN))


def placeholder_values(operator: OperatorData) -> dict[str, Localized]:
    """Every placeholder an answer may use, in both languages."""
    sample_note = Localized(zh="（示例数据，以结算页面显示为准）", en=" (sample figures; the checkout page is authoritative)")
    sample_rule = Localized(zh="（示例规则，以分期机构规定为准）", en=" (sample rule; your provider's terms apply)")

    def terms(lang: Lang) -> str:
        numbers = [str(term) for term in operator.terms]
        return f"{_join(numbers, lang)} 期" if lang is Lang.ZH else f"{_join(numbers, lang)} months"

    def fee_table(lang: Lang) -> str:
        separator = "；" if lang is Lang.ZH else "; "
        colon = "：" if lang is Lang.ZH else ": "
        rows = [
            f"• {provider.name[lang]}{colon}{separator.join(_plan(plan, lang) for plan in provider.plans)}"
            for provider in operator.providers
        ]
        if operator.sample:
            rows.append(sample_note[lang].strip(" "))
        return "\n".join(rows)

    def interest_free(lang: Lang) -> str:
        offers = []
        for provider in operator.providers:
            free = [str(plan.term) for plan in provider.plans if plan.interest_free]
            if free:
                offers.append(
                    f"{provider.name[lang]} 的 {_join(free, lang)} 期"
                    if lang is Lang.ZH
                    else f"{_join(free, lang)} months with {provider.name[lang]}"
                )
        if not offers:
            return "目前没有免息方案" if lang is Lang.ZH else "no interest-free plans at the moment"
        return _join(offers, lang)

    def late_fee_rule(lang: Lang) -> str:
        rule = operator.late_fee
        daily, cap = percent(rule.daily_rate, lang), percent(rule.cap_rate, lang)
        if lang is Lang.ZH:
            grace = f"宽限 {rule.grace_days} 天后，" if rule.grace_days else ""
            text = f"{grace}按逾期金额每天 {daily} 计收滞纳金，最高不超过逾期金额的 {cap}"
        else:
            grace = f"after a {rule.grace_days}-day grace period, " if rule.grace_days else ""
            text = f"{grace}a late fee of {daily} of the overdue amount per day, at most {cap} of it"
        return text + (sample_rule[lang] if operator.sample else "")

    def early_fee_rule(lang: Lang) -> str:
        rows = []
        for provider in operator.providers:
            rate = provider.early_repayment_fee_rate
            if lang is Lang.ZH:
                fee = "免手续费" if not rate else f"剩余本金的 {percent(rate, lang)}"
                rows.append(f"{provider.name[lang]}：{fee}")
            else:
                fee = "no fee" if not rate else f"{percent(rate, lang)} of the remaining principal"
                rows.append(f"{provider.name[lang]}: {fee}")
        separator = "；" if lang is Lang.ZH else "; "
        return separator.join(rows) + (sample_rule[lang] if operator.sample else "")

    return {
        "hotline": Localized(zh=operator.hotline, en=operator.hotline),
        "service_hours": operator.service_hours,
        "providers": _for_each_lang(lambda lang: _join([p.name[lang] for p in operator.providers], lang)),
        "terms": _for_each_lang(terms),
        "fee_table": _for_each_lang(fee_table),
        "interest_free": _for_each_lang(interest_free),
        "late_fee_rule": _for_each_lang(late_fee_rule),
        "early_fee_rule": _for_each_lang(early_fee_rule),
    }
