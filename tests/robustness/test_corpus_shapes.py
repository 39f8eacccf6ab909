"""Folders nobody checked: thousands of tiny files, a huge file, deep nesting, links out, files changing mid-build."""

import os
import shutil
import time

import pytest

from askkhorasan import Index, build_index
from askkhorasan.settings import Settings
from askkhorasan.status import index_status

from conftest import SEED

SENTENCES = [s.strip() + "." for s in SEED.read_text(encoding="utf-8").split(". ") if 40 < len(s) < 300]


@pytest.mark.slow
def test_thousands_of_tiny_files(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    for i in range(2000):
        folder = corpus / f"batch{i % 20:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"note{i:04d}.txt").write_text(f"Note {i}: {SENTENCES[i % len(SENTENCES)]} Reference code {i}.")
    started = time.perf_counter()
    report = build_index(corpus, tmp_path / "index", embedder=embedder)
    seconds = time.perf_counter() - started
    assert len(report.added) == 2000 and not report.failed
    print(f"2000 tiny files indexed in {seconds:.1f}s")
    again = build_index(corpus, tmp_path / "index", embedder=embedder)
    assert again.embedded_passages == 0 and len(again.unchanged) == 2000
    hit = Index(tmp_path / "index", embedder=embedder).search("Reference code 1234", k=3)
    assert any("Reference code 1234." in p.text for p in hit)


def test_a_huge_file_is_refused_quickly_and_the_rest_indexed(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    line = ("The group moved fighters north across the river. " * 20 + "\n\n").encode()
    with (corpus / "dump.txt").open("wb") as fh:
        for _ in range(50 * 1024 * 1024 // len(line) + 1):
            fh.write(line)
    assert (corpus / "dump.txt").stat().st_size >= 50 * 1024 * 1024
    started = time.perf_counter()
    report = build_index(corpus, tmp_path / "index", embedder=embedder)
    assert time.perf_counter() - started < 60
    (failure,) = report.failed
    assert failure.source == "dump.txt" and "MB is over the 20 MB limit" in failure.reason and "--max-source-mb" in failure.reason
    assert report.added == (SEED.name,)


def test_the_size_limit_can_be_raised(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    (corpus / "small.md").write_text("# Small\n\nA short note about couriers.\n")
    small = Settings(max_source_mb=0.005)
    report = build_index(corpus, tmp_path / "a", embedder=embedder, settings=small)
    assert [f.source for f in report.failed] == [SEED.name] and report.added == ("small.md",)
    assert not build_index(corpus, tmp_path / "b", embedder=embedder, settings=Settings(max_source_mb=1)).failed


def test_deeply_nested_folders(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    deep = corpus.joinpath(*[f"level{i}" for i in range(40)])
    deep.mkdir(parents=True)
    shutil.copy(SEED, deep / "article.txt")
    report = build_index(corpus, tmp_path / "index", embedder=embedder)
    source = "/".join(f"level{i}" for i in range(40)) + "/article.txt"
    assert report.added == (source,)
    assert Index(tmp_path / "index", embedder=embedder).search("Tirah Valley", k=1)[0].source == source


def test_links_out_of_the_corpus_are_not_followed(tmp_path, embedder):
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "secret.txt").write_text("The private ledger lists every informant by name and village.")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    os.symlink(outside / "secret.txt", corpus / "linked-secret.txt")
    os.symlink(outside, corpus / "linked-folder")
    os.symlink(corpus / SEED.name, corpus / "inside-link.txt")
    report = build_index(corpus, tmp_path / "index", embedder=embedder)
    assert report.added == (SEED.name,)
    assert report.duplicates == (("inside-link.txt", SEED.name),)
    texts = [p["text"] for p in Index(tmp_path / "index", embedder=embedder).generation.passages]
    assert not any("informant" in t for t in texts)


def test_files_changing_during_a_build(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("a.md", "b.md", "c.md", "d.md"):
        (corpus / name).write_text(f"# {name}\n\nThe courier network in {name} moves messages by motorbike.\n")

    def meddle(stage, done, total):
        if stage == "read" and done == 1:
            (corpus / "c.md").unlink()  # deleted before it is read
            (corpus / "d.md").write_text("# d.md\n\nRewritten while the build ran: couriers now use boats.\n")
            (corpus / "e.md").write_text("# e.md\n\nAdded after the folder was listed.\n")

    report = build_index(corpus, tmp_path / "index", embedder=embedder, progress=meddle)
    reasons = {f.source: f.reason for f in report.failed}
    assert set(reasons) == {"c.md"} and "cannot read" in reasons["c.md"]
    assert set(report.added) == {"a.md", "b.md", "d.md"}
    index = Index(tmp_path / "index", embedder=embedder)
    assert "boats" in index.search("How do couriers travel now?", k=1)[0].text
    states = {s.source: s.state for s in index_status(corpus, tmp_path / "index").sources}
    assert states["e.md"] == "new" and states["d.md"] == "indexed"
    assert build_index(corpus, tmp_path / "index", embedder=embedder).added == ("e.md",)


@pytest.mark.parametrize("name", ["notes.TXT", "Report.Md", "page.HTM"])
def test_suffix_case_does_not_matter(tmp_path, embedder, name):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    body = "<html><body><article><p>" if name.lower().endswith("htm") else ""
    (corpus / name).write_text(body + "The Kunar cell communicates through couriers rather than phones, a source said "
                               "on condition of anonymity because of the risks involved.")
    assert build_index(corpus, tmp_path / "index", embedder=embedder).added == (name,)
