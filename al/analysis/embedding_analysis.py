"""The embedding-space analysis behind ``python -m al.analyze``: numbers, figures, summary.

For several labeled-set sizes, how class centroids of sentence embeddings
relate to the texts of their class (see :func:`analyze_pool`). Output
directory::

    analysis.json          every number (settings, per size: diagnostics, PCA variance, timings)
    proximity.png          observed vs chance counts near each centroid, all sizes
    proximity-<space>.png  the same in the fitted space (with --space)
    margins-<size>.png     own vs other centroid distance per label (Figures 3-4)
    pca-<size>.png         2-D PCA of labeled texts and centroids (Figures 5-6)
    summary.md             tables, figure links and a plain reading of the numbers

With a task-specific space (``python -m al.analyze --space cea``), each size
also has ``adapted``: the same diagnostics in the space fitted on that
labeled set, ``pca-<space>-<size>.png`` and ``margins-<space>-<size>.png``,
and ``held_out``: embedding-space quality of unlabeled texts (never seen by
the space) in both spaces; summary.md puts the two spaces side by side.

All files are written atomically (:mod:`al.io`).

References
----------
Wertz et al., "Evaluating Pre-Trained Sentence-BERT with Class Embeddings in
Active Learning for Multi-Label Text Classification", AACL-IJCNLP 2022, sec. 5.
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np
import scipy.sparse as sp

from al.analysis.curves import counted
from al.analysis.diagnostics import diagnostics
from al.analysis.margins import MIN_MARGIN_TEXTS, centroid_margins, mean_margin, plot_margins, shuffled_margins
from al.analysis.pca import pca_projection, plot_pca
from al.analysis.proximity import plot_proximity
from al.analysis.quality import TEMPERATURES, check_pool, embedding_quality, json_float, whole_number
from al.centroids import class_centroids
from al.cli import check_own_folder
from al.errors import ConfigError
from al.progress import heartbeat
from al.io import atomic_file, write_atomic

if TYPE_CHECKING:
    from matplotlib.figure import Figure

JSON_FILE = "analysis.json"
SUMMARY_FILE = "summary.md"
#: Below this many labeled texts per primary label, the reading calls no verdict on separation (k-means on a
#: handful of texts recovers them trivially).
MIN_TEXTS_PER_CLUSTER = 5
#: A soft nearest neighbour loss at most this share of its uniform value reads as neighbours that mostly share a
#: label, whatever the clustering scores of the rarest labels say.
NEIGHBOURS_APART = 0.25
#: A median over label-size pairs of how far each ratio went from chance (1) to its ceiling, at least this, is read
#: as "near the ceiling": under a low ceiling (a label on much of the pool) a ratio of 1.49 can be every text the
#: k nearest could carry. Only pairs whose ceiling is at least 1 + MIN_ROOM count (a ratio of 1.01 under a ceiling
#: of 1.01 is chance).
NEAR_CEILING = 0.8
MIN_ROOM = 0.1
#: A median ceiling below this: labels on a large share of the unlabeled texts, chance near the most a ratio can be.
LOW_CEILING = 1.5
#: Under a low ceiling, a median reach (the share of the way from chance to the ceiling) of at most this is read
#: as "no more than chance" (a negative one is below it).
AT_CHANCE = 0.05
#: k at this share or more of the unlabeled texts: the reading says the k nearest are much of the pool.
LARGE_K_SHARE = 0.5

MULTI_LABEL_RULES = (
    "A text with several labels counts for each of them in the centroids, the proximity counts and the "
    "margins, and is drawn once per label in the PCA. Soft nearest neighbour loss: two texts are of the same "
    "class when they share at least one label, and texts with no label are one class of their own (anchors "
    "with no other text of their class are left out). Silhouette, "
    "Davies-Bouldin, Calinski-Harabasz and k-means agreement: each text counts once, under its primary "
    "label, the rarest of its labels in the labeled set."
)


def earlier_analysis(out: Path) -> dict | None:
    """The ``analysis.json`` an earlier analysis left in ``out``, or None (none, or not readable as one)."""
    try:
        earlier = json.loads((out / JSON_FILE).read_text())
    except (OSError, ValueError):
        return None
    return earlier if isinstance(earlier, dict) else None


#: The figures an analysis draws: an analysis stopped before its ``analysis.json`` leaves some of them.
ANALYSIS_FIGURE = re.compile(r"proximity(-[\w.-]+)?\.png|(margins|pca)-([\w.-]+-)?\d+\.png")


def check_analysis_dir(out: Path, flag: str = "--out") -> None:
    """Refuse, before any work, an output folder (``flag``: ``--out``, or :func:`analyze_pool`'s ``out``) that holds
    files no analysis wrote (a user's notes, a run, a report): a new or empty directory, one an earlier analysis
    wrote (its ``analysis.json``; that analysis is then replaced), or one holding only an analysis's figures (one
    stopped before it ended). Hidden files (``.DS_Store``) do not count.

    Raises
    ------
    ConfigError
        One line naming a few of the files found.
    """
    if not out.is_dir() or earlier_analysis(out) is not None:
        return
    check_own_folder(out, flag, "analysis", "al.analyze", lambda name: bool(ANALYSIS_FIGURE.fullmatch(name)))


def labeled_splits(n_pool: int, sizes: Sequence[int], seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(labeled, unlabeled) pool positions per size: prefixes of one seeded permutation.

    A larger labeled set contains every smaller one, so differences between
    sizes come from the added texts, not from a fresh draw.
    """
    order = np.random.default_rng(seed).permutation(n_pool)
    return [(np.sort(order[:s]), np.sort(order[s:])) for s in sizes]


def check_sizes(sizes: Sequence[int], n_pool: int, k: int, python: bool = False) -> list[int]:
    """Sorted distinct sizes, each at least 2 and below the pool size; ``k`` positive and below the unlabeled
    texts each size leaves (the k nearest would be all of them, and every ratio to chance 1 by construction).
    Errors name ``--sizes`` and ``--k``, or with ``python`` :func:`analyze_pool`'s ``sizes=`` and ``k=``."""
    sizes_name, k_name = ("sizes", "k") if python else ("--sizes", "--k")
    if not sizes:
        raise ConfigError(f"{sizes_name} needs at least one labeled-set size")
    if k < 1:
        raise ConfigError(f"{k_name} must be a positive integer, got {k}")
    for s in sizes:
        if s < 2:
            raise ConfigError(f"{sizes_name}: each labeled-set size must be at least 2, got {s}")
        if s >= n_pool:
            raise ConfigError(
                f"{sizes_name}: {s} leaves no unlabeled text in a pool of {n_pool} texts; give sizes below {n_pool}"
            )
    largest = max(sizes)
    if k >= n_pool - largest:
        raise ConfigError(
            f"{'k=' if python else '--k '}{k} searches every one of the {n_pool - largest} unlabeled texts left at "
            f"|L| = {largest} (pool of {n_pool}): every centroid would find all of them and its ratio to chance "
            f"would be 1 by construction; give {k_name} below {n_pool - largest}"
            + (f" or sizes below {n_pool - k}" if n_pool - k > 2 else "")
        )
    return sorted(set(int(s) for s in sizes))


def analyze_pool(
    embeddings: np.ndarray,
    Y: sp.spmatrix | np.ndarray,
    label_names: Sequence[str],
    sizes: Sequence[int],
    k: int = 100,
    seed: int = 0,
    out: str | Path | None = None,
    temperatures: Sequence[float] = TEMPERATURES,
    meta: dict[str, Any] | None = None,
    space: Callable[[np.ndarray, np.ndarray, int], np.ndarray] | None = None,
    space_name: str = "adapted",
    held_out: int = 2000,
) -> dict[str, Any]:
    """Run the analysis for each labeled-set size; write the report when ``out`` is given.

    Parameters
    ----------
    embeddings : ndarray of shape (n_pool, dim)
        Sentence embeddings of the pool texts.
    Y : (sparse) matrix of shape (n_pool, n_labels), 0/1
        Gold labels of the pool: of the labeled texts to build centroids, of
        the unlabeled texts only to count (this is an analysis, not a strategy).
    label_names : sequence of str, length n_labels
    sizes : sequence of int
        Labeled-set sizes; each labeled set is a seeded random sample of the
        pool (see :func:`labeled_splits`), the rest is unlabeled.
    k : int
        Unlabeled texts searched around each centroid.
    seed : int
        Seeds the samples and k-means.
    out : path or None
        Directory for ``analysis.json``, the PNG figures and ``summary.md``.
    temperatures : sequence of float
        Temperatures of the soft nearest neighbour loss.
    meta : dict or None
        Settings to record (dataset, model, ...); its ``seconds`` (a dict) is
        extended with the time of the analysis.
    space : callable (labeled pool positions, their labels (n_labeled, n_labels), seed) -> ndarray (n_pool, dim'), optional
        Fits a task-specific space on the labeled set alone and maps the whole
        pool into it; each size is then analysed in both spaces. It may return
        ``(ndarray, facts)`` instead: what the fit reports (its loss in the first
        and last epoch), recorded as the size's ``adapted["fit"]``.
    space_name : str
        What the report calls the fitted space (``cea``, ...).
    held_out : int
        Unlabeled texts (a seeded sample) whose quality is measured in both
        spaces: texts the space was not fitted on.

    Returns
    -------
    dict, the content of ``analysis.json``.
    """
    label_names = list(label_names)
    embeddings = np.asarray(embeddings)
    Yd = check_pool(embeddings, Y, label_names)
    started = time.perf_counter()
    k = whole_number(k, "k", "the unlabeled texts searched around each centroid, k=100 say")
    sizes = check_sizes([whole_number(size, "sizes", "each a labeled-set size, sizes=[100, 500] say")
                         for size in np.atleast_1d(sizes)], len(embeddings), k, python=True)
    out = Path(out) if out is not None else None
    if out is not None:
        check_analysis_dir(out, "out")
    result: dict[str, Any] = {
        **(meta or {}),
        "pool_size": int(len(embeddings)),
        "label_names": label_names,
        "pool_label_counts": dict(zip(label_names, Yd.sum(axis=0).astype(int).tolist())),
        "k": k,
        "seed": seed,
        "temperatures": [float(t) for t in temperatures],
        "multi_label_rules": MULTI_LABEL_RULES,
        **({"held_out": int(held_out)} if space is not None else {}),
        "sizes": [],
        "figures": {},
    }
    for size, (labeled, unlabeled) in zip(sizes, labeled_splits(len(embeddings), sizes, seed)):
        X, Yl = embeddings[labeled], Yd[labeled]
        t = time.perf_counter()
        with heartbeat(f"analysing |L| = {size} (its pairwise distances grow with its square)", 5.0, 15.0):
            entry = {"size": size, **diagnostics(X, Yl, embeddings[unlabeled], Yd[unlabeled], label_names,
                                                 k=k, temperatures=temperatures, seed=seed),
                     "labeled": labeled.tolist()}  # rows of the pool: every figure can be recomputed from them
            entry["margins_shuffled"] = shuffled_margins(X, Yl, label_names, seed)
        centroids, _ = class_centroids(X, Yl)
        projection = pca_projection(X, centroids)
        entry["pca"] = {"explained_variance_ratio": [json_float(v) for v in projection.explained_variance_ratio]}
        entry["seconds"] = {"diagnostics": round(time.perf_counter() - t, 3)}
        if out is not None:
            t = time.perf_counter()
            margins = centroid_margins(X, Yl, centroids)
            entry["figures"] = {
                "margins": save_figure(plot_margins(
                    margins, label_names, title=f"Cosine distance of labeled texts to class centroids, |L| = {size}"),
                    out / f"margins-{size}.png").name,
                "pca": save_figure(plot_pca(
                    projection, Yl, label_names,
                    title=f"PCA of {size} labeled texts and their class centroids (large outlined markers)"),
                    out / f"pca-{size}.png").name,
            }
            entry["seconds"]["figures"] = round(time.perf_counter() - t, 3)
        if space is not None:
            t = time.perf_counter()
            adapted, fit = space(labeled, Yd[labeled], seed), {}
            if isinstance(adapted, tuple):
                adapted, fit = adapted
            adapted = np.asarray(adapted)
            if adapted.ndim != 2 or len(adapted) != len(embeddings) or not np.isfinite(adapted).all():
                what = f"shape {adapted.shape}" if adapted.ndim != 2 or len(adapted) != len(embeddings) else \
                    "NaN or infinity"
                raise ConfigError(f"analyze_pool's space returned {what} at |L| = {size}; expected finite vectors of "
                                  f"the whole pool, shape ({len(embeddings)}, dim): map every pool text, not the "
                                  f"labeled ones alone")
            fit_seconds = time.perf_counter() - t
            with heartbeat(f"analysing |L| = {size} in the {space_name} space", 5.0, 15.0):
                entry["adapted"] = _space_entry(adapted, labeled, unlabeled, Yd, label_names, k, temperatures, seed,
                                                out, size, space_name)
            entry["adapted"]["fit"] = dict(fit or {})
            entry["adapted"]["seconds"]["fit"] = round(fit_seconds, 3)
            sample = np.sort(np.random.default_rng([seed, size]).choice(
                unlabeled, min(held_out, len(unlabeled)), replace=False))
            with heartbeat(f"measuring {len(sample)} held-out texts in both spaces at |L| = {size}", 5.0, 15.0):
                entry["held_out"] = {
                    "n_texts": int(len(sample)),
                    "pretrained": embedding_quality(embeddings[sample], Yd[sample], temperatures, seed),
                    space_name: embedding_quality(adapted[sample], Yd[sample], temperatures, seed),
                }
        result["sizes"].append(entry)
    if space is not None:
        result["space"] = space_name
    result["seconds"] = {**result.pop("seconds", {}), "analysis": round(time.perf_counter() - started, 3)}
    if out is not None:
        observed, expected = proximity_matrices(result)
        result["figures"]["proximity"] = save_figure(plot_proximity(
            sizes, observed, expected, label_names, k, possible=per_label(result, "proximity", "possible")),
            out / "proximity.png").name
        if space is not None:
            fitted = {**result, "sizes": [e["adapted"] for e in result["sizes"]]}
            observed, expected = proximity_matrices(fitted)
            result["figures"][f"proximity_{space_name}"] = save_figure(plot_proximity(
                sizes, observed, expected, label_names, k, possible=per_label(fitted, "proximity", "possible"),
                title=f"Unlabeled texts nearest each class centroid that carry its label (k = {k})\n"
                      f"in the {space_name} space fitted on each labeled set"),
                out / f"proximity-{space_name}.png").name
        write_report(result, out)
    return result


def _space_entry(adapted: np.ndarray, labeled: np.ndarray, unlabeled: np.ndarray, Yd: np.ndarray,
                 label_names: list[str], k: int, temperatures: Sequence[float], seed: int, out: Path | None,
                 size: int, space_name: str) -> dict[str, Any]:
    """The diagnostics of one labeled set in a fitted space (proximity over the unlabeled texts only)."""
    X, Yl = adapted[labeled], Yd[labeled]
    t = time.perf_counter()
    entry = diagnostics(X, Yl, adapted[unlabeled], Yd[unlabeled], label_names, k=k, temperatures=temperatures,
                        seed=seed)
    entry["margins_shuffled"] = shuffled_margins(X, Yl, label_names, seed)
    centroids, _ = class_centroids(X, Yl)
    projection = pca_projection(X, centroids)
    entry["pca"] = {"explained_variance_ratio": [json_float(v) for v in projection.explained_variance_ratio]}
    entry["seconds"] = {"diagnostics": round(time.perf_counter() - t, 3)}
    if out is not None:
        margins = centroid_margins(X, Yl, centroids)
        entry["figures"] = {
            "margins": save_figure(plot_margins(
                margins, label_names, title=f"Cosine distance to class centroids in the {space_name} space, "
                f"|L| = {size}"), out / f"margins-{space_name}-{size}.png").name,
            "pca": save_figure(plot_pca(
                projection, Yl, label_names, title=f"PCA of {size} labeled texts in the {space_name} space"),
                out / f"pca-{space_name}-{size}.png").name,
        }
    return entry


def comparison_table(result: dict[str, Any]) -> str:
    """Markdown: per size, the pretrained space and the fitted one side by side."""
    name = result["space"]
    measured = any(_shuffled(e) for e in result["sizes"])  # an analysis written before it was measured: none
    head = ["labeled", "space", "proximity ratio, median over labels (mean)",
            f"mean margin{' (labels shuffled)' if measured else ''}, labeled", "SNNL T=1 (labeled)",
            "silhouette (labeled)", "SNNL T=1 (held out)", "silhouette (held out)", "k-means NMI (held out)",
            "ARI (held out)"]
    lines = ["| " + " | ".join(head) + " |", "|---:|---|" + "---:|" * (len(head) - 2)]
    for e in result["sizes"]:
        for label, d, h in (("pretrained", e, e["held_out"]["pretrained"]), (name, e["adapted"], e["held_out"][name])):
            q = d["quality"]
            t1 = next((v for t, v in q["snnl"].items() if float(t) == 1.0), None)
            h1 = next((v for t, v in h["snnl"].items() if float(t) == 1.0), None)
            lines.append("| " + " | ".join([
                str(e["size"]), label, f"{_fmt(median_ratio(d), 2)} ({_fmt(d['summary']['mean_ratio'], 2)})",
                _fmt(mean_margin(d["margins"])) + (f" ({_fmt(_shuffled(d).get('mean_margin'))})" if measured else ""),
                _fmt(t1), _fmt(q["silhouette"]), _fmt(h1), _fmt(h["silhouette"]), _fmt(h["kmeans"]["nmi"]),
                _fmt(h["kmeans"]["ari"])]) + " |")
    return "\n".join(lines)


def median_ratio(entry: dict[str, Any]) -> float | None:
    """The median over labels of one size's proximity ratios (labels with a ratio), or None: the reading's figure,
    where ``summary.mean_ratio`` is their mean, which a rare label's ratio can lead."""
    ratios = [p["ratio"] for p in entry["proximity"].values() if p.get("ratio") is not None]
    return float(np.median(ratios)) if ratios else None


def proximity_matrices(result: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Observed and chance counts, each of shape (n_sizes, n_labels), NaN for missing."""
    return per_label(result, "proximity", "observed"), per_label(result, "proximity", "expected")


def per_label(result: dict[str, Any], section: str, key: str) -> np.ndarray:
    """``result["sizes"][s][section][label][key]`` as an array of shape (n_sizes, n_labels), None -> NaN."""
    rows = [[e[section][name][key] for name in result["label_names"]] for e in result["sizes"]]
    return np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=float).reshape(
        len(rows), len(result["label_names"]))


def write_report(result: dict[str, Any], out: str | Path) -> None:
    """Write ``analysis.json`` and ``summary.md`` into ``out``, atomically."""
    out = Path(out)
    write_atomic(out / JSON_FILE, json.dumps(_json_ready(result), indent=1, ensure_ascii=False, allow_nan=False)
                 + "\n")
    write_atomic(out / SUMMARY_FILE, render_summary(result))


def _json_ready(value: Any) -> Any:
    """``value`` with every float that is not finite as None (JSON has no NaN): a space's ``fit`` facts, say, a
    loss that diverged."""
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _json_ready(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    return value


def save_figure(fig: "Figure", path: str | Path) -> Path:
    """Write ``fig`` as a PNG atomically (:func:`al.io.atomic_file`); returns ``path``."""
    path = Path(path)
    with atomic_file(path, "wb") as f:
        fig.savefig(f, format="png")
    return path


# -- summary ----------------------------------------------------------------------------------------------


def _fmt(x: float | None, digits: int = 3) -> str:
    """``x`` to ``digits`` places, a value that rounds to zero as ``0.000`` (never ``-0.000``); None as a dash."""
    if x is None:
        return "–"
    shown = f"{x:.{digits}f}"
    return shown[1:] if shown.startswith("-") and float(shown) == 0 else shown


def _cell(text: str) -> str:
    """``text`` as one Markdown table cell: a ``|`` in a label's name would end the cell."""
    return text.replace("\\", "\\\\").replace("|", "\\|")


def proximity_table(result: dict[str, Any]) -> str:
    """Markdown: per size and label, ``observed / chance (ratio, at most its ceiling)``."""
    names = result["label_names"]
    lines = ["| labeled | " + " | ".join(map(_cell, names)) + " |", "|---:|" + "---:|" * len(names)]
    for e in result["sizes"]:
        cells = []
        for n in names:
            p = e["proximity"][n]
            cells.append("no centroid" if p["observed"] is None else
                         f"{p['observed']} / {p['expected']:.1f} ({_fmt(p['ratio'], 2)}, at most "
                         f"{_fmt(p['ceiling'], 2)})")
        lines.append(f"| {e['size']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def margins_table(result: dict[str, Any]) -> str:
    """Markdown: per label, own / other / margin (and with the labels shuffled, where measured) for each size; then
    the mean margins."""
    names = result["label_names"]
    sizes = [e["size"] for e in result["sizes"]]
    measured = any(_shuffled(e) for e in result["sizes"])  # an analysis written before it was measured: none

    def shuffled(value: float | None) -> str:
        return f" ({_fmt(value)})" if measured else ""

    head = "| label | " + " | ".join(f"own / other / margin{' (labels shuffled)' if measured else ''}, {s} labeled"
                                     for s in sizes) + " |"
    lines = [head, "|---|" + "---:|" * len(sizes)]
    for n in names:
        cells = [f"{_fmt(e['margins'][n]['own'])} / {_fmt(e['margins'][n]['other'])} / "
                 f"{_fmt(e['margins'][n]['margin'])}{shuffled(_shuffled(e).get('margin', {}).get(n))}"
                 + (" (1 text)" if e["margins"][n].get("n_texts") == 1 else "") for e in result["sizes"]]
        lines.append(f"| {_cell(n)} | " + " | ".join(cells) + " |")
    means = [f"{_fmt(mean_margin(e['margins']))}{shuffled(_shuffled(e).get('mean_margin'))}" for e in result["sizes"]]
    lines.append(f"| mean margin, labels with {MIN_MARGIN_TEXTS}+ texts | " + " | ".join(means) + " |")
    return "\n".join(lines)


def _shuffled(entry: dict[str, Any]) -> dict[str, Any]:
    """One size's ``margins_shuffled`` (an analysis written before it was measured has none: empty)."""
    return entry.get("margins_shuffled") or {}


def quality_table(result: dict[str, Any]) -> str:
    """Markdown: per size, SNNL at each temperature and the clustering scores."""
    temps = list(result["sizes"][0]["quality"]["snnl"]) if result["sizes"] else []
    head = (["labeled"] + [f"SNNL T={t}" for t in temps]
            + ["SNNL uniform", "silhouette", "Davies-Bouldin", "Calinski-Harabasz", "k-means NMI", "ARI", "ACC"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for e in result["sizes"]:
        q = e["quality"]
        cells = ([str(e["size"])] + [_fmt(q["snnl"][t]) for t in temps]
                 + [_fmt(q["snnl_uniform"]), _fmt(q["silhouette"]), _fmt(q["davies_bouldin"], 2),
                    _fmt(q["calinski_harabasz"], 1), _fmt(q["kmeans"]["nmi"]), _fmt(q["kmeans"]["ari"]),
                    _fmt(q["kmeans"]["accuracy"])])
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def reading(result: dict[str, Any]) -> str:
    """One paragraph that says in words what the numbers show (only what they define)."""
    names, entries, k = result["label_names"], result["sizes"], result["k"]
    if not entries:
        return "No labeled-set size was analysed."
    observed, expected = proximity_matrices(result)
    possible = per_label(result, "proximity", "possible")
    found = ~np.isnan(observed)
    obs_sum, exp_sum = np.where(found, observed, 0).sum(axis=0), np.where(found, expected, 0).sum(axis=0)
    label_ratio, label_ceiling = np.full(len(names), np.nan), np.full(len(names), np.nan)
    np.divide(obs_sum, exp_sum, out=label_ratio, where=exp_sum > 0)
    np.divide(np.where(found, possible, 0).sum(axis=0), exp_sum, out=label_ceiling, where=exp_sum > 0)
    pooled = obs_sum.sum() / exp_sum.sum() if exp_sum.sum() > 0 else float("nan")
    ratios = per_label(result, "proximity", "ratio")
    if not np.isfinite(ratios).any():
        parts = [f"No label had a centroid and unlabeled texts of its own at sizes "
                 f"{', '.join(str(e['size']) for e in entries)}: no proximity to read."]
    else:
        ratio = float(np.median(ratios[np.isfinite(ratios)]))
        above = int((observed[found] > expected[found]).sum())
        ceilings = per_label(result, "proximity", "ceiling")
        ceiling = float(np.median(ceilings[np.isfinite(ceilings)]))  # finite wherever a ratio is
        room = np.isfinite(ratios) & (ceilings >= 1 + MIN_ROOM)  # pairs whose ceiling leaves room above chance
        reach = float(np.median((ratios[room] - 1) / (ceilings[room] - 1))) if room.any() else float("nan")
        if ratio >= 1.5:
            verdict = ("so the centroids find texts of their class clearly more often than a random draw would, "
                       "unlike the paper's Table 2, where almost none of the 100 nearest texts carried the class")
        elif reach >= NEAR_CEILING:
            verdict = (f"which is near the ceiling (a median {reach:.0%} of the way from chance to it): the centroids "
                       f"find about every text of their class they could, where chance is high, the labels being on "
                       f"a large share of the unlabeled texts")
        elif ceiling < LOW_CEILING:  # chance is near the most there is: "no better than chance" would say too much
            if not room.any():
                verdict = "where the ceilings leave no room above chance"
            elif reach > AT_CHANCE:
                verdict = f"which is a median {reach:.0%} of the way from chance to its ceiling"
            else:  # at chance, or below it (fewer texts of the class near its centroid than a random draw gives)
                verdict = "which is no more than chance"
        elif ratio > 1.1:
            verdict = "so the centroids find their class only somewhat more often than a random draw"
        else:
            verdict = "so the centroids find their class no more often than a random draw, as in the paper's Table 2"
        most = (f", whose median ceiling, every one of the k nearest carrying the label (or all its unlabeled "
                f"texts, where it has fewer than k), is {ceiling:.2f}")
        sizes = ", ".join(str(e["size"]) for e in entries)
        parts = [
            f"{'At labeled-set size' if len(entries) == 1 else 'Across labeled-set sizes'} {sizes}, the {k} "
            f"unlabeled texts nearest a class centroid carried its label {ratio:.2f} times as often as chance "
            f"(median over label-size pairs{most}; {pooled:.2f} pooled over labels; above chance for {above} of "
            f"{int(found.sum())} pairs), {verdict}."
        ]
        # every size whose unlabeled texts k is half of or more: the largest sizes leave the fewest
        crowded = [(e["size"], unlabeled) for e in entries if 0 < (unlabeled := result["pool_size"] - e["size"])
                   and k >= LARGE_K_SHARE * unlabeled]
        if crowded:
            shares = [f"{k / unlabeled:.0%} of the {unlabeled} unlabeled texts at |L| = {size}"
                      for size, unlabeled in crowded]
            parts.append(f"k = {k} is {', '.join(shares)}: the nearest texts are much of the pool, so no ratio can "
                         f"rise far above 1 (see the ceilings); a smaller --k reads the centroids' neighbourhoods.")
        if ceiling < LOW_CEILING:
            why = ("k a large share of the unlabeled texts" if crowded else
                   "labels on a large share of the unlabeled texts")
            parts.append(f"With ceilings this low ({why}), a ratio near 1 says little; compare each ratio with its "
                         f"ceiling in the table below.")
        # ranked by the share of the way from chance to the ceiling: a raw ratio is mostly how rare the label is
        # (a label on most texts cannot rise far above 1 however well its centroid finds them)
        shown = np.flatnonzero(np.isfinite(label_ratio) & (label_ceiling >= 1 + MIN_ROOM))
        label_reach = np.full(len(names), np.nan)
        label_reach[shown] = (label_ratio[shown] - 1) / (label_ceiling[shown] - 1)
        if len(shown) >= 2 and np.ptp(np.round(label_reach[shown], 2)) > 0:  # as printed: all alike, no best
            best, worst = int(shown[np.argmax(label_reach[shown])]), int(shown[np.argmin(label_reach[shown])])

            def placed(j: int) -> str:
                way = (f"{label_reach[j]:.0%} of the way from chance to it" if label_reach[j] >= 0 else
                       "below chance")
                return f"ratio {label_ratio[j]:.2f}, at most {label_ceiling[j]:.2f}: {way}"

            over = " over all sizes" if len(entries) > 1 else ""
            parts.append(f"Measured by how far its ratio got from chance towards its ceiling, the best-placed centroid "
                         f"is that of {names[best]} ({placed(best)}{over}), the worst that of {names[worst]} "
                         f"({placed(worst)}).")
    margins = per_label(result, "margins", "margin")
    margins[per_label(result, "margins", "n_texts") < MIN_MARGIN_TEXTS] = np.nan  # a lone text is its centroid
    first = entries[0]
    if np.isfinite(margins).any():
        parts += _margin_reading(result, margins)
    else:
        parts.append(f"No distance margin is defined: a margin compares a label's own centroid with the others, and "
                     f"no two labels had {MIN_MARGIN_TEXTS} labeled texts or more.")
    lone = [n for n in names if 0 < first["labeled_counts"][n] < MIN_MARGIN_TEXTS]
    two = [n for n in names if MIN_MARGIN_TEXTS <= first["labeled_counts"][n] <= 2]
    if lone:
        parts.append(f"At |L| = {first['size']}, {', '.join(lone)} had a single labeled text, its own centroid at "
                     f"distance 0, and {'is' if len(lone) == 1 else 'are'} left out of the mean margin.")
    if two:
        parts.append(f"At |L| = {first['size']}, {', '.join(two)} had two labeled texts, so their own distance is "
                     f"small by construction (each text is half of its centroid).")
    q = first["quality"]
    if q["snnl"]:
        t_low = next(iter(q["snnl"]))
        loss = (f"At |L| = {first['size']} the soft nearest neighbour loss at T = {t_low} is "
                f"{_fmt(q['snnl'][t_low])} against {_fmt(q['snnl_uniform'])} if distances carried no class "
                f"information")
        if q["snnl_uniform"] == 0:  # every labeled text shares a label with every other: no text of another class
            loss = (f"At |L| = {first['size']} the soft nearest neighbour loss says nothing: every labeled text shares "
                    f"a label with every other, so no text of another class sits near any, in any space (0 against "
                    f"0)")
        elif q["snnl_uniform"] is None:  # no anchor: no labeled text has another of its class
            loss = (f"At |L| = {first['size']} the soft nearest neighbour loss is undefined: no labeled text shares a "
                    f"label with another")
        if q["silhouette"] is None:
            parts.append(f"{loss}; the silhouette and the k-means agreement are undefined here: "
                         f"{_why_no_clusters(first)}.")
        else:
            k = q["kmeans"].get("k") or 0
            if k and first["size"] < MIN_TEXTS_PER_CLUSTER * k:  # k-means on a handful of texts finds them trivially
                verdict = (f"with {first['size']} labeled texts under {k} primary labels (fewer than "
                           f"{MIN_TEXTS_PER_CLUSTER} a label) these figures say little about how separated the classes "
                           f"are; read them at a larger size")
            elif q["silhouette"] > 0.25:
                verdict = "the classes are well separated in this embedding space"
            elif (q["kmeans"]["nmi"] or 0) >= 0.5:
                verdict = ("k-means finds the classes, but they are not compact and apart (silhouette at most 0.25) "
                           "in this embedding space")
            elif q["snnl"][t_low] is not None and q["snnl_uniform"] and \
                    q["snnl"][t_low] <= NEIGHBOURS_APART * q["snnl_uniform"]:
                verdict = (f"a text's nearest labeled texts mostly share a label with it (the loss at most "
                           f"{NEIGHBOURS_APART:.0%} of its uniform value), but the rarest labels do not form compact "
                           f"clusters apart from each other in this embedding space (silhouette at most 0.25, NMI "
                           f"under 0.5)")
            else:
                verdict = "the classes are far from separated in this embedding space"
            parts.append(
                f"{loss}, the silhouette of the primary labels is {_fmt(q['silhouette'])} and k-means recovers them "
                f"with NMI {_fmt(q['kmeans']['nmi'])} and accuracy {_fmt(q['kmeans']['accuracy'])}: {verdict}."
            )
    if result.get("space"):
        parts.append(_space_reading(result))
    return " ".join(parts)


def _why_no_clusters(entry: dict[str, Any]) -> str:
    """Why one size's silhouette and k-means are undefined (:func:`al.analysis.quality.cluster_separation`)."""
    k = entry["quality"]["kmeans"].get("k") or 0
    if k < 2:
        return "they need at least two primary labels among the labeled texts"
    if entry.get("n_labeled", entry["size"]) <= k:
        return f"they need more labeled texts than primary labels, and {entry['size']} texts have {k}"
    # more texts than primary labels: all at one point, or too few of them carry a label (the entry says not which)
    return (f"they need more labeled texts carrying a label than primary labels ({k} here), and texts at more than "
            f"one point of the space")


def _margin_reading(result: dict[str, Any], margins: np.ndarray) -> list[str]:
    """What the margins say, next to the same margins with the labels shuffled among the same texts
    (:func:`al.analysis.margins.shuffled_margins`): a margin is positive by construction, and only what it has
    above the shuffled one reads as the classes' doing. ``margins``: (n_sizes, n_labels), NaN where a label has
    fewer than :data:`MIN_MARGIN_TEXTS` labeled texts."""
    entries = result["sizes"]
    measured = [e for e in entries if mean_margin(e["margins"]) is not None]  # some, where a margin is defined
    ends = measured[:1] + measured[-1:] if len(measured) > 1 else measured

    def at(values: list[str], unit: str = "") -> str:
        return " and ".join(f"{value}{unit if i == 0 else ''} at |L| = {e['size']}"
                            for i, (value, e) in enumerate(zip(values, ends)))

    parts = [f"Labeled texts sit closer to their own centroid than to the others for {int((margins > 0).sum())} of "
             f"{int(np.isfinite(margins).sum())} label-size pairs with at least {MIN_MARGIN_TEXTS} labeled texts (a "
             f"label's only text is its centroid), with a mean margin of "
             f"{at([_fmt(mean_margin(e['margins'])) for e in ends], ' cosine distance')} (the paper: about 0.2 on "
             f"eurlex, 0.4 on arXiv)."]
    shuffled = [_shuffled(e) for e in ends]
    if any(s.get("mean_margin") is None for s in shuffled):  # an analysis written before it was measured
        return parts
    added = [mean_margin(e["margins"]) - s["mean_margin"] for e, s in zip(ends, shuffled)]
    spread = [2 * (s.get("std") or 0.0) for s in shuffled]
    chance = np.array([[(_shuffled(e).get("margin") or {}).get(n) for n in result["label_names"]] for e in entries],
                      dtype=float)  # None -> NaN
    defined = np.isfinite(margins) & np.isfinite(chance)
    pairs = (f"; {int((margins[defined] > chance[defined]).sum())} of {int(defined.sum())} label-size pairs are above "
             f"their shuffled margin" if defined.any() else "")
    none_shown = [str(e["size"]) for e, d, w in zip(ends, added, spread) if d <= w]
    plain = (f" (at |L| = {' and '.join(none_shown)} no more than twice the spread over shuffles: no class structure "
             f"shows in the margins)" if none_shown else "")
    parts.append(
        f"With the labels shuffled among the same labeled texts ({shuffled[0]['n_shuffles']} shuffles, every label "
        f"keeping its count), the mean margin is {at([_fmt(s['mean_margin']) for s in shuffled])}: a centroid is the "
        f"mean of the very texts measured against it, so a margin is positive with no class information at all, the "
        f"more so the fewer texts a label has. What the classes add is the rest, {at([_fmt(d) for d in added])}"
        f"{plain}{pairs}.")
    return parts


def _space_reading(result: dict[str, Any]) -> str:
    """One sentence per fitted space: proximity and held-out silhouette, pretrained -> fitted, at each size."""
    name = result["space"]

    def change(pretrained: float | None, fitted: float | None, digits: int) -> str:
        return f"{_fmt(pretrained, digits)} -> {_fmt(fitted, digits)}"

    steps = []
    for e in result["sizes"]:
        held = e["held_out"]
        ratio = change(median_ratio(e), median_ratio(e["adapted"]), 2)
        silhouette = change(held["pretrained"]["silhouette"], held[name]["silhouette"], 3)
        steps.append(f"|L| = {e['size']}: proximity ratio {ratio}, held-out silhouette {silhouette}")
    return (f"In {_a(name)} space fitted on each labeled set (pretrained -> {name}; the proximity ratio is the median "
            f"over labels, on unlabeled texts the space never saw): {'; '.join(steps)}.")


def _a(word: str) -> str:
    """``a cea``, ``an am``, ``an snnl`` (said as letters: es-en-en-el), ``an aan``."""
    said_with_vowel = word[:1].lower() in "aeiou" or word.lower() in ("snnl",)
    return f"{'an' if said_with_vowel else 'a'} {word}"


def _held_out_sizes(result: dict[str, Any]) -> str:
    """``2,000 unlabeled texts``, or ``2,000 unlabeled texts (all of them where a size leaves fewer: 330 at
    |L| = 300)``."""
    asked = result["held_out"]
    fewer = [f"{e['held_out']['n_texts']:,} at |L| = {e['size']}" for e in result["sizes"]
             if e["held_out"]["n_texts"] != asked]
    return f"{asked:,} unlabeled texts" + (f" (all of them where a size leaves fewer: {', '.join(fewer)})"
                                           if fewer else "")


def _variance(evr: Sequence[float | None]) -> str:
    """`` (PC1 72.6%, PC2 8.5% of the variance)``; undefined (None: texts at one point), said so."""
    if any(v is None for v in evr[:2]):
        return " (no variance to explain: every labeled text at one point)"
    return f" (PC1 {100 * evr[0]:.1f}%, PC2 {100 * evr[1]:.1f}% of the variance)"


def render_summary(result: dict[str, Any]) -> str:
    """The Markdown summary of an analysis result."""
    entries = result["sizes"]
    title = f"# Class-embedding analysis: {result.get('dataset', 'pool')}"
    if result.get("model"):
        title += f", {result['model']}"
    data = result.get("data")
    unread = (f"its {data['dev_texts']:,} dev texts are read only by the {result.get('space')} fit (its label "
              f"distances), its {data['test_texts']:,} test texts not at all" if data and data.get("dev_read_by_space")
              else f"its {data['dev_texts']:,} dev and {data['test_texts']:,} test texts are not read" if data else "")
    read = (f" The pool is the data's train split, al.simulate's pool; {unread}. Labels kept: "
            f"{', '.join(result['label_names'])}; {data['left_out']}." if data else "")
    lines = [
        title, "",
        f"Pool of {result['pool_size']} texts, {counted(len(result['label_names']), 'label')}.{read} "
        f"Each labeled set is a random "
        f"sample of the pool (seed {result['seed']}; a larger set contains the smaller ones); the rest of the pool is "
        f"unlabeled. k = {result['k']} unlabeled texts are searched around each class centroid (cosine, exact).",
        "", "## Reading", "", reading(result), "",
        "## Centroid proximity (the paper's Table 2)", "",
        f"Unlabeled texts carrying label j among the k = {result['k']} nearest to the centroid of j: observed / expected "
        f"by chance (= share of unlabeled texts with j x k), and in brackets their ratio and the most it can be "
        f"(min(k, unlabeled texts with j) / expected: near 1 for a label on most unlabeled texts).", "",
        proximity_table(result), "",
        "## Distance to the class centroids (the paper's Figures 3-4)", "",
        "Mean cosine distance of the labeled texts of each label to their own centroid and to the other "
        "centroids (mean over them); margin = other - own, positive when texts sit nearer their own centroid. A "
        "label with one labeled text (marked) is that text's own centroid, at distance 0: its margin is left out "
        "of the mean margin.", "",
        margins_table(result), "",
        "## Embedding-space quality of the labeled set", "",
        "Soft nearest neighbour loss (cosine distance; lower = classes disentangled; \"uniform\" is its value "
        "when all distances are equal), silhouette (cosine), Davies-Bouldin (lower = better), "
        "Calinski-Harabasz, and k-means (k = number of primary labels) against the primary labels.", "",
        quality_table(result), "",
        "Multi-label rules: " + result["multi_label_rules"], "",
    ]
    if result.get("space"):
        name = result["space"]
        lines += [
            f"## Pretrained vs the {name} space", "",
            f"For each labeled set, {_a(name)} space is fitted on those labeled texts alone; the unlabeled pool is "
            f"mapped into it. Proximity counts the unlabeled texts (never the ones the space was fitted on) nearest "
            f"each centroid, as above; \"held out\" scores are measured on a seeded sample of "
            f"{_held_out_sizes(result)}. \"Mean margin\" is measured on the labeled texts the space "
            f"was fitted on (labels with at least {MIN_MARGIN_TEXTS} of them), as the other \"labeled\" columns: a "
            f"space that only memorises its training texts improves the labeled columns and not the held-out ones.",
            "", comparison_table(result), "",
        ]
        losses = [f"|L| = {e['size']}: {fit['loss_first_epoch']:.4f} -> {fit['loss']:.4f} "
                  f"({counted(fit['epochs'], 'epoch')})" for e in entries
                  if {"loss", "loss_first_epoch", "epochs"} <= set(fit := e["adapted"].get("fit", {}))]
        if losses:
            lines += [f"The {name} objective's training loss, first epoch -> last: {'; '.join(losses)}.", ""]
    lines += ["## Figures", ""]
    if "proximity" in result["figures"]:
        lines += [f"![proximity]({result['figures']['proximity']})", ""]
    fitted = result["figures"].get(f"proximity_{result.get('space')}")
    if fitted:
        lines += [f"In the {result['space']} space fitted on each labeled set:", "", f"![proximity, {result['space']}]"
                  f"({fitted})", ""]
    for e in entries:
        figs = e.get("figures", {})
        if figs:
            lines += [f"{e['size']} labeled texts: [margins]({figs['margins']}), [PCA]({figs['pca']})"
                      f"{_variance(e['pca']['explained_variance_ratio'])}", ""]
        adapted = e.get("adapted", {}).get("figures")
        if adapted:
            evr = e["adapted"].get("pca", {}).get("explained_variance_ratio")
            variance = _variance(evr) if evr else ""
            lines += [f"{e['size']} labeled texts in the {result['space']} space: [margins]({adapted['margins']}), "
                      f"[PCA]({adapted['pca']}){variance}", ""]
    if result.get("seconds"):
        s = result["seconds"]
        lines += ["## Timings", "", ", ".join(f"{name} {v:.1f} s" for name, v in s.items()), ""]
    return "\n".join(lines)
