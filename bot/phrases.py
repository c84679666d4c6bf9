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

NEXT_WORDS = frozenset({"下一步", "下一个", "继续", "接下来", "然后呢", "然后", "next", "next step", "continue", "n"})
BACK_WORDS = frozenset({"上一步", "上一个", "返回", "后退", "back", "previous", "prev", "go back", "b"})
ALL_WORDS = frozenset({"全部步骤", "所有步骤", "全部", "all steps", "all", "show all steps"})
UNLINK_WORDS = frozenset({"解绑", "解除绑定", "取消绑定", "unlink", "disconnect"})
PII_WARNING = Localized(
    zh="⚠️ 请不要在聊天中发送身份证号、银行卡号、手机号或邮箱：这里没有人会向您索要这些信息，我们也不会保存它们。"
    "实名认证和绑卡只在小米商城的结算页面完成。",
    en="⚠️ Please never send ID numbers, bank card numbers, phone numbers or e-mail addresses in a chat: nobody "
    "here will ever ask for them, and we do not keep them. Identity verification and cards are handled only on "
    "Xiaomi Mall's checkout page.",
)
