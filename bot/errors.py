"""Domain errors of the bill-data layer. The CLI turns them into one line and an exit code, the bot
into a friendly reply; neither needs to know about SQL to do so."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


class LedgerError(Exception):
    """Base class: something about the customer's data or request, not a bug."""


class CustomerNotFound(LedgerError):
    def __init__(self, customer: int | str) -> None:
        super().__init__(f"no customer {customer!r}")
        self.customer = customer


class NotLinked(LedgerError):
    """The chat is not linked to a customer, so it must not see any bill data."""

    def __init__(self, chat_id: int) -> None:
        super().__init__(f"chat {chat_id} is not linked to a customer")
        self.chat_id = chat_id


class InvalidLinkCode(LedgerError):
    """Unknown, expired or already used: deliberately one error, so a guesser learns nothing."""

    def __init__(self) -> None:
        super().__init__("invalid, expired or used link code")


class LinkRateLimited(LedgerError):
    def __init__(self, retry_at: datetime) -> None:
        super().__init__(f"too many wrong link codes; try again after {retry_at.isoformat()}")
        self.retry_at = retry_at


@dataclass(frozen=True)
class RowError:
    """One problem in an import file. ``row`` is the CSV line number (header = 1) or the 1-based
    index of the JSON record; ``None`` for problems with the file as a whole."""

    row: int | None
    message: str
    field: str | None = None

    def __str__(self) -> str:
        where = "file" if self.row is None else f"row {self.row}"
        return f"{where}, {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class ImportFailed(LedgerError):
    """Every problem found in the file; nothing was imported."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} error(s):\n" + "\n".join(str(error) for error in errors))
        self.errors = errors
