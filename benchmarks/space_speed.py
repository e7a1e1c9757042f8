"""What a task-specific space costs: per fit in the head scope, per run, and per fit in the encoder scope.

    python benchmarks/space_speed.py head        # each objective, |L| = 100 and 600, Disaster Response pool
    python benchmarks/space_speed.py run         # the default job, pretrained vs --space cea (head), warm cache, interleaved
    python benchmarks/space_speed.py encoder     # MiniLM fine-tuned on Reuters (10-label pick), |L| = 100

On 2 cores (RESULTS.md section 7): ``head`` about 15 s with the pool's vectors cached (30 fits of 0.17 to 0.95 s,
under load), ``run`` a little over 1 min on a warm cache (its three pairs took 68.6 s, quiet), ``encoder`` about
15 min under load (494 + 368 s).

``head`` fits :class:`al.spaces.head.HeadSpace` on the cached MiniLM
embeddings of a random labeled set and maps the whole pool (11,572 texts):
the work a simulation adds to each round. ``run`` times two whole
``python -m al.simulate`` processes, one after the other, the second with
``--space cea``; the cache is warmed first. ``encoder`` times one fit of
:class:`al.spaces.encoder.EncoderSpace` (CEA and AAN) and the re-embedding of
the pool and test texts, which each fit of an encoder space pays on top.
Every figure is printed with the machine, the date and the load average.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from al.cli import ArgumentParser  # noqa: E402
from benchmarks.machine import describe  # noqa: E402

REUTERS = ROOT.parent / "shared" / "data" / "reuters21578.tar.gz"
REUTERS_LABELS = "money-fx grain crude trade interest wheat corn dlr veg-oil oilseed".split()


def machine() -> str:
    return (f"{describe()}, {os.cpu_count()} cores, {date.today()}, "
            f"load average {os.getloadavg()[0]:.1f}")


def head(repeats: int) -> None:
    from al.config import SimulationConfig
    from al.embedders import SentenceEmbedder
    from al.simulate import load_config_corpus
    from al.spaces.head import HeadSpace

    corpus = load_config_corpus(SimulationConfig())
    pool = corpus.splits["train"]
    X = SentenceEmbedder().encode(corpus.texts[pool].tolist())
    HeadSpace("aan", epochs=1).fit(X[:50], corpus.Y[pool][:50], seed=0)  # torch's first-use imports, untimed
    print(f"head scope, Disaster Response pool of {len(pool)} texts, MiniLM 384-d; {machine()}")
    print(f"{'objective':>10} {'|L|':>5} {'fit + map pool: median s':>26} {'best s':>8}")
    for size in (100, 600):
        labeled = np.sort(np.random.default_rng(0).choice(len(pool), size, replace=False))
        for objective in ("cea", "snnl", "aan", "am", "clld"):
            times = []
            for r in range(repeats):
                t = time.perf_counter()
                HeadSpace(objective).fit(X[labeled], corpus.Y[pool][labeled], seed=r).transform(X)
                times.append(time.perf_counter() - t)
            print(f"{objective:>10} {size:>5} {statistics.median(times):>26.2f} {min(times):>8.2f}", flush=True)


def run(repeats: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = [sys.executable, "-m", "al.simulate", "--strategy", "class_embedding", "--quiet"]
        subprocess.run(base + ["--budget", "150", "--out", f"{tmp}/warm"], check=True, cwd=ROOT)  # warm the cache
        print(f"default job (Disaster Response, class_embedding, logreg, 100 -> 600 by 50), warm cache, "
              f"{repeats} interleaved pairs; {machine()}")
        results: dict[str, list[float]] = {"pretrained": [], "cea head": []}
        for i in range(repeats):
            for name, extra in (("pretrained", []), ("cea head", ["--space", "cea"])):
                t = time.perf_counter()
                subprocess.run(base + extra + ["--out", f"{tmp}/{name.replace(' ', '-')}-{i}"], check=True, cwd=ROOT,
                               stdout=subprocess.DEVNULL)
                results[name].append(time.perf_counter() - t)
                print(f"{name:>12} #{i + 1}: {results[name][-1]:6.1f} s wall (load average now "
                      f"{os.getloadavg()[0]:.1f})", flush=True)
        medians = {name: statistics.median(times) for name, times in results.items()}
        print(f"median: pretrained {medians['pretrained']:.1f} s, cea head {medians['cea head']:.1f} s; "
              f"ratio {medians['cea head'] / medians['pretrained']:.2f}")


def encoder(size: int) -> None:
    from al.config import SimulationConfig
    from al.simulate import load_config_corpus
    from al.spaces.encoder import EncoderSpace

    config = SimulationConfig(dataset="reuters", data_path=str(REUTERS), labels=tuple(REUTERS_LABELS))
    corpus = load_config_corpus(config)
    pool, test = corpus.splits["train"], corpus.splits["test"]
    labeled = np.sort(np.random.default_rng(0).choice(len(pool), size, replace=False))
    texts = corpus.texts[pool].tolist()
    print(f"encoder scope, MiniLM on Reuters ({len(pool)} pool, {len(test)} test texts), |L| = {size}, CPU; "
          f"{machine()}")
    for objective in ("cea", "aan"):
        t = time.perf_counter()
        fitted = EncoderSpace(objective, device="cpu").fit([texts[i] for i in labeled], corpus.Y[pool][labeled],
                                                            seed=0)
        fit = time.perf_counter() - t
        t = time.perf_counter()
        fitted.transform(texts)
        pool_s = time.perf_counter() - t
        t = time.perf_counter()
        fitted.transform(corpus.texts[test].tolist())
        test_s = time.perf_counter() - t
        print(f"{objective:>5}: fit {fit:.1f} s, re-embed pool {pool_s:.1f} s, test {test_s:.1f} s, "
              f"a round's space {fit + pool_s + test_s:.1f} s (load average now {os.getloadavg()[0]:.1f})", flush=True)


def main() -> None:
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=["head", "run", "encoder"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--size", type=int, default=100, help="encoder: labeled texts")
    args = parser.parse_args()
    for name in ("repeats", "size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1, got {getattr(args, name)}; give a positive count (default "
                         f"{parser.get_default(name)})")
    if args.part == "encoder" and not REUTERS.is_file():
        parser.error(f"encoder reads Reuters-21578 at {REUTERS}, which is missing; put reuters21578.tar.gz there")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    {"head": lambda: head(args.repeats), "run": lambda: run(args.repeats), "encoder": lambda: encoder(args.size)}[args.part]()


if __name__ == "__main__":
    main()
