"""The console in headless chromium against 200 simulated kiosks on a real mosquitto: log
in (and a wrong password refused), the fleet, filtered to the alerting kiosks, one kiosk
taken out of service with the confirmation and its status changing live, its screenshot
on the page, back in service; the audit log; CSRF; a viewer cannot command.

The browser's screenshots of each page are kept in out/console/."""

from __future__ import annotations

import json
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.console.conftest import OPERATOR, VIEWER, Stack, keep_screenshot

pytestmark = pytest.mark.timeout(120)
FLEET = 200
WAIT_S = 30

# fetch() from the page, as a script in it could; its HTTP status.
POST_FROM_PAGE = """
const [url, token, done] = arguments;
const headers = {"Content-Type": "application/json"};
if (token) headers["X-CSRF-Token"] = token;
fetch(url, {method: "POST", headers, body: JSON.stringify({command: "restart", args: {}})})
  .then(async (r) => done([r.status, await r.text()]));
"""


def wait(driver: Any, condition: Any, timeout: float = WAIT_S) -> Any:
    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(condition)


def log_in(driver: Any, stack: Stack, user: str, password: str) -> None:
    driver.delete_all_cookies()
    driver.get(stack.url + "/login")
    driver.find_element(By.ID, "username").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login").click()


def text(driver: Any, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).text


def audit(stack: Stack) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stack.audit.read_text().splitlines()]


def test_a_wrong_password_is_refused(fleet_200: Stack, browser: Any) -> None:
    log_in(browser, fleet_200, OPERATOR[0], "not-the-password")
    error = wait(browser, lambda d: d.find_elements(By.ID, "login-error"))[0]
    assert error.text == "wrong user name or password"
    assert browser.find_element(By.ID, "username").get_attribute("value") == OPERATOR[0]
    assert browser.find_element(By.ID, "password").get_attribute("value") == ""
    assert browser.current_url.endswith("/login")
    keep_screenshot(browser, "login-refused")
    assert {"event": "login_failed", "user": OPERATOR[0]}.items() <= audit(fleet_200)[-1].items()


def test_operator_takes_a_kiosk_out_of_service(fleet_200: Stack, browser: Any) -> None:
    log_in(browser, fleet_200, *OPERATOR)
    wait(browser, lambda d: text(d, "summary").startswith(f"{FLEET} kiosks · {FLEET} online"))
    rows = browser.find_elements(By.CSS_SELECTOR, "#fleet tbody tr")
    assert len(rows) == FLEET
    keep_screenshot(browser, "fleet")

    # Filter to the alerting kiosks: exactly those with an alert are shown.
    Select(browser.find_element(By.ID, "alert")).select_by_value("any")
    shown = browser.find_elements(By.CSS_SELECTOR, "#fleet tbody tr:not([hidden])")
    alerting = browser.find_elements(By.CSS_SELECTOR, "#fleet tbody tr.alerting")
    assert 0 < len(shown) < FLEET
    assert {r.get_attribute("data-kiosk") for r in shown} == {
        r.get_attribute("data-kiosk") for r in alerting
    }
    assert all(r.find_elements(By.TAG_NAME, "td")[5].text != "-" for r in shown)
    assert "alert=any" in browser.current_url
    keep_screenshot(browser, "fleet-alerting")
    Select(browser.find_element(By.ID, "alert")).select_by_value("card_stock_low")
    stock = browser.find_elements(By.CSS_SELECTOR, "#fleet tbody tr:not([hidden])")
    assert stock and all("card stock low" in r.text for r in stock)
    Select(browser.find_element(By.ID, "site")).select_by_value("site-03")
    both = browser.find_elements(By.CSS_SELECTOR, "#fleet tbody tr:not([hidden])")
    assert both and all(r.get_attribute("data-site") == "site-03" for r in both)
    assert len(both) < len(stock)

    # Open an alerting kiosk that is in service.
    kiosk = next(
        r for r in both if r.find_elements(By.TAG_NAME, "td")[3].text == "in service"
    ).get_attribute("data-kiosk")
    browser.find_element(By.LINK_TEXT, kiosk).click()
    wait(browser, lambda d: text(d, "kiosk-name") == kiosk and text(d, "service") == "in service")

    # Out of service: asked first, then the reply and the kiosk's new status arrive live.
    browser.find_element(By.ID, "cmd-out-of-service").click()
    dialog = browser.find_element(By.ID, "confirm")
    assert dialog.is_displayed() and text(browser, "confirm-text") == f"Out of service on {kiosk}?"
    keep_screenshot(browser, "kiosk-confirm")
    browser.find_element(By.ID, "confirm-yes").click()
    wait(browser, lambda d: text(d, "service") == "OUT OF SERVICE")
    reply = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#replies li.ok"))[0]
    assert "maintenance" in reply.text and '"in_service":false' in reply.text
    keep_screenshot(browser, "kiosk-out-of-service")

    # Its screenshot, shown as an image on the page.
    browser.find_element(By.ID, "cmd-screenshot").click()
    wait(
        browser,
        lambda d: d.execute_script(
            "const i = document.getElementById('screenshot');"
            "return !i.hidden && i.complete && i.naturalWidth > 0;"
        ),
    )
    keep_screenshot(browser, "kiosk-screenshot")

    # Back in service (not destructive: no question).
    browser.find_element(By.ID, "cmd-in-service").click()
    wait(browser, lambda d: text(d, "service") == "in service")
    assert not browser.find_element(By.ID, "confirm").is_displayed()

    # A POST without the CSRF token is refused, and nothing is sent.
    before = len(audit(fleet_200))
    url = f"{fleet_200.url}/kiosk/{kiosk}/command"
    status, body = browser.execute_async_script(POST_FROM_PAGE, url, "")
    assert status == 403 and "CSRF" in body
    assert len(audit(fleet_200)) == before

    # The audit log: each command, by whom, with its reply.
    entries = audit(fleet_200)
    sent = [e for e in entries if e["event"] == "command" and e["kiosk"] == kiosk]
    assert [(e["user"], e["command"], e["args"]) for e in sent] == [
        ("olga", "maintenance", {"on": True}),
        ("olga", "screenshot", {}),
        ("olga", "maintenance", {"on": False}),
    ]
    replies = {e["request_id"]: e for e in entries if e["event"] == "reply"}
    for e in sent:
        assert replies[e["request_id"]]["status"] == "ok"
        assert replies[e["request_id"]]["authentic"] is True
    assert replies[sent[1]["request_id"]]["result"]["png_base64"].endswith("chars>")


def test_a_viewer_cannot_command(fleet_200: Stack, browser: Any) -> None:
    log_in(browser, fleet_200, *VIEWER)
    wait(browser, lambda d: text(d, "summary").startswith(f"{FLEET} kiosks"))
    browser.find_element(By.LINK_TEXT, "sim-0001").click()
    wait(browser, lambda d: text(d, "kiosk-name") == "sim-0001" and text(d, "state") == "online")
    assert browser.find_elements(By.ID, "commands") == []
    assert browser.find_elements(By.CSS_SELECTOR, "button.command") == []
    keep_screenshot(browser, "kiosk-viewer")
    token = browser.execute_script("return CSRF;")
    status, body = browser.execute_async_script(
        POST_FROM_PAGE, f"{fleet_200.url}/kiosk/sim-0001/command", token
    )
    assert status == 403 and "viewer" in body
    assert not [e for e in audit(fleet_200) if e["event"] == "command" and e["user"] == "vic"]
