"""PDF through Debian's Chromium in headless print mode (no downloaded browser).

Plotly draws its charts with JavaScript after the page loads; `--virtual-time-budget` lets the
page's timers run to completion before printing, so the charts are on paper. Chromium runs in
its own session (process group) so a hung print can be killed by its PID's group on timeout.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

CHROMIUM = os.environ.get("CUS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--mute-audio",
)


class PdfError(RuntimeError):
    pass


def chromium_path() -> str:
    found = shutil.which(CHROMIUM) or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if not found:
        raise PdfError(f"Brak przeglądarki Chromium ({CHROMIUM}): zainstaluj pakiet Debiana `chromium` (scripts/install.sh).")
    return found


def run_chromium(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    """Run Chromium with a fresh profile; on timeout kill its process group (SIGKILL) by PID."""
    with tempfile.TemporaryDirectory(prefix="cus-chromium-") as profile:
        command = [chromium_path(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the group led by the process we started
            except ProcessLookupError:
                pass
            proc.communicate()
            raise PdfError(f"Chromium nie zakończył pracy w {timeout:.0f} s i został zatrzymany (PID {proc.pid}).") from None
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        # Helpers of the print (zygote, GPU stub) share the group: make sure none outlives us.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        return subprocess.CompletedProcess(command, proc.returncode, stdout, stderr)


def html_to_pdf(html_path: Path, pdf_path: Path, timeout: float = 120, virtual_time_ms: int = 10000) -> Path:
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path).resolve()
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_pdf = pdf_path.with_suffix(".pdf.tmp")
    tmp_pdf.unlink(missing_ok=True)
    result = run_chromium(
        [f"--virtual-time-budget={virtual_time_ms}", f"--print-to-pdf={tmp_pdf}", "--no-pdf-header-footer",
         html_path.as_uri()],
        timeout=timeout,
    )
    if result.returncode != 0 or not tmp_pdf.exists() or tmp_pdf.stat().st_size == 0:
        tail = result.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        tmp_pdf.unlink(missing_ok=True)
        raise PdfError(f"Chromium nie utworzył PDF z {html_path.name} (kod {result.returncode}): {' | '.join(tail)}")
    tmp_pdf.replace(pdf_path)
    return pdf_path
