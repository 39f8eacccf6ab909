"""`status`: quick by default (the manifest, and hashes kept with each source's size and mtime),
every byte checked with --verify."""

import contextlib
import json
import os
import shutil
import sqlite3

import pytest
from click.testing import CliRunner

from askkhorasan.cli import main
from askkhorasan.status import index_status
from askkhorasan.store import current_generation, read_manifest



@pytest.fixture
def copy(tmp_path, seed_built):
    shutil.copytree(seed_built.corpus, tmp_path / "corpus", copy_function=shutil.copy2)
    shutil.copytree(seed_built.index_dir, tmp_path / "index")
    return tmp_path


def _source(root):
    return next((root / "corpus").iterdir())


def test_the_build_records_each_source_size_and_mtime(seed_built):
    manifest = read_manifest(seed_built.index_dir)
    path = next(seed_built.corpus.iterdir())
    assert manifest["file_stats"] == {path.name: [path.stat().st_size, path.stat().st_mtime_ns]}


def test_a_touched_source_is_hashed_and_still_indexed(copy):
    path = _source(copy)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    states = {s.source: s.state for s in index_status(copy / "corpus", copy / "index").sources}
    assert states == {path.name: "indexed"}


def test_a_change_that_keeps_size_and_mtime_needs_verify(copy):
    path = _source(copy)
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[-2] = ord("X") if data[-2] != ord("X") else ord("Y")
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    quick = index_status(copy / "corpus", copy / "index")
    verified = index_status(copy / "corpus", copy / "index", verify=True)
    assert [s.state for s in quick.sources] == ["indexed"]  # size and mtime as built: the hash is trusted
    assert [s.state for s in verified.sources] == ["changed"] and verified.stale
    result = CliRunner().invoke(main, ["status", "--verify", "--corpus", str(copy / "corpus"), "--index", str(copy / "index")])
    assert result.exit_code == 3 and "changed" in result.output


def test_damaged_vectors_are_found_by_verify_not_read_by_the_quick_status(copy):
    vectors = current_generation(copy / "index") / "sentences.npy"
    data = bytearray(vectors.read_bytes())
    data[-1] ^= 0xFF
    vectors.write_bytes(bytes(data))
    assert index_status(copy / "corpus", copy / "index").exists
    verified = index_status(copy / "corpus", copy / "index", verify=True)
    assert not verified.exists and verified.stale and "askkhorasan build" in verified.problem


def test_a_damaged_documents_list_is_found_by_the_quick_status(copy):
    documents = current_generation(copy / "index") / "documents.sqlite"
    with contextlib.closing(sqlite3.connect(documents)) as con:
        con.execute("UPDATE documents SET title = 'Forged ' || title")
        con.commit()
    st = index_status(copy / "corpus", copy / "index")
    assert not st.exists and "askkhorasan build" in st.problem


def test_an_index_from_before_file_stats_hashes_every_source(copy):
    manifest_path = current_generation(copy / "index") / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["file_stats"]
    manifest_path.write_text(json.dumps(manifest))
    path = _source(copy)
    st = path.stat()
    path.write_bytes(path.read_bytes().replace(b"ISKP", b"IS-K", 1))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert [s.state for s in index_status(copy / "corpus", copy / "index").sources] == ["changed"]
