"""Task-specific embedding spaces: the pretrained sentence space re-shaped on the labeled set.

Seed 001 ends by asking whether sentence embeddings fine-tuned on the task
would make class embeddings meaningful; seeds 000, 002, 003 and 004 give the
objectives that do it. Each round (or every ``every`` rounds) a space is fitted
on the labeled texts alone and every embedding the loop hands out (the
strategies' ``embeddings`` view, the embedding classifiers' inputs) comes from
it.

==========  ===========================================================  =========
space       objective                                                    seed
==========  ===========================================================  =========
pretrained  the sentence encoder as it is                                 001
cea         class-driven embedding alignment: cosine-MSE on pairs        000
snnl        BCE + alpha * soft nearest neighbour loss, annealed T         002
aan         BCE + "all negative" loss, n = 4 negatives per text           004
am          BCE + margin loss, one positive and n - 1 negatives, 0.4      004
clld        BCE and contrastive KL over label-distance-weighted sims      003
==========  ===========================================================  =========

Two scopes (:data:`SCOPES`): ``head`` trains a small projection on the frozen,
cached embeddings (:class:`al.spaces.head.HeadSpace`, seconds per round);
``encoder`` fine-tunes the sentence encoder itself and re-embeds the texts
(:class:`al.spaces.encoder.EncoderSpace`, the papers' setting).

Multi-label convention (``positive="shares"``, see
:func:`al.spaces.objectives.positive_mask`): two texts are positives for each
other when they share at least one label; texts without labels form their own
class; a text is never its own pair. ``positive="exact"`` (identical label
sets) is the literal reading of the papers' y_i = y_j.
"""
from __future__ import annotations

import importlib
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp

from al.errors import ConfigError, did_you_mean

PRETRAINED = "pretrained"
#: Objectives a space can be fitted with (``pretrained``: none).
OBJECTIVES: tuple[str, ...] = ("cea", "snnl", "aan", "am", "clld")
SPACES: tuple[str, ...] = (PRETRAINED, *OBJECTIVES)
SCOPES: dict[str, str] = {
    "head": "al.spaces.head:HeadSpace",
    "encoder": "al.spaces.encoder:EncoderSpace",
}


class FittedSpace(Protocol):
    """A space fitted on one labeled set: maps the scope's inputs to adapted vectors."""

    def transform(self, inputs: Any) -> np.ndarray:
        """Adapted vectors, ndarray (n, dim), float32, unit L2 norm."""

    def info(self) -> dict[str, Any]:
        """JSON-ready facts about the fit (epochs, final loss, ...)."""


class Space(Protocol):
    """What the engine fits: ``input`` says whether it reads embeddings or texts."""

    objective: str
    scope: str  # "head" or "encoder"
    input: str  # what it reads: "embeddings" (head) or "texts" (encoder)
    uses_dev: bool

    def fit(self, inputs: Any, Y: sp.csr_matrix, seed: int, dev_inputs: Any = None,
            Y_dev: sp.csr_matrix | None = None) -> FittedSpace: ...


def space_class(scope: str) -> type:
    """The class that fits spaces of ``scope``."""
    if scope not in SCOPES:
        raise ConfigError(f"unknown space scope {scope!r}; known: {', '.join(SCOPES)}")
    module, _, attr = SCOPES[scope].partition(":")
    return getattr(importlib.import_module(module), attr)


def check_space_name(name: str) -> None:
    if name not in SPACES:
        raise ConfigError(f"unknown space {name!r}{did_you_mean([name], SPACES, cutoff=0.6)}; known: {', '.join(SPACES)}")
