"""Turning what a user typed into a question the index can take."""

from __future__ import annotations

import re
import unicodedata

from .errors import QuestionError

MAX_QUESTION_CHARS = 2000  # far past the model window; the embedder cuts to 256 word pieces after
CUT_NOTE = "The question was too long and was cut to what the model reads (256 word pieces)."
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def prepare_question(text: str | None) -> tuple[str, str | None]:
    """The question tidied for search, and a note for the user when it had to be cut."""
    if text is None:
        raise QuestionError("the question is empty — type a question, e.g. \"Why is ISKP shrouded in secrecy?\"")
    text = unicodedata.normalize("NFC", str(text))
    text = " ".join(_CONTROL.sub(" ", text).split())
    if not text:
        raise QuestionError("the question is empty — type a question, e.g. \"Why is ISKP shrouded in secrecy?\"")
    if not any(ch.isalnum() for ch in text):
        raise QuestionError("the question has no words to search for — type a question in words")
    note = None
    if len(text) > MAX_QUESTION_CHARS:
        cut = text.rfind(" ", 0, MAX_QUESTION_CHARS)
        text = text[: cut if cut > MAX_QUESTION_CHARS // 2 else MAX_QUESTION_CHARS]
        note = CUT_NOTE
    return text, note
