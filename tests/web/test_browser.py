"""The dashboard in a real browser: Debian's chromium driven by playwright (never
``playwright install``). Set LLMLAB_WEB_SCREENSHOTS=DIR to save the pages as PNG files."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmlab.web import create_app

from .conftest import Seeded

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = os.environ.get("LLMLAB_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SHOTS = os.environ.get("LLMLAB_WEB_SCREENSHOTS")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def base_url(seeded: Seeded) -> Iterator[str]:
    uvicorn = pytest.importorskip("uvicorn")
    port = _free_port()
    config = uvicorn.Config(
        create_app(seeded.store), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.skip("chromium not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


class Tab:
    """A page that records console errors and uncaught exceptions."""

    def __init__(self, browser: Any, base_url: str) -> None:
        self.base = base_url
        self.page = browser.new_page(viewport={"width": 1360, "height": 900})
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def open(self, path: str) -> Any:
        reply = self.page.goto(self.base + path)
        assert reply is not None and reply.status == 200, (path, reply and reply.status)
        self.page.wait_for_load_state("networkidle")
        return self.page

    def rows(self, table: str) -> int:
        count: int = self.page.locator(f"#{table} tr").count() - 1  # the header row
        return count

    def shot(self, name: str) -> None:
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


@pytest.fixture
def tab(browser: Any, base_url: str) -> Iterator[Tab]:
    t = Tab(browser, base_url)
    yield t
    t.page.close()


def test_every_page_renders_without_console_errors(tab: Tab, seeded: Seeded) -> None:
    call_id = tab.open(f"/runs/{seeded.run_a}").locator("#cases-table a").first
    assert call_id.count() == 1
    paths = {
        "overview": "/",
        "runs": "/runs",
        "run": f"/runs/{seeded.run_a}",
        "case": f"/runs/{seeded.run_a}/cases/case-05",
        "compare": f"/compare?a={seeded.run_a}&b={seeded.run_b}",
        "prompts": "/prompts",
        "prompt": "/prompts/greet?a=1&b=2",
        "experiments": "/experiments",
        "experiment": "/experiments/greet-ab",
        "monitor": "/monitor?window=7d&grain=hour&by=model",
        "calls": "/calls",
        "labs": "/labs",
    }
    for name, path in paths.items():
        page = tab.open(path)
        assert page.locator("h1").count() == 1, name
        tab.shot(name)
    page = tab.open("/calls")
    page.locator("#calls-table a").first.click()
    page.wait_for_load_state("networkidle")
    assert "/calls/" in page.url and page.locator("h1").inner_text().startswith("Call ")
    tab.shot("call")
    assert tab.errors == []


def test_charts_draw(tab: Tab) -> None:
    for path, charts in (("/", ["#chart-spend"]), ("/monitor?grain=hour", ["#chart-spend",
                         "#chart-calls", "#chart-latency", "#chart-cost-quality"])):  # fmt: skip
        page = tab.open(path)
        for chart in charts:
            canvas = page.locator(f"{chart} .uplot canvas")
            assert canvas.count() == 1, (path, chart)
            box = canvas.bounding_box()
            assert box is not None and box["width"] > 200 and box["height"] > 100
    # the bars are drawn: some pixel of the spend canvas is not blank
    painted = page.evaluate(
        """() => { const c = document.querySelector('#chart-calls canvas');
                   const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                   let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
                   return n; }"""
    )
    assert painted > 100
    assert tab.errors == []


def test_a_filter_narrows_the_table_and_the_url_keeps_it(tab: Tab) -> None:
    page = tab.open("/runs")
    assert tab.rows("runs-table") == 3
    with page.expect_response(lambda r: "suite=summaries" in r.url):
        page.select_option("select[name=suite]", "summaries")
    page.wait_for_function("document.querySelectorAll('#runs-table tr').length === 2")
    assert "suite=summaries" in page.url
    page.reload()
    page.wait_for_load_state("networkidle")
    assert tab.rows("runs-table") == 1
    assert page.locator("select[name=suite]").input_value() == "summaries"
    page = tab.open("/calls")
    page.select_option("select[name=window]", "7d")
    page.fill("input[name=experiment]", "greet-ab")
    page.wait_for_function("document.querySelectorAll('#calls-table tr').length === 9")
    assert "experiment=greet-ab" in page.url
    assert tab.errors == []


def test_diff_shows_a_change(tab: Tab) -> None:
    page = tab.open("/prompts/greet")
    page.select_option("#diff-a", "1")
    page.select_option("#diff-b", "2")
    page.click("#diff-go")
    page.wait_for_load_state("networkidle")
    diff = page.locator("#diff")
    assert "changed" in diff.inner_text()
    assert page.locator("#diff .add").filter(has_text="Hi there").count() == 1
    assert page.locator("#diff .del").filter(has_text="Hello").count() == 1
    assert "a=1" in page.url and "b=2" in page.url


def test_promote_moves_a_label_and_history_shows_it(tab: Tab) -> None:
    page = tab.open("/prompts/greet")
    form = page.locator("#label-form")
    form.locator("input[name=label]").fill("canary")
    form.locator("select[name=version]").select_option("2")
    form.locator("#promote").click()
    page.wait_for_load_state("networkidle")
    assert "Move canary of greet from nowhere to v2" in page.locator("#confirm-text").inner_text()
    page.click("#confirm")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/prompts/greet#history")
    assert "canary" in page.locator("#v2 .labels").inner_text()
    first = page.locator("#history-table tr").nth(1).inner_text()
    assert "canary" in first and "v2" in first and "move" in first
    assert tab.errors == []


def test_differing_only_hides_equal_cases(tab: Tab, seeded: Seeded) -> None:
    page = tab.open(f"/compare?a={seeded.run_a}&b={seeded.run_b}")
    assert tab.rows("matrix-table") == 24
    assert page.locator("#tests tr").count() >= 3  # pass rate and score tests
    page.check("#differing")
    page.wait_for_function("document.querySelectorAll('#matrix-table tr').length === 8")
    assert page.locator("#matrix-table tr.same").count() == 0
    assert "differing=true" in page.url
    assert tab.errors == []
