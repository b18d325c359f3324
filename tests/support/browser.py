"""A real browser for the web pages: Debian's chromium, headless, driven by selenium.

``browser`` yields a ``Browser`` bound to a base URL; ``shot(name)`` saves a screenshot under
test-artifacts/screenshots/ (kept by CI as artifacts; ignored by git). Waits poll until a
deadline (selenium's WebDriverWait), never sleep a fixed time.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


class Browser:
    def __init__(self, driver: webdriver.Chrome, base_url: str) -> None:
        self.driver = driver
        self.base = base_url.rstrip("/")

    def open(self, path: str) -> None:
        self.driver.get(self.base + path)

    def find(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def finds(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def fill(self, label: str, value: str) -> None:
        """Type into the field labelled ``label`` (as a person would find it)."""
        field = self.driver.find_element(By.XPATH, f"//label[normalize-space()={_xpath_str(label)}]")
        target = self.driver.find_element(By.ID, field.get_attribute("for") or "")
        target.clear()
        target.send_keys(value)

    def click(self, text: str) -> None:
        """Click the button or link whose visible text is ``text``."""
        q = _xpath_str(text)
        self.driver.find_element(
            By.XPATH, f"//button[normalize-space()={q}] | //a[normalize-space()={q}]"
        ).click()

    def wait(self, check: Callable[[webdriver.Chrome], Any], timeout: float = 15, what: str = "") -> Any:
        return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(check, what)

    def wait_text(self, text: str, timeout: float = 15) -> None:
        self.wait(lambda d: text in _body_text(d), timeout, f"text {text!r}")

    def text(self) -> str:
        return str(self.driver.find_element(By.TAG_NAME, "body").text)

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.png"
        self.driver.save_screenshot(str(path))
        return path


def _body_text(driver: webdriver.Chrome) -> str:
    """The page's text; "" while the page is being replaced (a stale element is not a failure)."""
    try:
        return str(driver.find_element(By.TAG_NAME, "body").text)
    except WebDriverException:
        return ""


def _xpath_str(text: str) -> str:
    if "'" not in text:
        return f"'{text}'"
    return "concat(" + ', "\'", '.join(f"'{part}'" for part in text.split("'")) + ")"


@contextmanager
def browser(
    base_url: str, width: int = 1280, height: int = 900, extra_args: tuple[str, ...] = ()
) -> Iterator[Browser]:
    """``extra_args``: more chromium flags (tests/support/media_browser.py adds fake media)."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={width},{height}",
        "--lang=en-US",
        *extra_args,
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    if width < 500:  # chromium's window is never narrower than 500 px: emulate a phone's viewport
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 2, "mobile": True},
        )
    try:
        yield Browser(driver, base_url)
    finally:
        driver.quit()


@asynccontextmanager
async def async_browser(base_url: str, extra_args: tuple[str, ...] = ()) -> AsyncIterator[Browser]:
    """``browser`` for async tests: opened and closed in a thread (selenium blocks)."""
    opened = browser(base_url, extra_args=extra_args)
    b = await asyncio.to_thread(opened.__enter__)
    try:
        yield b
    finally:
        await asyncio.to_thread(opened.__exit__, None, None, None)
