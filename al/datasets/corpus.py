"""The one corpus type every loader returns."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from al.errors import DataError

SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class Corpus:
    """An immutable multi-label text corpus.

    Parameters
    ----------
    name : str
        Short name, used in records and cache keys.
    texts : ndarray of str, shape (n_texts,)
    Y : csr_matrix of shape (n_texts, n_labels), dtype int8
        0/1 gold label matrix.
    label_names : tuple of str, length n_labels
    splits : mapping of str to ndarray of int
        ``"train"`` (the active-learning pool), ``"dev"`` and ``"test"``:
        disjoint absolute indices into ``texts``.
    left_out_labels : tuple of str
        Labels of the source data that a label reduction left out (not part
        of :meth:`digest`): a file describing every label of the data set is
        read for the kept ones, and a name in neither is a typo.
    unread_columns : tuple of str
        Columns of a user's file that look like 0/1 label columns but for a
        few cells, so were not read as labels (warned of as the file was
        read; not part of :meth:`digest`): naming one as a label is a bad cell
        to fix, not a typo.
    """

    name: str
    texts: np.ndarray
    Y: sp.csr_matrix
    label_names: tuple[str, ...]
    splits: Mapping[str, np.ndarray] = field(repr=False)
    left_out_labels: tuple[str, ...] = field(default=(), repr=False, compare=False)
    unread_columns: tuple[str, ...] = field(default=(), repr=False, compare=False)

    def __repr__(self) -> str:
        """``Corpus('disaster', 14577 texts, 10 labels, train 11572 / dev 1382 / test 1623)``: not every text."""
        sizes = " / ".join(f"{split} {len(self.splits[split])}" for split in SPLITS if split in self.splits)
        return f"Corpus({self.name!r}, {len(self.texts)} texts, {len(self.label_names)} labels, {sizes})"

    def __post_init__(self) -> None:
        n_texts = len(self.texts)
        if self.Y.shape != (n_texts, len(self.label_names)):
            raise DataError(
                f"label matrix has shape {self.Y.shape}, expected "
                f"({n_texts}, {len(self.label_names)}) for {n_texts} texts and "
                f"{len(self.label_names)} label names"
            )
        missing = [s for s in SPLITS if s not in self.splits]
        if missing:
            raise DataError(f"corpus {self.name!r} lacks split(s) {missing}; expected {list(SPLITS)}")
        seen = np.zeros(n_texts, dtype=bool)
        for split in SPLITS:
            idx = self.splits[split]
            if len(idx) and (idx.min() < 0 or idx.max() >= n_texts):
                raise DataError(f"split {split!r} indexes outside 0..{n_texts - 1}")
            if seen[idx].any():
                raise DataError(f"split {split!r} overlaps another split")
            seen[idx] = True

    @property
    def n_labels(self) -> int:
        return len(self.label_names)

    def texts_of(self, split: str) -> list[str]:
        """Texts of one split, in split order."""
        return self.texts[self._indices(split)].tolist()

    def Y_of(self, split: str) -> sp.csr_matrix:
        """Label matrix of one split, shape (n_split, n_labels)."""
        return self.Y[self._indices(split)]

    def _indices(self, split: str) -> np.ndarray:
        if split not in self.splits:
            raise DataError(f"unknown split {split!r}; known: {', '.join(self.splits)}")
        return self.splits[split]

    def label_counts(self, split: str | None = None) -> np.ndarray:
        """Texts per label, shape (n_labels,), over one split or all texts."""
        Y = self.Y if split is None else self.Y_of(split)
        return np.asarray(Y.sum(axis=0)).ravel().astype(np.int64)

    def n_duplicated_texts(self) -> int:
        """Texts that repeat an earlier text of the corpus (legitimate data; reported, never dropped)."""
        return int(len(self.texts) - len(set(self.texts.tolist())))

    def digest(self) -> str:
        """A fingerprint of what a run reads: the texts, the label names, the gold labels and the splits.

        blake2b (16 hex digits) over each text's UTF-8 bytes (length-prefixed),
        the label names, the 0/1 matrix's positions and the split indices in
        order; another text, label or split gives another digest, the name
        does not count. Recorded with a run, it tells on resume whether the
        data changed under it (about 20 ms for 20,000 texts).
        """
        import hashlib

        h = hashlib.blake2b(digest_size=8)
        for text in [*self.texts.tolist(), "\0labels", *self.label_names]:
            data = str(text).encode("utf-8")
            h.update(len(data).to_bytes(8, "little"))
            h.update(data)
        Y = sp.csr_matrix(self.Y, dtype=np.int8, copy=True)
        Y.eliminate_zeros()
        Y.sort_indices()
        for part in (Y.indptr, Y.indices, *(self.splits[s] for s in SPLITS)):
            array = np.ascontiguousarray(part, dtype=np.int64)
            h.update(len(array).to_bytes(8, "little"))
            h.update(array.tobytes())
        return h.hexdigest()

    def describe(self) -> str:
        """A plain-text summary: texts per split, per-label counts, cardinality."""
        labels = f"{self.n_labels} label{'' if self.n_labels == 1 else 's'}"
        lines = [f"corpus {self.name}: {len(self.texts)} texts, {labels}; "
                 "train is the pool the strategies pick from"]
        for split in SPLITS:
            Y = self.Y_of(split)
            n = Y.shape[0]
            card = Y.sum() / n if n else 0.0
            multi = int((np.asarray(Y.sum(axis=1)).ravel() > 1).sum())
            lines.append(f"  {split:<5} {n:>7} texts  label cardinality {card:.2f}  multi-label texts {multi}")
        width = max([len("label"), *(display_width(name) for name in self.label_names)])
        lines.append(f"  {'label':<{width}} " + " ".join(f"{s:>7}" for s in SPLITS))
        counts = {s: self.label_counts(s) for s in SPLITS}
        for j, name in enumerate(self.label_names):
            pad = " " * (width - display_width(name))
            lines.append(f"  {name}{pad} " + " ".join(f"{counts[s][j]:>7}" for s in SPLITS))
        return "\n".join(lines)


def display_width(text: str) -> int:
    """The columns ``text`` takes in a terminal: two for a wide character (CJK, most emoji), none for a combining
    mark or a variation selector, one for the rest (so that a table of label names lines up)."""
    import unicodedata

    def width(c: str) -> int:
        if unicodedata.combining(c) or unicodedata.category(c) in ("Mn", "Me", "Cf") or "\ufe00" <= c <= "\ufe0f":
            return 0
        return 2 if unicodedata.east_asian_width(c) in "WF" else 1

    return sum(map(width, text))


def make_corpus(
    name: str,
    texts: list[str] | np.ndarray,
    Y: np.ndarray | sp.spmatrix,
    label_names: list[str] | tuple[str, ...],
    splits: Mapping[str, np.ndarray],
    left_out_labels: Sequence[str] = (),
    unread_columns: Sequence[str] = (),
) -> Corpus:
    """Build a :class:`Corpus`, normalising dtypes (object texts, int8 CSR 0/1)."""
    texts_arr = np.asarray(list(texts), dtype=object)
    Y_csr = sp.csr_matrix(Y, dtype=np.int8)
    Y_csr.data[:] = 1
    Y_csr.eliminate_zeros()
    return Corpus(
        name=name,
        texts=texts_arr,
        Y=Y_csr,
        label_names=tuple(str(n) for n in label_names),
        splits={k: np.asarray(v, dtype=np.int64) for k, v in splits.items()},
        left_out_labels=tuple(str(n) for n in left_out_labels),
        unread_columns=tuple(str(n) for n in unread_columns),
    )


def carve_dev(train_indices: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split a dev set off a train split with a seeded permutation.

    Returns
    -------
    train, dev : ndarray of int
        Sorted absolute indices.
    """
    rng = np.random.default_rng(seed)
    perm = rng.permutation(train_indices)
    n_dev = int(round(len(perm) * fraction))
    return np.sort(perm[n_dev:]), np.sort(perm[:n_dev])
