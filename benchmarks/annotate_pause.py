"""The pause a person waits between batches in ``python -m al.annotate``, measured through HTTP on loopback.

    python benchmarks/annotate_pause.py                      # 10,000 pool texts, logreg, class_embedding
    python benchmarks/annotate_pause.py --pool 2000 --budget 250 --no-dev

On 2 cores the default took about 10 min with the embedding cache to fill (RESULTS.md section 8: 578 s for 9,011
texts, under load); with the cache filled, its 400 answers and their pauses take under a minute (section 8).

A pool of Disaster Response messages (the packaged CSV's train split) is
written as JSON lines with ids, the embedding cache is filled first (timed
apart: the first start of a session embeds its pool once), then the server
runs as a subprocess on 127.0.0.1 and a scripted person answers every text
with its gold labels over HTTP (keep-alive), as the page does: ``POST
/api/answer``, then ``GET /api/state?wait=30`` until a text comes.

The *pause* after an answer is the time from the answer's response to the
response that carries the next text. It is reported apart for the last
answer of a batch (the loop then trains, evaluates, lets the observers
measure and makes the next round's first pick) and for answers within a
batch (class_embedding picks the next text after each answer). With
``--dev`` (default) every round is measured on 500 labeled validation
messages; without it, by cross-validation in a worker thread, which a
scripted person answering in milliseconds does not leave time to finish
(a person does), so ``--think`` adds seconds per answer.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from al.cli import ArgumentParser  # noqa: E402
from benchmarks.machine import describe  # noqa: E402
REPO = Path(__file__).resolve().parents[1]
LABELS = ["food", "water", "shelter", "medical_help"]


def write_data(directory: Path, n_pool: int, n_dev: int) -> tuple[Path, Path, dict[str, list[str]]]:
    import pandas as pd

    from al.datasets.disaster import packaged_csv

    frame = pd.read_csv(packaged_csv(), encoding="utf-8-sig")
    frame = frame[frame["message"].notna()].drop_duplicates("message")
    def sample(split: str, n: int):  # a few extra, then blank messages dropped (a sample's prefix is stable)
        part = frame[frame["split"] == split].sample(n + 20, random_state=0)
        return part[part["message"].str.strip().str.len() > 0].iloc[:n]

    pool, dev = sample("train", n_pool), sample("validation", n_dev)
    gold: dict[str, list[str]] = {}
    data, dev_path = directory / "pool.jsonl", directory / "dev.jsonl"
    with open(data, "w") as f:
        for i, (_, row) in enumerate(pool.iterrows()):
            gold[f"p{i}"] = [name for name in LABELS if row[name] == 1]
            f.write(json.dumps({"id": f"p{i}", "text": row["message"]}) + "\n")
    with open(dev_path, "w") as f:
        for _, row in dev.iterrows():
            f.write(json.dumps({"text": row["message"], **{name: int(row[name] == 1) for name in LABELS}}) + "\n")
    return data, dev_path, gold


class Client:
    """Keep-alive JSON over HTTP to the session's server."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if body is not None else {}
        self.connection.request(method, path, body=payload, headers=headers)
        response = self.connection.getresponse()
        data = json.loads(response.read())
        if response.status != 200:
            raise RuntimeError(f"{method} {path}: HTTP {response.status}: {data}")
        return data


def main() -> int:
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pool", type=int, default=10000)
    parser.add_argument("--initial", type=int, default=100)
    parser.add_argument("--step", type=int, default=50)
    parser.add_argument("--budget", type=int, default=400)
    parser.add_argument("--strategy", default="class_embedding")
    parser.add_argument("--no-dev", action="store_true", help="measure rounds by cross-validation instead")
    parser.add_argument("--think", type=float, default=0.0, help="seconds the scripted person waits per answer")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    for name in ("pool", "initial", "step", "budget"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1, got {getattr(args, name)}; give a positive count (default "
                         f"{parser.get_default(name)})")
    if args.think < 0:
        parser.error(f"--think must be 0 seconds or more, got {args.think}; give e.g. --think 2")
    if args.workdir is not None and args.workdir.exists() and not args.workdir.is_dir():
        parser.error(f"--workdir {args.workdir} is a file; give a folder (a new one is made)")

    work = args.workdir or Path(tempfile.mkdtemp(prefix="al-annotate-pause-"))
    work.mkdir(parents=True, exist_ok=True)
    data, dev, gold = write_data(work, args.pool, 500)

    from al.embedders import SentenceEmbedder

    texts = [json.loads(line)["text"].strip() for line in data.read_text().splitlines()]
    texts += [json.loads(line)["text"].strip() for line in dev.read_text().splitlines()]
    t = time.perf_counter()
    SentenceEmbedder("all-MiniLM-L6-v2").encode(texts)
    print(f"cache: {len(texts)} texts embedded or found in {time.perf_counter() - t:.1f} s", file=sys.stderr)

    session = work / "session"
    command = [sys.executable, "-m", "al.annotate", "--data", str(data), "--labels", *LABELS, "--out", str(session),
               "--port", "0", "--quiet", "--strategy", args.strategy, "--initial", str(args.initial),
               "--step", str(args.step), "--budget", str(args.budget)]
    if not args.no_dev:
        command += ["--dev", str(dev)]
    started = time.perf_counter()
    server = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=sys.stderr, env=os.environ.copy())
    try:
        line = server.stdout.readline().decode()
        port = int(re.search(r"127\.0\.0\.1:(\d+)/", line).group(1))
        client = Client(port)
        state = client.call("GET", "/api/state?wait=600")
        first_text = time.perf_counter() - started
        boundary, within = [], []
        rounds_seen = []
        answered = 0
        while state["phase"] != "done":
            text = state["text"]
            if text is None:
                state = client.call("GET", "/api/state?wait=60")
                continue
            if args.think:
                time.sleep(args.think)
            answered += 1
            # the start set, then each batch of picks: the loop trains after the last answer of each
            last_of_batch = answered >= args.initial and (answered - args.initial) % args.step == 0
            result = client.call("POST", "/api/answer", {"id": text["id"], "labels": gold[text["id"]],
                                                         "seconds": args.think})
            t = time.perf_counter()
            state = result["state"]
            while state["text"] is None and state["phase"] != "done":
                state = client.call("GET", "/api/state?wait=60")
            pause = time.perf_counter() - t
            if state["phase"] == "done":
                break
            (boundary if last_of_batch else within).append(pause)
            if last_of_batch:
                rounds_seen.append((state["round"], state["n_labeled"], round(pause, 3)))
        records = [json.loads(x) for x in (session / "rounds.jsonl").read_text().splitlines()]
    finally:
        server.terminate()
        server.wait(30)

    def summary(values: list[float]) -> str:
        if not values:
            return "none"
        return (f"median {statistics.median(values):.3f} s, max {max(values):.3f} s, "
                f"mean {statistics.mean(values):.3f} s over {len(values)}")

    print(f"machine: {describe()}, {os.cpu_count()} cores, python "
          f"{platform.python_version()}; {date.today().isoformat()}")
    print(f"pool {args.pool} texts, {args.strategy}, logreg on all-MiniLM-L6-v2, initial {args.initial}, step "
          f"{args.step}, budget {args.budget}, evaluation: {records[0].get('evaluation')}")
    print(f"first text after the server started: {first_text:.1f} s (imports, data, the pool's embeddings from the "
          f"warm cache)")
    print(f"pause after the last answer of a batch: {summary(boundary)}")
    for round_, n_labeled, pause in rounds_seen:
        print(f"  -> round {round_} (labeled {n_labeled}): {pause:.3f} s")
    print(f"pause after an answer within a batch:   {summary(within)}")
    train = [r["seconds_train"] for r in records]
    print(f"per round: train {statistics.median(train):.3f} s, evaluate "
          f"{statistics.median(r['seconds_evaluate'] for r in records):.3f} s, stopping signals "
          f"{statistics.median(r['seconds_stopping'] for r in records):.3f} s (medians)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
