"""Money rules of docs/domain.md §2–§3 in one place (Python side; SQL side: assets/mart/money_macros.sql).

- EU (EFS) part = total × eu_rate rounded DOWN to the grosz; national part = the remainder.
  2 489 370,50 → 2 098 041,45 + 391 329,05.
- Indirect costs = eligible direct costs × flat rate, rounded HALF UP to the grosz
  (2 173 900,00 × 15% = 326 085,00).
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

GROSZ = Decimal("0.01")


def eu_part(total: Decimal, eu_rate: Decimal) -> Decimal:
    return (Decimal(total) * Decimal(eu_rate)).quantize(GROSZ, rounding=ROUND_DOWN)


def national_part(total: Decimal, eu_rate: Decimal) -> Decimal:
    return Decimal(total) - eu_part(total, eu_rate)


def indirect_costs(direct: Decimal, indirect_rate: Decimal) -> Decimal:
    return (Decimal(direct) * Decimal(indirect_rate)).quantize(GROSZ, rounding=ROUND_HALF_UP)
