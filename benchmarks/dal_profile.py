"""Where one DAL query's time goes: cProfile of ``dal_query`` on the Disaster Response pool.

    python benchmarks/dal_profile.py [N_LABELED]     # default 350, the middle of the quick grid's 100 -> 600

On 2 cores the query at the default 350 took 10.55 s (RESULTS.md section 12.10; 15.5 s under load, section 11),
with the pool's vectors cached; an empty cache first embeds the pool, about 1.5 to 2 min (section 13).

Real cached all-MiniLM-L6-v2 vectors of the pool (11,572 texts) stand in for the
classifier's representation (logreg's is the embedding itself); a random labeled
set of N_LABELED texts; one query of 50 with the defaults (10 sub-batches, |U'| =
10 |L|, 3 x 256 ReLU discriminator, Adam 1e-3, batch 256, stop above 98 % training
accuracy). Prints the query's wall time, the epochs and subsample of each
sub-batch, and the 16 functions with the most time of their own.
"""
import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from al.cli import ArgumentParser  # noqa: E402
from al.config import SimulationConfig  # noqa: E402
from al.embedders import SentenceEmbedder  # noqa: E402
from al.simulate import load_config_corpus  # noqa: E402
from strategies.dal import dal_query  # noqa: E402


def main() -> None:
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n_labeled", nargs="?", type=int, default=350, metavar="N_LABELED",
                        help="texts in the random labeled set (default 350)")
    n_labeled = parser.parse_args().n_labeled
    if n_labeled < 1:
        parser.error(f"N_LABELED must be at least 1, got {n_labeled}; give a labeled-set size such as 350")
    corpus = load_config_corpus(SimulationConfig())
    pool = corpus.splits["train"]
    if n_labeled > len(pool) - 50:
        parser.error(f"N_LABELED must leave the query's 50 picks unlabeled in the pool of {len(pool):,} texts, "
                     f"got {n_labeled}; give at most {len(pool) - 50}")
    representations = SentenceEmbedder("all-MiniLM-L6-v2").encode(corpus.texts[pool].tolist())
    labeled = np.sort(np.random.default_rng(0).choice(len(pool), n_labeled, replace=False))
    unlabeled = np.setdiff1d(np.arange(len(pool)), labeled)
    dal_query(representations, labeled[:50], unlabeled[:500], 5, np.random.default_rng(1))  # imports, untimed
    profile = cProfile.Profile()
    start = time.perf_counter()
    profile.enable()
    _, info = dal_query(representations, labeled, unlabeled, 50, np.random.default_rng(2))
    profile.disable()
    print(f"query {time.perf_counter() - start:.2f} s at |L| = {n_labeled}; epochs {[i['epochs'] for i in info]}; "
          f"subsample {[i['subsample'] for i in info]}")
    pstats.Stats(profile).sort_stats("tottime").print_stats(16)


if __name__ == "__main__":
    main()
