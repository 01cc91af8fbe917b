"""The sample-data generator (pipelines/tools/sample_data.py): determinism, money rules, PESELs, mess cases.

Small scale (2% of the pilot tier) so the whole module runs in a few seconds.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from stdnum.pl import nip as stdnum_nip
from stdnum.pl import pesel as stdnum_pesel

from assets.raw.landing_file import read_landing_file
from assets.staging.typed import typed_rows
from core.contract import load_contract
from core.money import eu_part, indirect_costs, national_part
from core.pesel import make_pesel
from core.quarters import quarter_end, quarter_start
from core.registry import load_units
from pipelines.tools.sample_data import BAD_ROWS, generate, make_nip, split_direct_indirect

SCALE = 0.02
SEED = 11
CONTRACT = load_contract()
BY_FILE = {ds.file: ds for ds in CONTRACT.values()}
UNITS = {u.key: u for u in load_units()}


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sample")
    generate(root / "landing", seed=SEED, scale=SCALE)
    return root


def _hashes(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _typed(path: Path) -> pl.DataFrame:
    ds = BY_FILE[path.stem]
    table = read_landing_file(path, ds)
    return typed_rows(ds, table.frame).frame


def _read_all(sample: Path, unit: str, stem: str) -> dict[str, pl.DataFrame]:
    """quarter -> typed frame of that quarter's file (csv or xlsx)."""
    out = {}
    for path in sorted((sample / "landing" / unit).glob(f"*/{stem}.*")):
        out[path.parent.name] = _typed(path)
    return out


# --------------------------------------------------------------------------------------------


def test_same_seed_same_bytes(sample, tmp_path):
    generate(tmp_path / "landing", seed=SEED, scale=SCALE)
    first, second = _hashes(sample), _hashes(tmp_path)
    assert first == second
    assert any(name.endswith(".xlsx") for name in first)  # XLSX too: fixed document properties
    generate(tmp_path / "other" / "landing", seed=SEED + 1, scale=SCALE)
    assert _hashes(tmp_path / "other") != first


def test_every_file_reads_with_only_the_documented_type_errors(sample):
    """Every landing file parses; the only unparsable cells are the deliberately bad ones."""
    errors, rows, files = [], 0, 0
    for path in sorted(sample.rglob("*")):
        if path.suffix not in (".csv", ".xlsx"):
            continue
        ds = BY_FILE[path.stem]
        table = read_landing_file(path, ds)
        typed = typed_rows(ds, table.frame)
        files += 1
        rows += table.frame.height
        for error in typed.errors.iter_rows(named=True):
            errors.append((path.relative_to(sample).as_posix(), error["column"], error["value"]))
    assert files > 150 and rows > 3000
    assert sorted(errors) == [
        ("landing/myslenice/2022Q1/wydatki.csv", "issuer_nip", "6770065407"),
        ("landing/srokowo/2022Q2/swiadczenia.csv", "delivery_date", "2022-02-31"),
    ]


def test_direct_indirect_split_hand_checked():
    # 2 173 900,00 × 15% = 326 085,00; 2 173 900,00 + 326 085,00 = 2 499 985,00 (Elbląg)
    assert split_direct_indirect(Decimal("2499985.00"), Decimal("0.15")) == (Decimal("2173900.00"), Decimal("326085.00"))
    # 2 164 670,00 × 15% = 324 700,50 (Srokowo)
    assert split_direct_indirect(Decimal("2489370.50"), Decimal("0.15")) == (Decimal("2164670.00"), Decimal("324700.50"))
    # 2 717 391,30 × 15% = 407 608,695 → 407 608,70 (half up); sum 3 125 000,00 (Starachowice)
    assert split_direct_indirect(Decimal("3125000.00"), Decimal("0.15")) == (Decimal("2717391.30"), Decimal("407608.70"))


@pytest.mark.parametrize("unit_key", sorted(UNITS))
def test_budget_sums_to_total_with_flat_rate_indirect(sample, unit_key):
    unit = UNITS[unit_key]
    budget = _typed(sample / "landing" / unit_key / "umowa" / "budzet.csv")
    direct = budget.filter(pl.col("task_no") >= 1)["amount"].sum()
    indirect = budget.filter(pl.col("task_no") == 0)["amount"].to_list()
    assert budget["amount"].sum() == unit.total
    assert indirect == [indirect_costs(direct, unit.indirect_rate)]
    assert budget.filter(pl.col("task_no") == 0)["task_name"].to_list() == ["Koszty pośrednie"]
    assert budget.filter(pl.col("cross_financing"))["amount"].sum() <= Decimal("0.10") * direct
    assert budget.filter(pl.col("fixed_asset"))["amount"].sum() <= Decimal("0.10") * direct
    commissioned = budget.filter(pl.col("commissioned"))["amount"].sum()
    assert commissioned >= Decimal("0.35") * direct
    if unit_key == "srokowo":
        assert commissioned == Decimal("1261970.00")
    if unit_key == "elblag":
        assert direct == Decimal("2173900.00") and indirect == [Decimal("326085.00")]


@pytest.mark.parametrize("unit_key", sorted(UNITS))
def test_harmonogram_sums_to_total(sample, unit_key):
    plan = _typed(sample / "landing" / unit_key / "umowa" / "harmonogram.csv")
    assert plan["planned_amount"].sum() == UNITS[unit_key].total
    assert plan["plan_quarter"].to_list() == UNITS[unit_key].quarters  # srokowo writes "I kw. 2021"


def test_eu_part_rounded_down_hand_checked():
    # 123 456,79 × 0,8428 = 104 049,382612 → rounded DOWN 104 049,38; national 123 456,79 − 104 049,38 = 19 407,41
    assert eu_part(Decimal("123456.79"), Decimal("0.8428")) == Decimal("104049.38")
    assert national_part(Decimal("123456.79"), Decimal("0.8428")) == Decimal("19407.41")


@pytest.mark.parametrize("unit_key", sorted(UNITS))
def test_tranches_split_and_70_percent_rule(sample, unit_key):
    unit = UNITS[unit_key]
    tranches = _read_all(sample, unit_key, "transze")
    expenses = _read_all(sample, unit_key, "wydatki")
    assert unit.quarters[0] in tranches  # the first tranche arrives early
    received, numbers = Decimal(0), []
    for quarter in unit.quarters:
        if quarter in tranches:
            for row in tranches[quarter].iter_rows(named=True):
                assert row["amount_eu"] == eu_part(row["amount_total"], unit.eu_rate)
                assert row["amount_eu"] + row["amount_state"] == row["amount_total"]
                assert quarter_start(quarter) <= row["received_date"] <= quarter_end(quarter)
                if numbers:  # spending declared up to the previous quarter ≥ 70% of the advances received
                    spent_direct = sum((_direct_spent(expenses[q]) for q in unit.quarters if q < quarter and q in expenses),
                                       Decimal(0))
                    spent = spent_direct + indirect_costs(spent_direct, unit.indirect_rate)
                    assert spent >= unit.advance_spent_threshold * received
                numbers.append(row["tranche_no"])
                received += row["amount_total"]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 2
    assert received <= unit.total


def _accepted(frame: pl.DataFrame) -> pl.DataFrame:
    """The expense rows validation accepts (drops the documented bad rows)."""
    invalid_nip = pl.col("issuer_nip").is_null() & pl.col("document_no").str.starts_with("FV")
    return frame.filter((pl.col("task_no") >= 1) & (pl.col("gross_amount") >= 0)
                        & (pl.col("eligible_amount") <= pl.col("gross_amount")) & ~invalid_nip)


def _direct_spent(frame: pl.DataFrame) -> Decimal:
    return _accepted(frame)["eligible_amount"].sum() or Decimal(0)


@pytest.mark.parametrize("unit_key", sorted(UNITS))
def test_expenses_consistent_and_within_budget_lines(sample, unit_key):
    unit = UNITS[unit_key]
    budget = _typed(sample / "landing" / unit_key / "umowa" / "budzet.csv")
    lines = {(r["task_no"], r["cost_category"]): r for r in budget.iter_rows(named=True)}
    spent: dict[tuple, Decimal] = defaultdict(Decimal)
    numbers = []
    bad = 0
    for quarter, frame in _read_all(sample, unit_key, "wydatki").items():
        for row in frame.iter_rows(named=True):
            numbers.append(row["document_no"])
            if row["gross_amount"] < 0 or row["eligible_amount"] > row["gross_amount"] or row["task_no"] == 0 \
                    or row["issuer_nip"] is None and row["document_no"].startswith("FV"):
                bad += 1  # the documented bad rows
                continue
            line = lines[(row["task_no"], row["cost_category"])]
            assert quarter_start(quarter) <= row["issue_date"] <= row["payment_date"] <= quarter_end(quarter)
            assert unit.period_start <= row["issue_date"] and row["payment_date"] <= unit.period_end
            assert row["net_amount"] <= row["gross_amount"]
            # SL2014 "W tym VAT" = VAT inside the eligible amount: gross − net when eligible = gross,
            # 0 when the VAT is recoverable (eligible = net)
            if row["eligible_amount"] == row["gross_amount"]:
                assert row["vat_amount"] == row["gross_amount"] - row["net_amount"]
            else:
                assert row["eligible_amount"] == row["net_amount"] and row["vat_amount"] == 0
            assert row["correction"] is False
            for flag in ("cross_financing", "fixed_asset", "commissioned"):
                assert row[flag] == line[flag]
            if row["issuer_nip"] is not None:
                assert stdnum_nip.is_valid(row["issuer_nip"])
            spent[(row["task_no"], row["cost_category"])] += row["eligible_amount"]
    assert bad == sum(1 for b in BAD_ROWS if b[0] == unit_key and b[2] == "wydatki.csv")
    assert len(numbers) == len(set(numbers))
    for key, amount in spent.items():
        assert amount <= lines[key]["amount"], key
    direct = sum(r["amount"] for r in lines.values() if r["task_no"] >= 1)
    assert Decimal("0.90") * direct <= sum(spent.values()) <= direct


@pytest.mark.parametrize("unit_key", sorted(UNITS))
def test_participants_pesel_sex_age(sample, unit_key):
    unit = UNITS[unit_key]
    seen_quarters: dict[str, list[str]] = defaultdict(list)
    checked = no_pesel = 0
    for quarter, frame in _read_all(sample, unit_key, "uczestnicy").items():
        # the typed frame has no PESEL (a personal-data column): read it from the raw cells
        path = next((sample / "landing" / unit_key / quarter).glob("uczestnicy.*"))
        raw = read_landing_file(path, BY_FILE["uczestnicy"]).frame
        for row, pesel in zip(frame.iter_rows(named=True), raw["pesel"].to_list()):
            seen_quarters[row["participant_id"]].append(quarter)
            assert row["participant_id"].startswith(f"{unit_key[:3].upper()}/")
            assert unit.period_start <= row["start_date"] <= quarter_end(quarter)
            if row["end_date"] is not None:
                assert row["start_date"] <= row["end_date"] <= min(quarter_end(quarter), unit.period_end)
                assert row["completed_path"] in ("tak", "nie")
            if pesel is None:
                assert row["no_pesel"] == "tak"
                no_pesel += 1
                continue
            digits = pesel.removesuffix(".0").zfill(11)
            if row["participant_id"].endswith("/900001"):  # the documented bad PESEL
                assert not stdnum_pesel.is_valid(digits)
                continue
            assert stdnum_pesel.is_valid(digits)
            assert (stdnum_pesel.get_gender(digits) == "F") == (row["sex"] == "K")
            birth = stdnum_pesel.get_birth_date(digits)
            start = row["start_date"]
            assert row["age_at_entry"] == start.year - birth.year - ((start.month, start.day) < (birth.month, birth.day))
            checked += 1
    assert checked >= 25 and no_pesel >= 1
    assert any(len(q) == 2 for q in seen_quarters.values())  # changed rows of earlier participants


def test_make_pesel_and_nip_are_valid():
    import random

    for birth, female in ((date(1938, 2, 11), True), (date(2004, 12, 31), False), (date(1999, 1, 1), True)):
        pesel = make_pesel(birth, "K" if female else "M", 1234)
        assert stdnum_pesel.is_valid(pesel) and stdnum_pesel.get_birth_date(pesel) == birth
        assert stdnum_pesel.get_gender(pesel) == ("F" if female else "M")
    assert make_pesel(date(2004, 12, 31), "M", 1234).startswith("0432")
    rng = random.Random(1)
    assert all(stdnum_nip.is_valid(make_nip(rng)) for _ in range(200))


@pytest.mark.parametrize("unit_key", sorted(UNITS))
def test_deliveries_reference_participants_and_catalogue(sample, unit_key):
    catalogue = _typed(sample / "landing" / unit_key / "umowa" / "uslugi.csv")
    codes = set(catalogue["service_code"])
    assert catalogue["provider_nip"].null_count() == 0
    assert all(1 <= a <= 14 for a in catalogue["area"])
    started: dict[str, date] = {}
    for _quarter, frame in sorted(_read_all(sample, unit_key, "uczestnicy").items()):
        for row in frame.iter_rows(named=True):
            started[row["participant_id"]] = row["start_date"]
    community = bad = 0
    for quarter, frame in _read_all(sample, unit_key, "swiadczenia").items():
        for row in frame.iter_rows(named=True):
            if row["delivery_date"] is None or row["service_code"] not in codes or \
                    row["participant_id"] not in started and row["participant_id"] is not None:
                bad += 1
                continue
            assert quarter_start(quarter) <= row["delivery_date"] <= quarter_end(quarter)
            if row["participant_id"] is None:
                community += 1
            else:
                assert started[row["participant_id"]] <= row["delivery_date"]
    assert community >= 1
    assert bad == sum(1 for b in BAD_ROWS if b[0] == unit_key and b[2] == "swiadczenia.csv")


def test_indicator_targets_and_milestones(sample):
    for unit_key in UNITS:
        targets = _typed(sample / "landing" / unit_key / "umowa" / "wskazniki.csv")
        assert set(targets["indicator_code"]) == {"PROD_OSOBY_USLUGI", "PROD_OSOBY_ZAGROZONE", "PROD_OSOBY_IPUS",
                                                   "PROD_CUS", "PROD_KAMIENIE", "REZ_SCIEZKA"}
        for row in targets.iter_rows(named=True):
            if row["target_women"] is not None:
                assert row["target_women"] + row["target_men"] == row["target_total"]
        milestones = _typed(sample / "landing" / unit_key / "umowa" / "kamienie_milowe.csv")
        assert milestones["achieved_date"].null_count() == 1


# --- the mess of docs/domain.md §10 ---------------------------------------------------------


def test_mess_windows_1250_and_bom(sample):
    path = sample / "landing" / "elblag" / "2021Q2" / "wydatki.csv"
    data = path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    text = data.decode("cp1250")
    assert text.splitlines()[0].startswith("Nr dokumentu;") and "\r\n" in text
    assert read_landing_file(path, BY_FILE["wydatki"]).encoding == "windows-1250"
    body = text.splitlines()[1].split(";")
    assert body[2].count(".") == 2 and "," in body[7]  # dd.mm.yyyy and a decimal comma
    assert " " in _typed_text(sample / "landing" / "elblag" / "umowa" / "budzet.csv", "cp1250")  # 1 234,56
    assert (sample / "landing" / "myslenice" / "2021Q2" / "wydatki.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    table = read_landing_file(sample / "landing" / "myslenice" / "2021Q2" / "wydatki.csv", BY_FILE["wydatki"])
    assert table.ignored_columns == ["Lp.", "Uwagi"]  # extra columns not in the contract


def _typed_text(path: Path, encoding: str) -> str:
    lines = path.read_bytes().decode(encoding).splitlines()[1:]
    return "".join(line.split(";")[4] for line in lines)


def test_mess_xlsx_header_block_number_pesel_serial_dates(sample):
    quarters = sorted((sample / "landing" / "elblag").glob("*/uczestnicy.xlsx"))
    header_blocks, ten_digit, serials, text_dates, trailing = 0, 0, 0, 0, 0
    for path in quarters:
        sheet = openpyxl.load_workbook(path, read_only=True).active
        rows = list(sheet.iter_rows(values_only=True))
        header_blocks += str(rows[0][0]).startswith("Projekt:")
        header = next(i for i, r in enumerate(rows) if r[0] == "Identyfikator uczestnika")
        pesel_col = rows[header].index("PESEL")
        start_col = rows[header].index("Data rozpoczęcia udziału w projekcie")
        end_col = rows[header].index("Data zakończenia udziału w projekcie")
        for row in rows[header + 1:]:
            if row[0] is None or not str(row[0]).strip():
                trailing += 1
                continue
            if isinstance(row[pesel_col], (int, float)) and len(str(int(row[pesel_col]))) == 10:
                ten_digit += 1
            serials += isinstance(row[start_col], (int, float)) and 40000 < row[start_col] < 50000
            text_dates += isinstance(row[end_col], str)
    assert header_blocks == len(quarters) and trailing == 3 * len(quarters)
    assert ten_digit >= 1 and serials >= 1 and text_dates >= 1
    # the reader restores the serial dates and finds the table under the header block
    frame = _typed(quarters[0])
    assert frame["start_date"].null_count() == 0 and frame["row_number"][0] == 7
    starachowice = read_landing_file(next((sample / "landing" / "starachowice").glob("*/uczestnicy.xlsx")),
                                     BY_FILE["uczestnicy"])
    assert starachowice.ignored_columns == ["Uwagi"]


def test_mess_participants_csv_and_resent_file(sample):
    csv_files = sorted((sample / "landing" / "srokowo").glob("*/uczestnicy.csv"))
    assert csv_files and read_landing_file(csv_files[0], BY_FILE["uczestnicy"]).encoding == "windows-1250"
    original = sample / "landing" / "starachowice" / "2021Q3" / "wydatki.csv"
    resent = sample / "resent" / "starachowice" / "2021Q3" / "wydatki.csv"
    before, after = _typed(original), _typed(resent)
    assert original.read_bytes() != resent.read_bytes()
    assert set(before["document_no"]) == set(after["document_no"])
    assert before.filter(pl.col("eligible_amount") > pl.col("gross_amount")).height == 1
    assert after.filter(pl.col("eligible_amount") > pl.col("gross_amount")).height == 0


def test_fifth_synthetic_unit_and_registry(tmp_path):
    summary = generate(tmp_path / "landing", seed=3, units=5, scale=0.01)
    assert summary.registry_path == tmp_path / "units_5.yaml"
    units = load_units.__wrapped__(summary.registry_path)
    assert [u.key for u in units] == ["elblag", "myslenice", "starachowice", "srokowo", "gmina_0005"]
    fifth = units[4]
    budget = _typed(tmp_path / "landing" / "gmina_0005" / "umowa" / "budzet.csv")
    assert budget["amount"].sum() == fifth.total
    assert sorted(p.name for p in (tmp_path / "landing" / "gmina_0005").iterdir())[-1] == "umowa"
    assert {p.parent.name for p in (tmp_path / "landing" / "gmina_0005").glob("*/wydatki.csv")} == set(fifth.quarters)
    first = _typed(next((tmp_path / "landing" / "gmina_0005").glob("*/uczestnicy.xlsx")))
    assert first["participant_id"][0].startswith("G0005/")


def test_one_pesel_generator_takes_the_contracts_sex_values():
    from stdnum.pl import pesel as stdnum_pesel

    # 12.04.1961, serial 1 → digits 000, sex digit 2·1 (+1 for a man); checksums computed by hand:
    # 6104120002 → 6+3+0+36+1+6+0+0+0+6 = 58 → 2;  6104120003 → 61 → 9.
    assert make_pesel(date(1961, 4, 12), "K", 1) == "61041200022"
    assert make_pesel(date(1961, 4, 12), "M", 1) == "61041200039"
    assert stdnum_pesel.get_gender(make_pesel(date(2001, 1, 1), "K", 7)) == "F"
    with pytest.raises(ValueError, match="podaj K albo M"):
        make_pesel(date(1961, 4, 12), "F")
