"""Every file name a family sent downloads, exports and shows safely, whatever it holds.

Names travel in the form as RFC 2231 `filename*` parameters, which Werkzeug
decodes, so a client can send any character, CR and LF included.
"""

from __future__ import annotations

import io
import re
import sqlite3
import time
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st

from intake.testimonies import filenames
from tests.live import REVIEWER_PASSPHRASE, LiveServer, initialise, start
from tests.review.test_cases import case_ids
from tests.submit.conftest import csrf_and_nonce, filled_form
from tests.submit.test_images import (
    CMYK,
    RGB,
    assert_every_frame_kept_and_no_location,
    gif,
    tiff,
    webp,
)

BOUNDARY = "----intake-file-names"
CONTENT = b"letter content\n"
FILE_LINK = re.compile(r'<bdi><a href="(/review/[0-9a-f]+/file/[0-9a-f]+)">([^<]*)</a></bdi>')
LONG = "ب" * 300 + ".txt"

# Name as sent; Content-Disposition of its download; how the case page writes it
# (HTML-escaped); its name in the exported bundle after "files/<case>-1-".
NAMES = [
    ("نامه‌ی پدر.pdf",
     "attachment; filename=\"file.pdf\"; filename*=UTF-8''"
     "%D9%86%D8%A7%D9%85%D9%87%E2%80%8C%DB%8C%20%D9%BE%D8%AF%D8%B1.pdf",
     "نامه‌ی پدر.pdf", "نامه‌ی پدر.pdf"),
    ("a\r\nb\r\nSet-Cookie: x=1.txt",
     "attachment; filename=\"abSet-Cookie_ x=1.txt\"; filename*=UTF-8''abSet-Cookie%3A%20x%3D1.txt",
     "abSet-Cookie: x=1.txt", "abSet-Cookie_ x=1.txt"),
    ('he said "hi".txt',
     "attachment; filename=\"he said _hi_.txt\"; filename*=UTF-8''he%20said%20%22hi%22.txt",
     "he said &#34;hi&#34;.txt", "he said _hi_.txt"),
    ("<script>alert(1)</script>.html",
     "attachment; filename=\"_script_alert(1)_script_.html\"; "
     "filename*=UTF-8''%3Cscript%3Ealert%281%29%3C_script%3E.html",
     "&lt;script&gt;alert(1)&lt;_script&gt;.html", "_script_alert(1)__script_.html"),
    ("invoice\u202egpj.exe",
     "attachment; filename=\"invoicegpj.exe\"; filename*=UTF-8''invoicegpj.exe",
     "invoicegpj.exe", "invoicegpj.exe"),
    ("\u2067نامه\u2069\u200f.txt",
     "attachment; filename=\"file.txt\"; filename*=UTF-8''%D9%86%D8%A7%D9%85%D9%87.txt",
     "نامه.txt", "نامه.txt"),
    ("a\x00b\tc\x7f.txt",
     "attachment; filename=\"abc.txt\"; filename*=UTF-8''abc.txt", "abc.txt", "abc.txt"),
    (LONG, "attachment; filename=\"file.txt\"; filename*=UTF-8''" + "%D8%A8" * 73 + ".txt",
     "ب" * 73 + ".txt", "ب" * 73 + ".txt"),
    ("..", "attachment; filename=\"file\"; filename*=UTF-8''file", "file", "file"),
    # A name of combining marks, Hangul fillers or no-break spaces shows as nothing at all,
    # and a mark at its start would sit on the character the page shows before it.
    ("\u0301\u0301\u0301", "attachment; filename=\"file\"; filename*=UTF-8''file", "file",
     "file"),
    ("\u3164\u034f\u00a0", "attachment; filename=\"file\"; filename*=UTF-8''file", "file",
     "file"),
    ("\u0301note.txt", "attachment; filename=\"note.txt\"; filename*=UTF-8''note.txt",
     "note.txt", "note.txt"),
    ("///", "attachment; filename=\"file\"; filename*=UTF-8''file", "file", "file"),
    ("../../etc/passwd",
     "attachment; filename=\"_.._etc_passwd\"; filename*=UTF-8''_.._etc_passwd",
     "_.._etc_passwd", "_.._etc_passwd"),
    ("100%.txt", "attachment; filename=\"100_.txt\"; filename*=UTF-8''100%25.txt",
     "100%.txt", "100%.txt"),
]


def multipart(fields: dict[str, str], files: list[tuple[str, str, bytes]]) -> bytes:
    """Encode a form as a browser would, each file name as an RFC 2231 parameter."""
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
             f"{value}\r\n".encode() for name, value in fields.items()]
    for field, filename, content in files:
        parts.append(f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; "
                     f"filename*=UTF-8''{quote(filename, safe='')}\r\n"
                     "Content-Type: application/octet-stream\r\n\r\n".encode()
                     + content + b"\r\n")
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def send_file(family: FlaskClient, filename: str, content: bytes = CONTENT) -> None:
    """Submit a testimony with one file of this name through the form."""
    fields = csrf_and_nonce(family) | filled_form()
    response = family.post("/submit", data=multipart(fields, [("attachments", filename, content)]),
                           content_type=f"multipart/form-data; boundary={BOUNDARY}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]


def exported_files(reviewer: FlaskClient, case_id: str) -> dict[str, bytes]:
    """Return the file members of a case's bundle by name (after their case and number)."""
    response = reviewer.get(f"/review/{case_id}/export")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    found = {}
    for member in archive.namelist():
        if "/data/files/" in member:
            match = re.fullmatch(r"case-[0-9a-f]{8}-[0-9-]{10}/data/files/[0-9a-f]{8}-1-(.+)",
                                 member)
            assert match, member
            found[match.group(1)] = archive.read(member)
    return found


@pytest.mark.parametrize(("sent", "header", "shown", "archived"), NAMES,
                         ids=[repr(name[0][:20]) for name in NAMES])
def test_a_file_name_downloads_exports_and_shows_without_its_dangerous_characters(
        app: Flask, family: FlaskClient, reviewer: FlaskClient, sent: str, header: str,
        shown: str, archived: str) -> None:
    """Before: a Persian name made the header unencodable (a 500 under gunicorn), CR/LF a 500."""
    send_file(family, sent)
    [case_id] = case_ids(app)
    page = reviewer.get(f"/review/{case_id}").get_data(as_text=True)
    [(link, text)] = FILE_LINK.findall(page)
    assert text == shown
    response = reviewer.get(link)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == header
    assert "Set-Cookie" not in response.headers
    assert response.get_data() == CONTENT
    assert exported_files(reviewer, case_id) == {archived: CONTENT}


def test_a_rebuilt_photo_downloads_with_the_extension_of_what_was_stored(
        app: Flask, family: FlaskClient, reviewer: FlaskClient) -> None:
    send_file(family, "عکس.webp", webp(1))
    [case_id] = case_ids(app)
    page = reviewer.get(f"/review/{case_id}").get_data(as_text=True)
    [(link, text)] = FILE_LINK.findall(page)
    assert text == "عکس.webp"
    assert reviewer.get(link).headers["Content-Disposition"] == (
        "attachment; filename=\"file.png\"; filename*=UTF-8''%D8%B9%DA%A9%D8%B3.png")
    assert list(exported_files(reviewer, case_id)) == ["عکس.png"]


def test_the_bundle_download_is_named_in_ascii_and_utf_8(
        app: Flask, family: FlaskClient, reviewer: FlaskClient) -> None:
    send_file(family, "x.txt")
    [case_id] = case_ids(app)
    name = f"case-{case_id[:8]}.zip"
    assert reviewer.get(f"/review/{case_id}/export").headers["Content-Disposition"] == (
        f"attachment; filename=\"{name}\"; filename*=UTF-8''{name}")


def live_login(server: LiveServer) -> urllib.request.OpenerDirector:
    """Log the vetted reviewer in to the real server; return a browser-like opener."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    page = opener.open(server.url + "/review/login").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    fields = {"csrf_token": token.group(1), "name": "reviewer",
              "passphrase": REVIEWER_PASSPHRASE, "code": live_totp(server, "reviewer")}
    opener.open(server.url + "/review/login", data=urllib.parse.urlencode(fields).encode())
    return opener


def live_totp(server: LiveServer, name: str) -> str:
    """The code the reviewer's authenticator shows, read from the live database."""
    database = sqlite3.connect(server.instance / "intake.sqlite3")
    (secret,) = database.execute("select totp_secret from users where name = ?",
                                 (name,)).fetchone()
    database.close()
    return TOTP(secret, 6, SHA1(), 30).generate(time.time()).decode()  # noqa: S303


def test_through_gunicorn_a_persian_name_downloads_and_photos_keep_every_frame(
        tmp_path: Path) -> None:
    """Before: the Persian name's header was unencodable, so gunicorn answered 500."""
    server = start(tmp_path, initialise(tmp_path, reviewers=("reviewer",)), workers=1)
    try:
        family = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        page = family.open(server.url + "/submit").read().decode()
        fields = {key: re.search(rf'name="{key}" type="hidden" value="([^"]+)"', page)
                  for key in ("csrf_token", "form_nonce")}
        form = {key: match.group(1) for key, match in fields.items() if match} | filled_form()
        files = [("attachments", "نامه‌ی پدر.txt", CONTENT),
                 ("attachments", "moving.gif", gif(3)),
                 ("attachments", "pages.tif", tiff(CMYK, "CMYK"))]
        request = urllib.request.Request(  # noqa: S310 (the test server, over http)
            server.url + "/submit", data=multipart(form, files),
            headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
        assert family.open(request).status == 200

        reviewer = live_login(server)
        inbox = reviewer.open(server.url + "/review/").read().decode()
        case_id = re.search(r'href="/review/([0-9a-f]{32})"', inbox)
        assert case_id, inbox[:500]
        case = reviewer.open(f"{server.url}/review/{case_id.group(1)}").read().decode()
        links = {text: link for link, text in FILE_LINK.findall(case)}
        letter = reviewer.open(server.url + links["نامه‌ی پدر.txt"])
        assert letter.headers["Content-Disposition"] == (
            "attachment; filename=\"file.txt\"; filename*=UTF-8''"
            "%D9%86%D8%A7%D9%85%D9%87%E2%80%8C%DB%8C%20%D9%BE%D8%AF%D8%B1.txt")
        assert letter.read() == CONTENT
        moving = reviewer.open(server.url + links["moving.gif"]).read()
        assert_every_frame_kept_and_no_location(moving, RGB, "image/png")
        pages = reviewer.open(server.url + links["pages.tif"]).read()
        assert_every_frame_kept_and_no_location(pages, CMYK, "image/tiff")
    finally:
        server.stop()


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(codec="utf-8"), max_size=400))
def test_any_name_gives_a_latin_1_header_without_controls_and_a_plain_zip_member(
        name: str) -> None:
    """Whatever a client sends, the header encodes and names one file in one folder."""
    cleaned = filenames.download_name({"filename": name})
    header = filenames.content_disposition("attachment", cleaned)
    assert header.isascii()
    assert not any(ord(char) < 0x20 or ord(char) == 0x7F for char in header)
    assert header.count('"') == 2
    assert len(cleaned.encode()) <= 150
    member = filenames.archive_name(cleaned)
    assert not set(member) & set('/\\<>:"|?*\r\n\x00\u202e\u2066\u2067\u2068\u2069')
    assert member.strip(" .") == member != ""
