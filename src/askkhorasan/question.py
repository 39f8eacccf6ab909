"""Turning what a user typed into a question the index can take."""

from __future__ import annotations

import re
import unicodedata

from .errors import QuestionError

MAX_QUESTION_CHARS = 2000  # far past the model window; the embedder cuts to 256 word pieces after
CUT_NOTE = "The question was too long and was cut to what the model reads (256 word pieces)."
REPLACED_NOTE = "The question held bytes that are not text (invalid UTF-8); they were replaced with \ufffd."
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def prepare_question(text: str | None) -> tuple[str, str | None]:
    """The question tidied for search, and a note for the user when it had to be cut."""
    if text is None:
        raise QuestionError("the question is empty — type a question, e.g. \"Why is ISKP shrouded in secrecy?\"")
    text, replaced = _as_text(text)
    text = unicodedata.normalize("NFC", text)
    text = " ".join(_CONTROL.sub(" ", text).split())
    if not text:
        raise QuestionError("the question is empty — type a question, e.g. \"Why is ISKP shrouded in secrecy?\"")
    if not any(ch.isalnum() for ch in text):
        raise QuestionError("the question has no words to search for — type a question in words")
    note = REPLACED_NOTE if replaced else None
    if len(text) > MAX_QUESTION_CHARS:
        cut = text.rfind(" ", 0, MAX_QUESTION_CHARS)
        text = text[: cut if cut > MAX_QUESTION_CHARS // 2 else MAX_QUESTION_CHARS]
        note = CUT_NOTE
    return text, note


def _as_text(value) -> tuple[str, bool]:
    """A str the tokenizer can take, and whether bad bytes had to be replaced.

    Bytes are decoded as UTF-8; undecodable bytes in a command-line argument arrive as lone
    surrogates (Python's surrogateescape), which no encoder accepts: both become U+FFFD."""
    if isinstance(value, (bytes, bytearray)):
        text = bytes(value).decode("utf-8", "replace")
        return text, "\ufffd" in text and b"\xef\xbf\xbd" not in value
    value = value if isinstance(value, str) else str(value)
    if not _SURROGATE.search(value):
        return value, False
    return _SURROGATE.sub("\ufffd", value), True
