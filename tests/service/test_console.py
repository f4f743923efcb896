"""The web console in a real browser (the machine's Chromium, driven by Playwright) against
`ksql server` as a real subprocess: write and run SQL, watch a push query receive rows, see a
persistent query's rate and terminate it, browse the catalog, read a query's plan.

With KSQL_CONSOLE_SCREENSHOTS=<folder> the test saves a screenshot of each view there (the
README's come from docs/img/)."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import httpx
import pytest

from conftest import started, wait_for
from processes import Server


class BrowserUnavailable(Exception):
    pass


def browser(playwright):
    path = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if path is None:
        raise BrowserUnavailable("no Chromium on this machine (install the OS's chromium package)")
    return playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])


@pytest.fixture
def page(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    server = Server(tmp_path / "data")
    with sync_api.sync_playwright() as playwright:
        chromium = started(lambda: browser(playwright), BrowserUnavailable, "Chromium")
        tab = chromium.new_page(viewport={"width": 1280, "height": 800})
        tab.goto(server.url + "/")
        tab.wait_for_function("window.editor !== undefined")
        tab.server = server
        yield tab
        chromium.close()
    server.stop()


def screenshot(page, name: str) -> None:
    folder = os.environ.get("KSQL_CONSOLE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"console-{name}.png"))


def run(page, sql: str) -> None:
    page.evaluate("sql => window.editor.setValue(sql)", sql)
    page.click("#run")


def test_the_console_runs_sql_streams_rows_and_manages_queries(page):
    server = page.server
    run(page, "CREATE STREAM pageviews (id INT KEY, page STRING, ms INT) WITH (kafka_topic='pageviews', "
              "value_format='JSON', partitions=1);")
    page.wait_for_selector(".message:has-text('Stream created')")

    # a push query receives the rows inserted while it runs
    page.select_option("#offset", "earliest")
    run(page, "SELECT id, page, ms FROM pageviews EMIT CHANGES;")
    page.wait_for_selector("table.rows th:has-text('PAGE')")
    inserts = [{"ID": i, "PAGE": f"/p{i}", "MS": 10 * i} for i in range(1, 4)]
    assert httpx.post(server.url + "/inserts-stream", content="\n".join(
        ['{"target": "PAGEVIEWS"}'] + [json.dumps(r) for r in inserts]), timeout=30).status_code == 200
    page.wait_for_function("document.querySelectorAll('table.rows tbody tr').length === 3")
    assert page.inner_text("table.rows tbody tr:nth-child(2)").split("\t") == ["2", "/p2", "20"]
    assert page.inner_text("#status").startswith("3 rows")
    screenshot(page, "editor")
    page.keyboard.press("Escape")
    wait_for(lambda: "stopped" in page.inner_text("#status"))
    assert page.is_disabled("#stop")

    # Ctrl-Enter in the editor runs it too
    page.evaluate("sql => window.editor.setValue(sql)", "SHOW STREAMS;")
    page.click(".CodeMirror")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("table.rows th:has-text('Stream Name')")

    # an error is shown at its line and column
    run(page, "SHOW STREAMS;\nSELEC 1;")
    page.wait_for_selector("#error:not([hidden])")
    assert "Syntax Error" in page.inner_text("#error")
    assert page.eval_on_selector_all(".cm-error-line", "lines => lines.length") == 1

    # a persistent query: its rate goes above zero, then it is terminated from the page
    run(page, "CREATE STREAM slow_pages AS SELECT id, page FROM pageviews WHERE ms > 10;")
    page.wait_for_selector(".message:has-text('Created query')")
    page.click("nav button[data-view=queries]")
    page.wait_for_selector("#queries tr[data-query^=CSAS_SLOW_PAGES]")

    def rate_above_zero():
        httpx.post(server.url + "/inserts-stream", content='{"target": "PAGEVIEWS"}\n{"ID": 9, "PAGE": "/x", "MS": 99}',
                   timeout=30)
        # (read in one go: the view redraws its table every 2 s)
        return page.evaluate("() => Number(document.querySelector("
                             "'#queries tr[data-query^=CSAS_SLOW_PAGES]')?.cells[3].textContent || 0)") > 0
    wait_for(rate_above_zero, timeout=30, interval=1.0)
    page.click("#queries tr[data-query^=CSAS_SLOW_PAGES] td.link")
    page.wait_for_selector(".plan .node.sink:has-text('Sink SLOW_PAGES')")
    assert page.is_visible(".plan .node.source:has-text('Source PAGEVIEWS')")
    screenshot(page, "queries")
    page.click("#queries tr[data-query^=CSAS_SLOW_PAGES] button:has-text('Terminate')")
    page.wait_for_function("!document.querySelector('#queries tr[data-query^=CSAS_SLOW_PAGES]')")

    # the catalog: streams, topics, functions; a topic printed from the beginning
    page.click("nav button[data-view=catalog]")
    page.wait_for_selector("#streams li:has-text('PAGEVIEWS')")
    page.click("#functions li:has-text('UCASE')")
    page.wait_for_selector("#detail:has-text('UCASE')")
    screenshot(page, "catalog")
    # pageviews holds the 3 rows and the 3 the rate check inserted at least
    assert int(page.inner_text("#topics tr:has-text('pageviews') td:nth-child(3)")) >= 4
    page.click("#topics tr:has-text('pageviews') td:has-text('from the beginning')")
    page.wait_for_selector("#results pre:has-text('/p1')")
    page.keyboard.press("Escape")

    page.click("nav button[data-view=cluster]")
    page.wait_for_selector("#cluster td:has-text('alive')")


def test_the_cluster_view_shows_each_server_and_its_partitions_on_kafka(tmp_path, kafka_broker):
    sync_api = pytest.importorskip("playwright.sync_api")
    args = ("--bootstrap-servers", kafka_broker.bootstrap_servers)
    servers = [Server(tmp_path / "one", *args), Server(tmp_path / "two", *args)]
    try:
        assert servers[0].ksql("CREATE STREAM clicks (id INT KEY, url STRING) WITH (kafka_topic='clicks', "
                               "value_format='JSON', partitions=2); CREATE STREAM long_clicks AS SELECT id, url "
                               "FROM clicks WHERE LEN(url) > 3;").status_code == 200
        with sync_api.sync_playwright() as playwright:
            chromium = started(lambda: browser(playwright), BrowserUnavailable, "Chromium")
            page = chromium.new_page(viewport={"width": 1280, "height": 800})
            page.goto(servers[1].url + "/")
            page.wait_for_function("window.editor !== undefined")
            page.click("nav button[data-view=cluster]")

            def shared():  # both servers alive, each running one of the query's two partitions
                rows = page.evaluate("() => [...document.querySelectorAll('#cluster tbody tr')]"
                                     ".map(r => [...r.cells].map(c => c.textContent))")
                return len(rows) == 2 and all(r[1] == "alive" and r[3].count("clicks-") == 1 for r in rows)
            wait_for(shared, timeout=60, interval=0.5)
            screenshot(page, "cluster")
            chromium.close()
    finally:
        for server in servers:
            server.stop()
        kafka_broker.clean()
