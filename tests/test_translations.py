"""Persian and English: every translatable string has a Persian translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "intake" / "translations" / "fa" / "LC_MESSAGES"
METHODS = [("intake/**.py", "python"), ("templates/**.html", "jinja2")]


def _source_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), METHODS,
            keywords={"_": None, "gettext": None, "_l": None, "lazy_gettext": None,
                      "ngettext": (1, 2)}):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_source_string_has_a_persian_translation() -> None:
    catalogue = read_po((CATALOGUE / "messages.po").open("rb"), locale="fa")
    translated = {_singular(m.id) for m in catalogue if m.id and _filled(m.string)
                  and not m.fuzzy}
    missing = sorted(_source_messages() - translated)
    assert not missing, f"untranslated into Persian: {missing}"


def _singular(message_id: str | tuple[str, ...]) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


def _filled(string: str | tuple[str, ...]) -> bool:
    """A plural entry counts as translated only when every one of its forms is."""
    return all(string) if isinstance(string, tuple) else bool(string)


def test_persian_plural_entries_have_the_catalogues_number_of_forms() -> None:
    """"1 cases": counts go through ngettext, and each Persian plural entry has every form."""
    catalogue = read_po((CATALOGUE / "messages.po").open("rb"), locale="fa")
    plurals = [m for m in catalogue if m.id and isinstance(m.id, tuple)]
    assert len(plurals) >= 3
    for message in plurals:
        assert len(message.string) == catalogue.num_plurals, message.id
        assert _filled(message.string), message.id


def test_compiled_catalogue_matches_the_source_catalogue() -> None:
    source = read_po((CATALOGUE / "messages.po").open("rb"), locale="fa")
    compiled = read_mo((CATALOGUE / "messages.mo").open("rb"))
    for message in source:
        if message.id and _filled(message.string) and not message.fuzzy:
            assert compiled.get(message.id) is not None, f"run `make translations`: {message.id}"
            found = compiled[message.id].string
            assert (tuple(found) if isinstance(message.string, tuple) else found) \
                == message.string
