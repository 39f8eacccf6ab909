"""Issue 12 on the command line: --explain, --format, --questions, one size limit, a no-change
build that writes nothing, and text that reads right (plurals, progress, help)."""

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from askkhorasan import build_index
from askkhorasan.cli import main
from askkhorasan.progress import ProgressBars
from askkhorasan.settings import Settings

from conftest import ROOT, SEED, seed_folder

DESIGN = "Why is the group shrouded in secrecy?"
OFF_TOPIC = "What is the capital of Australia?"


def run(*args, **kw):
    return CliRunner().invoke(main, [str(a) for a in args], **kw)


@pytest.fixture(scope="module")
def folders(tmp_path_factory, seed_built):
    return seed_folder(tmp_path_factory.mktemp("cliwf"), seed_built)


def snapshot(folder: Path) -> dict:
    """Every file and folder under `folder`: its bytes' hash and modification time."""
    out = {}
    for p in sorted(folder.rglob("*")):
        st = p.lstat()
        out[p.relative_to(folder).as_posix()] = (
            hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir", st.st_mtime_ns, st.st_size)
    return out


# 4: explain

def test_explain_shows_candidates_scores_words_and_the_deciding_stage(folders):
    result = run("ask", DESIGN, "--explain", "--index", folders / "index")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Why this answer?" in out and "decided by: selection" in out
    assert "question words: group, shrouded, secrecy" in out
    lines = [l for l in out.splitlines() if re.match(r"\s+[+-]\d+\.\d\d \(model [+-]\d+\.\d\d\)\s+0\.\d{3}\s+passage \d+, ", l)]
    assert len(lines) >= 3
    assert "matched: shrouded, secrecy" in lines[0]
    scores = [float(l.split()[0]) for l in lines]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("question, stage", [
    (OFF_TOPIC, "answerability check"),
    ("Who leads ISKP?", "fact-kind rule"),
])
def test_a_refusal_explains_itself(folders, question, stage):
    result = run("ask", question, "--explain", "--index", folders / "index")
    assert result.exit_code == 3
    assert f"decided by: {stage}" in result.output
    data = json.loads(run("ask", question, "--explain", "--json", "--index", folders / "index").stdout)
    assert data["explanation"]["stage"] == stage and data["explanation"]["candidates"]


# 5: formats

def test_plain_text_is_the_default_even_piped(folders):
    result = run("ask", DESIGN, "--index", folders / "index")
    out = result.output
    assert result.exit_code == 0
    assert "**" not in out and "`" not in out and not re.search(r"^> ", out, re.M)
    assert "they have shrouded the organization in secrecy." in out
    assert re.search(r"Confidence: (strong|likely|weak) \(0\.\d\d\)", out)
    assert f"[1] Islamic State-Khorasan’s Transition Into a Transregional Threat — The Diplomat, 2024-05-23, {SEED.name}, characters 1721–2044" in out
    refused = run("ask", OFF_TOPIC, "--index", folders / "index").output
    assert refused.startswith("Not found in the sources.") and "**" not in refused and refused.count("not") <= 2


def test_markdown_and_json_formats(folders):
    md = run("ask", DESIGN, "--format", "markdown", "--index", folders / "index").output
    assert md.startswith("> ") and "[1]" in md
    data = json.loads(run("ask", DESIGN, "--format", "json", "--index", folders / "index").stdout)
    assert data["band"] in ("strong", "likely", "weak") and data["citations"][0]["publisher"] == "The Diplomat"
    assert json.loads(run("ask", DESIGN, "--json", "--index", folders / "index").stdout) == data
    clash = run("ask", DESIGN, "--json", "--format", "text", "--index", folders / "index")
    assert clash.exit_code == 2
    search = run("search", "Tirah Valley", "-k", 2, "--index", folders / "index").output
    assert search.startswith("[1] ") and "`" not in search


# 6: batch

def test_questions_file_streams_json_lines_loading_the_index_once(folders, tmp_path, monkeypatch):
    import askkhorasan.index as index_module

    index_module.forget_open_indexes()
    loads = []
    real_load = index_module.Index._load
    monkeypatch.setattr(index_module.Index, "_load", lambda self, *a: loads.append(1) or real_load(self, *a))
    questions = tmp_path / "q.txt"
    questions.write_text(f"{DESIGN}\n\n   \n{OFF_TOPIC}\nWhere is the Tirah Valley?\n", encoding="utf-8")
    result = run("ask", "--questions", questions, "--index", folders / "index")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["question"] for r in rows] == [DESIGN, OFF_TOPIC, "Where is the Tirah Valley?"]
    assert rows[0]["found"] and not rows[1]["found"]
    assert len(loads) == 1
    assert result.exit_code == 3  # one question was not answered
    index_module.forget_open_indexes()


def test_questions_from_stdin_and_a_bad_line_does_not_stop_the_rest(folders):
    result = run("ask", "--questions", "-", "--index", folders / "index", input="?!…\n" + DESIGN + "\n")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert "error" in rows[0] and rows[1]["found"]
    assert run("ask", DESIGN, "--questions", "-", "--index", folders / "index", input="x\n").exit_code == 2
    assert run("ask", "--index", folders / "index").exit_code == 2


# 7: one size limit

def test_a_source_over_the_limit_is_skipped_not_new_and_not_stale(folders, tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    (corpus / "dump.txt").write_text("A sentence about the group in the valley. " * 500, encoding="utf-8")  # 21 KB
    limit = 0.02
    result = run("build", "-q", "--max-source-mb", limit, "--corpus", corpus, "--index", tmp_path / "index")
    assert result.exit_code == 3
    assert result.output.count("dump.txt") == 1 and "over the 0.02 MB limit" in result.output
    status = run("status", "--corpus", corpus, "--index", tmp_path / "index")
    assert status.exit_code == 0, status.output
    assert re.search(r"skipped\s+dump\.txt: dump\.txt: 0\.0\d+ MB is over the 0\.02 MB limit", status.output)
    assert "new" not in status.output and "Up to date." in status.output
    data = json.loads(run("status", "--json", "--corpus", corpus, "--index", tmp_path / "index").stdout)
    assert {s["source"]: s["state"] for s in data["sources"]} == {SEED.name: "indexed", "dump.txt": "skipped"}
    assert data["stale"] is False
    # raising the limit makes it new, and the build takes it in
    assert run("status", "--max-source-mb", 1, "--corpus", corpus, "--index", tmp_path / "index").exit_code == 3
    report = build_index(corpus, tmp_path / "index", embedder=embedder, settings=Settings(max_source_mb=1))
    assert report.added == ("dump.txt",) and not report.failed


def test_an_unreadable_source_is_listed_as_skipped_with_its_reason(folders, tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    (corpus / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    build_index(corpus, tmp_path / "index", embedder=embedder)
    status = run("status", "--corpus", corpus, "--index", tmp_path / "index")
    assert status.exit_code == 0 and re.search(r"skipped\s+photo\.txt: photo\.txt: binary", status.output)


@pytest.mark.slow
def test_app_and_serve_take_the_same_limit():
    assert "--max-source-mb" in run("serve", "--help").output
    assert "--max-source-mb" in run("status", "--help").output
    app_help = subprocess.run([sys.executable, str(ROOT / "app.py"), "--help"], capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT / "src")}, timeout=600)
    assert "--max-source-mb" in app_help.stdout


# 9: a build with nothing to do

def test_a_no_change_build_writes_nothing_and_is_quick(folders, tmp_path, embedder):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    shutil.copy(SEED, corpus / "copy.txt")  # a duplicate
    (corpus / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")  # skipped
    build_index(corpus, index, embedder=embedder)
    before = snapshot(index)
    started = time.perf_counter()
    report = build_index(corpus, index, embedder=embedder)
    seconds = time.perf_counter() - started
    assert snapshot(index) == before
    assert seconds < 1.0, seconds
    assert report.unchanged == (SEED.name,) and report.duplicates == (("copy.txt", SEED.name),)
    assert [f.source for f in report.failed] == ["photo.txt"]
    result = run("build", "--corpus", corpus, "--index", index)
    assert snapshot(index) == before
    assert "Nothing new, changed or removed" in result.output and result.exit_code == 3
    # a skipped file taken away changes nothing served; a new source is still seen
    (corpus / "photo.txt").unlink()
    assert build_index(corpus, index, embedder=embedder).generation == report.generation
    (corpus / "new.md").write_text("# New\n\nCouriers cross the Pech road at night.\n", encoding="utf-8")
    assert build_index(corpus, index, embedder=embedder).added == ("new.md",)


def test_a_damaged_index_is_rebuilt_even_with_nothing_changed(folders, tmp_path, embedder):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    first = build_index(corpus, index, embedder=embedder)
    with (index / first.generation / "passages.sqlite").open("a") as fh:
        fh.write("\n")
    assert build_index(corpus, index, embedder=embedder).generation != first.generation


# 10: text

def test_plurals_agree(folders, tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "one.md").write_text("# One\n\nA single short paragraph about the Pech valley.\n", encoding="utf-8")
    result = run("build", "--corpus", corpus, "--index", tmp_path / "index")
    assert "Indexed 1 source (1 passage," in result.output
    status = run("status", "--corpus", corpus, "--index", tmp_path / "index").output
    assert "(1 passage)" in status and "1 passages" not in status and "Index " in status
    shutil.copy(SEED, corpus / SEED.name)
    result = run("build", "--corpus", corpus, "--index", tmp_path / "index")
    assert "Indexed 2 sources" in result.output and "1 sources" not in result.output


def test_progress_only_on_a_terminal_with_a_true_rate():
    assert ProgressBars.for_stream(io.StringIO()) is None

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    bars = ProgressBars.for_stream(stream)
    for done in (64, 128, 192):
        time.sleep(0.05)
        bars("embed", done, 192)
    shown = stream.getvalue()
    assert "embedding" in shown and "sentence/s" in shown
    rates = [float(r) for r in re.findall(r"([\d.]+)sentence/s", shown)]
    assert rates and max(rates) < 100_000


@pytest.mark.slow
def test_a_build_in_a_log_has_no_bars_and_each_message_once(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    (corpus / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "HF_HUB_OFFLINE": "1"}
    for quiet in ([], ["-q"]):
        proc = subprocess.run([sys.executable, "-m", "askkhorasan.cli", "build", *quiet, "--corpus", str(corpus),
                               "--index", str(tmp_path / "index")], capture_output=True, text=True, env=env, timeout=900)
        log = proc.stdout + proc.stderr
        assert proc.returncode == 3, log
        assert "\r" not in log and "it/s" not in log
        assert log.count("photo.txt: binary") == 1, log


def test_help_and_readme_tell_the_truth():
    top = run("--help").output
    assert ".pdf" in top and ".html" in top
    ask_help = run("ask", "--help").output
    for option in ("--format", "--explain", "--questions", "--json"):
        assert option in ask_help
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `askkhorasan (\w+)([^`]*)` \|", readme, re.M)
    assert len(rows) >= 7
    for command, usage in rows:
        helptext = run(command, "--help").output
        for option in re.findall(r"--[\w-]+", usage):
            assert option in helptext, (command, option)
    for command in ("ask", "search", "eval", "text"):
        assert ("--corpus" in run(command, "--help").output) == (command in ("build", "status", "serve"))
    assert "Every command takes `--corpus` and `--index`" not in readme


def test_a_one_off_ask_keeps_its_question_in_bf16_and_leaves_the_setting_as_it_was(folders, monkeypatch):
    """One question per process: compiling the int8 question graph costs more than it saves."""
    from askkhorasan import embed

    made = []
    real = embed._graph_runner

    def spy(*args, **kwargs):
        made.append(kwargs.get("int8_questions"))
        return real(*args, **kwargs)

    monkeypatch.setattr(embed, "_graph_runner", spy)
    from askkhorasan.index import forget_open_indexes

    monkeypatch.setattr(embed, "_shared", None)  # a model and index loaded afresh, as in a new process
    forget_open_indexes()
    monkeypatch.delenv("ASKKHORASAN_INT8_QUESTIONS", raising=False)
    result = run("ask", DESIGN, "--index", folders / "index")
    assert result.exit_code == 0, result.output
    assert "ASKKHORASAN_INT8_QUESTIONS" not in os.environ
    if embed.BACKENDS[embed.default_backend()][0] != "torch":
        assert made and not any(made)  # the embedder (and the answer model, never int8)
