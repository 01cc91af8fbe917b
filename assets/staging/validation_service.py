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

import contextlib
import hashlib
import multiprocessing
import multiprocessing.connection
import os
import queue
import secrets
import socket
import sys
import threading
import time
import traceback
from collections import deque
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from importlib.metadata import version
from pathlib import Path

from assets.staging.suites import import_gx, validate_here
from core.worker_processes import end_with_parent

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
    end_with_parent()  # `cus ui`
    listener = multiprocessing.connection.Listener(address, "AF_UNIX")  # the key is checked per connection
    ready.set()
    threading.Thread(target=import_gx, name="gx-import", daemon=True).start()
    lock = threading.Lock()  # one suite at a time: GX's context is shared
    while True:
        try:
            conn = listener.accept()
        except Exception:  # noqa: BLE001 — one failed connection never ends the service
            continue
        threading.Thread(target=_answer, args=(conn, key, lock), name="run", daemon=True).start()


def _answer(conn: multiprocessing.connection.Connection, key: bytes, lock: threading.Lock) -> None:
    """A run's suites, in order, until it hangs up. A peer that fails the key, hangs up or sends what this
    code cannot read ends this connection only."""
    with conn:
        try:
            multiprocessing.connection.deliver_challenge(conn, key)
            multiprocessing.connection.answer_challenge(conn, key)
            same_code = conn.recv() == ("hello", code_fingerprint())
            conn.send(same_code)
            if not same_code:
                return  # another version of the validation code: the run validates in a worker of its own
        except Exception:  # noqa: BLE001
            return
        while True:
            try:
                name, rules, frame = conn.recv()
            except Exception:  # noqa: BLE001 — EOF: the run has ended or stopped validating here
                return
            try:
                with lock:
                    reply = (True, validate_here(name, rules, frame))
            except Exception as error:  # noqa: BLE001 — the run raises it, as text (any exception pickles so)
                reply = (False, "".join(traceback.format_exception_only(error)).strip()
                         + "\n(w procesie walidacji cus ui)\n" + traceback.format_exc())
            del frame
            try:
                conn.send(reply)
            except Exception:  # noqa: BLE001
                return


def code_fingerprint() -> str:
    """The validation code this process runs: a run of other code (changed while the UI runs) does not
    use the service."""
    if not _fingerprint:
        from assets.staging import bound, rules, suites

        sources = [Path(module.__file__).read_bytes() for module in (bound, rules, suites, sys.modules[__name__])]
        digest = hashlib.sha256(b"".join(sources) + version("great_expectations").encode())
        _fingerprint.append(digest.hexdigest())
    return _fingerprint[0]


_fingerprint: list[str] = []


class ServiceClient:
    """The run's connection to the service, used like the worker's pool (`submit`, `shutdown`): each
    suite's outcomes come back as a Future, in order. A sender thread writes the frames (`submit` returns
    at once, as the pool's does); a reader thread resolves the Futures. A lost connection (or `shutdown`)
    fails every pending Future with BrokenProcessPool, as a dead worker does."""

    def __init__(self, conn: multiprocessing.connection.Connection) -> None:
        self._conn = conn
        self._pending: deque[Future] = deque()
        self._outbox: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._broken = False
        self._sender = threading.Thread(target=self._send, name="validation-service-send", daemon=True)
        self._sender.start()
        threading.Thread(target=self._receive, name="validation-service-receive", daemon=True).start()

    def submit(self, function, name: str, rules, frame) -> Future:
        if function is not validate_here:
            raise ValueError("the validation service runs validate_here only")
        future: Future = Future()
        with self._lock:
            if self._broken:
                raise BrokenProcessPool("połączenie z procesem walidacji zamknięte")
            self._pending.append(future)
        self._outbox.put((name, rules, frame))
        return future

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        """Hang up: pending suites fail (nobody waits for them) and the service drops this run."""
        self._break()

    def _send(self) -> None:
        while (message := self._outbox.get()) is not None:
            try:
                self._conn.send(message)
            except BaseException:  # noqa: BLE001 — a broken connection, an interrupt mid-message
                self._break()
                return
            del message

    def _receive(self) -> None:
        try:
            while True:
                ok, value = self._conn.recv()
                with self._lock:
                    future = self._pending.popleft()
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(RuntimeError(value))
        except BaseException:  # noqa: BLE001 — EOF, a reply this process cannot read, hung up
            self._break()
        finally:
            self._sender.join(5)
            with self._lock:
                self._conn.close()

    def _break(self) -> None:
        with self._lock:
            broken, self._broken = self._broken, True
            pending, self._pending = list(self._pending), deque()
            if not broken:
                self._outbox.put(None)
                # wakes the reader and a blocked sender (the service sees EOF); the reader closes the socket
                with contextlib.suppress(OSError), socket.socket(fileno=os.dup(self._conn.fileno())) as wake:
                    wake.shutdown(socket.SHUT_RDWR)
        for future in pending:
            if not future.done():
                future.set_exception(BrokenProcessPool("proces walidacji (Great Expectations) niedostępny"))


CONNECT_TIMEOUT_S = 5.0


def connect() -> ServiceClient | None:
    """The service named in the environment, or None: no variables, nothing answers within
    CONNECT_TIMEOUT_S, a wrong key, or another version of the validation code."""
    address, key = os.environ.get(ADDRESS_VARIABLE), os.environ.get(KEY_VARIABLE)
    if not address or not key or not os.path.exists(address):
        return None
    found: list[multiprocessing.connection.Connection] = []

    def attempt() -> None:
        try:
            conn = multiprocessing.connection.Client(address, "AF_UNIX", authkey=bytes.fromhex(key))
            conn.send(("hello", code_fingerprint()))
            if conn.recv() is True:
                found.append(conn)
            else:
                conn.close()
        except Exception:  # noqa: BLE001 — refused, hung up, wrong key: the run's own worker
            return

    trying = threading.Thread(target=attempt, name="validation-service-connect", daemon=True)
    trying.start()
    trying.join(CONNECT_TIMEOUT_S)
    return ServiceClient(found[0]) if found and not trying.is_alive() else None
