#!/usr/bin/env bash
# Every benchmark, one after another: `bash bench/run.sh` (add FULL=1 for the 1M-passage scale run
# and the whole SQuAD 1.1 dev set; they take several more minutes, about 6 GB of memory and 6 GB of disk in the temporary folder).
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1
echo "== retrieval, answers, latency and build on the SQuAD sample"
python bench/bench_squad.py
echo; echo "== torch against ONNX Runtime: cold ask, app start, latency, build, held-out figures"
if [ "${FULL:-0}" = 1 ]; then python bench/bench_speed.py; else python bench/bench_speed.py --no-full --runs 3; fi
echo; echo "== adding one document to an indexed corpus"
python bench/bench_refresh.py
echo; echo "== the index folder at scale: build, memory after load, search and ask latency, recall"
if [ "${FULL:-0}" = 1 ]; then
  python bench/bench_scale.py --sizes 10000 100000 1000000
  echo; echo "== SQuAD 1.1 dev set, all 48 articles"
  python bench/bench_squad.py --data ../shared/bench/squad-v1.1-dev.json --questions 2000
else
  python bench/bench_scale.py --paragraphs 2000 --sizes 2000 100000
fi
