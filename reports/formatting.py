"""Polish formats for everything the ministry reads: one module for the HTML (Jinja2 filters),
the charts and the XLSX annex.

Numbers and money come from babel's `pl_PL` locale (thousands separated by a non-breaking space,
decimal comma): 1 234 567,89 zł; 70,0%; dates 31.03.2022. Money stays `Decimal` all the way;
nothing here rounds through float.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

LOCALE = "pl_PL"
MISSING = "—"
CONFIDENTIAL = "•"
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}

# Column kinds of the report tables (reports.model.Column.kind).
# `quantity`: service units, which may be fractional (1 270,5 hours): no decimals when whole, else up to two.
KINDS = ("text", "int", "quantity", "number", "money", "pct", "date", "flag", "quarter")


class Suppressed:
    """A count hidden by statistical disclosure control (sensitive categories).

    `primary` cells are below the threshold and read `<5`; `secondary` cells are hidden so the
    primary ones cannot be recovered from totals and read `•` (Statistics Poland's sign for
    confidential data).
    """

    __slots__ = ("threshold", "primary")

    def __init__(self, threshold: int, primary: bool = True):
        self.threshold = threshold
        self.primary = primary

    @property
    def text(self) -> str:
        return f"<{self.threshold}" if self.primary else CONFIDENTIAL

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Suppressed({self.text})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Suppressed) and (self.threshold, self.primary) == (other.threshold, other.primary)

    def __hash__(self) -> int:
        return hash((self.threshold, self.primary))


def _decimal(value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _round(value, places: int) -> Decimal:
    """Half-up rounding (Polish accounting), before babel (whose default is half-even)."""
    return _decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def money(value, currency: bool = True) -> str:
    """1234567.89 -> '1 234 567,89 zł' (non-breaking spaces, as babel's pl_PL gives)."""
    if value is None:
        return MISSING
    text = format_decimal(_round(value, 2), format="#,##0.00", locale=LOCALE)
    return f"{text}\u00a0zł" if currency else text


def plain_money(value) -> str:
    """`money` with ordinary spaces, for plain-text messages (validation, logs): '2 499 985,00 zł'."""
    return money(value).replace("\u00a0", " ")


def plural(n: int, one: str, few: str, many: str) -> str:
    """The Polish form of a noun after `n` (CLDR plural rules through babel):
    plural(1, …) = one, 2–4 / 22–24 … = few, 5–21, 25… = many ('wiersz', 'wiersze', 'wierszy')."""
    form = Locale.parse(LOCALE).plural_form(abs(int(n)))
    return {"one": one, "few": few}.get(form, many)


def count(n: int, one: str, few: str, many: str) -> str:
    """A count and its noun for terminal and log text: count(2, 'przebieg udany', 'przebiegi udane',
    'przebiegów udanych') = '2 przebiegi udane'; the number grouped as `integer` groups it
    ('1 001', '249 782'), with a plain space instead of the reports' non-breaking one."""
    return f"{integer(n).replace(chr(0xA0), ' ')} {plural(n, one, few, many)}"


def row_count(n: int) -> str:
    """'1 wiersz', '3 wiersze', '5 wierszy', '12 wierszy', '249 782 wiersze'."""
    return count(n, "wiersz", "wiersze", "wierszy")


def number(value, decimals: int = 2) -> str:
    """1234.5 -> '1 234,50'; decimals=0 -> '1 235'."""
    if value is None:
        return MISSING
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(_round(value, decimals), format=pattern, locale=LOCALE)


def integer(value) -> str:
    if value is None:
        return MISSING
    return format_decimal(_round(value, 0), format="#,##0", locale=LOCALE)


def quantity(value) -> str:
    """Counts and service units: no decimals when whole, else up to two ('12,5')."""
    if value is None:
        return MISSING
    value = _decimal(value)
    if value == value.to_integral_value():
        return integer(value)
    return format_decimal(_round(value, 2), format="#,##0.##", locale=LOCALE)


def percent_decimals(value, decimals: int = 1) -> int:
    """`decimals`, or more when a share other than exactly 100 % would read as 100 %: 0.9996 -> 2
    ('99,96%', not '100,0%' — e.g. rows accepted when some were rejected), 0.99996 -> 3 (at most 4 more)."""
    exact = _decimal(value)
    shown = decimals
    while exact != 1 and _round(exact, shown + 2) == 1 and shown < decimals + 4:
        shown += 1
    return shown


def percent(value, decimals: int = 1) -> str:
    """A ratio -> Polish percent: 0.7 -> '70,0%' (babel pl_PL: no space before %); never '100,0%'
    for a ratio that is not exactly 1 (percent_decimals)."""
    if value is None:
        return MISSING
    decimals = percent_decimals(value, decimals)
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "") + "%"
    return format_percent(_round(value, decimals + 2), format=pattern, locale=LOCALE)


def pl_date(value) -> str:
    """date(2022, 3, 31) -> '31.03.2022'."""
    if value is None:
        return MISSING
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.date()
    return format_date(value, format="dd.MM.yyyy", locale=LOCALE)


def pl_datetime(value: datetime) -> str:
    return f"{pl_date(value)} {value:%H:%M}"


def quarter_label(quarter: str) -> str:
    """'2022Q1' -> 'I kwartał 2022'."""
    return f"{ROMAN[int(quarter[-1])]} kwartał {quarter[:4]}"


def quarter_short(quarter: str) -> str:
    """'2022Q1' -> 'I kw. 2022' (chart axes)."""
    return f"{ROMAN[int(quarter[-1])]} kw. {quarter[:4]}"


def flag(value) -> str:
    if value is None:
        return MISSING
    return "tak" if value else "nie"


def fmt(value, kind: str = "text") -> str:
    """One dispatcher for every table cell of the report (HTML and tests)."""
    if isinstance(value, Suppressed):
        return value.text
    if value is None:
        return MISSING
    if kind == "money":
        return money(value)
    if kind == "number":
        return number(value)
    if kind in ("int", "quantity"):
        return quantity(value)
    if kind == "pct":
        return percent(value)
    if kind == "date":
        return pl_date(value)
    if kind == "flag":
        return flag(value)
    if kind == "quarter":
        return quarter_label(str(value))
    return str(value)


# XLSX number formats. Format codes in an .xlsx file are always stored in the neutral (en-US)
# syntax; Excel/LibreOffice with Polish settings display `#,##0.00` as `1 234 567,89`.
XLSX_FORMATS = {
    "money": '#,##0.00 "zł"',
    "number": "#,##0.00",
    "int": "#,##0",
    # Fractional service units (1 270,5); a whole quantity gets the "int" format (xlsx.py picks per cell).
    "quantity": "#,##0.0#",
    "pct": "0.0%",
    # a share shown with more decimals so it never reads as 100 % when it is not (percent_decimals)
    **{f"pct{d}": "0." + "0" * d + "%" for d in range(2, 6)},
    "date": "dd.mm.yyyy",
}

# Plotly: decimal comma, non-breaking space between thousands.
PLOTLY_SEPARATORS = ",\u00a0"


def jinja_filters() -> dict:
    return {
        "money": money,
        "number": number,
        "integer": integer,
        "quantity": quantity,
        "percent": percent,
        "pl_date": pl_date,
        "pl_datetime": pl_datetime,
        "quarter_label": quarter_label,
        "flag": flag,
        "fmt": fmt,
    }
