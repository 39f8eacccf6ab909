"""The command line, through click's runner, with the real model and index."""

import json
import shutil

import pytest
from click.testing import CliRunner

from askkhorasan.cli import main

from conftest import SEED


@pytest.fixture(scope="module")
def folders(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("cli")
    (root / "corpus").mkdir()
    shutil.copy(SEED, root / "corpus" / SEED.name)
    result = CliRunner().invoke(main, ["build", "-q", "--corpus", str(root / "corpus"), "--index", str(root / "index")])
    assert result.exit_code == 0, result.output
    assert "1 added" in result.output
    return root


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_search_json(folders):
    result = run("search", "Where is the Tirah Valley?", "-k", 2, "--index", folders / "index", "--json")
    assert result.exit_code == 0
    passages = json.loads(result.output)
    assert len(passages) == 2 and "Tirah Valley" in passages[0]["text"]
    assert {"text", "score", "source", "title", "section", "page", "start", "end", "chunk_id"} <= set(passages[0])


def test_ask_json_and_text_span(folders):
    result = run("ask", "why is the group shrouded in secrecy?", "--index", folders / "index", "--json")
    assert result.exit_code == 0
    answer = json.loads(result.output)
    assert answer["found"] and "shrouded the organization in secrecy" in answer["text"]
    c = answer["citations"][0]
    span = run("text", folders / "corpus" / c["source"], "--start", c["start"], "--end", c["end"])
    assert span.output.rstrip("\n") == c["quote"]


def test_ask_not_found_exits_3(folders):
    result = run("ask", "What is the capital of Australia?", "--index", folders / "index")
    assert result.exit_code == 3 and "Not found in the sources" in result.output


def test_status_fresh_then_stale(folders, tmp_path):
    fresh = run("status", "--corpus", folders / "corpus", "--index", folders / "index", "--json")
    assert fresh.exit_code == 0 and json.loads(fresh.output)["stale"] is False
    corpus = tmp_path / "corpus"
    shutil.copytree(folders / "corpus", corpus)
    (corpus / "new.md").write_text("# New\n\nA new note about the group and its recruiters.\n")
    stale = run("status", "--corpus", corpus, "--index", folders / "index")
    assert stale.exit_code == 3
    assert "new       new.md" in stale.output and "Stale" in stale.output


def test_errors_are_one_line_without_traceback(tmp_path):
    result = run("search", "anything", "--index", tmp_path / "none")
    assert result.exit_code == 1
    assert "no index at" in result.output and "askkhorasan build" in result.output
    assert "Traceback" not in result.output


def test_empty_question_exits_1(folders):
    result = run("ask", "   ", "--index", folders / "index")
    assert result.exit_code == 1 and "question is empty" in result.output


def test_build_reports_skipped_sources_with_exit_3(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    (corpus / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    result = run("build", "-q", "--corpus", corpus, "--index", tmp_path / "index")
    assert result.exit_code == 3
    assert "skipped: photo.txt: binary" in result.output


def test_missing_corpus_says_what_to_do(tmp_path):
    result = run("build", "--corpus", tmp_path / "nope", "--index", tmp_path / "index")
    assert result.exit_code == 1 and "no corpus folder" in result.output


def test_help_lists_the_commands():
    result = run("--help")
    for command in ("build", "search", "ask", "status", "serve", "text", "eval"):
        assert command in result.output


def test_eval_prints_figures_and_writes_a_report(folders, tmp_path):
    from conftest import DATA

    report = tmp_path / "report.jsonl"
    result = run("eval", DATA / "seed_questions.jsonl", "--index", folders / "index", "--report", report, "--json")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["hit@3"] >= 0.95 and figures["answer_accuracy"] >= 0.85 and figures["refused_unanswerable"] == 1.0
    rows = [json.loads(line) for line in report.read_text().splitlines()]
    assert len(rows) == 27 and {"question", "expected", "found", "answer", "correct", "passage_rank", "citation"} <= set(rows[0])


def test_eval_reads_squad_format(folders, tmp_path):
    squad = {"data": [{"title": "t", "paragraphs": [{"context": "c", "qas": [
        {"question": "Where did TTP operatives pledge allegiance to the Islamic State?", "answers": [{"text": "Tirah Valley"}]},
        {"question": "What is the capital of Australia?", "answers": [], "is_impossible": True},
    ]}]}]}
    path = tmp_path / "q.json"
    path.write_text(json.dumps(squad))
    result = run("eval", path, "--index", folders / "index", "--report", tmp_path / "r.jsonl", "--json")
    figures = json.loads(result.output)
    assert figures["questions"] == 1 and figures["hit@1"] == 1.0 and figures["unanswerable"] == 1


def test_eval_rejects_a_malformed_file_with_the_line(folders, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "ok?", "answers": ["x"]}\n{"answers": 3}\n')
    result = run("eval", bad, "--index", folders / "index")
    assert result.exit_code == 1 and "line 2" in result.output


def test_ask_takes_k(folders):
    one = json.loads(run("ask", "Where is the Tirah Valley?", "-k", 1, "--index", folders / "index", "--json").output)
    five = json.loads(run("ask", "Where is the Tirah Valley?", "--index", folders / "index", "--json").output)
    assert one["found"] and one["citations"] == five["citations"] and one["confidence"] == five["confidence"]
    assert len(one["passages"]) < len(five["passages"])
    from askkhorasan import ask

    same = ask("Where is the Tirah Valley?", 1, index_dir=folders / "index")
    assert [p.to_dict() for p in same.passages] == one["passages"]


def test_ask_and_search_take_the_folder_by_keyword_only(folders):
    from askkhorasan import ask, search

    with pytest.raises(TypeError):
        ask("Where is the Tirah Valley?", 3, folders / "index")
    with pytest.raises(TypeError):
        search("Tirah Valley", 3, folders / "index")


def test_index_and_corpus_from_the_environment(folders, tmp_path):
    env = {"ASKKHORASAN_INDEX": str(folders / "index"), "ASKKHORASAN_CORPUS": str(folders / "corpus")}
    result = CliRunner().invoke(main, ["search", "Tirah Valley", "-k", 1, "--json"], env=env)
    assert result.exit_code == 0 and "Tirah Valley" in json.loads(result.output)[0]["text"]
    status = CliRunner().invoke(main, ["status", "--json"], env=env)
    assert status.exit_code == 0 and json.loads(status.output)["stale"] is False
    given = CliRunner().invoke(main, ["search", "Tirah Valley", "--index", str(tmp_path / "none")], env=env)
    assert given.exit_code == 1 and "no index at" in given.output  # the option wins over the environment
    for command in ("build", "search", "ask", "status", "serve", "eval"):
        assert "ASKKHORASAN_INDEX" in run(command, "--help").output, command
    assert "ASKKHORASAN_CORPUS" in run("build", "--help").output
