"""Generated hostile sources, shared by the robustness tests and their subprocesses."""

import random
import re
from pathlib import Path

SEED = Path(__file__).resolve().parents[2] / "corpus" / "000_5d501b3f3e1d464e.txt"


def unpunctuated_words(path: Path, megabytes: float, seed: int = 0) -> Path:
    """Words of a real article, lower-cased, with no punctuation and no line breaks: one paragraph."""
    vocab = sorted(set(re.findall(r"[a-z]+", SEED.read_text(encoding="utf-8").lower())))
    rng = random.Random(seed)
    target = int(megabytes * 1024 * 1024)
    written = 0
    with path.open("w", encoding="ascii") as fh:
        while written < target:
            line = " ".join(rng.choices(vocab, k=4000)) + " "
            fh.write(line)
            written += len(line)
    return path
