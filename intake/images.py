"""Removing location and device metadata from images by rebuilding them from pixels."""

from __future__ import annotations

import io
from typing import IO

from PIL import Image, ImageOps, UnidentifiedImageError

# Formats rebuilt from pixels; anything else is stored as received.
SCRUBBED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp",
                    "GIF": "image/gif", "TIFF": "image/tiff", "MPO": "image/jpeg"}
# 40 megapixels covers phone photos at their usual settings; decoded, an RGB image
# of that size takes 120 MB, and a scrub holds two.
MAX_PIXELS = 40_000_000
_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*")
# HEIF and AVIF photos (what many phones take) carry location details too, and
# cannot be decoded here: they are recognised so that they are never stored unnoticed.
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1",
                b"avif", b"avis"}


def looks_like_image(head: bytes) -> bool:
    """Say from a file's first bytes whether it may be a photo that carries metadata."""
    return (head.startswith(_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
            or (head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS))


class NotAnImage(ValueError):
    """The bytes are not an image this module can rebuild."""


class TooLargeToScrub(Exception):
    """The image has more pixels than this server rebuilds."""


def scrub(source: IO[bytes]) -> tuple[bytes, str]:
    """Return the image rebuilt from its pixels (rotation applied, no metadata) and its type.

    `source` is closed once the pixels are decoded, so its memory is freed before encoding.
    """
    clean, source_format = _decoded(source)
    source.close()
    out = io.BytesIO()
    if source_format in {"JPEG", "MPO"}:
        (clean if clean.mode == "RGB" else clean.convert("RGB")).save(
            out, "JPEG", quality=92, optimize=True)
        return out.getvalue(), "image/jpeg"
    clean.save(out, "PNG", optimize=False)
    return out.getvalue(), "image/png"


def _decoded(source: IO[bytes]) -> tuple[Image.Image, str]:
    """Decode an image upright into a new image that carries nothing but its pixels."""
    try:
        with Image.open(source) as image:
            if image.format not in SCRUBBED_FORMATS:
                raise NotAnImage(image.format or "unknown")
            # Checked from the header, before any pixel is decoded.
            if image.width * image.height > MAX_PIXELS:
                raise TooLargeToScrub
            ImageOps.exif_transpose(image, in_place=True)
            clean = Image.new(image.mode, image.size)
            clean.paste(image)
            if image.mode == "P":
                clean.putpalette(image.getpalette() or [])
            return clean, image.format or ""
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise NotAnImage(str(exc)) from exc
