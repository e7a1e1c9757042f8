"""Where one fine-tuning step of ``bert`` spends its time, phase by phase, and what a round pays once.

    python benchmarks/bert_step.py --model DIR --data-path disaster_response_messages.csv --device cuda
    python benchmarks/bert_step.py --tiny --device cpu      # a 2-layer BERT: a check of the script

Built for the speed issue's item 6: on a lent H200, the paper's setting (a model of
bert-base's shape, 15 epochs, bf16 autocast) trained about 210 texts a second, some
ten times less than the GPU's arithmetic allows. This script takes ``BertClassifier``'s
own pieces (its tokenisation, padding, model, loss, AdamW groups and schedule) and times

* **once per fit**: loading the checkpoint and moving it to the device, tokenising the
  training texts, one ``torch.save`` of the weights (what an improving dev epoch writes);
* **per step, phase by phase** (the device synchronised after each phase, so each phase
  is charged its own work): padding and the copy to the device, forward, loss, backward,
  gradient clipping, the optimizer's step, the schedule's step, ``loss.item()``;
* **per step, whole** (no synchronisation inside), as the fit runs it
  (``BertClassifier._train_step``), with AdamW as al builds it (``foreach``, the default)
  and with ``fused=True``, both from the same starting weights;
* **a padded shape's first sight**: batches pad to their longest text, so a fit meets many
  shapes; the first step at a shape can cost more (a kernel plan built for it). Each
  variant (the attention kernel PyTorch picks, cuDNN's, the memory-efficient one, the
  math one; padding to a multiple of 8) runs the same texts twice at a batch size no
  earlier variant used: its first loop sees only new shapes, its second only seen ones;
* the device's own time against the host's: a ``torch.profiler`` table of the steps'
  top operators by host time (written to ``--out``).

Nothing here changes al; every number is a measurement of its code as it is.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


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


def tiny_model(target: Path) -> Path:
    """A 2-layer BERT with MiniLM's tokenizer, random weights (seed 0)."""
    import shutil

    import torch
    from transformers import BertConfig, BertModel

    from al.models import resolve_model

    torch.manual_seed(0)
    BertModel(BertConfig(hidden_size=128, num_hidden_layers=2, num_attention_heads=2,
                         intermediate_size=512)).save_pretrained(target)
    source = resolve_model("all-MiniLM-L6-v2")
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (source / name).is_file():
            shutil.copy2(source / name, target / name)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="a saved transformers encoder (default with --tiny)")
    parser.add_argument("--data-path", default=None, help="Disaster Response's CSV (default: the packaged one)")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--n", type=int, default=400, help="training texts (default 400)")
    parser.add_argument("--steps", type=int, default=30, help="timed steps of each kind (default 30)")
    parser.add_argument("--mixed-precision", default="auto", choices=["auto", "bf16", "fp16", "no"])
    parser.add_argument("--variants", type=int, default=5,
                        help="first-sight variants to run, of: default, cudnn, efficient, math kernels (GPU), "
                        "default padded to a multiple of 8 (default: all)")
    parser.add_argument("--tiny", action="store_true", help="a 2-layer BERT (a check of the script on a CPU)")
    parser.add_argument("--out", type=Path, default=None, help="folder for bert_step.json and the profiler table")
    args = parser.parse_args()

    import numpy as np
    import torch
    from torch import nn
    from transformers import get_linear_schedule_with_warmup

    from al.classifiers.bert import BertClassifier, _param_groups, _pos_weight
    from al.datasets import load_dataset

    work = Path(tempfile.mkdtemp(prefix="al-bert-step-"))
    model = args.model or (tiny_model(work / "tiny") if args.tiny else None)
    if model is None:
        print("error: expected --model DIR or --tiny, got neither; pass a saved encoder", file=sys.stderr)
        return 2
    corpus = load_dataset("disaster", args.data_path)
    train = corpus.splits["train"][: args.n]
    texts = [str(t) for t in corpus.texts[train]]
    Y = corpus.Y[train].toarray().astype(np.float32)

    clf = BertClassifier(model=str(model), device=args.device, mixed_precision=args.mixed_precision,
                         show_progress=False, max_epochs=15)
    clf._check_params()
    clf.device_ = device = torch.device(args.device)
    result: dict[str, Any] = {"device": str(device), "model": str(model), "n": len(texts), "steps": args.steps,
                              "batch_size": clf.batch_size, "autocast": str(clf._autocast_dtype()),
                              "torch": torch.__version__}
    if device.type == "cuda":
        result["gpu"] = torch.cuda.get_device_name(device)
    generator = torch.Generator().manual_seed(0)
    result["load_and_move_s"], _ = timed(lambda: clf._prepare_model(Y.shape[1], generator), device)
    result["n_parameters"] = sum(p.numel() for p in clf.model_.parameters())
    result["tokenize_s"], encodings = timed(lambda: clf._tokenize(texts), device)
    with tempfile.TemporaryFile() as f:
        result["save_weights_s"], _ = timed(lambda: torch.save(clf.model_.state_dict(), f), device)
    initial = {k: v.detach().clone() for k, v in clf.model_.state_dict().items()}

    targets = torch.from_numpy(Y)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=torch.from_numpy(_pos_weight(Y)).to(device))

    def fresh(fused: bool) -> tuple[Any, Any]:
        clf.model_.load_state_dict(initial)
        extra = {"fused": True} if fused else {}
        optimizer = torch.optim.AdamW(_param_groups(clf.model_, clf.weight_decay), lr=clf.learning_rate, **extra)
        total = clf.max_epochs * -(-len(texts) // clf.batch_size)
        return optimizer, get_linear_schedule_with_warmup(optimizer, int(clf.warmup_ratio * total), total)

    batches = [np.arange(start, start + clf.batch_size) % len(texts)
               for start in range(0, clf.batch_size * (args.steps + 3), clf.batch_size)]
    scaler = torch.amp.GradScaler("cuda") if clf._autocast_dtype() == torch.float16 else None
    clf.model_.train()

    # per step, whole, as the fit runs it; the first three steps warm up
    for fused in (False, True):
        if fused and device.type != "cuda":
            continue
        optimizer, scheduler = fresh(fused)
        for idx in batches[:3]:
            clf._train_step(encodings, targets, idx, loss_fn, optimizer, scheduler, scaler)
        sync(device)
        start = time.perf_counter()
        for idx in batches[3:]:
            clf._train_step(encodings, targets, idx, loss_fn, optimizer, scheduler, scaler)
        sync(device)
        result[f"step_s_{'fused' if fused else 'foreach'}"] = (time.perf_counter() - start) / args.steps

    # a padded shape's first sight against its later ones, per attention kernel and padding multiple: each
    # variant runs at a batch size no variant before used, so its first loop sees only shapes new to the process
    from torch.nn.attention import SDPBackend, sdpa_kernel

    backends = {"default": None}
    if device.type == "cuda":
        backends.update(cudnn=SDPBackend.CUDNN_ATTENTION, efficient=SDPBackend.EFFICIENT_ATTENTION,
                        math=SDPBackend.MATH)
    variants = [(name, 1) for name in backends] + [("default", 8)]
    result["first_sight"] = {}
    tokenizer_pad, size = clf.tokenizer_.pad, clf.batch_size - 1
    for name, multiple in variants[: args.variants]:
        rows = [np.arange(start, start + size) % len(texts) for start in range(0, size * args.steps, size)]
        shapes = {(len(r), multiple * -(-max(len(encodings["input_ids"][i]) for i in r) // multiple)) for r in rows}
        clf.tokenizer_.pad = lambda *a, _m=multiple, **k: tokenizer_pad(*a, pad_to_multiple_of=_m, **k)
        optimizer, scheduler = fresh(False)
        clf._train_step(encodings, targets, batches[0], loss_fn, optimizer, scheduler, scaler)  # AdamW's state made
        seconds = []
        for _ in range(2):
            sync(device)
            start = time.perf_counter()
            with sdpa_kernel(backends[name]) if backends[name] is not None else contextlib.nullcontext():
                for idx in rows:
                    clf._train_step(encodings, targets, idx, loss_fn, optimizer, scheduler, scaler)
            sync(device)
            seconds.append((time.perf_counter() - start) / len(rows))
        result["first_sight"][f"{name}, pad to {multiple}"] = {
            "batch_size": size, "distinct_shapes": len(shapes), "step_s_first_sight": seconds[0],
            "step_s_seen": seconds[1]}
        clf.tokenizer_.pad = tokenizer_pad
        size -= 1

    # per step, phase by phase
    optimizer, scheduler = fresh(False)
    phases: dict[str, list[float]] = {k: [] for k in ("pad", "forward", "loss", "backward", "clip", "optimizer",
                                                      "schedule", "item")}
    for i, idx in enumerate(batches):
        t, batch = timed(lambda: clf._pad(encodings, idx), device)
        optimizer.zero_grad(set_to_none=True)
        out = {"pad": t}

        def forward() -> Any:
            with clf._autocast():
                return clf.model_(batch)

        out["forward"], (cls, logits) = timed(forward, device)
        out["loss"], loss = timed(lambda: loss_fn(logits.float(), targets[idx].to(device)), device)
        out["backward"], _ = timed(lambda: loss.backward(), device)
        out["clip"], _ = timed(lambda: nn.utils.clip_grad_norm_(clf.model_.parameters(), 1.0), device)
        out["optimizer"], _ = timed(optimizer.step, device)
        out["schedule"], _ = timed(scheduler.step, device)
        out["item"], _ = timed(loss.item, device)
        if i >= 3:
            for key, value in out.items():
                phases[key].append(value)
    result["phase_s"] = {k: float(np.median(v)) for k, v in phases.items()}
    result["phases_sum_s"] = float(sum(result["phase_s"].values()))
    result["padded_tokens_per_step"] = float(np.mean([len(idx) * max(len(encodings["input_ids"][i]) for i in idx)
                                                      for idx in batches[3:]]))

    # host time against device time, from the profiler
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    optimizer, scheduler = fresh(False)
    for idx in batches[:3]:
        clf._train_step(encodings, targets, idx, loss_fn, optimizer, scheduler, scaler)
    with profile(activities=activities) as prof:
        for idx in batches[3:13]:
            clf._train_step(encodings, targets, idx, loss_fn, optimizer, scheduler, scaler)
        sync(device)
    events = prof.key_averages()
    result["profiled_steps"] = 10
    result["profile_host_s_per_step"] = sum(e.self_cpu_time_total for e in events) / 1e6 / 10
    if device.type == "cuda":
        result["profile_device_s_per_step"] = sum(getattr(e, "self_device_time_total", 0) or 0
                                                  for e in events) / 1e6 / 10
    table = events.table(sort_by="self_cpu_time_total", row_limit=30)

    print(json.dumps(result, indent=1))
    print(table)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "bert_step.json").write_text(json.dumps(result, indent=1) + "\n")
        (args.out / "bert_step_profile.txt").write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
