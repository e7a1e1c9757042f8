"""al against its peers on one task, each run a whole process: wall time, peak RSS, macro-F1.

    python benchmarks/peers.py --quick                 # a smaller table in about 4 minutes
    python benchmarks/peers.py --repeats 3             # the table in RESULTS.md section 12
    python benchmarks/peers.py --rows fine-tuned same-work   # the fine-tuned row, and both tools doing the same work
    python benchmarks/peers.py --rows fine-tuned --device cuda --model DIR   # on a GPU (benchmarks/gpu_run.py)

Task: Reuters-21578 (ModApte), the multi-label 10-label pick of ``../shared/DATA.md`` with
ship for nat-gas (which has 4 texts in al's dev split, and al refuses a label it cannot
measure): money-fx, grain, crude, trade, interest, wheat, corn, dlr, ship, oilseed; initial 100 random
texts (``al.engine.initial_indices``, the same for every tool at one seed), steps of 50,
macro-F1 on the test split (threshold 0.5, zero_division 0) after every round.

Rows
----
frozen      all-MiniLM-L6-v2 sentence embeddings + one-vs-rest logistic regression
            (C = 1, class_weight balanced, lbfgs, max_iter 1000; al's ``logreg``),
            100 -> 600 labeled. ``al`` (``python -m al.simulate``) against modAL 0.4.2.1
            (``ActiveLearner`` with the same scikit-learn estimator), with random picks and
            with margin: al's own multi-label margin (mean per-label |2p - 1|), al running
            modAL's ``margin_sampling`` inside its loop (``--strategy modal:margin_sampling``),
            and modAL's own loop with that function. The last two must agree pick for pick.
fine-tuned  all-MiniLM-L6-v2 fine-tuned (learning rate 1e-4, at most 10 epochs, batch 16,
            max length 128), random picks, 100 -> 200 labeled (three evaluations).
            ``al --classifier bert`` against small-text 1.4.1 (``TransformerBasedClassification``,
            multi_label, its other settings at their defaults: 10 % of the labeled texts held
            out for its early stopping, no class weights). On a CPU with native bf16
            (AVX512-BF16 or AMX) a third run, ``al (bf16)``, fine-tunes with
            ``mixed_precision=bf16`` (bfloat16 autocast; other numbers than fp32);
            small-text 1.4.1 has no mixed precision, so the like-for-like pair is al's fp32 run.
            With ``--device cuda`` both tools fine-tune on the GPU (and the task's embeddings
            are made there); al's like-for-like run then asks for fp32 (``mixed_precision=no``)
            and ``al (bf16)`` runs where the GPU supports bf16 (issue: speed, item 6).
same-work   ("fine-tuned, same work") the fine-tuned row with both tools doing the same work:
            small-text trains on every labeled text and validates after every epoch on al's
            dev split (``fit(validation_set=...)``, the 193 texts al evaluates after every
            epoch), and al runs with ``--no-stopping`` (no pass over the stop set, which
            small-text has no counterpart of). Same data, initial sets, epochs and settings.

What is timed: each tool's whole process, from the interpreter's start to its exit
(imports, data, model loading, the loop, evaluation), as the parent sees it
(``os.wait4``: wall clock and the child's peak resident set). al reads the corpus
itself and its embeddings from its cache (``$AL_CACHE_DIR``, filled by the untimed
preparation); the peers read a prepared task file (``.npz`` of the same embeddings,
labels and initial indices, or the texts for small-text), so they do not pay for
parsing Reuters or embedding it. The order of the runs within a repeat alternates.

Peers on today's stacks (scikit-learn 1.9, transformers 5), bridged in the peer
process only, as the adapters in ``strategies/adapters.py`` describe:
* modAL's ``ActiveLearner`` calls ``check_X_y(..., force_all_finite=...)``, a keyword
  scikit-learn renamed ``ensure_all_finite``: the name is passed on under its new name.
* small-text's ``TransformersDataset.from_arrays`` calls ``tokenizer.encode_plus``,
  which transformers 5 removed: the tokenizer gets an ``encode_plus`` that calls
  ``tokenizer(...)`` with the same arguments (the same fields come back).

Writes ``peers.json`` (every run) and ``peers.md`` (the table) under ``--out`` (default: ``peers-quick``
or ``peers-full`` in the current directory).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.machine import describe  # noqa: E402

LABELS = ["money-fx", "grain", "crude", "trade", "interest", "wheat", "corn", "dlr", "ship", "oilseed"]
MODEL = "all-MiniLM-L6-v2"
SAME_WORK = "fine-tuned, same work"
FROZEN_C, FROZEN_MAX_ITER = 1.0, 1000


@dataclass(frozen=True)
class Protocol:
    """One table's settings."""

    initial: int = 100
    step: int = 50
    frozen_budget: int = 600
    tuned_budget: int = 200
    epochs: int = 10
    learning_rate: float = 1e-4
    batch_size: int = 16
    max_length: int = 128

    def sizes(self, budget: int) -> list[int]:
        return list(range(self.initial, budget + 1, self.step))


FULL = Protocol()
QUICK = Protocol(frozen_budget=300, tuned_budget=150, epochs=2, max_length=64)


@dataclass
class Arm:
    row: str  # "frozen" or "fine-tuned"
    picks: str  # "random" or "margin"
    tool: str  # "al", "al (modAL's margin)", "modAL", "small-text"
    seconds: list[float] = field(default_factory=list)
    peak_mib: list[float] = field(default_factory=list)
    final: list[float] = field(default_factory=list)
    area: list[float] = field(default_factory=list)
    curves: list[list[float]] = field(default_factory=list)
    picked: list[list[list[int]]] = field(default_factory=list)
    phases: list[dict[str, float]] = field(default_factory=list)  # al only: seconds per phase, summed over rounds


# ---------------------------------------------------------------- measuring a child process


#: Runs the command after ``--`` and writes its peak RSS (KiB, ``ru_maxrss``) to the file named first. A child's
#: ``ru_maxrss`` starts at its parent's resident size when it is forked (Linux keeps the high-water mark across
#: ``exec``), so the command is forked from this small process, not from the benchmark, which may hold hundreds
#: of MiB by then (the task's embeddings): forked from it, every row read at least the benchmark's own size.
LAUNCHER = """import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[3], sys.argv[3:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def timed_process(argv: Sequence[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run ``argv`` to its end; (wall seconds, peak RSS in MiB: its own, see :data:`LAUNCHER`). Raises on a
    non-zero exit."""
    with tempfile.TemporaryDirectory() as folder:
        peak_file = Path(folder) / "peak"
        start = time.perf_counter()
        child = subprocess.run([sys.executable, "-c", LAUNCHER, str(peak_file), "--", *argv], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        seconds = time.perf_counter() - start
        if child.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited with {child.returncode}:\n"
                               f"{child.stderr[-3000:].decode(errors='replace')}")
        return seconds, int(peak_file.read_text()) / 1024.0  # Linux: KiB


# ---------------------------------------------------------------- the task, prepared once (not timed)


def prepare(data_path: str, seeds: Sequence[int], protocol: Protocol, folder: Path, model: str = MODEL,
            device: str = "cpu") -> Path:
    """Write the task file the peers read: embeddings, labels, texts, initial indices per seed."""
    from al.config import SimulationConfig
    from al.embedders import SentenceEmbedder
    from al.engine import initial_indices
    from al.simulate import load_config_corpus

    config = SimulationConfig(dataset="reuters", data_path=data_path, labels=tuple(LABELS), model=model)
    corpus = load_config_corpus(config)
    pool, test, dev = corpus.splits["train"], corpus.splits["test"], corpus.splits["dev"]
    embed = SentenceEmbedder(model, device=device).encode
    task = folder / "task.npz"
    np.savez(
        task,
        X_pool=embed(corpus.texts[pool].tolist()), X_test=embed(corpus.texts[test].tolist()),
        Y_pool=corpus.Y[pool].toarray().astype(np.int8), Y_test=corpus.Y[test].toarray().astype(np.int8),
        texts_pool=np.asarray(corpus.texts[pool], dtype=object), texts_test=np.asarray(corpus.texts[test], dtype=object),
        texts_dev=np.asarray(corpus.texts[dev], dtype=object), Y_dev=corpus.Y[dev].toarray().astype(np.int8),
        **{f"initial_{s}": initial_indices(s, len(pool), protocol.initial) for s in seeds},
    )
    return task


def load_task(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=True) as data:
        return {k: data[k] for k in data.files}


def macro_f1(Y_true: np.ndarray, Y_pred: Any) -> float:
    from sklearn.metrics import f1_score

    Y_pred = Y_pred.toarray() if hasattr(Y_pred, "toarray") else np.asarray(Y_pred)
    return float(f1_score(Y_true, Y_pred, average="macro", zero_division=0))


# ---------------------------------------------------------------- peers (each runs in its own process)


def run_modal(task_path: Path, picks: str, seed: int, protocol: Protocol, out: Path) -> None:
    """modAL's pool-based loop on the task's embeddings; writes {"curve", "picked"} to ``out``."""
    import modAL.models.learners as learners
    from modAL.models import ActiveLearner
    from modAL.uncertainty import margin_sampling
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.utils import check_X_y

    def check_X_y_renamed(*args: Any, force_all_finite: Any = True, **kwargs: Any) -> Any:
        return check_X_y(*args, ensure_all_finite=force_all_finite, **kwargs)

    learners.check_X_y = check_X_y_renamed  # scikit-learn >= 1.6 renamed the keyword

    task = load_task(task_path)
    X, Y = task["X_pool"], task["Y_pool"]
    rng = np.random.default_rng(seed)

    def random_picks(classifier: Any, X_unlabeled: np.ndarray, n_instances: int = 1) -> np.ndarray:
        return rng.choice(len(X_unlabeled), n_instances, replace=False)

    labeled = task[f"initial_{seed}"]
    unlabeled = np.setdiff1d(np.arange(len(X)), labeled)
    learner = ActiveLearner(
        estimator=OneVsRestClassifier(LogisticRegression(C=FROZEN_C, class_weight="balanced", max_iter=FROZEN_MAX_ITER,
                                                         random_state=0)),
        query_strategy=margin_sampling if picks == "margin" else random_picks,
        X_training=X[labeled], y_training=Y[labeled],
    )
    curve, picked = [macro_f1(task["Y_test"], learner.predict(task["X_test"]))], []
    for _ in protocol.sizes(protocol.frozen_budget)[1:]:
        positions = np.asarray(learner.query(X[unlabeled], n_instances=protocol.step)[0])
        chosen = unlabeled[positions]
        learner.teach(X[chosen], Y[chosen])
        unlabeled = np.delete(unlabeled, positions)
        picked.append(chosen.tolist())
        curve.append(macro_f1(task["Y_test"], learner.predict(task["X_test"])))
    out.write_text(json.dumps({"curve": curve, "picked": picked}))


def run_smalltext(task_path: Path, seed: int, protocol: Protocol, out: Path, on_dev: bool = False,
                  model: str = MODEL, device: str = "cpu") -> None:
    """small-text's pool-based loop, fine-tuning ``model`` on ``device``, random picks; writes {"curve", "picked"}.

    ``on_dev``: every fit validates on al's dev split instead of holding out 10 % of the labeled texts.
    """
    import torch
    from scipy.sparse import csr_matrix
    from small_text import PoolBasedActiveLearner, RandomSampling, TransformerBasedClassificationFactory
    from small_text import TransformerModelArguments
    from small_text.integrations.transformers.datasets import TransformersDataset
    from transformers import AutoTokenizer

    from al.models import resolve_model

    torch.manual_seed(seed)
    np.random.seed(seed)
    task = load_task(task_path)
    path = str(resolve_model(model))
    tokenizer = AutoTokenizer.from_pretrained(path)
    tokenizer.encode_plus = tokenizer.__call__  # transformers 5 removed encode_plus; same arguments, same fields

    n_labels = task["Y_pool"].shape[1]
    labels = np.arange(n_labels)

    def dataset(texts: np.ndarray, Y: np.ndarray) -> Any:
        return TransformersDataset.from_arrays(list(texts), csr_matrix(Y), tokenizer, max_length=protocol.max_length,
                                               target_labels=labels)

    train = dataset(task["texts_pool"], task["Y_pool"])
    test = dataset(task["texts_test"], task["Y_test"])
    factory = TransformerBasedClassificationFactory(
        TransformerModelArguments(path), n_labels, kwargs={
            "multi_label": True, "num_epochs": protocol.epochs, "lr": protocol.learning_rate,
            "mini_batch_size": protocol.batch_size, "device": device})
    fit_kwargs = {"validation_set": dataset(task["texts_dev"], task["Y_dev"])} if on_dev else {}
    learner = PoolBasedActiveLearner(factory, RandomSampling(), train, fit_kwargs=fit_kwargs)
    initial = task[f"initial_{seed}"]
    learner.initialize_data(initial, csr_matrix(task["Y_pool"][initial]))
    curve = [macro_f1(task["Y_test"], learner.classifier.predict(test))]
    picked = []
    for _ in protocol.sizes(protocol.tuned_budget)[1:]:
        chosen = learner.query(num_samples=protocol.step)
        learner.update(csr_matrix(task["Y_pool"][chosen]))
        picked.append(np.asarray(chosen).tolist())
        curve.append(macro_f1(task["Y_test"], learner.classifier.predict(test)))
    out.write_text(json.dumps({"curve": curve, "picked": picked}))


# ---------------------------------------------------------------- al's runs


def al_argv(row: str, strategy: str, seed: int, protocol: Protocol, data_path: str, out: Path,
            precision: str = "auto", model: str = MODEL, device: str = "cpu") -> list[str]:
    """``python -m al.simulate`` for one run of ``row`` ("frozen", "fine-tuned" or "fine-tuned, same work").

    ``precision``: the fine-tuning's ``mixed_precision`` ("auto" is fp32 on a CPU, bf16 or fp16 on a GPU).
    """
    argv = [sys.executable, "-m", "al.simulate", "--dataset", "reuters", "--data-path", data_path,
            "--labels", *LABELS, "--model", model, "--strategy", strategy, "--initial", str(protocol.initial),
            "--step", str(protocol.step), "--seed", str(seed), "--out", str(out), "--quiet"]
    if row == "frozen":
        return argv + ["--classifier", "logreg", "--budget", str(protocol.frozen_budget)]
    params = {"max_epochs": protocol.epochs, "learning_rate": protocol.learning_rate,
              "batch_size": protocol.batch_size, "max_length": protocol.max_length, "mixed_precision": precision}
    if model != MODEL:
        params["model"] = model
    argv += ["--classifier", "bert", "--budget", str(protocol.tuned_budget), "--device", device]
    if row == SAME_WORK:
        argv.append("--no-stopping")
    for key, value in params.items():
        argv += ["--classifier-param", f"{key}={value}"]
    return argv


def al_result(run_dir: Path) -> dict[str, Any]:
    from al.records import read_rounds

    rounds = read_rounds(run_dir)
    phases = {key[len("seconds_"):]: round(sum(r.get(key, 0.0) for r in rounds), 1)
              for key in ("seconds_train", "seconds_train_dev", "seconds_evaluate", "seconds_query", "seconds_stopping",
                          "seconds_embed")}
    return {"curve": [r["macro_f1"] for r in rounds], "picked": [r["picked"] for r in rounds[:-1]], "phases": phases}


# ---------------------------------------------------------------- the table


def arms_for(rows: Sequence[str], bf16: bool = False) -> list[Arm]:
    """The runs of each row ("frozen", "fine-tuned", "same-work"); ``bf16`` adds al fine-tuning with bfloat16
    autocast to the fine-tuned row."""
    arms = []
    if "frozen" in rows:
        arms += [Arm("frozen", "random", "al"), Arm("frozen", "random", "modAL"),
                 Arm("frozen", "margin", "al"), Arm("frozen", "margin", "al (modAL's margin)"),
                 Arm("frozen", "margin", "modAL")]
    if "fine-tuned" in rows:
        arms += [Arm("fine-tuned", "random", "al"), Arm("fine-tuned", "random", "small-text")]
        if bf16:
            arms.insert(-1, Arm("fine-tuned", "random", "al (bf16)"))
    if "same-work" in rows:
        arms += [Arm(SAME_WORK, "random", "al"), Arm(SAME_WORK, "random", "small-text")]
    return arms


def run_arm(arm: Arm, seed: int, protocol: Protocol, data_path: str, task: Path, work: Path,
            protocol_name: str, model: str = MODEL, device: str = "cpu") -> None:
    slug = re.sub(r"[^A-Za-z0-9_-]", "", f"{arm.row}-{arm.picks}-{arm.tool}".replace(" ", "_"))
    result = work / f"{slug}-seed{seed}.json"
    if arm.tool.startswith("al"):
        strategy = "modal:margin_sampling" if "modAL" in arm.tool else arm.picks
        run_dir = work / f"{slug}-seed{seed}"
        precision = "bf16" if arm.tool == "al (bf16)" else "auto" if device == "cpu" else "no"  # fp32 beside small-text
        argv = al_argv(arm.row, strategy, seed, protocol, data_path, run_dir, precision=precision, model=model,
                       device=device)
    else:
        peer = "modal" if arm.tool == "modAL" else "smalltext"
        argv = [sys.executable, __file__, f"_{peer}", "--task", str(task), "--picks", arm.picks, "--seed", str(seed),
                "--protocol", protocol_name, "--result", str(result), "--model", model, "--device", device]
        argv += ["--on-dev"] if arm.row == SAME_WORK else []
    seconds, peak = timed_process(argv, env={**os.environ, "TOKENIZERS_PARALLELISM": "false"})
    outcome = al_result(run_dir) if arm.tool.startswith("al") else json.loads(result.read_text())
    budget = protocol.frozen_budget if arm.row == "frozen" else protocol.tuned_budget
    from al.analysis.comparison import normalized_area

    arm.seconds.append(round(seconds, 2))
    arm.peak_mib.append(round(peak, 1))
    arm.curves.append([round(v, 4) for v in outcome["curve"]])
    arm.picked.append(outcome["picked"])
    if "phases" in outcome:
        arm.phases.append(outcome["phases"])
    arm.final.append(round(outcome["curve"][-1], 4))
    arm.area.append(round(normalized_area(protocol.sizes(budget), outcome["curve"]), 4))
    print(f"  {arm.row:21s} {arm.picks:6s} {arm.tool:22s} seed {seed}: {seconds:7.1f} s  {peak:7.0f} MiB  "
          f"final {outcome['curve'][-1]:.4f}", flush=True)


def median(values: Sequence[float]) -> float:
    return float(np.median(values))


def table(arms: Sequence[Arm]) -> str:
    """Markdown: medians over repeats, and each tool's ratio to the peer of its row and picks."""
    peer_of = {"frozen": "modAL", "fine-tuned": "small-text", SAME_WORK: "small-text"}
    lines = ["| row | picks | tool | wall s (median) | peak RSS MiB (median) | final macro-F1 (mean) | area (mean) "
             "| wall / peer | RSS / peer |", "|---|---|---|---|---|---|---|---|---|"]
    for arm in arms:
        peer = next((a for a in arms if (a.row, a.picks, a.tool) == (arm.row, arm.picks, peer_of[arm.row])), None)
        wall, rss = median(arm.seconds), median(arm.peak_mib)
        ratio = (f"{wall / median(peer.seconds):.2f}", f"{rss / median(peer.peak_mib):.2f}") \
            if peer is not None and peer is not arm else ("—", "—")
        lines.append(f"| {arm.row} | {arm.picks} | {arm.tool} | {wall:.1f} | {rss:.0f} | {np.mean(arm.final):.4f} | "
                     f"{np.mean(arm.area):.4f} | {ratio[0]} | {ratio[1]} |")
    return "\n".join(lines)


def phase_lines(arms: Sequence[Arm]) -> str:
    """Where each al run's recorded time went (the rest of its wall time: start-up, loading, writing)."""
    lines = []
    for arm in arms:
        for seconds, phases in zip(arm.seconds, arm.phases):
            spent = ", ".join(f"{name} {value:.1f} s" for name, value in phases.items() if value)
            lines.append(f"- {arm.row} {arm.picks} {arm.tool}: {seconds:.1f} s wall; {spent} "
                         f"(train includes train_dev, the per-epoch dev evaluation; stopping is the stop-set pass)")
    return "\n".join(lines)


def same_picks(arms: Sequence[Arm]) -> str | None:
    """Whether al running modAL's margin picked what modAL's own loop picked, every round of every seed."""
    ours = next((a for a in arms if a.tool == "al (modAL's margin)"), None)
    theirs = next((a for a in arms if a.row == "frozen" and a.picks == "margin" and a.tool == "modAL"), None)
    if ours is None or theirs is None:
        return None
    rounds = sum(len(p) for p in ours.picked)
    same = sum(sorted(a) == sorted(b) for pa, pb in zip(ours.picked, theirs.picked) for a, b in zip(pa, pb))
    return f"al running modAL's margin_sampling and modAL's own loop picked the same texts in {same} of {rounds} rounds."


def main(argv: Sequence[str] | None = None) -> int:
    sub = sys.argv[1] if argv is None and len(sys.argv) > 1 else (argv[0] if argv else "")
    if sub in ("_modal", "_smalltext"):
        p = argparse.ArgumentParser()
        p.add_argument("peer")
        p.add_argument("--task", type=Path, required=True)
        p.add_argument("--picks", default="random")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--protocol", choices=["full", "quick"], default="full")
        p.add_argument("--result", type=Path, required=True)
        p.add_argument("--on-dev", action="store_true")
        p.add_argument("--model", default=MODEL)
        p.add_argument("--device", default="cpu")
        a = p.parse_args(argv)
        protocol = QUICK if a.protocol == "quick" else FULL
        if sub == "_modal":
            run_modal(a.task, a.picks, a.seed, protocol, a.result)
        else:
            run_smalltext(a.task, a.seed, protocol, a.result, on_dev=a.on_dev, model=a.model, device=a.device)
        return 0
    from al.cli import ArgumentParser  # here, not above: a peer's timed process imports nothing of al's

    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="budget 300 (frozen) and 150 (fine-tuned), 2 epochs, 64 tokens")
    parser.add_argument("--repeats", type=int, default=1, help="seeds 0 .. R-1, each a repeat of every run")
    parser.add_argument("--rows", nargs="+", default=["frozen", "fine-tuned"], choices=["frozen", "fine-tuned", "same-work"],
                        help="same-work: the fine-tuned pair doing the same work (small-text validating on al's dev "
                        "split, al without the stop-set pass)")
    parser.add_argument("--tuned-repeats", type=int, default=None,
                        help="repeats of the fine-tuned rows, fine-tuned and same-work (default: --repeats)")
    parser.add_argument("--no-bf16", action="store_true", help="leave out al's bf16 fine-tuning run")
    parser.add_argument("--device", default="cpu", help="cpu, or cuda for the fine-tuned rows on a GPU (both tools; "
                        "the sentence embeddings of the task too); default cpu")
    parser.add_argument("--model", default=MODEL, help=f"the encoder, a name or local directory (default {MODEL})")
    parser.add_argument("--data-path", default=str(ROOT.parent / "shared" / "data" / "reuters21578.tar.gz"),
                        help="Reuters-21578's reuters21578.tar.gz (default: ../shared/data/ beside the checkout)")
    parser.add_argument("--out", type=Path, default=None,
                        help="the folder peers.md and peers.json go to (default: peers-quick or peers-full in the "
                        "current directory; the tables RESULTS.md cites are benchmarks/peers/, written with --out)")
    args = parser.parse_args(argv)
    for name in ("repeats", "tuned_repeats"):
        if (value := getattr(args, name)) is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {value}; give how many seeds to run "
                         f"(seeds 0 .. R-1)")
    if not Path(args.data_path).exists():
        parser.error(f"Reuters not found at {args.data_path}; pass --data-path to reuters21578.tar.gz")
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        parser.error(f"--out {args.out} is a file; give a folder for peers.md and peers.json")
    protocol, name = (QUICK, "quick") if args.quick else (FULL, "full")
    seeds = list(range(args.repeats))
    tuned_seeds = list(range(args.tuned_repeats if args.tuned_repeats is not None else args.repeats))
    from al.device import cpu_has_native_bf16

    if not re.fullmatch(r"cpu|cuda(:\d+)?", args.device):
        parser.error(f"--device must be cpu, cuda or cuda:N, got {args.device!r}")
    if args.device != "cpu":
        import torch

        if not torch.cuda.is_available():
            parser.error(f"--device {args.device} asked for, but torch sees no GPU; use --device cpu")
        native_bf16 = torch.cuda.is_bf16_supported()
    else:
        native_bf16 = cpu_has_native_bf16()
    arms = arms_for(args.rows, bf16=native_bf16 and not args.no_bf16)
    bf16 = any(arm.tool == "al (bf16)" for arm in arms)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="al-peers-") as tmp:
        work = Path(tmp)
        print("preparing the task (not timed) ...", flush=True)
        task = prepare(args.data_path, sorted(set(seeds) | set(tuned_seeds)), protocol, work, model=args.model,
                       device=args.device)
        if args.device != "cpu":  # the encoder's memory back to the GPU before the timed runs (its context stays)
            import gc

            import torch

            gc.collect()
            torch.cuda.empty_cache()
        for i, seed in enumerate(sorted(set(seeds) | set(tuned_seeds))):
            order = arms if i % 2 == 0 else list(reversed(arms))  # alternate who runs first
            for arm in order:
                if seed in (seeds if arm.row == "frozen" else tuned_seeds):
                    run_arm(arm, seed, protocol, args.data_path, task, work, name, model=args.model,
                            device=args.device)
    md = table(arms)
    check = same_picks(arms)
    machine = f"{describe()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    if args.device != "cpu":
        import torch

        machine += f", {torch.cuda.get_device_name()} (torch {torch.__version__})"
    header = (f"`python benchmarks/peers.py {' '.join(sys.argv[1:] if argv is None else argv)}` on {date.today()}, "
              f"{machine}; protocol {name}: {asdict(protocol)}; seeds {seeds} (fine-tuned {tuned_seeds}); "
              f"{time.perf_counter() - started:.0f} s in all; al (bf16): "
              f"{'run' if bf16 else 'not run (no fine-tuned row, no native bf16 on this device, or --no-bf16)'}.")
    text = "\n\n".join(x for x in (header, md, check, phase_lines(arms)) if x)
    print("\n" + text)
    out = args.out if args.out is not None else Path(f"peers-{name}")
    out.mkdir(parents=True, exist_ok=True)
    (out / "peers.md").write_text(text + "\n")
    (out / "peers.json").write_text(json.dumps({"protocol": asdict(protocol), "name": name, "header": header,
                                                "arms": [asdict(a) for a in arms]}, indent=1))
    print(f"\nwrote {out / 'peers.md'} (the table) and {out / 'peers.json'} (every run)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
