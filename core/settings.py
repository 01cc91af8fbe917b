"""Process settings for the CLI and scripts: defaults from config/settings.env, the project DAGSTER_HOME,
and the pseudonym key rules (docs/settlement.md, "Ustawienia i klucz pseudonimizacji").

Called at the start of a command (never at import time). The environment always wins: a variable
already set is never replaced by a file's value — neither by config/settings.env nor by a `.env`
the user keeps in the project folder (read the same way, for compatibility).
"""

from __future__ import annotations

import os

from core.paths import PROJECT_ROOT

SETTINGS_FILE = PROJECT_ROOT / "config" / "settings.env"
ENV_FILE = PROJECT_ROOT / ".env"
DAGSTER_HOME = PROJECT_ROOT / ".dagster_home"
KEY_VARIABLE = "CUS_PSEUDONYM_KEY"
# The demo key: only `cus demo` (sample data), `--demo` of run/ingest/ui on its warehouse and the tests use it;
# never read from a file.
DEMO_PSEUDONYM_KEY = "demo-key-sample-data-only"


class SettingsError(Exception):
    """A missing or wrong setting: the command refuses to start (Polish message)."""


MISSING_KEY = (
    "Brak klucza pseudonimizacji: ustaw zmienną środowiskową CUS_PSEUDONYM_KEY (długi, losowy sekret, np. "
    "`export CUS_PSEUDONYM_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')`, przechowywany poza "
    "repozytorium). Klucz demonstracyjny służy tylko do danych przykładowych: `cus demo`, a na hurtowni zbudowanej "
    "przez `cus demo` także `cus run --demo`, `cus ingest --demo` i `cus ui --demo` (`make demo-ui`). "
    "Bez klucza nie wczytuję danych — numery PESEL nie mogłyby zostać zastąpione pseudonimami."
)


def read_env_file(path=ENV_FILE) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            values[name.strip()] = value.strip()
    return values


def apply_defaults() -> None:
    """Fill variables the environment does not set: config/settings.env, then a user's `.env`."""
    for path in (SETTINGS_FILE, ENV_FILE):
        for name, value in read_env_file(path).items():
            os.environ.setdefault(name, value)
    os.environ.setdefault("DAGSTER_HOME", str(DAGSTER_HOME))
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


def use_demo_key() -> bool:
    """`cus demo`: the demo key unless the environment sets one. True when the demo key is used."""
    os.environ.setdefault(KEY_VARIABLE, DEMO_PSEUDONYM_KEY)
    return os.environ[KEY_VARIABLE] == DEMO_PSEUDONYM_KEY


def require_pseudonym_key(allow_demo: bool = False) -> str:
    """The key from the environment; refuses (SettingsError) when it is missing or, outside the demo,
    when it is the demo key."""
    key = os.environ.get(KEY_VARIABLE, "").strip()
    if not key:
        raise SettingsError(MISSING_KEY)
    if key == DEMO_PSEUDONYM_KEY and not allow_demo:
        raise SettingsError("CUS_PSEUDONYM_KEY to klucz demonstracyjny — dozwolony tylko w `cus demo` i testach. "
                            "Ustaw własny, długi, losowy klucz w zmiennej środowiskowej CUS_PSEUDONYM_KEY.")
    return key
