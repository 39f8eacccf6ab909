"""The app on a network: warned about, uploads gated by a token, serialised, errors without server paths."""

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from askkhorasan import AskKhorasanError, IndexMissingError, build_index
from askkhorasan.exposure import UploadRefusedError, exposure_warning, hide_paths, read_token, upload_policy
from askkhorasan.store import BuildLock, load_generation

from conftest import ROOT, _free_port

NOTE = "# Note {i}\n\nCourier report {i}: messages cross the river at night by motorbike near village {i}.\n"


def test_loopback_needs_no_token_and_prints_no_warning():
    policy = upload_policy("127.0.0.1")
    policy.check(None)
    assert exposure_warning("127.0.0.1", 7860, policy) is None and exposure_warning("::1", 7860, policy) is None


def test_a_network_bind_without_token_warns_and_turns_uploads_off():
    policy = upload_policy("0.0.0.0")
    with pytest.raises(UploadRefusedError, match="uploads are off"):
        policy.check("anything")
    warning = exposure_warning("0.0.0.0", 7860, policy)
    assert "WARNING" in warning and "0.0.0.0:7860" in warning and "uploads are off" in warning
    opened = upload_policy("0.0.0.0", allow_without_token=True)
    opened.check(None)
    assert "OPEN" in exposure_warning("0.0.0.0", 7860, opened)


def test_a_token_gates_uploads(tmp_path, monkeypatch):
    monkeypatch.delenv("ASKKHORASAN_TOKEN", raising=False)
    (tmp_path / "token").write_text("s3cret-token\n")
    token = read_token(tmp_path / "token")
    policy = upload_policy("0.0.0.0", token)
    policy.check("s3cret-token")
    for wrong in (None, "", "s3cret", "s3cret-token-x"):
        with pytest.raises(UploadRefusedError, match="token"):
            policy.check(wrong)
    monkeypatch.setenv("ASKKHORASAN_TOKEN", "from-env")
    assert read_token() == "from-env"
    with pytest.raises(AskKhorasanError, match="--token-file"):
        read_token(tmp_path / "missing")


@pytest.mark.slow
def test_concurrent_uploads_queue_and_each_file_is_copied_once(tmp_path, embedder):
    from askkhorasan.webapp import add_and_build

    corpus, index_dir, inbox = tmp_path / "corpus", tmp_path / "index", tmp_path / "inbox"
    corpus.mkdir()
    inbox.mkdir()
    (corpus / "first.md").write_text(NOTE.format(i=0))
    build_index(corpus, index_dir, embedder=embedder)
    files = []
    for i in range(1, 9):
        files.append(inbox / f"note{i}.md")
        files[-1].write_text(NOTE.format(i=i))
    results, errors = [], []

    def upload(path):
        try:
            results.append(add_and_build([str(path)], corpus, index_dir, upload_policy("127.0.0.1")))
        except AskKhorasanError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=upload, args=(f,)) for f in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=900)
    assert not errors and len(results) == 8
    assert sorted(p.name for p in corpus.iterdir()) == sorted(["first.md"] + [f.name for f in files])
    assert len(load_generation(index_dir).manifest["sources"]) == 9


@pytest.mark.slow
def test_an_upload_during_another_build_is_refused_before_copying(tmp_path, embedder):
    from askkhorasan.webapp import add_and_build

    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    (corpus / "first.md").write_text(NOTE.format(i=0))
    note = tmp_path / "late.md"
    note.write_text(NOTE.format(i=1))
    holding, release = threading.Event(), threading.Event()

    def other_build():
        with BuildLock(index_dir):
            holding.set()
            release.wait(60)

    t = threading.Thread(target=other_build)
    t.start()
    holding.wait(30)
    try:
        with pytest.raises(AskKhorasanError, match="another build"):
            add_and_build([str(note)], corpus, index_dir, upload_policy("127.0.0.1"))
    finally:
        release.set()
        t.join()
    assert [p.name for p in corpus.iterdir()] == ["first.md"]


def test_error_messages_carry_no_absolute_paths(tmp_path):
    missing = tmp_path / "deep" / "index"
    with pytest.raises(IndexMissingError) as caught:
        load_generation(missing)
    shown = hide_paths(str(caught.value), missing, tmp_path / "corpus")
    assert str(tmp_path) not in shown and "index" in shown and "askkhorasan build" in shown
    assert hide_paths(f"cannot load {tmp_path}/x/g-1/passages.faiss: bad") == "cannot load passages.faiss: bad"
    assert hide_paths("see https://example.org/a/b and S/2024/499") == "see https://example.org/a/b and S/2024/499"


@pytest.mark.slow
def test_serving_on_all_interfaces_warns_and_offers_no_upload(tmp_path, seed_built):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("ASKKHORASAN_TOKEN", "ASKKHORASAN_TOKEN_FILE")}
    log = tmp_path / "app.log"
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--host", "0.0.0.0", "--port", str(port),
         "--corpus", str(seed_built.corpus), "--index", str(seed_built.index_dir)],
        stdout=log.open("w"), stderr=subprocess.STDOUT, env=env, cwd=tmp_path,
    )
    try:
        deadline = time.time() + 240
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                config = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/config", timeout=5).read())
                break
            except OSError:
                assert time.time() < deadline, log.read_text()
                time.sleep(1)
        text = log.read_text()
        assert "WARNING: listening on 0.0.0.0" in text and "uploads are off" in text
        ids = {c.get("props", {}).get("elem_id") for c in config["components"]}
        assert "ak-upload" not in ids and "ak-add" not in ids and "ak-uploads-off" in ids
    finally:
        proc.terminate()
        proc.wait(timeout=30)
