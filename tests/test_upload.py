"""Adding a user's file to the corpus: type and size checked, nothing written outside corpus/."""

import pytest

from askkhorasan import SourceError
from askkhorasan.upload import add_to_corpus, safe_name


@pytest.mark.parametrize("name, expected", [
    ("report.pdf", "report.pdf"),
    (".hidden.txt", "hidden.txt"),
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\windows\\evil.md", "evil.md"),
    ("notes <b>x.md", "notes _b_x.md"),
    ("a/b</script>.md", "script_.md"),
])
def test_safe_names(name, expected):
    assert safe_name(name) == expected


@pytest.mark.parametrize("name", ["..", "/", "", "..."])
def test_unusable_names_are_refused(name):
    with pytest.raises(SourceError):
        safe_name(name)


def test_upload_lands_inside_the_corpus_and_never_overwrites(tmp_path):
    src = tmp_path / "in.md"
    src.write_text("# T\n\nSome text about the group.\n")
    corpus = tmp_path / "corpus"
    first = add_to_corpus(src, corpus, name="../../outside.md")
    second = add_to_corpus(src, corpus, name="outside.md")
    assert first == corpus / "outside.md" and second == corpus / "outside-1.md"
    assert not (tmp_path / "outside.md").exists()
    assert not list(corpus.glob(".*"))


def test_wrong_type_and_empty_files_are_refused(tmp_path):
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ")
    with pytest.raises(SourceError, match="unsupported file type"):
        add_to_corpus(exe, tmp_path / "corpus")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(SourceError, match="empty"):
        add_to_corpus(empty, tmp_path / "corpus")


def test_oversized_files_are_refused(tmp_path, monkeypatch):
    import askkhorasan.upload as upload

    monkeypatch.setattr(upload, "MAX_UPLOAD_BYTES", 10)
    big = tmp_path / "big.txt"
    big.write_text("x" * 100)
    with pytest.raises(SourceError, match="limit"):
        add_to_corpus(big, tmp_path / "corpus")
