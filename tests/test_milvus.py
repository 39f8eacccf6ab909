"""The Milvus store against the index folder: the same passages and answers from real engines
(Milvus Lite, FAISS, bm25s, the bundled model), refresh, faults and a killed build."""

import json
import os
import signal
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import pytest

pytest.importorskip("pymilvus", reason="Milvus support: pip install 'askkhorasan[milvus]' (scripts/test.sh does)")

from askkhorasan import Index, build_index  # noqa: E402
from askkhorasan.errors import AskKhorasanError, IndexMissingError  # noqa: E402
from askkhorasan.evaluate import load_questions  # noqa: E402
from askkhorasan.milvus_store import current_collection, dense_index_record, milvus_target, release  # noqa: E402
from askkhorasan.status import index_status  # noqa: E402

from conftest import DATA, ROOT, SEED, seed_corpus  # noqa: E402

SEED_QUESTIONS = [q.question for q in load_questions(DATA / "seed_questions.jsonl")] + [
    json.loads(line)["question"] for line in (ROOT / "bench" / "data" / "seed_dev.jsonl").read_text().splitlines()
]
SQUAD_SAMPLE = DATA / "squad-v2-dev-5-articles.json"  # SQuAD 2.0 dev, CC BY-SA 4.0
BRIDGE = "Bridge note\n\nThe new bridge over the river was funded by a loan from the regional bank in 2019.\n"


def same_passages(a, b) -> None:
    """The same passages in the same order, but for passages whose scores tie."""
    assert {p.chunk_id for p in a} == {p.chunk_id for p in b}
    for x, y in zip(a, b):
        assert x.chunk_id == y.chunk_id or abs(x.score - y.score) < 1e-5, (x.chunk_id, x.score, y.chunk_id, y.score)
        assert abs(x.score - y.score) < 1e-4


def spans(citations) -> list:
    return [(c.source, c.start, c.end, c.quote) for c in citations]


def same_answer(a, b) -> None:
    assert (a.found, a.text, a.band, a.note) == (b.found, b.text, b.band, b.note), a.question
    assert spans(a.citations) == spans(b.citations)
    assert abs(a.confidence - b.confidence) < 1e-3
    assert (a.runner_up and spans([a.runner_up])) == (b.runner_up and spans([b.runner_up]))
    same_passages(a.passages, b.passages)
    if a.explanation:
        assert a.explanation.stage == b.explanation.stage
        assert [(c.start, c.matched_words) for c in a.explanation.candidates] == \
               [(c.start, c.matched_words) for c in b.explanation.candidates]


@pytest.fixture(scope="module")
def seed_stores(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("stores")
    corpus = seed_corpus(root)
    build_index(corpus, root / "index", embedder=embedder)
    location = f"milvus-lite:{root / 'seed.db'}"
    report = build_index(corpus, location, embedder=embedder)
    assert report.passages == Index(root / "index", embedder=embedder).manifest["counts"]["passages"]
    yield root, Index(root / "index", embedder=embedder), Index(location, embedder=embedder)
    release(location)


def test_a_milvus_location_is_parsed_and_a_bad_one_refused_with_the_fix():
    assert milvus_target("index") is None and milvus_target(Path("milvus-lite:x.db")) is None
    lite = milvus_target("milvus-lite:some/where.db")
    assert lite.lite_path.name == "where.db" and lite.name == "askkhorasan"
    server = milvus_target("milvus://db.example:19530/team_a")
    assert (server.uri, server.name, server.lite_path) == ("http://db.example:19530", "team_a", None)
    with pytest.raises(AskKhorasanError, match=r"milvus-lite:index\.db"):
        milvus_target("milvus-lite:index")
    with pytest.raises(AskKhorasanError, match="ASKKHORASAN_MILVUS_TOKEN"):
        milvus_target("milvus://user:secret@db.example:19530")


def test_the_manifest_records_the_milvus_vector_index_as_built():
    exact = {"metric": "inner product", "exact_up_to": 50_000}
    assert dense_index_record(50_000, lite=True) == ("milvus FLAT", exact)
    assert dense_index_record(160_000, lite=True) == ("milvus IVF_FLAT", exact | {"nlist": 1600, "nprobe": 32})
    assert dense_index_record(160_000, lite=False) == ("milvus HNSW", exact | {"M": 16, "efConstruction": 200})


@pytest.mark.slow
def test_seed_questions_get_the_same_passages_and_answers_from_both_stores(seed_stores):
    _, local, milvus = seed_stores
    assert type(milvus).__name__ == "MilvusIndex"
    assert len(SEED_QUESTIONS) >= 40
    for question in SEED_QUESTIONS:
        same_passages(local.search(question, k=8), milvus.search(question, k=8))
        same_answer(local.ask(question, explain=True), milvus.ask(question, explain=True))


@pytest.mark.slow
def test_the_source_viewer_and_status_read_milvus_like_the_folder(seed_stores):
    root, local, milvus = seed_stores
    # the manifest says how Milvus searches (no FAISS index) and what built it, beside what the folder's says
    assert milvus.manifest["faiss"] == {"type": "milvus FLAT", "metric": "inner product", "exact_up_to": 50_000}
    assert milvus.manifest["versions"] == local.manifest["versions"] | {
        "pymilvus": metadata.version("pymilvus"), "milvus-lite": metadata.version("milvus-lite")}
    assert milvus.manifest["answer_models"] == local.manifest["answer_models"]
    assert milvus.documents == [d | {"first_passage": 0, "slot": 0, "sentences": local.manifest["counts"]["sentences"]}
                                for d in local.documents]
    assert milvus.source_passages(SEED.name) == local.source_passages(SEED.name)
    st_local = index_status(root / "corpus", root / "index")
    st_milvus = index_status(root / "corpus", f"milvus-lite:{root / 'seed.db'}")
    assert (st_milvus.exists, st_milvus.stale, st_milvus.passages, st_milvus.sources) == \
           (st_local.exists, st_local.stale, st_local.passages, st_local.sources)


@pytest.mark.slow
def test_squad_sample_gets_the_same_passages_and_answers_from_both_stores(tmp_path, embedder):
    sys.path.insert(0, str(ROOT / "bench"))
    import squad

    questions = [q["question"] for q in squad.evenly_spaced(squad.write_corpus(SQUAD_SAMPLE, tmp_path / "corpus"), 60)]
    build_index(tmp_path / "corpus", tmp_path / "index", embedder=embedder)
    location = f"milvus-lite:{tmp_path / 'squad.db'}"
    build_index(tmp_path / "corpus", location, embedder=embedder)
    local, milvus = Index(tmp_path / "index", embedder=embedder), Index(location, embedder=embedder)
    try:
        for question in questions:
            same_passages(local.search(question, k=5), milvus.search(question, k=5))
            same_answer(local.ask(question), milvus.ask(question))
    finally:
        release(location)


@pytest.mark.slow
def test_refresh_adds_and_removes_sources_like_the_folder_and_a_loaded_index_follows(tmp_path, embedder):
    corpus = seed_corpus(tmp_path)
    location = f"milvus-lite:{tmp_path / 'r.db'}"
    target = milvus_target(location)
    try:
        for index_dir in (tmp_path / "index", location):
            build_index(corpus, index_dir, embedder=embedder)
        serving = Index(location, embedder=embedder)
        first = current_collection(target)
        assert build_index(corpus, location, embedder=embedder).generation  # nothing to do: nothing written
        assert current_collection(target) == first

        (corpus / "bridge.txt").write_text(BRIDGE, encoding="utf-8")
        reports = [build_index(corpus, d, embedder=embedder) for d in (tmp_path / "index", location)]
        for r in reports:
            assert (r.added, r.unchanged, r.removed, r.embedded_passages) == (("bridge.txt",), (SEED.name,), (), 1)
        assert current_collection(target) != first
        question = "How was the bridge financed?"
        assert "funded by a loan" in serving.ask(question).text  # the loaded index followed the alias
        same_answer(Index(tmp_path / "index", embedder=embedder).ask(question), serving.ask(question))

        (corpus / "bridge.txt").unlink()
        reports = [build_index(corpus, d, embedder=embedder) for d in (tmp_path / "index", location)]
        for r in reports:
            assert (r.removed, r.unchanged, r.embedded_passages) == (("bridge.txt",), (SEED.name,), 0)
        assert not any(d["source"] == "bridge.txt" for d in serving.documents)
        same_answer(Index(tmp_path / "index", embedder=embedder).ask(question), serving.ask(question))
        # two generations are kept (the current one and the one before), like the folder's; a
        # refresh writes into the same passages collection
        from askkhorasan.milvus_store import client

        assert len([c for c in client(target).list_collections() if c.endswith("_m")]) == 2
        assert len([c for c in client(target).list_collections() if c.endswith("_p")]) == 1
    finally:
        release(location)


NOTES = {
    "alpha.txt": "Alpha note\n\nThe alpha station recorded heavy rain in March 2020. Its crew of six measured the river daily.\n",
    "beta.txt": "Beta note\n\nThe beta depot stored grain for the northern villages.\n",
    "gamma.txt": "Gamma note\n\nThe gamma tower was demolished in 2018 after the flood.\n",
}
NOTE_QUESTIONS = ["When did the alpha station record heavy rain?", "What did the beta depot store?",
                  "When was the gamma tower demolished?", "How was the bridge financed?",
                  "Why is the group shrouded in secrecy?", "Where did TTP operatives pledge allegiance?"]


class CountingWrites:
    """The rows a real Milvus client is asked to upsert, insert and delete, by collection kind."""

    def __init__(self, client, monkeypatch):
        self.reset()
        for method in ("insert", "upsert"):
            monkeypatch.setattr(client, method, self._wrap(getattr(client, method)))
        real_delete = client.delete

        def delete(collection, **kwargs):
            out = real_delete(collection, **kwargs)
            self.deleted += out["delete_count"] if isinstance(out, dict) else len(out)  # pymilvus gives either
            return out
        monkeypatch.setattr(client, "delete", delete)

    def reset(self):
        self.rows: dict[str, int] = {}
        self.ids: set[int] = set()
        self.deleted = 0

    def _wrap(self, real):
        def write(collection, data, **kwargs):
            kind = collection[-1]
            self.rows[kind] = self.rows.get(kind, 0) + len(data)
            if kind == "p":
                self.ids |= {r["id"] for r in data}
            return real(collection, data, **kwargs)
        return write


@pytest.mark.slow
def test_a_refresh_upserts_new_content_and_hides_removed_content_by_passage_id(tmp_path, embedder, monkeypatch):
    from askkhorasan.milvus_store import client

    corpus = seed_corpus(tmp_path)
    for name, text in NOTES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    location = f"milvus-lite:{tmp_path / 'u.db'}"
    target = milvus_target(location)
    try:
        for index_dir in (tmp_path / "index", location):
            build_index(corpus, index_dir, embedder=embedder)
        c = client(target)
        first = Index(location, embedder=embedder)
        collections = first.manifest["store"]["collections"]
        before = {r["id"]: r["born"] for r in c.query(collections["p"], filter="id >= 0", output_fields=["id", "born"],
                                                      limit=1000)}
        slots = {d["source"]: d["slot"] for d in first.documents}

        (corpus / "alpha.txt").rename(corpus / "alpha-renamed.txt")  # renamed: same content
        (corpus / "beta.txt").write_text(NOTES["beta.txt"].replace("grain", "rice and grain since 2011"), encoding="utf-8")
        (corpus / "gamma.txt").unlink()
        (corpus / "bridge.txt").write_text(BRIDGE, encoding="utf-8")
        counted = CountingWrites(c, monkeypatch)
        folder_report = build_index(corpus, tmp_path / "index", embedder=embedder)
        report = build_index(corpus, location, embedder=embedder)
        assert (report.added, report.updated, report.removed, report.unchanged, report.embedded_passages) == \
               (folder_report.added, folder_report.updated, folder_report.removed, folder_report.unchanged,
                folder_report.embedded_passages) == \
               (("alpha-renamed.txt", "bridge.txt"), ("beta.txt",), ("alpha.txt", "gamma.txt"), (SEED.name,), 2)

        milvus, local = Index(location, embedder=embedder), Index(tmp_path / "index", embedder=embedder)
        docs = {d["source"]: d for d in milvus.documents}
        new = ("beta.txt", "bridge.txt")
        # only the new content's rows were written, at new slots; nothing was deleted yet
        assert counted.rows == {"p": sum(docs[s]["passages"] for s in new), "s": sum(docs[s]["sentences"] for s in new),
                                "t": counted.rows["t"], "m": 1 + len(docs)}
        assert {i >> 24 for i in counted.ids} == {docs[s]["slot"] for s in new} and not counted.ids & set(before)
        assert counted.deleted == 0
        assert milvus.manifest["store"]["written"] == {"passages": counted.rows["p"], "sentences": counted.rows["s"],
                                                       "terms": counted.rows["t"], "records": counted.rows["m"],
                                                       "deleted": 0}
        assert milvus.manifest["store"]["collections"] == collections | {"m": current_collection(target)}
        # unchanged and renamed content: the same rows, ids and generation as the first build wrote
        assert docs["alpha-renamed.txt"]["slot"] == slots["alpha.txt"] and docs[SEED.name]["slot"] == slots[SEED.name]
        after = {r["id"]: r["born"] for r in c.query(collections["p"], filter="id >= 0", output_fields=["id", "born"],
                                                     limit=1000)}
        assert all(after[i] == born == 1 for i, born in before.items())  # removed content kept, hidden, for a generation
        assert milvus.manifest["store"]["dead"] == sorted([slots["beta.txt"], slots["gamma.txt"]])
        # and the same passages (chunk ids too) and answers as the folder rebuilt from the new corpus
        def shown(rows):  # sent_lo / sent_hi are each store's own sentence numbers
            return [{k: v for k, v in r.items() if k not in ("sent_lo", "sent_hi")} for r in rows]
        assert shown(milvus.source_passages("alpha-renamed.txt")) == shown(local.source_passages("alpha-renamed.txt"))
        for question in NOTE_QUESTIONS:
            same_passages(local.search(question, k=8), milvus.search(question, k=8))
            same_answer(local.ask(question, explain=True), milvus.ask(question, explain=True))
        assert "2018" not in milvus.ask("When was the gamma tower demolished?").text

        # the next refresh deletes what the serving generation hides, and nothing else
        (corpus / "gamma.txt").write_text(NOTES["gamma.txt"], encoding="utf-8")  # back: new content again, a new slot
        counted.reset()
        build_index(corpus, location, embedder=embedder)
        hidden = [slots["beta.txt"], slots["gamma.txt"]]
        assert not c.query(collections["p"], filter=f"slot in {hidden}", output_fields=["id"], limit=100)
        assert not c.query(collections["s"], filter=f"slot in {hidden}", output_fields=["id"], limit=100)
        assert counted.rows["p"] == Index(location, embedder=embedder).documents[-1]["passages"] == 1
        assert counted.deleted >= sum(1 for i in before if i >> 24 in hidden)
        assert "2018" in Index(location, embedder=embedder).ask("When was the gamma tower demolished?").text
    finally:
        release(location)


def test_one_build_at_a_time_writes_into_a_milvus_server(tmp_path):
    import threading

    from askkhorasan.milvus_store import MilvusTarget, ServerBuildLock, build_lock, client

    assert isinstance(build_lock("milvus://db.example:19530"), ServerBuildLock)
    db = tmp_path / "lock.db"
    server = MilvusTarget("milvus://test:19530", str(db.resolve()), "askkhorasan")  # a server's lock, on Milvus Lite
    refused = []

    def other_build():
        try:
            with ServerBuildLock(server):
                pass
        except AskKhorasanError as exc:
            refused.append(str(exc))

    try:
        with ServerBuildLock(server):
            with ServerBuildLock(server):  # re-entrant in its thread (the app's upload, then its build)
                pass
            thread = threading.Thread(target=other_build)
            thread.start()
            thread.join()
        assert len(refused) == 1 and "another build is writing into milvus://test:19530" in refused[0]
        with ServerBuildLock(server):  # released
            pass
        client(server).create_alias("askkhorasan_lock", "askkhorasan_building")  # left by a build that died
        with pytest.raises(AskKhorasanError, match="drop the alias askkhorasan_building"):
            with ServerBuildLock(server):
                pass
    finally:
        release(f"milvus-lite:{db}")


@pytest.mark.slow
def test_a_missing_milvus_index_is_reported_with_the_command_that_builds_it(tmp_path, embedder):
    location = f"milvus-lite:{tmp_path / 'none.db'}"
    with pytest.raises(IndexMissingError, match=f"askkhorasan build --index {location}"):
        Index(location, embedder=embedder)
    assert not (tmp_path / "none.db").exists()  # reading makes no file
    assert not index_status(tmp_path, location).exists


@pytest.mark.slow
def test_a_damaged_milvus_index_is_refused_on_load_and_a_build_repairs_it(tmp_path, embedder):
    from askkhorasan.errors import IndexCorruptError
    from askkhorasan.milvus_store import client

    corpus = seed_corpus(tmp_path)
    location = f"milvus-lite:{tmp_path / 'd.db'}"
    target = milvus_target(location)
    try:
        build_index(corpus, location, embedder=embedder)
        damaged = current_collection(target)
        sentences = Index(location, embedder=embedder).manifest["store"]["collections"]["s"]
        client(target).drop_collection(sentences)  # the sentences of the serving generation
        with pytest.raises(IndexCorruptError, match=f"askkhorasan build --index {location}"):
            Index(location, embedder=embedder)
        assert not index_status(corpus, location).exists

        report = build_index(corpus, location, embedder=embedder)
        assert report.added == (SEED.name,) and report.embedded_passages == report.passages  # nothing reused from it
        assert current_collection(target) != damaged
        assert "shrouded" in Index(location, embedder=embedder).ask("Why is the group shrouded in secrecy?").text
    finally:
        release(location)


def index_files(db: Path) -> dict[Path, int]:
    """Milvus Lite's index files (derived from each segment's rows) and their sizes."""
    return {f: f.stat().st_size for f in sorted(db.glob("collections/*/partitions/*/indexes/*.idx"))}


@pytest.mark.slow
def test_a_truncated_milvus_lite_index_file_is_built_again_from_its_rows(tmp_path, embedder):
    # what a process killed while Milvus Lite wrote an index file left behind (CI saw it after a killed build)
    corpus = seed_corpus(tmp_path)
    location = f"milvus-lite:{tmp_path / 't.db'}"
    try:
        build_index(corpus, location, embedder=embedder)
        questions = ["Where did TTP operatives pledge allegiance?", "Why is the group shrouded in secrecy?"]
        answers = [Index(location, embedder=embedder).ask(q) for q in questions]
        release(location)
        whole = index_files(tmp_path / "t.db")
        assert len(whole) == 4  # one segment in each of the generation's collections
        for f, size in whole.items():
            f.write_bytes(f.read_bytes()[: size // 2])

        again = Index(location, embedder=embedder)
        for question, answer in zip(questions, answers):
            same_answer(answer, again.ask(question))
        assert index_files(tmp_path / "t.db") == whole
    finally:
        release(location)


@pytest.mark.slow
def test_an_index_file_whose_writer_dies_is_never_left_in_place(tmp_path, embedder, monkeypatch):
    from milvus_lite.index.brute_force import BruteForceIndex

    from askkhorasan.errors import IndexCorruptError
    from askkhorasan.lite_sidecars import PARTIAL

    corpus = seed_corpus(tmp_path)
    location = f"milvus-lite:{tmp_path / 'w.db'}"
    db = tmp_path / "w.db"
    try:
        build_index(corpus, location, embedder=embedder)
        release(location)
        whole = index_files(db)
        passages = next(f for f in whole if "_p/" in f.as_posix())
        passages.unlink()
        left = passages.parent / f"{PARTIAL}999999999-x"  # what a killed writer (a process long gone) left aside
        left.mkdir()
        (left / passages.name).write_bytes(b"\x93NUMPY")

        def dies_half_way(self, path):
            Path(path).write_bytes(b"\x93NUMPY\x01\x00")
            raise MemoryError("the writer dies here")

        monkeypatch.setattr(BruteForceIndex, "save", dies_half_way)
        with pytest.raises(IndexCorruptError):
            Index(location, embedder=embedder)
        assert not passages.exists() and not left.exists()
        assert not [p for p in passages.parent.iterdir() if p.name.startswith(PARTIAL)]
        release(location)

        monkeypatch.undo()
        assert "shrouded" in Index(location, embedder=embedder).ask("Why is the group shrouded in secrecy?").text
        assert index_files(db) == whole
    finally:
        release(location)


KILLED_BUILD = """
import sys, time
from askkhorasan import build_index, milvus_store
real = milvus_store.write_generation
def slow(target, **rows):
    c = milvus_store.client(target)
    method = getattr(c, sys.argv[3])
    def stop(collection, *args, **kwargs):
        out = method(collection, *args, **kwargs)
        print("WRITING", collection, flush=True)
        time.sleep(120)
        return out
    setattr(c, sys.argv[3], stop)
    return real(target, **rows)
milvus_store.write_generation = slow
build_index(sys.argv[1], sys.argv[2], force=sys.argv[4] == "full")
"""


@pytest.mark.slow
@pytest.mark.parametrize("stop_after, build", [
    ("upsert", "refresh"),  # the first rows written into the serving collections
    ("flush", "refresh"),  # every row and the new record written, the alias not moved
    ("flush", "full"),  # a full build's new collections written, the alias not moved
])
def test_a_build_killed_while_writing_leaves_the_previous_generation_serving(tmp_path, embedder, stop_after, build):
    from askkhorasan.milvus_store import client

    corpus = seed_corpus(tmp_path)
    (corpus / "old.txt").write_text("Old note\n\nThe old ferry crossed the river twice a day until 2015.\n", encoding="utf-8")
    location = f"milvus-lite:{tmp_path / 'k.db'}"
    target = milvus_target(location)
    build_index(corpus, location, embedder=embedder)
    before = current_collection(target)
    serving = Index(location, embedder=embedder)
    questions = ["Where did TTP operatives pledge allegiance?", "When did the old ferry cross the river?"]
    answers = [serving.ask(q) for q in questions]
    collections = serving.manifest["store"]["collections"]
    release(location)  # Milvus Lite serves a file to one process at a time
    (corpus / "bridge.txt").write_text(BRIDGE, encoding="utf-8")
    (corpus / "old.txt").unlink()

    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-c", KILLED_BUILD, str(corpus), location, stop_after, build], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=tmp_path)
    deadline = time.time() + 300
    written = None
    for line in proc.stdout:
        if line.startswith("WRITING") or time.time() > deadline:
            written = line.split()[-1] if line.startswith("WRITING") else None
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert written, "the build never reached the write"
    assert (written == collections["p"]) == (build == "refresh")  # a refresh writes into the serving collections

    try:
        c = client(target)
        assert current_collection(target) == before
        old = Index(location, embedder=embedder)  # (loads the collections, which reopening the file releases)
        assert written in c.list_collections()
        dead = c.query(collections["p"], filter="born > 1", output_fields=["id"], limit=100)
        # killed with rows of the new generation in the serving collection, which the alias does not show
        assert bool(dead) == (build == "refresh")
        for question, answer in zip(questions, answers):
            same_answer(answer, old.ask(question))
        assert "funded by a loan" not in old.ask("How was the bridge financed?").text
        assert [d["source"] for d in old.documents] == [SEED.name, "old.txt"]

        report = build_index(corpus, location, embedder=embedder)
        assert (report.added, report.unchanged, report.removed) == (("bridge.txt",), (SEED.name,), ("old.txt",))
        assert report.embedded_passages == 1
        # the dead build's rows deleted, the bridge's written again at the same ids (a dead full build's collections dropped)
        again = {r["id"] for r in c.query(collections["p"], filter="born > 1", output_fields=["id"], limit=100)}
        assert len(again) == 1 and (build == "full" or again == {r["id"] for r in dead})
        assert (written in c.list_collections()) == (build == "refresh")
        fresh = Index(location, embedder=embedder)
        assert fresh.manifest["store"]["collections"] == collections | {"m": current_collection(target)}
        assert "funded by a loan" in fresh.ask("How was the bridge financed?").text
        assert [d["source"] for d in fresh.documents] == [SEED.name, "bridge.txt"]
        build_index(corpus, tmp_path / "index", embedder=embedder)  # and its term counts are the corpus's again
        local = Index(tmp_path / "index", embedder=embedder)
        for question in [*questions, "How was the bridge financed?"]:
            same_answer(local.ask(question, explain=True), fresh.ask(question, explain=True))
        assert sorted(c for c in client(target).list_collections() if c.endswith("_m")) == \
               sorted([before, current_collection(target)])  # the dead build's record dropped
    finally:
        release(location)


@pytest.mark.slow
def test_the_cli_builds_asks_and_searches_a_milvus_lite_index(tmp_path, embedder):
    from click.testing import CliRunner

    from askkhorasan.cli import main
    from askkhorasan.index import forget_open_indexes

    corpus = seed_corpus(tmp_path)
    location = f"milvus-lite:{tmp_path / 'cli.db'}"
    runner = CliRunner()
    try:
        result = runner.invoke(main, ["build", "--corpus", str(corpus), "--index", location, "-q"])
        assert result.exit_code == 0, result.output
        result = runner.invoke(main, ["ask", "Why is the group shrouded in secrecy?", "--index", location, "--json"])
        assert result.exit_code == 0, result.output
        answer = json.loads(result.output)
        assert "shrouded the organization in secrecy" in answer["text"]
        result = runner.invoke(main, ["search", "Tirah Valley", "-k", "2", "--index", location, "--json"])
        assert result.exit_code == 0 and "Tirah Valley" in json.loads(result.output)[0]["text"]
        result = runner.invoke(main, ["status", "--corpus", str(corpus), "--index", location])
        assert result.exit_code == 0 and "Up to date." in result.output
        result = runner.invoke(main, ["ask", "x", "--index", "milvus://nohost"])
        assert result.exit_code == 2 and "milvus://HOST:PORT" in result.output
    finally:
        forget_open_indexes()
        release(location)


@pytest.mark.slow
def test_the_app_serves_a_milvus_lite_index(tmp_path, embedder):
    from gradio_client import Client

    from conftest import _free_port

    corpus = seed_corpus(tmp_path)
    location = f"milvus-lite:{tmp_path / 'app.db'}"
    build_index(corpus, location, embedder=embedder)
    local_passages = Index(location, embedder=embedder).source_passages(SEED.name)
    release(location)
    port = _free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False",
           "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    log = (tmp_path / "app.log").open("w")
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port", str(port), "--corpus", str(corpus),
                             "--index", location], stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path)
    try:
        client = None
        deadline = time.time() + 600
        while client is None and time.time() < deadline:
            assert proc.poll() is None, (tmp_path / "app.log").read_text()
            try:
                client = Client(f"http://127.0.0.1:{port}/", verbose=False)
            except Exception:
                time.sleep(1)
        answer = client.predict("Why is the group shrouded in secrecy?", api_name="/ask")
        assert answer["found"] and "shrouded the organization in secrecy" in answer["text"]
        cite = answer["citations"][0]
        view = client.predict(SEED.name, cite["start"], cite["end"], api_name="/document")
        inside = [p for p in local_passages if p["start"] <= cite["start"] < p["end"]]
        assert view["section"] == inside[0]["section"] and view["text"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
