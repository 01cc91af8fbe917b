"""The reports folder over HTTP on loopback, started and stopped with the UI by `cus ui`.

The Dagster UI cannot open file:// links (it turns them into dead ones), so the report assets
link each report file to http://127.0.0.1:<port>/<YYYY>Q<n>/<unit>/raport_….html|pdf|xlsx
(`assets/report/status.py: report_url`). Read-only, files under the reports folder only
(http.server refuses paths outside it), one thread per request.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

LOOPBACK = "127.0.0.1"


class _ReportHandler(SimpleHTTPRequestHandler):
    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".html": "text/html; charset=utf-8",
        ".pdf": "application/pdf",
        ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }

    def log_message(self, format, *args):  # noqa: A002 (the http.server signature)
        pass  # the UI's console stays readable; report downloads are not logged

    def do_POST(self):  # noqa: N802 (http.server naming)
        self.send_error(405, "Tylko odczyt")


@dataclass
class ReportServer:
    server: ThreadingHTTPServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start_report_server(root: Path, port: int, host: str = LOOPBACK) -> ReportServer:
    """Serve `root` on host:port in a daemon thread; raises OSError when the port is taken."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    server = ThreadingHTTPServer((host, port), partial(_ReportHandler, directory=str(root)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="cus-report-server", daemon=True)
    thread.start()
    return ReportServer(server, thread)
