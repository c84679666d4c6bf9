"""The one place that reads the wall clock, so tests (and the demo) can pin "now".

Bills fall due on calendar days in China, so "today" is always the date in the shop's zone
(Asia/Shanghai), whatever zone the server runs in: at 23:30 UTC it is already tomorrow in Shanghai.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

SHOP_ZONE = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    """Anything that tells the current time as an aware datetime, and the zone bills are dated in."""

    @property
    def zone(self) -> ZoneInfo: ...

    def now(self) -> datetime: ...


@dataclass(frozen=True)
class SystemClock:
    """The real clock; ``zone`` comes from settings (``TIMEZONE``, default Asia/Shanghai)."""

    zone: ZoneInfo = SHOP_ZONE

    def now(self) -> datetime:
        return datetime.now(self.zone)


@dataclass(frozen=True)
class FixedClock:
    """A clock stopped at ``at`` (which must be aware), for tests and reproducible transcripts."""

    at: datetime
    zone: ZoneInfo = SHOP_ZONE

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")

    def now(self) -> datetime:
        return self.at.astimezone(self.zone)


def today(clock: Clock) -> date:
    """The calendar date in the clock's zone: the date due dates are compared with."""
    return clock.now().astimezone(clock.zone).date()
