"""Building and loading the index: incremental, atomic, and loud about what it cannot use."""

import contextlib
import json
import shutil
import sqlite3

import pytest

from askkhorasan import (
    CorpusError, Index, IndexCorruptError, IndexIncompatibleError, IndexMissingError, build_index, search,
)
from askkhorasan.lexical import LexicalIndex
from askkhorasan.store import load_generation

from conftest import SEED, copy_index

NOTE = (
    "# Field notes on recruitment\n\n"
    "## Northern provinces\n\n"
    "Recruiters in Badakhshan offered cash stipends to unemployed graduates of Salafi madrasas. "
    "Local elders reported that the stipends were paid in Pakistani rupees.\n"
)


@pytest.fixture
def corpus(tmp_path):
    c = tmp_path / "corpus"
    c.mkdir()
    shutil.copy(SEED, c / SEED.name)
    return c


def test_missing_index_says_how_to_build(tmp_path):
    with pytest.raises(IndexMissingError, match="askkhorasan build"):
        search("anything", index_dir=tmp_path / "nowhere")


def test_rebuild_embeds_only_what_changed(corpus, tmp_path, embedder):
    index_dir = tmp_path / "index"
    first = build_index(corpus, index_dir, embedder=embedder)
    assert first.added == (SEED.name,) and first.embedded_passages == first.passages > 10

    again = build_index(corpus, index_dir, embedder=embedder)
    assert again.unchanged == (SEED.name,) and again.embedded_passages == 0 and again.passages == first.passages

    (corpus / "notes.md").write_text(NOTE, encoding="utf-8")
    added = build_index(corpus, index_dir, embedder=embedder)
    assert added.added == ("notes.md",) and added.unchanged == (SEED.name,)
    assert added.embedded_passages == 1 and added.passages == first.passages + 1
    assert "rupees" in Index(index_dir, embedder=embedder).search("What currency were stipends paid in?", k=1)[0].text

    (corpus / "notes.md").rename(corpus / "renamed.md")
    renamed = build_index(corpus, index_dir, embedder=embedder)
    assert renamed.added == ("renamed.md",) and renamed.removed == ("notes.md",) and renamed.embedded_passages == 0

    (corpus / "renamed.md").unlink()
    removed = build_index(corpus, index_dir, embedder=embedder)
    assert removed.removed == ("renamed.md",) and removed.passages == first.passages


def test_reused_rows_match_a_fresh_build(corpus, tmp_path, embedder, seed_built):
    copy_index(seed_built, tmp_path / "a")  # the seed article's rows, to be reused
    (corpus / "notes.md").write_text(NOTE, encoding="utf-8")
    build_index(corpus, tmp_path / "a", embedder=embedder)
    build_index(corpus, tmp_path / "b", embedder=embedder)
    a, b = load_generation(tmp_path / "a"), load_generation(tmp_path / "b")
    strip = lambda rows: sorted((p["source"], p["start"], p["end"], p["text"]) for p in rows)  # noqa: E731
    assert strip(a.passages) == strip(b.passages)
    assert a.sentence_vectors.shape == b.sentence_vectors.shape


def test_bad_sources_are_reported_and_the_rest_indexed(corpus, tmp_path, embedder):
    (corpus / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)))
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "report.docx").write_bytes(b"PK\x03\x04")
    (corpus / "copy.txt").write_bytes(SEED.read_bytes())
    report = build_index(corpus, tmp_path / "index", embedder=embedder)
    reasons = {f.source: f.reason for f in report.failed}
    assert set(reasons) == {"image.txt", "empty.txt", "report.docx"}
    assert "binary" in reasons["image.txt"] and "empty" in reasons["empty.txt"] and "unsupported" in reasons["report.docx"]
    assert report.added == (SEED.name,)
    assert report.duplicates == (("copy.txt", SEED.name),)


def test_a_failed_build_leaves_the_working_index(corpus, tmp_path, embedder, monkeypatch):
    index_dir = tmp_path / "index"
    build_index(corpus, index_dir, embedder=embedder)
    before = (index_dir / "CURRENT").read_text()
    (corpus / "notes.md").write_text(NOTE, encoding="utf-8")

    def explode(self, path):
        path.mkdir(parents=True)
        (path / "half-written").write_text("x")
        raise OSError("disk full")

    monkeypatch.setattr(LexicalIndex, "save", explode)
    with pytest.raises(OSError, match="disk full"):
        build_index(corpus, index_dir, embedder=embedder)
    monkeypatch.undo()
    assert (index_dir / "CURRENT").read_text() == before
    assert not list(index_dir.glob(".building-*"))
    assert Index(index_dir, embedder=embedder).search("Tirah Valley", k=1)[0].source == SEED.name


def test_a_corpus_with_nothing_readable_keeps_the_old_index(corpus, tmp_path, embedder):
    index_dir = tmp_path / "index"
    build_index(corpus, index_dir, embedder=embedder)
    before = (index_dir / "CURRENT").read_text()
    (corpus / SEED.name).unlink()
    (corpus / "bad.txt").write_bytes(b"\x00\x01\x02")
    with pytest.raises(CorpusError, match="nothing to index"):
        build_index(corpus, index_dir, embedder=embedder)
    assert (index_dir / "CURRENT").read_text() == before


@pytest.fixture
def built(tmp_path, seed_built):
    copy_index(seed_built, tmp_path / "index")
    gen = load_generation(tmp_path / "index")
    return tmp_path / "index", gen.path


def test_truncated_file_is_detected(built, embedder):
    index_dir, gen = built
    data = (gen / "passages.faiss").read_bytes()
    (gen / "passages.faiss").write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexCorruptError, match="changed or truncated.*askkhorasan build"):
        Index(index_dir, embedder=embedder)


def test_hand_edited_passages_are_detected(built, embedder):
    index_dir, gen = built
    with contextlib.closing(sqlite3.connect(gen / "passages.sqlite")) as con:  # the same size, other text
        con.execute("UPDATE passages SET text = replace(text, 'Taliban', 'Talibam')")
        con.commit()
    with pytest.raises(IndexCorruptError):
        Index(index_dir, embedder=embedder)


def test_missing_file_is_detected(built, embedder):
    index_dir, gen = built
    (gen / "sentences.npy").unlink()
    with pytest.raises(IndexCorruptError, match="missing"):
        Index(index_dir, embedder=embedder)


@pytest.mark.parametrize("edit, error, message", [
    (lambda m: m["model"].update(weights_sha256="0" * 64), IndexIncompatibleError, "another model"),
    (lambda m: m["model"].update(name="intfloat/e5-small"), IndexIncompatibleError, "another model"),
    (lambda m: m.update(format_version=99), IndexIncompatibleError, "upgrade askkhorasan"),
    (lambda m: m.pop("format_version"), IndexCorruptError, "format"),
])
def test_incompatible_manifest_says_to_rebuild(built, embedder, edit, error, message):
    index_dir, gen = built
    manifest = json.loads((gen / "manifest.json").read_text())
    edit(manifest)
    (gen / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(error, match=message) as info:
        Index(index_dir, embedder=embedder)
    assert "askkhorasan build" in str(info.value)


def test_garbage_manifest_is_detected(built, embedder):
    index_dir, gen = built
    (gen / "manifest.json").write_text("{not json")
    with pytest.raises(IndexCorruptError, match="askkhorasan build"):
        Index(index_dir, embedder=embedder)


def test_a_running_index_picks_up_a_rebuild(corpus, tmp_path, embedder):
    index_dir = tmp_path / "index"
    build_index(corpus, index_dir, embedder=embedder)
    index = Index(index_dir, embedder=embedder)
    assert not any("rupees" in p.text for p in index.search("stipends paid in rupees", k=3))
    (corpus / "notes.md").write_text(NOTE, encoding="utf-8")
    build_index(corpus, index_dir, embedder=embedder)
    assert "rupees" in index.search("stipends paid in rupees", k=1)[0].text


def test_manifest_records_how_the_index_was_built(built):
    _, gen = built
    manifest = json.loads((gen / "manifest.json").read_text())
    assert manifest["model"]["weights_sha256"] == "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
    assert manifest["settings"]["max_tokens"] <= 254
    assert manifest["sources"][SEED.name] and manifest["format_version"] >= 1
    assert set(manifest["files"]) >= {"passages.faiss", "passages.sqlite", "sentences.npy", "documents.sqlite"}
    import bm25s
    import faiss

    from askkhorasan.answer_model import MODELS
    from askkhorasan.hashing import sha256_file

    # What built it: library versions, FAISS's search parameters, the answer model files of the day.
    versions = manifest["versions"]
    assert versions["faiss-cpu"] == faiss.__version__ and versions["bm25s"] == bm25s.__version__
    assert versions["onnxruntime"] and versions["python"] and "torch" in versions and "sentence-transformers" in versions
    assert manifest["faiss"] == {"type": "Flat", "metric": "inner product", "exact_up_to": 50_000}
    assert manifest["answer_models"] == {p.name: sha256_file(p) for p in sorted(MODELS.iterdir())}
    assert set(manifest["answer_models"]) >= {"answer_model.safetensors", "answer_selection.json", "feature_scorer.json"}


def test_an_approximate_index_past_the_flat_limit_works_end_to_end(corpus, tmp_path, embedder, monkeypatch):
    import askkhorasan.store as store

    monkeypatch.setattr(store, "FLAT_LIMIT", 4)
    index_dir = tmp_path / "index"
    build_index(corpus, index_dir, embedder=embedder)
    manifest = json.loads((load_generation(index_dir).path / "manifest.json").read_text())
    assert manifest["faiss"]["type"].startswith("IVF")
    nlist = int(manifest["faiss"]["type"][3:].split(",")[0])
    assert manifest["faiss"]["nlist"] == nlist and manifest["faiss"]["nprobe"] == store.IVF_NPROBE
    index = Index(index_dir, embedder=embedder)
    assert "Tirah Valley" in index.search("Where did TTP operatives pledge allegiance?", k=3)[0].text
    (corpus / "notes.md").write_text(NOTE, encoding="utf-8")
    report = build_index(corpus, index_dir, embedder=embedder)
    assert report.embedded_passages == 1
    assert "rupees" in index.search("stipends paid in rupees", k=1)[0].text


def test_ivf_lists_sized_before_the_adds_give_the_same_index(monkeypatch):
    """store._reserve_lists sizes each IVF list before the vectors are added (so they are not
    reallocated as they grow); the index must be byte for byte the one plain adds make."""
    import faiss
    import numpy as np

    import askkhorasan.store as store

    vectors = np.random.default_rng(0).standard_normal((3000, 32), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    monkeypatch.setattr(store, "FLAT_LIMIT", 100)

    def build():
        index, spec = store.faiss_index_from_blocks(len(vectors), 32, lambda: iter(np.array_split(vectors, 7)))
        return spec, faiss.serialize_index(index).tobytes()

    reserved = build()
    monkeypatch.setattr(store, "_reserve_lists", lambda *args: None)
    assert reserved[0].startswith("IVF") and reserved == build()


def test_sentences_embedded_a_chunk_at_a_time_get_the_vectors_of_one_call(corpus, tmp_path, embedder, monkeypatch):
    """The folder build embeds new sentences EMBED_CHUNK at a time, longest first, straight into
    its temporary vector file; the model must see the batches one call over them all makes."""
    import numpy as np

    from askkhorasan import sources
    from askkhorasan.corpus import discover
    from askkhorasan.settings import DEFAULT_SETTINGS, MODEL_DIMENSION
    from askkhorasan.spill import SpilledVectors

    (corpus / "notes.md").write_text(NOTE, encoding="utf-8")

    def read():
        return sources.read_corpus(discover(corpus, []), corpus, DEFAULT_SETTINGS, embedder, None, None, []).docs

    whole = read()
    sources.embed_missing(whole, embedder, None)
    expected = np.concatenate([d.sentence_vectors for d in whole])

    monkeypatch.setattr(sources, "EMBED_CHUNK", 32)  # one batch a call
    chunked = read()
    assert [d.document["source"] for d in chunked] == [SEED.name, "notes.md"]
    chunked[1].sentence_vectors = whole[1].sentence_vectors  # the notes reused, the article embedded
    seen = []
    with SpilledVectors(tmp_path, MODEL_DIMENSION, len(expected)) as spilled:
        firsts = sources.embed_missing(chunked, embedder, lambda stage, done, total: seen.append((done, total)),
                                       into=spilled)
        assert firsts == [0, len(whole[0].sentence_spans)]
        assert all(d.sentence_vectors is None for d in chunked)
        assert np.array_equal(spilled.read(0, len(expected)), expected)
    assert firsts[1] > 2 * 32 and seen[-1] == (firsts[1], firsts[1])
