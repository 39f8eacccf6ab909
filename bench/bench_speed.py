"""torch against ONNX Runtime and OpenVINO, measured in one run on the same machine.

Each backend is measured in its own processes (torch's and ONNX Runtime's thread pools
would otherwise fight over the two cores and slow each other down):
  - cold `askkhorasan ask` on the bundled corpus, wall time of the whole command;
  - app start (`python app.py` on a built index) to the first answer through the API;
  - query embedding p50 and warm `ask` p50, wall and CPU time (200 SQuAD questions, every
    backend's process alive at once, taking turns 20 questions at a time);
  - build throughput on the SQuAD 1.1 dev set's 2,067 paragraphs, wall and CPU time, each
    build in a fresh process, backends taking turns round by round (skip with --no-full);
  - held-out figures: the seed questions (tests/data/seed_questions.jsonl) and the
    SQuAD sample's 400 questions, hit@1 and answer accuracy, for each backend;
  - thread counts (1 and 2) for one query and for a batch, on each graph backend.

    python bench/bench_speed.py [--backends torch onnx openvino onnx-int8] [--no-full] [--runs 5]
    python bench/bench_speed.py --start-only [--runs 5] [--app-runs 2]   # the cold `ask` and the app start alone

Wall times on a shared machine depend on what else runs; CPU seconds are printed beside
the cold command and the app start, as they do not.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
import squad  # noqa: E402

from askkhorasan.embed import BACKENDS, INTERCHANGEABLE  # noqa: E402

QUESTION = "Why is the group shrouded in secrecy?"
SEED_QUESTIONS = ROOT / "tests" / "data" / "seed_questions.jsonl"


def env_for(backend: str) -> dict:
    return {**os.environ, "ASKKHORASAN_BACKEND": backend, "HF_HUB_OFFLINE": "1",
            "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONPATH": str(ROOT / "src")}


def p50(values: list[float]) -> float:
    return statistics.median(values)


# ---- measured in a worker process, one backend each -------------------------------------------

def worker(backend: str, work: Path, full: bool) -> dict:
    import askkhorasan as ak
    from askkhorasan.embed import Embedder
    from askkhorasan.evaluate import EvalQuestion, evaluate_index, load_questions

    out: dict = {"backend": backend}
    Embedder(backend=backend)  # exports the graph if it is not cached yet; that is not load time
    t = time.perf_counter()
    embedder = Embedder(backend=backend)
    out["model_load_s"] = time.perf_counter() - t

    sample = work / "sample"
    questions = [q for q in squad.write_corpus(squad.SAMPLE, sample / "corpus") if q["answers"]]
    questions = squad.evenly_spaced(questions, 400)
    ak.build_index(sample / "corpus", sample / "index", embedder=embedder)
    index = ak.Index(sample / "index", embedder=embedder)

    timed = squad.evenly_spaced(questions, 200)
    squad_q = [EvalQuestion(q["question"], tuple(q["answers"])) for q in questions]
    out["squad_sample"] = evaluate_index(index, squad_q)
    seed = work / "seed"
    (seed / "corpus").mkdir(parents=True)
    for f in (ROOT / "corpus").iterdir():
        if f.is_file():
            shutil.copy(f, seed / "corpus" / f.name)
    ak.build_index(seed / "corpus", seed / "index", embedder=embedder)
    out["seed"] = evaluate_index(ak.Index(seed / "index", embedder=embedder), load_questions(SEED_QUESTIONS))

    if backend != "torch":
        out["threads"] = thread_choice(embedder, [q["question"] for q in timed],
                                       [p["text"] for p in index.generation.passages][:512])
    return out


def latency_worker(backend: str, work: Path) -> None:
    """Answers "go" on stdin with the timings of the next 20 questions, so that the parent
    can alternate backends round by round and the machine's load falls on each alike."""
    import askkhorasan as ak
    from askkhorasan.embed import Embedder

    embedder = Embedder(backend=backend)
    questions = [q["question"] for q in squad.write_corpus(squad.SAMPLE, work / "corpus") if q["answers"]]
    questions = squad.evenly_spaced(questions, 200)
    ak.build_index(work / "corpus", work / "index", embedder=embedder)
    index = ak.Index(work / "index", embedder=embedder)
    for q in questions[:10]:
        index.ask(q)
    print("ready", flush=True)
    at = 0
    for line in sys.stdin:
        if line.strip() != "go":
            break
        embed, ask, embed_cpu, ask_cpu = [], [], [], []
        for q in questions[at: at + 20]:
            t0, c0 = time.perf_counter(), time.process_time()
            embedder.encode_query(q)
            t1, c1 = time.perf_counter(), time.process_time()
            index.ask(q)
            embed.append(t1 - t0)
            embed_cpu.append(c1 - c0)
            ask.append(time.perf_counter() - t1)
            ask_cpu.append(time.process_time() - c1)
        at = (at + 20) % len(questions)
        print(json.dumps({"embed": embed, "ask": ask, "embed_cpu": embed_cpu, "ask_cpu": ask_cpu}), flush=True)


def interleaved_latency(backends: list[str], work: Path, rounds: int = 10) -> dict:
    procs = {b: subprocess.Popen([sys.executable, __file__, "--latency-worker", b, "--work", str(work / f"lat-{b}")],
                                 env=env_for(b), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for b in backends}
    for b, p in procs.items():
        if p.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the {b} latency worker did not start")
    times = {b: {"embed": [], "ask": [], "embed_cpu": [], "ask_cpu": []} for b in backends}
    for _ in range(rounds):
        for b, p in procs.items():
            p.stdin.write("go\n")
            p.stdin.flush()
            got = json.loads(p.stdout.readline())
            for key in times[b]:
                times[b][key] += got[key]
    for p in procs.values():
        p.stdin.close()
        p.wait(timeout=60)
    return {b: {"query_embed_p50_ms": 1000 * p50(t["embed"]), "ask_p50_ms": 1000 * p50(t["ask"]),
                "query_embed_cpu_p50_ms": 1000 * p50(t["embed_cpu"]), "ask_cpu_p50_ms": 1000 * p50(t["ask_cpu"])}
            for b, t in times.items()}


def thread_choice(embedder, queries: list[str], texts: list[str]) -> dict:
    """Query p50 and batch throughput of the same graph at 1 and 2 threads."""
    result = {}
    for threads in (1, 2):
        if embedder.backend == "openvino":
            from askkhorasan.openvino_model import _compile, import_openvino

            ov = import_openvino()

            core = ov.Core()
            request = _compile(core, core.read_model(str(embedder._runner.graph)), threads,
                               embedder.precision).create_infer_request()
            names = {i.get_any_name() for i in request.model_inputs}
            run = request.infer
        else:
            from askkhorasan.onnx_model import _session

            session = _session(embedder._runner.graph, threads)
            names = {i.name for i in session.get_inputs()}
            run = lambda feed, session=session: session.run(None, feed)  # noqa: E731
        feeds = [{k: v for k, v in embedder.tokenizer.batch([q]).items() if k in names} for q in queries]
        for f in feeds[:10]:
            run(f)
        times = []
        for f in feeds:
            t0 = time.perf_counter()
            run(f)
            times.append(time.perf_counter() - t0)
        order = sorted(texts, key=len, reverse=True)
        t0 = time.perf_counter()
        for lo in range(0, len(order), 64):
            run({k: v for k, v in embedder.tokenizer.batch(order[lo: lo + 64]).items() if k in names})
        result[threads] = {"query_p50_ms": 1000 * p50(times), "batch_per_s": len(order) / (time.perf_counter() - t0)}
    return result


# ---- measured from outside ----------------------------------------------------------------------

def cold_ask(backend: str, index_dir: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one `askkhorasan ask` process."""
    cmd = [sys.executable, "-m", "askkhorasan.cli", "ask", "--index", str(index_dir), QUESTION]
    before = os.times()
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env_for(backend), capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    after = os.times()
    if done.returncode != 0:
        raise RuntimeError(f"ask failed with {backend}: {done.stderr}")
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def app_first_answer(backend: str, index_dir: Path) -> tuple[float, float]:
    """Wall seconds from starting `python app.py` to its first answer, and the app's CPU seconds by then."""
    from gradio_client import Client

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--port", str(port), "--index", str(index_dir),
         "--corpus", str(ROOT / "corpus")],
        env=env_for(backend), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
    )
    try:
        while time.perf_counter() - t0 < 120:
            # A bare TCP connect until the port accepts: a gradio_client.Client that fails costs
            # ~27 ms of CPU (an SSL context, an HTTP client), so polling with it every 0.1 s took
            # 0.5 s of CPU in 3 s from the app starting beside it on the same 2 cores.
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    pass
            except OSError:  # not listening yet
                time.sleep(0.02)
                continue
            try:
                answer = Client(f"http://127.0.0.1:{port}/", verbose=False).predict(QUESTION, api_name="/ask")
                if answer:
                    return time.perf_counter() - t0, _cpu_seconds(proc.pid)
            except Exception:  # listening, not serving yet
                time.sleep(0.02)
        raise RuntimeError(f"the app with {backend} gave no answer in 120 s")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def build_worker(backend: str, work: Path) -> dict:
    """One build of the SQuAD dev set's paragraphs, model loaded first: wall and CPU seconds."""
    import askkhorasan as ak
    from askkhorasan.embed import Embedder

    embedder = Embedder(backend=backend)
    squad.write_corpus(squad.FULL, work / "corpus")
    cpu = time.process_time()
    report = ak.build_index(work / "corpus", work / "index", embedder=embedder)
    paragraphs = sum(len(a["paragraphs"]) for a in json.loads(squad.FULL.read_text())["data"])
    shutil.rmtree(work, ignore_errors=True)
    return {"seconds": report.seconds, "cpu_seconds": time.process_time() - cpu,
            "paragraphs": paragraphs, "passages": report.passages}


def interleaved_builds(backends: list[str], work: Path, rounds: int) -> dict:
    builds = {b: [] for b in backends}
    for r in range(rounds):
        for b in backends:
            out = work / f"build-{b}-{r}.json"
            subprocess.run([sys.executable, __file__, "--build-worker", b, "--work", str(work / f"build-{b}-{r}"),
                            "--out", str(out)], env=env_for(b), check=True)
            builds[b].append(json.loads(out.read_text()))
    return {b: {"seconds": p50([x["seconds"] for x in runs]), "cpu_seconds": p50([x["cpu_seconds"] for x in runs]),
                "paragraphs": runs[0]["paragraphs"], "passages": runs[0]["passages"], "runs": len(runs)}
            for b, runs in builds.items()}


def run_worker(backend: str, work: Path, full: bool) -> dict:
    out = work / f"{backend}.json"
    subprocess.run([sys.executable, __file__, "--worker", backend, "--work", str(work / backend),
                    "--out", str(out)] + ([] if full else ["--no-full"]), env=env_for(backend), check=True)
    return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", nargs="+", default=["torch", "onnx", "openvino"])
    parser.add_argument("--runs", type=int, default=5, help="cold `ask` runs per backend")
    parser.add_argument("--no-full", action="store_true", help="skip the SQuAD dev set build")
    parser.add_argument("--build-rounds", type=int, default=2, help="SQuAD dev set builds per backend")
    parser.add_argument("--app-runs", type=int, default=2, help="app starts per backend (the best is reported)")
    parser.add_argument("--start-only", action="store_true",
                        help="only the cold `ask` and the app start: no held-out figures, latency or builds")
    parser.add_argument("--build-worker")
    parser.add_argument("--worker")
    parser.add_argument("--latency-worker")
    parser.add_argument("--work", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--save", type=Path, help="also write the measured figures here, as JSON")
    args = parser.parse_args()
    if args.latency_worker:
        latency_worker(args.latency_worker, args.work)
        return
    if args.build_worker:
        args.out.write_text(json.dumps(build_worker(args.build_worker, args.work)))
        return
    if args.worker:
        args.out.write_text(json.dumps(worker(args.worker, args.work, not args.no_full)))
        return

    work = Path(tempfile.mkdtemp(prefix="askkhorasan-speed-"))
    load_before = os.getloadavg()[1]
    if args.start_only:
        results: dict = {b: {} for b in args.backends}
    else:
        results = {b: run_worker(b, work, not args.no_full) for b in args.backends}
        if not args.no_full and squad.FULL.exists():
            for b, figures in interleaved_builds(args.backends, work, args.build_rounds).items():
                results[b]["dev_build"] = figures
        for b, figures in interleaved_latency(args.backends, work).items():
            results[b].update(figures)

    # Cold commands and app start on the bundled corpus, backends alternating so that the
    # machine's load falls on each alike. One index of fp32 vectors serves torch, onnx and openvino.
    indexes = {}
    for b in args.backends:
        precision = INTERCHANGEABLE[BACKENDS[b][1]]
        if precision not in indexes:
            indexes[precision] = work / f"bundled-{precision}"
            subprocess.run([sys.executable, "-m", "askkhorasan.cli", "build", "--corpus", str(ROOT / "corpus"),
                            "--index", str(indexes[precision])], env=env_for(b), check=True, capture_output=True)
        results[b]["index"] = indexes[precision]
    cold = {b: [] for b in args.backends}
    app = {b: [] for b in args.backends}
    for _ in range(args.runs):
        for b in args.backends:
            cold[b].append(cold_ask(b, results[b]["index"]))
    for _ in range(args.app_runs):
        for b in args.backends:
            app[b].append(app_first_answer(b, results[b]["index"]))
    for b in args.backends:
        results[b]["cold_ask_s"] = p50([w for w, _ in cold[b]])
        results[b]["cold_ask_cpu_s"] = p50([c for _, c in cold[b]])
        results[b]["app_first_answer_s"], results[b]["app_first_answer_cpu_s"] = min(app[b])
    print(f"machine: {os.cpu_count()} cores, load average over 5 min {load_before:.1f} at the start, "
          f"{os.getloadavg()[1]:.1f} at the end (other work on the machine slows every backend)")
    if args.save:
        args.save.write_text(json.dumps(results, indent=1, default=str))
    report(results, args.backends)
    shutil.rmtree(work, ignore_errors=True)


def report(results: dict, backends: list[str]) -> None:
    base = results.get("torch")
    rows = [
        ("cold `askkhorasan ask` (s, p50)", "cold_ask_s", "{:.2f}"),
        ("  its CPU time (s, p50)", "cold_ask_cpu_s", "{:.2f}"),
        ("app start to first answer (s, best run)", "app_first_answer_s", "{:.2f}"),
        ("  the app's CPU time by then (s)", "app_first_answer_cpu_s", "{:.2f}"),
        ("model load, libraries imported (s)", "model_load_s", "{:.2f}"),
        ("query embedding p50 (ms)", "query_embed_p50_ms", "{:.2f}"),
        ("  its CPU time (ms, p50)", "query_embed_cpu_p50_ms", "{:.2f}"),
        ("warm `ask` p50 (ms)", "ask_p50_ms", "{:.2f}"),
        ("  its CPU time (ms, p50)", "ask_cpu_p50_ms", "{:.2f}"),
    ]
    print(f"{'':<42}" + "".join(f"{b:>12}" for b in backends) + ("   ratio to torch" if base else ""))
    for label, key, fmt in rows:
        if not all(key in results[b] for b in backends):  # not measured in this run (--start-only)
            continue
        line = f"{label:<42}" + "".join(f"{fmt.format(results[b][key]):>12}" for b in backends)
        if base:
            line += "   " + " ".join(f"x{results[b][key] / base[key]:.2f}" for b in backends if b != "torch")
        print(line)
    if all("dev_build" in results[b] for b in backends):
        per_s = {b: results[b]["dev_build"]["paragraphs"] / results[b]["dev_build"]["seconds"] for b in backends}
        line = f"{'build, SQuAD dev paragraphs/s':<42}" + "".join(f"{per_s[b]:>12.1f}" for b in backends)
        if base:
            line += "   " + " ".join(f"x{per_s[b] / per_s['torch']:.2f}" for b in backends if b != "torch")
        print(line)
        runs = results[backends[0]]["dev_build"]["runs"]
        print(f"{f'  (seconds for the 2,067 paragraphs, p50 of {runs})':<42}"
              + "".join(f"{results[b]['dev_build']['seconds']:>12.1f}" for b in backends))
        line = f"{'  its CPU time (s)':<42}" + "".join(f"{results[b]['dev_build']['cpu_seconds']:>12.1f}" for b in backends)
        if base:
            line += "   " + " ".join(f"x{results[b]['dev_build']['cpu_seconds'] / base['dev_build']['cpu_seconds']:.2f}"
                                     for b in backends if b != "torch")
        print(line)
    if not all("seed" in results[b] for b in backends):
        return
    print("\nheld-out figures (hit@1 / answer accuracy):")
    for name in ("seed", "squad_sample"):
        line = f"  {name:<40}"
        for b in backends:
            s = results[b][name]
            line += f"{s['hit@1']:.3f}/{s['answer_accuracy']:.3f}".rjust(12)
        print(line)
    for b in backends:
        if "threads" in results[b]:
            t = results[b]["threads"]
            print(f"\n{b} threads: " + "; ".join(
                f"{n}: query p50 {v['query_p50_ms']:.2f} ms, batch {v['batch_per_s']:.0f} passages/s" for n, v in t.items()))


if __name__ == "__main__":
    main()
