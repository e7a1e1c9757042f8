"""2-D PCA of labeled texts and class centroids.

References
----------
Wertz et al., "Evaluating Pre-Trained Sentence-BERT with Class Embeddings in
Active Learning for Multi-Label Text Classification", AACL-IJCNLP 2022,
sec. 5.2 and Figures 5-6 (``../shared/seeds/001``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np
import scipy.sparse as sp

from al.analysis.curves import legend_entry
from al.analysis.quality import dense_labels
from al.errors import DataError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MARKERS = ("o", "s", "^", "v", "D", "P", "X", "<", ">", "p", "h", "*")


@dataclass(frozen=True)
class Projection:
    """Texts and centroids in the plane of the first two principal components.

    Attributes
    ----------
    points : ndarray of shape (n_samples, 2)
    centroids : ndarray of shape (n_labels, 2), NaN rows for labels without a centroid
    explained_variance_ratio : ndarray of shape (2,)
    """

    points: np.ndarray
    centroids: np.ndarray
    explained_variance_ratio: np.ndarray


def pca_projection(embeddings: np.ndarray, centroids: np.ndarray) -> Projection:
    """Fit a 2-component PCA on the labeled embeddings; project them and the centroids.

    Parameters
    ----------
    embeddings : ndarray of shape (n_samples, dim), n_samples >= 2
    centroids : ndarray of shape (n_labels, dim), NaN rows allowed
    """
    from sklearn.decomposition import PCA

    embeddings = np.asarray(embeddings, dtype=np.float64)
    if embeddings.ndim != 2 or min(embeddings.shape) < 2:
        raise DataError(f"PCA needs at least 2 texts of at least 2 dimensions, got shape {embeddings.shape}")
    pca = PCA(n_components=2, svd_solver="full").fit(embeddings)
    present = ~np.isnan(centroids).any(axis=1)
    projected = np.full((len(centroids), 2), np.nan)
    if present.any():
        projected[present] = pca.transform(np.asarray(centroids, dtype=np.float64)[present])
    return Projection(pca.transform(embeddings), projected, pca.explained_variance_ratio_.copy())


def plot_pca(
    projection: Projection, Y: sp.spmatrix | np.ndarray, label_names: Sequence[str], title: str | None = None
) -> "Figure":
    """Scatter of the projected texts, one marker and colour per label, centroids enlarged.

    A text with several labels is drawn once per label. Centroids are large
    markers of their label's colour with a black outline; the axis labels give
    each component's share of the variance.

    Parameters
    ----------
    projection : Projection
    Y : (sparse) matrix of shape (n_samples, n_labels), 0/1
    label_names : sequence of str, length n_labels
    title : str or None
    """
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    Yd = dense_labels(Y)
    if Yd.shape != (len(projection.points), len(label_names)):
        raise DataError(f"label matrix has shape {Yd.shape}, expected ({len(projection.points)}, {len(label_names)})")
    colours = colormaps["tab10" if len(label_names) <= 10 else "tab20"]
    fig = Figure(figsize=(8, 6.5), dpi=120)
    ax = fig.subplots()
    for j, name in enumerate(label_names):
        colour, marker = colours(j % colours.N), MARKERS[j % len(MARKERS)]
        pts = projection.points[Yd[:, j]]
        ax.scatter(pts[:, 0], pts[:, 1], s=14, marker=marker, color=colour, alpha=0.45, linewidths=0,
                   label=legend_entry(f"{name} ({len(pts)})"))
        if not np.isnan(projection.centroids[j]).any():
            ax.scatter(*projection.centroids[j], s=260, marker=marker, color=colour, edgecolors="black",
                       linewidths=1.8, zorder=4)
    evr = projection.explained_variance_ratio
    ax.set_xlabel(f"PC1 ({100 * evr[0]:.1f}%)" if np.isfinite(evr[0]) else "PC1")
    ax.set_ylabel(f"PC2 ({100 * evr[1]:.1f}%)" if np.isfinite(evr[1]) else "PC2")
    ax.set_title(title or "PCA of labeled texts and their class centroids (large outlined markers)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", markerscale=1.5, loc="best", title="label (texts)")
    fig.tight_layout()
    return fig
