"""Sources of every format in one corpus; bad files reported by name; a killed build loses nothing."""

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from askkhorasan import Index, build_index, document_text
from askkhorasan.readers import read_bytes
from askkhorasan.status import index_status

import makedocs
from conftest import ROOT, SEED

NOTES = "# Analyst notes\n\n## Kunar\n\nThe Kunar cell communicates through couriers rather than phones, a source said.\n"


@pytest.fixture(scope="module")
def mixed(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("mixed")
    corpus = root / "corpus"
    (corpus / "reports").mkdir(parents=True)
    shutil.copy(SEED, corpus / SEED.name)
    (corpus / "reports" / "monitoring.pdf").write_bytes(makedocs.report_pdf(blank_page=True))
    (corpus / "frontier.html").write_text(makedocs.HTML_PAGE, encoding="utf-8")
    (corpus / "notes.md").write_text(NOTES, encoding="utf-8")
    report = build_index(corpus, root / "index", embedder=embedder)
    return corpus, report, Index(root / "index", embedder=embedder)


def test_every_format_is_indexed(mixed):
    corpus, report, index = mixed
    assert set(report.added) == {SEED.name, "reports/monitoring.pdf", "frontier.html", "notes.md"}
    assert not report.failed
    assert any("page 4 has no text layer" in w for w in report.warnings)
    docs = {d["source"]: d for d in index.documents}
    assert docs["reports/monitoring.pdf"]["title"] == "Monitoring Team Report on ISKP"
    assert docs["frontier.html"]["publisher"] == "Frontier Review" and docs["frontier.html"]["date"] == "2024-03-05"
    assert docs["frontier.html"]["author"] == "Jane Doe"


def test_pdf_answer_on_page_two_cites_page_two(mixed):
    corpus, _, index = mixed
    answer = index.ask("What sustained the group's monthly budget?")
    assert answer.found and "extortion of mining sites" in answer.text
    c = answer.citations[0]
    assert c.source == "reports/monitoring.pdf" and c.page == 2 and c.section == "Finances"
    assert document_text(corpus / c.source)[c.start:c.end] == c.quote
    recruit = index.search("How do recruiters in Central Asia reach labour migrants?", k=1)[0]
    assert recruit.page == 3 and recruit.source == "reports/monitoring.pdf"


def test_pdf_running_heads_and_page_numbers_are_gone(mixed):
    _, _, index = mixed
    pdf_text = " ".join(p["text"] for p in index.generation.passages if p["source"].endswith(".pdf"))
    assert "S/2024/499" not in pdf_text and "Page 2" not in pdf_text


def test_html_navigation_and_scripts_are_in_no_passage(mixed):
    _, _, index = mixed
    texts = [p["text"] for p in index.generation.passages]
    for junk in ("NAVLINK", "NAVSCRIPT", "SCRIPT_WRITTEN_TEXT", "SIDEBAR", "FOOTERTEXT", "FOOTER_SCRIPT",
                 "trackingId", "color: red", "Subscribe"):
        assert not any(junk in t for t in texts), junk
    answer = index.ask("What are madrasa graduates paid with?")
    assert "Pakistani rupees" in answer.text and answer.citations[0].section == "Recruitment in the madrasas"


def test_markdown_headings_are_sections(mixed):
    _, _, index = mixed
    p = index.search("How does the Kunar cell communicate?", k=1)[0]
    assert p.source == "notes.md" and p.section == "Kunar" and p.title == "Analyst notes"


SETEXT_AND_FENCES = """---
title: "Field notes: Kunar"
date: 2024-03-05
author: [Jane Doe, John Roe]
---
Couriers
========

The Kunar cell communicates through couriers rather than phones.

Finance
-------

```python
stipend = 100

print(stipend)
```

Stipends were paid in cash.
"""


def test_markdown_setext_headings_fences_and_yaml_front_matter():
    doc = read_bytes(SETEXT_AND_FENCES.encode("utf-8"), "notes.md", ".md")
    assert (doc.title, doc.date, doc.author) == ("Field notes: Kunar", "2024-03-05", "Jane Doe, John Roe")
    shown = [(b.kind, doc.text[b.start:b.end], b.section) for b in doc.blocks]
    assert shown == [
        ("heading", "Couriers", "Couriers"),
        ("paragraph", "The Kunar cell communicates through couriers rather than phones.", "Couriers"),
        ("heading", "Finance", "Finance"),
        ("paragraph", "Stipends were paid in cash.", "Finance"),
    ]
    assert "stipend" not in doc.text and "```" not in doc.text and "===" not in doc.text
    # Every block is where its offsets say, in the document text the citations index into.
    for b in doc.blocks:
        assert doc.text[b.start:b.end] in SETEXT_AND_FENCES


def test_markdown_front_matter_that_is_not_yaml_fields_is_reported():
    doc = read_bytes(b"---\n- just\n- a list\n---\nThe body is read.\n", "list.md", ".md")
    assert doc.text == "The body is read." and doc.title is None
    assert any("front matter is not YAML fields" in w for w in doc.warnings)


def test_bad_files_get_clear_report_lines_and_the_rest_index(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    pdf = makedocs.report_pdf()
    (corpus / "encrypted.pdf").write_bytes(makedocs.encrypted_pdf())
    (corpus / "truncated.pdf").write_bytes(pdf[: len(pdf) // 2])
    (corpus / "empty.pdf").write_bytes(makedocs.empty_pdf())
    (corpus / "zero.pdf").write_bytes(b"")
    (corpus / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00")
    (corpus / "latin1.txt").write_bytes("Les combattants ont quitt\xe9 la vall\xe9e de Tirah apr\xe8s l'op\xe9ration.".encode("latin-1"))
    report = build_index(corpus, tmp_path / "index", embedder=embedder)
    reasons = {f.source: f.reason for f in report.failed}
    assert set(reasons) == {"encrypted.pdf", "truncated.pdf", "empty.pdf", "zero.pdf", "photo.txt"}
    assert "encrypted" in reasons["encrypted.pdf"] and "password" in reasons["encrypted.pdf"]
    assert "truncated" in reasons["truncated.pdf"]
    assert "no text" in reasons["empty.pdf"]
    assert "empty" in reasons["zero.pdf"]
    assert "binary" in reasons["photo.txt"]
    assert set(report.added) == {SEED.name, "latin1.txt"}
    assert any("latin1.txt: not UTF-8" in w for w in report.warnings)
    assert "vallée de Tirah" in document_text(corpus / "latin1.txt")
    statuses = {s.source: s.state for s in index_status(corpus, tmp_path / "index").sources}
    assert statuses["encrypted.pdf"] == "skipped" and statuses[SEED.name] == "indexed"


def test_status_names_new_changed_and_missing_sources(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    (corpus / "notes.md").write_text(NOTES)
    build_index(corpus, tmp_path / "index", embedder=embedder)
    (corpus / "notes.md").write_text(NOTES + "\nA later line about couriers in Nuristan and their routes.\n")
    (corpus / SEED.name).unlink()
    (corpus / "frontier.html").write_text(makedocs.HTML_PAGE)
    st = index_status(corpus, tmp_path / "index")
    assert {s.source: s.state for s in st.sources} == {"notes.md": "changed", "frontier.html": "new", SEED.name: "missing"}
    assert st.stale


KILLED_BUILD = """
import sys, time
from askkhorasan import build_index, store
if sys.argv[3] == "write":
    real = store.write_passages
    def slow(*args):
        real(*args)
        print("WRITING", flush=True)
        time.sleep(60)
    store.write_passages = slow
def progress(stage, done, total):
    if stage == sys.argv[3] == "embed":
        print("STAGE", stage, flush=True)
        time.sleep(60)
build_index(sys.argv[1], sys.argv[2], progress=progress)
"""


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["embed", "write"])
def test_a_killed_refresh_leaves_the_old_index_serving(tmp_path, embedder, stage):
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    build_index(corpus, index_dir, embedder=embedder)
    before = (index_dir / "CURRENT").read_text()
    (corpus / "reports").mkdir()
    (corpus / "reports" / "monitoring.pdf").write_bytes(makedocs.report_pdf())

    proc = subprocess.Popen([sys.executable, "-c", KILLED_BUILD, str(corpus), str(index_dir), stage],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    deadline = time.time() + 120
    reached = False
    for line in proc.stdout:
        reached = line.startswith(("STAGE", "WRITING"))
        if reached or time.time() > deadline:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert reached, f"the build never reached the {stage} stage (it failed or the hook no longer applies)"
    if stage == "write":
        assert list(index_dir.glob(".building-*")), "killed while the new generation was half written"

    assert (index_dir / "CURRENT").read_text() == before
    old = Index(index_dir, embedder=embedder)
    assert "Tirah Valley" in old.search("Where did TTP operatives pledge allegiance?", k=1)[0].text
    assert not any(d["source"].endswith(".pdf") for d in old.documents)

    report = build_index(corpus, index_dir, embedder=embedder)
    assert report.added == ("reports/monitoring.pdf",) and report.unchanged == (SEED.name,)
    assert not list(index_dir.glob(".building-*"))
    assert Index(index_dir, embedder=embedder).ask("What sustained the group's monthly budget?").citations[0].page == 2


def test_pdf_reader_survives_mutated_files():
    """Broken PDFs made by flipping bytes: an error with a reason, or a document — never a crash."""
    import random

    rng = random.Random(7)
    good = makedocs.report_pdf()
    for _ in range(300):
        data = bytearray(good)
        for _ in range(rng.randint(1, 40)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.3:
            data = data[: rng.randrange(len(data))]
        try:
            doc = read_bytes(bytes(data), "m.pdf", ".pdf")
        except Exception as exc:
            assert type(exc).__name__ == "SourceError" and str(exc).startswith("m.pdf: "), repr(exc)
        else:
            for b in doc.blocks:
                assert doc.text[b.start:b.end].strip()
