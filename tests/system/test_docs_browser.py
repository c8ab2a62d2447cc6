"""/docs in a real browser: headless Chromium (Debian's chromium and chromium-driver, which .ci/run
installs) loads the Swagger UI page from a real gunicorn, lists every operation of /openapi.json,
runs "Try it out" on the mentor status list, and never sends a request anywhere but the service.

A screenshot of the page is saved in the test's temporary directory, or, with
SAVE_DOCS_SCREENSHOT=1, to docs/docs-page.png (the README shows it).
"""
import json
import os
import shutil
import sys
import tempfile

import pytest
import requests
from servers import REPO_ROOT, Gunicorn

pytestmark = pytest.mark.slow

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
DRIVER_NAMES = ("chromedriver",)
# Searched after PATH: Debian's packages install here, and a CI shell's PATH may not list them.
FALLBACK_DIRECTORIES = ("/usr/bin", "/usr/lib/chromium")
README_SCREENSHOT = REPO_ROOT / "docs" / "docs-page.png"
TIMEOUT = 60
LOCAL_SCHEMES = ("data:", "blob:")


def find_executable(names):
    """The first of `names` found on PATH, else in `FALLBACK_DIRECTORIES`; None if none is anywhere."""
    for path in (None, os.pathsep.join(FALLBACK_DIRECTORIES)):
        for name in names:
            found = shutil.which(name, path=path)
            if found:
                return found
    return None


@pytest.fixture
def browser():
    chromium, chromedriver = find_executable(BROWSER_NAMES), find_executable(DRIVER_NAMES)
    missing = [f"a browser ({', '.join(BROWSER_NAMES)})" if chromium is None else None,
               f"a driver ({', '.join(DRIVER_NAMES)})" if chromedriver is None else None]
    if any(missing):
        pytest.skip(f"{' and '.join(filter(None, missing))} not found on PATH or in "
                    f"{', '.join(FALLBACK_DIRECTORIES)}: install Debian's chromium and chromium-driver "
                    "(`apt-get install chromium chromium-driver`, as .ci/run does)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--disable-default-apps", "--disable-extensions", "--window-size=1280,1700",
                         f"--user-data-dir={profile}",
                         # Belt and braces: no name but the loopback address resolves (the test below still
                         # sees any request that tries to leave, in the performance log).
                         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        driver = webdriver.Chrome(service=Service(chromedriver), options=options)
        try:
            driver.set_page_load_timeout(TIMEOUT)
            yield driver
        finally:
            driver.quit()


@pytest.mark.parametrize("browser_name", BROWSER_NAMES)
def test_the_browser_and_its_driver_are_found_anywhere_on_path(tmp_path, monkeypatch, browser_name):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for name in (browser_name, "chromedriver"):
        (elsewhere / name).write_text("#!/bin/sh\n")
        (elsewhere / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path / 'empty'}{os.pathsep}{elsewhere}")
    monkeypatch.setattr(sys.modules[__name__], "FALLBACK_DIRECTORIES", (str(tmp_path / "nothing"),))

    assert find_executable(BROWSER_NAMES) == str(elsewhere / browser_name)
    assert find_executable(DRIVER_NAMES) == str(elsewhere / "chromedriver")


def test_the_usual_directories_are_searched_when_path_lacks_the_browser(tmp_path, monkeypatch):
    usual = tmp_path / "usr-bin"
    usual.mkdir()
    (usual / "chromium").write_text("#!/bin/sh\n")
    (usual / "chromium").chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(sys.modules[__name__], "FALLBACK_DIRECTORIES", (str(usual),))

    assert find_executable(BROWSER_NAMES) == str(usual / "chromium")
    assert find_executable(DRIVER_NAMES) is None


def requested_urls(driver):
    """URLs of the requests the page has sent since the last call (reading the log empties it)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def test_docs_page_lists_every_operation_and_tries_one_out_without_leaving_the_machine(tmp_path, browser):
    screenshot = README_SCREENSHOT if os.environ.get("SAVE_DOCS_SCREENSHOT") == "1" else tmp_path / "docs-page.png"
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as expected
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, TIMEOUT)
    with Gunicorn(f"sqlite:///{tmp_path}/docs.db", workers=2) as server:
        for mentor_id, status in (("mentor-001", "active"), ("mentor-002", "paused"), ("mentor-003", "inactive")):
            created = requests.post(f"{server.base_url}/api/v1/mentor-statuses", timeout=30,
                                    json={"mentor_id": mentor_id, "status": status})
            assert created.status_code == 201, created.text
        document = requests.get(f"{server.base_url}/openapi.json", timeout=30).json()
        operations = {(method.upper(), path) for path, item in document["paths"].items()
                      for method in item if method != "parameters"}
        assert len(operations) >= 12  # 10 API operations, /healthz and /readyz

        # The browser's own start page (chrome:// resources) is not part of the test.
        browser.get("about:blank")
        startup = requested_urls(browser)
        assert all(url.startswith(("chrome://", "about:", *LOCAL_SCHEMES)) for url in startup), startup

        browser.get(f"{server.base_url}/docs")
        wait.until(lambda driver: len(driver.find_elements(By.CSS_SELECTOR, ".opblock")) >= len(operations))
        listed = {(block.find_element(By.CSS_SELECTOR, ".opblock-summary-method").text,
                   block.find_element(By.CSS_SELECTOR, ".opblock-summary-path").get_attribute("data-path"))
                  for block in browser.find_elements(By.CSS_SELECTOR, ".opblock")}
        assert listed == operations
        assert browser.find_element(By.CSS_SELECTOR, ".info .title").text.startswith(document["info"]["title"])

        operation = browser.find_element(By.ID, "operations-mentor_statuses-listMentorStatuses")
        operation.find_element(By.CSS_SELECTOR, ".opblock-summary-control").click()
        wait.until(lambda _: operation.find_elements(By.CSS_SELECTOR, ".try-out__btn"))
        operation.find_element(By.CSS_SELECTOR, ".try-out__btn").click()
        execute = wait.until(expected.element_to_be_clickable(
            (By.CSS_SELECTOR, "#operations-mentor_statuses-listMentorStatuses .execute")))
        execute.click()
        status = wait.until(expected.visibility_of_element_located(
            (By.CSS_SELECTOR, "#operations-mentor_statuses-listMentorStatuses "
                              ".live-responses-table tr.response .response-col_status")))
        body = operation.find_element(
            By.CSS_SELECTOR, ".live-responses-table tr.response .response-col_description pre")

        assert status.text.strip() == "200"
        assert json.loads(body.text)["pagination"]["total"] == 3
        assert [item["mentor_id"] for item in json.loads(body.text)["data"]] == [
            "mentor-001", "mentor-002", "mentor-003"]
        request_url = operation.find_element(By.CSS_SELECTOR, ".request-url pre").text.strip()
        assert request_url.startswith(f"{server.base_url}/api/v1/mentor-statuses")

        # A screenshot for the README: the operations, and the one just tried with its response.
        browser.execute_script("window.scrollTo(0, 0)")
        assert browser.save_screenshot(str(screenshot))

        urls = requested_urls(browser)
        assert f"{server.base_url}/docs/assets/swagger-ui-bundle.js" in urls
        assert f"{server.base_url}/openapi.json" in urls
        assert any(url.startswith(f"{server.base_url}/api/v1/mentor-statuses") for url in urls)
        outside = [url for url in urls if not url.startswith((f"{server.base_url}/", *LOCAL_SCHEMES))]
        assert not outside, f"the docs page sent requests elsewhere than {server.base_url}: {outside}"
        errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"
                  and "/favicon.ico" not in entry["message"]]
        assert not errors, errors

    assert screenshot.stat().st_size > 10_000
