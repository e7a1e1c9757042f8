"""Do two grids agree? Records round by round, and optionally two caches' vectors.

    python benchmarks/compare_runs.py runs/quick-w1 runs/quick-w2
    python benchmarks/compare_runs.py runs/quick-w2 runs/quick-cold-w2 \
        --caches ~/.cache/al /tmp/cold-cache
    python benchmarks/compare_runs.py --caches ~/.cache/al /tmp/cold-cache   # the caches alone

Two run directories (``runs/a runs/b``) are compared as two grids of one run.
For each run directory of either grid, prints whether both hold it with the same
rounds (as many, each with the same picks and scores; timings are ignored), or
how they differ: the first round that differs, the round counts, or that only one
grid has the run, and which result settings differ where the two stored other ones
(``settings differ: budget 200 -> 300``). The last line says how many runs are identical; it says
``identical`` only when every run is, and the exit status is then 0 (1 when
anything differs, 2 when a directory is missing or holds no run). With ``--caches``,
compares the vectors stored under both caches' ``embeddings/``, the ALPS heads under
``alps/heads/`` and ALPS's vectors under ``alps/surprisal/``: entries only one cache
holds are counted (an ALPS head named), and the exit status is 0 only when some
entries are in both and none of them differs.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from al.cli import ArgumentParser  # noqa: E402
from al.errors import ALError  # noqa: E402
from al.records import CONFIG_FILE, ROUNDS_FILE, read_config, read_rounds  # noqa: E402

COMPARED = ("picked", "macro_f1", "micro_f1", "per_label_f1", "labeled_counts")


def difference(a: Path, b: Path) -> str | None:
    """How the records of two run directories differ, or None.

    ``differs from round 2 on (picked, macro_f1)``: the first round that differs in ``COMPARED`` fields, and
    those fields; ``differs: 3 vs 1 rounds``: one directory holds more rounds. A shorter run whose rounds are
    the other's but for its last round's picks (the last round of a budget picks nothing; a run with a larger
    budget goes on) is said so: ``the same 2 rounds but for the last one's picks, then 3 vs 2 rounds (the
    shorter run's last round picks nothing)``.
    """
    left, right = read_rounds(a), read_rounds(b)
    counts = f"{len(left)} vs {len(right)} rounds"
    shorter = min(len(left), len(right))
    for i, (x, y) in enumerate(zip(left, right)):
        fields = [key for key in COMPARED if x.get(key) != y.get(key)]
        if not fields:
            continue
        last = left[i] if len(left) == shorter else right[i]
        if fields == ["picked"] and i == shorter - 1 and len(left) != len(right) and not last.get("picked"):
            return (f"the same {shorter} rounds but for the last one's picks, then {counts} (the shorter run's "
                    f"last round picks nothing)")
        return f"differs from round {x.get('round')} on ({', '.join(fields)})" + \
            (f" ({counts})" if len(left) != len(right) else "")
    return f"differs: {counts}" if len(left) != len(right) else None


def settings_difference(a: Path, b: Path) -> str:
    """``, settings differ: budget 200 -> 300`` where the two runs' stored result settings differ (as a resume
    compares them: :func:`al.config.changed_settings`), else empty; a run without ``config.json`` is not compared."""
    from al.config import changed_settings
    from al.records import _difference
    from al.simulate import stored_settings

    stored = [read_config(a), read_config(b)]
    if None in stored:
        return ""
    left, right = (stored_settings(config) for config in stored)
    changed = changed_settings(left, right)
    for key, digest in (("data_path", "data_digest"), ("label_descriptions", "label_descriptions_digest")):
        if stored[0].get(digest) is not None and stored[0].get(digest) == stored[1].get(digest):
            changed = [k for k in changed if k != key]  # the same bytes at another path, as a resume reads it
    shown = [_difference(key, left.get(key), right.get(key)) for key in changed[:3]]
    more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
    return f", settings differ: {'; '.join(shown)}{more}" if changed else ""


def is_run(directory: Path) -> bool:
    """Whether ``directory`` is a run directory: it holds a config or rounds."""
    return (directory / CONFIG_FILE).is_file() or (directory / ROUNDS_FILE).is_file()


def run_names(grid: Path) -> set[str]:
    """The run directories of a grid's output, by name; ``{"."}`` when ``grid`` is itself a run directory."""
    if is_run(grid):
        return {"."}
    return {p.name for p in grid.iterdir() if is_run(p)}


def shard_vectors(directory: Path) -> dict[bytes, np.ndarray]:
    vectors = {}
    for path in directory.glob("shard-*.npz"):
        with np.load(path) as shard:
            vectors.update(zip(shard["keys"].tolist(), shard["vectors"]))
    return vectors


def compare_shards(what: str, left_dir: Path, right_dir: Path) -> tuple[int, int]:
    """Print how many texts two shard directories share, how many of their vectors differ, and how many only one
    has; (vectors in both, of them differing)."""
    left, right = shard_vectors(left_dir), shard_vectors(right_dir)
    shared = [k for k in right if k in left]
    only = f"; {len(left) - len(shared)} only in A, {len(right) - len(shared)} only in B" \
        if len(shared) < max(len(left), len(right)) else ""
    if not shared:
        print(f"{what}: no text in both{only}")
        return 0, 0
    gaps = np.array([np.abs(left[k] - right[k]).max() for k in shared])
    print(f"{what}: {len(shared)} texts in both, {100 * (gaps > 0).mean():.1f} % differ, max |diff| "
          f"{gaps.max():.2g}{only}")
    return len(shared), int((gaps > 0).sum())


#: The folders of al's cache this script compares; a folder holding none of them is no cache of al's.
CACHE_PARTS = ("embeddings", "alps")


def compare_caches(a: Path, b: Path) -> tuple[int, int]:
    """Print how two caches' entries compare; (entries in both: vectors and ALPS heads, of them differing)."""
    import torch

    compared = differing = 0

    def add(counts: tuple[int, int]) -> None:
        nonlocal compared, differing
        compared, differing = compared + counts[0], differing + counts[1]

    models = sorted({p.name for cache in (a, b) for p in (cache / "embeddings").glob("*/")})
    for model in models:
        add(compare_shards(f"embeddings {model}", a / "embeddings" / model, b / "embeddings" / model))
    heads = sorted({p.relative_to(cache / "alps" / "heads") for cache in (a, b)
                    for p in (cache / "alps" / "heads").glob("*/*.pt")})
    for head in heads:
        left, right = a / "alps" / "heads" / head, b / "alps" / "heads" / head
        if not (left.is_file() and right.is_file()):
            print(f"ALPS head {head}: only in {'A' if left.is_file() else 'B'}")
            continue
        x, y = torch.load(left, weights_only=True), torch.load(right, weights_only=True)
        gap = max((x[k] - y[k]).abs().max().item() for k in x)
        print(f"ALPS head {head}: max |diff| {gap:.2g}")
        add((1, int(gap > 0)))
    surprisal = sorted({p.name for cache in (a, b) for p in (cache / "alps" / "surprisal").glob("*/")})
    for name in surprisal:
        add(compare_shards(f"ALPS vectors {name}", a / "alps" / "surprisal" / name, b / "alps" / "surprisal" / name))
    return compared, differing


def caches_alone(caches: Sequence[Path]) -> int:
    """Compare two caches and say so in the closing line; the exit status as with run directories."""
    compared, differing = compare_caches(*caches)
    print(f"caches: {compared} entries in both, {differing} differ" if compared else
          "caches: nothing in both to compare")
    return 0 if compared > 0 and differing == 0 else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a", type=Path, nargs="?", help="a grid's output directory, or a run directory")
    parser.add_argument("b", type=Path, nargs="?", help="the other, of the same kind")
    parser.add_argument("--caches", nargs=2, type=Path, metavar=("CACHE_A", "CACHE_B"),
                        help="two caches ($AL_CACHE_DIR folders) whose stored vectors and ALPS heads to compare too; "
                        "alone (no directories), the caches only")
    args = parser.parse_intermixed_args(argv)  # A --caches C1 C2 B, as before A and B became optional
    if args.b is None and not (args.a is None and args.caches):
        parser.error("expected two directories to compare (A B), or --caches CACHE_A CACHE_B alone, got "
                     + ("one directory" if args.a is not None else "neither"))
    caches = [p.expanduser() for p in args.caches or ()]
    if (wrong := next((c for c in caches if not any((c / part).is_dir() for part in CACHE_PARTS)), None)) is not None:
        print(f"error: --caches {wrong} is no cache of al's (expected a folder holding "
              f"{' or '.join(part + '/' for part in CACHE_PARTS)}, "
              f"as $AL_CACHE_DIR does); give the two caches the grids read", file=sys.stderr)
        return 2
    if args.a is None:
        return caches_alone(caches)
    missing = [str(d) for d in (args.a, args.b) if not d.is_dir()]
    if missing:
        print(f"error: {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} no directory; give two grids' "
              f"output directories", file=sys.stderr)
        return 2
    names = {grid: run_names(grid) for grid in (args.a, args.b)}
    if not names[args.a] | names[args.b] and caches:  # two folders without runs (RESULTS.md 12.14): the caches
        return caches_alone(caches)
    if not names[args.a] | names[args.b]:
        print(f"error: neither {args.a} nor {args.b} is or holds a run directory (with {CONFIG_FILE} or {ROUNDS_FILE}); "
              f"give two grids' output directories, or two run directories", file=sys.stderr)
        return 2
    if (empty := next((grid for grid in (args.a, args.b) if not names[grid]), None)) is not None:
        print(f"error: {empty} is not and holds no run directory (with {CONFIG_FILE} or {ROUNDS_FILE}), where the "
              f"other holds {len(names[args.b if empty == args.a else args.a])}; give the grid's output directory",
              file=sys.stderr)
        return 2
    if (names[args.a] == {"."}) != (names[args.b] == {"."}):  # a run against a grid: "0 of 7 runs the same"
        run, grid = (args.a, args.b) if names[args.a] == {"."} else (args.b, args.a)
        within = f" (one of its runs: {grid / run.name})" if run.name in names[grid] else ""
        print(f"error: {run} is a run directory and {grid} a grid's output holding {len(names[grid])} runs; "
              f"expected two of one kind: give two grids' output directories, or two run directories{within}",
              file=sys.stderr)
        return 2
    same, differ, only = 0, 0, {args.a: 0, args.b: 0}
    try:
        for name in sorted(names[args.a] | names[args.b]):
            lacking = [grid for grid in (args.a, args.b) if name not in names[grid]]
            if lacking:
                other = args.b if lacking[0] == args.a else args.a
                only[other] += 1
                print(f"{name}: only in {other}")
                continue
            how = difference(args.a / name, args.b / name)
            same += how is None
            differ += how is not None
            digests = [(read_config(d / name) or {}).get("embeddings_digest") for d in (args.a, args.b)]
            embeddings = "" if None in digests else \
                ", embeddings digest equal" if digests[0] == digests[1] else f", embeddings digests {digests}"
            shown = f"{args.a} and {args.b}" if name == "." else name  # two run directories: name both
            print(f"{shown}: {how or 'same'}{embeddings}{settings_difference(args.a / name, args.b / name)}")
    except ALError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    total = same + differ + sum(only.values())
    if same == total:
        print(f"{same} of {total} runs identical")
    else:
        print(f"records differ: {same} of {total} runs the same, {differ} differ, {only[args.a]} only in {args.a}, "
              f"{only[args.b]} only in {args.b}")
    cache_ok = True
    if caches:
        compared, differing = compare_caches(*caches)
        cache_ok = compared > 0 and differing == 0
        print(f"caches: {compared} entries in both, {differing} differ" if compared else
              "caches: nothing in both to compare")
    return 0 if same == total and cache_ok else 1


if __name__ == "__main__":
    sys.exit(main())
