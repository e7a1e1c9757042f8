"""Encoder passes one thread each, several at once, against each pass on all threads in turn, in one process.

    python benchmarks/run_ahead.py                          # 3,000 Disaster Response pool texts, 60 fit steps
    python benchmarks/run_ahead.py --n 0 --fit-steps 250    # the whole pool, the default fit (about 20 min)
    python benchmarks/run_ahead.py --precision bf16         # both encoders under bf16 autocast

Three phases, each timed both ways (``al.embedders.RUN_AHEAD`` on and off),
the ways alternating round by round (off, on, on, off, ...) so that a machine
whose speed drifts within the session hits both alike: (1) the sentence
embedding pass (``SentenceEmbedder``, no cache, model loaded once), (2) ALPS's
head fit (``fit_mlm_head`` from the same initial head each time) and (3) ALPS's
surprisal pass with that head (``MLMSurprisal._compute``, no cache). Checks
that both ways give the same bits in all three, and prints the median seconds
of each phase and ALPS's once-per-pool cost, (2) + (3), over (1), each way
(issue: speed, item 3; ``benchmarks/RESULTS.md``).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import al.embedders  # noqa: E402
from al.cli import ArgumentParser  # noqa: E402
from al.datasets import load_corpus  # noqa: E402
from al.embedders import SentenceEmbedder  # noqa: E402
from al.embedders.surprisal import MLMSurprisal, fit_mlm_head  # noqa: E402
from al.progress import set_quiet  # noqa: E402
from benchmarks.machine import describe  # noqa: E402

PHASES = ("embedding pass", "ALPS head fit", "ALPS surprisal pass")


def same_bits(a: tuple, b: tuple) -> bool:
    """Whether two (sentence vectors, head state dict, surprisal vectors) outputs are equal bit for bit."""
    import torch

    (vectors_a, head_a, surprisal_a), (vectors_b, head_b, surprisal_b) = a, b
    return (np.array_equal(vectors_a, vectors_b) and all(torch.equal(head_a[k], head_b[k]) for k in head_a)
            and np.array_equal(surprisal_a, surprisal_b))


def main() -> None:
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=3000, help="the first N distinct pool texts; 0 for all (default 3000)")
    parser.add_argument("--fit-steps", type=int, default=60, help="steps of the head fit (default 60; ALPS's is 250)")
    parser.add_argument("--rounds", type=int, default=4, help="rounds, each way once per round (default 4)")
    parser.add_argument("--precision", choices=al.embedders.PRECISIONS, default="fp32",
                        help="the encoders' arithmetic, as --embed-precision (default fp32)")
    args = parser.parse_args()
    if args.n < 0:
        parser.error(f"--n must be 0 (the whole pool) or more, got {args.n}; give e.g. --n 3000")
    for name in ("fit_steps", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}; give a positive "
                         f"count (default {parser.get_default(name)})")
    import torch
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    from al.models import quiet_loading, resolve_model

    set_quiet(True)
    corpus = load_corpus("disaster")
    texts = list(dict.fromkeys(corpus.texts[corpus.splits["train"]].tolist()))[: args.n or None]
    embedder = SentenceEmbedder("all-MiniLM-L6-v2", cache=False, show_progress=False, device="cpu",
                                precision=args.precision)
    embedder._load()
    path = resolve_model("all-MiniLM-L6-v2")
    with quiet_loading(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = AutoModelForMaskedLM.from_pretrained(path).eval()
    tokenizer = AutoTokenizer.from_pretrained(path)
    initial_head = {k: v.clone() for k, v in model.cls.state_dict().items()}
    alps = MLMSurprisal("all-MiniLM-L6-v2", mlm_head="fit", device="cpu", precision=args.precision)
    alps._mlm, alps._tokenizer = model, tokenizer

    seconds: dict[bool, dict[str, list[float]]] = {way: {phase: [] for phase in PHASES} for way in (False, True)}
    outputs: dict[bool, tuple] = {}
    for r in range(args.rounds):
        for ahead in (False, True) if r % 2 == 0 else (True, False):
            al.embedders.RUN_AHEAD = ahead
            start = time.perf_counter()
            vectors = embedder.encode(texts)
            seconds[ahead]["embedding pass"].append(time.perf_counter() - start)
            model.cls.load_state_dict(initial_head)
            start = time.perf_counter()
            fit_mlm_head(model, tokenizer, texts, steps=args.fit_steps, seed=0, encoder_dtype=alps._encoder_dtype())
            seconds[ahead]["ALPS head fit"].append(time.perf_counter() - start)
            start = time.perf_counter()
            surprisal = alps._compute(texts)
            seconds[ahead]["ALPS surprisal pass"].append(time.perf_counter() - start)
            head = {k: v.clone() for k, v in model.cls.state_dict().items()}
            same = same_bits(outputs.setdefault(ahead, (vectors, head, surprisal)), (vectors, head, surprisal))
            print(f"round {r + 1}, {'ahead ' if ahead else 'in turn'}: "
                  + ", ".join(f"{phase} {seconds[ahead][phase][-1]:.1f} s" for phase in PHASES)
                  + ("" if same else "  OTHER BITS THAN THIS WAY'S FIRST ROUND"), flush=True)
    same = same_bits(outputs[False], outputs[True])

    print(f"\n`python benchmarks/run_ahead.py --n {args.n} --fit-steps {args.fit_steps} --rounds {args.rounds} "
          f"--precision {args.precision}` on "
          f"{date.today()}, {describe()}, {os.cpu_count()} cores, torch {torch.__version__} on "
          f"{torch.get_num_threads()} threads; {len(texts)} Disaster Response pool texts")
    print("\n| way | " + " | ".join(f"{phase}, median s" for phase in PHASES) + " | ALPS / embedding |")
    print("|---|" + "---:|" * (len(PHASES) + 1))
    for ahead, name in ((False, "each pass on all threads, in turn"), (True, "one thread each, at once")):
        median = {phase: statistics.median(seconds[ahead][phase]) for phase in PHASES}
        ratio = (median["ALPS head fit"] + median["ALPS surprisal pass"]) / median["embedding pass"]
        print(f"| {name} | " + " | ".join(f"{median[phase]:.1f}" for phase in PHASES) + f" | {ratio:.2f} × |")
    print("\nin turn / at once, per phase: " + ", ".join(
        f"{phase} {statistics.median(seconds[False][phase]) / statistics.median(seconds[True][phase]):.2f}×"
        for phase in PHASES))
    print(f"the same bits both ways (sentence vectors, fitted head, surprisal vectors): {same}")


if __name__ == "__main__":
    main()
