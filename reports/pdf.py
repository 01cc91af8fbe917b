"""PDF through Debian's Chromium (never a downloaded browser), one browser for all PDFs of a run.

`PdfPrinter` starts /usr/bin/chromium once through Playwright (its async API on a thread of its
own, so the callers stay synchronous) and prints the reports as pages of that one browser, a few
at a time, reusing its pages. A report's charts are drawn once as SVG by plotly.js in one page of
the browser that keeps plotly loaded for the whole run (`Plotly.toImage`); the printed page is the
report's HTML with those SVGs as images (reports/html.py `static_charts`), so it loads no plotly.js
and runs no script — the figures are the ones the HTML draws. Every page of the PDF carries a
running header (unit, quarter, agreement — the caller's text) and the page number "strona X z Y"
(Chromium's header/footer templates).

Early start: starting the browser and loading plotly.js take ~1,2 s on an idle machine and 2–3 s
beside the Python that builds the reports, before the first PDF. A run that knows it will print
(the batch run of a correction: files read, reports follow in its next step) calls
`start_early()` while it still validates and writes on one core; the next `printer()` of the
process takes that browser. One not taken is closed at the process's exit or by `close_early()`.

Order: a unit's report waiting for a page is printed before a waiting consolidated one, otherwise
in the order submitted (`PrintSlots`): after a correction the coordinator who re-sent the file waits
for the unit's reports, the consolidated ones (the ministry's) follow; the browser is the slow part
of a run's reports, so this order decides when the unit's last PDF is ready.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import heapq
import html
import itertools
import os
import shutil
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from reports.html import plotly_source, render_html
from reports.model import Report

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
# Every figure of one report as SVG text (plotly.js is loaded in the page once per run).
_TO_SVG = """async (figures) => {
  const svgs = [];
  for (const figure of figures) {
    const f = JSON.parse(figure.json);
    const url = await Plotly.toImage({data: f.data, layout: f.layout, config: figure.config},
                                     {format: "svg", width: f.layout.width, height: f.layout.height});
    svgs.push(decodeURIComponent(url.slice(url.indexOf(",") + 1)));
  }
  return svgs;
}"""


class PdfError(RuntimeError):
    pass


# Print priority (lower first): a unit's report before the consolidated one.
UNIT_FIRST = {"unit": 0, "consolidated": 1}


class PrintSlots:
    """`parallel` pages at a time; a free page goes to the waiting report of the lowest priority
    number, among equals to the one submitted first (an asyncio.Semaphore serves only in order)."""

    def __init__(self, parallel: int) -> None:
        self._free = parallel
        self._waiting: list[tuple[int, int, asyncio.Future]] = []
        self._order = itertools.count()

    @asynccontextmanager
    async def slot(self, priority: int) -> AsyncIterator[None]:
        if self._free and not self._waiting:
            self._free -= 1
        else:
            turn = asyncio.get_running_loop().create_future()
            heapq.heappush(self._waiting, (priority, next(self._order), turn))
            try:
                await turn
            except asyncio.CancelledError:
                if turn.done() and not turn.cancelled():  # handed the slot just as it was cancelled
                    self._release()
                raise
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        while self._waiting:
            _, _, turn = heapq.heappop(self._waiting)
            if not turn.done():
                turn.set_result(None)  # the slot passes straight to the next report
                return
        self._free += 1


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
    """One Chromium for many PDFs: `with PdfPrinter() as printer: printer.submit_report(...); printer.drain()`.

    `parallel` pages are loaded and printed at once (the machine's cores do the layout work);
    `timeout` seconds is the limit for one page (load, charts, print)."""

    def __init__(self, parallel: int = 2, timeout: float = 120):
        self.parallel = max(1, parallel)
        self.timeout_ms = timeout * 1000
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="cus-pdf-printer", daemon=True)
        self._playwright = None
        self._browser = None
        self._slots: PrintSlots | None = None
        self._pages: list = []  # idle pages, reused for the next PDF
        self._chart_page = None  # plotly.js loaded once; draws every report's charts as SVG
        self._chart_lock: asyncio.Lock | None = None
        self._starting: asyncio.Future | None = None  # the browser's start (background)
        self._pending: list[Future] = []  # submitted reports not yet waited for (`drain`)

    def __enter__(self) -> PdfPrinter:
        """Starts the browser (and loads plotly.js into its chart page) in the background: the caller
        reads and builds its first reports meanwhile; a failed start is raised by the first PDF."""
        self._thread.start()
        self._call(self._begin()).result()
        return self

    async def _begin(self) -> None:
        self._slots = PrintSlots(self.parallel)
        self._chart_lock = asyncio.Lock()
        self._starting = asyncio.ensure_future(self._start())

    def __exit__(self, *exc) -> None:
        self.close()

    def _call(self, coroutine) -> Future:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    async def _start(self) -> None:
        from playwright.async_api import async_playwright

        executable = chromium_path()
        self._playwright = await async_playwright().start()
        try:
            self._browser = await self._playwright.chromium.launch(executable_path=executable, headless=True,
                                                                   args=list(CHROMIUM_FLAGS))
        except Exception as error:
            raise PdfError(f"Nie udało się uruchomić Chromium ({executable}): {error}") from error
        page = await self._browser.new_page()  # the chart page: plotly.js loaded once for the whole run
        await page.set_content("<!DOCTYPE html><html><head></head><body></body></html>")
        await page.add_script_tag(content=plotly_source())
        self._chart_page = page

    async def _stop(self) -> None:
        if self._starting is not None:
            await asyncio.gather(self._starting, return_exceptions=True)  # a failed start was raised to a caller
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

    def submit_report(self, report: Report, pdf_path: Path) -> Future:
        """Print `report` to `pdf_path`: its charts as SVG images, its running header and title; a
        Future of the path. The PDF is written under a temporary name, then renamed."""
        future = self._call(self._print(report, Path(pdf_path).resolve()))
        self._pending.append(future)
        return future

    def drain(self) -> list[Path]:
        """Wait for every report submitted so far; raises the first printing error."""
        pending, self._pending = self._pending, []
        return [future.result() for future in pending]

    async def _chart_images(self, report: Report) -> dict[str, str]:
        """Chart id -> the figure as an SVG image (data URL), drawn by the run's plotly page."""
        from reports.charts import CONFIG

        charts = [chart for section in report.sections for chart in section.charts]
        if not charts:
            return {}
        async with self._chart_lock:
            figures = [{"json": chart.figure_json, "config": CONFIG} for chart in charts]
            svgs = await self._chart_page.evaluate(_TO_SVG, figures)
        return {chart.chart_id: "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
                for chart, svg in zip(charts, svgs, strict=True)}

    async def _print(self, report: Report, pdf_path: Path) -> Path:
        pdf_path.parent.mkdir(parents=True, exist_ok=True)
        tmp_pdf = pdf_path.with_name(f".{pdf_path.name}.{os.getpid()}.tmp")
        await self._starting
        async with self._slots.slot(UNIT_FIRST.get(report.scope, 1)):
            page = self._pages.pop() if self._pages else await self._browser.new_page()
            reuse = False
            try:
                images = await self._chart_images(report)
                await page.set_content(render_html(report, static_charts=images), wait_until="load",
                                       timeout=self.timeout_ms)
                await page.pdf(path=str(tmp_pdf), format="A4", print_background=True, margin=MARGIN,
                               display_header_footer=True, header_template=header_template(*report.running_header),
                               footer_template=footer_template(report.title))
                reuse = True
            except Exception as error:
                tmp_pdf.unlink(missing_ok=True)
                if isinstance(error, PdfError):
                    raise
                raise PdfError(f"Chromium nie utworzył PDF {pdf_path.name}: {error}") from error
            finally:
                if reuse:
                    self._pages.append(page)
                else:
                    await page.close()
        if not tmp_pdf.exists() or tmp_pdf.stat().st_size == 0:
            tmp_pdf.unlink(missing_ok=True)
            raise PdfError(f"Chromium utworzył pusty PDF {pdf_path.name}.")
        tmp_pdf.replace(pdf_path)
        return pdf_path


_early: PdfPrinter | None = None  # started by start_early(), taken by the next printer()
_early_lock = threading.Lock()


def start_early(parallel: int = 2, timeout: float = 120) -> None:
    """Start a browser now, in the background, for the next `printer()` of this process."""
    global _early
    with _early_lock:
        if _early is not None:
            return
        _early = PdfPrinter(parallel=parallel, timeout=timeout).__enter__()


def close_early() -> None:
    """Close a browser started early and not taken (e.g. the batch failed before its reports)."""
    global _early
    with _early_lock:
        early, _early = _early, None
    if early is not None:
        early.close()


atexit.register(close_early)


@contextmanager
def printer(parallel: int = 2, timeout: float = 120) -> Iterator[PdfPrinter]:
    """A printer for one run's PDFs: the browser started early if there is one with these settings,
    else a new one; closed on leaving."""
    global _early
    with _early_lock:
        early, _early = _early, None
    if early is not None and (early.parallel, early.timeout_ms) != (max(1, parallel), timeout * 1000):
        early.close()
        early = None
    chosen = early if early is not None else PdfPrinter(parallel=parallel, timeout=timeout).__enter__()
    try:
        yield chosen
    finally:
        chosen.close()
