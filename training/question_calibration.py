"""Write the questions the int8 question graph is calibrated on (models/question_calibration.json).

300 questions drawn at random (seed 0) from SQuAD 1.1 *train* — no article shared with the
dev set, the benchmark sample or the paraphrase sets — so that the activation ranges int8
is fitted to are those of questions as people type them. question_graph.py reads the file
with its sha256; changing it rebuilds the graph.

    python training/question_calibration.py [--count 300] [--write]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import squad  # noqa: E402

from askkhorasan.hashing import sha256_file  # noqa: E402
from askkhorasan.question_graph import CALIBRATION  # noqa: E402

TRAIN = squad.SHARED_BENCH / "squad-v1.1-train.json.gz"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--write", action="store_true", help=f"write {CALIBRATION.name} into src/askkhorasan/models/")
    args = ap.parse_args()
    with gzip.open(TRAIN, "rt", encoding="utf-8") as f:
        data = json.load(f)["data"]
    questions = sorted({qa["question"].strip() for a in data for p in a["paragraphs"] for qa in p["qas"]})
    chosen = random.Random(args.seed).sample(questions, args.count)
    out = {
        "format": 1,
        "questions": chosen,
        "provenance": {"script": "training/question_calibration.py", "arguments": {"count": args.count, "seed": args.seed},
                       "data": TRAIN.name, "data_sha256": sha256_file(TRAIN)},
    }
    print(f"{len(chosen)} of {len(questions)} distinct training questions, e.g. {chosen[:3]}")
    if args.write:
        CALIBRATION.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {CALIBRATION}")


if __name__ == "__main__":
    main()
