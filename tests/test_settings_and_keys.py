"""Issue 12, point 8: the environment wins over settings files, the demo key only in `cus demo`
and the tests, a missing key refuses to start, and one warehouse = one pseudonym key."""

import os
from pathlib import Path

import duckdb
import pytest
from conftest import TEST_KEY
from validation_fixtures import Pipeline, participant, write_participants_xlsx

from core import settings
from core.key_fingerprint import KeyMismatchError, ensure_key_fingerprint, key_fingerprint
from pipelines.tools import cli


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in ("CUS_PSEUDONYM_KEY", "CUS_WAREHOUSE", "CUS_LANDING", "CUS_REPORTS", "CUS_PUBLISHED"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(settings, "ENV_FILE", tmp_path / "no.env")  # a developer's own .env never leaks in
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    return monkeypatch


def test_environment_wins_over_the_settings_files(clean_env, tmp_path):
    user_env = tmp_path / ".env"
    user_env.write_text("CUS_WAREHOUSE=from-dotenv.duckdb\nCUS_REPORTS=dotenv-reports\n", encoding="utf-8")
    clean_env.setattr(settings, "ENV_FILE", user_env)
    clean_env.setenv("CUS_WAREHOUSE", "/srv/cus/other.duckdb")
    settings.apply_defaults()
    assert os.environ["CUS_WAREHOUSE"] == "/srv/cus/other.duckdb"  # environment
    assert os.environ["CUS_LANDING"] == "data/landing"  # config/settings.env default
    assert os.environ["CUS_REPORTS"] == "data/reports"  # settings.env is read first, .env only fills the rest
    assert "CUS_PSEUDONYM_KEY" not in os.environ  # no file carries a key


@pytest.mark.parametrize("command", [["run"], ["ingest", "--unit", "elblag", "--quarter", "2021Q1"], ["ui"]])
def test_commands_that_pseudonymise_refuse_to_start_without_a_key(clean_env, capsys, command):
    assert cli.main(command) == 1
    assert capsys.readouterr().err.strip() == f"Błąd: {settings.MISSING_KEY}"
    assert f"`cus {command[0]} --demo`" in settings.MISSING_KEY  # the command's way to the demo key


def test_the_demo_key_is_refused_outside_the_demo(clean_env, capsys):
    clean_env.setenv("CUS_PSEUDONYM_KEY", settings.DEMO_PSEUDONYM_KEY)
    assert cli.main(["run"]) == 1
    assert capsys.readouterr().err.strip() == (
        "Błąd: CUS_PSEUDONYM_KEY to klucz demonstracyjny — dozwolony tylko w `cus demo` i testach. Ustaw własny, "
        "długi, losowy klucz w zmiennej środowiskowej CUS_PSEUDONYM_KEY.")


def test_ui_starts_dagster_outside_the_project_folder_so_no_dotenv_overrides_the_environment(clean_env, tmp_path):
    calls = []
    clean_env.setenv("CUS_PSEUDONYM_KEY", "a-real-key-from-the-deployment")
    clean_env.setenv("CUS_WAREHOUSE", str(tmp_path / "absent.duckdb"))
    import subprocess

    from pipelines.tools import report_server

    class Started:  # dagster dev as `cus ui` starts it (no real process in the test)
        def __init__(self, argv, cwd, env):
            calls.append((str(cwd), argv))

        def wait(self):
            return 0

    class Server:
        url = "http://127.0.0.1:3001"

        def stop(self):
            pass

    clean_env.setattr(subprocess, "Popen", Started)
    clean_env.setattr(report_server, "start_report_server", lambda root, port: Server())
    clean_env.chdir(tmp_path)
    cli.main(["ui"])
    (cwd, argv), = calls
    assert cwd == str(tmp_path / "home")  # DAGSTER_HOME: no .env there for dagster dev to load over the environment
    assert argv[1:4] == ["dev", "-w", str(Path(cli.__file__).resolve().parents[2] / "workspace.yaml")]
    assert os.environ["CUS_PSEUDONYM_KEY"] == "a-real-key-from-the-deployment"


def test_fingerprint_is_recorded_once_and_another_key_is_refused():
    conn = duckdb.connect()
    ensure_key_fingerprint(conn, b"key-one")
    ensure_key_fingerprint(conn, b"key-one")
    assert conn.execute("SELECT fingerprint FROM raw.pseudonym_key").fetchall() == [(key_fingerprint(b"key-one"),)]
    with pytest.raises(KeyMismatchError) as error:
        ensure_key_fingerprint(conn, b"key-two")
    assert str(error.value).startswith("Hurtownia  została zbudowana z innym kluczem pseudonimizacji (odcisk "
                                       f"{key_fingerprint(b'key-one')[:8]}, bieżący klucz: "
                                       f"{key_fingerprint(b'key-two')[:8]}).")
    assert key_fingerprint(b"key-one") != key_fingerprint(b"key-two") and len(key_fingerprint(b"key-one")) == 32


def test_an_ingest_run_with_another_key_is_refused_and_writes_nothing(tmp_path, resources):
    from core.resources import PseudonymizerResource

    pipe = Pipeline(tmp_path, resources)
    from validation_fixtures import PESEL_A, folder

    path = folder(pipe.landing) / "uczestnicy.xlsx"
    write_participants_xlsx(path, [participant("ELB/0001", PESEL_A)])
    assert pipe.run("participants").success
    before = pipe.sql("SELECT person_key FROM raw.participants")
    pipe.resources = {**resources, "pseudonymizer": PseudonymizerResource(secret=TEST_KEY + "-other")}
    outcome = pipe.run("participants")
    assert not outcome.success
    assert "została zbudowana z innym kluczem pseudonimizacji" in outcome.failure
    assert pipe.sql("SELECT person_key FROM raw.participants") == before


def test_cli_refuses_a_key_other_than_the_warehouses(clean_env, tmp_path, capsys):
    warehouse = tmp_path / "cus.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        ensure_key_fingerprint(conn, b"the-key-it-was-built-with")
    clean_env.setenv("CUS_WAREHOUSE", str(warehouse))
    clean_env.setenv("CUS_PSEUDONYM_KEY", "another-key")
    assert cli.main(["run"]) == 1
    assert "została zbudowana z innym kluczem pseudonimizacji" in capsys.readouterr().err
