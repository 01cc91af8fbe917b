"""Deterministic sample landing files for the CUS units (`cus sample`, `cus demo`).

    cus sample [--out DIR] [--seed N] [--scale X] [--units N] [--fresh]
    generate(Path("data/landing"), seed=2028, units=None, scale=1.0) -> SampleSummary

`generate(out, seed, units, scale)` writes, for every unit of the registry, the files of the data
contract (schemas/contract.yaml; headers and allowed-value labels are read from it):

    <out>/<unit>/<YYYY>Q<n>/uczestnicy.xlsx|csv, swiadczenia.csv, wydatki.csv, transze.csv (when a
                            tranche arrived in the quarter), opis_postepu.csv (the descriptive part of
                            the claim: every second quarter and the last one)
    <out>/<unit>/umowa/budzet.csv, harmonogram.csv, uslugi.csv, wskazniki.csv, kamienie_milowe.csv

Same seed → byte-identical files: one random stream per unit and purpose (derived from the seed
and the unit key, so unit N's files do not depend on how many units are generated), fixed row
order, no timestamps in any file, XLSX written by xlsxwriter with fixed document properties.

Size per unit at ``scale=1.0`` (the "pilot" tier of docs/domain.md §13): ~1 500 participants, ~60 000
deliveries, ~3 000 expense documents; ``scale`` multiplies the counts (money does not scale: the
budget always sums to the agreement total). ``units=N`` > registry size adds synthetic units
``gmina_0005``… and writes their registry to ``<out>/../units_<N>.yaml`` (point ``CUS_REGISTRY`` at
it). Units are generated one after another and every file is written as soon as it is complete,
so memory stays at one unit's participants whatever N is.

Money rules (docs/warehouse.md): budget task 0 "Koszty pośrednie" = 15% of the direct lines
(half up to the grosz) and all lines sum exactly to the unit total; the harmonogram sums exactly
to the total; tranches split EU = total × 84.28% rounded down, state budget = remainder
(core/money.py); a later tranche arrives only when the declared spending (direct + flat-rate
indirect) reached 70% of the tranches received; expense documents never exceed a budget line and
end at 90–99% of each line.

The real-world mess of docs/domain.md §10 is written into these files (everything else is UTF-8, `,`,
ISO dates, `1234.56`):

| unit | file(s) | mess |
|---|---|---|
| elblag | `*/uczestnicy.xlsx` | project header block (title, agreement, unit, period) above the table; 3 trailing empty rows; PESEL stored as a number (people born 2001–2009 lose the leading zero: 10-digit cells; born in 2000 — two zeros — kept as text); start dates as Excel serial numbers (odd rows) or date cells (even rows); end dates as text `dd.mm.yyyy` |
| elblag | `*/wydatki.csv`, `umowa/budzet.csv` | Windows-1250, `;`, decimal comma with space thousands (`1 234,56`), `dd.mm.yyyy`, CRLF |
| myslenice | `*/wydatki.csv` | UTF-8 with BOM, `;`, decimal comma, `dd.mm.yyyy`, extra columns `Lp.` (first) and `Uwagi` (last) |
| myslenice | `*/swiadczenia.csv` | UTF-8 with BOM, `;`, decimal comma, `dd.mm.yyyy` |
| starachowice | `*/uczestnicy.xlsx` | header block; dates as text `dd.mm.yyyy`; extra column `Uwagi`; 2 trailing empty rows |
| starachowice | re-sent file | `<out>/../resent/starachowice/2021Q3/wydatki.csv`: corrected version of that quarter (the bad row fixed, one payment date corrected) — copy it over the landing file to show a new file version |
| srokowo | `*/uczestnicy.csv` | CSV instead of XLSX: Windows-1250, `;`, `dd.mm.yyyy`, CRLF |
| srokowo | `*/wydatki.csv` | UTF-8, `;`, decimal comma with space thousands |
| srokowo | `umowa/harmonogram.csv` | quarters written `I kw. 2021` |

Deliberately bad rows (the demo's small quarantine; listed in `BAD_ROWS` and in the summary):

| unit | file | row |
|---|---|---|
| elblag | `2021Q4/wydatki.csv` | extra document `KOR/2021/12/0001` with negative amounts, not marked `Faktura korygująca` = T |
| elblag | `2022Q2/swiadczenia.csv` | delivery of unknown service code `ELB-XX` |
| myslenice | `2022Q1/wydatki.csv` | extra document with an invalid NIP checksum (`6770065407`) |
| myslenice | `2022Q3/swiadczenia.csv` | delivery for participant `MYS/999999` who does not exist |
| starachowice | `2021Q3/wydatki.csv` | extra document whose eligible amount exceeds gross (fixed in the re-sent file) |
| starachowice | `2022Q1/uczestnicy.xlsx` | extra participant `STA/900001` with a PESEL of wrong checksum |
| srokowo | `2022Q2/swiadczenia.csv` | delivery dated `2022-02-31` (not a date) |
| srokowo | `2022Q4/wydatki.csv` | extra document on task 0 (indirect costs are not documented) |

Synthetic units (`gmina_0005`…) get clean files and no bad rows.

Participants files are cumulative per quarter: the participants who started in the quarter plus
the changed rows of earlier ones (end date and completed path filled in the quarter they left),
so people appear in two quarterly files. The forced cases exist at any scale: every unit's first
participant was born 2003–2008 (PESEL starting with 0) and its third has no PESEL (Brak PESEL =
Tak). "Empty" trailing XLSX rows hold a single space, as a spreadsheet user leaves them (a truly
empty row is not stored in the file at all). XLSX files are small (one quarter of one unit) and
written by xlsxwriter in memory with fixed creation/modification dates.
"""

from __future__ import annotations

import csv
import hashlib
import random
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import yaml

from core.contract import Dataset, load_contract
from core.money import eu_part, indirect_costs, national_part
from core.paths import CONFIG_DIR
from core.pesel import make_pesel
from core.quarters import quarter_end, quarter_of, quarter_start
from core.registry import REGISTRY_PATH, Unit, load_units

# --- sizes (per unit at scale 1.0, docs/domain.md §13 "pilot") ---------------------------------------
PARTICIPANTS_PER_UNIT = 1500
DELIVERIES_PER_UNIT = 60_000
DOCUMENTS_PER_UNIT = 3000
FIXED_PROPERTIES_DATE = datetime(2020, 1, 1)
EXCEL_EPOCH = date(1899, 12, 30)
GROSZ = Decimal("0.01")

# ============================================================================================
# Styles: how a provider's tool writes a CSV / XLSX
# ============================================================================================


@dataclass(frozen=True)
class CsvStyle:
    encoding: str = "utf-8"
    sep: str = ","
    decimal_comma: bool = False
    thousands: bool = False
    dmy: bool = False
    crlf: bool = False
    quarter_roman: bool = False
    extra_first: tuple[str, ...] = ()  # extra columns not in the contract (before the table)
    extra_last: tuple[str, ...] = ()  # … and after it

    def money(self, value: Decimal) -> str:
        if self.thousands:
            text = format(value, ",.2f").replace(",", " ")
        else:
            text = format(value, ".2f")
        return text.replace(".", ",") if self.decimal_comma else text

    def qty(self, value: Decimal) -> str:
        text = format(value.normalize(), "f") if value == value.to_integral() else format(value, "f").rstrip("0")
        return text.replace(".", ",") if self.decimal_comma else text

    def day(self, value: date | None) -> str:
        if value is None:
            return ""
        return value.strftime("%d.%m.%Y") if self.dmy else value.isoformat()

    def quarter(self, label: str) -> str:
        if not self.quarter_roman:
            return label
        return f"{('I', 'II', 'III', 'IV')[int(label[-1]) - 1]} kw. {label[:4]}"


@dataclass(frozen=True)
class XlsxStyle:
    header_block: bool = False
    pesel_as_number: bool = False
    start_dates: str = "date"  # date | serial_or_date | text_dmy
    end_dates: str = "date"  # date | text_dmy
    extra_last: tuple[str, ...] = ()
    trailing_empty: int = 0


CLEAN = CsvStyle()
WIN1250 = CsvStyle(encoding="cp1250", sep=";", decimal_comma=True, thousands=True, dmy=True, crlf=True)
BOM = CsvStyle(encoding="utf-8-sig", sep=";", decimal_comma=True, dmy=True, crlf=True)
SEMI_SPACES = CsvStyle(sep=";", decimal_comma=True, thousands=True)
PLAIN_XLSX = XlsxStyle()

# unit key -> dataset -> style (CsvStyle, or XlsxStyle for participants). Default: CLEAN / PLAIN_XLSX.
MESS: dict[str, dict[str, CsvStyle | XlsxStyle]] = {
    "elblag": {
        "participants": XlsxStyle(header_block=True, pesel_as_number=True, start_dates="serial_or_date",
                                  end_dates="text_dmy", trailing_empty=3),
        "expenses": WIN1250,
        "budget": WIN1250,
    },
    "myslenice": {
        "expenses": CsvStyle(encoding="utf-8-sig", sep=";", decimal_comma=True, dmy=True, crlf=True,
                             extra_first=("Lp.",), extra_last=("Uwagi",)),
        "deliveries": BOM,
    },
    "starachowice": {
        "participants": XlsxStyle(header_block=True, start_dates="text_dmy", end_dates="text_dmy",
                                  extra_last=("Uwagi",), trailing_empty=2),
    },
    "srokowo": {
        "participants": CsvStyle(encoding="cp1250", sep=";", dmy=True, crlf=True),
        "expenses": SEMI_SPACES,
        "spending_plan": CsvStyle(quarter_roman=True),
    },
}
RESENT = ("starachowice", "2021Q3")

BAD_ROWS: list[tuple[str, str, str, str]] = [  # (unit, quarter, file, what)
    ("elblag", "2021Q4", "wydatki.csv", "dokument KOR/2021/12/0001 z ujemnymi kwotami bez oznaczenia korekty"),
    ("elblag", "2022Q2", "swiadczenia.csv", "nieznany kod usługi ELB-XX"),
    ("myslenice", "2022Q1", "wydatki.csv", "NIP wystawcy z błędną sumą kontrolną (6770065407)"),
    ("myslenice", "2022Q3", "swiadczenia.csv", "nieistniejący uczestnik MYS/999999"),
    ("starachowice", "2021Q3", "wydatki.csv", "kwota kwalifikowalna większa niż brutto (poprawiona w pliku ponownie przesłanym)"),
    ("starachowice", "2022Q1", "uczestnicy.xlsx", "uczestnik STA/900001 z błędną cyfrą kontrolną PESEL"),
    ("srokowo", "2022Q2", "swiadczenia.csv", "data realizacji 2022-02-31 (nie istnieje)"),
    ("srokowo", "2022Q4", "wydatki.csv", "dokument na zadanie 0 (koszty pośrednie nie są dokumentowane)"),
]
INVALID_NIP = "6770065407"


def _bad(unit: str, quarter: str, file: str) -> bool:
    return any(b[0] == unit and b[1] == quarter and b[2] == file for b in BAD_ROWS)


# ============================================================================================
# Reference data: names, places, catalogues
# ============================================================================================

FEMALE_NAMES = ["Anna", "Maria", "Katarzyna", "Małgorzata", "Agnieszka", "Barbara", "Ewa", "Krystyna", "Elżbieta", "Zofia", "Janina", "Teresa", "Danuta", "Irena", "Halina", "Helena", "Jadwiga", "Joanna", "Magdalena", "Monika", "Beata", "Dorota", "Aleksandra", "Natalia", "Julia", "Zuzanna", "Hanna", "Lena", "Maja", "Wiktoria", "Stanisława", "Genowefa", "Grażyna", "Urszula", "Bożena", "Alicja"]
MALE_NAMES = ["Jan", "Stanisław", "Andrzej", "Józef", "Tadeusz", "Jerzy", "Zbigniew", "Krzysztof", "Henryk", "Ryszard", "Kazimierz", "Marek", "Marian", "Piotr", "Tomasz", "Paweł", "Michał", "Grzegorz", "Wojciech", "Adam", "Jakub", "Kacper", "Szymon", "Filip", "Antoni", "Mateusz", "Bartosz", "Dariusz", "Mieczysław", "Władysław", "Czesław", "Edward", "Zdzisław", "Łukasz"]
SURNAMES = ["Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski", "Zieliński", "Szymański", "Woźniak", "Dąbrowski", "Kozłowski", "Jankowski", "Mazur", "Wojciechowski", "Kwiatkowski", "Krawczyk", "Kaczmarek", "Piotrowski", "Grabowski", "Pawłowski", "Michalski", "Nowakowski", "Adamczyk", "Dudek", "Zając", "Wieczorek", "Jabłoński", "Król", "Majewski", "Olszewski", "Jaworski", "Wróbel", "Malinowski", "Pawlak", "Witkowski", "Walczak", "Stępień", "Górski", "Rutkowski", "Michalak", "Sikora", "Ostrowski", "Baran", "Duda", "Szewczyk", "Tomaszewski", "Pietrzak", "Marciniak", "Wróblewski", "Zalewski", "Jakubowski", "Jasiński", "Zawadzki", "Sadowski", "Bąk", "Chmielewski", "Włodarczyk", "Borkowski", "Czarnecki", "Sawicki", "Sokołowski", "Urbański", "Kubiak", "Maciejewski", "Szczepański", "Kucharski", "Wilk", "Kalinowski", "Lis", "Mazurek", "Wysocki", "Adamski", "Kaźmierczak", "Wasilewski", "Sobczak", "Czerwiński", "Andrzejewski", "Cieślak", "Głowacki", "Zakrzewski", "Kołodziej", "Sikorski", "Krajewski", "Gajewski", "Szymczak", "Szulc", "Baranowski", "Laskowski", "Brzeziński", "Makowski"]
MIGRANT_FEMALE = ("Olena", "Oksana", "Iryna", "Tetiana", "Natalia", "Switłana")
MIGRANT_MALE = ("Ołeksandr", "Andrij", "Wasyl", "Serhij", "Mykoła", "Taras")
MIGRANT_SURNAMES = ("Kowalenko", "Szewczenko", "Bondarenko", "Tkaczenko", "Kowalczuk", "Melnyk", "Bojko")


def _female_surname(name: str) -> str:
    for male, female in (("ski", "ska"), ("cki", "cka"), ("dzki", "dzka")):
        if name.endswith(male):
            return name[: -len(male)] + female
    return name


@dataclass(frozen=True)
class Place:
    locality: str
    postal: tuple[str, ...]
    degurba: str  # "1" | "2" | "3"


@dataclass(frozen=True)
class Service:
    code: str
    name: str
    area: int
    mode: str  # own | pes | ngo | social_clause
    measure: str
    price: Decimal
    groups: tuple[str, ...]  # senior | disab | family | child | adult | all | community
    weight: float  # share of the unit's service budget


def _svc(code, name, area, mode, measure, price, groups, weight) -> Service:
    return Service(code, name, area, mode, measure, Decimal(price), tuple(groups.split()), weight)


@dataclass(frozen=True)
class Profile:
    prefix: str
    voivodeship: str
    county: str
    gmina: str
    places: tuple[Place, ...]
    place_weights: tuple[float, ...]
    age_weights: tuple[float, ...]  # AGE_GROUPS
    services: tuple[Service, ...]
    commissioned_share: Decimal | None  # of direct costs; None -> exact amount below
    commissioned_amount: Decimal | None = None
    providers: tuple[tuple[str, str], ...] = ()  # (kind, name); kind pes | ngo | social_clause


AGE_GROUPS = ((0, 2), (3, 17), (18, 24), (25, 54), (55, 64), (65, 94))

PROFILES_PATH = CONFIG_DIR / "sample_profiles.yaml"


def _profile(key: str, spec: dict) -> Profile:
    places = spec["places"]
    share, amount = spec.get("commissioned_share"), spec.get("commissioned_amount")
    return Profile(
        prefix=spec["prefix"], voivodeship=spec["voivodeship"], county=spec["county"], gmina=spec["gmina"],
        places=tuple(Place(p["locality"], tuple(p["postal"]), str(p["degurba"])) for p in places),
        place_weights=tuple(float(p["weight"]) for p in places),
        age_weights=tuple(spec["age_weights"]),
        services=tuple(_svc(*_service_fields(s)) for s in spec["services"]),
        commissioned_share=None if share is None else Decimal(str(share)),
        commissioned_amount=None if amount is None else Decimal(str(amount)),
        providers=tuple((p["kind"], p["name"]) for p in spec.get("providers", ())),
    )


def _service_fields(spec: dict) -> tuple:
    """(code, name, area, mode, measure, price, groups, weight) of one service of the profiles file."""
    return (spec["code"], spec["name"], int(spec["area"]), spec["mode"], spec["measure"], str(spec["price"]),
            " ".join(spec["groups"]), spec["weight"])


def load_profiles(path: Path = PROFILES_PATH) -> tuple[dict[str, Profile], tuple[tuple, ...]]:
    """The unit profiles and the synthetic units' services of config/sample_profiles.yaml."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    key = "generic_services"
    try:
        profiles = {}
        for key, spec in raw["units"].items():
            profiles[key] = _profile(key, spec)
        key = "generic_services"
        generic = tuple(_service_fields(s) for s in raw[key])
    except (KeyError, TypeError, ValueError, ArithmeticError) as error:
        raise ValueError(f"{path}: profil {key!r} jest niepełny lub błędny ({type(error).__name__}: {error}) — "
                         "uzupełnij pola według nagłówka pliku.") from error
    return profiles, generic


PROFILES, GENERIC_SERVICES = load_profiles()
VOIVODESHIPS = ("dolnośląskie", "kujawsko-pomorskie", "lubelskie", "lubuskie", "łódzkie", "małopolskie", "mazowieckie",
                "opolskie", "podkarpackie", "podlaskie", "pomorskie", "śląskie", "świętokrzyskie",
                "warmińsko-mazurskie", "wielkopolskie", "zachodniopomorskie")
GENERIC_VILLAGES = ("Nowa Wieś", "Wola", "Zalesie", "Dąbrowa", "Górki", "Kolonia", "Stara Wieś", "Podlesie")

MONTHS = ("styczeń", "luty", "marzec", "kwiecień", "maj", "czerwiec", "lipiec", "sierpień", "wrzesień",
          "październik", "listopad", "grudzień")

# ============================================================================================
# Small helpers
# ============================================================================================


def _rng(seed: int, unit_key: str, purpose: str) -> random.Random:
    digest = hashlib.sha256(f"{seed}:{unit_key}:{purpose}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _gr(value: Decimal) -> int:
    return int((value * 100).to_integral_value())


def _zl(grosz: int) -> Decimal:
    return (Decimal(grosz) / 100).quantize(GROSZ)


def _split(total: int, weights: list[float]) -> list[int]:
    """Integer `total` split by weights (largest remainder): the parts sum exactly to `total`."""
    if not weights or total == 0:
        return [0] * len(weights)
    wsum = sum(weights)
    if wsum <= 0:
        weights, wsum = [1.0] * len(weights), float(len(weights))
    raw = [total * w / wsum for w in weights]
    parts = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - parts[i]), i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def make_nip(rng: random.Random) -> str:
    """A random 10-digit NIP with a valid checksum (weights 6,5,7,2,3,4,5,6,7; mod 11 ≠ 10)."""
    weights = (6, 5, 7, 2, 3, 4, 5, 6, 7)
    while True:
        body = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(8)]
        check = sum(d * w for d, w in zip(body, weights)) % 11
        if check != 10:
            return "".join(map(str, body)) + str(check)


def _age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _rand_day(rng: random.Random, lo: date, hi: date) -> date:
    return lo + timedelta(days=rng.randint(0, (hi - lo).days))


def _excel_serial(day: date) -> int:
    return (day - EXCEL_EPOCH).days


def _label(ds: Dataset, column: str, code: str) -> str:
    for value in ds.column(column).values:
        if value.code == code:
            return value.label
    raise KeyError(f"{ds.name}.{column}: no value {code!r} in the contract")


# ============================================================================================
# Unit calendar
# ============================================================================================


@dataclass
class Calendar:
    quarters: list[str]
    windows: list[tuple[date, date]]
    activity: list[float]
    cus_index: int

    @classmethod
    def of(cls, unit: Unit) -> Calendar:
        quarters = unit.quarters
        windows = [(max(quarter_start(q), unit.period_start), min(quarter_end(q), unit.period_end)) for q in quarters]
        cus_q = quarter_of(unit.cus_start)
        cus_index = quarters.index(cus_q) if cus_q in quarters else 0
        activity = []
        for i, (lo, hi) in enumerate(windows):
            days = ((hi - lo).days + 1) / 91
            if i < cus_index:
                phase = 0.3
            elif i == cus_index:
                phase = 0.45 if unit.cus_start > lo else 0.55
            else:
                phase = min(1.0, 0.55 + 0.15 * (i - cus_index))
            activity.append(phase * days)
        return cls(quarters, windows, activity, cus_index)


# ============================================================================================
# Participants
# ============================================================================================


@dataclass
class Person:
    pid: str
    first: str
    last: str
    female: bool
    birth: date
    pesel: str | None
    start: date
    end: date | None
    completed: bool | None
    country: str
    education: str
    place: Place
    postal: str
    phone: str
    email: str
    labour: str
    minority: str
    homeless: str
    disability: str
    other: str
    poverty: str
    ipus: str | None
    services: tuple[str, ...]
    start_q: int
    end_q: int | None
    note: str = ""


def _education(rng: random.Random, age: int) -> str:
    if age < 7:
        return "isced0"
    if age < 15:
        return "isced1"
    if age < 19:
        return rng.choice(("isced1", "isced2", "isced2"))
    if age >= 60:
        return rng.choices(("isced1", "isced2", "isced34", "isced58"), (35, 8, 45, 12))[0]
    return rng.choices(("isced1", "isced2", "isced34", "isced58"), (8, 15, 50, 27))[0]


def _labour(rng: random.Random, age: int) -> str:
    if age < 18:
        return "inactive"
    if age < 25:
        return rng.choices(("inactive", "employed", "unemployed_registered", "unemployed_unregistered"), (50, 25, 15, 10))[0]
    if age < 60:
        return rng.choices(("employed", "inactive", "unemployed_registered", "unemployed_unregistered"), (40, 30, 20, 10))[0]
    return rng.choices(("inactive", "employed"), (90, 10))[0]


def _yes_no_refused(rng: random.Random, p_yes: float, p_refused: float) -> str:
    r = rng.random()
    return "tak" if r < p_yes else ("odmowa" if r < p_yes + p_refused else "nie")


def _person_services(rng: random.Random, services: tuple[Service, ...], age: int, disability: str) -> tuple[str, ...]:
    groups = {"all"}
    if age >= 60:
        groups.add("senior")
    if age < 18:
        groups |= {"child", "family"}
    elif age < 60:
        groups |= {"adult", "family"}
    if disability == "tak":
        groups.add("disab")
    pool = [s for s in services if "community" not in s.groups and groups & set(s.groups)]
    pool = pool or [s for s in services if "community" not in s.groups]
    count = min(len(pool), rng.choices((1, 2, 3), (50, 35, 15))[0])
    chosen = rng.sample(pool, count)
    return tuple(sorted(s.code for s in chosen))


def make_participants(unit: Unit, profile: Profile, cal: Calendar, rng: random.Random, scale: float) -> list[Person]:
    total = max(6, round(PARTICIPANTS_PER_UNIT * scale))
    new_weights = [a * (0.4 if i == len(cal.quarters) - 1 else 1.0) for i, a in enumerate(cal.activity)]
    per_quarter = _split(total, new_weights)
    if per_quarter[0] < 3:  # the forced cases below start in the first quarter
        moved = 3 - per_quarter[0]
        per_quarter[0] = 3
        per_quarter[per_quarter.index(max(per_quarter))] -= moved
    people: list[Person] = []
    used_pesels: set[str] = set()
    n = 0
    ipus_seq: dict[int, int] = {}
    for qi, count in enumerate(per_quarter):
        lo, hi = cal.windows[qi]
        for _ in range(count):
            n += 1
            start = _rand_day(rng, lo, hi)
            female = rng.random() < 0.58
            no_pesel = n == 3 or rng.random() < 0.005
            if n == 1:  # born 2000–2009: PESEL starts with 0 (a spreadsheet drops it)
                birth = date(rng.randint(2003, 2008), rng.randint(1, 12), rng.randint(1, 28))
            else:
                low, high = AGE_GROUPS[rng.choices(range(len(AGE_GROUPS)), profile.age_weights)[0]]
                age = rng.randint(low, high)
                birth = _years_before(start, age) - timedelta(days=rng.randint(1, 364))
            age = _age_on(birth, start)
            pesel = None
            if not no_pesel:
                while True:
                    pesel = make_pesel(birth, "K" if female else "M", rng.randint(0, 4999))
                    if pesel not in used_pesels:
                        used_pesels.add(pesel)
                        break
            if no_pesel:
                first = rng.choice(MIGRANT_FEMALE if female else MIGRANT_MALE)
                last = rng.choice(MIGRANT_SURNAMES)
                country = "Ukraina"
            else:
                first = rng.choice(FEMALE_NAMES if female else MALE_NAMES)
                last = rng.choice(SURNAMES)
                last = _female_surname(last) if female else last
                country = "Polska"
            place = rng.choices(profile.places, profile.place_weights)[0]
            disability = _yes_no_refused(rng, 0.35 if age >= 65 else 0.18, 0.05)
            # end of participation: inside the period, else still participating at the end
            end, completed = None, None
            if rng.random() < 0.65:
                candidate = start + timedelta(days=rng.randint(20, 540))
                if candidate <= unit.period_end:
                    end = candidate
                elif rng.random() < 0.5:
                    end = unit.period_end
            if end is not None:
                completed = rng.random() < 0.82
            ipus = None
            if start >= unit.cus_start and rng.random() < 0.4:
                ipus_seq[start.year] = ipus_seq.get(start.year, 0) + 1
                ipus = f"IPUS/{profile.prefix}/{start.year}/{ipus_seq[start.year]:04d}"
            email = ""
            if age >= 18 and rng.random() < (0.25 if age >= 65 else 0.6):
                email = f"{_ascii(first)}.{_ascii(last)}{rng.randint(1, 99)}@example.pl"
            people.append(Person(
                pid=f"{profile.prefix}/{n:06d}", first=first, last=last, female=female, birth=birth, pesel=pesel,
                start=start, end=end, completed=completed, country=country, education=_education(rng, age),
                place=place, postal=rng.choice(place.postal),
                phone=f"{rng.choice((5, 6, 7, 8))}{rng.randint(0, 99):02d} {rng.randint(0, 999):03d} {rng.randint(0, 999):03d}",
                email=email, labour=_labour(rng, age),
                minority="tak" if no_pesel else _yes_no_refused(rng, 0.02, 0.03),
                homeless=_yes_no_refused(rng, 0.02, 0.02), disability=disability,
                other=_yes_no_refused(rng, 0.25, 0.04), poverty="tak" if rng.random() < 0.85 else "nie",
                ipus=ipus, services=_person_services(rng, profile.services, age, disability),
                start_q=qi, end_q=cal.quarters.index(quarter_of(end)) if end else None,
            ))
    return people


_ASCII = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ")


def _ascii(text: str) -> str:
    return text.translate(_ASCII).lower().replace(" ", "")


# ============================================================================================
# Budget, plan, actual spending, documents, tranches
# ============================================================================================

TASKS = {
    1: "Przygotowanie diagnozy potrzeb i potencjału oraz programu usług społecznych",
    2: "Utworzenie i organizacja Centrum Usług Społecznych",
    3: "Usługi społeczne realizowane przez CUS",
    4: "Organizowanie społeczności lokalnej",
    5: "Monitoring, ewaluacja i upowszechnianie rezultatów",
}
# (task, category name, share of direct, cross-financing, fixed asset, timing, document kind)
FIXED_LINES = (
    (1, "Diagnoza potrzeb i potencjału wspólnoty samorządowej (usługa badawcza)", 0.025, False, False, "early", "invoice23"),
    (1, "Opracowanie programu usług społecznych i konsultacje społeczne", 0.012, False, False, "early", "contract"),
    (2, "Wynagrodzenia kadry merytorycznej CUS (organizator usług społecznych, koordynatorzy usług)", 0.16, False, False, "steady", "payroll"),
    (2, "Szkolenia i superwizja kadry CUS", 0.02, False, False, "steady", "invoice_zw"),
    (2, "Adaptacja pomieszczeń CUS (cross-financing)", 0.035, True, False, "setup", "invoice23"),
    (2, "Zakup wyposażenia i sprzętu (środki trwałe)", 0.03, False, True, "setup", "invoice23"),
    (4, "Wynagrodzenie organizatora społeczności lokalnej", 0.05, False, False, "after_cus", "payroll"),
    (4, "Inicjatywy lokalne i działania animacyjne", 0.02, False, False, "after_cus", "invoice8"),
    (5, "Ewaluacja i upowszechnianie rezultatów", 0.008, False, False, "late", "invoice23"),
)
SERVICE_SHARE = 1.0 - sum(line[2] for line in FIXED_LINES)  # 0.64 of direct costs


@dataclass
class BudgetLine:
    task_no: int
    task_name: str
    category: str
    category_name: str
    amount: Decimal
    cross_financing: bool
    fixed_asset: bool
    commissioned: bool
    timing: str = "steady"
    kind: str = "invoice23"
    service: Service | None = None
    provider_nip: str = ""
    provider_name: str = ""


def split_direct_indirect(total: Decimal, rate: Decimal) -> tuple[Decimal, Decimal]:
    """Direct costs D with D + rate×D (half up) = total exactly: 2 499 985,00 → 2 173 900,00 + 326 085,00."""
    guess = (total / (1 + rate)).quantize(GROSZ, rounding=ROUND_HALF_UP)
    for delta in (0, 1, -1, 2, -2):
        direct = guess + GROSZ * delta
        if direct + indirect_costs(direct, rate) == total:
            return direct, total - direct
    raise ValueError(f"total {total} cannot be split into direct costs + {rate} indirect costs to the grosz")


def make_budget(unit: Unit, profile: Profile, providers: dict[str, tuple[str, str]]) -> list[BudgetLine]:
    direct, indirect = split_direct_indirect(unit.total, unit.indirect_rate)
    direct_gr = _gr(direct)
    if profile.commissioned_amount is not None:
        commissioned_gr = _gr(profile.commissioned_amount)
    else:
        commissioned_gr = _gr((direct * profile.commissioned_share).quantize(GROSZ))
    service_lines = [s for s in profile.services if "community" not in s.groups or s.weight > 0]
    commissioned = [s for s in service_lines if s.mode != "own" and s.weight > 0]
    own = [s for s in service_lines if s.mode == "own" and s.weight > 0]
    own_share = max(0.02, SERVICE_SHARE - commissioned_gr / direct_gr)
    # non-commissioned group: fixed lines + own services, split exactly from (direct - commissioned)
    own_weights = [s.weight for s in own]
    non_weights = [line[2] for line in FIXED_LINES] + [own_share * w / sum(own_weights) for w in own_weights]
    non_parts = _split(direct_gr - commissioned_gr, non_weights)
    comm_parts = _split(commissioned_gr, [s.weight for s in commissioned])
    lines: list[BudgetLine] = []
    counters: dict[int, int] = {}

    def add(task, name, grosz, cf, fa, comm, timing, kind, service=None):
        counters[task] = counters.get(task, 0) + 1
        nip, pname = providers.get(service.code, ("", "")) if service else ("", "")
        lines.append(BudgetLine(task, TASKS[task], f"{task}.{counters[task]}", name, _zl(grosz), cf, fa, comm,
                                timing, kind, service, nip, pname))

    fixed = list(zip(FIXED_LINES, non_parts[: len(FIXED_LINES)]))
    for (task, name, _share, cf, fa, timing, kind), grosz in fixed:
        if task < 3:
            add(task, name, grosz, cf, fa, False, timing, kind)
    for service, grosz in zip(own, non_parts[len(FIXED_LINES):]):
        add(3, f"{service.name} – realizacja przez CUS (wynagrodzenia i koszty usługi)", grosz, False, False, False,
            "services", "payroll", service)
    for service, grosz in zip(commissioned, comm_parts):
        add(3, f"{service.name} – usługa zlecona ({_MODE_TEXT[service.mode]})", grosz, False, False, True,
            "services", "commissioned", service)
    for (task, name, _share, cf, fa, timing, kind), grosz in fixed:
        if task >= 3:
            add(task, name, grosz, cf, fa, False, timing, kind)
    lines.append(BudgetLine(0, "Koszty pośrednie", "0.1", f"Koszty pośrednie (stawka ryczałtowa {unit.indirect_rate * 100:.0f}%)",
                            indirect, False, False, False, "none", "none"))
    return lines


_MODE_TEXT = {"pes": "PES", "ngo": "organizacja pozarządowa", "social_clause": "zamówienie z klauzulą społeczną"}


def _timing_weights(timing: str, cal: Calendar) -> list[float]:
    n = len(cal.quarters)
    ci = cal.cus_index
    out = []
    for i, activity in enumerate(cal.activity):
        if timing == "early":
            w = max(0.0, 1.0 - i / max(2, ci + 2))
        elif timing == "setup":  # front-weighted, yet spread so the cumulative share stays well under 10%
            w = activity * (1.8 if i <= ci + 1 else (0.8 if i < n - 2 else 0.3))
        elif timing == "after_cus":
            w = activity if i >= ci else 0.0
        elif timing == "late":
            w = 1.0 if i >= n - 3 else 0.0
        elif timing == "services":
            w = activity * (0.5 if i < ci else 1.0)
        else:  # steady
            w = activity
        out.append(w)
    return out


def plan_and_actual(lines: list[BudgetLine], unit: Unit, cal: Calendar, rng: random.Random
                    ) -> tuple[list[Decimal], list[list[int]]]:
    """Harmonogram (direct + indirect per quarter, summing exactly to the total) and the actual direct
    spending of each line per quarter in grosz (each line ends at 90–99% of its amount)."""
    direct_lines = [line for line in lines if line.task_no > 0]
    plan_direct = [0.0] * len(cal.quarters)
    actual: list[list[int]] = []
    for line in direct_lines:
        weights = _timing_weights(line.timing, cal)
        for i, part in enumerate(_split(_gr(line.amount), weights)):
            plan_direct[i] += part
        noisy = [w * rng.uniform(0.7, 1.3) if w > 0 else 0.0 for w in weights]
        # spending lags the plan: part of each quarter slips to the next one
        lagged = [noisy[i] * 0.8 + (noisy[i - 1] * 0.2 if i else 0.0) for i in range(len(noisy))]
        target = int(_gr(line.amount) * rng.uniform(0.90, 0.99))
        actual.append(_split(target, lagged))
    plan = [_zl(g) for g in _split(_gr(unit.total), plan_direct)]
    return plan, actual


@dataclass
class Document:
    number: str
    nip: str
    issue: date
    payment: date
    line: BudgetLine
    item: str
    gross: Decimal
    net: Decimal
    eligible: Decimal
    vat: Decimal
    note: str = ""
    task_override: int | None = None
    correction: bool = False  # "Faktura korygująca (T/N)"


def _doc_amounts(kind: str, eligible_gr: int, rng: random.Random) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """(gross, net, eligible, vat): VAT counts as eligible only when the unit cannot recover it; `vat` is the
    claim's "W tym VAT" = the VAT inside the eligible amount (0 when recoverable)."""
    eligible = _zl(eligible_gr)
    if kind in ("invoice23", "invoice8"):
        rate = Decimal("1.23") if kind == "invoice23" else Decimal("1.08")
        if rng.random() < 0.06:  # recoverable VAT: eligible = net, "W tym VAT" = 0 (SL2014: VAT inside eligible)
            net = eligible
            gross = (net * rate).quantize(GROSZ, rounding=ROUND_HALF_UP)
            return gross, net, eligible, Decimal("0.00")
        else:
            gross = eligible
            net = (gross / rate).quantize(GROSZ, rounding=ROUND_HALF_UP)
        return gross, net, eligible, gross - net
    return eligible, eligible, eligible, Decimal("0.00")


ZUS_NIP = "5213017228"  # Zakład Ubezpieczeń Społecznych: employer contributions of the payroll lines


def _months(lo: date, hi: date) -> list[tuple[int, int]]:
    out, (year, month) = [], (lo.year, lo.month)
    while (year, month) <= (hi.year, hi.month):
        out.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def make_documents(unit: Unit, profile: Profile, lines: list[BudgetLine], actual: list[list[int]], cal: Calendar,
                   qi: int, rng: random.Random, scale: float, unit_nip: str, suppliers: list[tuple[str, str]],
                   seq: dict[str, int]) -> list[Document]:
    """The expense documents of one quarter. Payroll lines: per month a payroll list (LP) and the
    employer's social-security contributions (ZUS); other lines share the unit's document count
    (DOCUMENTS_PER_UNIT × scale) in proportion to their spending."""
    lo, hi = cal.windows[qi]
    direct_lines = [line for line in lines if line.task_no > 0]
    payroll_docs = 2 * sum(len(_months(*w)) for w in cal.windows) * sum(line.kind == "payroll" for line in direct_lines)
    other_actual = sum(sum(a) for line, a in zip(direct_lines, actual) if line.kind != "payroll") or 1
    other_docs = max(DOCUMENTS_PER_UNIT * scale - payroll_docs, DOCUMENTS_PER_UNIT * scale * 0.3)
    drafts = []  # (line, eligible grosz, issue date, payment date, kind)
    for line, amounts in zip(direct_lines, actual):
        amount = amounts[qi]
        if amount <= 0:
            continue
        if line.kind == "payroll":
            months = _months(lo, hi)
            for (year, month), month_part in zip(months, _split(amount, [rng.uniform(0.9, 1.1) for _ in months])):
                month_end = min(hi, (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)))
                wages, contributions = _split(month_part, [0.83, 0.17])
                drafts.append((line, wages, month_end, month_end, "payroll"))
                paid = min(hi, month_end + timedelta(days=rng.randint(5, 15)))
                drafts.append((line, contributions, month_end, paid, "zus"))
            continue
        k = max(1, round(other_docs * amount / other_actual))
        cap = 1_200_000 if line.fixed_asset else (300_000 if line.kind == "invoice23" else 20_000)
        k = max(1, min(k, amount // cap))
        for part in _split(amount, [rng.uniform(0.5, 1.5) for _ in range(k)]):
            issue = _rand_day(rng, lo, hi)
            drafts.append((line, part, issue, min(hi, issue + timedelta(days=rng.randint(0, 21))), line.kind))
    drafts.sort(key=lambda d: (d[2], d[4], d[0].category))
    docs = []
    for line, part, issue, payment, kind in drafts:
        if part <= 0:
            continue
        when = f"{MONTHS[issue.month - 1]} {issue.year}"
        role = "organizator społeczności lokalnej" if line.task_no == 4 else (
            line.service.name.lower() if line.service else "kadra merytoryczna CUS")
        if kind == "payroll":
            prefix, nip, item = "LP", unit_nip, f"Lista płac – {role} – {when}"
        elif kind == "zus":
            prefix, nip, item = "ZUS", ZUS_NIP, f"Składki ZUS pracodawcy – {role} – {when}"
        elif kind == "commissioned":
            prefix, nip = "FV", line.provider_nip
            item = f"{line.service.name} – {when} ({line.provider_name})"
        elif kind == "contract":
            prefix, nip, item = "RACH", "", f"{line.category_name} – umowa zlecenie"
        else:
            prefix = "FV"
            name, nip = suppliers[rng.randrange(len(suppliers))]
            item = f"{line.category_name} – {name}"
        seq[prefix] = seq.get(prefix, 0) + 1
        number = f"{prefix}/{issue.year}/{issue.month:02d}/{seq[prefix]:04d}"
        gross, net, eligible, vat = _doc_amounts(kind, part, rng)
        docs.append(Document(number, nip, issue, payment, line, item, gross, net, eligible, vat))
    return docs


@dataclass
class Tranche:
    number: int
    received: date
    total: Decimal
    eu: Decimal
    state: Decimal


def make_tranches(unit: Unit, cal: Calendar, plan: list[Decimal], actual_direct: list[int], rng: random.Random
                  ) -> dict[int, Tranche]:
    """Advance tranches: the first early; later ones only when ≥ 70% of those received is spent."""
    cap = (unit.total * Decimal("0.95")).quantize(GROSZ)
    received = Decimal(0)
    spent_direct = 0
    out: dict[int, Tranche] = {}
    number = 0
    for qi, (lo, hi) in enumerate(cal.windows):
        spent = _zl(spent_direct) + indirect_costs(_zl(spent_direct), unit.indirect_rate)
        due = qi == 0 or (received < cap and spent >= unit.advance_spent_threshold * received)
        if due and received < cap:
            wanted = sum(plan[qi: qi + (3 if qi == 0 else 2)], Decimal(0)) * Decimal(str(rng.uniform(0.95, 1.1)))
            amount = min(cap - received, wanted.quantize(GROSZ))
            if amount > 0:
                number += 1
                first_day = max(lo, unit.agreement_signed or lo) if qi == 0 else lo
                day = min(hi, first_day + timedelta(days=rng.randint(10, 40)))
                out[qi] = Tranche(number, day, amount, eu_part(amount, unit.eu_rate), national_part(amount, unit.eu_rate))
                received += amount
        spent_direct += actual_direct[qi]
    return out


# ============================================================================================
# Indicators and milestones
# ============================================================================================


def make_indicators(people: list[Person], n_milestones: int, rng: random.Random) -> list[tuple[str, int, int | None, int | None]]:
    def by_sex(selected: list[Person]) -> tuple[int, int, int]:
        women = sum(p.female for p in selected)
        achievement = rng.uniform(0.82, 1.08)
        total = max(1, round(len(selected) / achievement))
        target_women = round(total * women / len(selected)) if selected else 0
        return total, target_women, total - target_women

    rows = []
    for code, selected in (("PROD_OSOBY_USLUGI", people), ("PROD_OSOBY_ZAGROZONE", [p for p in people if p.poverty == "tak"]),
                           ("PROD_OSOBY_IPUS", [p for p in people if p.ipus])):
        rows.append((code, *by_sex(selected)))
    rows.append(("PROD_CUS", 1, None, None))
    rows.append(("PROD_KAMIENIE", n_milestones, None, None))
    rows.append(("REZ_SCIEZKA", *by_sex([p for p in people if p.completed])))
    return rows


def make_milestones(unit: Unit, rng: random.Random) -> list[tuple[str, str, date, date | None]]:
    start, cus, end = unit.period_start, unit.cus_start, unit.period_end
    km1 = max(start + timedelta(days=20), min(start + timedelta(days=90), cus - timedelta(days=30)))
    km2 = max(km1 + timedelta(days=10), cus - timedelta(days=10))
    planned = [
        ("KM1", "Diagnoza potrzeb i potencjału wspólnoty samorządowej", km1),
        ("KM2", "Program usług społecznych przyjęty uchwałą rady gminy", km2),
        ("KM3", "Plan organizowania społeczności lokalnej", cus + timedelta(days=60)),
        ("KM4", "Uruchomienie Centrum Usług Społecznych", cus),
        ("KM5", "Pierwsze indywidualne plany usług społecznych (IPUS)", cus + timedelta(days=90)),
        ("KM6", "Ocena śródokresowa realizacji programu usług społecznych (rada programowa)", start + (end - start) / 2),
        ("KM7", "Raport końcowy i rekomendacje do programu usług społecznych", end - timedelta(days=30)),
    ]
    not_achieved = rng.choice(("KM3", "KM6", "KM7"))
    rows = []
    for code, name, day in planned:
        if code == "KM4":
            achieved = cus
        elif code == not_achieved:
            achieved = None
        elif rng.random() < 0.3:
            achieved = day + timedelta(days=rng.randint(10, 75))
        else:
            achieved = day - timedelta(days=rng.randint(0, 20))
        if achieved is not None:
            achieved = min(achieved, end)
        rows.append((code, name, day, achieved))
    return rows


# ============================================================================================
# Writers
# ============================================================================================


@dataclass
class Writer:
    contract: dict[str, Dataset]
    files: int = 0  # a count, not a list: the national tier writes ~100 000 files
    rows: dict[str, int] = field(default_factory=dict)

    def csv(self, path: Path, dataset: str, records: list[dict[str, str]], style: CsvStyle) -> None:
        if not records:
            return
        ds = self.contract[dataset]
        headers = list(style.extra_first) + [c.header for c in ds.columns] + list(style.extra_last)
        names = list(style.extra_first) + [c.name for c in ds.columns] + list(style.extra_last)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding=style.encoding, newline="", errors="strict") as handle:
            writer = csv.writer(handle, delimiter=style.sep, lineterminator="\r\n" if style.crlf else "\n")
            writer.writerow(headers)
            for record in records:
                writer.writerow([record.get(name, "") for name in names])
        self.files += 1
        self.rows[dataset] = self.rows.get(dataset, 0) + len(records)


def _participant_cells(person: Person, quarter_hi: date, ds: Dataset, profile: Profile, unit: Unit) -> dict:
    """The contract columns of one participant as known at the end of the quarter (dates as date)."""
    ended = person.end is not None and person.end <= quarter_hi
    return {
        "participant_id": person.pid, "country": person.country,
        "participant_type": _label(ds, "participant_type", "individual"),
        "first_name": person.first, "last_name": person.last, "pesel": person.pesel or "",
        "no_pesel": _label(ds, "no_pesel", "nie" if person.pesel else "tak"),
        "sex": _label(ds, "sex", "K" if person.female else "M"),
        "age_at_entry": _age_on(person.birth, person.start),
        "education": _label(ds, "education", person.education),
        "voivodeship": profile.voivodeship, "county": profile.county, "municipality": profile.gmina,
        "locality": person.place.locality, "postal_code": person.postal,
        "degurba": _label(ds, "degurba", person.place.degurba),
        "phone": person.phone, "email": person.email,
        "start_date": person.start, "end_date": person.end if ended else None,
        "labour_status": _label(ds, "labour_status", person.labour),
        "completed_path": _label(ds, "completed_path", "tak" if person.completed else "nie") if ended else "",
        "minority_migrant": _label(ds, "minority_migrant", person.minority),
        "homeless": _label(ds, "homeless", person.homeless),
        "disability": _label(ds, "disability", person.disability),
        "other_disadvantaged": _label(ds, "other_disadvantaged", person.other),
        "poverty_risk": _label(ds, "poverty_risk", person.poverty),
        "Uwagi": person.note,
    }


def write_participants(w: Writer, path_dir: Path, quarter: str, hi: date, rows: list[Person], unit: Unit,
                       profile: Profile, style: CsvStyle | XlsxStyle) -> Path | None:
    if not rows:
        return None
    ds = w.contract["participants"]
    cells = [_participant_cells(p, hi, ds, profile, unit) for p in rows]
    if isinstance(style, CsvStyle):
        records = []
        for c in cells:
            records.append({**{k: ("" if v is None else str(v)) for k, v in c.items()},
                            "start_date": style.day(c["start_date"]), "end_date": style.day(c["end_date"])})
        path = path_dir / "uczestnicy.csv"
        w.csv(path, "participants", records, style)
        return path
    import xlsxwriter

    path = path_dir / "uczestnicy.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path), {"in_memory": True})  # one quarter of one unit: small
    workbook.set_properties({"title": f"{ds.title} {quarter}", "author": unit.name, "company": unit.name,
                             "created": FIXED_PROPERTIES_DATE})
    sheet = workbook.add_worksheet("Uczestnicy")
    bold = workbook.add_format({"bold": True})
    date_format = workbook.add_format({"num_format": "dd.mm.yyyy"})
    columns = [c.name for c in ds.columns] + list(style.extra_last)
    headers = [c.header for c in ds.columns] + list(style.extra_last)
    r = 0
    if style.header_block:
        lo = max(quarter_start(quarter), unit.period_start)
        for text in (f"Projekt: Utworzenie Centrum Usług Społecznych – {unit.name}",
                     f"Nr umowy: {unit.agreement_no}", f"Beneficjent: {unit.gmina or unit.name}",
                     f"Okres sprawozdawczy: {quarter} ({lo:%d.%m.%Y}–{hi:%d.%m.%Y})"):
            sheet.write_string(r, 0, text, bold)
            r += 1
        r += 1
    sheet.write_row(r, 0, headers, bold)
    r += 1
    for index, c in enumerate(cells):
        for col, name in enumerate(columns):
            value = c.get(name)
            if value is None or value == "":
                continue
            if name == "pesel":
                if style.pesel_as_number and not value.startswith("00"):
                    sheet.write_number(r, col, int(value))  # born 2000–2009: 10 digits left
                else:
                    sheet.write_string(r, col, value)
            elif name == "age_at_entry":
                sheet.write_number(r, col, value)
            elif isinstance(value, date):
                mode = style.start_dates if name == "start_date" else style.end_dates
                if mode == "serial_or_date" and index % 2 == 0:
                    sheet.write_number(r, col, _excel_serial(value))  # Excel serial, no date format
                elif mode == "text_dmy":
                    sheet.write_string(r, col, value.strftime("%d.%m.%Y"))
                else:
                    sheet.write_datetime(r, col, datetime(value.year, value.month, value.day), date_format)
            else:
                sheet.write_string(r, col, str(value))
        r += 1
    for _ in range(style.trailing_empty):  # "empty" rows a spreadsheet user left behind
        sheet.write_string(r, 0, " ")
        r += 1
    workbook.close()
    w.files += 1
    w.rows["participants"] = w.rows.get("participants", 0) + len(cells)
    return path


def _expense_records(docs: list[Document], style: CsvStyle) -> list[dict[str, str]]:
    flag = lambda b: "T" if b else "N"  # noqa: E731
    out = []
    for i, d in enumerate(docs, start=1):
        out.append({
            "Lp.": str(i), "document_no": d.number, "issuer_nip": d.nip, "issue_date": style.day(d.issue),
            "payment_date": style.day(d.payment),
            "task_no": str(d.task_override if d.task_override is not None else d.line.task_no),
            "cost_category": d.line.category, "item_name": d.item, "gross_amount": style.money(d.gross),
            "net_amount": style.money(d.net), "eligible_amount": style.money(d.eligible),
            "vat_amount": style.money(d.vat), "cross_financing": flag(d.line.cross_financing),
            "fixed_asset": flag(d.line.fixed_asset), "commissioned": flag(d.line.commissioned),
            "correction": flag(d.correction), "Uwagi": d.note,
        })
    return out


# ============================================================================================
# One unit
# ============================================================================================


@dataclass
class SampleSummary:
    out: Path
    units: list[str]
    files: int
    rows: dict[str, int]
    registry_path: Path | None
    resent_files: list[Path]
    bad_rows: list[tuple[str, str, str, str]]


def _profile(unit: Unit, rng: random.Random, index: int) -> Profile:
    if unit.key in PROFILES:
        return PROFILES[unit.key]
    digits = "".join(ch for ch in unit.key if ch.isdigit())[-4:] or f"{index:04d}"
    prefix = ("G" + digits) if digits else unit.key[:3].upper()
    town = (unit.gmina or unit.name).replace("Gmina ", "").replace("Miasto ", "")
    code = f"{rng.randint(10, 99)}-{rng.randint(100, 999)}"
    places = (Place(town, (code,), "2"),) + tuple(Place(v, (code,), "3") for v in GENERIC_VILLAGES[:4])
    services = tuple(_svc(f"{prefix}-{c}", n, a, m, u, p, g, wt) for c, n, a, m, u, p, g, wt in GENERIC_SERVICES)
    return Profile(prefix=prefix, voivodeship=unit.voivodeship or rng.choice(VOIVODESHIPS), county=f"powiat {town}",
                   gmina=town, places=places, place_weights=(0.6, 0.1, 0.1, 0.1, 0.1),
                   age_weights=(0.03, 0.11, 0.06, 0.28, 0.15, 0.37), services=services,
                   commissioned_share=Decimal(str(round(rng.uniform(0.36, 0.5), 2))),
                   providers=(("pes", f"Spółdzielnia Socjalna „Pomoc” w {town}"), ("ngo", f"Stowarzyszenie „Razem” w {town}"),
                              ("social_clause", f"Rehabilitacja Domowa {town} Sp. z o.o.")))


SUPPLIERS = ("Biuro Badań Społecznych „Analityka” Sp. z o.o.", "Meble Biurowe „Komfort” s.c.",
             "Zakład Remontowo-Budowlany „Budmax”", "Hurtownia Papiernicza „Biuro-Serwis”",
             "Centrum Szkoleń Społecznych „Kompetencje”", "Catering „Smaczny Kąsek”", "Komputery i Serwis „Bit”")


def generate_unit(unit: Unit, out: Path, seed: int, scale: float, writer: Writer, resent_dir: Path, index: int
                  ) -> list[Path]:
    contract = writer.contract
    rng_catalogue = _rng(seed, unit.key, "catalogue")
    profile = _profile(unit, rng_catalogue, index)
    mess = MESS.get(unit.key, {})
    style = lambda ds: mess.get(ds, CLEAN)  # noqa: E731
    cal = Calendar.of(unit)
    unit_dir = out / unit.key
    agreement = unit_dir / "umowa"

    # --- catalogue and providers ---
    unit_nip = make_nip(rng_catalogue)
    provider_nips = {name: make_nip(rng_catalogue) for _kind, name in profile.providers}
    suppliers = [(name, make_nip(rng_catalogue)) for name in SUPPLIERS]
    service_provider: dict[str, tuple[str, str]] = {}
    st = style("services")
    service_records = []
    for service in profile.services:
        if service.mode == "own":
            provider, nip = unit.name, unit_nip
        else:
            candidates = [name for kind, name in profile.providers if kind == service.mode] or \
                         [name for _kind, name in profile.providers]
            provider = candidates[sum(map(ord, service.code)) % len(candidates)]
            nip = provider_nips[provider]
        service_provider[service.code] = (nip, provider)
        service_records.append({
            "service_code": service.code, "service_name": service.name, "area": str(service.area),
            "delivery_mode": _label(contract["services"], "delivery_mode", service.mode), "provider": provider,
            "provider_nip": nip, "unit_of_measure": service.measure, "unit_price": st.money(service.price),
        })
    writer.csv(agreement / "uslugi.csv", "services", service_records, st)

    # --- budget, plan ---
    lines = make_budget(unit, profile, service_provider)
    st = style("budget")
    flag = lambda b: "T" if b else "N"  # noqa: E731
    writer.csv(agreement / "budzet.csv", "budget", [{
        "task_no": str(line.task_no), "task_name": line.task_name, "cost_category": line.category,
        "category_name": line.category_name, "amount": st.money(line.amount),
        "cross_financing": flag(line.cross_financing), "fixed_asset": flag(line.fixed_asset),
        "commissioned": flag(line.commissioned)} for line in lines], st)
    plan, actual = plan_and_actual(lines, unit, cal, _rng(seed, unit.key, "spending"))
    st = style("spending_plan")
    writer.csv(agreement / "harmonogram.csv", "spending_plan",
               [{"plan_quarter": st.quarter(q), "planned_amount": st.money(p)} for q, p in zip(cal.quarters, plan)], st)

    # --- participants (the roster of one unit is small: kept in memory) ---
    people = make_participants(unit, profile, cal, _rng(seed, unit.key, "participants"), scale)
    milestones = make_milestones(unit, _rng(seed, unit.key, "milestones"))
    st = style("milestones")
    writer.csv(agreement / "kamienie_milowe.csv", "milestones", [
        {"milestone_code": c, "milestone_name": n, "planned_date": st.day(p), "achieved_date": st.day(a)}
        for c, n, p, a in milestones], st)
    st = style("indicator_targets")
    writer.csv(agreement / "wskazniki.csv", "indicator_targets", [
        {"indicator_code": code, "target_total": str(total), "target_women": "" if w is None else str(w),
         "target_men": "" if m is None else str(m)}
        for code, total, w, m in make_indicators(people, len(milestones), _rng(seed, unit.key, "indicators"))], st)

    # --- quarters ---
    actual_direct = [sum(a[qi] for a in actual) for qi in range(len(cal.quarters))]
    tranches = make_tranches(unit, cal, plan, actual_direct, _rng(seed, unit.key, "tranches"))
    by_start: dict[int, list[Person]] = {}
    by_change: dict[int, list[Person]] = {}
    for p in people:
        by_start.setdefault(p.start_q, []).append(p)
        if p.end_q is not None and p.end_q != p.start_q:
            by_change.setdefault(p.end_q, []).append(p)
    services = {s.code: s for s in profile.services}
    community = [s for s in profile.services if "community" in s.groups]
    total_deliveries = max(len(cal.quarters), round(DELIVERIES_PER_UNIT * scale))
    active_days = [[max(0, (min(hi, p.end or hi) - max(lo, p.start)).days + 1) if p.start <= hi else 0 for p in people]
                   for lo, hi in cal.windows]
    per_quarter = _split(total_deliveries, [sum(days) for days in active_days])
    rng_deliveries = _rng(seed, unit.key, "deliveries")
    rng_documents = _rng(seed, unit.key, "documents")
    seq: dict[str, int] = {}
    resent: list[Path] = []
    for qi, quarter in enumerate(cal.quarters):
        lo, hi = cal.windows[qi]
        folder = unit_dir / quarter

        # participants: new of the quarter + changed rows (end date / completed path filled in)
        rows = sorted(by_start.get(qi, []) + by_change.get(qi, []), key=lambda p: p.pid)
        if _bad(unit.key, quarter, "uczestnicy.xlsx") and rows:
            template = rows[0]
            bad = Person(**{**template.__dict__, "pid": f"{profile.prefix}/900001", "note": "PESEL do sprawdzenia"})
            digits = bad.pesel or make_pesel(bad.birth, "K" if bad.female else "M", 17)
            bad.pesel = digits[:-1] + str((int(digits[-1]) + 1) % 10)  # wrong check digit
            rows.append(bad)
        write_participants(writer, folder, quarter, hi, rows, unit, profile, mess.get("participants", PLAIN_XLSX))

        # deliveries
        st = style("deliveries")
        records = _deliveries(people, active_days[qi], per_quarter[qi], lo, hi, services, community, rng_deliveries, st)
        if _bad(unit.key, quarter, "swiadczenia.csv") and records:
            bad = dict(records[len(records) // 2])
            if unit.key == "elblag":
                bad["service_code"] = "ELB-XX"
            elif unit.key == "myslenice":
                bad["participant_id"] = "MYS/999999"
                bad["ipus_no"] = ""
            else:
                bad["delivery_date"] = "2022-02-31"
            records.insert(len(records) // 2 + 1, bad)
        writer.csv(folder / "swiadczenia.csv", "deliveries", records, st)

        # expenses
        st = style("expenses")
        docs = make_documents(unit, profile, lines, actual, cal, qi, rng_documents, scale, unit_nip, suppliers, seq)
        fixed_docs = None
        if _bad(unit.key, quarter, "wydatki.csv") and docs:
            docs, fixed_docs = _bad_document(unit.key, docs, lines, hi, seq)
        writer.csv(folder / "wydatki.csv", "expenses", _expense_records(docs, st), st)
        if (unit.key, quarter) == RESENT and fixed_docs is not None:
            path = resent_dir / unit.key / quarter / "wydatki.csv"
            Writer(contract).csv(path, "expenses", _expense_records(fixed_docs, st), st)
            resent.append(path)

        # tranches
        if qi in tranches:
            t = tranches[qi]
            st = style("tranches")
            writer.csv(folder / "transze.csv", "tranches", [{
                "tranche_no": str(t.number), "received_date": st.day(t.received), "amount_total": st.money(t.total),
                "amount_eu": st.money(t.eu), "amount_state": st.money(t.state)}], st)

        # the descriptive part of the claim (optional file): every second quarter and the last one
        if qi % 2 == 1 or qi == len(cal.quarters) - 1:
            next_quarter = cal.quarters[qi + 1] if qi + 1 < len(cal.quarters) else None
            writer.csv(folder / "opis_postepu.csv", "narrative",
                       _narrative_records(contract["narrative"], lines, quarter, next_quarter, hi), CLEAN)
    return resent


def _narrative_records(ds: Dataset, lines: list[BudgetLine], quarter: str, next_quarter: str | None,
                       hi: date) -> list[dict[str, str]]:
    """Progress of every direct-cost task, one problem with its corrective action, the plan and the
    sign-off rows (roles, no personal names), dated ten days after the quarter."""
    tasks = sorted({(line.task_no, line.task_name) for line in lines if line.task_no > 0})
    part = lambda code: _label(ds, "part", code)  # noqa: E731
    records = [{"part": part("progress"), "task_no": str(no),
                "narrative_text": f"Zadanie {no} „{name}” realizowane zgodnie z harmonogramem; w kwartale {quarter} "
                                  "kontynuowano świadczenie usług i rozliczono wydatki zgodnie z budżetem."}
               for no, name in tasks]
    records.append({"part": part("problems"), "task_no": "",
                    "narrative_text": f"W kwartale {quarter} część usług opóźniła się z powodu absencji kadry; "
                                      "działanie naprawcze: zastępstwa i dodatkowe terminy w soboty."})
    records.append({"part": part("plan"), "task_no": "",
                    "narrative_text": (f"W kwartale {next_quarter} planowana jest kontynuacja usług, ewaluacja "
                                       "programu usług społecznych i rozliczenie kolejnej transzy."
                                       if next_quarter else "Zakończenie projektu i rozliczenie końcowe.")})
    signed = (hi + timedelta(days=10)).isoformat()
    records.append({"part": part("prepared_by"), "narrative_text": "Koordynator projektu CUS", "signed_on": signed})
    records.append({"part": part("approved_by"), "narrative_text": "Dyrektor Centrum Usług Społecznych",
                    "signed_on": signed})
    return records


def _bad_document(unit_key: str, docs: list[Document], lines: list[BudgetLine], hi: date, seq: dict[str, int]
                  ) -> tuple[list[Document], list[Document] | None]:
    """Add the unit's deliberately bad document; for the re-sent quarter also return the corrected list."""
    base = docs[-1]
    spare = max((line for line in lines if line.task_no > 0 and not line.commissioned), key=lambda line: line.amount)
    if unit_key == "elblag":
        bad = Document(f"KOR/{hi.year}/{hi.month:02d}/0001", base.nip, base.issue, base.payment, base.line,
                       f"Korekta: {base.item}", -base.gross, -base.net, -base.eligible, -base.vat if base.vat else base.vat)
        return docs + [bad], None
    if unit_key == "myslenice":
        bad = Document(f"FV/{hi.year}/{hi.month:02d}/9001", INVALID_NIP, hi - timedelta(days=5), hi, spare,
                       f"{spare.category_name} – materiały", Decimal("1230.00"), Decimal("1000.00"),
                       Decimal("1230.00"), Decimal("230.00"), note="sprawdzić NIP")
        return docs + [bad], None
    if unit_key == "starachowice":
        seq["FV"] = seq.get("FV", 0) + 1
        number = f"FV/{hi.year}/{hi.month:02d}/{seq['FV']:04d}"
        bad = Document(number, base.nip or docs[0].nip, hi - timedelta(days=12), hi - timedelta(days=3), spare,
                       f"{spare.category_name} – materiały", Decimal("369.00"), Decimal("300.00"),
                       Decimal("396.00"), Decimal("69.00"))
        fixed = Document(**{**bad.__dict__, "eligible": Decimal("369.00"), "note": "korekta kwoty kwalifikowalnej"})
        corrected_first = Document(**{**docs[0].__dict__, "payment": min(hi, docs[0].payment + timedelta(days=1)),
                                      "note": "korekta daty zapłaty"})
        return docs + [bad], [corrected_first] + docs[1:] + [fixed]
    bad = Document(f"FV/{hi.year}/{hi.month:02d}/9002", base.nip, base.issue, base.payment, base.line,
                   "Koszty administracyjne biura projektu", Decimal("500.00"), Decimal("500.00"),
                   Decimal("500.00"), Decimal("0.00"), task_override=0)
    return docs + [bad], None


def _deliveries(people: list[Person], days: list[int], count: int, lo: date, hi: date, services: dict[str, Service],
                community: list[Service], rng: random.Random, st: CsvStyle) -> list[dict[str, str]]:
    if count <= 0:
        return []
    active = [i for i, d in enumerate(days) if d > 0]
    n_community = max(1, round(count * 0.03)) if community else 0
    rows = []
    seen: set[tuple[date, str, str]] = set()
    if active:
        cumulative, running = [], 0
        for i in active:
            running += days[i]
            cumulative.append(running)
        for _ in range(count - n_community):
            person = people[active[bisect_right(cumulative, rng.random() * running)]]
            first = max(lo, person.start)
            last = min(hi, person.end or hi)
            day = first + timedelta(days=rng.randint(0, (last - first).days))
            service = services[person.services[rng.randrange(len(person.services))]]
            if (day, person.pid, service.code) in seen:  # one row per participant, service and day
                day = first + timedelta(days=rng.randint(0, (last - first).days))
                if (day, person.pid, service.code) in seen:
                    continue
            seen.add((day, person.pid, service.code))
            units = _units(service.measure, rng)
            value = "" if rng.random() < 0.6 else st.money((units * service.price).quantize(GROSZ, rounding=ROUND_HALF_UP))
            ipus = person.ipus if person.ipus and rng.random() < 0.9 else ""
            rows.append((day, person.pid, service.code, units, value, ipus))
    else:
        n_community = count
    for _ in range(n_community):
        service = community[rng.randrange(len(community))]
        day = _rand_day(rng, lo, hi)
        if (day, "", service.code) in seen:
            continue
        seen.add((day, "", service.code))
        units = Decimal(rng.choice((2, 3, 4, 6)))
        value = "" if rng.random() < 0.5 else st.money(units * service.price)
        rows.append((day, "", service.code, units, value, ""))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    return [{"participant_id": pid, "service_code": code, "delivery_date": st.day(day), "units": st.qty(units),
             "value": value, "ipus_no": ipus} for day, pid, code, units, value, ipus in rows]


_HOURS = (Decimal("0.5"), Decimal("1"), Decimal("1.5"), Decimal("2"), Decimal("2"), Decimal("3"), Decimal("4"))


def _units(measure: str, rng: random.Random) -> Decimal:
    if measure == "godzina":
        return _HOURS[rng.randrange(len(_HOURS))]
    if measure == "doba":
        return Decimal(rng.randint(1, 7))
    if measure == "kurs":
        return Decimal(rng.choice((1, 1, 2)))
    return Decimal(1)


# ============================================================================================
# Entry point
# ============================================================================================


def synthetic_units_yaml(base_path: Path, count: int, seed: int) -> dict:
    """The registry of `count` units: the base registry's units, then synthetic `gmina_NNNN` ones."""
    raw = yaml.safe_load(Path(base_path).read_text(encoding="utf-8"))
    entries = list(raw["units"])[:count]
    for n in range(len(entries) + 1, count + 1):
        rng = _rng(seed, f"gmina_{n:04d}", "registry")
        start = date(*rng.choice(((2020, 11, 1), (2021, 1, 1), (2021, 2, 1), (2021, 4, 1))))
        months = rng.randint(28, 32)
        end_month = start.month - 1 + months
        end = date(start.year + end_month // 12, end_month % 12 + 1, 1) - timedelta(days=1)
        cus_month = start.month - 1 + rng.randint(0, 6)
        cus = date(start.year + cus_month // 12, cus_month % 12 + 1, 1)
        direct = Decimal(rng.randint(1_800_000, 3_900_000)) + Decimal(rng.randint(0, 99)) / 100
        total = direct + indirect_costs(direct, Decimal(str(raw.get("defaults", {}).get("indirect_rate", "0.15"))))
        entries.append({
            "key": f"gmina_{n:04d}", "name": f"Centrum Usług Społecznych w Gminie Przykładowej {n:04d}",
            "gmina": f"Gmina Przykładowa {n:04d}", "voivodeship": VOIVODESHIPS[n % len(VOIVODESHIPS)],
            "transformation": "OPS → CUS (jednostka syntetyczna do testów skali)",
            "agreement_no": f"POWR.02.08.00-00-{n:04d}/20",
            "agreement_signed": (start - timedelta(days=rng.randint(30, 120))).isoformat(),
            "period_start": start.isoformat(), "period_end": end.isoformat(), "cus_start": cus.isoformat(),
            "total": f"{total:.2f}",
        })
    return {"defaults": raw.get("defaults", {}), "units": entries}


def generate(out: Path, seed: int = 2020, units: int | None = None, scale: float = 1.0,
             registry: Path | None = None, registry_out: Path | None = None,
             resent_dir: Path | None = None) -> SampleSummary:
    """Write the sample landing files under `out` (see the module docstring) and return a summary.

    registry      base unit registry (default config/units.yaml)
    units         number of units; more than the registry holds adds synthetic `gmina_NNNN` units
                  and writes their registry to `registry_out` (default `<out>/../units_<N>.yaml`)
    resent_dir    where the re-sent corrected file goes (default `<out>/../resent`)
    """
    out = Path(out)
    registry = Path(registry or REGISTRY_PATH)
    base_units = list(load_units(registry))
    registry_path = None
    if units is None:
        chosen = base_units
    elif units <= len(base_units):
        chosen = base_units[:max(0, units)]
    else:
        registry_path = Path(registry_out or out.parent / f"units_{units}.yaml")
        registry_path.parent.mkdir(parents=True, exist_ok=True)
        registry_path.write_text(
            "# Generated by pipelines/tools/sample_data.py for the scale benchmarks (CUS_REGISTRY=<this file>).\n"
            + yaml.safe_dump(synthetic_units_yaml(registry, units, seed), allow_unicode=True, sort_keys=False),
            encoding="utf-8")
        chosen = list(load_units.__wrapped__(registry_path))
    resent_dir = Path(resent_dir or out.parent / "resent")
    writer = Writer(load_contract())
    resent: list[Path] = []
    out.mkdir(parents=True, exist_ok=True)
    for index, unit in enumerate(chosen, start=1):
        resent += generate_unit(unit, out, seed, scale, writer, resent_dir, index)
    bad = [b for b in BAD_ROWS if b[0] in {u.key for u in chosen}]
    return SampleSummary(out=out, units=[u.key for u in chosen], files=writer.files, rows=dict(writer.rows),
                         registry_path=registry_path, resent_files=resent, bad_rows=bad)
