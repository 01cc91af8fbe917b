"""Every validation rule seen failing (issue 14, item 1): one table of (dataset, rows, expected outcome).

Each case is a small raw partition of Elbląg, quarter 2021Q3, validated on 05.10.2021 (so the
latest allowed date is the end of the quarter, 30.09.2021): row 2 is valid, the rows after it
break one rule. The expected quarantine rows (row, column, rule, severity, Polish message) and
the accepted rows are written by hand from the rule files in schemas/validation/ and the
contract rules of assets/staging/rules.py. `test_every_rule_has_a_failing_case` makes a new rule
without a case here fail the suite.

The settlement rules (docs/settlement.md) have their cases here too: "W tym VAT" inside the
eligible amount, negative amounts only on corrections, a correction of one sign, task and cost
category from the budget (errors), indicator codes from the catalogue, codes naming the allowed values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import polars as pl
import pytest
from validation_fixtures import PESEL_A, PESEL_B, PESEL_CHILD

from assets.staging.rules import rules_for
from assets.staging.validate import validate_partition
from assets.values import parse_date
from core.contract import dataset, load_contract
from core.pesel import pseudonymize
from core.registry import unit_by_key

ELBLAG = unit_by_key("elblag")
QUARTER = "2021Q3"
TODAY = date(2021, 10, 5)
KEY = b"rule-failures-test-key"


GOOD = {
    "participants": {"participant_id": "ELB/1", "pesel": PESEL_A, "sex": "Kobieta", "age_at_entry": "41",
                     "start_date": "05.07.2021"},
    "deliveries": {"participant_id": "ELB/1", "service_code": "OPK", "delivery_date": "12.08.2021", "units": "2",
                   "value": "100,00"},
    "expenses": {"document_no": "FV/1/2021", "issuer_nip": "526-000-12-46", "issue_date": "02.08.2021",
                 "task_no": "1", "cost_category": "3.1", "item_name": "Usługa opiekuńcza", "gross_amount": "1 230,00",
                 "net_amount": "1 000,00", "eligible_amount": "1 230,00", "vat_amount": "230,00"},
    # 249 998,50 × 84,28% = 210 698,7358 -> 210 698,73 (down); the rest 39 299,77
    "tranches": {"tranche_no": "1", "received_date": "15.07.2021", "amount_total": "249 998,50",
                 "amount_eu": "210 698,73", "amount_state": "39 299,77"},
    "budget": {"task_no": "1", "task_name": "Utworzenie CUS", "cost_category": "1.1", "category_name": "Wynagrodzenia",
               "amount": "2 499 985,00"},
    "spending_plan": {"plan_quarter": "2021Q3", "planned_amount": "2 499 985,00"},
    "services": {"service_code": "OPK", "service_name": "Usługi opiekuńcze", "area": "4",
                 "delivery_mode": "samodzielnie", "unit_of_measure": "godzina", "unit_price": "50,00"},
    "indicator_targets": {"indicator_code": "PROD_CUS", "target_total": "1"},
    "milestones": {"milestone_code": "KM1", "milestone_name": "Diagnoza", "planned_date": "31.03.2021",
                   "achieved_date": "20.03.2021"},
    "narrative": {"part": "Postęp rzeczowy", "task_no": "1", "narrative_text": "Diagnoza zakończona."},
}
REFERENCES = {
    "deliveries": {"known_participants": ["ELB/1"], "service_catalogue": ["OPK"]},
    "expenses": {"documents_other_quarters": ["FV/7/2021"], "budget_tasks": [1],
                 "budget_lines": ["1/3.1", "1/3.2"]},
    "tranches": {"tranches_other_quarters": [7]},
    "narrative": {"budget_tasks": [1]},
}
AGREEMENT = {"budget", "spending_plan", "services", "indicator_targets", "milestones"}  # quarter NULL
FORMULA = ("wartość zaczyna się od znaku formuły arkusza (=, +, @, -). Zapisano ją jako tekst; usuń ten znak, "
           "jeśli to nie jest zamierzone.")
DUPLICATE = "Wiersz jest dokładnym powtórzeniem wcześniejszego wiersza pliku (przyjęto pierwszy). Usuń powtórzenie."


@dataclass
class Case:
    dataset: str
    bad: list[dict]  # overrides of GOOD[dataset], rows 3, 4, ...
    expected: list[tuple]  # (row, column, rule, severity, message) — the whole quarantine, sorted
    accepted: list[int]  # row numbers accepted into staging
    refused: bool = False
    extra: dict = field(default_factory=dict)  # raw columns set by the reading step (read_error, pesel_found_in)

    @property
    def id(self) -> str:
        return f"{self.dataset}-{'+'.join(sorted({e[2] for e in self.expected}))}"


CASES = [
    # ---------------------------------------------------------------- participants
    Case("participants", [{"participant_id": None, "pesel": PESEL_B, "sex": "M", "age_at_entry": "46"}],
         [(3, "participant_id", "required", "error",
           "Kolumna „Identyfikator uczestnika” jest wymagana, a w tym wierszu jest pusta. Uzupełnij wartość.")], [2]),
    Case("participants", [{"participant_id": "ELB/2", "pesel": PESEL_B, "sex": "M", "age_at_entry": "46",
                           "start_date": "31.02.2021"}],
         [(3, "start_date", "type", "error",
           "Kolumna „Data rozpoczęcia udziału w projekcie”: nieprawidłowa data (oczekiwano RRRR-MM-DD lub DD.MM.RRRR); "
           "otrzymano „31.02.2021”. Popraw wartość w pliku.")], [2]),
    Case("participants", [{"participant_id": "ELB/2", "pesel": None, "no_pesel": "Tak", "sex": "M",
                           "age_at_entry": "130"}],
         [(3, "age_at_entry", "range", "error",
           "Kolumna „Wiek w chwili przystąpienia do projektu”: wartość „130” spoza dozwolonego zakresu "
           "(dozwolone od 0 do 120). Popraw wartość.")], [2]),
    # an unquoted separator shifted the row (the reading step recorded it): only the reading rule is reported
    Case("participants", [{"participant_id": "ELB/2", "pesel": PESEL_B, "sex": "M", "age_at_entry": "46"}],
         [(3, None, "extra_fields", "error",
           "Wiersz ma inną liczbę kolumn niż nagłówek (28 pól zamiast 27) — sprawdź, czy tekst nie zawiera "
           "separatora (średnika lub przecinka; ujmij tekst w cudzysłów albo usuń separator) i czy w wierszu nie "
           "brakuje komórki (w pliku uczestników także pustych komórek na końcu wiersza, które niektóre programy "
           "pomijają — zapisz plik ze wzoru z `cus templates`). Wartości w wierszu mogą być przesunięte, więc "
           "wiersz nie został przyjęty.")],
         [2], extra={"read_error": [None, "28 pól zamiast 27"]}),
    Case("participants", [{"participant_id": "ELB/2", "pesel": PESEL_B, "sex": "M", "age_at_entry": "46",
                           "locality": "[PESEL usunięty]"}],
         [(3, "locality", "pesel_outside_pesel_column", "warning",
           "Kolumna „Miejscowość” zawierała numer PESEL — nie zapisano go (w identyfikatorze uczestnika zastąpiono go "
           "pseudonimem). Jako identyfikator uczestnika używaj własnego numeru (np. ELB/2021/0001), a numer PESEL "
           "wpisuj tylko w kolumnie „PESEL” pliku uczestników, nigdy w innych kolumnach.")],
         [2, 3], extra={"pesel_found_in": [None, "locality"]}),
    Case("participants", [{"pesel": PESEL_B, "sex": "M", "age_at_entry": "46"}],
         [(r, "participant_id", "unique_key", "error",
           "W pliku jest więcej niż jeden wiersz o tym samym kluczu (Identyfikator uczestnika) i różnej treści. "
           "Zostaw jeden właściwy wiersz.") for r in (2, 3)], []),
    Case("participants", [{}], [(3, "participant_id", "duplicate_row", "error", DUPLICATE)], [2]),
    Case("participants", [{"participant_id": "ELB/2", "pesel": PESEL_B[:10] + str((int(PESEL_B[10]) + 1) % 10),
                           "sex": "M", "age_at_entry": None}],
         [(3, "pesel", "pesel_checksum", "error",
           "Numer PESEL ma błędną cyfrę kontrolną. Sprawdź numer w dokumencie uczestnika i popraw go.")], [2]),
    Case("participants", [{"participant_id": "ELB/2", "pesel": PESEL_B[:10], "sex": "M", "age_at_entry": None}],
         [(3, "pesel", "pesel_length", "error",
           "PESEL ma nieprawidłową liczbę cyfr (wymagane 11; nie jest to też numer z utraconym zerem wiodącym). "
           "Wpisz pełny 11-cyfrowy numer, a kolumnę PESEL sformatuj jako tekst.")], [2]),
    Case("participants", [{"participant_id": "ELB/2", "pesel": PESEL_B[:6] + "-" + PESEL_B[6:], "sex": "M",
                           "age_at_entry": None}],
         [(3, "pesel", "pesel_format", "error",
           "PESEL zawiera znaki inne niż cyfry. Wpisz sam 11-cyfrowy numer (bez spacji, liter i innych znaków).")], [2]),
    Case("participants", [{"participant_id": "ELB/2", "pesel": None, "no_pesel": "Nie", "sex": "M",
                           "age_at_entry": None}],
         [(3, "pesel", "pesel_missing", "error",
           "Brak numeru PESEL, a w kolumnie „Brak PESEL” nie wpisano „Tak”. Wpisz PESEL albo — jeśli osoba go nie ma "
           "— wpisz „Tak” w kolumnie „Brak PESEL”.")], [2]),
    # born 14.03.2005: a spreadsheet kept the number 5231404... without its 0; restored, the row kept
    Case("participants", [{"participant_id": "ELB/2", "pesel": PESEL_CHILD[1:], "age_at_entry": "16"}],
         [(3, "pesel", "pesel_leading_zero", "warning",
           "PESEL zapisano jako liczbę i utracił zero wiodące — odtworzono go automatycznie. W kolejnych plikach "
           "sformatuj kolumnę PESEL jako tekst.")], [2, 3]),
    Case("participants", [{"participant_id": "ELB/2", "pesel": PESEL_B, "sex": "Kobieta", "age_at_entry": "46"}],
         [(3, "sex", "sex_matches_pesel", "error",
           "Płeć w kolumnie „Płeć” jest niezgodna z numerem PESEL. Sprawdź płeć i numer PESEL uczestnika i popraw "
           "błędną wartość.")], [2]),
    # PESEL_B: born 03.02.1975, started 05.07.2021 -> 46 years; 45 declared: a warning, the row kept
    Case("participants", [{"participant_id": "ELB/2", "pesel": PESEL_B, "sex": "M", "age_at_entry": "45"}],
         [(3, "age_at_entry", "age_matches_pesel", "warning",
           "Wiek w chwili przystąpienia do projektu nie zgadza się z datą urodzenia z numeru PESEL (liczoną na dzień "
           "rozpoczęcia udziału). Sprawdź wiek, PESEL i datę rozpoczęcia.")], [2, 3]),
    Case("participants", [{"participant_id": "ELB/2", "pesel": PESEL_B, "sex": "M", "age_at_entry": "46",
                           "end_date": "04.07.2021"}],
         [(3, "end_date", "end_after_start", "error",
           "Data zakończenia udziału jest wcześniejsza niż data rozpoczęcia udziału. Popraw jedną z dat.")], [2]),
    Case("participants", [{"participant_id": "ELB/2", "pesel": PESEL_B, "sex": "M", "age_at_entry": "45",
                           "start_date": "31.12.2020"}],
         [(3, "start_date", "date_in_period", "error",
           "Kolumna „Data rozpoczęcia udziału w projekcie”: data poza okresem realizacji projektu "
           "(01.01.2021–31.07.2023). Popraw datę.")], [2]),
    Case("participants", [{"participant_id": "ELB/2", "pesel": PESEL_B, "sex": "M", "age_at_entry": "46",
                           "start_date": "01.10.2021"}],
         [(3, "start_date", "date_not_after_quarter", "error",
           "Kolumna „Data rozpoczęcia udziału w projekcie”: data późniejsza niż koniec kwartału sprawozdawczego 2021Q3 "
           "(30.09.2021). Wykaż tę osobę w pliku za właściwy kwartał albo popraw datę.")], [2]),
    Case("participants", [{"participant_id": "ELB/2", "pesel": PESEL_B, "sex": "M", "age_at_entry": "46",
                           "locality": "=HYPERLINK(\"http://x\")"}],
         [(3, "locality", "formula_text", "warning", f"Kolumna „Miejscowość”: {FORMULA}")], [2, 3]),
    Case("participants", [{"participant_id": "ELB/2", "pesel": PESEL_B, "sex": "Inna", "age_at_entry": "46"}],
         [(3, "sex", "allowed_values", "error",
           "Kolumna „Płeć”: niedozwolona wartość; dozwolone: Kobieta, Mężczyzna; otrzymano „Inna”. "
           "Popraw wartość w pliku.")], [2]),
    # ---------------------------------------------------------------- deliveries
    Case("deliveries", [{"service_code": "FIZ"}],
         [(3, "service_code", "service_in_catalogue", "error",
           "Kodu usługi „FIZ” nie ma w katalogu usług jednostki (umowa/uslugi.csv). Dozwolone kody: OPK. Popraw kod "
           "albo dopisz usługę do katalogu i wczytaj katalog ponownie.")], [2]),
    Case("deliveries", [{"participant_id": "ELB/9"}],
         [(3, "participant_id", "participant_exists", "error",
           "Uczestnik o tym identyfikatorze nie występuje w przyjętych danych uczestników jednostki (do kwartału "
           "2021Q3 włącznie). Dodaj go do pliku uczestników albo popraw identyfikator; jeśli jego wiersz w pliku "
           "uczestników został odrzucony, popraw najpierw ten plik.")], [2]),
    # two equal sessions on one day are possible: a warning, both rows kept
    Case("deliveries", [{}],
         [(3, "service_code", "duplicate_row", "warning",
           "Wiersz jest dokładnym powtórzeniem wcześniejszego wiersza pliku. Jeśli to ta sama usługa wpisana dwa razy, "
           "usuń powtórzenie; jeśli to dwie realizacje, zsumuj liczbę jednostek w jednym wierszu.")], [2, 3]),
    Case("deliveries", [{"delivery_date": "30.06.2021"}],
         [(3, "delivery_date", "date_before_quarter", "warning",
           "Kolumna „Data realizacji”: data wcześniejsza niż początek kwartału sprawozdawczego 2021Q3 (01.07.2021). "
           "Sprawdź, czy świadczenie nie zostało już wykazane w poprzednim kwartale.")], [2, 3]),
    Case("deliveries", [{"delivery_date": "31.12.2020"}],
         [(3, "delivery_date", "date_before_quarter", "warning",
           "Kolumna „Data realizacji”: data wcześniejsza niż początek kwartału sprawozdawczego 2021Q3 (01.07.2021). "
           "Sprawdź, czy świadczenie nie zostało już wykazane w poprzednim kwartale."),
          (3, "delivery_date", "date_in_period", "error",
           "Kolumna „Data realizacji”: data poza okresem realizacji projektu (01.01.2021–31.07.2023). Popraw datę.")],
         [2]),
    Case("deliveries", [{"delivery_date": "01.10.2021"}],
         [(3, "delivery_date", "date_not_after_quarter", "error",
           "Kolumna „Data realizacji”: data późniejsza niż koniec kwartału sprawozdawczego 2021Q3 (30.09.2021). "
           "Wykaż świadczenie w pliku za właściwy kwartał albo popraw datę.")], [2]),
    Case("deliveries", [{"ipus_no": "@SUMA(A1)"}],
         [(3, "ipus_no", "formula_text", "warning", f"Kolumna „Numer IPUS”: {FORMULA}")], [2, 3]),
    Case("deliveries", [{"value": "-5,00"}],
         [(3, "value", "range", "error",
           "Kolumna „Wartość”: wartość „-5,00” spoza dozwolonego zakresu (dozwolone ≥ 0). Popraw wartość.")], [2]),
    # ---------------------------------------------------------------- expenses
    Case("expenses", [{"document_no": "FV/2/2021", "gross_amount": "1 000,00", "net_amount": "1 230,00",
                       "eligible_amount": "1 000,00", "vat_amount": None}],
         [(3, "net_amount", "net_le_gross", "error",
           "Kwota netto jest większa niż kwota brutto dokumentu. Sprawdź, czy kwoty nie zostały zamienione kolumnami.")],
         [2]),
    Case("expenses", [{"document_no": "FV/2/2021", "eligible_amount": "1 230,01"}],
         [(3, "eligible_amount", "eligible_le_gross", "error",
           "Kwota wydatków kwalifikowalnych jest większa niż kwota dokumentu brutto. Popraw kwotę kwalifikowalną "
           "(najwyżej kwota brutto).")], [2]),
    Case("expenses", [{"document_no": "FV/7/2021"}],
         [(3, "document_no", "document_unique_in_unit", "error",
           "Dokument o tym numerze został już przyjęty w innym kwartale tej jednostki. Nie wykazuj go ponownie; jeśli "
           "to korekta, prześlij poprawiony plik za kwartał, w którym dokument rozliczono.")], [2]),
    Case("expenses", [{}], [(3, "document_no", "duplicate_row", "error", DUPLICATE)], [2]),
    Case("expenses", [{"item_name": "Inna pozycja"}],
         [(r, "document_no", "unique_key", "error",
           "W pliku jest więcej niż jeden wiersz o tym samym kluczu (Nr dokumentu) i różnej treści. "
           "Zostaw jeden właściwy wiersz.") for r in (2, 3)], []),
    Case("expenses", [{"document_no": "FV/2/2021", "payment_date": "31.07.2023", "issue_date": "31.12.2020"}],
         [(3, "issue_date", "date_in_period", "error",
           "Kolumna „Data wystawienia”: data poza okresem realizacji projektu (01.01.2021–31.07.2023); wydatek nie "
           "jest kwalifikowalny. Popraw datę albo usuń dokument z zestawienia."),
          (3, "payment_date", "date_not_after_quarter", "error",
           "Kolumna „Data zapłaty”: data późniejsza niż koniec kwartału sprawozdawczego 2021Q3 (30.09.2021). Wykaż "
           "dokument we wniosku za właściwy kwartał albo popraw datę.")], [2]),
    Case("expenses", [{"document_no": "FV/2/2021", "issuer_nip": "526-000-12-47"}],
         [(3, "issuer_nip", "nip_checksum", "error",
           "Kolumna „NIP wystawcy”: nieprawidłowy NIP (błędna suma kontrolna lub format); otrzymano "
           "„526-000-12-47”. Popraw wartość w pliku.")], [2]),
    Case("expenses", [{"document_no": "FV/2/2021", "cross_financing": "Może"}],
         [(3, "cross_financing", "allowed_values", "error",
           "Kolumna „Cross-financing (T/N)”: niedozwolona wartość; dozwolone: T, N; otrzymano „Może”. "
           "Popraw wartość w pliku.")], [2]),
    # "W tym VAT" is the VAT inside the eligible amount: at most min(gross − net, eligible) = min(230,00; 100,00)
    # (the old rule VAT = gross − net would pass this row)
    Case("expenses", [{"document_no": "FV/2/2021", "eligible_amount": "100,00"}],
         [(3, "vat_amount", "vat_consistent", "error",
           "„W tym VAT” to VAT wliczony w kwotę wydatków kwalifikowalnych: od 0 do 100,00 (najwyżej brutto − netto i "
           "najwyżej kwota kwalifikowalna). Popraw VAT; jeśli VAT jest odzyskiwany, wpisz 0, a jako kwotę "
           "kwalifikowalną kwotę netto.")], [2]),
    # one document above the whole project's value (Elbląg: 2 499 985,00): a typo, not a cost
    Case("expenses", [{"document_no": "FV/2/2021", "gross_amount": "123 000 000,00", "net_amount": "100 000 000,00",
                       "eligible_amount": "123 000 000,00", "vat_amount": "23 000 000,00"}],
         [(3, "eligible_amount", "eligible_within_project_value", "error",
           "Kwota wydatków kwalifikowalnych jednego dokumentu przekracza wartość całego projektu (2499985,00) — to "
           "najpewniej pomyłka w kwocie (dopisane cyfry albo zgubiony separator dziesiętny). Popraw kwotę.")], [2]),
    # VAT inside the eligible amount left undeclared ("W tym VAT" 0 while eligible = gross ≠ net)
    Case("expenses", [{"document_no": "FV/2/2021", "vat_amount": "0,00"}],
         [(3, "eligible_amount", "vat_declared_in_eligible", "error",
           "Kwota wydatków kwalifikowalnych jest większa niż kwota netto powiększona o „W tym VAT” (najwyżej "
           "1000,00): VAT zawarty w kwocie kwalifikowalnej trzeba wykazać w „W tym VAT”. Jeśli VAT jest "
           "odzyskiwany, kwotą kwalifikowalną jest najwyżej kwota netto; jeśli nie — wpisz w „W tym VAT” zawarty "
           "w niej VAT.")], [2]),
    # a negative amount on a document not marked as a correction
    Case("expenses", [{"document_no": "FV/2/2021", "eligible_amount": "-100,00"}],
         [(3, "correction", "negative_only_on_correction", "error",
           "Dokument ma kwotę ujemną („Kwota wydatków kwalifikowalnych” -100,00), a nie jest oznaczony jako faktura "
           "korygująca. Jeśli to korekta, wpisz T w kolumnie „Faktura korygująca (T/N)”; jeśli nie, popraw kwotę "
           "(kwoty zwykłego dokumentu nie mogą być ujemne).")], [2]),
    # a correction with gross and net below zero but eligible and VAT above: mixed signs
    Case("expenses", [{"document_no": "FV/2/2021/K", "correction": "T", "gross_amount": "-1 230,00",
                       "net_amount": "-1 000,00"}],
         [(3, "gross_amount", "correction_one_sign", "error",
           "Faktura korygująca ma kwoty ujemne i dodatnie jednocześnie (dodatnie: „Kwota wydatków kwalifikowalnych” "
           "1230,00; „W tym VAT” 230,00). Korekta zmniejszająca ma wszystkie kwoty ze znakiem minus, zwiększająca — "
           "wszystkie dodatnie. Popraw znaki kwot.")], [2]),
    # a whole correction below zero is accepted (sizes compared as on an invoice)
    Case("expenses", [{"document_no": "FV/2/2021/K", "correction": "T", "gross_amount": "-1 230,00",
                       "net_amount": "-1 000,00", "eligible_amount": "-1 230,00", "vat_amount": "-230,00",
                       "task_no": "2"}],
         [(3, "task_no", "task_in_budget", "error",
           "Zadania o numerze „2” nie ma w budżecie projektu (umowa/budzet.csv). Dozwolone numery zadań: 1. "
           "Popraw numer zadania.")], [2]),
    Case("expenses", [{"document_no": "FV/2/2021", "cost_category": "3.9"}],
         [(3, "cost_category", "category_in_budget", "error",
           "Kategorii kosztów „3.9” nie ma w budżecie tego zadania (umowa/budzet.csv). Dozwolone kategorie zadania: "
           "3.1, 3.2. Popraw kategorię albo numer zadania.")], [2]),
    Case("expenses", [{"document_no": "-FV(2)"}],
         [(3, "document_no", "formula_text", "warning", f"Kolumna „Nr dokumentu”: {FORMULA}")], [2, 3]),
    # ---------------------------------------------------------------- tranches
    Case("tranches", [{"tranche_no": "7", "received_date": "20.09.2021"}],
         [(3, "tranche_no", "tranche_unique_in_unit", "error",
           "Transza o tym numerze została już wykazana w innym kwartale tej jednostki. Usuń ją z pliku albo popraw "
           "numer transzy.")], [2]),
    # 100 000,00: EU 84 280,00 is right, but 84 280,00 + 15 719,00 = 99 999,00 ≠ the total
    Case("tranches", [{"tranche_no": "2", "amount_total": "100 000,00", "amount_eu": "84 280,00",
                       "amount_state": "15 719,00"}],
         [(3, "amount_total", "tranche_sum", "error",
           "Suma kolumn „W tym EFS” i „W tym budżet państwa” (99999,00) nie jest równa kwocie ogółem transzy. "
           "Popraw kwoty.")], [2]),
    # 100 000,00 × 84,28% = 84 280,00; 84 280,01 + 15 719,99 sums right but the split is wrong
    Case("tranches", [{"tranche_no": "2", "amount_total": "100 000,00", "amount_eu": "84 280,01",
                       "amount_state": "15 719,99"}],
         [(3, "amount_eu", "tranche_eu_share", "error",
           "Część EFS powinna wynosić 84280,00 (84,28% kwoty ogółem, zaokrąglone w dół do grosza), a budżet państwa — "
           "resztę. Popraw podział transzy.")], [2]),
    Case("tranches", [{"tranche_no": "2", "received_date": "01.10.2021"}],
         [(3, "received_date", "date_not_after_quarter", "error",
           "Kolumna „Data wpływu”: data późniejsza niż koniec kwartału sprawozdawczego 2021Q3 (30.09.2021). Wykaż "
           "transzę w pliku za właściwy kwartał albo popraw datę.")], [2]),
    Case("tranches", [{"tranche_no": "0"}],
         [(3, "tranche_no", "range", "error",
           "Kolumna „Nr transzy”: wartość „0” spoza dozwolonego zakresu (dozwolone ≥ 1). Popraw wartość.")], [2]),
    Case("tranches", [{}], [(3, "tranche_no", "duplicate_row", "error", DUPLICATE)], [2]),
    # ---------------------------------------------------------------- agreement files (quarter NULL)
    # budget lines must sum to 2 499 985,00: one grosz more refuses the whole file (blocking)
    Case("budget", [{"task_no": "0", "task_name": "Koszty pośrednie", "cost_category": "0",
                     "category_name": "Koszty pośrednie", "amount": "0,01"}],
         [(None, "amount", "budget_total", "error",
           "Suma kwot budżetu (2 499 985,01 zł) nie jest równa wartości projektu z umowy (2 499 985,00 zł); różnica "
           "0,01 zł. Popraw kwoty w pliku budzet.csv. Do czasu poprawy obowiązuje dotychczasowy budżet.")],
         [], refused=True),
    Case("budget", [{"cost_category": "1.2", "category_name": "+Koordynacja", "amount": "0,00"}],
         [(3, "category_name", "formula_text", "warning", f"Kolumna „Nazwa kategorii”: {FORMULA}")], [2, 3]),
    Case("budget", [{}], [(3, "task_no", "duplicate_row", "error", DUPLICATE)], [2]),
    # the plan sums to 2 499 985,00 − 0,01: a warning about the whole file, every row kept
    Case("spending_plan", [{"plan_quarter": "2021Q4", "planned_amount": "-0,01"}],
         [(3, "planned_amount", "range", "error",
           "Kolumna „Planowane wydatki”: wartość „-0,01” spoza dozwolonego zakresu (dozwolone ≥ 0). "
           "Popraw wartość.")], [2]),
    Case("spending_plan", [{"plan_quarter": "2021Q4", "planned_amount": "0,01"}],
         [(None, "planned_amount", "plan_total", "warning",
           "Suma planowanych wydatków (2 499 985,01 zł) nie jest równa wartości projektu z umowy (2 499 985,00 zł); "
           "różnica 0,01 zł. Sprawdź harmonogram.")], [2, 3]),
    Case("spending_plan", [{}], [(3, "plan_quarter", "duplicate_row", "error", DUPLICATE)], [2]),
    Case("services", [{}], [(3, "service_code", "duplicate_row", "error", DUPLICATE)], [2]),
    Case("services", [{"service_code": "FIZ", "service_name": "=1+1"}],
         [(3, "service_name", "formula_text", "warning", f"Kolumna „Nazwa usługi”: {FORMULA}")], [2, 3]),
    Case("indicator_targets", [{}], [(3, "indicator_code", "duplicate_row", "error", DUPLICATE)], [2]),
    # the codes of schemas/indicators.yaml whose target comes from the agreement file (`target: file`)
    Case("indicator_targets", [{"indicator_code": "PROD_XYZ"}],
         [(3, "indicator_code", "indicator_in_catalogue", "error",
           "Kodu wskaźnika „PROD_XYZ” nie ma w katalogu wskaźników (schemas/indicators.yaml), więc jego wartość "
           "docelowa nie byłaby pokazana. Dozwolone kody: PROD_OSOBY_USLUGI, PROD_OSOBY_ZAGROZONE, PROD_OSOBY_IPUS, "
           "PROD_CUS, PROD_KAMIENIE, REZ_SCIEZKA. Popraw kod.")], [2]),
    Case("milestones", [{}], [(3, "milestone_code", "duplicate_row", "error", DUPLICATE)], [2]),
    # validated on 05.10.2021: an achievement dated 06.10.2021 is in the future
    Case("milestones", [{"milestone_code": "KM2", "milestone_name": "Program", "planned_date": "30.06.2021",
                         "achieved_date": "06.10.2021"}],
         [(3, "achieved_date", "achieved_not_future", "error",
           "Kolumna „Data osiągnięcia”: data z przyszłości (później niż 05.10.2021). Wpisz datę osiągnięcia dopiero "
           "po osiągnięciu kamienia milowego.")], [2]),
    # ---------------------------------------------------------------- narrative (opis_postepu, issue 13)
    Case("narrative", [{}], [(3, "narrative_text", "duplicate_row", "warning",
                              "Wiersz jest dokładnym powtórzeniem wcześniejszego wiersza pliku — w raporcie tekst "
                              "pojawi się dwa razy. Usuń powtórzenie.")], [2, 3]),
    Case("narrative", [{"task_no": "7", "narrative_text": "Zadanie spoza budżetu."}],
         [(3, "task_no", "task_in_budget", "warning", "Zadania o tym numerze nie ma w budżecie projektu "
           "(umowa/budzet.csv). Sprawdź numer zadania albo zostaw kolumnę pustą.")], [2, 3]),
    Case("narrative", [{"part": "Zatwierdził(a)", "task_no": None, "narrative_text": "Dyrektor CUS",
                        "signed_on": "30.06.2021"}],
         [(3, "signed_on", "date_not_before_quarter", "error", "Kolumna „Data”: data sprzed kwartału "
           "sprawozdawczego (01.07.2021). Wpisz datę sporządzenia lub zatwierdzenia opisu.")], [2]),
    # validated on 05.10.2021: a sign-off dated 06.10.2021 is in the future
    Case("narrative", [{"part": "Sporządził(a)", "task_no": None, "narrative_text": "Koordynator",
                        "signed_on": "06.10.2021"}],
         [(3, "signed_on", "date_not_future", "error", "Kolumna „Data”: data z przyszłości (później niż "
           "05.10.2021). Wpisz datę, w której opis sporządzono lub zatwierdzono.")], [2]),
    Case("narrative", [{"part": "Problemy", "task_no": None, "narrative_text": "=HYPERLINK(1)"}],
         [(3, "narrative_text", "formula_text", "warning", "Kolumna „Treść”: tekst zaczyna się od znaku formuły "
           "arkusza (=, +, @, -). Zapisano go jako tekst; usuń ten znak, jeśli to nie jest zamierzone.")], [2, 3]),
]


def raw_partition(name: str, rows: list[dict], extra: dict) -> pl.DataFrame:
    """A raw partition as the raw layer stores it: text cells, lineage, and for participants the
    PESEL replaced by what the reading step derives from it (assets/raw/ingest.py)."""
    ds = dataset(name)
    quarter = None if name in AGREEMENT else QUARTER
    columns = [c.name for c in ds.stored_columns if c.pii is None]
    frame = pl.DataFrame({c: [r.get(c) for r in rows] for c in columns}, schema={c: pl.Utf8 for c in columns})
    if name == "participants":
        starts = frame.select(parse_date(pl.col("start_date"))).to_series()  # as assets/raw/ingest.py does
        pesels = pl.Series([r.get("pesel") for r in rows], dtype=pl.Utf8)
        frame = pl.concat([frame, pseudonymize(pesels, starts, KEY)], how="horizontal")
    for column, values in extra.items():
        frame = frame.with_columns(pl.Series(column, values, dtype=pl.Utf8))
    return frame.with_columns(
        pl.lit("elblag").alias("unit"), pl.lit(quarter, dtype=pl.Utf8).alias("quarter"),
        pl.lit(f"elblag/{quarter or 'umowa'}/{ds.file}").alias("source_file"),
        pl.lit("cd" * 32).alias("file_sha256"), pl.Series("row_number", range(2, len(rows) + 2), dtype=pl.Int64),
        pl.lit(datetime(2021, 10, 5, 8, 0)).alias("loaded_at"),
    )


def run_case(case: Case):
    rows = [GOOD[case.dataset]] + [{**GOOD[case.dataset], **bad} for bad in case.bad]
    raw = raw_partition(case.dataset, rows, case.extra)
    quarter = None if case.dataset in AGREEMENT else QUARTER
    return validate_partition(dataset(case.dataset), raw, ELBLAG, quarter, REFERENCES.get(case.dataset, {}),
                              today=TODAY, checked_at=datetime(2021, 10, 5, 8, 0))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule_fails_with_its_row_severity_and_message(case: Case):
    result = run_case(case)
    got = result.quarantine.select("row_number", "column_name", "rule", "severity", "message").rows()
    assert got == case.expected
    assert result.refused is case.refused
    assert sorted(result.accepted["row_number"].to_list()) == case.accepted
    # the Dagster check of each failing rule is red; every other rule of the dataset stays green
    failing = {e[2] for e in case.expected}
    assert {r.rule.id for r in result.results if not r.passed} == failing


def test_every_rule_has_a_failing_case():
    covered = {(c.dataset, e[2]) for c in CASES for e in c.expected}
    contract_ids = {"required", "type", "allowed_values", "nip_checksum", "range", "extra_fields",
                    "pesel_outside_pesel_column", "unique_key"}
    missing = []
    for ds in load_contract().values():
        for rule in rules_for(ds):
            if rule.id in contract_ids:  # one code path for every dataset: each rule once somewhere
                continue
            if (ds.name, rule.id) not in covered:
                missing.append((ds.name, rule.id))
    assert missing == []
    assert contract_ids <= {rule for _, rule in covered}


def test_every_blocking_rule_has_a_case_where_it_blocks():
    blocking = {(ds.name, r.id) for ds in load_contract().values() for r in rules_for(ds) if r.blocking}
    seen = {(c.dataset, e[2]) for c in CASES for e in c.expected if e[3] == "error"}
    assert blocking <= seen


def test_tranche_sum_blocks_the_run(tmp_path, resources):
    """A blocking rule stops the run: the tranche whose parts do not add up is quarantined, the check is
    red with ERROR severity and the step fails, so nothing downstream is built from the partition."""
    from validation_fixtures import Pipeline, tranche, write_tranches

    pipe = Pipeline(tmp_path, resources)
    # tranche 2: 100 000,00 = 84 280,00 (right EU part) + 15 719,00 -> the parts sum to 99 999,00
    write_tranches(pipe.landing, [tranche(1, "249998.50"), tranche(2, "100000.00", eu="84280.00", state="15719.00")])
    outcome = pipe.run("tranches")
    assert not outcome.success
    CHECK = "efs_i_budzet_panstwa_rowne_kwocie_ogolem"  # the Polish check name of rule tranche_sum
    assert outcome.checks[CHECK]["passed"] is False and outcome.checks[CHECK]["severity"] == "ERROR"
    assert outcome.checks["czesc_efs_zgodna_z_udzialem_efs"]["passed"] is True
    assert pipe.quarantine("tranches") == [(3, "amount_total", "tranche_sum", "error", "100000,00")]
    assert pipe.staged("tranches", "tranche_no") == [(1,)]
