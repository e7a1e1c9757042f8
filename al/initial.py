"""Cold starts: the first labeled set chosen without labels.

Pure functions of embeddings (and, for :func:`label_name_start`, of embedded
label descriptions); the engine and the CLI decide when to call them
(``initial_strategy``: ``random``, ``label_names`` or ``kmeans``).

``label_names`` is ours: before any text is labeled there is no class
centroid (Wertz et al. 2022), so the embedded label name or description stands
in for it. ``kmeans`` is the clustering cold start that Yuan et al. (2020)
compare against (BERT-KM: k-means on the embeddings, the text nearest each centre).

References
----------
Yuan, Lin, Boyd-Graber, "Cold-start Active Learning through Self-supervised
Language Modeling", EMNLP 2020.
Wertz, Bogdanova, Fellbaum, Kurz, "Evaluating Pre-Trained Sentence-BERT with
Class Embeddings in Active Learning for Multi-Label Text Classification",
AACL-IJCNLP 2022.
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from al.errors import ConfigError, DataError, and_more, did_you_mean, spelled


def _check_size(size: int, n_pool: int) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 0:
        raise ConfigError(f"the initial set size must be a non-negative integer, got {spelled(size)}")
    if size > n_pool:
        raise ConfigError(f"the initial set ({size}) cannot be larger than the pool ({n_pool} texts); lower --initial")
    return int(size)


def _unit_rows(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return np.divide(X, norms, out=np.zeros_like(X), where=norms > 0)


def label_name_start(label_vectors: np.ndarray, pool_embeddings: np.ndarray, size: int) -> np.ndarray:
    """Round-robin over labels, each taking its nearest not-yet-taken text by cosine similarity.

    Label 0 takes the pool text most similar to its vector, then label 1, ...,
    then label 0 its next most similar text not taken yet, and so on until
    ``size`` texts are taken. Ties in similarity go to the lower pool index. A
    zero vector has similarity 0 to everything.

    Parameters
    ----------
    label_vectors : ndarray of shape (n_labels, dim)
        Embeddings of the label names or descriptions (see :func:`load_label_descriptions`).
    pool_embeddings : ndarray of shape (n_pool, dim)
    size : int
        Number of texts to take, at most n_pool.

    Returns
    -------
    ndarray of int64, shape (size,): distinct pool indices in the order taken.

    Raises
    ------
    ConfigError
        If ``size`` is negative or larger than the pool, or the dimensions differ.
    """
    labels, pool = np.asarray(label_vectors), np.asarray(pool_embeddings)
    if labels.ndim != 2 or pool.ndim != 2 or labels.shape[1] != pool.shape[1] or len(labels) == 0:
        raise ConfigError(
            f"label vectors {labels.shape} and pool embeddings {pool.shape} must be matrices of one dimension, "
            f"with at least one label; embed both with the same model"
        )
    size = _check_size(size, len(pool))
    similarity = _unit_rows(pool) @ _unit_rows(labels).T  # (n_pool, n_labels)
    # per label, the pool in decreasing similarity; a stable sort keeps ties in index order
    order = np.argsort(-similarity, axis=0, kind="stable")
    taken = np.zeros(len(pool), dtype=bool)
    next_rank = np.zeros(len(labels), dtype=np.int64)
    picked = np.empty(size, dtype=np.int64)
    for k in range(size):
        j = k % len(labels)
        while taken[order[next_rank[j], j]]:
            next_rank[j] += 1
        picked[k] = order[next_rank[j], j]
        taken[picked[k]] = True
    return picked


def kmeans_start(pool_embeddings: np.ndarray, size: int, seed: int) -> np.ndarray:
    """One text per k-means cluster: the pool text nearest each centre.

    scikit-learn's ``KMeans(n_clusters=size, n_init=1, random_state=seed)`` on
    the embeddings; for centre 0, 1, ... in turn, the nearest (Euclidean) pool
    text that no earlier centre took (ties: the lower pool index), so duplicate
    nearest texts fall to the next-nearest.

    Parameters
    ----------
    pool_embeddings : ndarray of shape (n_pool, dim)
    size : int
        Number of clusters and of texts, at most n_pool.
    seed : int

    Returns
    -------
    ndarray of int64, shape (size,): distinct pool indices, in centre order.
    """
    pool = np.asarray(pool_embeddings)
    if pool.ndim != 2:
        raise ConfigError(f"pool embeddings must be a matrix (n_pool, dim), got shape {pool.shape}")
    size = _check_size(size, len(pool))
    if size == 0:
        return np.empty(0, dtype=np.int64)
    from sklearn.cluster import KMeans

    X = np.asarray(pool, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Number of distinct clusters")  # duplicates: handled below
        centres = KMeans(n_clusters=size, n_init=1, random_state=seed).fit(X).cluster_centers_
    return nearest_distinct(centres, X)


def nearest_distinct(centres: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """For centre 0, 1, ... in turn, the nearest (Euclidean) pool text not taken by an earlier centre.

    Ties in distance go to the lower pool index.

    Parameters
    ----------
    centres : ndarray of shape (k, dim), k <= n_pool
    pool : ndarray of shape (n_pool, dim)

    Returns
    -------
    ndarray of int64, shape (k,): distinct pool indices, in centre order.
    """
    X = np.asarray(pool, dtype=np.float64)
    centres = np.asarray(centres, dtype=np.float64)
    k = len(centres)
    sq = np.einsum("ij,ij->i", X, X)
    d2 = np.maximum(sq[None, :] - 2.0 * centres @ X.T + np.einsum("ij,ij->i", centres, centres)[:, None], 0.0)
    # a centre's nearest untaken text is among its k nearest (earlier centres took fewer than k)
    near = np.argpartition(d2, k - 1, axis=1)[:, :k] if k < len(X) else np.tile(np.arange(len(X)), (k, 1))
    taken = np.zeros(len(X), dtype=bool)
    picked = np.empty(k, dtype=np.int64)
    for c in range(k):
        candidates = near[c][np.lexsort((near[c], d2[c, near[c]]))]  # by distance, then index
        picked[c] = candidates[~taken[candidates]][0]
        taken[picked[c]] = True
    return picked


def label_text(name: str) -> str:
    """A label name as text: underscores and hyphens become spaces (``medical_help`` -> ``medical help``)."""
    return " ".join(name.replace("_", " ").replace("-", " ").split())


class _RepeatedKey(Exception):
    """A mapping of a YAML file names one key twice."""


def _keys_as_written() -> type:
    """A safe YAML loader whose mapping keys are the text written (``1:``, ``yes:`` are the strings "1", "yes"),
    values read with YAML 1.2's booleans and numbers (a description ``no`` is text, as in every settings file)."""
    import yaml

    from al.config import yaml12_scalars

    class KeysAsWritten(yaml.SafeLoader):
        pass

    def mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict:
        loader.flatten_mapping(node)
        out: dict = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else repr(loader.construct_object(key_node))
            if key in out:
                raise _RepeatedKey(key)
            out[key] = loader.construct_object(value_node, deep=True)
        return out

    KeysAsWritten.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    return yaml12_scalars(KeysAsWritten)


def load_label_descriptions(path: str | Path, label_names: Sequence[str],
                            left_out_labels: Sequence[str] = ()) -> dict[str, str]:
    """Label -> the text to embed for it, from a YAML mapping; labels it does not name fall back to their name.

    The file maps label names to descriptions, e.g. ``money-fx: foreign exchange
    markets and currencies``. A label the file does not mention gets
    :func:`label_text` of its name.

    Parameters
    ----------
    path : YAML file
    label_names : the run's labels
    left_out_labels : labels of the data set the run left out (:attr:`al.datasets.Corpus.left_out_labels`): the
        file may describe them (one file for every label of a data set), and they are not read

    Each key is read as it is written (a label named ``1``, ``yes`` or ``null``
    is that text, not YAML's number, boolean or null).

    Returns
    -------
    dict mapping every name of ``label_names``, in order, to a non-empty string

    Raises
    ------
    ConfigError
        If the file is missing, a directory or not UTF-8 text.
    DataError
        If it is not a YAML mapping, names a label the data set does not have
        or one label twice, or gives a value that is not a non-empty string.
    """
    import yaml

    from al.io import read_text

    path = Path(path)
    text = read_text(path, "label descriptions file", "a YAML file mapping label -> text")
    try:
        loaded = yaml.load(text, Loader=_keys_as_written())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = f": {exc.problem}" if getattr(exc, "problem", None) else ""
        raise DataError(f"label descriptions file {str(path)!r} is not valid YAML{where}{problem} "
                        f"({type(exc).__name__}); expected a mapping label -> text") from None
    except _RepeatedKey as exc:
        raise DataError(f"label descriptions file {str(path)!r} describes {exc.args[0]!r} twice; "
                        f"describe each label once") from None
    if loaded is None:
        loaded = {}
    if not isinstance(loaded, dict):
        raise DataError(f"label descriptions file {str(path)!r} holds a {type(loaded).__name__}; "
                        f"expected a mapping label -> text")
    names, left_out = list(label_names), set(left_out_labels)
    unknown = sorted(str(k) for k in loaded if k not in names and k not in left_out)
    if unknown:
        known = names + sorted(left_out)
        others = f" (and {len(left_out)} the run left out)" if left_out else ""
        raise DataError(f"label descriptions file {str(path)!r} names unknown label(s) {', '.join(unknown)}"
                        f"{did_you_mean(unknown, known)}; the run's labels: {', '.join(names)}{others}")
    bad = [str(k) for k, v in loaded.items() if not isinstance(v, str) or not v.strip()]
    if bad:
        raise DataError(f"label descriptions file {str(path)!r}: the value of {', '.join(bad)} is not a non-empty "
                        f"string; write each description as text")
    loaded = {k: v for k, v in loaded.items() if k in names}  # descriptions of left-out labels are not read
    missing = [name for name in names if name not in loaded]
    if missing:
        import warnings

        warnings.warn(f"label descriptions file {str(path)!r} describes {len(names) - len(missing)} of the run's "
                      f"{len(names)} labels; {', '.join(missing[:5])}{and_more(len(missing), 5)} take"
                      f"{'s' if len(missing) == 1 else ''} {'its' if len(missing) == 1 else 'their'} name instead",
                      UserWarning, stacklevel=2)
    return {name: loaded[name].strip() if name in loaded else label_text(name) for name in names}
