"""Where one fine-tuning step of ``bert`` spends its time, phase by phase, and what a round pays once.

    python benchmarks/bert_step.py --model DIR --data-path disaster_response_messages.csv --device cuda
    python benchmarks/bert_step.py --tiny --device cpu      # a 2-layer BERT: a check of the script

Built for the speed issue's item 6: on a lent H200, the paper's setting (a model of
bert-base's shape, 15 epochs, bf16 autocast) trained about 210 texts a second, some
ten times less than the GPU's arithmetic allows (RESULTS.md section 12.17). This script
takes ``BertClassifier``'s own pieces (its tokenisation, padding, model, loss, AdamW
groups and schedule) and times, after one untimed pass over every batch (so that the
step timings below meet no shape for the first time):

* **once per fit**: loading the checkpoint and moving it to the device, tokenising the
  training texts, one ``torch.save`` of the weights (what an improving dev epoch writes);
* **per step, whole** (no synchronisation inside), as the fit runs it
  (``BertClassifier._train_step``), with AdamW as al builds it (``foreach``, the default)
  and, on a GPU, with ``fused=True``, both from the same starting weights;
* **per step, phase by phase** (the device synchronised after each phase, so each phase
  is charged its own work): padding and the copy to the device, forward, loss, backward,
  gradient clipping, the optimizer's step, the schedule's step, ``loss.item()``;
* **the host's time against the device's** over 10 steps, from ``torch.profiler`` (its
  totals as its own table sums them; the table of top operators goes to ``--out``);
* **a padded shape's first sight**: batches pad to their longest text, so a fit meets many
  shapes, and the first step at a shape can cost more (a kernel plan built for it). Each
  variant (the attention kernels al's fit allows, on a GPU all but cuDNN's, see
  ``al.device.cudnn_attention_off``; with al's choice set aside, the kernel PyTorch picks,
  cuDNN's, the memory-efficient one, the math one; al's, padding to a multiple of 8) runs
  at a batch size no earlier variant used; each step is timed alone, twice. A step's first
  time less its second, at the steps whose shape is new, is what a new shape costs; at
  repeated shapes it should be near 0.

``bert_step.json`` is rewritten after each part, so a run stopped early keeps the parts
before. A variant whose kernel cannot run on the device is recorded with its error.

Nothing here changes al; every number is a measurement of its code as it is.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from al.cli import ArgumentParser  # noqa: E402
from benchmarks.machine import describe  # noqa: E402


def sync(device: Any) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn: Callable[[], Any], device: Any) -> tuple[float, Any]:
    """Seconds ``fn`` takes, the device synchronised before and after; its result."""
    sync(device)
    start = time.perf_counter()
    out = fn()
    sync(device)
    return time.perf_counter() - start, out


def tiny_model(work: Path) -> Path:
    """gpu_run.py's smoke model: a 2-layer BERT, random weights (seed 0), with MiniLM's tokenizer."""
    from gpu_run import bert_base_shaped  # beside this script

    from al.models import resolve_model

    return bert_base_shaped(resolve_model("all-MiniLM-L6-v2"), work / "tiny", smoke=True)


def main() -> int:
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=None, help="a saved transformers encoder (default with --tiny)")
    parser.add_argument("--data-path", default=None, help="Disaster Response's CSV (default: the packaged one)")
    parser.add_argument("--device", default=None,
                        help="cpu, cuda or cuda:N (default: cuda where torch sees a GPU, else cpu)")
    parser.add_argument("--n", type=int, default=400, help="training texts (default 400)")
    parser.add_argument("--steps", type=int, default=30, help="timed steps of each kind (default 30)")
    parser.add_argument("--mixed-precision", default="auto", choices=["auto", "bf16", "fp16", "no"])
    parser.add_argument("--variants", type=int, default=6,
                        help="how many of the first-sight variants to run, in this order: al's kernels, PyTorch's "
                        "pick, cudnn, efficient, math (these three on a GPU), al's padded to a multiple of 8 (default: "
                        "6, all)")
    parser.add_argument("--tiny", action="store_true", help="a 2-layer BERT (a check of the script on a CPU)")
    parser.add_argument("--out", type=Path, default=None, help="folder for bert_step.json and the profiler table")
    args = parser.parse_args()
    for name in ("n", "steps"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1, got {getattr(args, name)}; give a positive count (default "
                         f"{parser.get_default(name)})")
    if args.variants < 0:
        parser.error(f"--variants must be 0 or more, got {args.variants}; give e.g. --variants 6")
    import torch

    if args.device is None:
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    elif args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error(f"--device {args.device} asked for, but torch sees no GPU here; give --device cpu (or leave "
                     f"--device out)")
    if args.model is not None and not args.model.is_dir():
        parser.error(f"--model {args.model} is no directory; give a folder of a saved transformers encoder, or --tiny")
    if args.data_path is not None and not Path(args.data_path).is_file():  # before a model is built or read
        parser.error(f"--data-path {args.data_path} is no file; give Disaster Response's CSV, or leave it out for the "
                     f"packaged one")
    from al.errors import ALError

    with tempfile.TemporaryDirectory(prefix="al-bert-step-") as work:
        model = args.model or (tiny_model(Path(work)) if args.tiny else None)
        if model is None:
            print("error: expected --model DIR or --tiny, got neither; pass a saved encoder", file=sys.stderr)
            return 2
        try:
            measure(args, model)
        except ALError as exc:  # a model folder without a config.json, data that cannot be read: one line
            print(f"error: {exc}", file=sys.stderr)
            return 2
    return 0


def measure(args: argparse.Namespace, model: Path) -> None:
    """Every measurement of the module docstring; ``bert_step.json`` under ``--out`` is rewritten after each."""
    from unittest import mock

    import numpy as np
    import torch
    from torch import nn
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.profiler import ProfilerActivity, profile
    from transformers import get_linear_schedule_with_warmup

    import al.classifiers.bert as bert
    from al.classifiers.bert import BertClassifier, _param_groups, _pos_weight
    from al.datasets import load_dataset

    corpus = load_dataset("disaster", args.data_path)
    train = corpus.splits["train"][: args.n]
    texts = [str(t) for t in corpus.texts[train]]
    Y = corpus.Y[train].toarray().astype(np.float32)

    clf = BertClassifier(model=str(model), device=args.device, mixed_precision=args.mixed_precision,
                         show_progress=False, max_epochs=15)
    clf._check_params()
    clf.device_ = device = torch.device(args.device)
    result: dict[str, Any] = {"command": "python benchmarks/bert_step.py " + " ".join(sys.argv[1:]),
                              "date": datetime.now().isoformat(timespec="seconds"), "machine": describe(),
                              "device": str(device),
                              "model": "a 2-layer BERT (--tiny)" if args.tiny and args.model is None else str(model),
                              "n": len(texts), "steps": args.steps,
                              "batch_size": clf.batch_size, "autocast": str(clf._autocast_dtype()),
                              "torch": torch.__version__}
    if device.type == "cuda":
        result["gpu"] = torch.cuda.get_device_name(device)

    def write() -> None:
        if args.out is not None:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / "bert_step.json").write_text(json.dumps(result, indent=1) + "\n")

    generator = torch.Generator().manual_seed(0)
    result["load_and_move_s"], _ = timed(lambda: clf._prepare_model(Y.shape[1], generator), device)
    result["n_parameters"] = sum(p.numel() for p in clf.model_.parameters())
    result["tokenize_s"], encodings = timed(lambda: clf._tokenize(texts), device)
    with tempfile.TemporaryFile() as f:
        result["save_weights_s"], _ = timed(lambda: torch.save(clf.model_.state_dict(), f), device)
    initial = {k: v.detach().clone() for k, v in clf.model_.state_dict().items()}
    write()

    targets = torch.from_numpy(Y)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=torch.from_numpy(_pos_weight(Y)).to(device))
    scaler = torch.amp.GradScaler("cuda") if clf._autocast_dtype() == torch.float16 else None

    def fresh(fused: bool = False) -> tuple[Any, Any]:
        """The starting weights again, a new AdamW (al's: ``foreach``, or ``fused``) and schedule."""
        clf.model_.load_state_dict(initial)
        extra = {"fused": True} if fused else {}
        optimizer = torch.optim.AdamW(_param_groups(clf.model_, clf.weight_decay), lr=clf.learning_rate, **extra)
        total = clf.max_epochs * -(-len(texts) // clf.batch_size)
        return optimizer, get_linear_schedule_with_warmup(optimizer, int(clf.warmup_ratio * total), total)

    def step(idx: np.ndarray, optimizer: Any, scheduler: Any) -> None:
        clf._train_step(encodings, targets, idx, loss_fn, optimizer, scheduler, scaler)

    def length(idx: np.ndarray, multiple: int = 1) -> int:
        return multiple * -(-max(len(encodings["input_ids"][i]) for i in idx) // multiple)

    clf.model_.train()
    batches = [np.arange(start, start + clf.batch_size) % len(texts)
               for start in range(0, clf.batch_size * args.steps, clf.batch_size)]
    result["padded_tokens_per_step"] = float(np.mean([len(idx) * length(idx) for idx in batches]))

    # every shape of the batches seen once, untimed: the loops below compare steps, not first sights
    optimizer, scheduler = fresh()
    for idx in batches:
        step(idx, optimizer, scheduler)
    for fused in (False, True):  # per step, whole, as the fit runs it
        if fused and device.type != "cuda":
            continue
        optimizer, scheduler = fresh(fused)
        step(batches[0], optimizer, scheduler)  # AdamW's state made
        seconds, _ = timed(lambda: [step(idx, optimizer, scheduler) for idx in batches], device)
        result[f"step_s_{'fused' if fused else 'foreach'}"] = seconds / len(batches)
    write()

    # per step, phase by phase (fp16: with the loss scaler, as the fit)
    optimizer, scheduler = fresh()
    phases: dict[str, list[float]] = {k: [] for k in ("pad", "forward", "loss", "backward", "clip", "optimizer",
                                                      "schedule", "item")}
    for idx in batches:
        out: dict[str, float] = {}
        out["pad"], batch = timed(lambda: clf._pad(encodings, idx), device)
        optimizer.zero_grad(set_to_none=True)

        def forward() -> Any:
            with clf._forward_kernels():
                return clf.model_(batch)

        out["forward"], (_, logits) = timed(forward, device)
        out["loss"], loss = timed(lambda: loss_fn(logits.float(), targets[idx].to(device)), device)
        out["backward"], _ = timed(lambda: (scaler.scale(loss) if scaler else loss).backward(), device)
        if scaler is not None:
            scaler.unscale_(optimizer)
        out["clip"], _ = timed(lambda: nn.utils.clip_grad_norm_(clf.model_.parameters(), 1.0), device)
        out["optimizer"], _ = timed(lambda: scaler.step(optimizer) if scaler else optimizer.step(), device)
        if scaler is not None:
            scaler.update()
        out["schedule"], _ = timed(scheduler.step, device)
        out["item"], _ = timed(loss.item, device)
        for key, value in out.items():
            phases[key].append(value)
    result["phase_s"] = {k: float(np.median(v)) for k, v in phases.items()}
    result["phases_sum_s"] = float(sum(result["phase_s"].values()))
    write()

    # host time against device time, from the profiler (its totals as its own table sums them)
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    optimizer, scheduler = fresh()
    step(batches[0], optimizer, scheduler)
    profiled = batches[: min(10, len(batches))]
    with profile(activities=activities) as prof:
        for idx in profiled:
            step(idx, optimizer, scheduler)
        sync(device)
    events = prof.key_averages()
    result["profiled_steps"] = len(profiled)
    result["profile_host_s_per_step"] = sum(e.self_cpu_time_total for e in events) / 1e6 / len(profiled)
    if device.type == "cuda":
        on_device = [e for e in events if e.device_type != torch.autograd.DeviceType.CPU
                     and not getattr(e, "is_user_annotation", False)]
        result["profile_device_s_per_step"] = sum(e.self_device_time_total for e in on_device) / 1e6 / len(profiled)
    table = events.table(sort_by="self_cpu_time_total", row_limit=30)
    if args.out is not None:
        (args.out / "bert_step_profile.txt").write_text(table + "\n")
    write()

    # a padded shape's first sight against its second: each step timed alone, twice, at a batch size no earlier
    # variant used; a variant's first step (its kernels' first use) is untimed
    # "al": the fit's own kernels; every other variant sets al's choice aside, so PyTorch (or sdpa_kernel) picks
    backends: dict[str, Any] = {"al": None, "pytorch": None}
    if device.type == "cuda":
        backends.update(cudnn=SDPBackend.CUDNN_ATTENTION, efficient=SDPBackend.EFFICIENT_ATTENTION,
                        math=SDPBackend.MATH)
    variants = [(name, 1) for name in backends] + [("al", 8)]
    pytorch_picks = mock.patch.object(bert, "cudnn_attention_off", lambda device: contextlib.nullcontext())
    result["first_sight"] = {}
    tokenizer_pad, size = clf.tokenizer_.pad, clf.batch_size - 1
    for name, multiple in variants[: args.variants]:
        rows = [np.arange(start, start + size) % len(texts) for start in range(0, size * args.steps, size)]
        clf.tokenizer_.pad = lambda *a, _m=multiple, **k: tokenizer_pad(*a, pad_to_multiple_of=_m, **k)
        label = f"{name}, pad to {multiple}"
        try:
            with (pytorch_picks if name != "al" else contextlib.nullcontext()), \
                    (sdpa_kernel(backends[name]) if backends[name] is not None else contextlib.nullcontext()):
                optimizer, scheduler = fresh()
                step(batches[0], optimizer, scheduler)
                passes = [[timed(lambda: step(idx, optimizer, scheduler), device)[0] for idx in rows]
                          for _ in range(2)]
        except RuntimeError as exc:  # a kernel that cannot run here (cuDNN's attention in fp32, an older GPU)
            result["first_sight"][label] = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0]}"}
            continue
        finally:
            clf.tokenizer_.pad = tokenizer_pad
            size -= 1
        seen_before = {(len(batches[0]), length(batches[0], multiple))}
        new = []
        for idx in rows:
            shape = (len(idx), length(idx, multiple))
            new.append(shape not in seen_before)
            seen_before.add(shape)
        first, second = np.array(passes[0]), np.array(passes[1])
        mask = np.array(new)
        result["first_sight"][label] = {
            "batch_size": len(rows[0]), "steps": len(rows), "new_shapes": int(mask.sum()),
            "step_s_seen": float(np.median(second)),
            "step_s_at_a_new_shape_first": float(np.median(first[mask])) if mask.any() else None,
            "extra_s_per_new_shape": float(np.median(first[mask] - second[mask])) if mask.any() else None,
            "extra_s_at_a_repeated_shape": float(np.median(first[~mask] - second[~mask])) if (~mask).any() else None,
        }
        write()
    print(json.dumps(result, indent=1))
    print(table)


if __name__ == "__main__":
    sys.exit(main())
