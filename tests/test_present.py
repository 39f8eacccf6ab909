"""The new pieces of the answer's presentation, without a model: escaping, bands, the viewer window."""

import html
import re

import pytest

from askkhorasan.confidence import BANDS, band
from askkhorasan.render import answer_html, answer_text, document_html, explanation_html, full_citation, plural
from askkhorasan.types import Answer, Citation, DocumentView, Explanation, Passage, ScoredSentence
from askkhorasan.viewer import document_view

PAYLOAD = '<img src=x onerror="alert(1)"> **bold** `code`'


def _answer(confidence=0.5, text=PAYLOAD) -> Answer:
    p = Passage(text=text * 2, score=1.0, source="a<b>.md", title=text, section=text, page=3, start=10,
                end=10 + 2 * len(text), chunk_id=0)
    c = Citation("a<b>.md", text, text, 3, 10, 10 + len(text), text, publisher=text, date="2024")
    r = Citation("a<b>.md", text, None, None, 10 + len(text), 10 + 2 * len(text), text, publisher=text)
    e = Explanation("selection", text, (text,), confidence, 0.05,
                    (ScoredSentence(text, "a<b>.md", 10, 20, 0.5, 1, 1.0, 0.4, 0.5, 0.6, (text,)),))
    return Answer(text, True, text, confidence, (c,), (p,), None, r, e)


def test_bands_are_ordered_and_cover_every_confidence():
    lows = [low for _, low in BANDS]
    assert lows == sorted(lows, reverse=True) and lows[-1] == 0.0
    assert band(0.99) == "strong" and band(0.5) == "likely" and band(0.06) == "weak"
    assert _answer(0.06).band == "weak" and Answer("q", False, "", 0.01).band is None


def test_new_html_escapes_document_text():
    answer = _answer(0.06)
    view = DocumentView("a<b>.md", PAYLOAD, PAYLOAD, 2, PAYLOAD, PAYLOAD, 5, 10, 0, 20, 100, "x" * 5 + PAYLOAD[:5] + "y" * 10, 3000)
    for markup in (answer_html(answer), explanation_html(answer), document_html(view)):
        assert "<img" not in markup and "onerror=\"" not in markup
        assert not set(re.findall(r"<\s*([a-zA-Z][\w-]*)", markup)) - {
            "div", "p", "blockquote", "a", "span", "small", "q", "code", "button", "ol", "li", "details", "summary",
            "strong", "table", "thead", "tbody", "tr", "th", "td", "h3", "mark", "br"}
    assert html.escape(PAYLOAD) in answer_html(answer)
    assert 'class="ak-weak-flag"' in answer_html(answer) and 'class="ak-runner-up"' in answer_html(answer)


def test_plain_text_has_no_markdown_and_weak_answers_show_the_runner_up():
    text = answer_text(_answer(0.06, "Plain words only."))
    assert "**" not in text and "`" not in text and "Runner-up: “Plain words only.”" in text
    assert "A weak answer" not in answer_text(_answer(0.9, "Plain words only."))


def test_full_citation_and_plurals():
    c = Citation("f.pdf", "Title", "Sec", 4, 1, 9, "q", publisher="Pub", date="2024-01-02")
    assert full_citation(c) == "Title — Pub, 2024-01-02, f.pdf, Sec, p. 4, characters 1–9"
    assert (plural(1, "source"), plural(2, "source"), plural(1_000, "passage")) == ("1 source", "2 sources", "1,000 passages")


@pytest.fixture()
def long_doc(tmp_path):
    text = "".join(f"Sentence number {i} about the valley. " for i in range(5000))
    (tmp_path / "long.txt").write_text(text, encoding="utf-8")
    from askkhorasan.api import document_text
    from askkhorasan.hashing import sha256_file

    doc = document_text(tmp_path / "long.txt")
    return tmp_path, doc, [{"source": "long.txt", "hash": sha256_file(tmp_path / "long.txt"), "title": "Long"}]


def test_the_viewer_shows_a_window_with_the_span_at_its_offsets(long_doc):
    folder, doc, documents = long_doc
    start = doc.index("Sentence number 2500 ")
    end = start + len("Sentence number 2500 about the valley.")
    view = document_view(folder, documents, [], "long.txt", start, end)
    assert view.window_start < start and end < view.window_end < view.length
    assert view.text[start - view.window_start : end - view.window_start] == doc[start:end]
    assert view.window_end - view.window_start < 10_000
    wide = document_view(folder, documents, [], "long.txt", start, end, 0, 10**9)
    assert wide.window_end - wide.window_start <= 200_000 and wide.window_start <= start and end <= wide.window_end


def test_the_viewer_refuses_other_files_and_changed_ones(long_doc):
    from askkhorasan.errors import AskKhorasanError

    folder, doc, documents = long_doc
    with pytest.raises(AskKhorasanError, match="not a source of the index"):
        document_view(folder, documents, [], "../secret.txt", 0, 5)
    (folder / "long.txt").write_text("changed", encoding="utf-8")
    with pytest.raises(AskKhorasanError, match="changed since it was indexed"):
        document_view(folder, documents, [], "long.txt", 0, 5)
