"""A family's browser holds no time finer than the day: cookies and hidden form fields."""

from __future__ import annotations

import base64
import binascii
import contextlib
import io
import re
import time
import zlib
from http.cookies import SimpleCookie

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from werkzeug.test import TestResponse

from intake.web import untimed
from tests.submit.conftest import csrf_and_nonce, filled_form, post_form

DAY = 86400
YEARS = 5 * 365 * DAY


def segments(value: str) -> list[bytes]:
    """Every piece of a token, base64-decoded (and inflated) where it decodes."""
    found = [value.encode()]
    for part in re.split(r"[.:|]", value):
        try:
            raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        except (binascii.Error, ValueError):
            continue
        found.append(raw)
        with contextlib.suppress(zlib.error):
            found.append(zlib.decompress(raw))
    return found


def times_in(value: str) -> list[int]:
    """Unix times within five years of now found in a value, as integers or decimal text."""
    now, candidates = int(time.time()), []
    for raw in segments(value):
        if 4 <= len(raw) <= 8:
            candidates.append(int.from_bytes(raw, "big"))
        candidates += [int(d) for d in re.findall(rb"(?<!\d)\d{10}(?!\d)", raw)]
    return [t for t in candidates if abs(t - now) < YEARS]


def finer_than_a_day(value: str) -> list[int]:
    return [t for t in times_in(value) if t % DAY]


def test_the_detector_finds_the_second_in_stock_itsdangerous_tokens() -> None:
    """Without this, a detector that finds nothing would pass a leaking build."""
    stock = URLSafeTimedSerializer("k", salt="wtf-csrf-token").dumps("a" * 40)
    assert finer_than_a_day(stock)


def browser_sees(response: TestResponse, seen: list[tuple[str, str]]) -> TestResponse:
    """Collect every cookie (whole header and value) and hidden field a response gives."""
    for header in response.headers.getlist("Set-Cookie"):
        for morsel in SimpleCookie(header).values():
            if morsel["max-age"] == "0" and not morsel.value:
                continue  # a deletion: its fixed 1970 date says nothing of the visit
            seen += [(f"cookie {morsel.key}", header), (f"cookie {morsel.key}", morsel.value)]
            # An Expires or Max-Age would date the visit in the browser's cookie store.
            assert not morsel["expires"], header
            assert not morsel["max-age"], header
    for tag in re.findall(r"<input[^>]*>", response.get_data(as_text=True)):
        name, value = re.search(r'name="([^"]*)"', tag), re.search(r'value="([^"]*)"', tag)
        if 'type="hidden"' in tag and name:
            seen.append((name.group(1), value.group(1) if value else ""))
    return response


def test_no_cookie_or_hidden_field_a_family_gets_holds_a_time_finer_than_a_day(
        client: FlaskClient) -> None:
    """Flask-WTF's CSRF token and Flask's session cookie carried the second of the visit."""
    seen: list[tuple[str, str]] = []
    browser_sees(client.get("/?lang=en"), seen)
    browser_sees(client.get("/submit"), seen)
    browser_sees(post_form(client, filled_form(name="")), seen)  # comes back with an error
    receipt = browser_sees(post_form(client, filled_form()), seen)
    code = re.search(r'<p class="code" lang="fa">([^<]+)</p>', receipt.get_data(as_text=True))
    assert code
    token = csrf_and_nonce(client)["csrf_token"]
    browser_sees(client.get("/followup"), seen)
    status = browser_sees(client.post("/followup/", data={"csrf_token": token,
                                                          "code": code.group(1)}), seen)
    nonce = re.search(r'name="form_nonce" type="hidden" value="([^"]+)"',
                      status.get_data(as_text=True))
    assert nonce
    browser_sees(client.post("/followup/add", content_type="multipart/form-data", data={
        "csrf_token": token, "code": code.group(1), "form_nonce": nonce.group(1),
        "addition": "more", "attachments": [(io.BytesIO(b"x"), "x.txt")]}), seen)
    assert {"csrf_token", "form_nonce", "code", "cookie intake_session"} <= {n for n, _ in seen}
    assert [(name, value) for name, value in seen if finer_than_a_day(value)] == []


def day_token(app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch,
              days_ago: float) -> str:
    """A CSRF token as the form gave it `days_ago` days ago."""
    monkeypatch.setattr(untimed, "_clock", lambda: time.time() - days_ago * DAY)
    token = csrf_and_nonce(client)["csrf_token"]
    monkeypatch.setattr(untimed, "_clock", time.time)
    return token


@pytest.mark.parametrize(("days_ago", "accepted"), [(0, True), (1, True), (2, False)])
def test_a_form_token_lasts_from_its_day_to_the_end_of_the_next(
        app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch, days_ago: int,
        accepted: bool) -> None:
    """A family who opens the form just before midnight can still send it after."""
    form = {"csrf_token": day_token(app, client, monkeypatch, days_ago)} | filled_form()
    form["form_nonce"] = "n" * 32
    response = client.post("/submit", data=form, content_type="multipart/form-data")
    assert (response.status_code == 200) is accepted, response.status_code
