"""Class centroids of sentence embeddings and cosine similarity to them.

Shared by the ``class_embedding`` strategy and the embedding-space analysis
(:mod:`al.analysis`), so the math lives in core and neither imports the other.

References
----------
Wertz, Bogdanova, Fellbaum, Kurz, "Evaluating Pre-Trained Sentence-BERT with
Class Embeddings in Active Learning for Multi-Label Text Classification",
AACL-IJCNLP 2022, eq. 1 (``../shared/seeds/001``).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def class_centroids(embeddings: np.ndarray, Y: sp.spmatrix | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean embedding of the texts carrying each label (eq. 1 of the class-embedding paper).

    ``C_j = mean { e(T) : T labeled, j in labels(T) }``; a text with several
    labels counts for each of them.

    Parameters
    ----------
    embeddings : ndarray of shape (n_labeled, dim)
    Y : (sparse) matrix of shape (n_labeled, n_labels), 0/1

    Returns
    -------
    centroids : ndarray of shape (n_labels, dim), float64
        Rows of labels without any text are NaN (such a label has no centroid).
    counts : ndarray of int64, shape (n_labels,)
        Texts per label.

    References
    ----------
    Wertz et al., AACL-IJCNLP 2022, sec. 3.2, eq. 1 (seed 001).
    """
    Y = sp.csr_matrix(Y, dtype=np.float64)
    counts = np.asarray(Y.sum(axis=0)).ravel()
    sums = np.asarray(Y.T @ np.asarray(embeddings, dtype=np.float64))
    with np.errstate(invalid="ignore", divide="ignore"):
        centroids = sums / counts[:, None]
    centroids[counts == 0] = np.nan
    return centroids, counts.astype(np.int64)


def cosine_similarity_to(centroid: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
    """Cosine similarity of each embedding to one centroid.

    Parameters
    ----------
    centroid : ndarray of shape (dim,)
    embeddings : ndarray of shape (n, dim)

    Returns
    -------
    ndarray of shape (n,)
        0 for an all-zero embedding or centroid (instead of NaN).

    References
    ----------
    Wertz et al., AACL-IJCNLP 2022, sec. 3.2 and Algorithm 1 (seed 001): the
    texts nearest a class embedding.
    """
    norms = np.linalg.norm(embeddings, axis=1) * np.linalg.norm(centroid)
    return (embeddings @ centroid) / np.where(norms > 0, norms, 1.0)
