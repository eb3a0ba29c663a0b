"""Making a file name a family sent safe to show, download and archive.

The name exactly as sent stays, encrypted, in the file's description (it may
matter as evidence). What leaves the server is a cleaned copy: without control
characters, bidirectional overrides or isolates, path separators or excess
length, in Unicode NFC. Persian names keep their zero-width non-joiners.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import quote

FALLBACK = "file"
# Filesystems hold 255 bytes per name; headers pass proxies' 4-8 KB buffers.
MAX_NAME_BYTES = 150
_MAX_SUFFIX = 16
# Format characters are invisible; all but the joiners Persian spelling needs go.
_JOINERS = {"\u200c", "\u200d"}
# Controls (C0, C1), format characters (bidi embeddings, overrides, isolates and
# marks, BOM, invisible tags), surrogates, and line and paragraph separators.
_REMOVED_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}
_SEPARATORS = {"/", "\\"}
_BLANK_LETTERS = {"\u115f", "\u1160", "\u3164", "\uffa0"}
# Also refused in names by Windows, where a bundle may be unpacked.
_NOT_IN_ARCHIVES = set('<>:"|?*')
# What RFC 6266's quoted ASCII fallback carries unchanged in every browser.
_ASCII_KEPT = re.compile(r"[A-Za-z0-9 !#$&'()+,\-.=@\[\]^_`{}~]")
_RFC5987_SAFE = "!#$&+-.^_`|~"
_STORED_SUFFIXES = {"image/png": (".png",), "image/jpeg": (".jpg", ".jpeg", ".jpe", ".mpo"),
                    "image/tiff": (".tif", ".tiff")}


def clean_name(client_filename: str) -> str:
    """Return the name as it may be shown and saved: no controls, overrides or separators."""
    kept = (("_" if char in _SEPARATORS else char)
            for char in unicodedata.normalize("NFC", client_filename)
            if char in _JOINERS or unicodedata.category(char) not in _REMOVED_CATEGORIES)
    # A mark at the start would combine with whatever the page shows before the name.
    name = "".join(kept).lstrip("".join(_JOINERS)).strip(" .")
    while name and unicodedata.category(name[0]).startswith("M"):
        name = name[1:].lstrip("".join(_JOINERS) + " .")
    if not any(_visible(char) for char in name):
        return FALLBACK
    return _shortened(name)


def _visible(char: str) -> bool:
    """Say whether a character shows as something a reader can see and tell apart."""
    # Dots and underscores alone name nothing; the Hangul fillers are letters drawn as blank.
    return (unicodedata.category(char)[0] in "LNPS" and char not in "._"
            and char not in _BLANK_LETTERS)


def _shortened(name: str) -> str:
    """Cut a long name to MAX_NAME_BYTES of UTF-8, keeping its extension."""
    if len(name.encode()) <= MAX_NAME_BYTES:
        return name
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem or len(suffix) > _MAX_SUFFIX:
        stem, suffix = name, ""
    ending = f".{suffix}" if suffix else ""
    budget = MAX_NAME_BYTES - len(ending.encode())
    cut = stem.encode()[:budget].decode(errors="ignore").rstrip("".join(_JOINERS) + " .")
    return (cut or FALLBACK) + ending


def download_name(meta: dict[str, Any]) -> str:
    """Return a file's cleaned name, its extension matching what intake stored."""
    name = clean_name(meta.get("filename") or "")
    suffixes = _STORED_SUFFIXES.get(meta.get("stored_content_type") or "")
    if not meta.get("scrubbed") or not suffixes or name.lower().endswith(suffixes):
        return name
    # A photo rebuilt from another format (WebP, GIF, a one-page TIFF) is now a PNG.
    stem, dot, suffix = name.rpartition(".")
    base = stem if dot and stem and len(suffix) <= _MAX_SUFFIX else name
    return _shortened(base + suffixes[0])


def ascii_fallback(name: str) -> str:
    """Return an ASCII name for clients that ignore filename* (RFC 6266 section 4.3)."""
    replaced = re.sub(r"_{2,}", "_", "".join(
        char if _ASCII_KEPT.fullmatch(char) else "_" for char in name))
    stem, dot, suffix = replaced.rpartition(".")
    if not dot or not stem or not suffix.isalnum():
        stem, suffix = replaced, ""
    if not any(char.isalnum() for char in stem):
        # Nothing readable is left of a name in another script: keep its extension.
        stem = FALLBACK
    return f"{stem}.{suffix}" if suffix else stem


def content_disposition(disposition: str, name: str) -> str:
    """Return a Content-Disposition value naming a cleaned file in ASCII and in UTF-8."""
    encoded = quote(name, safe=_RFC5987_SAFE, encoding="utf-8")
    return f"{disposition}; filename=\"{ascii_fallback(name)}\"; filename*=UTF-8''{encoded}"


def archive_name(name: str) -> str:
    """Return a cleaned name as it may stand in a zip that is unpacked on any system."""
    return "".join("_" if char in _NOT_IN_ARCHIVES else char for char in name)
