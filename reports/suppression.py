"""Statistical disclosure control for sensitive breakdowns (disability, homelessness,
minority/migrant, other disadvantage): counts from 1 to threshold-1 are hidden.

Primary suppression hides the small cells (`<5`). Secondary suppression then hides as few other
cells as needed (`•`, the sign of Statistics Poland for confidential data) so a hidden value cannot be recovered by subtraction: within a row that
publishes total = women + men, and within a column whose total over units is published.
Zero stays visible (it discloses nobody).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Iterable

from reports.formatting import Suppressed

DEFAULT_THRESHOLD = 5


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


def footnote(threshold: int) -> str:
    return (
        f"„<{threshold}” — liczba osób od 1 do {threshold - 1} w kategorii wrażliwej (niepełnosprawność, "
        "bezdomność lub wykluczenie z dostępu do mieszkań, przynależność do mniejszości/migranci, inna niekorzystna "
        f"sytuacja społeczna) nie jest publikowana; „•” — wartość ukryta dodatkowo, aby ukrytej liczby nie dało się "
        "odtworzyć z sum (ochrona danych osobowych, RODO)."
    )
