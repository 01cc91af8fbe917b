"""Great Expectations kept imported for the runs of the Dagster UI: one long-lived validation process.

Every run the daemon launches is a new process: its validation worker (validation_process.py) imported
Great Expectations again (~2 s) while the coordinator waited for the re-sent file's reports. `cus ui`
starts this process once (`start_service`) and passes its address and key to `dagster dev` in the
environment, which the daemon, its code server and every run's process inherit; a run's small batch
then sends its suites here (`connect`) instead of starting a worker. It serves each run's connection
in a thread, one suite at a time (the warehouse pool runs one batch at a time anyway), in the order
they came. It ends with the process that started it (also after `kill -9`). Suites are cached by
their rules' content, so a rule file edited while the UI runs takes effect at the next run. Without
the variables (`cus run`, tests), or when the service does not answer, a run starts its own worker.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import secrets
import signal
import threading
import time
from collections import deque
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool

from assets.staging.suites import import_gx, validate_here

ADDRESS_VARIABLE = "CUS_VALIDATION_SERVICE"
KEY_VARIABLE = "CUS_VALIDATION_SERVICE_KEY"
START_TIMEOUT_S = 30.0


def start_service() -> dict[str, str]:
    """Start the validation process (it imports Great Expectations at once); returns the environment
    variables that lead a run's process to it."""
    context = multiprocessing.get_context("spawn")
    address = multiprocessing.connection.arbitrary_address("AF_UNIX")  # in this process's private temp folder
    key = secrets.token_bytes(32)
    ready = context.Event()
    process = context.Process(target=_serve, args=(address, key, ready), name="cus-validation-service", daemon=True)
    process.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not ready.wait(0.1):  # listening (GX still importing): a run that connects now waits in its queue
        if not process.is_alive() or time.monotonic() > deadline:
            process.kill()
            raise ServiceError(f"proces walidacji (Great Expectations) nie wystartował (kod wyjścia {process.exitcode})")
    return {ADDRESS_VARIABLE: address, KEY_VARIABLE: key.hex()}


class ServiceError(Exception):
    """The validation service could not start (Polish message)."""


def _serve(address: str, key: bytes, ready) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops `cus ui`, whose exit ends this process
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent.sentinel,), name="parent-watch", daemon=True).start()
    listener = multiprocessing.connection.Listener(address, "AF_UNIX", authkey=key)
    ready.set()
    threading.Thread(target=import_gx, name="gx-import", daemon=True).start()
    lock = threading.Lock()  # one suite at a time: GX's context is shared
    while True:
        try:
            conn = listener.accept()
        except (OSError, multiprocessing.AuthenticationError):
            continue
        threading.Thread(target=_answer, args=(conn, lock), name="run", daemon=True).start()


def _exit_with(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(0)


def _answer(conn: multiprocessing.connection.Connection, lock: threading.Lock) -> None:
    """A run's suites, in order, until it closes the connection."""
    with conn:
        while True:
            try:
                name, rules, frame = conn.recv()
            except (EOFError, OSError):
                return
            try:
                with lock:
                    reply = (True, validate_here(name, rules, frame))
            except Exception as error:  # noqa: BLE001 — the run raises it
                reply = (False, error)
            try:
                conn.send(reply)
            except OSError:
                return


class ServiceClient:
    """The run's connection to the service, used like the worker's pool (`submit`, `shutdown`): each
    suite's outcomes come back as a Future, in order. A lost connection fails every pending Future
    with BrokenProcessPool, as a dead worker does."""

    def __init__(self, conn: multiprocessing.connection.Connection) -> None:
        self._conn = conn
        self._pending: deque[Future] = deque()
        self._lock = threading.Lock()
        threading.Thread(target=self._receive, name="validation-service", daemon=True).start()

    def submit(self, function, name: str, rules, frame) -> Future:
        if function is not validate_here:
            raise ValueError("the validation service runs validate_here only")
        future: Future = Future()
        with self._lock:
            if self._conn.closed:
                raise BrokenProcessPool("połączenie z procesem walidacji zamknięte")
            self._pending.append(future)
            try:
                self._conn.send((name, rules, frame))
            except OSError as error:
                self._pending.pop()
                raise BrokenProcessPool(str(error)) from error
        return future

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        with self._lock:
            if not self._conn.closed:
                self._conn.close()  # the service's thread for this run ends; a suite it runs is finished there

    def _receive(self) -> None:
        while True:
            try:
                ok, value = self._conn.recv()
            except (EOFError, OSError):
                self._fail_pending()
                return
            with self._lock:
                future = self._pending.popleft()
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def _fail_pending(self) -> None:
        with self._lock:
            pending, self._pending = list(self._pending), deque()
        for future in pending:
            if not future.done():
                future.set_exception(BrokenProcessPool("proces walidacji (Great Expectations) niedostępny"))


def connect() -> ServiceClient | None:
    """The service named in the environment, or None (no variables, or it does not answer)."""
    address, key = os.environ.get(ADDRESS_VARIABLE), os.environ.get(KEY_VARIABLE)
    if not address or not key or not os.path.exists(address):
        return None
    try:
        conn = multiprocessing.connection.Client(address, "AF_UNIX", authkey=bytes.fromhex(key))
    except (OSError, ValueError, multiprocessing.AuthenticationError):
        return None
    return ServiceClient(conn)
