"""Removing location and device metadata from images by rebuilding them from pixels.

Every page of a TIFF, every frame of an animation and every picture of an MPO
is rebuilt; an image that cannot be rebuilt whole is refused, never cut short.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from typing import IO

from PIL import ExifTags, Image, ImageSequence

# Formats rebuilt from pixels; anything else is stored as received.
SCRUBBED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp",
                    "GIF": "image/gif", "TIFF": "image/tiff", "MPO": "image/jpeg"}
# 40 megapixels covers phone photos at their usual settings; decoded, an RGB image
# of that size takes 160 MB, and a scrub holds two. A TIFF's pages count together;
# an animation's frames share half (bench/images.py measures each at its cap).
MAX_PIXELS = 40_000_000
# What one frame or page counts against MAX_PIXELS at least: a Pillow image per frame costs
# memory whatever its size (at most 4882 frames in an animation, 9765 pages in a TIFF).
MIN_FRAME_PIXELS = 4096
_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*",
          b"II+\x00", b"MM\x00+",  # BigTIFF
          b"\xff\x0a", b"\x00\x00\x00\x0cJXL \r\n\x87\n")  # JPEG XL, which cannot be decoded here
# HEIF and AVIF photos (what many phones take) carry location details too, and
# cannot be decoded here: they are recognised so that they are never stored unnoticed.
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1",
                b"avif", b"avis"}
# Modes a PNG holds exactly; a single-page TIFF in another mode (CMYK, LAB, YCbCr,
# floating point) stays a TIFF rather than have its colours converted.
_PNG_MODES = {"1", "L", "LA", "I;16", "P", "RGB", "RGBA"}
# Browsers play a GIF frame of 0 or 1 hundredths of a second for a tenth of a
# second; an animated PNG would play it as fast as it can.
_GIF_SHORTEST_MS = 20
_GIF_PLAYED_MS = 100
# EXIF orientation to the transposition that makes the picture upright.
_ORIENTATIONS = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
                 4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
                 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
                 8: Image.Transpose.ROTATE_90}


def looks_like_image(head: bytes) -> bool:
    """Say from a file's first bytes whether it may be a photo that carries metadata."""
    return (head.startswith(_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
            or (head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS))


class NotAnImage(ValueError):
    """The bytes are not an image this module can rebuild."""


class TooLargeToScrub(Exception):
    """The image has more pixels than this server rebuilds."""


@dataclass
class Decoded:
    """An image's pages or frames, each carrying nothing but its pixels."""

    source_format: str
    frames: list[Image.Image]
    durations: list[float]
    loop: int


def scrub(source: IO[bytes]) -> tuple[bytes, str]:
    """Return the image rebuilt from its pixels (rotation applied, no metadata) and its type.

    `source` is closed once the pixels are decoded, so its memory is freed before encoding.
    """
    decoded = _decoded(source)
    source.close()
    out = io.BytesIO()
    try:
        content_type = _encode(decoded, out)
    except (OSError, ValueError, KeyError) as exc:
        # A mode or layout no writer here accepts: refused by name, never a 500.
        raise NotAnImage(type(exc).__name__) from exc
    decoded.frames.clear()  # the pixels go before the encoded copy is made
    return out.getvalue(), content_type


def _encode(decoded: Decoded, out: IO[bytes]) -> str:
    """Write every frame in the format that holds them all; return its type."""
    first, rest = decoded.frames[0], decoded.frames[1:]
    if decoded.source_format in {"JPEG", "MPO"}:
        pictures = _in_mode(decoded.frames, "RGB")
        if rest:
            pictures[0].save(out, "MPO", save_all=True, append_images=pictures[1:], quality=92)
        else:
            pictures[0].save(out, "JPEG", quality=92, optimize=True)
        return "image/jpeg"
    if decoded.source_format == "TIFF" and (rest or first.mode not in _PNG_MODES):
        first.save(out, "TIFF", save_all=True, append_images=rest,
                   compression="tiff_adobe_deflate")
        return "image/tiff"
    if rest:
        _save_animation(decoded, out)
    else:
        first.save(out, "PNG", optimize=False)
    return "image/png"


def _save_animation(decoded: Decoded, out: IO[bytes]) -> None:
    """Write every frame, with its timing, as an animated PNG (lossless, shown by browsers)."""
    modes = {frame.mode for frame in decoded.frames}
    mode = modes.pop() if len(modes) == 1 and modes <= {"L", "LA", "RGB", "RGBA"} else "RGBA"
    frames = _in_mode(decoded.frames, mode)
    frames[0].save(out, "PNG", save_all=True, append_images=frames[1:],
                   duration=decoded.durations, loop=decoded.loop, optimize=False)


def _in_mode(frames: list[Image.Image], mode: str) -> list[Image.Image]:
    """Convert frames to one mode in place, one at a time, so that memory stays flat."""
    for index, frame in enumerate(frames):
        if frame.mode != mode:
            frames[index] = frame.convert(mode)
    return frames


def _decoded(source: IO[bytes]) -> Decoded:
    """Decode every page or frame upright into new images that carry nothing but pixels."""
    try:
        with Image.open(source) as image:
            if image.format not in SCRUBBED_FORMATS:
                raise NotAnImage(image.format or "unknown")
            source_format = image.format or ""
            decoded = Decoded(source_format, [], [], _plays(image))
            # Pillow's animated PNG writer holds its own copy of every frame. is_animated looks
            # for a second frame only; n_frames would first seek through every one.
            animated = getattr(image, "is_animated", False) and source_format not in {"TIFF",
                                                                                      "MPO"}
            cap, pixels = MAX_PIXELS // 2 if animated else MAX_PIXELS, 0
            for frame in ImageSequence.Iterator(image):
                # Checked from the header, before this frame's pixels are decoded. Each frame
                # costs at least MIN_FRAME_PIXELS, so that millions of tiny frames are refused.
                pixels += max(frame.width * frame.height, MIN_FRAME_PIXELS)
                if pixels > cap:
                    raise TooLargeToScrub
                decoded.frames.append(_bare(frame))
                decoded.durations.append(_duration(frame, source_format))
            return decoded
    except (NotAnImage, TooLargeToScrub):
        raise
    except Exception as exc:  # noqa: BLE001
        # Pillow raises many kinds of error on hostile or damaged files (SyntaxError,
        # struct.error, IndexError...): each means "cannot be rebuilt", refused by name.
        raise NotAnImage(type(exc).__name__) from exc


def _bare(frame: Image.Image) -> Image.Image:
    """Copy the current frame upright into a new image: pixels, palette, transparency.

    A copy or transposition is a new image whose only metadata is the `info`
    it inherits; replacing that leaves pixels, palette and transparency alone.
    """
    # Loaded first: Pillow turns a TIFF page upright as it loads it, and drops its tag.
    frame.load()
    method = _ORIENTATIONS.get(_orientation(frame))
    clean = frame.transpose(method) if method is not None else frame.copy()
    clean.info = {key: frame.info[key] for key in ("transparency",) if key in frame.info}
    return clean


def _orientation(frame: Image.Image) -> int:
    """Return the EXIF orientation of the current frame; 1 (upright) if it cannot be read."""
    try:
        return int(frame.getexif().get(ExifTags.Base.Orientation) or 1)
    except (SyntaxError, ValueError, KeyError, IndexError, TypeError, struct.error):
        # A damaged EXIF block: keep the picture as stored, without it.
        return 1


def _duration(frame: Image.Image, source_format: str) -> float:
    """Return how long this frame shows, in milliseconds, as a browser plays the source."""
    duration = float(frame.info.get("duration") or 0)
    if source_format == "GIF" and duration < _GIF_SHORTEST_MS:
        return _GIF_PLAYED_MS
    return duration


def _plays(image: Image.Image) -> int:
    """Return how many times an animation plays (0: forever), as its source says."""
    loop = image.info.get("loop")
    return 1 if loop is None else int(loop)
