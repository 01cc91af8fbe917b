"""Report-table assets: the aggregates the quarterly report prints, per unit × reporting quarter.

Each table is `assets/report/sql/<table>.sql` (CTE style), rebuilt whole in one transaction
from the mart (unpartitioned). Every unit gets a row for every quarter of its project period up
to its last quarter with data: quarters without files show zeros in the quarter and carry the
cumulative figures. The renderer (reports/) reads these tables; names and columns are its
interface (columns may be added, never renamed).
"""

from __future__ import annotations

import duckdb

from assets.mart.sql_tables import REPORT_SQL_DIR, SqlCheck, SqlTable, build_sql_asset, build_tables


def _table(name: str, description: str, upstream: tuple[str, ...], staging: tuple[str, ...] = (),
           checks: tuple[SqlCheck, ...] = ()) -> SqlTable:
    return SqlTable("report", name, description, staging=staging, upstream=upstream, folder=REPORT_SQL_DIR,
                    checks=checks)


def _unique(table: str, columns: str) -> SqlCheck:
    return SqlCheck(f"{table}_unique", f"Jeden wiersz na {columns} (report.{table}).",
                    f"SELECT {columns}, count(*) AS n FROM report.{table} GROUP BY {columns} HAVING count(*) > 1")


SETTLEMENT_CHECKS = (
    SqlCheck("split_adds_up",
             "EFS + budżet państwa = wydatki kwalifikowalne, a EFS = eu_part(kwalifikowalne) (w dół do grosza), "
             "w każdym kwartale narastająco.",
             "SELECT unit, quarter FROM report.settlement WHERE eu_cumulative + national_cumulative <> "
             "eligible_cumulative OR eu_cumulative <> mart.eu_part(eligible_cumulative, eu_rate) "
             "OR eligible_cumulative <> direct_cumulative + indirect_cumulative"),
    SqlCheck("quarters_sum_to_cumulative",
             "Suma wartości kwartalnych (bezpośrednie, pośrednie, kwalifikowalne, EFS, krajowe) = wartość narastająco.",
             "SELECT unit, quarter FROM (SELECT unit, quarter, direct_cumulative, indirect_cumulative, "
             "eligible_cumulative, eu_cumulative, national_cumulative, "
             "sum(direct_quarter) OVER w AS d, sum(indirect_quarter) OVER w AS i, sum(eligible_quarter) OVER w AS e, "
             "sum(eu_quarter) OVER w AS u, sum(national_quarter) OVER w AS n FROM report.settlement "
             "WINDOW w AS (PARTITION BY unit ORDER BY quarter)) WHERE d <> direct_cumulative "
             "OR i <> indirect_cumulative OR e <> eligible_cumulative OR u <> eu_cumulative "
             "OR n <> national_cumulative"),
    _unique("settlement", "unit, quarter"),
)


GRID = "mart/unit_quarter"
REPORT_TABLES: list[SqlTable] = [
    _table("settlement",
           "**Rozliczenie finansowe** jednostki × kwartał: koszty bezpośrednie, pośrednie (stawka ryczałtowa od "
           "narastających kosztów bezpośrednich), wydatki kwalifikowalne, EFS (w dół do grosza) i budżet państwa, "
           "cross-financing i środki trwałe a limity, prognoza wydatków na koniec projektu z ryzykiem.",
           (GRID, "mart/dim_unit", "mart/fact_expense", "mart/budget_line"), checks=SETTLEMENT_CHECKS),
    _table("commissioned",
           "**Usługi zlecone** (PES, NGO, klauzule) jako udział w kosztach bezpośrednich narastająco a próg "
           "jednostki (porównanie na kwotach dokładnych).", ("report/settlement", "mart/dim_unit")),
    _table("advances",
           "**Zaliczki**: transze otrzymane narastająco a wydatki rozliczone; reguła 70% — czy można wnioskować "
           "o kolejną transzę.", ("report/settlement", "mart/fact_tranche", "mart/dim_unit")),
    _table("plan_vs_actual",
           "**Harmonogram a wykonanie**: planowane wydatki kwartału a wydatki kwalifikowalne zadeklarowane w "
           "kwartale (NULL po ostatnim kwartale z danymi).", ("report/settlement", "mart/spending_plan", GRID)),
    _table("finance_by_task",
           "**Wydatki według zadań** a budżet: w kwartale, narastająco, % budżetu (koszty bezpośrednie).",
           (GRID, "mart/budget_line", "mart/fact_expense")),
    _table("finance_by_category",
           "**Wydatki według zadań i kategorii kosztów** a linie budżetu: w kwartale, narastająco, % budżetu.",
           (GRID, "mart/budget_line", "mart/fact_expense")),
    _table("indicators",
           "**Wskaźniki produktu i rezultatu** (schemas/indicators.yaml): w kwartale, narastająco, K/M, wartość "
           "docelowa, % realizacji; osoba liczona raz na jednostkę.",
           (GRID, "mart/indicator_catalogue", "mart/person_count", "mart/milestone", "mart/indicator_target",
            "mart/dim_unit", "report/commissioned"), checks=(_unique("indicators", "unit, quarter, code"),)),
    _table("participant_profile",
           "**Profil uczestników** (wspólne wskaźniki EFS): status na rynku pracy, wiek, wykształcenie, kategorie "
           "wrażliwe, obszary wiejskie — w kwartale i narastająco z podziałem K/M.",
           (GRID, "mart/indicator_catalogue", "mart/person_count"),
           checks=(_unique("participant_profile", "unit, quarter, code"),)),
    _table("services_by_area",
           "**Usługi według 14 obszarów ustawy o CUS**: świadczenia, jednostki, osoby i wartość w kwartale, "
           "wartość narastająco.", (GRID, "mart/fact_delivery", "mart/dim_service")),
    _table("services_by_mode",
           "**Usługi według sposobu realizacji** (samodzielnie, PES, NGO, klauzula społeczna): świadczenia i "
           "wartość w kwartale i narastająco.", (GRID, "mart/fact_delivery", "mart/dim_service")),
    _table("services_by_service",
           "**Usługi według pozycji katalogu**: świadczenia, jednostki, wartość w kwartale i narastająco.",
           (GRID, "mart/fact_delivery", "mart/dim_service")),
    _table("data_quality",
           "**Jakość danych**: wiersze otrzymane, przyjęte, w kwarantannie i ostrzeżenia według zbioru danych "
           "(z walidacji staging).", (), staging=("participants", "deliveries", "expenses", "tranches", "budget",
                                                  "spending_plan", "services", "indicator_targets", "milestones")),
    _table("quarantine_reasons",
           "**Przyczyny kwarantanny**: liczba wierszy odrzuconych (lub z ostrzeżeniem) według komunikatu walidacji.",
           (), staging=("participants", "deliveries", "expenses", "tranches", "budget", "spending_plan", "services",
                        "indicator_targets", "milestones")),
    _table("milestones",
           "**Kamienie milowe** umowy: data planowana, data osiągnięcia, czy w terminie, dni opóźnienia.",
           ("mart/milestone",)),
    _table("flags",
           "**Sygnały ostrzegawcze**: zaliczki poniżej progu, ryzyko prognozy, zlecanie poniżej progu, limity, "
           "opóźnienie względem harmonogramu, wskaźniki zagrożone, kamienie po terminie, kwarantanna "
           "(reguły: assets/report/sql/flags.sql, ustawienia: schemas/flags.yaml).",
           (GRID, "report/settlement", "report/advances", "report/commissioned", "report/plan_vs_actual",
            "report/indicators", "report/data_quality", "mart/milestone", "mart/fact_expense")),
]


def build_reports(conn: duckdb.DuckDBPyConnection, units=None) -> dict[str, int]:
    """Rebuild every report table in dependency order, in one transaction (tests, CLI)."""
    return build_tables(conn, REPORT_TABLES, units)


def build_report_table_assets() -> list:
    return [build_sql_asset(table) for table in REPORT_TABLES]
