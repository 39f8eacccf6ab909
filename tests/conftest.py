import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # Workers share the cores: a batch on every core in each of them only makes them wait on each other.
    os.environ.setdefault("ASKKHORASAN_THREADS", "1")

import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from askkhorasan import Index, build_index  # noqa: E402
from askkhorasan.embed import shared_embedder  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "corpus" / "000_5d501b3f3e1d464e.txt"
DATA = Path(__file__).parent / "data"
ARTIFACTS = ROOT / "test-artifacts"


@dataclass
class Built:
    corpus: Path
    index_dir: Path
    index: Index


@pytest.fixture(scope="session")
def embedder():
    return shared_embedder()


def seed_corpus(root: Path) -> Path:
    """A new corpus/ folder in `root` holding the seed article."""
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    return corpus


@pytest.fixture(scope="session")
def seed_built(tmp_path_factory, embedder) -> Built:
    """The seed article, indexed once for the session."""
    root = tmp_path_factory.mktemp("seed")
    corpus = seed_corpus(root)
    build_index(corpus, root / "index", embedder=embedder)
    return Built(corpus, root / "index", Index(root / "index", embedder=embedder))


@pytest.fixture(scope="session")
def seed_index(seed_built) -> Index:
    return seed_built.index


def copy_index(built: Built, to: Path) -> Path:
    """A copy of a built index folder at `to`, for a test that damages or rebuilds one (a copy
    takes milliseconds, a build of the seed article most of a second)."""
    shutil.copytree(built.index_dir, to, symlinks=True)
    return to


def seed_folder(root: Path, built: Built) -> Path:
    """`root` holding corpus/ with the seed article and index/ built from it (a copy of the
    session's, times kept, so the copy is up to date), for tests that damage or rebuild it."""
    shutil.copytree(built.corpus, root / "corpus")
    copy_index(built, root / "index")
    return root


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
UNTRUSTED = (
    "# Untrusted channel post\n\n"
    "The recruiter's message in the Kunar channel read <script>window.__xss = 1</script> and then "
    "<img src=x onerror=\"window.__xss = 2\"> was posted with a call to travel.\n"
)
DESIGN_QUESTION = "Why is the group shrouded in secrecy?"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_url(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("app")
    corpus = seed_corpus(root)
    (corpus / "untrusted.md").write_text(UNTRUSTED, encoding="utf-8")
    build_index(corpus, root / "index", embedder=embedder)
    port = _free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    log = (root / "app.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--port", str(port), "--corpus", str(corpus), "--index", str(root / "index")],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 600  # a loaded 2-core machine can take minutes to import torch and gradio
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited: {(root / 'app.log').read_text()}")
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        raise RuntimeError(f"the app did not start: {(root / 'app.log').read_text()}")
    yield url, root
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "install Debian's chromium: apt-get install chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield b
        b.close()


