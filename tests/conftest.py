import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import shutil  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from askkhorasan import Index, build_index  # noqa: E402
from askkhorasan.embed import shared_embedder  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "corpus" / "000_5d501b3f3e1d464e.txt"
DATA = Path(__file__).parent / "data"


@dataclass
class Built:
    corpus: Path
    index_dir: Path
    index: Index


@pytest.fixture(scope="session")
def embedder():
    return shared_embedder()


@pytest.fixture(scope="session")
def seed_built(tmp_path_factory, embedder) -> Built:
    """The seed article, indexed once for the session."""
    root = tmp_path_factory.mktemp("seed")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    build_index(corpus, root / "index", embedder=embedder)
    return Built(corpus, root / "index", Index(root / "index", embedder=embedder))


@pytest.fixture(scope="session")
def seed_index(seed_built) -> Index:
    return seed_built.index
