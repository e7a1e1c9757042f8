"""Encoder scope: fine-tune the sentence encoder itself on the labeled texts, then re-embed.

The papers' setting (seeds 000, 003, 004 fine-tune their encoders). Every fit
starts from the pretrained weights, so a space is a function of the labeled
set and the seed alone, never of the fits before it. CEA trains through
sentence-transformers' own ``CosineSimilarityLoss`` on the pairs of seed 000's
Algorithm 1, drawn afresh every epoch (which is why the loop is ours and not
the library's trainer: its dataset is fixed for all epochs); the other
objectives add a linear multi-label output layer on the sentence embedding
and train it with the encoder. Each encoder keeps its own pooling (mean for
MiniLM; seed 000 pools with [CLS], l.249). On a GPU, ``amp`` trains in
bfloat16 / float16 autocast. The re-embedding follows the run's
``embed_precision`` as the pretrained vectors do (``run_params``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Sequence

import numpy as np
import scipy.sparse as sp

from al.errors import ALError, ConfigError, DataError
from al.spaces.training import Batch, batch_loss, check_fit, check_space_settings, minibatches, resolve_params


class EncoderSpace:
    """Fine-tune a sentence-transformers encoder with one of the objectives.

    Parameters
    ----------
    objective : {"cea", "snnl", "aan", "am", "clld"}
    model : str
        The sentence encoder (name or local directory, :func:`al.models.resolve_model`);
        the run's ``--model`` unless given.
    epochs, batch_size, learning_rate, max_length : training (AdamW); CEA's batches are of pairs.
    positive : {"shares", "exact"}
    alpha, eta, gamma, aux_weight, negatives, delta, lam : the objectives' weights
        (see :class:`al.spaces.head.HeadSpace`); None: the papers'. CLLD uses a
        static all-ones label-distance matrix in this scope, and contrasts the
        encoder's sentence embeddings themselves (its two dropout passes), with
        no MLP projection head between (seed 003 eq. 3 has one; the head scope's
        network plays that part there).
    amp : bool
        Mixed precision of the fine-tuning on a GPU (ignored on CPU).
    device : str
        ``auto``, ``cpu`` or ``cuda``; set by the run.
    precision : {"fp32", "bf16"}
        Arithmetic of the re-embedding passes (:class:`al.embedders.SentenceEmbedder`);
        set by the run's ``embed_precision``, so a bf16 run's fitted space is
        embedded as its pretrained one is. The fine-tuning itself is ``amp``'s.
    """

    input = "texts"
    scope = "encoder"
    uses_dev = False
    run_params: ClassVar[dict[str, str]] = {"precision": "embed_precision"}  # constructor parameter -> run setting

    def __init__(
        self, objective: str = "cea", *, model: str = "all-MiniLM-L6-v2", epochs: int = 1, batch_size: int = 16,
        learning_rate: float = 2e-5, max_length: int = 128, positive: str = "shares",
        alpha: float | None = None, eta: float | None = None, gamma: float | None = None,
        aux_weight: float | None = None, negatives: int | None = None, delta: float | None = None,
        lam: float | None = None, amp: bool = True, device: str = "auto", precision: str = "fp32",
    ) -> None:
        self.objective = objective
        self.model = model
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.max_length = max_length
        self.positive = positive
        self.alpha = alpha
        self.eta = eta
        self.gamma = gamma
        self.aux_weight = aux_weight
        self.negatives = negatives
        self.delta = delta
        self.lam = lam
        self.amp = amp
        self.device = device
        self.precision = precision

    def check(self) -> None:
        """Refuse bad settings before any data loads (a ``model`` given as a path: that it holds a model)."""
        from al.models import resolve_model

        check_space_settings(self, ("epochs", "batch_size", "max_length"))
        text = str(self.model)
        if text.startswith((".", "/", "~")) or Path(text).expanduser().exists():  # a path: checked here, no hub
            try:
                resolve_model(text)
            except ALError as exc:
                raise ConfigError(f"space {self.objective!r} (encoder scope) param model: {exc}") from None

    def check_model(self) -> None:
        """Refuse a ``max_length`` over the model's token limit, read from its ``config.json`` alone: before any
        data loads or embeds (the fit checks it again on the loaded model)."""
        from transformers import AutoConfig

        from al.models import resolve_model, token_limit

        try:
            config = AutoConfig.from_pretrained(str(resolve_model(self.model)))
        except Exception:  # noqa: BLE001 - a model this cannot read: the fit loads it and says what is wrong
            return
        self._check_limit(token_limit(config))

    def _check_limit(self, limit: int | None) -> None:
        if limit is not None and self.max_length > limit:
            raise ConfigError(f"space {self.objective!r} (encoder scope) max_length {self.max_length} is more "
                              f"tokens than {self.model} reads ({limit}: its position embeddings); give at most "
                              f"max_length={limit}")

    def fit(self, inputs: Sequence[str], Y: sp.csr_matrix, seed: int, dev_inputs: Any = None,
            Y_dev: sp.csr_matrix | None = None) -> "FittedEncoder":
        """Fine-tune from the pretrained weights on the labeled ``inputs`` (texts) and ``Y`` (n, n_labels)."""
        import torch
        from sentence_transformers import SentenceTransformer

        from al.device import cudnn_attention_off, resolve_device, seeded_torch
        from al.models import quiet_loading, resolve_model, token_limit
        from al.progress import progress
        from al.spaces.objectives import sample_cea_pairs

        self.check()
        texts = list(inputs)
        Y_dense = (Y.toarray() if sp.issparse(Y) else np.asarray(Y)).astype(np.float32)
        if len(texts) != len(Y_dense) or len(texts) < 2:
            raise DataError(f"a space needs at least 2 labeled texts with one label row each, got {len(texts)} "
                            f"texts and {len(Y_dense)} label rows")
        device = resolve_device(self.device)
        rng = np.random.default_rng(seed)
        params = resolve_params(self.objective, {k: getattr(self, k) for k in
                                                 ("alpha", "eta", "gamma", "aux_weight", "negatives", "delta",
                                                  "lam")}) if self.objective != "cea" else {}
        with seeded_torch(seed, [] if device == "cpu" else [torch.device(device)]):
            with quiet_loading():
                encoder = SentenceTransformer(str(resolve_model(self.model)), device=device)
            self._check_limit(token_limit(encoder[0].auto_model.config))  # its tokenizer says max_seq_length
            encoder.max_seq_length = self.max_length
            dimension = getattr(encoder, "get_embedding_dimension", None) or encoder.get_sentence_embedding_dimension
            dim = dimension()
            output = torch.nn.Linear(dim, Y_dense.shape[1]).to(device)
            parameters = list(encoder.parameters()) + ([] if self.objective == "cea" else list(output.parameters()))
            optimiser = torch.optim.AdamW(parameters, lr=self.learning_rate)
            autocast = _autocast(device, self.amp)
            encoder.train()
            Y_t = torch.from_numpy(Y_dense).to(device)
            losses: list[float] = []
            if self.objective == "cea":
                from sentence_transformers.sentence_transformer.losses import CosineSimilarityLoss

                cosine_loss = CosineSimilarityLoss(encoder)
            steps = self.epochs * -(-(2 * len(texts) if self.objective == "cea" else len(texts)) // self.batch_size)
            # on a GPU without cuDNN's attention, which builds a plan at each padded shape met first (al.device)
            with progress(steps, f"fitting the {self.objective} encoder space", unit="batches") as bar, \
                    cudnn_attention_off(device):
                for epoch in range(self.epochs):
                    total, count = 0.0, 0
                    if self.objective == "cea":
                        anchors, partners, targets = sample_cea_pairs(Y_dense, rng, positive=self.positive)
                        # the pairs drawn (a text without a partner sharing a label has one, not two): the total
                        # the bar counts towards, taking each epoch to come as this one
                        batches = -(-len(anchors) // self.batch_size)
                        bar.total = bar.n + batches * (self.epochs - epoch)
                        for rows in minibatches(len(anchors), self.batch_size, rng):
                            features = [self._tokens(encoder, [texts[i] for i in anchors[rows]], device),
                                        self._tokens(encoder, [texts[i] for i in partners[rows]], device)]
                            labels = torch.as_tensor(np.asarray(targets)[rows], dtype=torch.float32, device=device)
                            optimiser.zero_grad()  # before the forward pass: never beside its activations
                            with autocast:
                                loss = cosine_loss(features, labels)
                            total, count = _step(optimiser, loss, total, count, len(rows))
                            bar.update(1)
                    else:
                        for rows in minibatches(len(texts), self.batch_size, rng):
                            if len(rows) < 2:
                                bar.update(1)
                                continue
                            tokens = self._tokens(encoder, [texts[i] for i in rows], device)
                            optimiser.zero_grad()  # before the forward pass: never beside its activations
                            with autocast:
                                z = encoder(dict(tokens))["sentence_embedding"]
                                second = (encoder(dict(tokens))["sentence_embedding"]
                                          if self.objective == "clld" else None)
                                batch = Batch([z.float()], output(z.float()), Y_t[rows],
                                              None if second is None else second.float())
                                loss = batch_loss(self.objective, batch, epoch, rng, params, self.positive)
                            total, count = _step(optimiser, loss, total, count, len(rows))
                            bar.update(1)
                    losses.append(total / max(count, 1))
        encoder.eval()
        check_fit(self.objective, "encoder", losses, self.learning_rate, np.zeros(0))  # NaN weights: NaN loss
        facts = {"epochs": self.epochs, "loss": round(losses[-1], 5), "loss_first_epoch": round(losses[0], 5),
                 "device": device}
        if device == "cpu":  # a fine-tuning's last bits depend on torch's thread count
            facts["cpu_threads"] = torch.get_num_threads()
        if self.precision != "fp32":  # fp32 records stay as they were
            facts["embed_precision"] = self.precision
        return FittedEncoder(encoder, self.model, facts, self.precision)

    @staticmethod
    def _tokens(encoder: Any, texts: list[str], device: str) -> dict[str, Any]:
        prepare = getattr(encoder, "preprocess", None) or encoder.tokenize  # tokenize: sentence-transformers < 6
        return {k: v.to(device) if hasattr(v, "to") else v for k, v in prepare(texts).items()}


def _autocast(device: str, amp: bool) -> Any:
    import contextlib

    import torch

    if amp and device.startswith("cuda"):
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.autocast("cuda", dtype=dtype)
    return contextlib.nullcontext()


def _step(optimiser: Any, loss: Any, total: float, count: int, size: int) -> tuple[float, int]:
    """Backward and update (the gradients were dropped before the forward pass); the running loss sum and count."""
    loss.backward()
    optimiser.step()
    return total + float(loss.detach()) * size, count + size


@dataclass
class FittedEncoder:
    """A fine-tuned encoder: :meth:`transform` embeds texts in canonical batches (like the cache does), in ``precision``."""

    encoder: Any
    model: str
    facts: dict[str, Any]
    precision: str = "fp32"

    def transform(self, inputs: Sequence[str]) -> np.ndarray:
        """Adapted vectors of the texts: ndarray (n, dim), float32, unit L2 norm."""
        from al.embedders import SentenceEmbedder

        embedder = SentenceEmbedder(self.model, cache=False, max_length=self.encoder.max_seq_length,
                                    precision=self.precision)
        embedder._encoder = self.encoder  # the fine-tuned weights, never written to the shared cache
        # its max_length is the space's (--space-param max_length), not the model's own
        embedder.reader = "the fitted encoder's max_length (--space-param max_length) of"
        embedder.described_as = f"the fitted encoder (fine-tuned {self.model})"
        return embedder.encode(list(inputs))

    def info(self) -> dict[str, Any]:
        return dict(self.facts)
