"""Reporting quarters: the `2021Q1` labels of landing folders and the Dagster partition keys."""

from __future__ import annotations

import re
from datetime import date, timedelta

_QUARTER_RE = re.compile(r"^\s*(\d{4})\s*[-/ ]?\s*[Qq]\s*([1-4])\s*$")
_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4}
_ROMAN_RE = re.compile(r"^\s*(I{1,3}|IV)\s*(?:kw\.?|kwartał)\s*(\d{4})\s*r?\.?\s*$", re.IGNORECASE)
_REVERSED_RE = re.compile(r"^\s*[Qq]\s*([1-4])\s*[-/ ]?\s*(\d{4})\s*$")


def quarter_of(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def parse_quarter(text: str) -> str | None:
    """`2021Q1`, `2021-Q1`, `Q1 2021`, `I kw. 2021` -> `2021Q1`; anything else -> None."""
    text = str(text)
    if m := _QUARTER_RE.match(text):
        return f"{m.group(1)}Q{m.group(2)}"
    if m := _REVERSED_RE.match(text):
        return f"{m.group(2)}Q{m.group(1)}"
    if m := _ROMAN_RE.match(text):
        return f"{m.group(2)}Q{_ROMAN[m.group(1).upper()]}"
    return None


def quarter_start(quarter: str) -> date:
    year, q = int(quarter[:4]), int(quarter[-1])
    return date(year, 3 * (q - 1) + 1, 1)


def quarter_end(quarter: str) -> date:
    start = quarter_start(quarter)
    next_start = date(start.year + (start.month == 10), (start.month + 2) % 12 + 1, 1)
    return next_start - timedelta(days=1)


def next_quarter(quarter: str) -> str:
    return quarter_of(quarter_end(quarter) + timedelta(days=1))


def quarters_between(first: date, last: date) -> list[str]:
    """Every quarter label from the one holding `first` to the one holding `last`."""
    out, current, stop = [], quarter_of(first), quarter_of(last)
    while current <= stop:
        out.append(current)
        current = next_quarter(current)
    return out


def partition_key_to_quarter(key: str) -> str:
    """Dagster time-window key `2021-01-01` -> `2021Q1` (labels pass through)."""
    if parse_quarter(key):
        return parse_quarter(key)  # type: ignore[return-value]
    return quarter_of(date.fromisoformat(key))


def quarter_to_partition_key(quarter: str) -> str:
    return quarter_start(quarter).isoformat()
