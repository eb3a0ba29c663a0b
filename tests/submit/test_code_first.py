"""The follow-up code is made before the testimony and carried by the family's own forms."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake.store.live_settings import save
from intake.testimonies.codes import parse_code
from intake.web.database import get_session
from tests.conftest import Instance
from tests.submit.conftest import csrf_and_nonce, filled_form, hidden, post_form, read_everything
from tests.submit.test_submit import stored_rows


def words(page: str) -> list[str]:
    """Return the numbered words of the code as a page shows them."""
    listed = re.search(r'<ol class="code-words" lang="\w+">(.*?)</ol>', page, re.S)
    return re.findall(r"<li>([^<]+)</li>", listed.group(1)) if listed else []


def code_page(client: FlaskClient, lang: str = "fa", **extra: str) -> tuple[dict[str, str], str]:
    """Load the start page, then the code page; return the carried fields and the page."""
    fields = csrf_and_nonce(client, lang)
    page = client.post(f"/submit/code?lang={lang}", data=fields | extra)
    assert page.status_code == 200
    return fields, page.get_data(as_text=True)


def urls_in(page: str) -> list[str]:
    """Every address a page links or sends to."""
    return re.findall(r'(?:href|action|formaction|src)="([^"]*)"', page)


def test_the_code_is_shown_only_after_a_post_numbered_with_its_order_explained(
        client: FlaskClient) -> None:
    """A reloaded or restored GET must not show a new code: the start page only carries it."""
    start = client.get("/submit").get_data(as_text=True)
    assert words(start) == []
    fields, page = code_page(client)
    assert " ".join(words(page)) == fields["code"]
    assert len(words(page)) == 8
    assert "ترتیب مهم است" in page
    assert 'name="written_down"' in page


def test_reloading_or_switching_the_language_of_the_code_page_keeps_the_code(
        client: FlaskClient) -> None:
    """Reload sends the same body; the language buttons send it too, the language in the URL."""
    fields, page = code_page(client)
    again = client.post("/submit/code?lang=fa", data=fields).get_data(as_text=True)
    english = client.post("/submit/code?lang=en", data=fields | {"language": "en"})
    english_page = english.get_data(as_text=True)
    assert words(again) == words(page) == words(english_page)
    assert '<html lang="en" dir="ltr">' in english_page
    for shown in (page, english_page):
        assert 'formaction="/submit/code?lang=en"' in shown
        assert [url for url in urls_in(shown) if any(w in url for w in words(page))] == []


def test_the_form_opens_only_once_the_code_is_marked_written_down(client: FlaskClient) -> None:
    fields, _ = code_page(client)
    refused = client.post("/submit/form", data=fields)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "لطفاً واژه‌ها را یادداشت کنید" in page
    assert " ".join(words(page)) == fields["code"]
    form = client.post("/submit/form", data=fields | {"written_down": "y"}).get_data(as_text=True)
    assert hidden(form, "code") == fields["code"]
    assert " ".join(words(form)) == fields["code"]
    assert hidden(form, "form_nonce") == fields["form_nonce"]


def test_without_a_code_the_form_opens_and_the_testimony_is_stored_without_one(
        app: Flask, client: FlaskClient) -> None:
    fields = csrf_and_nonce(client)
    form = client.post("/submit/form", data=fields | {"no_code": "1"}).get_data(as_text=True)
    assert hidden(form, "code") == ""
    response = client.post("/submit", data=filled_form() | {
        name: hidden(form, name) for name in ("csrf_token", "form_nonce", "code", "files_key")})
    assert response.status_code == 200
    assert words(response.get_data(as_text=True)) == []
    [stored] = read_everything(app)
    assert stored["row"].family_lookup is None


def test_a_language_switch_on_the_form_keeps_answers_and_code_and_stores_nothing(
        app: Flask, client: FlaskClient) -> None:
    payload = csrf_and_nonce(client) | filled_form() | {"action": "language"}
    response = client.post("/submit?lang=en", data=payload, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="en" dir="ltr">' in page
    assert hidden(page, "code") == payload["code"]
    assert "اوین، گوهردشت" in page
    assert "error-summary" not in page
    assert stored_rows(app) == (0, 0)


@pytest.mark.parametrize("carried", [
    "apple apple apple apple apple apple apple notaword",
    "آب آب آب آب آب آب آب",
    "آب آب آب آب آب آب آب آب آب",
])
def test_a_code_the_server_could_not_have_made_is_refused_and_nothing_is_stored(
        app: Flask, client: FlaskClient, carried: str) -> None:
    """A client must not choose a code outside the word list (or of another length)."""
    response = post_form(client, filled_form(code=carried))
    assert response.status_code == 422
    assert "این کد پیگیری در این‌جا ساخته نشده است" in response.get_data(as_text=True)
    fields = csrf_and_nonce(client) | {"code": carried}
    assert client.post("/submit/code", data=fields).status_code == 400
    assert stored_rows(app) == (0, 0)


def test_a_code_mixing_both_word_lists_is_refused(app: Flask, client: FlaskClient) -> None:
    persian = csrf_and_nonce(client, "fa")["code"].split()
    english = csrf_and_nonce(client, "en")["code"].split()
    response = post_form(client, filled_form(code=" ".join(persian[:4] + english[4:])))
    assert response.status_code == 422
    assert stored_rows(app) == (0, 0)


def test_a_second_form_with_a_used_code_keeps_its_answers_and_files_under_a_new_code(
        app: Flask, client: FlaskClient) -> None:
    """Reproduction: two testimonies (two relatives) written in two windows of one browser
    carry the same code (the shown-code cookie); the second one sent got "code in use"
    and everything typed in it, and its files, were lost."""
    first = csrf_and_nonce(client)
    assert client.post("/submit", data=first | filled_form()).status_code == 200
    second = csrf_and_nonce(client) | {"code": first["code"]}
    response = client.post("/submit", content_type="multipart/form-data", data=second
                           | filled_form(name="دیگری", testimony="برادرم SECOND-RELATIVE")
                           | {"attachments": [(io.BytesIO(b"second letter"), "letter2.txt")]})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "برادرم SECOND-RELATIVE" in page
    assert "letter2.txt" in page
    assert "کد پیگیری این فرم پیش‌تر برای شهادت دیگری به کار رفته است" in page
    new_code = hidden(page, "code")
    assert new_code != first["code"]
    assert parse_code(new_code) == new_code
    assert " ".join(words(page)) == new_code
    assert stored_rows(app) == (1, 0)
    again = {name: hidden(page, name) for name in ("csrf_token", "form_nonce", "code",
                                                   "files_key")}
    sent = client.post("/submit", data=again | filled_form(name="دیگری",
                                                             testimony="SECOND-RELATIVE"))
    assert sent.status_code == 200
    assert " ".join(words(sent.get_data(as_text=True))) == new_code
    [content] = [f["content"] for s in read_everything(app) for f in s["files"]]
    assert content == b"second letter"


def test_no_file_the_server_writes_holds_the_code_and_reviewers_cannot_read_it(
        app: Flask, client: FlaskClient, instance: Instance) -> None:
    """Through the code page, a form sent back and the final send: only the lookup id."""
    fields, _ = code_page(client)
    client.post("/submit/form", data=fields | {"written_down": "y"})
    post_form(client, filled_form(testimony="") | {"code": fields["code"]},
              [("a.txt", b"kept")])
    assert client.post("/submit", data=fields | filled_form()).status_code == 200
    # Whole words of four letters or more: a shorter one may turn up by chance in ciphertext.
    needles = [fields["code"].encode()] + [w.encode() for w in fields["code"].split()
                                            if len(w) >= 4]
    written = [p for root in (instance.instance_path, instance.keys_dir)
               for p in Path(root).rglob("*") if p.is_file()]
    assert [str(p) for p in written for n in needles if n in p.read_bytes()] == []
    [stored] = read_everything(app)
    assert "code" not in stored["answers"]
    assert fields["code"] not in str(stored["answers"])


def test_every_family_form_leaves_validation_to_the_server(client: FlaskClient) -> None:
    """The browser's own messages (in its language) must not come before ours."""
    fields, code = code_page(client)
    pages = [client.get("/submit").get_data(as_text=True), code,
             client.post("/submit/form", data=fields | {"written_down": "y"}).get_data(
                 as_text=True), client.get("/followup").get_data(as_text=True)]
    for page in pages:
        forms = re.findall(r"<form [^>]*>", page)
        assert forms
        assert [form for form in forms if "novalidate" not in form] == []


@pytest.mark.parametrize(("changes", "field_id"), [
    ({"testimony": ""}, "testimony"), ({"relationship": ""}, "relationship"),
    ({"name": "", "name_unknown": None}, "name"),
    ({"consent_internal": None, "consent_un": None}, "consent_internal"),
])
def test_each_error_is_linked_from_the_summary_and_described_by_its_field(
        client: FlaskClient, changes: dict[str, str | None], field_id: str) -> None:
    page = post_form(client, filled_form(**changes)).get_data(as_text=True)
    summary = re.search(r'<div class="error-summary" role="alert".*?</div>', page, re.S)
    assert summary
    assert f'href="#{field_id}"' in summary.group(0)
    assert f'id="{field_id}-error"' in page
    assert re.search(rf'aria-describedby="{field_id}-error"', page)
    assert f'id="{field_id}"' in page


def test_required_questions_say_so_in_words(client: FlaskClient) -> None:
    fields = csrf_and_nonce(client)
    page = client.post("/submit/form", data=fields | {"no_code": "1"}).get_data(as_text=True)
    for field in ("name", "relationship", "testimony"):
        assert re.search(rf'<label for="{field}">[^<]*<span class="required">\(الزامی\)</span>',
                         page), field
    legend = re.search(r"<fieldset class=\"consents\"[^>]*>\s*<legend>(.*?)</legend>", page, re.S)
    assert legend
    assert "(الزامی)" in legend.group(1)


def test_the_form_says_the_upload_limit_in_the_pages_digits(instance: Instance) -> None:
    from intake import create_app

    app = create_app(dict(instance.config, MAX_FILES=12))
    with app.app_context():
        save(get_session(), {"upload_limit_mib": "3"})
        get_session().commit()
    client = app.test_client()
    fields = csrf_and_nonce(client)
    page = client.post("/submit/form", data=fields | {"no_code": "1"}).get_data(as_text=True)
    assert "تا ۱۲ فایل، روی هم تا ۳ مگابایت" in page


def test_an_expired_code_page_from_our_own_page_keeps_the_code_with_a_fresh_token(
        client: FlaskClient) -> None:
    fields, _ = code_page(client)
    expired = fields | {"csrf_token": "expired"}
    ours = client.post("/submit/form", data=expired, headers={"Sec-Fetch-Site": "same-origin"})
    page = ours.get_data(as_text=True)
    assert ours.status_code == 400
    assert " ".join(words(page)) == fields["code"]
    renewed = fields | {"csrf_token": hidden(page, "csrf_token"), "written_down": "y"}
    assert client.post("/submit/form", data=renewed).status_code == 200
    foreign = client.post("/submit/code", data=expired, headers={"Sec-Fetch-Site": "cross-site"})
    assert foreign.status_code == 400
    assert words(foreign.get_data(as_text=True)) == []


def test_the_receipt_switches_language_keeping_the_code(client: FlaskClient) -> None:
    fields = csrf_and_nonce(client)
    receipt = client.post("/submit", data=fields | filled_form()).get_data(as_text=True)
    assert 'formaction="/submit/received?lang=en"' in receipt
    english = client.post("/submit/received?lang=en", data={
        "csrf_token": hidden(receipt, "csrf_token"), "code": fields["code"],
        "language": "en"}).get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in english
    assert " ".join(words(english)) == fields["code"]


def test_back_to_the_start_page_after_the_code_was_shown_carries_the_same_code(
        client: FlaskClient) -> None:
    """Going back to /submit (a GET, fetched again) must not swap a code already shown."""
    assert csrf_and_nonce(client)["code"] != csrf_and_nonce(client)["code"]  # none shown yet
    fields = csrf_and_nonce(client)
    shown = client.post("/submit/code", data=fields)
    cookie = shown.headers["Set-Cookie"]
    assert cookie.startswith("intake_shown_code=")
    for attribute in ("HttpOnly", "SameSite=Strict", "Path=/submit"):
        assert attribute in cookie
    assert "Expires" not in cookie
    assert "Max-Age" not in cookie
    assert fields["code"] not in cookie
    assert csrf_and_nonce(client)["code"] == fields["code"]
    assert client.post("/submit", data=fields | filled_form()).status_code == 200
    assert csrf_and_nonce(client)["code"] != fields["code"]  # sent: the next one is new


def test_choosing_no_code_forgets_the_code_shown(client: FlaskClient) -> None:
    fields = csrf_and_nonce(client)
    client.post("/submit/code", data=fields)
    client.post("/submit/form", data=fields | {"no_code": "1"})
    assert csrf_and_nonce(client)["code"] != fields["code"]
