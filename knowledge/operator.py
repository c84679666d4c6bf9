"""Operator data: the figures the guide article does not give (plans, fee rates, late fees, hotline).

They live in ``operator.yaml`` so that answers never state them in prose; the loader turns them into
these typed values and into the placeholder texts answers refer to.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from knowledge.text import Localized


@dataclass(frozen=True)
class Plan:
    """One installment offer: ``term`` monthly periods, a fee charged per period on the original price."""

    term: int
    fee_rate_per_period: Decimal
    interest_free: bool


@dataclass(frozen=True)
class Provider:
    """A partner financial institution and the plans it offers at checkout."""

    id: str
    name: Localized
    plans: tuple[Plan, ...]
    early_repayment_fee_rate: Decimal
    """Charged on the principal still outstanding when a customer repays early."""

    def plan_for(self, term: int) -> Plan | None:
        return next((plan for plan in self.plans if plan.term == term), None)


@dataclass(frozen=True)
class LateFeeRule:
    """A daily rate on the overdue amount, starting after ``grace_days``, capped at ``cap_rate`` of it."""

    daily_rate: Decimal
    grace_days: int
    cap_rate: Decimal


@dataclass(frozen=True)
class OperatorData:
    sample: bool
    hotline: str
    service_hours: Localized
    providers: tuple[Provider, ...]
    late_fee: LateFeeRule

    def provider(self, provider_id: str) -> Provider | None:
        return next((p for p in self.providers if p.id == provider_id), None)

    @property
    def terms(self) -> tuple[int, ...]:
        """Every term any provider offers, ascending."""
        return tuple(sorted({plan.term for provider in self.providers for plan in provider.plans}))
