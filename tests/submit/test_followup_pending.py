"""Follow-up additions keep their files through a correction, as the testimony form does.

Before, an addition sent back for a change (an answer too long, a refused file type,
an expired token) dropped every chosen file, and a family on Tor sent them all again.
"""

from __future__ import annotations

import io
import re

from flask import Flask
from flask.testing import FlaskClient

from intake.store.live_settings import save
from intake.web.database import get_session
from tests.submit.conftest import hidden, marker_file, read_everything
from tests.submit.test_followup import open_case, status_form, submit_and_get_code
from tests.submit.test_submit import pending_blobs, store_files

TOO_LONG = "شهادت " * 20_000
CARRIED = ("csrf_token", "code", "form_nonce", "files_key")


def add(client: FlaskClient, fields: dict[str, object], files: list[tuple[str, bytes]] = (),
        lang: str | None = None, **headers: str):  # type: ignore[no-untyped-def]
    data = dict(fields)
    if files:
        data["attachments"] = [(io.BytesIO(content), name) for name, content in files]
    path = "/followup/add" + (f"?lang={lang}" if lang else "")
    return client.post(path, data=data, content_type="multipart/form-data", headers=headers)


def sent_back(client: FlaskClient, code: str, files: list[tuple[str, bytes]]) -> str:
    """Send an addition whose text is too long, with files; return the page it comes back as."""
    response = add(client, status_form(client, code) | {"addition": TOO_LONG}, files)
    assert response.status_code == 422
    return response.get_data(as_text=True)


def listed(page: str) -> list[str]:
    return re.findall(r'<li><span dir="auto">([^<]+)</span>', page)


def carried(page: str) -> dict[str, str]:
    return {name: hidden(page, name) for name in CARRIED}


def additions(app: Flask) -> list[dict[str, object]]:
    return [s for s in read_everything(app) if s["row"].parent_id]


def test_an_addition_sent_back_keeps_its_files_and_sends_them_byte_for_byte_in_order(
        app: Flask, client: FlaskClient) -> None:
    code = submit_and_get_code(client)
    first, second = marker_file(300_000), marker_file(2000, "second")
    page = sent_back(client, code, [("نامه.txt", first), ("scan.pdf", second)])
    assert listed(page) == ["نامه.txt", "scan.pdf"]
    assert TOO_LONG.strip() in page
    assert additions(app) == []
    assert len(pending_blobs(app)) == 2
    response = add(client, carried(page) | {"addition": "کوتاه"})
    assert response.status_code == 200
    [addition] = additions(app)
    assert [f["content"] for f in addition["files"]] == [first, second]
    assert [f["meta"]["filename"] for f in addition["files"]] == ["نامه.txt", "scan.pdf"]
    assert pending_blobs(app) == []
    assert len(store_files(app)) == 2


def test_a_pending_file_of_an_addition_can_be_removed_before_sending(
        app: Flask, client: FlaskClient) -> None:
    code = submit_and_get_code(client)
    page = sent_back(client, code, [("a.txt", b"keep"), ("b.txt", b"drop")])
    ids = re.findall(r'name="remove_file" value="([0-9a-f]+)"', page)
    assert len(ids) == 2
    removed = add(client, carried(page) | {"addition": TOO_LONG, "remove_file": ids[1]})
    assert listed(removed.get_data(as_text=True)) == ["a.txt"]
    assert add(client, carried(page) | {"addition": "x"}).status_code == 200
    [addition] = additions(app)
    assert [f["content"] for f in addition["files"]] == [b"keep"]
    assert pending_blobs(app) == []


def test_a_refused_file_type_is_never_kept_but_the_other_files_of_the_addition_are(
        app: Flask, client: FlaskClient) -> None:
    code = submit_and_get_code(client)
    with app.app_context():
        save(get_session(), {"accepted_types": "pdf, txt"})
        get_session().commit()
    response = add(client, status_form(client, code) | {"addition": "x"},
                   [("macro.docm", b"macro"), ("letter.txt", b"letter")])
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "macro.docm" in page
    assert listed(page) == ["letter.txt"]
    assert len(pending_blobs(app)) == 1
    assert add(client, carried(page) | {"addition": "x"}).status_code == 200
    [addition] = additions(app)
    assert [f["meta"]["filename"] for f in addition["files"]] == ["letter.txt"]


def test_an_expired_addition_from_our_own_page_comes_back_with_its_text_and_files(
        app: Flask, client: FlaskClient) -> None:
    code = submit_and_get_code(client)
    fields = status_form(client, code) | {"csrf_token": "expired", "addition": "نامهٔ تازه"}
    ours = add(client, fields, [("l.txt", b"letter")], **{"Sec-Fetch-Site": "same-origin"})
    page = ours.get_data(as_text=True)
    assert ours.status_code == 400
    assert "نامهٔ تازه</textarea>" in page
    assert listed(page) == ["l.txt"]
    assert add(client, carried(page) | {"addition": "نامهٔ تازه"}).status_code == 200
    [addition] = additions(app)
    assert [f["content"] for f in addition["files"]] == [b"letter"]


def test_an_expired_addition_from_another_site_shows_nothing_back_and_keeps_nothing(
        app: Flask, client: FlaskClient) -> None:
    code = submit_and_get_code(client)
    fields = status_form(client, code) | {"csrf_token": "expired", "addition": "نامهٔ تازه"}
    foreign = add(client, fields, [("l.txt", b"letter")], **{"Sec-Fetch-Site": "cross-site"})
    assert foreign.status_code == 400
    assert "نامهٔ تازه" not in foreign.get_data(as_text=True)
    assert pending_blobs(app) == []
    assert store_files(app) == []


def test_an_addition_with_a_wrong_code_keeps_no_pending_file(
        app: Flask, client: FlaskClient) -> None:
    code = submit_and_get_code(client)
    fields = status_form(client, code) | {"code": "سیب " * 8, "addition": TOO_LONG}
    page = add(client, fields, [("l.txt", b"letter")]).get_data(as_text=True)
    assert '<dl class="outline">' not in page
    assert (pending_blobs(app), store_files(app)) == ([], [])
    assert "<dd>" not in open_case(client, "سیب " * 8).get_data(as_text=True)


def test_an_expired_addition_never_keeps_a_file_of_a_refused_type(
        app: Flask, client: FlaskClient) -> None:
    code = submit_and_get_code(client)
    with app.app_context():
        save(get_session(), {"accepted_types": "pdf, txt"})
        get_session().commit()
    fields = status_form(client, code) | {"csrf_token": "expired", "addition": "x"}
    page = add(client, fields, [("run.exe", b"MZ"), ("l.txt", b"letter")],
               **{"Sec-Fetch-Site": "same-origin"}).get_data(as_text=True)
    assert listed(page) == ["l.txt"]
    assert len(pending_blobs(app)) == 1


def test_a_language_button_keeps_the_typed_addition_and_its_files_and_stores_nothing_yet(
        app: Flask, client: FlaskClient) -> None:
    """The status page's language links went to /followup/?lang=en, which dropped the code,
    the text typed and the files chosen; the buttons post the form and show it in English."""
    code = submit_and_get_code(client)
    first, second = marker_file(300_000), marker_file(2000, "second")
    switched = add(client, status_form(client, code) | {
        "action": "language", "addition": "نامهٔ تازه"},
        [("نامه.txt", first), ("scan.pdf", second)], lang="en")
    page = switched.get_data(as_text=True)
    assert switched.status_code == 200
    assert '<html lang="en" dir="ltr">' in page
    assert "Add more" in page
    assert "نامهٔ تازه</textarea>" in page
    assert listed(page) == ["نامه.txt", "scan.pdf"]
    assert hidden(page, "code") == code
    assert (additions(app), len(pending_blobs(app))) == ([], 2)
    assert add(client, carried(page) | {"addition": "نامهٔ تازه"}).status_code == 200
    [addition] = additions(app)
    assert addition["answers"] == {"addition": "نامهٔ تازه"}
    assert [f["content"] for f in addition["files"]] == [first, second]
    assert pending_blobs(app) == []


def test_the_status_page_switches_language_by_posting_the_addition_form_never_by_a_link(
        client: FlaskClient) -> None:
    """The code travels in the POST body only; a link would lose it and what was typed."""
    page = open_case(client, submit_and_get_code(client)).get_data(as_text=True)
    buttons = re.findall(r'<button class="link" form="addition-form" formaction="([^"]+)"'
                         r' formnovalidate name="action" value="language"', page)
    assert buttons == ["/followup/add?lang=fa", "/followup/add?lang=en"]
    assert '<form id="addition-form" method="post" action="/followup/add"' in page
    assert "?lang=" not in page.replace('formaction="/followup/add?lang=', "")


def test_nothing_to_add_is_a_persian_error_linked_to_the_answer_and_keeps_the_code(
        app: Flask, client: FlaskClient) -> None:
    """It was a page of its own ("Nothing was added"), which left the form and the code."""
    code = submit_and_get_code(client)
    back = add(client, status_form(client, code) | {"addition": " \n "})
    page = back.get_data(as_text=True)
    assert back.status_code == 422
    assert '<div class="error-summary" role="alert"' in page
    assert ('<li><a href="#addition">چه چیزی می‌خواهید اضافه کنید؟: آنچه را می‌خواهید'
            ' اضافه کنید بنویسید، یا فایلی انتخاب کنید.</a></li>') in page
    assert ('<textarea aria-describedby="addition-error" aria-invalid="true" dir="auto" '
            'id="addition"') in page
    assert '<p class="field-error" id="addition-error">' in page
    assert hidden(page, "code") == code
    assert additions(app) == []


def test_files_kept_from_an_earlier_round_are_something_to_add_without_any_text(
        app: Flask, client: FlaskClient) -> None:
    code = submit_and_get_code(client)
    page = sent_back(client, code, [("scan.pdf", b"scan")])
    assert add(client, carried(page) | {"addition": ""}).status_code == 200
    [addition] = additions(app)
    assert [f["content"] for f in addition["files"]] == [b"scan"]
