"""The intent catalogue (``shared/spec/intents.md``). The ids are a public interface: the knowledge
base, evaluation sets, ``bot.py ask --json`` and analytics all use them verbatim."""

from __future__ import annotations

from enum import StrEnum


class IntentId(StrEnum):
    CHECKOUT_FLOW = "guide.checkout_flow"
    CART_CHECKOUT = "guide.cart_checkout"
    INSTALLMENT_OPTION = "guide.installment_option"
    IDENTITY_VERIFICATION = "guide.identity_verification"
    CHOOSE_PROVIDER = "guide.choose_provider"
    ELIGIBILITY = "guide.eligibility"
    APPROVAL = "guide.approval"
    RETURN_REFUND = "guide.return_refund"
    AUTO_DEBIT = "repay.auto_debit"
    VIEW_BILLS = "repay.view_bills"
    MANUAL = "repay.manual"
    EARLY = "repay.early"
    CHANGE_DATE = "repay.change_date"
    PAYMENT_ISSUE = "repay.payment_issue"
    OVERDUE = "repay.overdue"
    CREDIT = "repay.credit"
    DOCUMENTS = "repay.documents"
    NEXT_DUE = "account.next_due"
    BILLS = "account.bills"
    OUTSTANDING = "account.outstanding"
    OVERDUE_STATUS = "account.overdue_status"
    PAYOFF_QUOTE = "account.payoff_quote"
    LINK = "account.link"
    CALCULATOR = "calc.installment"
    GREETING = "chat.greeting"
    THANKS = "chat.thanks"
    GOODBYE = "chat.goodbye"
    HELP = "chat.help"
    HUMAN = "chat.human"
    OUT_OF_SCOPE = "out_of_scope"

    @property
    def is_account_lookup(self) -> bool:
        """Answered from the customer's own bills, so the chat must be linked first."""
        return self.value.startswith("account.") and self is not IntentId.LINK
