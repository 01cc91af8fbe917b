"""Statistical disclosure control for sensitive breakdowns (disability, homelessness,
minority/migrant, other disadvantage): counts from 1 to threshold-1 are hidden.

Sequential rule (`sequential_disclosure`, the one rule of the reports and of the published copy,
assets/publish/copy.py): a series (unit × code, or the sum over units of the consolidated report)
is published quarter after quarter, so a hidden cumulative must not be recoverable as the
difference of two published ones. Walking the quarters in order, the cumulative triple
(total, women, men) of quarter t is published only when every component is 0 or ≥ threshold AND
its change since the LAST PUBLISHED triple is 0 or ≥ threshold in every component; otherwise the
whole triple is hidden. The quarter-value triple of t is published only when the cumulatives of t
and t−1 were both published (before the first quarter the cumulative is a published zero) and each
component is 0 or ≥ threshold.

Primary suppression hides the small cells (`<5`). Secondary suppression then hides as few other
cells as needed (`•`, the sign of Statistics Poland for confidential data) so a hidden value cannot be recovered by subtraction: within a row that
publishes total = women + men, and within a column whose total over units is published.
Zero stays visible (it discloses nobody).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from reports.formatting import Suppressed

DEFAULT_THRESHOLD = 5
ZERO_COUNT = Decimal(0)


def _count(value) -> Decimal | None:
    if isinstance(value, Suppressed) or value is None:
        return None
    return Decimal(value)


def is_small(value, threshold: int) -> bool:
    count = _count(value)
    return count is not None and 0 < count < threshold


def suppress_rows(
    rows: list[dict],
    count_keys: Iterable[str],
    threshold: int,
    additive_groups: Iterable[tuple[str, tuple[str, ...]]] = (),
    total_row: dict | None = None,
) -> int:
    """Suppress in place. `additive_groups`: (total_key, (part_keys...)) within a row; when
    `total_row` is given its cells are column sums over `rows` (and are never hidden unless small).
    Returns the number of hidden cells."""
    count_keys = list(count_keys)
    groups = list(additive_groups)
    hidden = 0
    cells = rows + ([total_row] if total_row is not None else [])
    for row in cells:
        for key in count_keys:
            if is_small(row.get(key), threshold):
                row[key] = Suppressed(threshold, primary=True)
                hidden += 1

    def hide_one(candidates: list[tuple[dict, str]]) -> bool:
        visible = [(r, k) for r, k in candidates if not isinstance(r.get(k), Suppressed) and r.get(k) is not None
                   and _count(r.get(k)) != 0]
        if not visible:
            return False
        row, key = min(visible, key=lambda rk: _count(rk[0][rk[1]]))
        row[key] = Suppressed(threshold, primary=False)
        return True

    changed = True
    while changed:
        changed = False
        # Within a row: total = sum of parts. One hidden member among visible others is recoverable.
        for row in cells:
            for total_key, parts in groups:
                members = [total_key, *parts]
                hidden_members = [k for k in members if isinstance(row.get(k), Suppressed)]
                if len(hidden_members) == 1 and hide_one([(row, k) for k in members if k not in hidden_members]):
                    hidden += 1
                    changed = True
        # Within a column: the published total over units.
        if total_row is not None and len(rows) > 1:
            for key in count_keys:
                members = [(r, key) for r in rows] + [(total_row, key)]
                hidden_ids = [id(r) for r, _ in members if isinstance(r.get(key), Suppressed)]
                if len(hidden_ids) == 1 and hide_one([(r, k) for r, k in members if id(r) not in hidden_ids]):
                    hidden += 1
                    changed = True
    return hidden


CUMULATIVE_TRIPLE = ("cumulative_total", "cumulative_women", "cumulative_men")
QUARTER_TRIPLE = ("quarter_total", "quarter_women", "quarter_men")


def _publishable(values: Iterable, threshold: int) -> bool:
    """Every known component is 0 or at least the threshold (a change may be negative after a correction)."""
    return all(v is None or v == 0 or abs(v) >= threshold for v in values)


def sequential_disclosure(series: Iterable[dict], threshold: int, forced_hidden: Iterable[str] = (),
                          quarter_key: str = "quarter") -> dict[str, tuple[bool, bool]]:
    """quarter -> (cumulative triple published, quarter-value triple published) for ONE series
    (rows of one unit × code, or of the summed series; any order). `forced_hidden`: quarters whose
    cumulative must be hidden whatever its values (the consolidated sum when a unit's is hidden)."""
    forced = set(forced_hidden)
    rows = sorted(series, key=lambda r: str(r.get(quarter_key)))
    last: tuple = (ZERO_COUNT,) * len(CUMULATIVE_TRIPLE)  # nothing counted before the first quarter
    previous_published = True
    out: dict[str, tuple[bool, bool]] = {}
    for row in rows:
        quarter = row.get(quarter_key)
        cumulative = tuple(_count(row.get(k)) for k in CUMULATIVE_TRIPLE)
        change = tuple(None if c is None or p is None else c - p for c, p in zip(cumulative, last))
        published = (quarter not in forced and _publishable(cumulative, threshold)
                     and _publishable(change, threshold))
        if published:
            last = tuple(c if c is not None else p for c, p in zip(cumulative, last))
        quarter_published = (published and previous_published
                             and _publishable((_count(row.get(k)) for k in QUARTER_TRIPLE), threshold))
        out[quarter] = (published, quarter_published)
        previous_published = published
    return out


def disclosure_by_series(rows: Iterable[dict], threshold: int, series_keys: tuple[str, ...] = ("unit", "code"),
                         forced_hidden: dict[tuple, set[str]] | None = None,
                         quarter_key: str = "quarter") -> dict[tuple, tuple[bool, bool]]:
    """(series key..., quarter) -> (cumulative published, quarter value published), every series."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(row.get(k) for k in series_keys), []).append(row)
    out: dict[tuple, tuple[bool, bool]] = {}
    for key, members in groups.items():
        decided = sequential_disclosure(members, threshold, (forced_hidden or {}).get(key, ()), quarter_key)
        out.update({(*key, quarter): flags for quarter, flags in decided.items()})
    return out


def summed_series(rows: Iterable[dict], unit_decisions: dict[tuple, tuple[bool, bool]], threshold: int,
                  ) -> tuple[list[dict], dict[tuple, tuple[bool, bool]]]:
    """The consolidated series: per code × quarter the sum over units of the six counts, and its
    decisions — the sequential rule on the sum, plus: a sum is hidden in every quarter where one
    of its units' cumulative is hidden (else the unit's figure = sum − the other, published, units)."""
    keys = CUMULATIVE_TRIPLE + QUARTER_TRIPLE
    sums: dict[tuple, dict] = {}
    forced: dict[tuple, set[str]] = {}
    for row in rows:
        code, quarter = row.get("code"), row.get("quarter")
        target = sums.setdefault((code, quarter), {"code": code, "quarter": quarter, **{k: None for k in keys}})
        for k in keys:
            value = _count(row.get(k))
            if value is not None:
                target[k] = (target[k] or ZERO_COUNT) + value
        if not unit_decisions.get((row.get("unit"), code, quarter), (True, True))[0]:
            forced.setdefault((code,), set()).add(quarter)
    summed = list(sums.values())
    return summed, disclosure_by_series(summed, threshold, ("code",), forced)


def hide_triple(row: dict, keys: Iterable[str], threshold: int) -> int:
    """Hide every component of a triple: small ones read `<n`, the others `•`. Returns the count."""
    hidden = 0
    for key in keys:
        if key not in row or isinstance(row.get(key), Suppressed):
            continue
        row[key] = Suppressed(threshold, primary=is_small(row.get(key), threshold))
        hidden += 1
    return hidden


def hide_small_area_persons(rows: Iterable[dict], sensitive_areas: Iterable[int], threshold: int,
                            unit_rows: Iterable[dict] | None = None, key: str = "persons") -> int:
    """Persons served in a sensitive area of the Act (6: disability, 12: housing) reveal a special
    category: 1..threshold−1 read `<n`. `unit_rows` (consolidated): the per-unit rows behind the
    summed `rows` — a sum is hidden (`•`) when one of its units is small, as the unit reports
    publish the others. Returns the number of hidden cells."""
    areas = {int(a) for a in sensitive_areas}
    members: dict[int, list] = {}
    for r in unit_rows or ():
        if r.get("area") is not None:
            members.setdefault(int(r["area"]), []).append(r.get(key))
    hidden = 0
    for row in rows:
        area = row.get("area")
        if area is None or int(area) not in areas or isinstance(row.get(key), Suppressed) or row.get(key) is None:
            continue
        if is_small(row.get(key), threshold):
            row[key] = Suppressed(threshold, primary=True)
            hidden += 1
        elif any(is_small(v, threshold) for v in members.get(int(area), ())):
            row[key] = Suppressed(threshold, primary=False)
            hidden += 1
    return hidden


def footnote(threshold: int) -> str:
    return (
        f"„<{threshold}” — liczba osób od 1 do {threshold - 1} w kategorii wrażliwej (niepełnosprawność, "
        "bezdomność lub wykluczenie z dostępu do mieszkań, przynależność do mniejszości/migranci, inna niekorzystna "
        "sytuacja społeczna — także osoby korzystające z usług w obszarach wspierania osób niepełnosprawnych i "
        f"mieszkalnictwa) nie jest publikowana; „•” — wartość ukryta dodatkowo, aby ukrytej liczby nie dało się "
        "odtworzyć z sum ani z różnicy kwartałów (ochrona danych osobowych, RODO). Liczby ogółem, kobiety i mężczyźni "
        "narastająco są publikowane razem albo wcale: tylko gdy każda wynosi 0 lub co najmniej "
        f"{threshold} i gdy każda zmieniła się od ostatniego opublikowanego kwartału o 0 lub co najmniej {threshold} "
        "(inaczej różnica dwóch kwartałów ujawniłaby małą liczbę osób). Wartość w kwartale jest publikowana tylko, "
        "gdy opublikowano wartości narastające tego i poprzedniego kwartału. W raporcie zbiorczym suma jednostek "
        "jest ukryta, gdy ukryto wartość którejkolwiek jednostki."
    )
