"""The pages work under the Content-Security-Policy in Chromium: crawling the demo portal
(the sample provider and every installed plugin) signed in, no console reports a CSP
violation (and the listener does catch one: an inline script added on purpose is refused),
htmx still swaps, print buttons still work (a plugin's own print page: its tests)."""
import re
from urllib.parse import urljoin, urlsplit

import pytest
from playwright.sync_api import expect
from portal.testing import browser_login

pytestmark = pytest.mark.browser

SKIP = re.compile(r"/logout|\.ics|/bulk-form/\d+$|/static/|/api/|\.(csv|xlsx)$")  # downloads, not pages


@pytest.fixture
def app(make_app):
    return make_app(EXAM_PORTAL_PLUGINS=None)


@pytest.fixture
def demo_login(app):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1].split(": ", 1)[1].split(" / ")


def _sign_in(page, live_server, email, password):
    browser_login(page, live_server, email, password)


def test_the_listener_catches_an_inline_script(page, live_server, csp_reports):
    page.goto(f"{live_server}/login")
    page.evaluate("""() => { const s = document.createElement('script');
                             s.textContent = 'window.__inline = 1'; document.head.appendChild(s); }""")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__inline") is None
    assert any("inline" in r for r in csp_reports), csp_reports


def test_every_page_loads_without_a_csp_violation(page, live_server, demo_login, csp_reports):
    _sign_in(page, live_server, *demo_login)
    seen, queue = set(), ["/dashboard"]
    while queue and len(seen) < 60:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = page.goto(live_server + path)
        assert response.status < 500, path
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
            target = urlsplit(urljoin(live_server + path, href))
            if target.netloc == urlsplit(live_server).netloc and not SKIP.search(target.path):
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
    assert len(seen) >= 25, seen
    assert {"/dashboard", "/calendar", "/candidates", "/admin/retention"} <= seen
    assert csp_reports == []


def test_htmx_swaps_and_the_moved_handlers_work_under_the_csp(page, live_server, demo_login, csp_reports):
    _sign_in(page, live_server, *demo_login)
    page.goto(f"{live_server}/providers/sample")
    page.evaluate("window.__noReload = true")
    page.locator("input[name=exam_start]").fill("2026-12-12T10:00")
    expect(page.locator("#calc-result [data-kind=essay]")).to_contain_text("SMP-DL-1")
    assert page.evaluate("window.__noReload") is True  # swapped by htmx, no page load
    # an htmx request the input layer refuses shows its message in the error box
    page.evaluate("""() => htmx.ajax('GET', '/candidates?q=%00', {target: '#main'})""")
    expect(page.locator("#errors")).to_contain_text("使えない文字")
    # a print button (formerly onclick=) calls window.print from portal.js, wherever a page puts one
    page.goto(f"{live_server}/dashboard")
    page.evaluate("""() => { window.print = () => { window.__printed = true };
                             const b = document.createElement('button'); b.type = 'button'; b.dataset.print = '';
                             b.textContent = '印刷'; document.querySelector('main').appendChild(b); }""")
    page.locator("[data-print]").click()
    assert page.evaluate("window.__printed") is True
    assert csp_reports == []
