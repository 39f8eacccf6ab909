"""Input a user can type or name: undecodable questions, file names with control characters."""

import json
import shutil
import subprocess
import sys

import pytest

from askkhorasan.printable import printable
from askkhorasan.question import REPLACED_NOTE, prepare_question

from conftest import SEED

HOSTILE_NAMES = ["evil\nFAKE: line.txt", "esc\x1b[2J\x1b[31mred.md", "bidi\u202etxt.md", "bell\x07.txt"]


def test_lone_surrogates_and_bad_bytes_are_replaced_with_a_note():
    for question in ("Why is the group \udcff shrouded?", "Who \ud800 leads?", b"Who leads \xff\xfe ISKP?"):
        text, note = prepare_question(question)
        text.encode("utf-8")  # the tokenizer gets a valid str
        assert "\ufffd" in text and note == REPLACED_NOTE


@pytest.mark.slow
def test_an_undecodable_question_on_the_command_line_is_answered_not_a_traceback(seed_built):
    for question in (b"Why is the group shrouded in secrecy? \xff\xfe", b"\xed\xa0\x80 secrecy"):
        run = subprocess.run([sys.executable, "-m", "askkhorasan.cli", "ask", question, "--json",
                              "--index", str(seed_built.index_dir)], capture_output=True, timeout=300)
        assert run.returncode in (0, 3), run.stderr
        assert b"Traceback" not in run.stderr
        answer = json.loads(run.stdout)
        assert answer["note"] == REPLACED_NOTE or answer["note"]


def test_the_api_takes_a_question_with_a_lone_surrogate(seed_index):
    answer = seed_index.ask("Why is the group shrouded in secrecy? \udcff")
    assert answer.found and "\ufffd" in answer.question


def test_printable_escapes_control_characters_only():
    assert printable("evil\nFAKE: line.txt") == "evil\\nFAKE: line.txt"
    assert printable("esc\x1b[2J.md") == "esc\\x1b[2J.md"
    assert printable("bidi\u202etxt.md") == "bidi\\u202etxt.md"
    assert printable("Ташкент — 東京 ملف.md") == "Ташкент — 東京 ملف.md"


def _assert_safe(output: str) -> None:
    assert "\x1b" not in output and "\u202e" not in output and "\x07" not in output
    assert "\nFAKE: line.txt" not in output


@pytest.mark.slow
def test_file_names_are_printed_escaped_by_build_status_search_and_ask(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in HOSTILE_NAMES:
        shutil.copy(SEED, corpus / name)
    (corpus / "empty\x1b[1A.txt").write_bytes(b"")
    index = tmp_path / "index"
    cli = [sys.executable, "-m", "askkhorasan.cli"]
    build = subprocess.run(cli + ["build", "-q", "--corpus", str(corpus), "--index", str(index)],
                           capture_output=True, text=True, timeout=900)
    assert build.returncode == 3, build.stderr  # the empty file is skipped
    _assert_safe(build.stdout + build.stderr)
    assert "empty\\x1b[1A.txt" in build.stderr
    for args in (["status", "--corpus", str(corpus)], ["search", "Tirah Valley"], ["ask", "Why is the group shrouded in secrecy?"]):
        run = subprocess.run(cli + args + ["--index", str(index)], capture_output=True, text=True, timeout=300)
        assert "Traceback" not in run.stderr
        _assert_safe(run.stdout + run.stderr)
    status = subprocess.run(cli + ["status", "--corpus", str(corpus), "--index", str(index)],
                            capture_output=True, text=True, timeout=300)
    assert "evil\\nFAKE: line.txt" in status.stdout or "duplicate" in status.stdout
