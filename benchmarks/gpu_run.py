"""The speed issue's item 6 on a lent GPU: the paper's setting on Disaster Response, and the peers' fine-tuned row.

    python benchmarks/gpu_pack.py                        # here, first: .gpu/, what the GPU machine lacks
    # then the device tool: run(command="PYTHONUNBUFFERED=1 python3 benchmarks/gpu_run.py --out $OUT",
    #                           carry=[".gpu"], timeout_s=570)
    python benchmarks/gpu_run.py --smoke --out /tmp/gpu-smoke   # every step, tiny, on this CPU: a check of the script

Steps, each child a whole process timed from outside, each reported as it ends (a run
stopped at its limit still returns the steps before):

1. Setup (not timed): al itself (built from this tree, for its entry points: the registry
   finds even the built-in strategies through them) and the wheels of ``.gpu/wheels`` into
   ``<work>/site``, then a check that ``class_embedding`` and ``random`` resolve; MiniLM's float16
   weights widened to float32 (``benchmarks/gpu_pack.py`` says why they travel as float16);
   the CSV; and a model of bert-base-uncased's shape (``BertConfig()``'s defaults: 12
   layers, hidden size 768, 110M parameters) with random weights and MiniLM's tokenizer (the
   same uncased 30,522-token vocabulary). bert-base-uncased's weights are on no package
   index and the machine reaches no hub, so the run's macro-F1 means nothing; its time per
   round is bert-base's. ``--bert DIR`` takes real weights instead.
2. The paper's setting: ``python -m al.simulate --strategy class_embedding --classifier bert``
   on Disaster Response, 100 -> 600 labeled in steps of 50 (11 rounds), at most 15 epochs
   with the dev split evaluated after each, bf16 autocast (``mixed_precision=auto`` on a GPU
   with bf16), the class embeddings from MiniLM on the same GPU. Random weights learn little,
   so early stopping would end the fits early; ``patience=15`` runs every epoch of every
   round, the most the setting can take (``--patience 3``, al's default, for real weights).
3. The peers table's fine-tuned row: ``python benchmarks/peers.py --rows fine-tuned --device
   cuda`` (al in fp32 and in bf16 against small-text 1.4.1, MiniLM, Reuters, 100 -> 200).

``--steps profile`` (not run by default) comes before them: ``benchmarks/bert_step.py`` on the
bert-base-shaped model, where a fine-tuning step's time goes and what a padded shape's first
sight costs (RESULTS.md section 12.17).

A step stopped at its time limit is reported as such (its child's whole process group is
interrupted, then killed) and does not fail the script; a step that fails does (exit 1). Bad
setup: one line, exit 2.

Writes ``gpu.md`` (the machine, each step's command and time, the paper run's rounds) and
``gpu.json`` under ``--out``, with ``paper-rounds.jsonl`` (the run's records) and
``peers/peers.md``, ``peers/peers.json``. ``nvidia-smi`` is sampled every half second for
the GPU's peak memory in use during each step, by every process (in the peers step, its
parent's CUDA context too, which made the task's embeddings).
"""
from __future__ import annotations

import argparse
import json
import lzma
import os
import platform
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # al's records reader (al is not installed on the GPU machine)
from al.cli import ArgumentParser  # noqa: E402
CARRIED = ROOT / ".gpu"
#: Marks a ``--work`` folder as this script's, so that a rerun may empty it.
WORK_MARK = ".al-gpu-work"
#: The class-embedding paper's setting (``../shared/seeds/001``): 100 random texts, 10 rounds of 50, <= 15 epochs.
PAPER = {"initial": 100, "step": 50, "budget": 600, "max_epochs": 15}
SMOKE = {"initial": 100, "step": 50, "budget": 200, "max_epochs": 2, "pool_size": 1000, "max_length": 64}


# ---------------------------------------------------------------- setup (not timed)


def install(wheels: Path, site: Path) -> None:
    """al (built from this tree) and the carried wheels into ``site``: no index, no dependencies (the image has them).

    al's own install matters: strategies, the built-in ones too, are found
    through its entry points (:mod:`al.registry`), which a bare checkout lacks.
    It is built from a copy of the package's files, so that no ``al.egg-info``
    or ``build/`` is left in the tree (an ``al.egg-info`` there would hide an
    editable install's metadata from runs started in the tree).
    """
    source = site.parent / "al-source"
    for name in ("al", "strategies"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", "--no-compile",
           "--disable-pip-version-check", "--upgrade", "--target", str(site)]
    subprocess.run([*pip, "--no-build-isolation", str(source)], check=True, cwd=source)
    found = sorted(wheels.glob("*.whl"))
    if found:
        subprocess.run([*pip, *map(str, found)], check=True)


def check_strategies(env: dict[str, str]) -> None:
    """The strategies the steps ask for resolve in the children's environment (else a CalledProcessError)."""
    subprocess.run([sys.executable, "-c", "from al.registry import get_strategy as g; g('class_embedding'); "
                    "g('random')"], env=env, cwd=ROOT, check=True)


def unpack_minilm(packed: Path, target: Path) -> Path:
    """MiniLM's directory with its float16 weights widened back to float32."""
    import torch
    from safetensors.torch import load, save_file

    shutil.copytree(packed, target, ignore=shutil.ignore_patterns("*.xz"))
    with lzma.open(packed / "model.safetensors.xz", "rb") as f:
        weights = load(f.read())
    save_file({name: t.to(torch.float32) if t.dtype == torch.float16 else t for name, t in weights.items()},
              target / "model.safetensors", metadata={"format": "pt"})
    return target


def unxz(source: Path, target: Path) -> Path:
    with lzma.open(source, "rb") as src, open(target, "wb") as dst:
        shutil.copyfileobj(src, dst, length=1 << 22)
    return target


def bert_base_shaped(tokenizer_from: Path, target: Path, smoke: bool) -> Path:
    """A BERT of bert-base-uncased's shape (a tiny one for ``smoke``) with random weights (seed 0)."""
    import torch
    from transformers import BertConfig, BertModel

    config = BertConfig(hidden_size=128, num_hidden_layers=2, num_attention_heads=2, intermediate_size=512) \
        if smoke else BertConfig()
    torch.manual_seed(0)
    BertModel(config).save_pretrained(target)
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (tokenizer_from / name).is_file():
            shutil.copy2(tokenizer_from / name, target / name)
    return target


# ---------------------------------------------------------------- timed steps


class GPUMemory:
    """The most GPU memory in use (MiB, all processes) while the block runs, from ``nvidia-smi``; None without it."""

    def __enter__(self) -> "GPUMemory":
        self.peak: float | None = None
        self._process = None
        if shutil.which("nvidia-smi"):
            self._process = subprocess.Popen(
                ["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits", "-lms", "500"],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            self._reader = threading.Thread(target=self._read, daemon=True)
            self._reader.start()
        return self

    def _read(self) -> None:
        for line in self._process.stdout:
            try:
                used = float(line.split(",")[0])
            except ValueError:
                continue
            self.peak = used if self.peak is None else max(self.peak, used)

    def __exit__(self, *exc: Any) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait()
            self._reader.join(2)


#: The step's child running now: stopped with its process group if this script is stopped.
_running: subprocess.Popen | None = None


def stop_group(child: subprocess.Popen) -> None:
    """SIGKILL to ``child``'s process group (its children too); then reap it."""
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    child.wait()


def stop_running_step(signum: int, frame: Any) -> None:
    """On SIGTERM or SIGINT: no step's process outlives this script (a rerun would share the GPU with it)."""
    if _running is not None:
        stop_group(_running)
    raise SystemExit(128 + signum)


def timed_step(name: str, argv: Sequence[str], env: dict[str, str], timeout: float) -> dict[str, Any]:
    """Run ``argv`` to its end or ``timeout``; its wall time, exit code, the GPU's peak memory in use, output tail."""
    print(f"\n== {name}: {' '.join(argv)}", flush=True)
    start = time.perf_counter()
    with GPUMemory() as gpu:
        global _running
        child = _running = subprocess.Popen(list(argv), env=env, cwd=ROOT, stdout=subprocess.PIPE,
                                            stderr=subprocess.STDOUT, text=True,
                                            start_new_session=True)  # its own group: its children stop with it
        tail: list[str] = []

        def read() -> None:
            for line in child.stdout:
                print(line, end="", flush=True)
                tail.append(line)
                del tail[:-40]

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            child.wait(timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(child.pid, signal.SIGINT)  # the round in progress is dropped; finished rounds stay
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                pass
            stop_group(child)
        reader.join(5)
        _running = None
    seconds = time.perf_counter() - start
    print(f"== {name}: exit {child.returncode}{' (stopped at the time limit)' if timed_out else ''} "
          f"after {seconds:.1f} s", flush=True)
    return {"name": name, "command": " ".join(argv), "seconds": round(seconds, 1), "exit": child.returncode,
            "timed_out": timed_out, "gpu_peak_mib": gpu.peak, "tail": "".join(tail[-15:])}


def paper_argv(minilm: Path, bert: Path, csv: Path, run_dir: Path, device: str, patience: int,
               smoke: bool) -> list[str]:
    setting = SMOKE if smoke else PAPER
    argv = [sys.executable, "-m", "al.simulate", "--strategy", "class_embedding", "--dataset", "disaster",
            "--data-path", str(csv), "--model", str(minilm), "--classifier", "bert",
            "--initial", str(setting["initial"]), "--step", str(setting["step"]), "--budget", str(setting["budget"]),
            "--device", device, "--seed", "0", "--out", str(run_dir)]
    params = {"model": bert, "max_epochs": setting["max_epochs"], "patience": patience,
              "mixed_precision": "auto", "show_progress": "false"}
    if smoke:
        argv += ["--pool-size", str(SMOKE["pool_size"])]
        params["max_length"] = SMOKE["max_length"]
    for key, value in params.items():
        argv += ["--classifier-param", f"{key}={value}"]
    return argv


def round_rows(run_dir: Path) -> list[dict[str, Any]]:
    """Per round of the paper run: labeled texts, epochs, and where the seconds went."""
    from al.records import read_rounds

    try:
        rounds = read_rounds(run_dir)
    except Exception:  # noqa: BLE001 - a run stopped before its first round has no records
        return []
    rows = []
    for r in rounds:
        info = r.get("classifier_info") or {}
        rows.append({"round": r["round"], "labeled": r["n_labeled"], "epochs": info.get("n_epochs"),
                     **{key[len("seconds_"):]: r.get(key) for key in
                        ("seconds_train", "seconds_train_dev", "seconds_evaluate", "seconds_query", "seconds_embed")},
                     "macro_f1": r.get("macro_f1")})
    return rows


def machine() -> dict[str, Any]:
    """Date, GPU (from nvidia-smi: no CUDA context in this process), torch, CUDA, Python, CPUs."""
    import torch

    gpu = None
    if shutil.which("nvidia-smi"):
        names = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                               text=True).stdout.strip().splitlines()
        gpu = ", ".join(names) or None
    return {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "gpu": gpu,
            "torch": torch.__version__, "cuda": torch.version.cuda, "python": platform.python_version(),
            "cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()}


def cell(key: str, value: Any) -> str:
    """A table cell: seconds to 0.1, macro-F1 to 4 places."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}" if key == "macro_f1" else f"{value:.1f}"
    return str(value)


def report(facts: dict[str, Any], steps: list[dict[str, Any]], rounds: list[dict[str, Any]], out: Path) -> None:
    """``gpu.md`` and ``gpu.json`` under ``out``, rewritten after each step."""
    lines = [f"`python benchmarks/gpu_run.py {' '.join(sys.argv[1:])}` on {facts['date']}: {facts['gpu'] or 'no GPU'}, "
             f"torch {facts['torch']} (CUDA {facts['cuda']}), Python {facts['python']}, {facts['cpus']} CPUs.", ""]
    for step in steps:
        gpu = f", GPU memory in use at most {step['gpu_peak_mib']:.0f} MiB" if step["gpu_peak_mib"] else ""
        state = "stopped at its time limit" if step["timed_out"] else f"exit {step['exit']}"
        lines += [f"- **{step['name']}**: {step['seconds']:.1f} s wall, {state}{gpu}.", f"  `{step['command']}`"]
    if rounds:
        keys = [k for k in rounds[0] if k not in ("round",)]
        lines += ["", "| round | " + " | ".join(keys) + " |", "|---:|" + "---:|" * len(keys)]
        for row in rounds:
            lines.append(f"| {row['round']} | " + " | ".join(cell(k, row[k]) for k in keys) + " |")
        total = {k: sum(r[k] or 0.0 for r in rounds) for k in ("train", "train_dev", "evaluate", "query")}
        lines += ["", "Summed over rounds: " + ", ".join(f"{k} {v:.1f} s" for k, v in total.items())
                  + " (train includes train_dev, the dev evaluation after each epoch)."]
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu.md").write_text("\n".join(lines) + "\n")
    (out / "gpu.json").write_text(json.dumps({"machine": facts, "steps": steps, "paper_rounds": rounds}, indent=1))


def main() -> int:
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="where the results go ($OUT on the device machine)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/al-gpu"), help="unpacked files, cache, runs")
    parser.add_argument("--pack", type=Path, default=CARRIED,
                        help="the folder benchmarks/gpu_pack.py wrote, carried to the device (default .gpu)")
    parser.add_argument("--device", default=None, help="cuda (default), or cpu with --smoke")
    parser.add_argument("--smoke", action="store_true", help="tiny settings and a tiny BERT: checks every step")
    parser.add_argument("--bert", type=Path, default=None, help="real weights of bert-base-uncased (a directory)")
    parser.add_argument("--patience", type=int, default=15, help="early-stopping patience (default 15: every epoch)")
    parser.add_argument("--steps", nargs="+", default=["paper", "peers"], choices=["profile", "paper", "peers"],
                        help="in this order; profile: benchmarks/bert_step.py on the bert-base-shaped model")
    parser.add_argument("--profile-timeout", type=float, default=240.0, help="seconds (default 240)")
    parser.add_argument("--paper-timeout", type=float, default=320.0, help="seconds (default 320)")
    parser.add_argument("--peers-timeout", type=float, default=200.0,
                        help="seconds (default 200); the peers' table is written only at their end")
    parser.add_argument("--peers-repeats", type=int, default=1, help="repeats of the peers' runs (default 1)")
    parser.add_argument("--deadline", type=float, default=540.0,
                        help="seconds from the start by which every step has ended (default 540, inside the device "
                        "call's timeout_s of 570): a step gets at most what is left, less 20 s")
    args = parser.parse_args()
    for name in ("patience", "peers_repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}; give a positive "
                         f"count (default {parser.get_default(name)})")
    device = args.device or ("cpu" if args.smoke else "cuda")
    if not (args.pack / "MANIFEST.json").is_file():
        print(f"error: expected {args.pack}/MANIFEST.json, found none; run python benchmarks/gpu_pack.py on a machine "
              "with al installed and carry its folder (.gpu, or --pack DIR)", file=sys.stderr)
        return 2
    if args.bert is not None and not (args.bert / "config.json").is_file():
        print(f"error: --bert {args.bert} holds no config.json; pass a saved transformers model", file=sys.stderr)
        return 2
    import torch

    if device.startswith("cuda") and not torch.cuda.is_available():
        print(f"error: --device {device} asked for, but torch sees no GPU; on a CPU pass --smoke", file=sys.stderr)
        return 2
    if args.work.exists() and any(args.work.iterdir()) and not (args.work / WORK_MARK).is_file():
        print(f"error: --work {args.work} is a non-empty folder this script did not make; pass an empty or new one",
              file=sys.stderr)
        return 2
    started = time.perf_counter()
    signal.signal(signal.SIGTERM, stop_running_step)
    signal.signal(signal.SIGINT, stop_running_step)

    def allowed(timeout: float) -> float:
        return max(1.0, min(timeout, args.deadline - (time.perf_counter() - started) - 20.0))

    if args.work.is_file():
        print(f"error: --work {args.work} is a file; pass a folder", file=sys.stderr)
        return 2
    try:
        shutil.rmtree(args.work, ignore_errors=True)
        args.work.mkdir(parents=True)
        (args.work / WORK_MARK).touch()
        site = args.work / "site"
        install(args.pack / "wheels", site)
        paths = [str(ROOT), str(site), *filter(None, [os.environ.get("PYTHONPATH")])]  # the tree's code first
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "AL_CACHE_DIR": str(args.work / "cache"),
               "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    except (subprocess.CalledProcessError, OSError) as exc:
        print(f"error: installing al and the wheels failed ({type(exc).__name__}: {exc}); expected pip with "
              f"setuptools and the carried {args.pack}/wheels, and a writable --work; see pip's output above",
              file=sys.stderr)
        return 2
    try:
        check_strategies(env)
    except subprocess.CalledProcessError:
        print("error: expected the strategies class_embedding and random to resolve after installing al, they did "
              "not; see the error above", file=sys.stderr)
        return 2
    try:
        minilm = unpack_minilm(args.pack / "minilm", args.work / "minilm")
        csv = unxz(args.pack / "disaster_response_messages.csv.xz", args.work / "disaster_response_messages.csv")
        bert = args.bert or bert_base_shaped(minilm, args.work / "bert-base-shaped", args.smoke)
    except Exception as exc:  # noqa: BLE001 - safetensors, transformers and lzma raise many types: one line
        print(f"error: unpacking the carried model and data failed ({type(exc).__name__}: {exc}); expected the "
              f"{args.pack} folder of benchmarks/gpu_pack.py; pack it again", file=sys.stderr)
        return 2
    print(f"setup: {time.perf_counter() - started:.1f} s", flush=True)

    facts, steps, rounds = machine(), [], []
    if "profile" in args.steps:
        argv = [sys.executable, str(ROOT / "benchmarks" / "bert_step.py"), "--model", str(bert), "--data-path",
                str(csv), "--device", device, "--out", str(args.out)]
        steps.append(timed_step("bert step profile", argv + (["--steps", "8"] if args.smoke else []), env,
                                allowed(args.profile_timeout)))
        report(facts, steps, rounds, args.out)
    if "paper" in args.steps:
        run_dir = args.work / "paper"
        steps.append(timed_step("paper setting", paper_argv(minilm, bert, csv, run_dir, device, args.patience,
                                                            args.smoke), env, allowed(args.paper_timeout)))
        rounds = round_rows(run_dir)
        report(facts, steps, rounds, args.out)
        if (run_dir / "rounds.jsonl").is_file():
            shutil.copy2(run_dir / "rounds.jsonl", args.out / "paper-rounds.jsonl")
    if "peers" in args.steps:
        argv = [sys.executable, str(ROOT / "benchmarks" / "peers.py"), "--rows", "fine-tuned", "--device", device,
                "--model", str(minilm), "--data-path", str(args.pack / "reuters21578.tar.gz"),
                "--out", str(args.out / "peers")]
        argv += ["--quick", "--repeats", "1"] if args.smoke else ["--repeats", str(args.peers_repeats)]
        steps.append(timed_step("peers, fine-tuned row", argv, env, allowed(args.peers_timeout)))
        report(facts, steps, rounds, args.out)
    print("\n" + (args.out / "gpu.md").read_text(), flush=True)
    return 0 if all(step["exit"] == 0 or step["timed_out"] for step in steps) else 1


if __name__ == "__main__":
    sys.exit(main())
