"""PDF through Debian's Chromium (never a downloaded browser), one browser for all PDFs of a run.

`PdfPrinter` starts /usr/bin/chromium once through Playwright (its async API on a thread of its
own, so the callers stay synchronous) and prints the reports as pages of that one browser, a few
at a time. Plotly draws the charts with JavaScript after the page loads: the printer waits for
the page's `data-charts="ready"` (reports/templates/report.html.j2) before printing. Every page
of the PDF carries a running header (unit, quarter, agreement — the caller's text) and the page
number "strona X z Y" (Chromium's header/footer templates).
"""

from __future__ import annotations

import asyncio
import html
import os
import shutil
import threading
from concurrent.futures import Future
from pathlib import Path

CHROMIUM = os.environ.get("CUS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = (
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
# Page margins of the printed report; header and footer live in the top and bottom margins
# (reports/templates/report.css has the same @page margins).
MARGIN = {"top": "18mm", "right": "12mm", "bottom": "16mm", "left": "12mm"}
_BAND = ('<div style="width: 100%; box-sizing: border-box; padding: 0 12mm; font-size: 7.5pt; color: #5b6775; '
         'font-family: \'DejaVu Sans\', \'Liberation Sans\', Arial, sans-serif;">'
         '<div style="display: flex; gap: 6mm; justify-content: space-between; {border}">{content}</div></div>')
_CHARTS_DRAWN = "() => !window.cusCharts || Boolean(document.body && document.body.dataset.charts)"


class PdfError(RuntimeError):
    pass


def chromium_path() -> str:
    found = shutil.which(CHROMIUM) or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if not found:
        raise PdfError(f"Brak przeglądarki Chromium ({CHROMIUM}): zainstaluj pakiet Debiana `chromium` (scripts/install.sh).")
    return found


def header_template(left: str, right: str) -> str:
    """Running header: `left` (unit) and `right` (quarter, agreement), escaped — source texts are never trusted."""
    content = f"<span>{html.escape(left)}</span><span>{html.escape(right)}</span>"
    return _BAND.format(border="border-bottom: 0.4pt solid #c9d1db; padding-bottom: 1mm;", content=content)


def footer_template(left: str) -> str:
    """Footer: `left` (report title) and "strona X z Y" filled in by Chromium."""
    content = (f"<span>{html.escape(left)}</span>"
               '<span>strona <span class="pageNumber"></span> z <span class="totalPages"></span></span>')
    return _BAND.format(border="", content=content)


class PdfPrinter:
    """One Chromium for many PDFs: `with PdfPrinter() as printer: printer.submit(...).result()`.

    `parallel` pages are loaded and printed at once (the machine's cores do the layout work);
    `timeout` seconds is the limit for one page (load, charts, print)."""

    def __init__(self, parallel: int = 2, timeout: float = 120):
        self.parallel = max(1, parallel)
        self.timeout_ms = timeout * 1000
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="cus-pdf-printer", daemon=True)
        self._playwright = None
        self._browser = None
        self._slots: asyncio.Semaphore | None = None

    def __enter__(self) -> PdfPrinter:
        self._thread.start()
        try:
            self._call(self._start()).result()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _call(self, coroutine) -> Future:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    async def _start(self) -> None:
        from playwright.async_api import async_playwright

        executable = chromium_path()
        self._slots = asyncio.Semaphore(self.parallel)
        self._playwright = await async_playwright().start()
        try:
            self._browser = await self._playwright.chromium.launch(executable_path=executable, headless=True,
                                                                   args=list(CHROMIUM_FLAGS))
        except Exception as error:
            raise PdfError(f"Nie udało się uruchomić Chromium ({executable}): {error}") from error

    async def _stop(self) -> None:
        if self._browser is not None:
            await self._browser.close()
        if self._playwright is not None:
            await self._playwright.stop()

    def close(self) -> None:
        """Close the browser (its processes end with it) and the printer's thread."""
        if self._thread.is_alive():
            try:
                self._call(self._stop()).result(timeout=60)
            finally:
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join(timeout=60)
        self._browser = self._playwright = None

    def submit(self, html_path: Path, pdf_path: Path, header: tuple[str, str], footer: str) -> Future:
        """Print `html_path` to `pdf_path` (written under a temporary name, then renamed); a Future of the path."""
        return self._call(self._print(Path(html_path).resolve(), Path(pdf_path).resolve(), header, footer))

    async def _print(self, html_path: Path, pdf_path: Path, header: tuple[str, str], footer: str) -> Path:
        pdf_path.parent.mkdir(parents=True, exist_ok=True)
        tmp_pdf = pdf_path.with_name(f".{pdf_path.name}.{os.getpid()}.tmp")
        async with self._slots:
            page = await self._browser.new_page()
            try:
                await page.goto(html_path.as_uri(), wait_until="load", timeout=self.timeout_ms)
                await page.wait_for_function(_CHARTS_DRAWN, timeout=self.timeout_ms)
                state = await page.evaluate("() => document.body.dataset.charts || ''")
                if state.startswith("error"):
                    raise PdfError(f"Wykresy w {html_path.name} nie zostały narysowane: {state}")
                await page.pdf(path=str(tmp_pdf), format="A4", print_background=True, margin=MARGIN,
                               display_header_footer=True, header_template=header_template(*header),
                               footer_template=footer_template(footer))
            except Exception as error:
                tmp_pdf.unlink(missing_ok=True)
                if isinstance(error, PdfError):
                    raise
                raise PdfError(f"Chromium nie utworzył PDF z {html_path.name}: {error}") from error
            finally:
                await page.close()
        if not tmp_pdf.exists() or tmp_pdf.stat().st_size == 0:
            tmp_pdf.unlink(missing_ok=True)
            raise PdfError(f"Chromium utworzył pusty PDF z {html_path.name}.")
        tmp_pdf.replace(pdf_path)
        return pdf_path


def html_to_pdf(html_path: Path, pdf_path: Path, header: tuple[str, str] = ("", ""), footer: str = "",
                timeout: float = 120) -> Path:
    """One PDF with a browser of its own (a single report; many reports share a `PdfPrinter`)."""
    with PdfPrinter(parallel=1, timeout=timeout) as printer:
        return printer.submit(html_path, pdf_path, header, footer).result()
