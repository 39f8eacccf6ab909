"""Train the answer model: a cross-encoder that reads (question, sentence) and scores "this sentence answers it".

It starts from the bundled all-MiniLM-L6-v2 weights (hash-checked) with a one-logit head;
the embeddings and the lower layers stay frozen, so the shipped file holds only the upper
layers and the head (src/askkhorasan/models/answer_model.safetensors, fp16) and the
paraphrase knowledge of the lower layers is kept. Pairs come from SQuAD 1.1 train
(training/pairs.py). Writes the weights and answer_model.json (provenance: data hash,
arguments, library versions, metrics).

    python training/train_answer_model.py [--questions 16000] [--frozen 3] [--write]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
import pairs as pairdata  # noqa: E402

from askkhorasan.answer_model import (  # noqa: E402
    ARTEFACT, MAX_PAIR_TOKENS, METADATA, build_base_model, load_tokenizer, trainable_state,
)
from askkhorasan.embed import bundled_model_path, weights_sha256  # noqa: E402
from askkhorasan.hashing import sha256_file  # noqa: E402


def length_buckets(rows, size: int, rng) -> list[list[int]]:
    """Batches of similar length (less padding, the same data), in random order."""
    order = list(range(len(rows)))
    rng.shuffle(order)
    batches = []
    for i in range(0, len(order), size * 50):
        block = sorted(order[i : i + size * 50], key=lambda j: len(rows[j][0]) + len(rows[j][1]))
        batches.extend(block[k : k + size] for k in range(0, len(block), size))
    rng.shuffle(batches)
    return batches


def evaluate(model, tokenizer, rows, batch=64) -> dict:
    model.eval()
    logits = []
    with torch.inference_mode():
        for i in range(0, len(rows), batch):
            chunk = rows[i : i + batch]
            enc = tokenizer([q for q, _, _ in chunk], [s for _, s, _ in chunk], truncation="only_second",
                            max_length=MAX_PAIR_TOKENS, padding=True, return_tensors="pt")
            logits.extend(model(**enc).logits[:, 0].tolist())
    y = np.array([l for _, _, l in rows])
    z = np.array(logits)
    from sklearn.metrics import roc_auc_score
    return {"pairs": len(rows), "auc": round(float(roc_auc_score(y, z)), 4),
            "accuracy@0": round(float(((z > 0) == (y == 1)).mean()), 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=int, default=16000)
    ap.add_argument("--frozen", type=int, default=3, help="lower transformer layers kept frozen")
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=6e-5)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--low-overlap-share", type=float, default=0.0,
                    help="share of questions drawn from those in other words than their answer sentence (training/pairs.py)")
    ap.add_argument("--hard-negatives", action="store_true",
                    help="the paragraph's sentences that share most with the question as negatives, not random ones")
    ap.add_argument("--mask-overlap-share", type=float, default=0.0,
                    help="share of questions with about half of the words their answer sentence holds masked (training/pairs.py)")
    ap.add_argument("--vague-negatives", action="store_true",
                    help="each question's answer sentence with the answer replaced by a vague phrase, as a negative")
    ap.add_argument("--test-questions", type=int, default=600, help="questions from the 20 held-out articles to measure on")
    ap.add_argument("--minutes", type=float, default=55.0, help="stop training after this long, whatever is left")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--write", action="store_true", help="write the model into src/askkhorasan/models/")
    ap.add_argument("--out", type=Path, default=ARTEFACT.parent, help="folder to write the model into (with --write)")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    torch.set_num_threads(args.threads)
    t0 = time.time()
    articles = pairdata.load_articles()
    # The last 20 articles are kept out of training to measure on.
    train_articles, test_articles = articles[:-20], articles[-20:]
    train = pairdata.make_pairs(train_articles, args.questions, args.seed, low_overlap_share=args.low_overlap_share,
                                hard_same_paragraph=args.hard_negatives, mask_overlap_share=args.mask_overlap_share,
                                vague_negatives=args.vague_negatives)
    test = pairdata.make_pairs(test_articles, args.test_questions, args.seed + 1)
    print(f"pairs: {len(train)} train, {len(test)} test ({time.time() - t0:.0f} s)", flush=True)

    base_dir = bundled_model_path()
    tokenizer = load_tokenizer(base_dir)
    model = build_base_model(base_dir, frozen=args.frozen)
    params = [p for p in model.parameters() if p.requires_grad]
    print(f"trainable parameters: {sum(p.numel() for p in params):,}", flush=True)
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    steps = int(math.ceil(len(train) * args.epochs / args.batch))
    warm = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm))))
    # Positives are a fifth of the pairs; weighting them keeps the logit's zero near even odds.
    loss_fn = torch.nn.BCEWithLogitsLoss()

    model.train()
    deadline = time.time() + args.minutes * 60
    step = 0
    t_train = time.time()
    done_pairs = 0
    while step < steps and time.time() < deadline:
        for batch in length_buckets(train, args.batch, random):
            if step >= steps or time.time() >= deadline:
                break
            chunk = [train[j] for j in batch]
            enc = tokenizer([q for q, _, _ in chunk], [s for _, s, _ in chunk], truncation="only_second",
                            max_length=MAX_PAIR_TOKENS, padding=True, return_tensors="pt")
            y = torch.tensor([float(l) for _, _, l in chunk])
            loss = loss_fn(model(**enc).logits[:, 0], y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            done_pairs += len(chunk)
            if step % 50 == 0:
                rate = done_pairs / (time.time() - t_train)
                print(f"step {step}/{steps} loss {loss.item():.4f} {rate:.1f} pairs/s", flush=True)
    minutes = (time.time() - t_train) / 60
    metrics = evaluate(model, tokenizer, test)
    print(f"trained {step} steps ({done_pairs} pairs) in {minutes:.1f} min; held-out articles: {metrics}", flush=True)

    if args.write:
        from safetensors.torch import save_file
        import transformers
        import safetensors
        state = {k: v.detach().to(torch.float16).contiguous() for k, v in trainable_state(model, args.frozen).items()}
        artefact, metadata = args.out / ARTEFACT.name, args.out / METADATA.name
        artefact.parent.mkdir(parents=True, exist_ok=True)
        save_file(state, str(artefact))
        meta = {
            "format": 1,
            "kind": "cross-encoder",
            "base_model": "sentence-transformers/all-MiniLM-L6-v2",
            "base_weights_sha256": weights_sha256(base_dir),
            "frozen_layers": args.frozen,
            "max_pair_tokens": MAX_PAIR_TOKENS,
            "weights_file": artefact.name,
            "weights_sha256": sha256_file(artefact),
            "training": {
                "script": "training/train_answer_model.py",
                "arguments": vars(args),
                "data": "squad-v1.1-train.json.gz",
                "data_sha256": sha256_file(pairdata.TRAIN),
                "train_pairs": len(train), "pairs_seen": done_pairs, "steps": step,
                "minutes": round(minutes, 1),
            },
            "metrics": {"held_out_squad_train_articles": metrics},
            "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                         "safetensors": safetensors.__version__, "python": platform.python_version()},
        }
        meta["training"]["arguments"]["out"] = str(args.out)
        metadata.write_text(json.dumps(meta, indent=2) + "\n")
        print(f"wrote {artefact} ({artefact.stat().st_size / 1e6:.1f} MB) and {metadata}")


if __name__ == "__main__":
    main()
