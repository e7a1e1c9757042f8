"""ALPS's once-per-pool cost against one sentence-embedding pass of the same pool, in one process.

    python benchmarks/alps_cost.py                 # the Disaster Response pool (11,572 texts)
    python benchmarks/alps_cost.py --n 2000        # its first 2,000 texts
    python benchmarks/alps_cost.py --fit-steps 125 # the head fitted in 125 steps instead of 250
    python benchmarks/alps_cost.py --precision bf16  # both encoders under bf16 autocast (--embed-precision bf16)
    python benchmarks/alps_cost.py --cache /tmp/c  # keep the vectors and the head in /tmp/c (which must be empty)
    python benchmarks/alps_cost.py --shared        # also a cold run's way: the surprisal pass embeds the pool
    python benchmarks/alps_cost.py --shared --shared-first  # that way first, the old one second

On 2 cores the default's three passes took 110 to 114 s on a Xeon with AMX and 221 s on an AMD EPYC with AVX2,
about 2 to 4 min (RESULTS.md section 12.16); ``--shared`` adds 79 to 146 s there, and ``--fit-steps 125`` took
179 s (section 12.14).

With an empty cache (a temporary ``AL_CACHE_DIR``, or ``--cache``), times: (1) embedding the
pool with all-MiniLM-L6-v2 (``SentenceEmbedder.encode``, model load included),
(2) ALPS's preparation, which loads the checkpoint as a masked LM and fits its
MLM head (``MLMSurprisal``, ``mlm_head="fit"``, 250 steps of 32 texts), and
(3) the surprisal pass over the pool. (2) + (3) is what ALPS pays once per pool;
later rounds and runs read both from the cache. The ratio to (1) is the figure
``benchmarks/RESULTS.md`` reports (issue: speed, item 3).

``--shared`` then times, in a second empty cache, what a cold lone run of ALPS
does now (``Simulation._prepare_sharing_encoder``): the head fit, the surprisal
pass that also gives the embedder the sentence vectors of the pool's texts of
at most 128 tokens (``MLMSurprisal.share_pass``), and the embedding of the rest;
it checks that the pool's sentence vectors are the bits of (1).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from contextlib import nullcontext
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from al.cli import ArgumentParser  # noqa: E402
from benchmarks.machine import describe  # noqa: E402


def main() -> None:
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=None, help="the first N pool texts (default: all)")
    parser.add_argument("--fit-steps", type=int, default=None,
                        help="steps of the head fit (default: MLMSurprisal's, 250); another count is another head")
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32",
                        help="the sentence encoder's and the masked LM's encoder passes (default: fp32)")
    parser.add_argument("--cache", type=Path, default=None,
                        help="an empty directory to use as AL_CACHE_DIR and keep (default: a temporary one), "
                             "e.g. for benchmarks/compare_runs.py's --caches")
    parser.add_argument("--shared", action="store_true",
                        help="also time the way a cold run does it: the surprisal pass gives the pool's sentence vectors")
    parser.add_argument("--shared-first", action="store_true",
                        help="with --shared: time the shared way first, then the old one (alternate the two orders)")
    args = parser.parse_args()
    if args.shared_first and not args.shared:
        parser.error("--shared-first orders the two ways of --shared, and --shared was not given; add --shared, or "
                     "leave out --shared-first")
    for name in ("n", "fit_steps"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}; give a positive "
                         f"count, or leave it out for the default")
    if args.cache is not None and args.cache.exists() and not args.cache.is_dir():
        parser.error(f"--cache expects an empty or new directory; {args.cache} is a file: pass another path")
    if args.cache is not None and args.cache.exists() and any(args.cache.iterdir()):
        parser.error(f"--cache expects an empty or new directory; {args.cache} has files: pass another path or "
                     f"empty it")
    with tempfile.TemporaryDirectory(prefix="al-alps-cost-") if args.cache is None else nullcontext(args.cache) as cache:
        os.environ["AL_CACHE_DIR"] = str(cache)
        import torch

        from al.datasets import load_corpus
        from al.embedders import SentenceEmbedder
        from al.embedders.surprisal import MLMSurprisal, pool_key

        corpus = load_corpus("disaster")
        texts = corpus.texts[corpus.splits["train"]].tolist()[: args.n]
        steps = {} if args.fit_steps is None else {"fit_steps": args.fit_steps}
        took: dict[str, float] = {}

        def timed(name: str, work):
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the fitted head's warnings
                result = work()
            took[name] = time.perf_counter() - start
            return result

        def time_apart():
            if args.shared:
                os.environ["AL_CACHE_DIR"] = str(Path(cache) / "apart")
            vectors = timed("embed", lambda: SentenceEmbedder("all-MiniLM-L6-v2", precision=args.precision).encode(texts))
            alps = MLMSurprisal("all-MiniLM-L6-v2", mlm_head="fit", precision=args.precision, **steps)
            timed("fit", lambda: alps._prepare(texts, pool_key(texts)))  # load the masked LM, fit and cache the head
            timed("surprisal", lambda: alps(texts))
            return alps, vectors

        def time_shared():
            os.environ["AL_CACHE_DIR"] = str(Path(cache) / "shared")
            embedder = SentenceEmbedder("all-MiniLM-L6-v2", precision=args.precision)
            joint = MLMSurprisal("all-MiniLM-L6-v2", mlm_head="fit", precision=args.precision, **steps)
            offered = joint.share_pass(embedder)
            timed("joint_fit", lambda: joint._prepare(texts, pool_key(texts)))
            timed("joint_pass", lambda: joint(texts))
            return embedder, joint, offered, timed("rest", lambda: embedder.encode(texts))

        if args.shared and args.shared_first:
            embedder, joint, shares, shared_vectors = time_shared()
            alps, vectors = time_apart()
        else:
            alps, vectors = time_apart()
            if args.shared:
                embedder, joint, shares, shared_vectors = time_shared()
        embed, fit, surprisal_pass = took["embed"], took["fit"], took["surprisal"]

    flags = ("" if args.n is None else f" --n {args.n}") + ("" if args.fit_steps is None else f" --fit-steps {args.fit_steps}")
    flags += ("" if args.precision == "fp32" else f" --precision {args.precision}") + (" --shared" if args.shared else "")
    flags += " --shared-first" if args.shared and args.shared_first else ""
    print(f"`python benchmarks/alps_cost.py{flags}` on {date.today()}, "
          f"{describe()}, {os.cpu_count()} cores, torch {torch.__version__} on {torch.get_num_threads()} threads; "
          f"{len(texts)} Disaster Response pool texts; head {alps.head_}")
    print(f"embedding pass          {embed:7.1f} s")
    print(f"ALPS head (load + fit)  {fit:7.1f} s")
    print(f"ALPS surprisal pass     {surprisal_pass:7.1f} s")
    print(f"ALPS once per pool      {fit + surprisal_pass:7.1f} s = {(fit + surprisal_pass) / embed:.2f} x the embedding pass")
    if not args.shared:
        return
    joint_fit, joint_pass, rest = took["joint_fit"], took["joint_pass"], took["rest"]
    apart, together = embed + fit + surprisal_pass, joint_fit + joint_pass + rest
    print(f"shared pass ({'offered' if shares else 'not offered: another arithmetic'}), a second empty cache:")
    print(f"ALPS head (load + fit)  {joint_fit:7.1f} s")
    print(f"surprisal pass          {joint_pass:7.1f} s, giving {joint.sentences_given_:,} of {len(set(texts)):,} "
          f"distinct pool texts' sentence vectors")
    print(f"embedding the rest      {rest:7.1f} s ({embedder.n_encoded_:,} texts run by the embedder)")
    print(f"a cold ALPS run's pool work: {together:.1f} s (apart: {apart:.1f} s, {apart / together:.2f} x as long); "
          f"beyond the embedding pass every run pays: {together - embed:.1f} s = {(together - embed) / embed:.2f} x it")
    print(f"sentence vectors the same bits as the embedding pass's: {bool(np.array_equal(vectors, shared_vectors))}")


if __name__ == "__main__":
    main()
