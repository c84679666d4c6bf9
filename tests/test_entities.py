"""Entity extraction as a table: message -> (price in fen, term in months).

Each block pins one rule from the docstring of ``intents.entities``; a failing row names the
message, so the table doubles as the specification of what the assistant understands.
"""

from __future__ import annotations

import pytest

from intents.entities import Entities, extract_entities

AMOUNTS = [
    ("3999元", 399900, None),
    ("3999块", 399900, None),
    ("¥2,499", 249900, None),
    ("￥2499.5", 249950, None),
    ("RMB 1999", 199900, None),
    ("5999rmb", 599900, None),
    ("人民币3999", 399900, None),
    ("五千块", 500000, None),
    ("两千五", 250000, None),
    ("两千五百元", 250000, None),
    ("兩千塊", 200000, None),
    ("一万二", 1200000, None),
    ("3.5k", 350000, None),
    ("3k", 300000, None),
    ("3K", 300000, None),
    ("1.2w", 1200000, None),
    ("1.2万", 1200000, None),
    ("2万", 2000000, None),
    ("２４９９元", 249900, None),
    ("99元", 9900, None),
    ("1000000元", 100000000, None),
]

ROUNDING = [
    ("2499.554元", 249955, None),
    ("2499.555元", 249956, None),
    ("1999.995元", 200000, None),
    ("0.001元", None, None),
]

AMOUNT_AND_TERM = [
    ("4999分12期", 499900, 12),
    ("2499 over 24 months", 249900, 24),
    ("price 3,299 for 6 months", 329900, 6),
    ("6期3000", 300000, 6),
    ("3000 6期", 300000, 6),
    ("3999 12期", 399900, 12),
    ("小米15 卖 4499，分12期每期多少", 449900, 12),
    ("手机12999分24期", 1299900, 24),
    ("分期3000元", 300000, None),
    ("iphone 5999 分 12 期", 599900, 12),
    ("5999 yuan 12 months", 599900, 12),
    ("一万二分十二期", 1200000, 12),
    ("两千五 半年", 250000, 6),
]

MODELS_AND_SPECS = [
    ("Redmi K80 2599元", 259900, None),
    ("Redmi K80", None, None),
    ("iPhone 16 分12期", None, 12),
    ("小米15", None, None),
    ("小米15 256gb 4499", 449900, None),
    ("小米15 256 GB 4499", 449900, None),
    ("8+256 3999", 399900, None),
    ("2026款小米15 4999", 499900, None),
    ("90w快充", None, None),
    ("5000mah", None, None),
    ("100%", None, None),
    ("6.67寸", None, None),
    ("4k屏 2999", 299900, None),
]

TERMS = [
    ("12期", None, 12),
    ("十二期", None, 12),
    ("分12期", None, 12),
    ("12个月", None, 12),
    ("十二個月", None, 12),
    ("一年", None, 12),
    ("半年", None, 6),
    ("两年", None, 24),
    ("兩年", None, 24),
    ("2年", None, 24),
    ("一年半", None, 18),
    ("两年半", None, 30),
    ("24 months", None, 24),
    ("12 mo", None, 12),
    ("12-month plan", None, 12),
    ("6 installments", None, 6),
    ("1 year", None, 12),
    ("2 years", None, 24),
    ("1.5 years", None, 18),
    ("half a year", None, 6),
    ("3 期", None, 3),
    ("分六期", None, 6),
    ("24期免息吗", None, 24),
    ("还剩3期", None, 3),
    ("分12期还是24期", None, 12),
    ("5年", None, 60),
]

NEITHER = [
    ("我的账单", None, None),
    ("分期怎么买", None, None),
    ("你好", None, None),
    ("", None, None),
    ("🙂", None, None),
    ("12月5号还款", None, None),
    ("十二月五号还款", None, None),
    ("2026年11月", None, None),
    ("2026-11-05 还款", None, None),
    ("2026/11/5", None, None),
    ("上半年", None, None),
    ("第3期", None, None),
    ("第三期什么时候还", None, None),
    ("13812345678", None, None),
    ("我的手机号13812345678 分12期", None, 12),
    ("2000000元", None, None),
    ("千万别分期", None, None),
    ("99", None, None),
    ("100期", None, None),
    ("0期", None, None),
    ("10年", None, None),
    ("3.5期", None, None),
]

PRIORITY_AND_PAYMENTS = [
    ("预算5000，这款3999元", 399900, None),
    ("3000-4000", 300000, None),
    ("月供500 分12期", None, 12),
    ("每期300元", None, None),
    ("每月还款500，12期", None, 12),
    ("500元/月", None, None),
    ("300 a month for 12 months", None, 12),
    ("4999元 每期416", 499900, None),
]

ALL_CASES = (
    AMOUNTS
    + ROUNDING
    + AMOUNT_AND_TERM
    + MODELS_AND_SPECS
    + TERMS
    + NEITHER
    + PRIORITY_AND_PAYMENTS
)


@pytest.mark.parametrize(("message", "amount_fen", "term"), ALL_CASES)
def test_extract_entities(message: str, amount_fen: int | None, term: int | None) -> None:
    result = extract_entities(message)
    assert result == Entities(amount_fen=amount_fen, term=term)
    # Money must never pass through float: a float 399900.0 would compare equal above.
    assert type(result.amount_fen) in (int, type(None))
    assert type(result.term) in (int, type(None))
