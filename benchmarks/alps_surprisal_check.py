"""The surprisal pass with the log-sum-exp in torch against the same pass with scipy's, on one pool.

    python benchmarks/alps_surprisal_check.py            # the Disaster Response pool (11,572 texts)
    python benchmarks/alps_surprisal_check.py --n 2000   # its first 2,000 texts

On 2 cores the default takes about 7 min (RESULTS.md section 12.2: a head fit of about 82 s, then passes of 106.0,
146.6 and 98.9 s).

With an empty cache (a temporary ``AL_CACHE_DIR``), fits ALPS's MLM head on the
pool (all-MiniLM-L6-v2, ``mlm_head="fit"``) once, then runs the surprisal pass
twice with that head: as ``al`` does (:func:`al.embedders.surprisal.token_surprisal_torch`)
and with that function swapped for :func:`al.embedders.surprisal.token_surprisal`
(``scipy.special.logsumexp`` in numpy, the form before), everything else the same. Prints each pass's
seconds and how many float32 vector entries differ: 0 means ALPS's vectors, and
so its picks, are the same either way.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from al.cli import ArgumentParser  # noqa: E402
from benchmarks.machine import describe  # noqa: E402


def main() -> None:
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=None, help="the first N pool texts (default: all)")
    args = parser.parse_args()
    if args.n is not None and args.n < 1:
        parser.error(f"--n must be at least 1, got {args.n}; give a positive count, or leave it out for the whole pool")
    with tempfile.TemporaryDirectory(prefix="al-alps-check-") as cache:
        os.environ["AL_CACHE_DIR"] = cache
        import torch

        import al.embedders.surprisal as surprisal
        from al.datasets import load_corpus

        corpus = load_corpus("disaster")
        texts = list(dict.fromkeys(corpus.texts[corpus.splits["train"]].tolist()[: args.n]))
        alps = surprisal.MLMSurprisal("all-MiniLM-L6-v2", mlm_head="fit")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            alps._prepare(texts, surprisal.pool_key(texts))

        def scipy_form(logits, targets):  # the pass's own head calls, the log-sum-exp by scipy in numpy
            return torch.from_numpy(surprisal.token_surprisal(logits.float().cpu().numpy(), targets.cpu().numpy()))

        seconds, vectors = {}, {}
        for name in ("torch", "scipy", "torch again"):
            if name == "scipy":
                surprisal.token_surprisal_torch, original = scipy_form, surprisal.token_surprisal_torch
            start = time.perf_counter()
            vectors[name] = alps._compute(texts)
            seconds[name] = time.perf_counter() - start
            if name == "scipy":
                surprisal.token_surprisal_torch = original

    a, b = vectors["torch"], vectors["scipy"]
    print(f"`python benchmarks/alps_surprisal_check.py{'' if args.n is None else f' --n {args.n}'}` on {date.today()}, "
          f"{describe()}, {os.cpu_count()} cores, torch {torch.__version__} on {torch.get_num_threads()} threads; "
          f"{len(texts)} distinct Disaster Response pool texts")
    for name, value in seconds.items():
        print(f"surprisal pass, log-sum-exp in {name:12s} {value:7.1f} s")
    print(f"float32 entries that differ: {int((a != b).sum())} of {a.size}; texts whose vector differs: "
          f"{int((a != b).any(axis=1).sum())} of {len(a)}; torch twice identical: "
          f"{np.array_equal(a, vectors['torch again'])}")


if __name__ == "__main__":
    main()
