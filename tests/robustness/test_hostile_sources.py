"""Sources shaped to hurt the build: encoded data posing as text, and PDFs whose real lines repeat."""

import base64
import json
import random
import subprocess
import sys

from fpdf import FPDF

from askkhorasan import Index, build_index
from askkhorasan.readers import read_bytes
from askkhorasan.settings import MODEL_WINDOW


PROSE = "The analyst noted that the courier network in Kunar moves messages by motorbike at night."


def _hex_dump(n_bytes: int, seed: int = 0) -> str:
    data = random.Random(seed).randbytes(n_bytes)
    lines = []
    for at in range(0, len(data), 16):
        row = data[at : at + 16]
        hexes = " ".join(row[i : i + 2].hex() for i in range(0, len(row), 2))
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in row)
        lines.append(f"{at:08x}: {hexes:<40}  {text}")
    return "\n".join(lines)


def test_a_hex_dump_is_left_out_and_reported(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    dump = _hex_dump(200_000)
    (corpus / "dump.txt").write_text(f"Phone dump\n\n{PROSE}\n\n{dump}\n\nThe dump ends here, the analyst wrote.\n")
    report = build_index(corpus, tmp_path / "index", embedder=embedder)
    (skip,) = report.skipped
    assert skip.source == "dump.txt" and skip.what == "encoded data" and skip.chars > 0.95 * len(dump)
    assert any("left out" in w and "encoded data" in w for w in report.warnings)
    assert report.passages <= 3
    gen = Index(tmp_path / "index", embedder=embedder).generation
    assert any("motorbike" in p["text"] for p in gen.passages)


def test_an_inline_base64_image_is_left_out(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    image = base64.b64encode(random.Random(1).randbytes(300_000)).decode()
    (corpus / "note.md").write_text(f"# Field note\n\n{PROSE} ![map](data:image/png;base64,{image}) Then it stops.\n")
    report = build_index(corpus, tmp_path / "index", embedder=embedder)
    assert report.skipped and report.skipped[0].chars >= len(image)
    run = subprocess.run(
        [sys.executable, "-m", "askkhorasan.cli", "search", "courier network map", "--json", "--index", str(tmp_path / "index")],
        capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert len(run.stdout) < 20_000 and all(len(p["text"]) < 2_000 for p in json.loads(run.stdout))


def test_no_passage_exceeds_the_window_whatever_its_characters(embedder):
    long_words = " ".join("ж" * 500 for _ in range(50))  # non-ASCII runs the tokenizer reads as one [UNK] each
    url = "https://example.org/" + "a" * 150
    text = f"{PROSE} {long_words} {url} {'x' * 5000} {PROSE}"
    from askkhorasan.chunk import chunk_document
    from askkhorasan.settings import DEFAULT_SETTINGS

    doc = read_bytes(text.encode(), "long.txt", ".txt")
    sentences, chunks = chunk_document(doc, embedder.count_tokens, DEFAULT_SETTINGS)
    for c in chunks:
        passage = doc.text[c.start : c.end]
        assert embedder.count_tokens([passage])[0] <= MODEL_WINDOW - 2
        assert len(passage) <= 8 * DEFAULT_SETTINGS.max_tokens + 200
    assert any(c for c in chunks if "ж" in doc.text[c.start : c.end])  # long non-ASCII words are kept, in pieces


def _pdf(pages: list[list[str]], head: str | None = None) -> bytes:
    pdf = FPDF()
    pdf.set_auto_page_break(False)
    pdf.set_font("Helvetica", size=11)
    for number, lines in enumerate(pages, 1):
        pdf.add_page()
        if head:
            pdf.cell(0, 8, head, new_x="LMARGIN", new_y="NEXT")
        for line in lines:
            pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
        pdf.set_y(-20)
        pdf.cell(0, 8, f"Page {number}", align="C")
    return bytes(pdf.output())


def test_content_lines_that_differ_in_numbers_are_kept_and_heads_counted():
    killed = [12, 7, 31, 4, 19]
    pages = [[f"The district office met donors on day {n} to discuss the convoy.",
              f"Casualties reported in the district: {k} killed",
              f"Further reports from sector {n * 3} are expected next week, the office said."]
             for n, k in enumerate(killed, 1)]
    doc = read_bytes(_pdf(pages, head="Monitoring Bulletin"), "bulletin.pdf", ".pdf")
    for k in killed:
        assert f"Casualties reported in the district: {k} killed" in doc.text
    assert "Monitoring Bulletin" not in doc.text and "Page 3" not in doc.text
    assert doc.text.count("Further reports from sector") == 5
    (heads,) = doc.skipped
    assert heads.what == "running heads and footers" and heads.places == 10 and heads.where == "pages 1–5"


def test_a_pdf_of_repeating_numbered_lines_is_not_called_scanned():
    pages = [[f"Casualties reported in the district: {k} killed"] for k in (12, 7, 31, 4)]
    doc = read_bytes(_pdf(pages), "tallies.pdf", ".pdf")
    assert "31 killed" in doc.text and "Page 2" not in doc.text


def test_an_index_built_under_the_old_text_rules_is_re_embedded(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "note.md").write_text(f"# Note\n\n{PROSE}\n")
    build_index(corpus, tmp_path / "index", embedder=embedder)
    manifest_path = next((tmp_path / "index").glob("g-*/manifest.json"))
    manifest = json.loads(manifest_path.read_text())
    del manifest["settings"]["text_rules"]  # as written before encoded data was left out
    manifest_path.write_text(json.dumps(manifest))
    again = build_index(corpus, tmp_path / "index", embedder=embedder)
    assert again.embedded_passages == again.passages > 0


def test_prose_with_numbers_hashes_and_urls_is_not_taken_for_encoded_data():
    from askkhorasan.junk import strip_junk

    kept = [
        "The 2021 attack at gate 3 killed 13 US troops and 170 Afghans; ISKP claimed it on 26 August.",
        "Kabul 2019 2020 2021 12 45 78 90 11 22 33 44 55 66 77 88 99 100 120 130 140 150",
        "Source: https://www.example.com/2021/08/26/IsisKhorasanClaimsKabulAirportAttackThatKilled13USTroops/index.html",
        "The file's hash was d41d8cd98f00b204e9800998ecf8427e and the colour #ff00aa.",
    ]
    for text in kept:
        assert strip_junk(text) == (text, 0, 0), text


def test_a_corpus_of_stop_words_only_builds_and_answers_nothing(tmp_path, embedder):
    # bm25s cannot index an empty vocabulary: this build used to die in the lexical index.
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "the.txt").write_text("And so it was. Then there was the other.\n\nIt is what it is.\n")
    report = build_index(corpus, tmp_path / "index", embedder=embedder)
    assert report.passages >= 1 and not report.failed
    index = Index(tmp_path / "index", embedder=embedder)
    assert index.ask("Who leads ISKP?").found is False
    assert index.search("Who leads ISKP?", k=1)  # dense search still ranks the one passage
