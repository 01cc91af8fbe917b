"""PESEL handling at the very first step (DESIGN.md §3).

Birth date and sex are derived and the checksum checked, then the number is replaced by a keyed
pseudonym (HMAC-SHA256 with a secret from the environment). The PESEL itself is never returned.
"""

from __future__ import annotations

import hashlib
import hmac
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


def pseudonym(digits: str, secret: bytes) -> str:
    return hmac.new(secret, digits.encode("ascii"), hashlib.sha256).hexdigest()[:32]


def age_on(birth: date | None, day: date | None) -> int | None:
    if birth is None or day is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def pseudonymize(pesel_text: pl.Series, start_dates: pl.Series, secret: bytes) -> pl.DataFrame:
    """person_key, pesel_status, birth_date, sex_from_pesel, age_at_entry_from_pesel for each row."""
    keys, statuses, births, sexes, ages = [], [], [], [], []
    for text, start in zip(pesel_text.to_list(), start_dates.to_list()):
        digits, status = pesel_digits(text)
        statuses.append(status)
        if digits is None:
            keys.append(None), births.append(None), sexes.append(None), ages.append(None)
            continue
        birth = stdnum_pesel.get_birth_date(digits)
        keys.append(pseudonym(digits, secret))
        births.append(birth)
        sexes.append("K" if stdnum_pesel.get_gender(digits) == "F" else "M")
        ages.append(age_on(birth, start))
    return pl.DataFrame(
        {"person_key": keys, "pesel_status": statuses, "birth_date": births,
         "sex_from_pesel": sexes, "age_at_entry_from_pesel": ages},
        schema={"person_key": pl.Utf8, "pesel_status": pl.Utf8, "birth_date": pl.Date,
                "sex_from_pesel": pl.Utf8, "age_at_entry_from_pesel": pl.Int64},
    )
