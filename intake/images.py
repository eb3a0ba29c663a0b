"""Removing location and device metadata from images by rebuilding them from pixels."""

from __future__ import annotations

import io

from PIL import Image, ImageOps, UnidentifiedImageError

# Formats rebuilt from pixels; anything else is stored as received.
SCRUBBED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp",
                    "GIF": "image/gif", "TIFF": "image/tiff", "MPO": "image/jpeg"}
MAX_PIXELS = 50_000_000
_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*")


def looks_like_image(head: bytes) -> bool:
    """Say from a file's first bytes whether it may be an image worth rebuilding."""
    return head.startswith(_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


class NotAnImage(ValueError):
    """The bytes are not an image this module can rebuild."""


def scrub(data: bytes) -> tuple[bytes, str]:
    """Return the image rebuilt from its pixels (rotation applied, no metadata) and its type."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in SCRUBBED_FORMATS:
                raise NotAnImage(image.format or "unknown")
            if image.width * image.height > MAX_PIXELS:
                raise NotAnImage("too many pixels")
            source_format = image.format
            upright = ImageOps.exif_transpose(image)
            upright.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise NotAnImage(str(exc)) from exc
    clean = Image.frombytes(upright.mode, upright.size, upright.tobytes())
    if upright.mode == "P":
        clean.putpalette(upright.getpalette() or [])
    out = io.BytesIO()
    if source_format in {"JPEG", "MPO"}:
        clean.convert("RGB").save(out, "JPEG", quality=92, optimize=True)
        return out.getvalue(), "image/jpeg"
    clean.save(out, "PNG", optimize=False)
    return out.getvalue(), "image/png"
