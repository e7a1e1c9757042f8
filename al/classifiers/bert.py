"""A fine-tuned transformer encoder with one linear multi-label head.

This module imports torch and transformers; it is imported only when the
``bert`` classifier is selected, so ``import al`` stays light.
"""
from __future__ import annotations

import inspect
import os
import tempfile
import time
import warnings
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Literal, Sequence

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn
from transformers import AutoModel, AutoTokenizer, get_linear_schedule_with_warmup

from al.classifiers.base import Classifier, fixed_threshold, tune_thresholds
from al.device import autocast, cudnn_attention_off, resolve_device, seeded_torch, warn_if_bf16_emulated
from al import checks
from al.errors import ConfigError, did_you_mean, spelled
from al.metrics import macro_f1
from al.models import quiet_loading, resolve_model, token_limit
from al.progress import progress

MAX_POS_WEIGHT = 30.0  # cap of the per-label BCE weight n_neg / n_pos
AUX = ("snnl", "aan", "am", "clld")  # the auxiliary objectives (``aux``)
#: ``aux_weight`` when not given: SNNL's alpha (seed 002 eq. 7), AAN's and AM's weight 1 (seed 004,
#: L = L_task + L_a), CLLD's lambda (seed 003 eq. 9, l.534).
AUX_WEIGHT = {"snnl": 100.0, "aan": 1.0, "am": 1.0, "clld": 0.5}


class _EncoderWithHead(nn.Module):
    """Encoder -> [CLS] last hidden state -> dropout -> linear layer to ``n_labels`` logits."""

    def __init__(self, encoder: nn.Module, n_labels: int, generator: torch.Generator) -> None:
        super().__init__()
        self.encoder = encoder
        config = encoder.config
        self.dropout = nn.Dropout(getattr(config, "hidden_dropout_prob", 0.1))
        self.head = nn.Linear(config.hidden_size, n_labels)
        nn.init.normal_(self.head.weight, std=getattr(config, "initializer_range", 0.02), generator=generator)
        nn.init.zeros_(self.head.bias)

    def forward(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """``(cls, logits)`` of shapes (batch, hidden) and (batch, n_labels)."""
        cls = self.encoder(**batch).last_hidden_state[:, 0]
        return cls, self.head(self.dropout(cls))


class BertClassifier(Classifier):
    """Fine-tunes a transformer encoder with a sigmoid output per label.

    The [CLS] token's last hidden state goes through dropout and one linear
    layer; training minimises binary cross-entropy (``BCEWithLogitsLoss``) with
    AdamW and a linear warm-up / decay schedule. With dev data, training stops
    early on dev macro-F1 and the best epoch's weights are restored; without
    dev data all ``max_epochs`` epochs run.

    With ``aux``, an auxiliary objective shapes the pooled representation (the
    [CLS] vector the output layer sees, the one :meth:`transform` returns, so DAL
    sees the task-specific space) while the classifier trains; the objectives are
    the functions of :mod:`al.spaces.objectives`, applied to each training batch:

    ======  ===================================================  ===============================
    aux     loss minimised per batch                             paper
    ======  ===================================================  ===============================
    snnl    BCE + w * SNNL(cls, T = 1 / (1 + e)^0.55), w = 100    seed 002 eq. 6-7
    aan     BCE + w * La(all negative), w = 1                    seed 004 sec. 2.2
    am      BCE + w * La(margin delta), w = 1                    seed 004 sec. 3.3
    clld    w * BCE + (1 - w) * contrastive, w = 0.5             seed 003 eq. 9-11
    ======  ===================================================  ===============================

    ``e`` is the epoch index from 0. Two texts are positives when they share a
    label (``aux_positive="shares"``) or have identical label sets (``"exact"``).
    SNNL regularises the pooled vector only: the paper sums it over every hidden
    layer of a small network (eq. 7), and the pooled vector is the one layer we
    have. AAN and AM draw their texts from the same batch (``aux_negatives``
    each), with a generator seeded by ``seed``. CLLD feeds every batch twice
    through the encoder in train mode (two dropout masks, one forward pass over
    the doubled batch), takes the classification loss on the first copy's
    logits and the contrastive loss on both copies' pooled vectors (the paper's
    MLP projection head is left out, so that the space it shapes is the one
    :meth:`transform` returns), with a static label-distance matrix: all ones,
    ``aux_tau`` on the ``aux_confusable`` label pairs.

    Parameters
    ----------
    model : str or path
        Name or directory of the encoder, resolved by :func:`al.models.resolve_model`.
    max_length : int
        Texts are truncated to this many tokens.
    batch_size : int
        Training batch size.
    eval_batch_size : int
        Batch size of :meth:`predict_proba`, :meth:`transform` and dev evaluation.
    max_epochs : int
        Upper bound on training epochs (0 keeps the initial or warm-started weights).
    patience : int
        Epochs without a dev macro-F1 improvement before training stops.
    learning_rate : float
        Peak AdamW learning rate. 1e-4 suits a small encoder such as MiniLM on
        a few hundred texts: on 300 Disaster Response messages (6 labels, 5
        epochs, threshold 0.5) 2e-5 and 5e-5 without ``pos_weight`` predicted
        no positive at all. Larger encoders (bert-base) usually want 2e-5 to 5e-5.
    weight_decay : float
        AdamW weight decay, not applied to biases and LayerNorm weights.
    warmup_ratio : float
        Fraction of the ``max_epochs`` schedule spent warming the learning rate up.
    pos_weight : "auto" or None
        ``"auto"``: per-label BCE weight of positives ``n_neg / n_pos`` from the
        training labels, clipped to [1, 30] (1 for labels with no positive).
        Counters the pull towards predicting no label when positives are rare.
    threshold : float, "fixed" or "dev"
        ``"fixed"``: 0.5 for every label; a number in (0, 1]: that for every label;
        ``"dev"``: per label, the threshold that maximises F1 on the dev data
        (:func:`~al.classifiers.base.tune_thresholds`).
    warm_start : bool
        If True, a second :meth:`fit` continues from the weights (and tokenizer)
        of the previous one, with a fresh optimizer and schedule, and needs the
        same number of labels; otherwise every fit starts from the pretrained
        checkpoint and a fresh head.
    device : str
        ``"auto"`` (cuda if available, else cpu), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
        On cuda, attention runs without cuDNN's kernel, which costs a plan at every
        padded shape met first (:func:`al.device.cudnn_attention_off`).
    mixed_precision : {"auto", "bf16", "fp16", "no"}
        Autocast. ``"auto"``: on cuda bf16 where supported, else fp16; on cpu
        none (fp32, the same numbers on every CPU). ``"bf16"``: bfloat16 on cuda
        and on cpu; a CPU with native bf16 (AVX512-BF16, AMX) fine-tunes about
        1.4x and predicts about 1.9x faster than in fp32, with other numbers
        (``benchmarks/RESULTS.md`` section 12.7); one without it is slower (a
        warning says so). ``"fp16"``: cuda only, with a gradient scaler.
        ``"no"``: fp32 everywhere.
    seed : int
        Seeds the head, the shuffling and dropout; the same seed gives the same
        fitted weights on cpu. Global random state is left as it was.
    show_progress : bool
        Show the progress of each epoch and of each prediction pass (dev evaluation,
        :meth:`predict_proba`, :meth:`transform`, :meth:`predict_proba_dropout`); see
        :mod:`al.progress`: a bar on a terminal, plain lines otherwise, only for steps
        longer than 2 s; ``--quiet`` turns it off.
    aux : {"snnl", "aan", "am", "clld"} or None
        The auxiliary objective (table above); None trains on BCE alone.
    aux_weight : float or None
        Its weight; None takes the paper's: SNNL alpha 100, AAN 1, AM 1, CLLD
        lambda 0.5 (for CLLD the weight of BCE, in [0, 1]).
    aux_negatives : int
        AAN: negatives drawn per text; AM: texts drawn per text, one positive and
        ``aux_negatives - 1`` negatives. The paper's 4 (seed 004 l.380-382).
    aux_delta : float
        AM's margin (seed 004 l.373).
    aux_positive : {"shares", "exact"}
        The multi-label convention: which texts count as positives for each other.
    aux_confusable : sequence of (int, int)
        CLLD: label index pairs whose label distance is ``aux_tau`` (e.g. from
        :func:`al.spaces.objectives.confusable_pairs` on a dev confusion matrix);
        the rest of the matrix is ones.
    aux_tau : float
        CLLD: the distance of confusable label pairs (seed 003 l.534).

    Attributes
    ----------
    thresholds_ : ndarray of shape (n_labels,), float32
    n_epochs_ : int
        Epochs actually run.
    best_epoch_ : int
        Epoch whose weights were kept (``n_epochs_`` without dev data).
    dev_macro_f1_ : list of float
        Dev macro-F1 after each epoch, at the thresholds the fitted model uses
        (empty without dev data).
    train_loss_ : list of float
        Mean training loss of each epoch (with ``aux``: the combined loss minimised).
    aux_loss_ : list of float
        Mean auxiliary objective (unweighted) of each epoch; empty without ``aux``.
    pos_weight_ : ndarray of shape (n_labels,) or None
    model_ : torch.nn.Module
    tokenizer_ : transformers tokenizer
    device_ : torch.device
    cpu_threads_ : int or None
        torch's thread count the fit ran on (None on a GPU): the last bits of a
        fine-tuning depend on it, so ``info()`` records it.

    References
    ----------
    Devlin et al. (2019), BERT: Pre-training of deep bidirectional transformers
    for language understanding. NAACL.

    Agarap, Text classification and clustering with annealing soft nearest
    neighbor loss (seed 002). Ohashi et al. (2020), Text classification with
    negative supervision. ACL (seed 004). Contrastive learning with label
    distance for text classification (seed 003).
    """

    input = "texts"
    pretrained_attribute = "model"  # a resume on other weights behind the name or directory is refused
    _pass_desc: str | None = None  # what the next prediction pass is for (:meth:`_passes_described`)

    def __init__(
        self,
        *,
        model: str = "all-MiniLM-L6-v2",
        max_length: int = 128,
        batch_size: int = 16,
        eval_batch_size: int = 64,
        max_epochs: int = 15,
        patience: int = 3,
        learning_rate: float = 1e-4,
        weight_decay: float = 0.01,
        warmup_ratio: float = 0.1,
        pos_weight: Literal["auto"] | None = "auto",
        threshold: Literal["fixed", "dev"] | float = "fixed",
        warm_start: bool = False,
        device: str = "auto",
        mixed_precision: Literal["auto", "bf16", "fp16", "no"] = "auto",
        seed: int = 0,
        show_progress: bool = True,
        aux: Literal["snnl", "aan", "am", "clld"] | None = None,
        aux_weight: float | None = None,
        aux_negatives: int = 4,
        aux_delta: float = 0.4,
        aux_positive: Literal["shares", "exact"] = "shares",
        aux_confusable: Sequence[tuple[int, int]] = (),
        aux_tau: float = 5.0,
    ) -> None:
        self.model = model
        self.max_length = max_length
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.warmup_ratio = warmup_ratio
        self.pos_weight = pos_weight
        self.threshold = threshold
        self.warm_start = warm_start
        self.device = device
        self.mixed_precision = mixed_precision
        self.seed = seed
        self.show_progress = show_progress
        self.aux = aux
        self.aux_weight = aux_weight
        self.aux_negatives = aux_negatives
        self.aux_delta = aux_delta
        self.aux_positive = aux_positive
        self.aux_confusable = aux_confusable
        self.aux_tau = aux_tau

    @staticmethod
    def check_labels(params: dict[str, Any], label_names: Sequence[str]) -> None:
        """Refuse, once the run's labels are known and before any work, ``aux_confusable`` pairs that are no two
        distinct indices of them, naming each index's label; ``params``: the classifier's, as a run gives them."""
        pairs = (params.get("aux_confusable") or ()) if params.get("aux") == "clld" else ()
        n = len(label_names)
        for pair in pairs:
            a, b = (int(x) for x in pair)
            if a == b or not (0 <= a < n and 0 <= b < n):
                order = ", ".join(f"{i} {name}" for i, name in enumerate(label_names))
                raise ConfigError(f"bert aux_confusable pair {[a, b]} is no two distinct indices of the run's "
                                  f"{n} labels, in [0, {n}); its labels in order: {order}; give pairs of those")

    # ------------------------------------------------------------------ fit

    def fit(
        self,
        X: Sequence[str],
        Y: sp.csr_matrix,
        X_dev: Sequence[str] | None = None,
        Y_dev: sp.csr_matrix | None = None,
    ) -> BertClassifier:
        """Fine-tune on ``X``; dev data drives early stopping and ``threshold="dev"``.

        Parameters
        ----------
        X : sequence of str, length n_samples
        Y : sparse matrix of shape (n_samples, n_labels), 0/1
        X_dev : sequence of str, length n_dev, optional
        Y_dev : sparse matrix of shape (n_dev, n_labels), 0/1, optional

        Returns
        -------
        self
        """
        self._check_params()
        texts, Y_train, dev = _check_fit_data(X, Y, X_dev, Y_dev)
        if dev is None and self.threshold == "dev":
            raise ConfigError('threshold="dev" needs dev data; pass X_dev and Y_dev or use threshold="fixed"')
        n_labels = Y_train.shape[1]

        self.device_ = torch.device(resolve_device(self.device))
        self.cpu_threads_ = torch.get_num_threads() if self.device_.type == "cpu" else None
        self._check_precision()
        generator = torch.Generator().manual_seed(self.seed)  # head initialisation, then shuffling
        cuda_devices = [self.device_] if self.device_.type == "cuda" else []
        # Model construction and dropout draw from torch's global generator: seed it, restore it after.
        with seeded_torch(self.seed, cuda_devices):
            self._prepare_model(n_labels, generator)
            dev_encoded = None if dev is None else (self._tokenize(dev[0]), dev[1])  # tokenised once per fit
            best_dev_proba = self._train(texts, Y_train, dev_encoded, generator)
        if (diverged := self._divergence()) is not None:
            warnings.warn(diverged, RuntimeWarning, stacklevel=2)

        if self.threshold == "dev":  # on the kept epoch's dev probabilities, computed when it was evaluated
            self.thresholds_ = tune_thresholds(best_dev_proba, dev[1])
        else:
            self.thresholds_ = np.full(n_labels, fixed_threshold(self.threshold), dtype=np.float32)
        return self

    def _train(
        self,
        texts: list[str],
        Y: np.ndarray,
        dev: tuple[dict[str, list[list[int]]], np.ndarray] | None,
        generator: torch.Generator,
    ) -> np.ndarray | None:
        """The epoch loop: early stopping on dev macro-F1 (``dev``: token ids and labels), best weights restored.

        Returns the kept epoch's dev probabilities, (n_dev, n_labels) float32, or None without dev data.
        """
        self.pos_weight_ = _pos_weight(Y) if self.pos_weight == "auto" else None
        loss_fn = nn.BCEWithLogitsLoss(
            pos_weight=None if self.pos_weight_ is None else torch.from_numpy(self.pos_weight_).to(self.device_)
        )
        encodings = self._tokenize(texts)
        targets = torch.from_numpy(Y.astype(np.float32))
        optimizer = torch.optim.AdamW(_param_groups(self.model_, self.weight_decay), lr=self.learning_rate)
        total_steps = max(1, self.max_epochs * -(-len(texts) // self.batch_size))
        scheduler = get_linear_schedule_with_warmup(optimizer, int(self.warmup_ratio * total_steps), total_steps)
        scaler = torch.amp.GradScaler("cuda") if self._autocast_dtype() == torch.float16 else None
        auxiliary = None if self.aux is None else self._auxiliary(Y.shape[1])

        self.train_loss_, self.dev_macro_f1_, self.aux_loss_ = [], [], []
        self.n_epochs_ = self.best_epoch_ = 0
        self.seconds_dev_ = 0.0
        best_f1, best_dev_proba = -1.0, None
        # the whole fit's progress, an epoch at a time: epochs of a few seconds each say nothing of their own
        with tempfile.TemporaryFile(prefix="al-best-epoch-") as best_weights, \
                progress(self.max_epochs, f"bert: fitting on {len(texts):,} texts (at most {self.max_epochs} epochs)",
                         unit="epochs", enabled=self.show_progress) as fitting:
            for epoch in range(1, self.max_epochs + 1):
                order = torch.randperm(len(texts), generator=generator).numpy()
                loss, aux_loss = self._train_epoch(encodings, targets, order, loss_fn, optimizer, scheduler, scaler,
                                                   epoch, auxiliary)
                self.train_loss_.append(loss)
                if auxiliary is not None:
                    self.aux_loss_.append(aux_loss)
                self.n_epochs_ = epoch
                if dev is None:  # nothing to stop on: all max_epochs run
                    self.best_epoch_ = epoch
                    fitting.update(1)
                    continue
                started = time.perf_counter()
                with self._passes_described(f"bert epoch {epoch}/{self.max_epochs}: "
                                            f"evaluating on {len(dev[1]):,} dev texts"):
                    dev_proba = self._forward_encoded(dev[0])[1]
                fitting.update(1)
                f1 = self._dev_macro_f1(dev_proba, dev[1])
                self.seconds_dev_ += time.perf_counter() - started
                self.dev_macro_f1_.append(f1)
                if f1 > best_f1:
                    best_f1, self.best_epoch_ = f1, epoch
                    best_dev_proba = dev_proba
                    if epoch < self.max_epochs:  # the last epoch's weights stay in the model anyway
                        best_weights.seek(0)
                        best_weights.truncate()
                        torch.save(self.model_.state_dict(), best_weights)
                elif epoch - self.best_epoch_ >= self.patience:
                    break
            # the optimizer's state is twice the model and the last step's gradients once: freed before the best
            # weights load, and never kept beside the fitted model
            del optimizer, scheduler
            self.model_.zero_grad(set_to_none=True)
            if 0 < self.best_epoch_ < self.n_epochs_:  # a later epoch was worse on dev: back to the best one
                best_weights.seek(0)
                self.model_.load_state_dict(torch.load(best_weights, map_location=self.device_, weights_only=True))
        if self.n_epochs_ == 0 and dev is not None and self.threshold == "dev":  # max_epochs=0: the weights as given
            with self._passes_described(f"bert: evaluating on {len(dev[1]):,} dev texts for the thresholds"):
                best_dev_proba = self._forward_encoded(dev[0])[1]
        return best_dev_proba

    #: A training loss this many times its lowest epoch's, or more, in the last epoch reads as diverged.
    DIVERGED_RISE = 2.0

    def _divergence(self) -> str | None:
        """What a warning says of the last fit's training loss where it diverged, else None.

        Diverged: an epoch's mean loss is not a number or infinite, or the
        last epoch's is above where the first began and :attr:`DIVERGED_RISE`
        times the lowest epoch's or more (a loss that stays positive: an aux
        objective of negative weight makes the sum negative, read as no sign).
        Both read as a learning rate too high for the encoder. With dev data
        the weights of the best epoch on dev are kept, which the warning names.
        """
        losses = [float(loss) for loss in self.train_loss_]
        fix = (f"learning_rate={self.learning_rate:g} is likely too high: lower it (1e-4 suits a small encoder "
               f"such as MiniLM, 2e-5 to 5e-5 bert-base)")
        best = self.best_epoch_

        def kept(diverged_at: int) -> str:
            return (f"the weights of epoch {best}, the best on dev, are kept; " if 0 < best < diverged_at else "")

        for epoch, loss in enumerate(losses, 1):
            if not np.isfinite(loss):
                weights = kept(epoch) or "its weights are no longer numbers, so it predicts no label; "
                return f"bert's training loss became {loss} in epoch {epoch} of {len(losses)}: {weights}{fix}"
        lowest = min(losses, default=0.0)
        if len(losses) >= 2 and lowest > 0 and losses[-1] >= max(self.DIVERGED_RISE * lowest, losses[0]):
            at = int(np.argmin(losses)) + 1
            return (f"bert's training loss rose from {lowest:.4g} in epoch {at} to {losses[-1]:.4g} in epoch "
                    f"{len(losses)}: training diverged; {kept(len(losses))}{fix}")
        return None

    def fit_seconds(self) -> dict[str, float]:
        """``{"dev": s}``: the last fit's per-epoch dev evaluations (forward passes and macro-F1)."""
        return {"dev": float(getattr(self, "seconds_dev_", 0.0))}

    def info(self) -> dict[str, Any]:
        """Epochs run, the epoch kept, the auxiliary objective and (on a CPU) the thread count, beside the thresholds;
        each epoch's mean training loss (``train_loss``: the loss minimised), with ``aux`` its auxiliary objective
        (``aux_loss``, unweighted), and with dev data its dev macro-F1 (``dev_macro_f1``, which picks the epoch
        kept), six decimals."""
        out = {**super().info(), "n_epochs": int(self.n_epochs_), "best_epoch": int(self.best_epoch_), "aux": self.aux}
        if getattr(self, "cpu_threads_", None) is not None:  # a fine-tuning's last bits depend on it
            out["cpu_threads"] = self.cpu_threads_
        if self.aux is not None:
            out["aux_weight"] = self._aux_weight()
        for key in ("train_loss", "aux_loss", "dev_macro_f1"):
            if values := getattr(self, f"{key}_", None):  # a loss that overflowed (fp16): null, strict JSON
                out[key] = [round(float(value), 6) if np.isfinite(value) else None for value in values]
        return out

    def _aux_weight(self) -> float:
        return float(AUX_WEIGHT[self.aux] if self.aux_weight is None else self.aux_weight)

    def _auxiliary(self, n_labels: int) -> _Auxiliary:
        """The auxiliary objective of this fit, with its own generator and label-distance matrix."""
        from al.spaces.objectives import static_label_distance

        return _Auxiliary(
            kind=self.aux,
            weight=self._aux_weight(),
            positive=self.aux_positive,
            negatives=int(self.aux_negatives),
            delta=float(self.aux_delta),
            rng=np.random.default_rng(self.seed),
            ldm=static_label_distance(n_labels, self.aux_confusable, self.aux_tau) if self.aux == "clld" else None,
        )

    def _prepare_model(self, n_labels: int, generator: torch.Generator) -> None:
        """A fresh model from the pretrained checkpoint, or the previous one under ``warm_start``."""
        if self.warm_start and hasattr(self, "model_"):
            if self.n_labels_ != n_labels:
                raise ConfigError(
                    f"warm_start needs the labels of the previous fit: Y has {n_labels} columns, "
                    f"the fitted head {self.n_labels_}; set warm_start=False to start afresh"
                )
        else:
            path = resolve_model(self.model)
            with quiet_loading():
                self.tokenizer_ = AutoTokenizer.from_pretrained(path)
                encoder = AutoModel.from_pretrained(path)
            limit = token_limit(encoder.config, self.tokenizer_)
            if limit is not None and self.max_length > limit:
                raise ConfigError(f"max_length {self.max_length} is more tokens than {self.model} reads ({limit}: "
                                  f"its position embeddings); give at most max_length={limit}")
            self.model_ = _EncoderWithHead(encoder, n_labels, generator)
        self.n_labels_ = n_labels
        self.model_.to(self.device_)

    def _train_epoch(
        self,
        encodings: dict[str, list[list[int]]],
        targets: torch.Tensor,
        order: np.ndarray,
        loss_fn: nn.Module,
        optimizer: torch.optim.Optimizer,
        scheduler: torch.optim.lr_scheduler.LRScheduler,
        scaler: torch.amp.GradScaler | None,
        epoch: int,
        auxiliary: _Auxiliary | None = None,
    ) -> tuple[float, float | None]:
        """One pass over the training data in the given order; mean batch loss and mean auxiliary objective."""
        self.model_.train()
        starts = range(0, len(order), self.batch_size)
        losses, aux_losses = [], []
        with progress(len(order), f"bert epoch {epoch}/{self.max_epochs}", unit="texts",
                      enabled=self.show_progress) as bar:
            for start in starts:
                loss, aux_loss = self._train_step(encodings, targets, order[start : start + self.batch_size],
                                                  loss_fn, optimizer, scheduler, scaler, epoch, auxiliary)
                losses.append(loss)
                aux_losses.append(aux_loss)
                bar.update(len(order[start : start + self.batch_size]))
        return float(np.mean(losses)), None if auxiliary is None else float(np.mean(aux_losses))

    def _train_step(
        self,
        encodings: dict[str, list[list[int]]],
        targets: torch.Tensor,
        idx: np.ndarray,
        loss_fn: nn.Module,
        optimizer: torch.optim.Optimizer,
        scheduler: torch.optim.lr_scheduler.LRScheduler,
        scaler: torch.amp.GradScaler | None,
        epoch: int = 1,
        auxiliary: _Auxiliary | None = None,
    ) -> tuple[float, float | None]:
        """One optimisation step on the texts ``idx``; the batch's loss and auxiliary objective."""
        batch = self._pad(encodings, idx)
        if auxiliary is not None and auxiliary.kind == "clld":  # both dropout views in one pass
            batch = {key: torch.cat([value, value]) for key, value in batch.items()}
        # the last step's gradients (the model's size) go before the forward pass, not beside its activations
        optimizer.zero_grad(set_to_none=True)
        with self._forward_kernels():
            cls, logits = self.model_(batch)
        if auxiliary is None:
            loss, aux_loss = loss_fn(logits.float(), targets[idx].to(self.device_)), None
        else:
            loss, aux_loss = auxiliary(cls.float(), logits.float(), targets[idx], loss_fn, epoch)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(self.model_.parameters(), 1.0)
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            nn.utils.clip_grad_norm_(self.model_.parameters(), 1.0)
            optimizer.step()
        scheduler.step()
        return loss.item(), None if aux_loss is None else aux_loss.item()

    def _dev_macro_f1(self, proba: np.ndarray, Y_dev: np.ndarray) -> float:
        """Dev macro-F1 of dev probabilities (n_dev, n_labels) at the thresholds this model would be fitted with."""
        thresholds = tune_thresholds(proba, Y_dev) if self.threshold == "dev" else fixed_threshold(self.threshold)
        return macro_f1(Y_dev, proba >= thresholds)

    # ------------------------------------------------------------- inference

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        """Per-label sigmoid probabilities.

        Parameters
        ----------
        X : sequence of str, length n_samples

        Returns
        -------
        ndarray of shape (n_samples, n_labels), float32
        """
        self._check_fitted()
        return self._forward(_check_texts(X, "X", allow_empty=True))[1]

    def transform(self, X: Sequence[str]) -> np.ndarray:
        """The [CLS] representation the output layer sees (before dropout).

        Parameters
        ----------
        X : sequence of str, length n_samples

        Returns
        -------
        ndarray of shape (n_samples, hidden_size), float32
        """
        self._check_fitted()
        texts = _check_texts(X, "X", allow_empty=True)
        with self._passes_described(self._pass_desc or f"bert: representations of {len(texts):,} texts"):
            return self._forward(texts)[0]

    def _forward(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(cls, proba)`` of ``texts`` in input order."""
        return self._forward_encoded(self._tokenize(texts) if texts else {"input_ids": []})

    def _forward_encoded(self, encodings: dict[str, list[list[int]]]) -> tuple[np.ndarray, np.ndarray]:
        """``(cls, proba)`` of tokenised texts in input order, computed in length-sorted batches.

        Its progress (:mod:`al.progress`) counts texts, estimates the time left from the
        padded tokens (the longest texts run first) and is described by the caller's
        :meth:`_passes_described`, else ``bert: predicting N texts``.
        """
        n = len(encodings["input_ids"])
        desc = self._pass_desc or f"bert: predicting {n:,} texts"
        batches, tokens = self._inference_batches(encodings)
        cls = np.empty((n, self.model_.encoder.config.hidden_size), dtype=np.float32)
        proba = np.empty((n, self.n_labels_), dtype=np.float32)
        was_training = self.model_.training
        self.model_.eval()
        with torch.inference_mode(), progress(n, desc, unit="texts", enabled=self.show_progress,
                                              work=sum(tokens)) as bar:
            for idx, work in zip(batches, tokens):
                with self._forward_kernels():
                    batch_cls, logits = self.model_(self._pad(encodings, idx))
                cls[idx] = batch_cls.float().cpu().numpy()
                proba[idx] = torch.sigmoid(logits.float()).cpu().numpy()
                bar.update(len(idx), work=work)
        self.model_.train(was_training)
        return cls, proba

    def describe_passes(self, purpose: str) -> AbstractContextManager[None]:
        """Inside the block, prediction passes show ``bert: predicting PURPOSE`` (see :class:`Classifier`)."""
        return self._passes_described(f"bert: predicting {purpose}")

    @contextmanager
    def _passes_described(self, desc: str) -> Iterator[None]:
        """Inside the block, the progress of :meth:`_forward_encoded` reads ``desc`` (what the pass is for)."""
        before, self._pass_desc = self._pass_desc, desc
        try:
            yield
        finally:
            self._pass_desc = before

    def _inference_batches(self, encodings: dict[str, list[list[int]]]) -> tuple[list[np.ndarray], list[int]]:
        """Rows of each inference batch and its padded tokens (rows x longest).

        Texts by decreasing token count (ties in input order), ``eval_batch_size`` at a time.
        """
        lengths = [len(ids) for ids in encodings["input_ids"]]
        order = np.argsort([-length for length in lengths], kind="stable")
        batches = [order[start : start + self.eval_batch_size] for start in range(0, len(order), self.eval_batch_size)]
        return batches, [len(idx) * lengths[idx[0]] for idx in batches]

    # --------------------------------------------------------------- helpers

    def _tokenize(self, texts: list[str]) -> dict[str, list[list[int]]]:
        """Token ids without padding (padding happens per batch)."""
        return dict(self.tokenizer_(texts, truncation=True, max_length=self.max_length))

    def _pad(self, encodings: dict[str, list[list[int]]], idx: np.ndarray) -> dict[str, torch.Tensor]:
        """The rows ``idx`` padded to their longest member, as tensors on the device."""
        rows = {key: [values[i] for i in idx] for key, values in encodings.items()}
        batch = self.tokenizer_.pad(rows, return_tensors="pt")
        return {key: value.to(self.device_) for key, value in batch.items()}

    def _autocast_dtype(self) -> torch.dtype | None:
        """The autocast dtype on this fit's device; None for fp32."""
        if self.mixed_precision == "no":
            return None
        if self.device_.type != "cuda":
            return torch.bfloat16 if self.mixed_precision == "bf16" else None
        if self.mixed_precision == "auto":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.bfloat16 if self.mixed_precision == "bf16" else torch.float16

    @contextmanager
    def _forward_kernels(self) -> Iterator[None]:
        """Around each forward pass: autocast, and on a GPU attention without cuDNN's (:func:`cudnn_attention_off`)."""
        with autocast(self.device_, self._autocast_dtype()), cudnn_attention_off(self.device_):
            yield

    def _check_precision(self) -> None:
        """bf16 on a CPU without native bf16 runs, slowly, and says so (fp16 on a CPU: :meth:`_check_params`)."""
        if self.device_.type != "cuda" and self.mixed_precision == "bf16":
            warn_if_bf16_emulated("mixed_precision='bf16'", "mixed_precision='no'")

    def _check_params(self) -> None:
        if not isinstance(self.model, (str, os.PathLike)) or not str(self.model).strip():  # null: a traceback had come
            raise ConfigError(f"model must name the encoder to fine-tune, a hub name or a local folder, got "
                              f"{spelled(self.model)}; "
                              f"leave it out to fine-tune the run's --model")
        for name in ("max_length", "batch_size", "eval_batch_size", "patience"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {spelled(value)}; {checks.FIX}")
        if not isinstance(self.max_epochs, (int, np.integer)) or self.max_epochs < 0:
            raise ConfigError(f"max_epochs must be a non-negative integer, got {spelled(self.max_epochs)}; "
                              f"{checks.FIX}")
        rate = self.learning_rate
        if isinstance(rate, str):  # text: the run's check of the parameter's kind says so, with an example
            raise TypeError(f"learning_rate must be a number, got {rate!r}")
        if isinstance(rate, bool) or not isinstance(rate, (int, float, np.number)) or not 0 < rate < np.inf:
            raise ConfigError(f"learning_rate must be a positive number, got {spelled(self.learning_rate)}; give one "
                              f"such (1e-4 suits MiniLM, 2e-5 to 5e-5 bert-base), or leave it out for its default")
        checks.number("bert", "weight_decay", self.weight_decay, 0.0)
        if not 0 <= self.warmup_ratio < 1:
            raise ConfigError(f"warmup_ratio must lie in [0, 1), got {spelled(self.warmup_ratio)}; {checks.FIX}")
        fixed_threshold(self.threshold)
        choices = {
            "pos_weight": ("auto", None),
            "mixed_precision": ("auto", "bf16", "fp16", "no"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                shown = ", ".join("null" if choice is None else choice for choice in allowed)  # as written in YAML
                raise ConfigError(f"{name} must be one of {shown}, got {spelled(getattr(self, name))}; give one of "
                                  f"them, or leave it out for its default")
        on_cpu = self.device == "cpu" or (self.device == "auto" and not torch.cuda.is_available())
        if self.mixed_precision == "fp16" and on_cpu:  # a missing GPU for device="cuda" is the fit's to report
            raise ConfigError(f"mixed_precision='fp16' needs cuda, and device {self.device!r} runs on the cpu; "
                              "use 'bf16' (CPUs with AVX512-BF16 or AMX) or 'no'")
        self._check_aux_params()

    def _check_aux_params(self) -> None:
        if self.aux is not None and self.aux not in AUX:
            raise ConfigError(f"bert aux must be one of {', '.join(AUX)} (or null for none), got {spelled(self.aux)}")
        if self.aux_positive not in ("shares", "exact"):
            raise ConfigError(f"bert aux_positive must be one of shares, exact, got {spelled(self.aux_positive)}"
                              f"{did_you_mean([str(self.aux_positive)], ('shares', 'exact'))}; {checks.FIX}")
        if self.aux is not None:  # a batch of one text has no pair to compare: the objective would add nothing
            checks.integer("bert", "batch_size", self.batch_size, at_least=2,
                           why=f"aux={self.aux} compares the texts of a batch")
            if self.max_epochs == 0:
                raise ConfigError(f"bert aux={self.aux!r} is read by nothing with max_epochs=0 (nothing trains); give "
                                  f"max_epochs of 1 or more, or leave aux out")
        checks.integer("bert", "aux_negatives", self.aux_negatives, at_least=2 if self.aux == "am" else 1,
                       why="am draws one positive, then negatives" if self.aux == "am" else "")
        if self.aux_weight is not None:
            if isinstance(self.aux_weight, bool) or not isinstance(self.aux_weight, (int, float)) \
                    or not np.isfinite(self.aux_weight):
                raise ConfigError(f"bert aux_weight must be a finite number or null (the paper's), got "
                                  f"{spelled(self.aux_weight)}; give one such, or leave it out for the paper's")
            if self.aux == "clld" and not 0 <= self.aux_weight <= 1:
                raise ConfigError(f"bert aux_weight is CLLD's lambda, the weight of BCE, and must lie in [0, 1]; "
                                  f"got {spelled(self.aux_weight)}")
            if self.aux in ("aan", "am") and self.aux_weight < 0:  # as the head space's (SNNL's alpha may be < 0)
                raise ConfigError(f"bert aux_weight is {self.aux.upper()}'s weight of its auxiliary loss and must be "
                                  f"at least 0 (a negative one rewards the similarity the loss penalises), got "
                                  f"{spelled(self.aux_weight)}; give 0 or more, or leave it out for the paper's 1.0")
        for name, value, low_open in (("aux_delta", self.aux_delta, False), ("aux_tau", self.aux_tau, True)):
            checks.number("bert", name, value, 0.0, low_open=low_open)
        readers = {"aux_weight": AUX, "aux_negatives": ("aan", "am"), "aux_delta": ("am",),
                   "aux_positive": AUX, "aux_confusable": ("clld",), "aux_tau": ("clld",)}
        defaults = {name: p.default for name, p in inspect.signature(BertClassifier.__init__).parameters.items()
                    if name.startswith("aux_")}  # a parameter set to other than this needs an aux that reads it
        unread = [name for name, by in readers.items()
                  if self.aux not in by and _given(getattr(self, name), defaults[name])]
        if self.aux == "clld" and not _given(self.aux_confusable, ()) and _given(self.aux_tau, defaults["aux_tau"]):
            raise ConfigError(f"bert aux_tau={self.aux_tau!r} is read by nothing: CLLD puts it on the aux_confusable "
                              f"label pairs, and none is given; give aux_confusable=[[i, j], ...], or leave aux_tau out")
        if unread:
            readers_of = ", ".join(f"{name} by aux={'/'.join(readers[name])}" for name in unread)
            raise ConfigError(f"bert {', '.join(unread)} {'is' if len(unread) == 1 else 'are'} read by nothing with "
                              f"aux={self.aux!r} ({readers_of}); give that aux, or leave "
                              f"{'it' if len(unread) == 1 else 'them'} out")
        pairs = self.aux_confusable
        if not isinstance(pairs, (list, tuple)) or not all(
            isinstance(pair, (list, tuple)) and len(pair) == 2
            and all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in pair)
            for pair in pairs
        ):
            count = (" (a count of pairs is a fitted space's confusable=k; bert's aux_confusable names the pairs)"
                     if isinstance(pairs, (int, np.integer)) and not isinstance(pairs, bool) else "")
            raise ConfigError(f"bert aux_confusable must be a list of label index pairs such as [[0, 1], [2, 5]] "
                              f"(indices in the run's label order), got {spelled(pairs)}{count}")
        seen: dict[frozenset[int], list[int]] = {}
        for pair in pairs:
            key = frozenset(int(x) for x in pair)
            if key in seen:  # [[0, 1], [1, 0]]: one pair, its tau set twice (a typo, most likely)
                raise ConfigError(f"bert aux_confusable lists the pair {list(seen[key])} twice (as {list(pair)}: a "
                                  f"pair is unordered); name each pair once")
            seen[key] = [int(x) for x in pair]

    def predict_proba_dropout(self, X: Sequence[str], n_samples: int, seed: int) -> np.ndarray:
        """Per-label probabilities of ``n_samples`` stochastic forward passes with dropout on (MC dropout).

        Every dropout layer of the encoder and the head stays active, as in
        training; nothing else changes and no weight is updated. The same seed
        gives the same samples on cpu; global random state is left as it was.

        Parameters
        ----------
        X : sequence of str, length n
        n_samples : int
            T, the number of passes.
        seed : int
            Seeds the dropout masks.

        Returns
        -------
        ndarray of shape (n_samples, n, n_labels), float32

        References
        ----------
        Gal and Ghahramani, "Dropout as a Bayesian Approximation", ICML 2016.
        """
        self._check_fitted()
        if not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
            raise ConfigError(f"n_samples must be a positive integer, got {spelled(n_samples)}")
        texts = _check_texts(X, "X", allow_empty=True)
        out = np.empty((n_samples, len(texts), self.n_labels_), dtype=np.float32)
        encodings = self._tokenize(texts) if texts else {"input_ids": []}
        batches, tokens = self._inference_batches(encodings)
        was_training = self.model_.training
        cuda_devices = [self.device_] if self.device_.type == "cuda" else []
        with seeded_torch(seed, cuda_devices):
            self.model_.train()  # dropout on
            try:
                with torch.inference_mode(), progress(
                    n_samples * len(texts), f"bert: {n_samples} dropout passes over {len(texts):,} texts",
                    unit="texts", enabled=self.show_progress, work=n_samples * sum(tokens),
                ) as bar:
                    for t in range(n_samples):
                        for idx, work in zip(batches, tokens):
                            with self._forward_kernels():
                                _, logits = self.model_(self._pad(encodings, idx))
                            out[t, idx] = torch.sigmoid(logits.float()).cpu().numpy()
                            bar.update(len(idx), work=work)
            finally:
                self.model_.train(was_training)
        return out


def _check_fit_data(
    X: Sequence[str], Y: sp.spmatrix, X_dev: Sequence[str] | None, Y_dev: sp.spmatrix | None
) -> tuple[list[str], np.ndarray, tuple[list[str], np.ndarray] | None]:
    """``(texts, Y, dev)`` checked for matching shapes; ``dev`` is ``(texts, Y)`` or None."""
    texts = _check_texts(X, "X")
    Y_dense = _check_labels(Y, "Y", len(texts))
    if X_dev is None and Y_dev is None:
        return texts, Y_dense, None
    if X_dev is None or Y_dev is None:
        raise ConfigError("pass both X_dev and Y_dev, or neither")
    dev_texts = _check_texts(X_dev, "X_dev")
    Y_dev_dense = _check_labels(Y_dev, "Y_dev", len(dev_texts))
    if Y_dev_dense.shape[1] != Y_dense.shape[1]:
        raise ConfigError(f"Y_dev has {Y_dev_dense.shape[1]} label columns, Y has {Y_dense.shape[1]}; they must match")
    return texts, Y_dense, (dev_texts, Y_dev_dense)


def _check_texts(X: Sequence[str], name: str, allow_empty: bool = False) -> list[str]:
    if isinstance(X, str):
        raise ConfigError(f"{name} must be a sequence of texts, got a single str")
    texts = list(X)
    if not texts and not allow_empty:
        raise ConfigError(f"{name} holds no texts")
    bad = next((t for t in texts if not isinstance(t, str)), None)
    if bad is not None:
        raise ConfigError(f"{name} must hold only str, found {type(bad).__name__}: {bad!r}")
    return texts


def _check_labels(Y: sp.spmatrix | np.ndarray, name: str, n_rows: int) -> np.ndarray:
    """Dense 0/1 int8 copy of ``Y``, checked to have ``n_rows`` rows."""
    dense = Y.toarray() if sp.issparse(Y) else np.asarray(Y)
    if dense.ndim != 2 or dense.shape[1] < 1:
        raise ConfigError(f"{name} must be a matrix of shape (n_samples, n_labels), got shape {dense.shape}")
    if dense.shape[0] != n_rows:
        raise ConfigError(f"{name} has {dense.shape[0]} rows but there are {n_rows} texts; they must match")
    return (dense != 0).astype(np.int8)


def _pos_weight(Y: np.ndarray) -> np.ndarray:
    """``n_neg / n_pos`` per label, clipped to [1, MAX_POS_WEIGHT]; 1 where a label has no positive."""
    n_pos = Y.sum(axis=0).astype(np.float64)
    ratio = np.divide(len(Y) - n_pos, n_pos, out=np.ones_like(n_pos), where=n_pos > 0)
    return np.clip(ratio, 1.0, MAX_POS_WEIGHT).astype(np.float32)


def _given(value: Any, default: Any) -> bool:
    """Whether a parameter was set to other than its default (an empty list of pairs is the empty default)."""
    if isinstance(default, tuple):
        return isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)) or tuple(value) != default
    return value != default


def _param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """AdamW groups: no weight decay on biases and LayerNorm weights."""
    decay, no_decay = [], []
    for param in model.parameters():
        (no_decay if param.ndim < 2 else decay).append(param)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


@dataclass
class _Auxiliary:
    """One fit's auxiliary objective: the per-batch loss given the batch's pooled vectors."""

    kind: str
    weight: float
    positive: str
    negatives: int
    delta: float
    rng: np.random.Generator
    ldm: np.ndarray | None

    def __call__(
        self, cls: torch.Tensor, logits: torch.Tensor, targets: torch.Tensor, loss_fn: nn.Module, epoch: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(loss minimised, auxiliary objective)`` of one batch.

        Parameters
        ----------
        cls : Tensor of shape (M, hidden), or (2M, hidden) for CLLD (both views stacked)
        logits : Tensor of shape (M, n_labels), or (2M, n_labels) for CLLD
        targets : Tensor of shape (M, n_labels), 0/1 float, on the cpu
        loss_fn : the task loss (BCE with logits)
        epoch : int, counted from 1
        """
        from al.spaces import objectives as obj

        Y = targets.numpy()
        m = len(Y)
        task = loss_fn(logits[:m], targets.to(logits.device))
        if self.kind == "clld":
            aux = obj.clld_contrastive_loss(cls, Y, self.ldm, self.positive)
            return self.weight * task + (1.0 - self.weight) * aux, aux
        if self.kind == "snnl":
            aux = obj.soft_nearest_neighbour_loss(cls, Y, obj.annealed_temperature(epoch - 1), self.positive)
        else:
            margin = self.kind == "am"
            pos, neg = obj.sample_negative_supervision(Y, self.rng, self.negatives, margin, self.positive)
            neg = torch.from_numpy(neg).to(cls.device)
            negatives = cls[neg.clamp(min=0)]
            if margin:
                pos = torch.from_numpy(pos).to(cls.device)
                aux = obj.margin_loss(cls, cls[pos.clamp(min=0)], negatives, neg >= 0, self.delta,
                                      positive_mask=pos >= 0)
            else:
                aux = obj.negative_supervision_loss(cls, negatives, neg >= 0)
        return task + self.weight * aux, aux
