"""Polish labels the report prints: the 14 areas of the Act, severities; delivery modes and datasets
as the data contract names them."""

from __future__ import annotations

from core.contract import commissioned_modes, delivery_modes, load_contract

# Art. 2 ust. 1 ustawy z dnia 19 lipca 2019 r. o realizowaniu usług społecznych przez centrum
# usług społecznych (Dz.U. 2019 poz. 1818): the 14 areas of social services.
SERVICE_AREAS: dict[int, str] = {
    1: "polityka prorodzinna",
    2: "wspieranie rodziny",
    3: "system pieczy zastępczej",
    4: "pomoc społeczna",
    5: "promocja i ochrona zdrowia",
    6: "wspieranie osób niepełnosprawnych",
    7: "edukacja publiczna",
    8: "przeciwdziałanie bezrobociu",
    9: "kultura",
    10: "kultura fizyczna i turystyka",
    11: "pobudzanie aktywności obywatelskiej",
    12: "mieszkalnictwo",
    13: "ochrona środowiska",
    14: "reintegracja zawodowa i społeczna",
}

# Modes of delivery and datasets: labels from the data contract (schemas/contract.yaml).
DELIVERY_MODES: dict[str, str] = delivery_modes()
COMMISSIONED_MODES = commissioned_modes()
DATASETS: dict[str, str] = {d.name: f"{d.label} ({d.landing_path})" for d in load_contract().values()}

SEVERITIES: dict[str, str] = {
    "error": "błąd",
    "high": "wysokie",
    "warning": "ostrzeżenie",
    "medium": "średnie",
    "info": "informacja",
    "low": "niskie",
}

AGE_GROUPS = ("poniżej 25 lat", "25–54 lata", "powyżej 54 lat")


def area_label(area) -> str:
    try:
        number = int(area)
    except (TypeError, ValueError):
        return "obszar nieokreślony"
    name = SERVICE_AREAS.get(number)
    return f"{number}. {name}" if name else f"{number}. obszar spoza ustawy"


def mode_label(mode) -> str:
    return DELIVERY_MODES.get(str(mode), str(mode) if mode else "nieokreślony")


def dataset_label(name) -> str:
    return DATASETS.get(str(name), str(name))


def severity_label(severity) -> str:
    return SEVERITIES.get(str(severity).lower(), str(severity))


# What a validation rule's severity did to the row (staging.quarantine.severity).
ROW_OUTCOMES: dict[str, str] = {
    "error": "błąd — wiersz odrzucony",
    "warning": "ostrzeżenie — wiersz przyjęty",
}


def row_outcome_label(severity) -> str:
    return ROW_OUTCOMES.get(str(severity).lower(), str(severity))


# Status of a milestone as of the reporting quarter's end (computed by reports/readers.py).
MILESTONE_STATUS: dict[str, str] = {
    "on_time": "osiągnięty w terminie",
    "late": "osiągnięty z opóźnieniem",
    "overdue": "nieosiągnięty — po terminie",
    "planned": "planowany",
}
