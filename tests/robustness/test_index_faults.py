"""A damaged index is detected on load, with a message that says how to fix it; nothing is silently wrong."""

import contextlib
import json
import shutil
import sqlite3

import numpy as np
import pytest

from askkhorasan import AskKhorasanError, Index, IndexCorruptError, IndexMissingError, build_index, search
from askkhorasan.store import load_generation

from conftest import SEED, seed_folder


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, seed_built):
    return seed_folder(tmp_path_factory.mktemp("faults"), seed_built) / "index"


@pytest.fixture
def index_dir(pristine, tmp_path):
    copy = tmp_path / "index"
    shutil.copytree(pristine, copy)
    return copy


def gen(index_dir):
    return index_dir / (index_dir / "CURRENT").read_text().strip()


def damage_npy(index_dir):
    path = gen(index_dir) / "sentences.npy"
    arr = np.load(path)
    arr[0, 0] += 0.5
    with path.open("wb") as fh:
        np.save(fh, arr)


def remove_passage_row(index_dir):
    with contextlib.closing(sqlite3.connect(gen(index_dir) / "passages.sqlite")) as con:
        con.execute("DELETE FROM passages WHERE id = 0")
        con.commit()


FAULTS = {
    "CURRENT names a missing generation": lambda d: (d / "CURRENT").write_text("g-nothing-here\n"),
    "CURRENT is garbage": lambda d: (d / "CURRENT").write_bytes(b"\xff\xfe../../etc"),
    "CURRENT is empty": lambda d: (d / "CURRENT").write_text(""),
    "manifest deleted": lambda d: (gen(d) / "manifest.json").unlink(),
    "manifest truncated": lambda d: (gen(d) / "manifest.json").write_text((gen(d) / "manifest.json").read_text()[:100]),
    "manifest is a list": lambda d: (gen(d) / "manifest.json").write_text("[]"),
    "faiss file emptied": lambda d: (gen(d) / "passages.faiss").write_bytes(b""),
    "passage row removed": remove_passage_row,
    "sentence vectors edited": damage_npy,
    "lexical index deleted": lambda d: shutil.rmtree(gen(d) / "lexical"),
    "documents file replaced": lambda d: (gen(d) / "documents.sqlite").write_text("{}\n"),
    "sentence owners deleted": lambda d: (gen(d) / "sentence_owner.npy").unlink(),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_is_detected_with_the_fix(index_dir, embedder, fault):
    FAULTS[fault](index_dir)
    with pytest.raises(AskKhorasanError) as info:
        Index(index_dir, embedder=embedder)
    assert "askkhorasan build" in str(info.value)


def test_missing_and_empty_folders(tmp_path):
    (tmp_path / "empty").mkdir()
    for folder in (tmp_path / "absent", tmp_path / "empty"):
        with pytest.raises(IndexMissingError, match="askkhorasan build"):
            search("Tirah", index_dir=folder)


def test_a_rebuild_repairs_a_damaged_index(index_dir, embedder, pristine):
    FAULTS["faiss file emptied"](index_dir)
    with pytest.raises(IndexCorruptError):
        Index(index_dir, embedder=embedder)
    corpus = pristine.parent / "corpus"
    report = build_index(corpus, index_dir, embedder=embedder)
    assert report.embedded_passages == report.passages  # nothing reused from the damaged generation
    assert Index(index_dir, embedder=embedder).search("Tirah Valley", k=1)[0].source == SEED.name


def test_the_manifest_is_what_the_files_say(index_dir):
    g = load_generation(index_dir)
    manifest = json.loads((g.path / "manifest.json").read_text())
    assert manifest["counts"]["passages"] == len(g.passages) == g.faiss_index.ntotal
    assert manifest["counts"]["sentences"] == len(g.sentence_spans) == len(g.sentence_vectors)
