"""The manifest is checked, not trusted: hand edits are refused like damage; a read-only index is one line."""

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys

import pytest

from askkhorasan import Index, IndexCorruptError, build_index
from askkhorasan.status import index_status
from askkhorasan.store import load_generation

from conftest import SEED, seed_folder


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, seed_built):
    return seed_folder(tmp_path_factory.mktemp("trusted"), seed_built)


@pytest.fixture
def copy(pristine, tmp_path):
    shutil.copytree(pristine, tmp_path / "root", symlinks=True)
    return tmp_path / "root"


def _gen(index_dir):
    return index_dir / (index_dir / "CURRENT").read_text().strip()


def _edit(index_dir, change):
    path = _gen(index_dir) / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


def _forge_passage(index_dir):
    """Rewrite a passage's text, then drop every integrity field that would notice."""
    with contextlib.closing(sqlite3.connect(_gen(index_dir) / "passages.sqlite")) as con:
        con.execute("UPDATE passages SET text = ? WHERE id = 0", ("ISKP is secretly run by the author of this forgery.",))
        con.commit()


EDITS = {
    "model is a string": lambda m: m.update(model="x"),
    "files is a list": lambda m: m.update(files=["a"]),
    "files removed": lambda m: m.pop("files"),
    "files emptied": lambda m: m.update(files={}),
    "one file's hash removed": lambda m: m["files"].pop("passages.sqlite"),
    "a hash replaced by null": lambda m: m["files"]["passages.sqlite"].update(sha256=None),
    "sources is a list": lambda m: m.update(sources=["a"]),
    "settings removed": lambda m: m.pop("settings"),
    "settings with a string": lambda m: m["settings"].update(max_tokens="many"),
    "counts removed": lambda m: m.pop("counts"),
    "failed is a string": lambda m: m.update(failed="none"),
    "format version is a string": lambda m: m.update(format_version="2"),
}


# Three edits in the fast tier; every one in the full run (each costs a CLI process and a rebuild).
@pytest.mark.parametrize("edit", [e if i < 3 else pytest.param(e, marks=pytest.mark.slow) for i, e in enumerate(EDITS)])
def test_a_hand_edited_manifest_is_refused_with_the_fix(copy, embedder, edit):
    index_dir = copy / "index"
    _edit(index_dir, EDITS[edit])
    with pytest.raises(IndexCorruptError, match="askkhorasan build"):
        load_generation(index_dir)
    st = index_status(copy / "corpus", index_dir)
    assert not st.exists and st.stale and "askkhorasan build" in st.problem
    run = subprocess.run([sys.executable, "-m", "askkhorasan.cli", "ask", "Why is the group shrouded in secrecy?",
                          "--index", str(index_dir)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "askkhorasan build" in run.stderr
    report = build_index(copy / "corpus", index_dir, embedder=embedder)
    assert report.added == (SEED.name,) and Index(index_dir, embedder=embedder).search("Tirah Valley", k=1)


def test_forged_passages_with_the_hashes_removed_are_not_served(copy):
    index_dir = copy / "index"
    _forge_passage(index_dir)
    _edit(index_dir, lambda m: m.pop("files"))
    with pytest.raises(IndexCorruptError):
        load_generation(index_dir)
    st = index_status(copy / "corpus", index_dir)
    assert st.stale and not st.exists


def test_an_extra_file_slipped_into_the_generation_is_refused(copy):
    index_dir = copy / "index"
    (_gen(index_dir) / "lexical" / "extra.json").write_text("{}")
    with pytest.raises(IndexCorruptError, match="not in the manifest"):
        load_generation(index_dir)


def test_a_read_only_index_folder_is_one_line(copy, tmp_path):
    from askkhorasan.errors import IndexWriteError

    if os.geteuid() == 0:
        target = "/sys/askkhorasan-index"  # root ignores file modes; sysfs refuses everyone
    else:
        target = copy / "ro-index"
        target.mkdir()
        target.chmod(0o555)
    with pytest.raises(IndexWriteError, match="cannot write to the index folder"):
        build_index(copy / "corpus", target)
    run = subprocess.run([sys.executable, "-m", "askkhorasan.cli", "build", "-q", "--corpus", str(copy / "corpus"),
                          "--index", str(target)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert run.stderr.strip().count("\n") == 0 and "--index" in run.stderr
