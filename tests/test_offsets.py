"""Offsets are exact: slicing a source's document text at a span gives back the passage or quote."""

import string

import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from askkhorasan import build_index, document_text
from askkhorasan.chunk import chunk_document
from askkhorasan.errors import QuestionError
from askkhorasan.index import Index
from askkhorasan.readers import read_bytes
from askkhorasan.settings import DEFAULT_SETTINGS, MODEL_WINDOW

WORD_CHARS = string.ascii_letters + "éüçøß" + "ßşğ" + "абвгд" + "الخراسان" + "中文字" + "😀🙂"
word = st.text(alphabet=WORD_CHARS + string.digits + "-’'.", min_size=1, max_size=14).filter(lambda w: w.strip("-’'."))
sentence = st.builds(
    lambda words, end: " ".join(words) + end,
    st.lists(word, min_size=1, max_size=40),
    st.sampled_from([".", "!", "?", "...", "", "ADVERTISEMENT", ". ADVERTISEMENT"]),
)
paragraph = st.lists(sentence, min_size=1, max_size=12).map(" ".join)
heading = st.lists(st.text(alphabet=string.ascii_letters, min_size=2, max_size=9), min_size=1, max_size=4).map(
    lambda ws: " ".join(w.capitalize() for w in ws)
)
block = st.one_of(paragraph, paragraph, paragraph, heading, st.sampled_from(["17.7 C", "Related stories", "Latest stories"]))
document = st.lists(block, min_size=1, max_size=12).map(lambda bs: "\n\n".join(bs))
whitespace_noise = st.sampled_from(["\n\n", "\n\n\n", "\r\n\r\n", "\n \n", "\u00a0\n\n"])

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check_chunks(doc, embedder):
    sentences, chunks = chunk_document(doc, embedder.count_tokens, DEFAULT_SETTINGS)
    for s in sentences:
        assert doc.text[s.start:s.end].strip() == doc.text[s.start:s.end] != ""
        # what is embedded fits the model window, [CLS] and [SEP] included
        assert embedder.count_tokens([doc.text[s.start:s.end]])[0] + 2 <= MODEL_WINDOW
    for c in chunks:
        text = doc.text[c.start:c.end]
        assert text and text == text.strip()
        assert c.start == sentences[c.first_sentence].start and c.end == sentences[c.last_sentence - 1].end
        pieces = embedder.count_tokens([text])[0]
        assert pieces <= DEFAULT_SETTINGS.max_tokens
        blocks = [b for b in doc.blocks if b.kind == "paragraph" and b.start < c.end and c.start < b.end]
        assert len({(b.section, b.page) for b in blocks}) == 1, "a passage crosses a section"
    covered = {i for c in chunks for i in range(c.first_sentence, c.last_sentence)}
    assert covered == set(range(len(sentences))), "every sentence is in some passage"


@PROPERTY
@given(body=document, sep=whitespace_noise)
def test_text_chunks_are_exact_spans(embedder, body, sep):
    data = body.replace("\n\n", sep).encode("utf-8")
    try:
        doc = read_bytes(data, "gen.txt", ".txt")
    except Exception as exc:  # only "no readable text" may stop a document
        assert "no readable text" in str(exc) or "empty" in str(exc)
        return
    for b in doc.blocks:
        assert doc.text[b.start:b.end].strip() == doc.text[b.start:b.end]
    _check_chunks(doc, embedder)


@pytest.mark.slow
@PROPERTY
@given(blocks=st.lists(st.tuples(st.booleans(), paragraph, heading), min_size=1, max_size=8))
def test_markdown_chunks_are_exact_spans(embedder, blocks):
    md = "\n\n".join(f"## {h}\n\n{p}" if is_heading else p for is_heading, p, h in blocks)
    doc = read_bytes(md.encode("utf-8"), "gen.md", ".md")
    _check_chunks(doc, embedder)


def test_long_run_on_text_is_cut_to_fit(embedder):
    doc = read_bytes((("word " * 3000) + "\n\n" + "x" * 5000).encode(), "long.txt", ".txt")
    _check_chunks(doc, embedder)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(bodies=st.lists(document, min_size=1, max_size=3))
def test_built_passages_slice_back_from_the_source(tmp_path_factory, embedder, bodies):
    root = tmp_path_factory.mktemp("prop")
    for n, body in enumerate(bodies):
        (root / "corpus").mkdir(exist_ok=True)
        (root / "corpus" / f"doc{n}.txt").write_text(body + "\n\nA closing sentence that makes the file readable.", encoding="utf-8")
    build_index(root / "corpus", root / "index", embedder=embedder)
    index = Index(root / "index", embedder=embedder)
    for p in index.generation.passages:
        assert document_text(root / "corpus" / p["source"])[p["start"]:p["end"]] == p["text"]
    for passage in index.search("closing sentence readable", k=5):
        assert document_text(root / "corpus" / passage.source)[passage.start:passage.end] == passage.text


@pytest.mark.slow
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_quote_slices_back_from_the_source(seed_built, data):
    """Questions made of the article's own words and random ones: every citation is exact."""
    text = document_text(seed_built.corpus / "000_5d501b3f3e1d464e.txt")
    vocabulary = sorted(set(text.split()))
    words = data.draw(st.lists(st.one_of(st.sampled_from(vocabulary), word), min_size=1, max_size=15))
    question = " ".join(words) + data.draw(st.sampled_from(["?", "", " why?", " who?"]))
    if not any(ch.isalnum() for ch in question):  # e.g. the article's "–" alone (a CI run drew "–?")
        with pytest.raises(QuestionError, match="no words to search for"):
            seed_built.index.ask(question)
        return
    answer = seed_built.index.ask(question)
    for c in answer.citations:
        assert document_text(seed_built.corpus / c.source)[c.start:c.end] == c.quote
    if answer.found:
        assert answer.text == answer.citations[0].quote
    for p in answer.passages:
        assert document_text(seed_built.corpus / p.source)[p.start:p.end] == p.text
