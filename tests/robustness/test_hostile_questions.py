"""Questions people type in a hurry: never a crash; empty ones refused with a message; long ones cut."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from askkhorasan import QuestionError, document_text
from askkhorasan.question import CUT_NOTE

EMPTY = ["", " ", "\n\n\t  ", "\x00\x01\x02", "?!.,;:…", "¿¡", "\u200b\u200b", "🙂"]
ODD = [
    "ИГИЛ-Хорасан: почему группа окутана тайной?",
    "لماذا يكتنف الغموض تنظيم داعش خراسان؟",
    "为什么这个组织笼罩在神秘之中？",
    "Why is ISKP 🤐 shrouded in secrecy 🕵️?",
    "Why\x00 is\x1b[31m ISKP\r\n shrouded\x7f in secrecy?",
    "\u202eWhy is ISKP shrouded in secrecy?\u202c",
    "' OR 1=1 -- ; DROP TABLE passages; --",
    "<script>alert(1)</script> Tirah Valley?",
    "a" * 5000,
    "Tirah " * 20000,
]


@pytest.mark.parametrize("question", EMPTY)
def test_empty_questions_get_a_message(seed_index, question):
    with pytest.raises(QuestionError) as info:
        seed_index.ask(question)
    assert "question" in str(info.value)
    with pytest.raises(QuestionError):
        seed_index.search(question)


@pytest.mark.parametrize("question", ODD, ids=range(len(ODD)))
def test_odd_questions_are_answered_or_refused_never_crash(seed_built, question):
    answer = seed_built.index.ask(question)
    assert isinstance(answer.found, bool) and 0.0 <= answer.confidence <= 1.0
    for c in answer.citations:
        assert document_text(seed_built.corpus / c.source)[c.start:c.end] == c.quote
    assert len(seed_built.index.search(question, k=3)) == 3


def test_a_100000_character_question_is_cut_with_a_note(seed_index):
    question = ("Why is the group shrouded in secrecy? " * 2700)[:100_000]
    answer = seed_index.ask(question)
    assert answer.note == CUT_NOTE
    assert answer.found and "shrouded the organization in secrecy" in answer.text


def test_a_question_just_inside_the_window_is_not_cut(seed_index):
    assert seed_index.ask("Why is the group shrouded in secrecy? " * 20).note is None


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(question=st.text(max_size=300))
def test_any_unicode_question(seed_built, question):
    try:
        answer = seed_built.index.ask(question)
    except QuestionError:
        return
    for c in answer.citations:
        assert document_text(seed_built.corpus / c.source)[c.start:c.end] == c.quote
