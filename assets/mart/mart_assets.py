"""Mart assets: facts and dimensions across quarters, rebuilt set-based from staging.

Each table is `assets/mart/sql/<table>.sql` (CTE style, `COMMENT ON` for every documented
column); money rules are the macros of `assets/mart/money_macros.sql`. Unpartitioned: every run
rebuilds the whole table in one transaction (CREATE OR REPLACE TABLE), reading every unit ×
quarter of staging.
"""

from __future__ import annotations

import duckdb

from assets.mart.sql_tables import SqlCheck, SqlTable, build_sql_asset, build_tables

QUARTER_DATASETS = ("participants", "deliveries", "expenses", "tranches")

MART_TABLES: list[SqlTable] = [
    SqlTable("mart", "dim_unit",
             "**Jednostki (CUS)** z rejestru config/units.yaml: okres, kwota umowy, stawki, limity i progi, "
             "część EFS (zaokrąglona w dół do grosza) i krajowa kwoty umowy.\n\nUnit dimension from the registry."),
    SqlTable("mart", "dim_quarter",
             "**Kalendarz kwartałów** sprawozdawczych okresów realizacji wszystkich jednostek.\n\nQuarter calendar.",
             upstream=("mart/dim_unit",)),
    SqlTable("mart", "unit_quarter",
             "**Siatka sprawozdawcza** jednostka × kwartał okresu realizacji, z informacją, czy wpłynęły dane i "
             "czy kwartał trafia do tabel raportu (do ostatniego kwartału z danymi).\n\nUnit × quarter grid.",
             staging=QUARTER_DATASETS, upstream=("mart/dim_unit", "mart/dim_quarter")),
    SqlTable("mart", "indicator_catalogue",
             "**Katalog wskaźników** i kategorii profilu uczestników (schemas/indicators.yaml): kod, nazwa, "
             "rodzaj, jednostka miary, definicja, reguła zliczania.\n\nIndicator catalogue as a table."),
    SqlTable("mart", "dim_participant",
             "**Uczestnicy — stan bieżący** (wiersz z najpóźniejszego pliku kwartalnego), pseudonimizowani: "
             "płeć, wiek, status na rynku pracy, wykształcenie, kategorie EFS jako flagi, IPUS, ścieżka, "
             "kwartały zliczenia; pochodzenie wiersza.\n\nParticipant dimension, current state across files.",
             staging=("participants", "deliveries"), upstream=("mart/dim_unit",),
             checks=(SqlCheck("one_row_per_participant", "Jeden wiersz (stan bieżący) na jednostkę i identyfikator "
                              "uczestnika.", "SELECT unit, participant_id FROM mart.dim_participant "
                              "GROUP BY unit, participant_id HAVING count(*) > 1"),)),
    SqlTable("mart", "person_count",
             "**Osoby zliczane raz na jednostkę** dla każdego wskaźnika osobowego i kategorii profilu, w kwartale "
             "zliczenia (ta sama osoba pod dwoma identyfikatorami liczona raz).\n\nOne row per person and code.",
             upstream=("mart/dim_participant", "mart/indicator_catalogue"),
             checks=(SqlCheck("person_counted_once", "Osoba liczona najwyżej raz na jednostkę i kod wskaźnika.",
                              "SELECT unit, code, person_key FROM mart.person_count "
                              "GROUP BY unit, code, person_key HAVING count(*) > 1"),)),
    SqlTable("mart", "dim_service",
             "**Katalog usług** jednostki: obszar 1–14, sposób realizacji, usługa zlecona (PES/NGO/klauzula), "
             "cena jednostkowa.\n\nService catalogue.", staging=("services",)),
    SqlTable("mart", "fact_delivery",
             "**Świadczenia** (zrealizowane usługi) z wartością (z pliku lub jednostki × cena) oraz obszarem i "
             "sposobem realizacji z katalogu; pochodzenie wiersza.\n\nService delivery fact.",
             staging=("deliveries",), upstream=("mart/dim_service",),
             checks=(SqlCheck("deliveries_have_value", "Każde świadczenie ma wartość (z pliku lub jednostki × cena); "
                              "brak = kod spoza katalogu usług.", "SELECT unit, quarter, source_file, row_number "
                              "FROM mart.fact_delivery WHERE value IS NULL", blocking=False),)),
    SqlTable("mart", "fact_expense",
             "**Wydatki** — dokumenty księgowe (koszty bezpośrednie zadań) w kwartale wniosku, z flagami "
             "cross-financing, środek trwały, usługa zlecona; pochodzenie wiersza.\n\nExpense document fact.",
             staging=("expenses", "budget")),
    SqlTable("mart", "budget_line",
             "**Budżet umowy**: linie zadanie × kategoria kosztów (zadanie 0 = koszty pośrednie).\n\nBudget lines.",
             staging=("budget",)),
    SqlTable("mart", "fact_tranche",
             "**Transze zaliczki** otrzymane przez jednostkę (ogółem, EFS, budżet państwa).\n\nTranche fact.",
             staging=("tranches",)),
    SqlTable("mart", "milestone",
             "**Kamienie milowe** umowy: data planowana, data osiągnięcia, czy w terminie.\n\nMilestones.",
             staging=("milestones",)),
    SqlTable("mart", "indicator_target",
             "**Wartości docelowe wskaźników** z umowy (ogółem, kobiety, mężczyźni).\n\nIndicator targets.",
             staging=("indicator_targets",)),
    SqlTable("mart", "spending_plan",
             "**Harmonogram wydatków**: planowane wydatki kwalifikowalne (bezpośrednie + pośrednie) na kwartał."
             "\n\nSpending plan.", staging=("spending_plan",)),
]


def build_mart(conn: duckdb.DuckDBPyConnection, units=None) -> dict[str, int]:
    """Rebuild every mart table in dependency order, in one transaction (tests, CLI)."""
    return build_tables(conn, MART_TABLES, units)


def build_mart_assets() -> list:
    return [build_sql_asset(table) for table in MART_TABLES]
