"""Reading sources: web clutter goes, the article and its structure stay."""

import pytest

from askkhorasan import SourceError, document_text
from askkhorasan.readers import read_bytes

from conftest import SEED

CLUTTER = [
    "17.7 C",
    "Thursday, May 23, 2024",
    "HomeCentral Asia",
    "Related stories",
    "Greenhouse expansion in Tajikistan",
    "According to the Tajikistan Ministry of Agriculture, the number...",
    "Mary Lawlor, UN Criticises Tajikistan Dissolution of 700 NGOs",
    "How to Tell If a Climate Deal Will Succeed or Fail",
    "It’s about to get very noisy in the climate...",
    "Kazakh Export Ban Shocks",
    "KHUJAND, Tajikistan",
    "ADVERTISEMENT",
    "Source: The Diplomat",
    "Never miss a story with notifications",
    "Gain full access to our premium content",
    "Browse free from up to 5 devices at once",
    "Latest stories",
]
SECTIONS = {"Organizational Structure", "Ideological Convergence with the Taliban", "Future Potential"}


def test_seed_page_metadata():
    doc = read_bytes(SEED.read_bytes(), SEED.name, ".txt")
    assert doc.title == "Islamic State-Khorasan’s Transition Into a Transregional Threat"
    assert doc.date == "2024-05-23"
    assert doc.publisher == "The Diplomat"


def test_seed_clutter_is_in_no_passage(seed_index):
    passages = seed_index.generation.passages
    for line in CLUTTER:
        assert not any(line in p["text"] for p in passages), line
    text = document_text(SEED)
    assert "ADVERTISEMENT" not in text
    assert "Eventually, all three groups reconvened in the southern districts of Nangarhar province.\n\n" in text


def test_seed_sections_are_the_article_headings(seed_index):
    sections = {p["section"] for p in seed_index.generation.passages}
    assert sections - {None} == SECTIONS
    # the passages before the first heading are the introduction, with no section
    first = seed_index.generation.passages[0]
    assert first["section"] is None and first["text"].startswith("Evidence suggests")


def test_seed_article_body_is_kept_whole():
    text = document_text(SEED)
    raw = SEED.read_text(encoding="utf-8").replace("\u00a0", " ")
    body = [p.strip() for p in raw.split("\n\n") if len(p.split()) > 25 and "..." not in p]
    for paragraph in body:
        assert paragraph.replace("ADVERTISEMENT", "") in text


def test_other_page_shapes_are_cleaned_generically():
    page = "\n\n".join([
        "68°F",
        "Home > World > Asia",
        "A Province Remade by War",
        "By Jane Doe",
        "March 3, 2023",
        "Advertisement",
        "The province has changed more in three years than in the three decades before them, as fighters, "
        "traders and refugees crossed its borders in both directions.ADVERTISEMENT Nobody kept count.",
        "Read more",
        "Ten Things to Know About the Border",
        "Officials say the crossing points are...",
        "Local Politics",
        "The council met twice in the spring and agreed on nothing, which surprised no one who had watched "
        "its members argue for a decade over water, land and the right to tax the markets.",
        "Subscribe to our newsletter",
        "Originally published by Frontier Review.",
        "© 2023 Frontier Review. All rights reserved.",
    ])
    doc = read_bytes(page.encode(), "page.txt", ".txt")
    assert doc.title == "A Province Remade by War"
    assert doc.author == "Jane Doe"
    assert doc.date == "2023-03-03"
    assert doc.publisher == "Frontier Review"
    for junk in ("68°F", "Home >", "Advertisement", "ADVERTISEMENT", "Read more", "Ten Things",
                 "crossing points are...", "Subscribe", "All rights reserved"):
        assert junk not in doc.text, junk
    assert "in both directions. Nobody kept count." in doc.text
    sections = {b.section for b in doc.blocks if b.kind == "paragraph"}
    assert sections == {None, "Local Politics"}


def test_markdown_headings_are_sections():
    md = (
        "---\ntitle: Field notes\ndate: 2024-02-01\nauthor: R. Analyst\n---\n\n"
        "Intro line that says what these notes cover in a few words.\n\n"
        "## Finance\n\nThe group taxes smuggling routes through the valley.\n\n"
        "### Donors\n\nGulf donors were named in 2019 reports.\n"
    )
    doc = read_bytes(md.encode(), "notes.md", ".md")
    assert (doc.title, doc.date, doc.author) == ("Field notes", "2024-02-01", "R. Analyst")
    by_text = {doc.text[b.start:b.end]: b.section for b in doc.blocks if b.kind == "paragraph"}
    assert by_text["The group taxes smuggling routes through the valley."] == "Finance"
    assert by_text["Gulf donors were named in 2019 reports."] == "Donors"


def test_latin1_text_is_read_with_a_warning():
    doc = read_bytes("Caf\u00e9 owners in Kabul said the r\u00e9gime had changed little.".encode("latin-1"), "l1.txt", ".txt")
    assert "Café owners" in doc.text
    assert doc.warnings and "not UTF-8" in doc.warnings[0]


@pytest.mark.parametrize("data, reason", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary"),
    (b"", "empty"),
    (b"   \n\n  ", "empty"),
])
def test_unreadable_text_is_refused_with_a_reason(data, reason):
    with pytest.raises(SourceError, match=reason):
        read_bytes(data, "bad.txt", ".txt")


def test_unknown_type_is_refused():
    with pytest.raises(SourceError, match="unsupported file type"):
        read_bytes(b"hello", "x.docx", ".docx")
