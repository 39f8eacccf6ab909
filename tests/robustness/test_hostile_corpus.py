"""Corpus folders that try to fool the walk: link loops, links swapped in during a build, hostile names."""

import os
import shutil
import subprocess
import sys

from askkhorasan import Index, build_index
from askkhorasan.status import index_status

from conftest import SEED

SECRET = "The private ledger lists every informant by name and village."


def _corpus(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    return corpus


def test_a_symlink_loop_is_reported_and_skipped(tmp_path, embedder):
    corpus = _corpus(tmp_path)
    os.symlink(corpus / "b.txt", corpus / "a.txt")
    os.symlink(corpus / "a.txt", corpus / "b.txt")
    os.symlink(corpus / "self.md", corpus / "self.md")
    report = build_index(corpus, tmp_path / "index", embedder=embedder)
    assert report.added == (SEED.name,)
    looped = [w for w in report.warnings if "loops" in w]
    assert {w.split(":")[0] for w in looped} == {"a.txt", "b.txt", "self.md"}
    st = index_status(corpus, tmp_path / "index")
    assert not st.stale and [s.source for s in st.sources] == [SEED.name]


def test_status_and_the_cli_survive_a_loop(tmp_path, embedder):
    corpus = _corpus(tmp_path)
    os.symlink(corpus / "b.txt", corpus / "a.txt")
    os.symlink(corpus / "a.txt", corpus / "b.txt")
    build_index(corpus, tmp_path / "index", embedder=embedder)
    run = subprocess.run([sys.executable, "-m", "askkhorasan.cli", "status", "--corpus", str(corpus),
                          "--index", str(tmp_path / "index")], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr and "Up to date." in run.stdout


def test_a_file_swapped_for_a_link_during_the_build_is_not_read(tmp_path, embedder):
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    (outside / "notes.txt").write_text(SECRET)
    corpus = _corpus(tmp_path)
    (corpus / "z-late.txt").write_text("An ordinary note about couriers crossing the river at night.")
    (corpus / "zz").mkdir()
    (corpus / "zz" / "notes.txt").write_text("Another ordinary note about supply routes in the valley.")

    def swap(stage, done, total):
        if stage == "read" and done == 1:
            (corpus / "z-late.txt").unlink()
            os.symlink(outside / "secret.txt", corpus / "z-late.txt")
            shutil.rmtree(corpus / "zz")
            os.symlink(outside, corpus / "zz")

    report = build_index(corpus, tmp_path / "index", embedder=embedder, progress=swap)
    reasons = {f.source: f.reason for f in report.failed}
    assert set(reasons) == {"z-late.txt", "zz/notes.txt"}, reasons
    assert "link" in reasons["z-late.txt"] and "outside the corpus" in reasons["zz/notes.txt"]
    texts = [p["text"] for p in Index(tmp_path / "index", embedder=embedder).generation.passages]
    assert not any("informant" in t for t in texts)


def test_a_fifo_is_not_waited_on(tmp_path, embedder):
    corpus = _corpus(tmp_path)
    (corpus / "pipe.txt").write_text("A note that will become a pipe.")

    def swap(stage, done, total):
        if stage == "read" and done == 1:
            (corpus / "pipe.txt").unlink()
            os.mkfifo(corpus / "pipe.txt")

    report = build_index(corpus, tmp_path / "index", embedder=embedder, progress=swap)
    assert [f.source for f in report.failed] == ["pipe.txt"]
