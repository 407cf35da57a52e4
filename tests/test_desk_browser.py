"""The desk in a real browser: headless Chromium (Debian's package) driven by Playwright.

The app is started with ``krg-liquidity app`` on 127.0.0.1 and a free port. Skipped, with the
reason, only when Chromium or Playwright is not installed (``.ci/run`` installs Chromium).
"""

import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

import krg_liquidity as krg

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api", reason="Playwright (Python package) is not installed")
pytestmark = [pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install -y chromium)"),
              pytest.mark.slow]  # a browser and a server: seconds each

SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "desk.png"
"""The README's picture: rewritten only when KRG_UPDATE_SCREENSHOT=1 (a test run leaves the checkout as it was)."""
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
LIMITS = {"risk_band": (0.9, 1.1), "max_total_mi_bps": 50.0}
TIMEOUT_MS = 60_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


@pytest.fixture(scope="module")
def desk():
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "krg_liquidity", "app", "--port", str(port), "--max-upload-mb",
                                "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if get(url + "/_stcore/health")[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the desk did not start on {url} (exit code {process.poll()})")
            time.sleep(0.3)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # the command and the Streamlit server it started
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1500, "height": 1000}, accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    yield tab
    context.close()


def metric(page, label: str) -> str:
    box = page.locator("[data-testid='stMetric']").filter(has_text=label)
    return box.locator("[data-testid='stMetricValue']").inner_text().strip()


def test_example_raise_one_billion(desk, page, tmp_path):
    page.goto(desk)
    page.get_by_text("Book OK").wait_for()
    page.get_by_role("button", name="Raise cash").click()
    page.get_by_text("Cash raised").wait_for()
    book = krg.Portfolio(*krg.load_example())
    expected = krg.round_trades(krg.liquidate(book, 1e9, **LIMITS))
    assert metric(page, "Cash raised") == f"${expected.cash_raised:,.0f}"
    assert metric(page, "Impact cost") == f"${expected.cost_usd:,.0f}"
    assert metric(page, "Cost (bps of cash)") == f"{expected.cost_bps:.2f}"
    assert metric(page, "Most cash these limits allow (whole shares)") == f"${krg.tradable_cash(book, 1, **LIMITS):,.0f}"
    page.locator("[data-testid='stDataFrame']").first.wait_for(state="visible")  # the trade table
    traded = expected.trades[expected.trades["shares_traded"] != 0]
    totals = page.locator("[data-testid='stMarkdownContainer']").filter(has_text="Totals:").inner_text().strip()
    assert totals == (f"Totals: {len(traded)} names, value traded ${traded['value_traded_usd'].abs().sum():,.0f}, "
                      f"impact cost ${traded['cost_usd'].sum():,.0f}.")
    shot = SCREENSHOT if os.environ.get("KRG_UPDATE_SCREENSHOT") == "1" else tmp_path / "desk.png"
    page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 10_000  # a picture of the page, not an empty frame
    page.get_by_role("tab", name="Downloads").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download trades.csv").click()
    trades = pd.read_csv(download.value.path())
    assert trades["value_traded_usd"].sum() == pytest.approx(-expected.cash_raised, rel=1e-12)
    assert list(trades["symbol"]) == list(traded["symbol"])


def uploader(page, label: str):
    """The file input of the uploader whose label starts with ``label`` (the sidebar has several)."""
    return page.locator("[data-testid='stFileUploader']").filter(has_text=label).locator("input[type='file']")


def upload(page, name: str, data: bytes) -> None:
    page.get_by_text("Upload my book").click()
    holdings = uploader(page, "Holdings (CSV")  # not the tax lots' uploader of the page before the rerun
    holdings.wait_for(state="attached")
    holdings.set_input_files(files=[{"name": name, "mimeType": "text/csv", "buffer": data}])


def test_bad_upload_shows_the_validation_message(desk, page):
    page.goto(desk)
    page.get_by_text("Book OK").wait_for()
    upload(page, "book.csv", b"Ticker,Quantity,Last Price,Vol,TradeTime\nAAA,1000,10,24.1,1\n")
    message = page.locator("[data-testid='stAlert']").filter(has_text="problem(s) to fix").inner_text()
    assert "book.csv" in message and "'adv'" in message and "percent" in message
    other = page.context.new_page()  # a second tab: its own session and book
    other.goto(desk)
    other.get_by_text("Book OK").wait_for()
    assert other.get_by_text("problem(s) to fix").count() == 0
    assert page.get_by_text("Book OK").count() == 0


def test_oversized_upload_is_refused(desk, page):
    page.goto(desk)
    page.get_by_text("Book OK").wait_for()
    upload(page, "big.csv", b"symbol,shares\n" + b"A,1\n" * 400_000)  # 1.5 MB against a 1 MB cap
    page.get_by_text("File must be 1.0MB or smaller").wait_for()  # refused in the browser, never sent
    page.get_by_text("Upload a holdings file").wait_for()  # the page received no file
    assert page.get_by_text("problem(s) to fix").count() == 0 and page.get_by_text("Book OK").count() == 0


def test_server_paths_are_refused(desk, page):
    page.goto(desk + "/?holdings=/etc/passwd")
    page.get_by_text("Refused: this desk never opens a file").wait_for()
    assert "root:x:0:0" not in page.content()
    for path in ("/etc/passwd", "/../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                 "/media/../../../../etc/passwd", "/app/static/../../../../etc/passwd", "/component/../../etc/passwd"):
        status, body = get(desk + path)
        assert "root:x:0:0" not in body, path


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_stopping_the_app_leaves_no_server():
    """SIGTERM to `krg-liquidity app` stops the server itself (the server replaces the CLI process)."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "krg_liquidity", "app", "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _listening(port):
            time.sleep(0.2)
        assert _listening(port), "the desk did not start"
        process.terminate()  # the one process we started, not its group
        process.wait(timeout=20)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _listening(port):
            time.sleep(0.2)
        assert not _listening(port), "a server is still listening after the app was stopped"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


def test_every_download_completes_and_the_page_stays_on_its_tab(desk, page):
    """A download click does not rerun the page: it stays on the Downloads tab with its four buttons
    (none faded or repeated) and each file arrives whole, one after the other."""
    page.goto(desk)
    page.get_by_text("Book OK").wait_for()
    page.get_by_role("button", name="Raise cash").click()
    page.get_by_text("Cash raised").wait_for()
    tab = page.get_by_role("tab", name="Downloads")
    tab.click()
    names = ["trades.csv", "schedule.csv", "report.html", "report.xlsx"]
    for name in names:
        with page.expect_download() as download:
            page.get_by_role("button", name=f"Download {name}").click()
        assert download.value.failure() is None, name
        assert download.value.suggested_filename == name
        data = Path(download.value.path()).read_bytes()
        assert len(data) > 100, name
        if name == "report.xlsx":
            assert "trades" in pd.read_excel(io.BytesIO(data), sheet_name=None)
        page.wait_for_timeout(1000)  # a rerun, if any, would have started by now
        assert tab.get_attribute("aria-selected") == "true", f"left the Downloads tab after {name}"
        assert page.locator("[data-stale='true']").count() == 0, f"faded elements after {name}"
        assert page.locator("[data-testid='stDownloadButton']").count() == len(names)


def test_a_per_name_limit_ticked_in_the_sidebar_reaches_the_answer(desk, page):
    """The "Per-name limits" expander: ticking a box shows its input, and the answer is the API's with it."""
    page.goto(desk)
    page.get_by_text("Book OK").wait_for()
    page.get_by_text("Per-name limits (where the book gives none)").click()
    page.get_by_text("Sell at most this share of each position").first.click()  # the checkbox's label
    box = page.get_by_label("Sell at most this share of each position (%)")
    box.fill("15")
    box.press("Enter")
    book = krg.Portfolio(*krg.load_example())
    limits = krg.Limits(**LIMITS, max_sold_fraction=0.15)
    most = f"${krg.tradable_cash(book, 1, limits=limits):,.0f}"
    page.locator("[data-testid='stMetricValue']").filter(has_text=most).wait_for()
    page.get_by_role("button", name="Raise cash").click()
    page.get_by_text("Cash raised").wait_for()
    expected = krg.round_trades(krg.liquidate(book, 1e9, limits=limits))
    assert metric(page, "Impact cost") == f"${expected.cost_usd:,.0f}"
    page.get_by_role("tab", name="Shape").click()
    page.get_by_text("Liquidity left").first.wait_for()


def test_tax_lots_uploaded_in_the_sidebar_price_the_tax(desk, page):
    """The "Taxable account" expander: a lots file, the default rates and today's date; the Tax tab shows the
    API's tax for the same request (the band's floor dropped with lots, as the sidebar says)."""
    import datetime
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from books import random_lots

    book = krg.Portfolio(*krg.load_example())
    lots = random_lots(book.holdings, 8)
    page.goto(desk)
    page.get_by_text("Book OK").wait_for()
    page.get_by_text("Taxable account (tax lots)").click()
    uploader(page, "Tax lots").set_input_files(
        files=[{"name": "lots.csv", "mimeType": "text/csv", "buffer": lots.to_csv(index=False).encode()}])
    page.get_by_text(f"lots.csv: {len(lots)} lots read.").wait_for()
    page.get_by_text("keeps its ceiling only").wait_for()
    page.get_by_role("button", name="Raise cash").click()
    page.get_by_text("Cash raised").wait_for()
    page.get_by_role("tab", name="Tax").click()
    rates = krg.TaxRates(0.37, 0.238, as_of=datetime.date.today().isoformat())
    expected = krg.round_trades(krg.liquidate(book, 1e9, risk_band=(0.0, 1.1), max_total_mi_bps=50.0, lots=lots,
                                              tax=rates))
    assert metric(page, "Capital-gains tax") == f"${expected.tax_usd:,.0f}"
