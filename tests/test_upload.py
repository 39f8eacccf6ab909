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
    other = tmp_path / "other.md"
    other.write_text("# T\n\nOther text about the group.\n")
    second = add_to_corpus(other, corpus, name="outside.md")
    assert (first.source, first.copied) == ("outside.md", True)
    assert (second.source, second.copied) == ("outside-1.md", True)
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


def test_oversized_files_are_refused_with_the_build_limit(tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("x" * 2000)
    with pytest.raises(SourceError, match="over the 0.001 MB limit.*--max-source-mb"):
        add_to_corpus(big, tmp_path / "corpus", max_source_mb=0.001)
    assert not (tmp_path / "corpus").exists()


def test_an_identical_file_is_not_copied_again(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "sub" / "saffron.md").write_text("# Saffron\n\nThe same bytes.\n")
    upload = tmp_path / "saffron.md"
    upload.write_text("# Saffron\n\nThe same bytes.\n")
    added = add_to_corpus(upload, corpus)
    assert (added.source, added.copied) == ("sub/saffron.md", False)
    assert sorted(p.relative_to(corpus).as_posix() for p in corpus.rglob("*")) == ["sub", "sub/saffron.md"]
