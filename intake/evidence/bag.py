"""BagIt (RFC 8493) bags, written as a zip stream and read back from one.

A bag is serialised the way RFC 8493 section 4.2 recommends: one zip whose
single top-level folder is the bag. Writing never touches disk: each member's
bytes are handed on as they are compressed, and its SHA-256 taken on the way.
Reading never unpacks: every check works on the zip's members in memory.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, cast

BAGIT_TXT = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
PAYLOAD_MANIFEST = "manifest-sha256.txt"
TAG_MANIFEST = "tagmanifest-sha256.txt"
BAG_INFO = "bag-info.txt"
_LABEL = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_HEX = re.compile(r"[0-9a-f]{64}")


class BagError(Exception):
    """A bag is malformed or does not match its manifests; the message says where."""


class _Pipe:
    """A write-only file for zipfile whose bytes are handed on as they are written."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.position = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        """Nothing is buffered here."""

    def drain(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


@dataclass
class ZipStream:
    """Write a bag's members into a zip whose bytes are yielded as they are made."""

    top: str
    digests: dict[str, tuple[str, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._pipe = _Pipe()
        # ZipFile needs only write, tell and flush of its file when writing.
        self._zip = zipfile.ZipFile(cast(IO[bytes], self._pipe), "w",
                                    compression=zipfile.ZIP_DEFLATED)

    def add(self, path: str, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """Write one member under the bag's folder, yielding zip bytes; record its SHA-256."""
        if path in self.digests:
            raise BagError(f"{path} is written twice")
        digest, size = hashlib.sha256(), 0
        with self._zip.open(f"{self.top}/{path}", "w", force_zip64=True) as member:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                member.write(chunk)
                yield self._pipe.drain()
        self.digests[path] = (digest.hexdigest(), size)
        yield self._pipe.drain()

    def close(self) -> Iterator[bytes]:
        """Write the zip's central directory."""
        self._zip.close()
        yield self._pipe.drain()


def encode_path(path: str) -> str:
    """Percent-encode what RFC 8493 requires in a manifest's file path (CR, LF, %)."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def decode_path(text: str) -> str:
    """Undo encode_path."""
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def manifest(entries: dict[str, tuple[str, int]]) -> bytes:
    """Render a sha256 manifest: one `digest  path` line per file, sorted by path."""
    return "".join(f"{digest}  {encode_path(path)}\n"
                   for path, (digest, _) in sorted(entries.items())).encode()


def bag_info(fields: list[tuple[str, str]]) -> bytes:
    """Render bag-info.txt; refuse a label or value that would not read back the same."""
    lines = []
    for label, value in fields:
        if not _LABEL.fullmatch(label) or "\n" in value or "\r" in value:
            raise BagError(f"bag-info field {label!r} cannot be written on one line")
        lines.append(f"{label}: {value}\n")
    return "".join(lines).encode()


def parse_manifest(data: bytes, name: str) -> dict[str, str]:
    """Read a sha256 manifest into path -> digest, refusing anything malformed or repeated."""
    entries: dict[str, str] = {}
    for number, line in enumerate(_lines(data, name), start=1):
        digest, _, path = line.partition("  ")
        if not _HEX.fullmatch(digest) or not path:
            raise BagError(f"{name} line {number} is not `sha256  path`")
        path = decode_path(path)
        if path in entries:
            raise BagError(f"{name} lists {path} twice")
        entries[path] = digest
    return entries


def parse_bag_info(data: bytes) -> dict[str, str]:
    """Read bag-info.txt into label -> value (each label once; no continuation lines here)."""
    fields: dict[str, str] = {}
    for line in _lines(data, BAG_INFO):
        label, sep, value = line.partition(": ")
        if not sep or not _LABEL.fullmatch(label) or label in fields:
            raise BagError(f"{BAG_INFO} has a malformed or repeated line")
        fields[label] = value
    return fields


def _lines(data: bytes, name: str) -> list[str]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BagError(f"{name} is not UTF-8 text") from None
    if text and not text.endswith("\n"):
        raise BagError(f"{name} does not end with a line break")
    # Only LF separates lines: a CR inside a path is percent-encoded by encode_path.
    return text.split("\n")[:-1]


class BagReader:
    """A bag inside a zip, read member by member without unpacking anything."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        names = archive.namelist()
        if len(set(names)) != len(names):
            raise BagError("the zip holds two members of the same name")
        tops = {name.split("/", 1)[0] for name in names}
        if len(tops) != 1 or not all("/" in name for name in names):
            raise BagError("the zip does not hold exactly one bag folder")
        self.top = tops.pop()
        self.paths = {name.split("/", 1)[1] for name in names if not name.endswith("/")}

    def read(self, path: str) -> bytes:
        """Return one member's bytes, or raise BagError naming it as missing."""
        if path not in self.paths:
            raise BagError(f"{path} is missing")
        try:
            return self.archive.read(f"{self.top}/{path}")
        except (zipfile.BadZipFile, zlib.error, EOFError):
            raise BagError(f"{path} is damaged inside the zip") from None

    def sha256(self, path: str) -> str:
        """Hash one member as it streams out of the zip (a CRC error counts as changed)."""
        digest = hashlib.sha256()
        try:
            with self.archive.open(f"{self.top}/{path}") as member:
                for chunk in iter(lambda: member.read(1 << 20), b""):
                    digest.update(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError):
            return ""
        return digest.hexdigest()

    def size(self, path: str) -> int:
        """Return one member's size as the zip records it."""
        return self.archive.getinfo(f"{self.top}/{path}").file_size


def check_bag(bag: BagReader, unsigned: set[str]) -> tuple[int, int]:
    """Check bagit.txt, both manifests and Payload-Oxum; return (payload files, bytes).

    Tag files are checked before the payload, so a changed bag-info.txt or
    payload manifest is named as such. `unsigned` names the tag files the tag
    manifest cannot list (the signature over it and the timestamp over that).
    """
    if bag.read("bagit.txt") != BAGIT_TXT:
        raise BagError("bagit.txt does not declare BagIt 1.0 in UTF-8")
    tags = parse_manifest(bag.read(TAG_MANIFEST), TAG_MANIFEST)
    on_disk = {p for p in bag.paths if not p.startswith("data/")} - {TAG_MANIFEST} - unsigned
    for path in ("bagit.txt", BAG_INFO, PAYLOAD_MANIFEST):
        if path not in tags:
            raise BagError(f"the tag manifest does not list {path}")
    _compare(bag, tags, on_disk, "tag file")
    payload = parse_manifest(bag.read(PAYLOAD_MANIFEST), PAYLOAD_MANIFEST)
    if not all(path.startswith("data/") for path in payload):
        raise BagError("the payload manifest lists a file outside data/")
    _compare(bag, payload, {p for p in bag.paths if p.startswith("data/")}, "payload file")
    octets = sum(bag.size(path) for path in payload)
    oxum = parse_bag_info(bag.read(BAG_INFO)).get("Payload-Oxum")
    if oxum != f"{octets}.{len(payload)}":
        raise BagError(f"Payload-Oxum in {BAG_INFO} does not match the payload")
    return len(payload), octets


def _compare(bag: BagReader, listed: dict[str, str], present: set[str], what: str) -> None:
    """Raise naming the first file missing, added or changed against a manifest."""
    for path in sorted(set(listed) - present):
        raise BagError(f"{what} {path} is listed in the manifest but missing: it was removed")
    for path in sorted(present - set(listed)):
        raise BagError(f"{what} {path} is in the bag but in no manifest: it was added")
    for path in sorted(listed):
        if bag.sha256(path) != listed[path]:
            raise BagError(f"{what} {path} does not match its SHA-256 in the manifest: "
                           "it was changed")
