"""The engine's own words (navigation, prompts), as opposed to answers, which live in the knowledge base."""

from __future__ import annotations

from knowledge.text import Localized

STEP_HEADER = Localized(zh="第 {number}/{total} 步：{title}", en="Step {number} of {total}: {title}")
STEP_NEXT = Localized(zh="下一步 ▶", en="Next ▶")
STEP_BACK = Localized(zh="◀ 上一步", en="◀ Back")
STEP_ALL = Localized(zh="全部步骤", en="All steps")
WALKTHROUGH_DONE = Localized(
    zh="以上就是分期购买的全部步骤。还有其他问题可以直接问我。",
    en="That's every step of buying in installments. Ask me anything else.",
)
MENU = Localized(zh="菜单", en="Menu")
DID_YOU_MEAN = Localized(zh="我不太确定您的意思，您是想问：", en="I'm not quite sure what you mean. Did you mean:")
RELATED = Localized(zh="相关问题：", en="Related:")
ASK_AMOUNT = Localized(
    zh="请告诉我商品价格（可以带上期数），例如：3999 分 12 期",
    en="Tell me the price (and the number of months if you like), e.g. 3999 over 12 months",
)
EMPTY = Localized(
    zh="我没有收到文字内容。请直接输入您的问题，例如：分期怎么买？",
    en="I didn't get any text. Type your question, e.g. how do I buy in installments?",
)
LINK_OK = Localized(
    zh="绑定成功！现在可以问我：我下期什么时候还？还剩多少？",
    en="Linked! You can now ask: when is my next payment? how much do I still owe?",
)
LINK_INVALID = Localized(
    zh="这个绑定码无效或已过期，请核对后重新输入，或向客服重新获取。",
    en="That link code is invalid or has expired. Check it, or ask customer service for a new one.",
)
LINK_LIMITED = Localized(
    zh="错误次数太多，请一小时后再试。",
    en="Too many wrong codes. Please try again in an hour.",
)
UNLINKED = Localized(zh="已解除绑定，本聊天不再显示您的账单。", en="Unlinked: this chat no longer shows your bills.")
NOT_LINKED = Localized(zh="本聊天尚未绑定任何账户。", en="This chat is not linked to any account.")
LINKED = Localized(zh="本聊天已绑定您的小米账号。", en="This chat is linked to your Xiaomi account.")

NEXT_WORDS = frozenset({"下一步", "下一个", "继续", "接下来", "然后呢", "然后", "next", "next step", "continue", "n"})
BACK_WORDS = frozenset({"上一步", "上一个", "返回", "后退", "back", "previous", "prev", "go back", "b"})
ALL_WORDS = frozenset({"全部步骤", "所有步骤", "全部", "all steps", "all", "show all steps"})
UNLINK_WORDS = frozenset({"解绑", "解除绑定", "取消绑定", "unlink", "disconnect"})

REMINDER_BEFORE = Localized(
    zh="还款提醒：您的 {product}（订单 {order_no}）第 {period}/{term} 期 {amount} 将于 {date}（{days}后）到期，请按时还款。",
    en="Payment reminder: {product} (order {order_no}), period {period} of {term}, {amount}, is due on {date} "
    "(in {days}). Please pay on time.",
)
REMINDER_DUE = Localized(
    zh="今天是还款日：您的 {product}（订单 {order_no}）第 {period}/{term} 期 {amount} 今天（{date}）到期，请在今天内还款，以免逾期。",
    en="Due today: {product} (order {order_no}), period {period} of {term}, {amount}, is due today ({date}). "
    "Please pay today so it does not become overdue.",
)
REMINDER_OVERDUE = Localized(
    zh="逾期提醒：您的 {product}（订单 {order_no}）第 {period}/{term} 期 {amount} 已于 {date} 到期，现已逾期。"
    "请尽快还款，以免产生滞纳金、影响征信。",
    en="Overdue: {product} (order {order_no}), period {period} of {term}, {amount}, was due on {date} and is now "
    "overdue. Please pay as soon as you can to avoid late fees and protect your credit record.",
)
REMINDER_BUTTON = Localized(zh="查看账单", en="See my bill")
REMINDERS_SCHEDULE = Localized(
    zh="到期前 {days} 天、到期当天和逾期第一天的 {time}（北京时间）",
    en="at {time} (Beijing time) {days} days before a due date, on the day and on the first day overdue",
)
REMINDERS_ON = Localized(
    zh="还款提醒已开启：我会在{schedule}提醒您。发送 /reminders off 关闭。",
    en="Payment reminders are on: I'll remind you {schedule}. Send /reminders off to stop them.",
)
REMINDERS_OFF = Localized(
    zh="还款提醒已关闭。发送 /reminders on 重新开启。",
    en="Payment reminders are off. Send /reminders on to turn them back on.",
)
REMINDERS_NEED_LINK = Localized(
    zh="本聊天尚未绑定账户，绑定后才能收到提醒（发送 /link 了解如何绑定）。",
    en="This chat is not linked to an account yet: link it to receive them (send /link to see how).",
)
ON_WORDS = frozenset({"on", "开", "开启", "打开"})
OFF_WORDS = frozenset({"off", "关", "关闭", "停止"})

PII_WARNING = Localized(
    zh="⚠️ 请不要在聊天中发送身份证号、银行卡号、手机号或邮箱：这里没有人会向您索要这些信息，我们也不会保存它们。"
    "实名认证和绑卡只在小米商城的结算页面完成。",
    en="⚠️ Please never send ID numbers, bank card numbers, phone numbers or e-mail addresses in a chat: nobody "
    "here will ever ask for them, and we do not keep them. Identity verification and cards are handled only on "
    "Xiaomi Mall's checkout page.",
)
