"""Photos sent through the form keep every page and frame and lose their location details.

Each image is made here with Pillow, carrying GPS coordinates and a marker in
every metadata slot its format has (EXIF with a GPS IFD, XMP, IPTC, ICC
profile, comments, PNG text chunks), sent through the real form, and then
decrypted from the store as a reviewer would read it.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image, ImageSequence, PngImagePlugin

from intake.testimonies import images
from tests.proof.families import seeded
from tests.proof.malformed import png16
from tests.submit.conftest import filled_form, post_form, read_everything
from tests.submit.test_submit import pending_blobs, store_files, stored_rows

MARK = "LOCATION-35.6892N-51.3890E"
GPS = {1: "N", 2: (35.0, 41.0, 22.0), 3: "E", 4: (51.0, 23.0, 20.0), 18: MARK}
# The latitude 35° 41' 22" as EXIF rationals, in either byte order.
LATITUDE = [struct.pack(f"{order}6I", 35, 1, 41, 1, 22, 1) for order in "<>"]
XMP = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><exif:GPSLatitude>{MARK}</exif:GPSLatitude>' \
      "</x:xmpmeta>"
IPTC = b"\x1c\x02\x5a" + struct.pack(">H", len(MARK)) + MARK.encode()  # 2:90 City
ICC = b"\x00\x00\x02\x30ICC profile " + MARK.encode()
RGB = [(200, 30, 30), (30, 200, 30), (30, 30, 200)]
CMYK = [(10, 200, 30, 5), (200, 10, 30, 5), (30, 10, 200, 5)]
# Metadata Pillow reports in `info` or as TIFF tags (34665 Exif IFD, 34853 GPS IFD,
# 700 XMP, 33723 IPTC, 34675 ICC, 270-272 description, make, model); none may survive.
INFO_KEYS = {"exif", "xmp", "XML:com.adobe.xmp", "comment", "Comment", "icc_profile",
             "photoshop", "iptc"}
TIFF_TAGS = {270, 271, 272, 305, 306, 315, 700, 33432, 33723, 34377, 34665, 34675, 34853}


def gps_exif() -> bytes:
    """EXIF with a camera maker and a GPS IFD holding coordinates and the marker."""
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"
    exif[0x8825] = GPS
    return exif.tobytes()


def frames(colours: list[tuple[int, ...]], mode: str = "RGB",
           size: tuple[int, int] = (24, 12)) -> list[Image.Image]:
    return [Image.new(mode, size, colour) for colour in colours]


def encoded(pictures: list[Image.Image], image_format: str, **options: object) -> bytes:
    out = io.BytesIO()
    if len(pictures) > 1:
        options |= {"save_all": True, "append_images": pictures[1:]}
    pictures[0].save(out, image_format, **options)
    return out.getvalue()


def timing(count: int) -> dict[str, object]:
    """Frame durations and looping forever, for an animation."""
    return {"duration": [100, 200, 300][:count], "loop": 0} if count > 1 else {}


def png(count: int) -> bytes:
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", MARK)
    text.add_itxt("XML:com.adobe.xmp", XMP)
    return encoded(frames(RGB[:count]), "PNG", exif=gps_exif(), pnginfo=text, icc_profile=ICC,
                   **timing(count))


def webp(count: int) -> bytes:
    return encoded(frames(RGB[:count]), "WEBP", lossless=True, exif=gps_exif(), xmp=XMP,
                   icc_profile=ICC, **timing(count))


def gif(count: int) -> bytes:
    return encoded(frames(RGB[:count]), "GIF", comment=MARK,
                   **timing(count))


def tiff(colours: list[tuple[int, ...]], mode: str = "RGB") -> bytes:
    return encoded(frames(colours, mode), "TIFF", exif=gps_exif(), icc_profile=ICC,
                   tiffinfo={700: XMP.encode(), 33723: IPTC, 270: MARK})


def mpo() -> bytes:
    return encoded(frames(RGB[:2]), "MPO", exif=gps_exif(), quality=95)


# name as sent, the image, the type intake stores it as, its pages or frames, and
# the colours each must keep (exactly, but for JPEG).
CASES: list[tuple[str, Callable[[], bytes], str, list[tuple[int, ...]]]] = [
    ("خانه.png", lambda: png(1), "image/png", RGB[:1]),
    ("حرکت.png", lambda: png(3), "image/png", RGB),
    ("photo.webp", lambda: webp(1), "image/png", RGB[:1]),
    ("moving.webp", lambda: webp(3), "image/png", RGB),
    ("still.gif", lambda: gif(1), "image/png", RGB[:1]),
    ("moving.gif", lambda: gif(3), "image/png", RGB),
    ("scan.tif", lambda: tiff(RGB[:1]), "image/png", RGB[:1]),
    ("print.tif", lambda: tiff(CMYK[:1], "CMYK"), "image/tiff", CMYK[:1]),
    ("pages.tif", lambda: tiff(CMYK, "CMYK"), "image/tiff", CMYK),
    ("stereo.jpg", mpo, "image/jpeg", RGB[:2]),
]


@pytest.mark.parametrize(("name", "make", "stored_type", "colours"), CASES,
                         ids=[case[0] for case in CASES])
def test_a_photo_keeps_every_page_and_frame_and_loses_its_location_through_the_form(
        app: Flask, client: FlaskClient, name: str, make: Callable[[], bytes],
        stored_type: str, colours: list[tuple[int, ...]]) -> None:
    """Before: a CMYK TIFF was a 500 and its testimony lost; animations and pages were cut."""
    sent = make()
    assert MARK.encode() in sent
    response = post_form(client, filled_form(), [(name, sent)])
    assert response.status_code == 200
    [stored] = read_everything(app)
    [file] = stored["files"]
    assert file["meta"]["scrubbed"] is True
    assert file["meta"]["stored_content_type"] == stored_type
    assert_every_frame_kept_and_no_location(file["content"], colours, stored_type)


def assert_every_frame_kept_and_no_location(content: bytes, colours: list[tuple[int, ...]],
                                            stored_type: str) -> None:
    """Check the frame count, each frame's colour, and that no metadata came through."""
    assert MARK.encode() not in content
    assert b"CameraMaker" not in content
    assert not any(latitude in content for latitude in LATITUDE)
    rebuilt = Image.open(io.BytesIO(content))
    assert getattr(rebuilt, "n_frames", 1) == len(colours)
    for frame, colour in zip(ImageSequence.Iterator(rebuilt), colours, strict=True):
        exif = frame.getexif()
        # A TIFF's first directory is its EXIF in Pillow's view: only layout tags may stay.
        assert not exif.get_ifd(0x8825)
        assert not (TIFF_TAGS & set(exif) if stored_type == "image/tiff" else exif)
        assert not INFO_KEYS & set(frame.info)
        assert not TIFF_TAGS & set(getattr(frame, "tag_v2", {}))
        pixel = frame.convert("CMYK" if len(colour) == 4 else "RGB").getpixel((3, 3))
        tolerance = 8 if stored_type == "image/jpeg" else 0
        assert all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True)), \
            (pixel, colour)


def test_an_animation_keeps_its_timing_and_loop(app: Flask, client: FlaskClient) -> None:
    post_form(client, filled_form(), [("moving.gif", gif(3))])
    [stored] = read_everything(app)
    rebuilt = Image.open(io.BytesIO(stored["files"][0]["content"]))
    durations = [frame.info["duration"] for frame in ImageSequence.Iterator(rebuilt)]
    assert durations == [100, 200, 300]
    assert rebuilt.info["loop"] == 0


@pytest.mark.parametrize("image_format", ["TIFF", "PNG", "WEBP"])
def test_each_page_is_turned_upright_once(app: Flask, client: FlaskClient,
                                          image_format: str) -> None:
    """Pillow itself turns TIFF pages upright as it loads them; a second turn would undo it."""
    exif = Image.Exif()
    exif[0x0112] = 6  # stored on its side: upright, it is 12 wide and 24 high
    pictures = frames(RGB[:2])
    pictures[0].putpixel((0, 0), (255, 255, 255))  # top left as stored; top right upright
    post_form(client, filled_form(), [("turned", encoded(pictures, image_format,
                                                         exif=exif.tobytes(), lossless=True))])
    [stored] = read_everything(app)
    rebuilt = Image.open(io.BytesIO(stored["files"][0]["content"]))
    assert getattr(rebuilt, "n_frames", 1) == 2
    for frame in ImageSequence.Iterator(rebuilt):
        assert frame.size == (12, 24)
    rebuilt.seek(0)
    assert rebuilt.convert("RGB").getpixel((11, 0)) == (255, 255, 255)


def test_frames_count_towards_the_pixel_cap_and_too_many_are_refused_by_name(
        app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each frame is within the cap, all three together are not: refused, never cut to one.

    An animation's frames share half the cap (the animated PNG writer copies each).
    """
    monkeypatch.setattr(images, "MAX_PIXELS", 24 * 12 * 4)
    response = post_form(client, filled_form(), [("moving.gif", gif(3))], lang="en")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The photo “<bdi>moving.gif</bdi>” is too large" in page
    assert "خاوران" in page
    assert stored_rows(app) == (0, 0)
    # Kept only as the form's pending file, never as a submission, until the family decides.
    assert len(pending_blobs(app)) == 1
    assert store_files(app) == pending_blobs(app)


def test_the_pages_of_a_tiff_share_the_whole_pixel_cap(
        app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images, "MIN_FRAME_PIXELS", 1)  # the exact boundary of real pixels
    monkeypatch.setattr(images, "MAX_PIXELS", 24 * 12 * 3)
    assert post_form(client, filled_form(), [("pages.tif", tiff(RGB))]).status_code == 200
    monkeypatch.setattr(images, "MAX_PIXELS", 24 * 12 * 3 - 1)
    assert post_form(client, filled_form(), [("pages.tif", tiff(RGB))]).status_code == 422


@pytest.mark.parametrize("image_format", ["PNG", "WEBP"])
def test_a_photo_with_a_damaged_exif_block_is_stored_without_it_not_a_500(
        app: Flask, client: FlaskClient, image_format: str) -> None:
    """Before: Pillow's SyntaxError on a damaged EXIF block escaped as a 500."""
    sent = encoded(frames(RGB[:1]), image_format, exif=b"Exif\x00\x00" + MARK.encode(),
                   lossless=True)
    response = post_form(client, filled_form(), [("broken.img", sent)])
    assert response.status_code == 200
    [stored] = read_everything(app)
    assert_every_frame_kept_and_no_location(stored["files"][0]["content"], RGB[:1], "image/png")


def test_an_image_no_writer_here_accepts_is_refused_by_name_and_the_answers_kept(
        app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: an encoder error (as a CMYK TIFF gave) escaped as a 500 and lost the testimony."""
    def cannot_write(*_args: object, **_kwargs: object) -> None:
        raise OSError("cannot write mode XYZ as PNG")

    sent = png(1)
    monkeypatch.setattr(Image.Image, "save", cannot_write)
    response = post_form(client, filled_form(), [("عکس.png", sent)], lang="en")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "We could not open the photo “<bdi>عکس.png</bdi>”" in page
    assert "خاوران" in page
    assert stored_rows(app) == (0, 0)


def one_pixel_frames_gif(frames: int) -> bytes:
    """A GIF of `frames` one-pixel frames, about 23 bytes each, written byte by byte."""
    header = b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + b"\x00\x00\x00\xff\xff\xff"
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    frame = (b"\x21\xf9\x04\x00\x01\x00\x00\x00" + b"\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00"
             + b"\x02\x02\x44\x01\x00")
    return header + loop + frame * frames + b"\x3b"


def test_a_gif_of_a_great_many_one_pixel_frames_is_refused_before_they_are_all_decoded(
        app: Flask, client: FlaskClient) -> None:
    """A 100 MiB GIF of 4.5 million one-pixel frames stayed under the pixel cap, so every frame
    was decoded into its own image: minutes of CPU and gigabytes of memory per upload. Each
    frame now costs at least 4096 pixels of the cap: 40 000 frames (920 KB) are refused by name.
    """
    response = post_form(client, filled_form(), [("many.gif", one_pixel_frames_gif(40_000))],
                         lang="en")
    assert response.status_code == 422
    assert "The photo “<bdi>many.gif</bdi>” is too large" in response.get_data(as_text=True)
    assert stored_rows(app) == (0, 0)


def odd_image(kind: str) -> bytes:
    """A 16x8 TIFF in CMYK, LAB or YCbCr, or a 16-bit RGB PNG cut short after its pixels."""
    if kind == "png16-damaged":
        whole = png16(seeded(16), 2)
        return whole[:-30]  # the end of the pixel data and IEND are gone
    out = io.BytesIO()
    Image.frombytes(kind, (16, 8), bytes(range(128)) * len(kind)).save(out, "TIFF")
    return out.getvalue()


@pytest.mark.parametrize(("kind", "status"), [("CMYK", 200), ("LAB", 200), ("YCbCr", 200),
                                              ("png16-damaged", 422)])
def test_tiffs_in_cmyk_lab_and_ycbcr_are_stored_and_a_damaged_16_bit_png_refused_by_name(
        app: Flask, client: FlaskClient, kind: str, status: int) -> None:
    """The outside measurement's 500s from odd TIFF modes and a damaged 16-bit PNG: each is
    now stored rebuilt, or refused by name with the answers kept, never a 500."""
    response = post_form(client, filled_form(), [("scan.img", odd_image(kind))], lang="en")
    assert response.status_code == status
    if status == 422:
        assert "We could not open the photo “<bdi>scan.img</bdi>”" in response.get_data(
            as_text=True)
        assert stored_rows(app) == (0, 0)
    else:
        [stored] = read_everything(app)
        assert stored["files"][0]["meta"]["scrubbed"] is True
