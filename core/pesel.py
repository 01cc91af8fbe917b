"""PESEL handling at the very first step (docs/domain.md §11 "Personal data").

Birth date and sex are derived and the checksum checked, then the number is replaced by a keyed
pseudonym (HMAC-SHA256 with a secret from the environment). The PESEL itself is never returned.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date

import polars as pl
from stdnum.pl import pesel as stdnum_pesel

# pesel_status values (the validation step turns the bad ones into quarantine reasons)
OK = "ok"
RESTORED_LEADING_ZERO = "restored_leading_zero"  # a spreadsheet stored it as a number
MISSING = "missing"
INVALID_FORMAT = "invalid_format"
INVALID_LENGTH = "invalid_length"
INVALID_CHECKSUM = "invalid_checksum"


def pesel_digits(text: str | None) -> tuple[str | None, str]:
    """The 11 digits of a PESEL cell and a status; a lost leading zero is put back if it checks."""
    if text is None or not str(text).strip():
        return None, MISSING
    cleaned = str(text).strip().replace(" ", "").removesuffix(".0")
    if not cleaned.isdigit():
        return None, INVALID_FORMAT
    if len(cleaned) == 11:
        return (cleaned, OK) if stdnum_pesel.is_valid(cleaned) else (None, INVALID_CHECKSUM)
    # Born 2000-2009: the PESEL starts with 0 (2000: with 00); a spreadsheet that stored it as a
    # number dropped those zeros. Restored only when the padded number checks (date + checksum).
    if len(cleaned) in (9, 10) and stdnum_pesel.is_valid(cleaned.zfill(11)):
        return cleaned.zfill(11), RESTORED_LEADING_ZERO
    return None, INVALID_LENGTH


_CENTURY_MONTH_OFFSET = {18: 80, 19: 0, 20: 20, 21: 40, 22: 60}


def make_pesel(birth: date, sex: str, serial: int = 0) -> str:
    """A valid PESEL for a birth date and sex ("K" woman, "M" man: the contract's values), for the
    sample data and test fixtures. The century is coded in the month; `serial` (0–4999) gives the
    serial digits (serial // 5) and the sex digit (even for a woman); stdnum computes the checksum."""
    if sex not in ("K", "M"):
        raise ValueError(f"płeć {sex!r}: podaj K albo M")
    sex_digit = 2 * (serial % 5) + (1 if sex == "M" else 0)
    month = birth.month + _CENTURY_MONTH_OFFSET[birth.year // 100]
    body = f"{birth.year % 100:02d}{month:02d}{birth.day:02d}{serial // 5 % 1000:03d}{sex_digit}"
    return body + stdnum_pesel.calc_check_digit(body)


def pseudonym(digits: str, secret: bytes) -> str:
    return hmac.new(secret, digits.encode("ascii"), hashlib.sha256).hexdigest()[:32]


def age_on(birth: date | None, day: date | None) -> int | None:
    if birth is None or day is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _person(text: str | None, secret: bytes) -> tuple[str | None, str, date | None, str | None]:
    """(person_key, pesel_status, birth_date, sex) of one PESEL cell."""
    digits, status = pesel_digits(text)
    if digits is None:
        return None, status, None, None
    sex = "K" if stdnum_pesel.get_gender(digits) == "F" else "M"
    return pseudonym(digits, secret), status, stdnum_pesel.get_birth_date(digits), sex


def pseudonymize(pesel_text: pl.Series, start_dates: pl.Series, secret: bytes) -> pl.DataFrame:
    """person_key, pesel_status, birth_date, sex_from_pesel, age_at_entry_from_pesel for each row.

    Vectorized: each distinct cell is checked and hashed once (a participant is in every quarterly
    file); the age at entry (`age_on`) is computed by polars for all rows."""
    texts = pesel_text.cast(pl.Utf8)
    distinct = [None, *texts.drop_nulls().unique().to_list()]
    people = [_person(text, secret) for text in distinct]
    lookup = pl.DataFrame(
        {"text": distinct, "person_key": [p[0] for p in people], "pesel_status": [p[1] for p in people],
         "birth_date": [p[2] for p in people], "sex_from_pesel": [p[3] for p in people]},
        schema={"text": pl.Utf8, "person_key": pl.Utf8, "pesel_status": pl.Utf8, "birth_date": pl.Date,
                "sex_from_pesel": pl.Utf8})
    rows = pl.DataFrame({"text": texts, "start": start_dates.cast(pl.Date)})
    out = rows.join(lookup, on="text", how="left", nulls_equal=True, maintain_order="left")
    birth, day = pl.col("birth_date"), pl.col("start")
    def month_day(d: pl.Expr) -> pl.Expr:
        return d.dt.month().cast(pl.Int32) * 100 + d.dt.day().cast(pl.Int32)

    before_birthday = month_day(day) < month_day(birth)
    age = (day.dt.year().cast(pl.Int64) - birth.dt.year().cast(pl.Int64) - before_birthday.cast(pl.Int64))
    return out.select("person_key", "pesel_status", "birth_date", "sex_from_pesel",
                      age.alias("age_at_entry_from_pesel"))


# ------------------------------------------------------------- a PESEL outside the PESEL column

PESEL_MARKER = "[PESEL usunięty]"
PESEL_FOUND_IN = "pesel_found_in"  # raw column: comma-separated names of the columns a PESEL was removed from
# 11 digits, also written in groups ("551214 98205", "551214-98205", "551 214 982 05"): one space,
# non-breaking space, hyphen or dot between two digits at most
_PESEL_CANDIDATE = r"\d(?:[ \u00a0.-]?\d){10}"  # for polars (no look-around): the cells to scan
_PESEL_RUN = re.compile(rf"(?<!\d){_PESEL_CANDIDATE}(?!\d)")


def scrub_text(text: str, secret: bytes, person_id: bool = False) -> str:
    """`text` without a valid PESEL: every run of 11 digits (also in groups) that checks becomes the marker.

    In a column that identifies a participant (`person_id`), the PESEL becomes its keyed
    pseudonym instead (the whole cell when the cell is a PESEL, also one a spreadsheet stripped of
    its leading zero, or 9–11 digits that fail the checksum — a mistyped PESEL), so the same person's
    rows and the deliveries referencing them still join.
    """
    if person_id:
        digits, _ = pesel_digits(text)
        if digits is not None:
            return pseudonym(digits, secret)
        bare = re.sub(r"[\s\u00a0.-]", "", str(text)).removesuffix(".0")
        if 9 <= len(bare) <= 11 and bare.isdigit():  # a PESEL with a typo (maybe without its leading zeros)
            return pseudonym(bare.zfill(11), secret)  # is still one: never stored as it is

    def replace(match: re.Match) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        if not stdnum_pesel.is_valid(digits):
            return match.group(0)
        return pseudonym(digits, secret) if person_id else PESEL_MARKER

    return _PESEL_RUN.sub(replace, text)


def scrub_pesel(frame: pl.DataFrame, columns: dict[str, bool], secret: bytes) -> pl.DataFrame:
    """Remove every valid PESEL from the text `columns` (name -> person_id) and add `pesel_found_in`.

    Vectorized: only cells holding a run of 9+ digits (ID columns) or 11 digits (others) are looked
    at in Python, once per distinct value.
    """
    replaced, found = [], []
    for name, person_id in columns.items():
        if name not in frame.columns:
            continue
        cells = frame[name]
        candidates = cells.filter(cells.str.count_matches(r"\d") >= 9 if person_id
                                  else cells.str.contains(_PESEL_CANDIDATE))
        mapping = {}
        for value in candidates.unique().to_list():
            clean = scrub_text(value, secret, person_id)
            if clean != value:
                mapping[value] = clean
        if mapping:
            replaced.append(cells.replace(mapping))
            found.append(pl.when(cells.is_in(list(mapping))).then(pl.lit(name)))
    flagged = (pl.concat_str(found, separator=",", ignore_nulls=True) if found else pl.lit(""))
    frame = frame.with_columns(replaced) if replaced else frame
    return frame.with_columns(pl.when(flagged == "").then(None).otherwise(flagged).cast(pl.Utf8).alias(PESEL_FOUND_IN))
