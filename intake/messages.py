"""Sentences for people that the domain raises or returns, translated where they are shown.

The domain never imports Flask: a `Message` carries its English text and its
parameters, and whoever shows it (the web layer, in the page's language; the
command line, in English) renders it through the translator it installed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

Translator = Callable[[str, Mapping[str, object]], str]


def english(message: str, params: Mapping[str, object]) -> str:
    """Render a message as written: English, its parameters filled in."""
    return message % dict(params) if params else message


_translator: Translator = english


def install(translator: Translator) -> None:
    """Render every message through `translator` from now on (the app factory calls this)."""
    global _translator  # one process-wide renderer, set when the app is made
    _translator = translator


class Message:
    """A translatable sentence, rendered only when shown."""

    __slots__ = ("msgid", "params")

    def __init__(self, msgid: str, **params: object) -> None:
        self.msgid = msgid
        self.params = params

    def __str__(self) -> str:
        return _translator(self.msgid, self.params)

    def __repr__(self) -> str:
        return f"Message({self.msgid!r})"

    def __contains__(self, text: str) -> bool:
        return text in str(self)

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(self.msgid)
