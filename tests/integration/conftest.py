"""Small real data for integration tests: Disaster Response messages as JSON lines."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from al.datasets.disaster import packaged_csv

LABELS = ["food", "water", "shelter", "medical_help"]


@pytest.fixture(scope="session")
def small_jsonl(tmp_path_factory):
    """200 pool + 60 dev + 100 test messages with at least one of four labels."""
    frame = pd.read_csv(packaged_csv(), encoding="utf-8-sig")
    frame = frame[(frame[LABELS] == 1).any(axis=1)]
    parts = []
    for split, theirs, n in (("train", "train", 200), ("dev", "validation", 60), ("test", "test", 100)):
        part = frame[frame["split"] == theirs].sample(n, random_state=0)
        parts.append(part.assign(split=split))
    rows = pd.concat(parts)
    path = tmp_path_factory.mktemp("data") / "small.jsonl"
    with open(path, "w") as f:
        for _, row in rows.iterrows():
            f.write(json.dumps({"text": row["message"], "split": row["split"],
                                **{label: int(row[label]) for label in LABELS}}) + "\n")
    return path


@pytest.fixture(scope="session")
def disaster_messages():
    """``sample(n, random_state)``: n distinct Disaster Response messages longer than 20 characters."""
    messages = pd.read_csv(packaged_csv(), encoding="utf-8-sig")["message"].dropna().astype(str)
    messages = messages[messages.str.len() > 20]
    return lambda n, random_state: messages.sample(n, random_state=random_state).tolist()
