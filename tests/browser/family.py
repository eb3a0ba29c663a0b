"""Steps a family takes in the browser, shared by the browser tests."""

from __future__ import annotations

from playwright.sync_api import Page


def take_a_code(page: Page, start_url: str) -> str:
    """Open the start page, show the code, tick that it is written down and open the form."""
    page.goto(start_url)
    page.click("main form button[type=submit] >> nth=0")  # "Show me my code"
    code = page.inner_text("p.code")
    page.check("input[name=written_down]")
    page.click("#code-form button[type=submit] >> nth=0")  # "Continue to the form"
    page.wait_for_load_state()  # the form, loaded (a click returns once the navigation starts)
    return code


def skip_the_code(page: Page, start_url: str) -> None:
    """Open the start page and go to the form without a code."""
    page.goto(start_url)
    page.click("main form button[name=no_code]")
    page.wait_for_load_state()


def send(page: Page) -> None:
    """Press the form's visible send button."""
    page.click("form#testimony button[name=action][value=send]:visible")
    page.wait_for_load_state()
