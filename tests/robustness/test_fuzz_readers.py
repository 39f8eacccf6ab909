"""Untrusted bytes into every reader and the chunker: a Document with exact offsets, or a SourceError."""

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from askkhorasan import SourceError
from askkhorasan.chunk import chunk_document
from askkhorasan.readers import read_bytes
from askkhorasan.settings import DEFAULT_SETTINGS, MODEL_WINDOW

import makedocs

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PDF = makedocs.report_pdf()
HTML_BITS = ["<p>", "</p>", "<h2>", "</h2>", "<script>", "</script>", "<nav>", "<div>", "<!--", "-->", "&amp;",
             "&#0;", "<br>", "<table><tr><td>", "</td></tr></table>", "<article>", "<![CDATA[", "<?xml ?>"]


def check(doc, embedder):
    for b in doc.blocks:
        piece = doc.text[b.start:b.end]
        assert piece and piece == piece.strip()
    sentences, chunks = chunk_document(doc, embedder.count_tokens, DEFAULT_SETTINGS)
    for s in sentences:
        assert embedder.count_tokens([doc.text[s.start:s.end]])[0] + 2 <= MODEL_WINDOW
    for c in chunks:
        assert doc.text[c.start:c.end] == doc.text[c.start:c.end].strip() != ""


def read_or_refuse(data: bytes, suffix: str, embedder):
    try:
        doc = read_bytes(data, "fuzz" + suffix, suffix)
    except SourceError as exc:
        assert str(exc).startswith("fuzz" + suffix + ": ")
        return
    check(doc, embedder)


@FUZZ
@given(text=st.text(min_size=0, max_size=2000), suffix=st.sampled_from([".txt", ".md"]))
def test_random_unicode_text(embedder, text, suffix):
    read_or_refuse(text.encode("utf-8", "surrogatepass"), suffix, embedder)


@FUZZ
@given(data=st.binary(max_size=3000), suffix=st.sampled_from([".txt", ".md", ".html", ".pdf"]))
def test_random_bytes(embedder, data, suffix):
    read_or_refuse(data, suffix, embedder)


@FUZZ
@given(parts=st.lists(st.one_of(st.sampled_from(HTML_BITS), st.text(max_size=80)), max_size=60))
@example(parts=["<div>", "0<A", "<p>", "-->"])  # trafilatura cannot re-read its own XML of this page
def test_random_html(embedder, parts):
    read_or_refuse(("<html><body>" + "".join(parts)).encode("utf-8", "surrogatepass"), ".html", embedder)


@FUZZ
@given(edits=st.lists(st.tuples(st.integers(0, len(PDF) - 1), st.integers(0, 255)), max_size=30),
       cut=st.one_of(st.none(), st.integers(0, len(PDF))))
def test_mutated_pdfs(embedder, edits, cut):
    data = bytearray(PDF)
    for at, value in edits:
        data[at] = value
    read_or_refuse(bytes(data[:cut] if cut is not None else data), ".pdf", embedder)
