"""Surprisal embeddings from a masked language model (the representation ALPS clusters).

Each text becomes a vector of length ``MAX_LENGTH``: the unmasked text goes
through a masked language model, and at about 15% of its token positions
(chosen at random, once per text, see :func:`choose_positions`) the vector
holds the cross-entropy -log p(token) of the MLM head, 0 elsewhere; then it
is L2-normalised.

A text's vector depends on the text, the model, its head, the seed and the
precision (fp32, or bf16 autocast for the encoder) alone,
never on the texts computed beside it: the encoder runs in canonical batches
(:func:`al.embedders.canonical_batches`) and the head in passes of exactly
``HEAD_ROWS`` rows. A head fitted on the pool (for models shipped without
one, see :func:`fit_mlm_head`) is fitted on one CPU thread, so it does not
depend on the machine's thread count. Heads and vectors are cached under
``$AL_CACHE_DIR/alps``.

References
----------
Yuan, Lin, Boyd-Graber, "Cold-start Active Learning through Self-supervised
Language Modeling", EMNLP 2020.
"""
from __future__ import annotations

import hashlib
import threading
import warnings
from typing import Any, Iterator, NamedTuple, Sequence

import numpy as np
from scipy.special import logsumexp

from al.cache import cache_dir, cache_lock, mark_used
from al.embedders import (CANONICAL, PARTIAL, PRECISIONS, CanonicalBatch, EmbeddingCache, bucket_length,
                          canonical_batches, encoder_passes, padded_tokens, precision_key, text_keys)
from al.checks import FIX
from al.errors import ConfigError, ModelError, spelled
from al.io import atomic_file
from al.progress import progress
from al.models import model_key, quiet_loading, resolve_model

#: Token limit; the surprisal vector has one entry per token position.
MAX_LENGTH = 128
#: Share of a text's real tokens whose surprisal enters its vector (and share masked when fitting a head).
SURPRISAL_PROB = 0.15
MLM_HEAD_MODES = ("auto", "pretrained", "fit")
#: Head fitting: texts per step, Adam learning rate (linear decay to 0).
FIT_BATCH_SIZE = 32
FIT_LR = 3e-3
#: Torch CPU threads for a head's own forward, backward and update (its gradients come out in other
#: bits on other counts); the frozen encoder's forward passes run on the caller's count.
FIT_THREADS = 1
#: Rows of every pass of the MLM head over the chosen positions (the last one filled up with zeros).
HEAD_ROWS = 256
#: Version of fitted heads: part of the head and vector cache keys (v2: fitted on ``FIT_THREADS`` threads).
HEAD_VERSION = "v2"


# ---------------------------------------------------------------- pure math


def choose_positions(text: str, special_mask: Sequence[int], seed: int, prob: float = SURPRISAL_PROB) -> np.ndarray:
    """Token positions whose surprisal enters the vector of ``text``.

    Each non-special token is chosen with probability ``prob``. The generator
    is seeded from ``seed`` and a hash of the text, so a text's choice does not
    depend on the other texts it is processed with.

    Parameters
    ----------
    text : str
    special_mask : sequence of 0/1, shape (n_tokens,)
        1 for special tokens ([CLS], [SEP], ...) of the tokenized text.
    seed : int, >= 0
    prob : float

    Returns
    -------
    ndarray of bool, shape (n_tokens,)
    """
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    rng = np.random.default_rng([seed, int.from_bytes(digest, "little")])
    special = np.asarray(special_mask, dtype=bool)
    return (rng.random(len(special)) < prob) & ~special


def token_surprisal(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """-log softmax(logits)[target] of each row, in float64.

    Parameters
    ----------
    logits : ndarray of shape (n_positions, vocab_size)
        MLM logits (or log-probabilities: a log-softmax is applied).
    targets : ndarray of int, shape (n_positions,)
        The original token at each position.

    Returns
    -------
    ndarray of shape (n_positions,), float64; each row's value depends on
    that row alone.
    """
    logits = np.asarray(logits, dtype=np.float64)
    return logsumexp(logits, axis=1) - logits[np.arange(len(logits)), np.asarray(targets, dtype=np.int64)]


def token_surprisal_torch(logits: Any, targets: Any, rows_per_chunk: int = 8) -> Any:
    """:func:`token_surprisal` in torch: the same float64 formula, a few rows at a time, in place.

    Follows ``scipy.special.logsumexp`` (1.17): with ``a_max`` the row's
    largest logit and ``k`` how many times it occurs, ``logsumexp = a_max +
    log k + log1p(sum over the other entries of exp(a - a_max) / k)``; the
    result minus the target's logit. The last bits may differ from scipy's
    (another ``exp``, another summation order), about 1e-16 relative. Chunks
    of ``rows_per_chunk`` rows stay in cache and reuse their memory (a whole
    (256, 30522) float64 array per step is mostly page faults); a row's value
    does not depend on the chunking.

    Parameters
    ----------
    logits : torch.Tensor of shape (n_positions, vocab_size)
    targets : torch.Tensor of int, shape (n_positions,)
    rows_per_chunk : int

    Returns
    -------
    torch.Tensor of shape (n_positions,), float64, on the logits' device.
    """
    import torch

    targets = targets.reshape(-1, 1).to(logits.device)
    out = torch.empty(len(logits), dtype=torch.float64, device=logits.device)
    for start in range(0, len(logits), rows_per_chunk):
        a = logits[start : start + rows_per_chunk].double()
        target = a.gather(1, targets[start : start + rows_per_chunk]).squeeze(1)
        a_max = a.amax(dim=1, keepdim=True)
        at_max = a == a_max
        k = at_max.sum(dim=1, keepdim=True, dtype=torch.float64)
        rest = a.sub_(a_max).exp_().masked_fill_(at_max, 0.0).sum(dim=1, keepdim=True) / k
        out[start : start + rows_per_chunk] = (torch.log1p(rest) + torch.log(k) + a_max).squeeze(1) - target
    return out


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows divided by their L2 norm (all-zero rows stay zero), as float32; row by row independent."""
    vectors = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def surprisal_vectors(
    token_ids: np.ndarray, logits: np.ndarray, chosen: np.ndarray, max_length: int = MAX_LENGTH
) -> np.ndarray:
    """Surprisal embeddings: -log p(original token) at chosen positions, 0 elsewhere, L2-normalised.

    Parameters
    ----------
    token_ids : ndarray of int, shape (n_texts, seq_len)
        The (unmasked) input ids, right-padded; ``seq_len <= max_length``.
    logits : ndarray of shape (n_chosen, vocab_size)
        MLM logits (or log-probabilities: a log-softmax is applied) at the
        chosen positions, in row-major order, i.e. ``full_logits[chosen]``.
    chosen : ndarray of bool, shape (n_texts, seq_len)
    max_length : int
        Length of the vectors; positions past ``seq_len`` are 0.

    Returns
    -------
    ndarray of shape (n_texts, max_length), float32. A text with no chosen
    position keeps an all-zero vector.
    """
    token_ids, chosen = np.asarray(token_ids), np.asarray(chosen, dtype=bool)
    logits = np.asarray(logits, dtype=np.float64)
    n_chosen = int(chosen.sum())
    if token_ids.shape != chosen.shape or token_ids.shape[1] > max_length or logits.shape[0] != n_chosen:
        raise ValueError(
            f"expected token_ids and chosen of one shape (n_texts, <= {max_length}) and logits with one row "
            f"per chosen position ({n_chosen}); got {token_ids.shape}, {chosen.shape} and {logits.shape}"
        )
    out = np.zeros((len(token_ids), max_length))
    out[:, : token_ids.shape[1]][chosen] = token_surprisal(logits, token_ids[chosen])
    return normalise_rows(out)


def pool_key(texts: Sequence[str]) -> str:
    """A short hash of the texts, in order."""
    return hashlib.blake2b(text_keys(texts).tobytes(), digest_size=8).hexdigest()


# ---------------------------------------------------------------- the MLM


def head_module(model: Any) -> tuple[str, Any]:
    """The MLM head of a transformers ``*ForMaskedLM`` model: its one child beside the encoder."""
    heads = [(name, module) for name, module in model.named_children() if name != model.base_model_prefix]
    if len(heads) != 1:
        raise ModelError(
            f"expected a masked-LM with one head module beside the encoder; {type(model).__name__} has "
            f"{[name for name, _ in heads]}; use a BERT-, RoBERTa- or MPNet-style checkpoint"
        )
    return heads[0]


def _pad(sequences: Sequence[Sequence[int]], pad_id: int, width: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Right-padded ids and attention mask, each of shape (n, width); ``width`` defaults to the longest."""
    width = max(map(len, sequences)) if width is None else width
    ids = np.full((len(sequences), width), pad_id, dtype=np.int64)
    attention = np.zeros((len(sequences), width), dtype=np.int64)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = seq
        attention[row, : len(seq)] = 1
    return ids, attention


def fit_mlm_head(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    *,
    steps: int,
    seed: int,
    batch_size: int = FIT_BATCH_SIZE,
    lr: float = FIT_LR,
    encoder_dtype: Any = None,
    stop: "threading.Event | None" = None,
) -> float:
    """Fit the MLM head of ``model`` in place on ``texts``, over the frozen encoder.

    Self-supervised, no labels. Standard BERT masking: 15% of the real tokens
    are chosen, of which 80% become the mask token, 10% a random token and
    10% stay; the loss is the cross-entropy at the chosen positions. Only
    the head trains (transform dense + LayerNorm + output bias); its decoder
    is tied to the frozen input word embeddings. The transform starts as the
    identity and the bias as the log unigram frequencies of the texts' tokens;
    Adam with learning rate ``lr`` decaying linearly to 0 over ``steps``
    batches of ``batch_size`` texts (batches of similar length, in random order).
    The head's forward, backward and update run on ``FIT_THREADS`` (1) torch
    CPU threads, the previous count restored afterwards: the gradient sums come
    out in other last bits on other thread counts, so the head would depend on
    the machine. The frozen encoder's forward passes (most of the work) do not
    depend on the thread count (``tests/integration/test_alps.py`` fits a
    MiniLM head on 1 and 2 threads, and in the two ways below): on a CPU with
    a few threads (the caller's count ``n``) they run ahead, ``n`` at once,
    one thread each, beside the head's step (:func:`al.embedders.encoder_passes`),
    so no core waits for the head; elsewhere each pass runs on ``n`` threads
    before its step.
    With ``encoder_dtype=torch.bfloat16`` the encoder runs under bf16 autocast
    (the head still trains in fp32 on its float32 output).

    Parameters
    ----------
    model : transformers ``*ForMaskedLM`` model
    tokenizer : its tokenizer
    texts : sequence of str
    steps, seed, batch_size, lr
    encoder_dtype : torch.dtype or None
        Autocast dtype of the frozen encoder's passes; None for fp32.
    stop : threading.Event, optional
        Once set, no new encoder pass starts and :class:`~al.embedders.EncodingStopped`
        is raised (the head is then half fitted: fit it again).

    Returns
    -------
    float, the mean loss over the last 10% of the steps.
    """
    import torch

    from al.device import torch_threads

    encoder_threads = torch.get_num_threads()
    with torch_threads(FIT_THREADS):
        return _fit_mlm_head(model, tokenizer, texts, steps=steps, seed=seed, batch_size=batch_size, lr=lr,
                             encoder_threads=encoder_threads, encoder_dtype=encoder_dtype, stop=stop)


def _fit_mlm_head(
    model: Any, tokenizer: Any, texts: Sequence[str], *, steps: int, seed: int, batch_size: int, lr: float,
    encoder_threads: int | None = None, encoder_dtype: Any = None, stop: "threading.Event | None" = None,
) -> float:
    """:func:`fit_mlm_head`: the head on the current thread count, the encoder on ``encoder_threads`` (default: the same)."""
    import torch

    from al.device import autocast

    encoder_threads = encoder_threads or torch.get_num_threads()
    _, head = head_module(model)
    model.eval()
    for p in model.base_model.parameters():
        p.requires_grad_(False)
    decoder, embeddings = model.get_output_embeddings(), model.get_input_embeddings()
    decoder.weight = embeddings.weight
    device = embeddings.weight.device
    enc = tokenizer(list(texts), truncation=True, max_length=MAX_LENGTH, return_special_tokens_mask=True)
    ids, special = enc["input_ids"], enc["special_tokens_mask"]
    vocab = embeddings.weight.shape[0]
    with torch.no_grad():
        square = (m for m in head.modules() if isinstance(m, torch.nn.Linear) and m.in_features == m.out_features)
        for module in square:  # the transform's dense layer (the decoder maps to the vocabulary)
            module.weight.copy_(torch.eye(module.in_features))
            if module.bias is not None:
                module.bias.zero_()
        if decoder.bias is not None:
            tokens = [t for seq, sp in zip(ids, special) for t, s in zip(seq, sp) if not s]
            counts = np.bincount(tokens, minlength=vocab)
            decoder.bias.copy_(torch.from_numpy(np.log((counts + 1.0) / (counts.sum() + vocab))))

    params = [p for p in head.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0 - step / steps)
    steps_drawn = _masked_batches(ids, special, tokenizer, steps=steps, seed=seed, batch_size=batch_size, vocab=vocab)

    def encode(batch: _MaskedBatch) -> Any:
        """The frozen encoder's last hidden states of one masked batch, float32, (rows, width, hidden)."""
        with torch.no_grad(), autocast(device, encoder_dtype):
            return model.base_model(input_ids=batch.x.to(device), attention_mask=batch.attention.to(device)
                                    ).last_hidden_state.float()  # the head is fp32 (a no-op for an fp32 encoder)

    losses: list[float] = []
    # a step's batch is 32 texts of similar length: a short pool's passes hold fewer than 256 tokens, whose bits
    # may depend on the thread count, so each runs on one thread (as on 1 to 4 threads) whatever the count
    with encoder_passes(encode, steps_drawn, device=device, threads=encoder_threads, one_thread=True,
                        stop=stop) as passes, \
            progress(steps, "ALPS: fitting the MLM head", unit="steps") as bar:
        for batch, hidden in passes:  # the next batches' encoder passes may run meanwhile, beside the head's step
            bar.update(1)
            if batch is None:  # no position masked: the step counts, nothing is learned
                continue
            optimizer.zero_grad()  # the last step's gradients go before the head's forward pass
            loss = torch.nn.functional.cross_entropy(head(hidden[batch.masked.to(device)]), batch.targets.to(device))
            loss.backward()
            optimizer.step()
            schedule.step()
            losses.append(loss.item())
    return float(np.mean(losses[-max(1, len(losses) // 10) :])) if losses else float("nan")


class _MaskedBatch(NamedTuple):
    """One step of the head fit: ids after masking and attention mask (rows, width) int64, which positions were
    chosen (rows, width) bool, and their original tokens (n_chosen,) int64."""

    x: Any
    attention: Any
    masked: Any
    targets: Any


def _masked_batches(
    ids: Sequence[Sequence[int]], special: Sequence[Sequence[int]], tokenizer: Any, *, steps: int, seed: int,
    batch_size: int, vocab: int,
) -> Iterator[_MaskedBatch | None]:
    """The ``steps`` batches of the head fit, in order, with BERT's masking; None for a batch with no position masked.

    Batches of ``batch_size`` texts of similar length (sorted by length, ties
    at random) in a random order, epoch after epoch; every random draw comes
    from generators seeded with ``seed``, in step order, so the batches do not
    depend on when or where the encoder runs them.
    """
    import torch

    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(len(ids)), [len(s) for s in ids]))  # by length, ties at random
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    step = 0
    while step < steps:
        for b in rng.permutation(len(batches)):
            if step == steps:
                break
            step += 1
            rows = batches[b]
            x, attention = (torch.from_numpy(a) for a in _pad([ids[i] for i in rows], tokenizer.pad_token_id))
            real = torch.from_numpy(_pad([special[i] for i in rows], 1)[0] == 0)
            masked = (torch.rand(x.shape, generator=gen) < SURPRISAL_PROB) & real
            if not masked.any():
                yield None
                continue
            targets = x[masked]
            r = torch.rand(x.shape, generator=gen)
            random_tokens = torch.randint(vocab, x.shape, generator=gen)
            x = torch.where(masked & (r < 0.8), tokenizer.mask_token_id, x)
            x = torch.where(masked & (r >= 0.8) & (r < 0.9), random_tokens, x)
            yield _MaskedBatch(x, attention, masked, targets)


class _ChosenStates(NamedTuple):
    """One encoder pass's chosen positions: their texts and columns, (n,) int; their tokens (n,); hidden states
    (n, dim); and the sentence vectors it gave (:meth:`MLMSurprisal.share_pass`): their texts (m,), vectors (m, dim)."""

    texts: np.ndarray
    columns: np.ndarray
    tokens: np.ndarray
    hidden: Any
    sentences: tuple[np.ndarray, np.ndarray] | None = None


def _head_surprisal(head: Any, hidden: Any, targets: np.ndarray) -> np.ndarray:
    """:func:`token_surprisal_torch` of the head's logits on ``hidden`` (n <= HEAD_ROWS, dim), in one pass of HEAD_ROWS rows.

    The rows past ``n`` are zeros, so every pass has one shape and a row's
    logits do not depend on how many others share the pass.
    """
    import torch

    n = len(targets)
    if n < HEAD_ROWS:
        hidden = torch.cat([hidden, hidden.new_zeros((HEAD_ROWS - n, hidden.shape[1]))])
    logits = head(hidden)[:n]
    return token_surprisal_torch(logits, torch.from_numpy(np.asarray(targets, dtype=np.int64))).cpu().numpy()


class MLMSurprisal:
    """Texts -> surprisal embeddings with a masked language model, cached on disk.

    Call it with the texts of the whole pool: when a head has to be fitted it
    is fitted on these texts (once; the weights are cached under
    ``$AL_CACHE_DIR/alps/heads``), and the vectors are cached per text under
    ``$AL_CACHE_DIR/alps/surprisal``, keyed by model, head, seed, batching
    scheme and precision (fp32's keys name no precision). A text's vector does not depend on the texts computed with it.

    Parameters
    ----------
    model : str
        Name or local path (see :func:`al.models.resolve_model`).
    mlm_head : {"auto", "pretrained", "fit"}
        ``"pretrained"``: the checkpoint's own MLM head, a ModelError if it
        has none; ``"fit"``: always fit one on the pool; ``"auto"``: the
        pretrained head when there is one, else fit.
    fit_steps : int
        Steps of :func:`fit_mlm_head` (batches of ``FIT_BATCH_SIZE`` texts).
    seed : int
        Seeds the choice of token positions and the head fitting.
    batch_size : int
        Texts of 16 tokens per forward pass of the surprisal pass: every pass
        holds about ``batch_size * 16`` padded tokens (see
        :func:`al.embedders.canonical_batches`). Part of the vector cache key.
    device : str
        ``"auto"``, ``"cpu"`` or ``"cuda"``.
    precision : {"fp32", "bf16"}
        Arithmetic of the encoder's passes (the head fit's and the surprisal
        pass's): fp32, or bfloat16 autocast (faster on a CPU with AVX512-BF16
        or AMX and on GPUs; other vectors and, for a fitted head, another head,
        each cached under its own key). The head, its log-softmax and the
        vectors stay in fp32 / float64 either way.

    Attributes
    ----------
    head_ : str or None
        Which head was used (``"pretrained"`` or ``"fitted on N pool texts, S
        steps"``), once called.
    """

    def __init__(
        self,
        model: str = "all-MiniLM-L6-v2",
        mlm_head: str = "auto",
        *,
        fit_steps: int = 250,
        seed: int = 0,
        batch_size: int = 64,
        device: str = "auto",
        precision: str = "fp32",
    ) -> None:
        if mlm_head not in MLM_HEAD_MODES:
            raise ConfigError(f"mlm_head must be one of {', '.join(MLM_HEAD_MODES)}, got {spelled(mlm_head)}; give "
                              f"one of them, or leave it out for auto")
        if precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, got {spelled(precision)}; give "
                              f"one of them")
        for key, value in (("fit_steps", fit_steps), ("batch_size", batch_size)):
            if isinstance(value, bool) or not (isinstance(value, int) and value >= 1):
                raise ConfigError(f"{key} must be a positive integer, got {spelled(value)}; {FIX}")
        if isinstance(seed, bool) or not (isinstance(seed, int) and seed >= 0):
            raise ConfigError(f"seed must be a non-negative integer, got {spelled(seed)}; {FIX}")
        self.model = model
        self.mlm_head = mlm_head
        self.fit_steps = fit_steps
        self.seed = seed
        self.batch_size = batch_size
        self.device = device
        self.precision = precision
        self.head_: str | None = None
        self._mlm: Any = None
        self._tokenizer: Any = None
        self._missing_head: list[str] = []  # the checkpoint's MLM-head weights it lacks
        self._prepared_for: str | None = None
        self._cache: EmbeddingCache | None = None
        self._initial_head: dict[str, Any] | None = None  # the head as loaded: every fit starts from it
        self._sentences: Any = None  # a SentenceEmbedder whose vectors the surprisal pass gives (share_pass)
        #: Sentence vectors the last surprisal pass gave its embedder's cache (:meth:`share_pass`).
        self.sentences_given_ = 0

    @property
    def model_key(self) -> str:
        """The model's part of the cache keys (see :func:`al.models.model_key`)."""
        return model_key(self.model)

    @property
    def precision_key(self) -> str:
        """The arithmetic's part of the head and vector cache keys (:func:`al.embedders.precision_key`)."""
        return precision_key(self.precision, self.device)

    def _encoder_dtype(self) -> Any:
        """torch.bfloat16 for ``precision="bf16"``, else None (fp32)."""
        import torch

        return torch.bfloat16 if self.precision == "bf16" else None

    def _load_model(self) -> list[str]:
        """Load the checkpoint as a masked LM; return the names of its head's weights missing from it."""
        import transformers
        from transformers import AutoModelForMaskedLM, AutoTokenizer

        from al.device import resolve_device

        path = str(resolve_model(self.model))
        verbosity = transformers.logging.get_verbosity()
        transformers.logging.set_verbosity_error()  # missing head weights are reported by us, below
        try:
            with quiet_loading():
                self._mlm, info = AutoModelForMaskedLM.from_pretrained(path, output_loading_info=True)
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"cannot load {self.model!r} as a masked language model: {exc}") from None
        finally:
            transformers.logging.set_verbosity(verbosity)
        self._tokenizer = AutoTokenizer.from_pretrained(path)
        device = resolve_device(self.device)
        self._mlm.to(device).eval()
        if self.precision == "bf16" and device == "cpu":
            from al.device import warn_if_bf16_emulated

            warn_if_bf16_emulated("ALPS with embedding precision bf16", "fp32")
        name, head = head_module(self._mlm)
        tied = self._mlm.get_input_embeddings().weight
        own = {f"{name}.{key}" for key, p in head.named_parameters() if p is not tied}
        return sorted(own & set(info["missing_keys"]))

    def _prepare(self, texts: Sequence[str], key: str) -> None:
        """Model, head (pretrained, cached or fitted now) and vector cache for the pool ``texts``."""
        if self._prepared_for == key:
            return
        if self._mlm is None:
            self._missing_head = self._load_model()
        if self._missing_head and self.mlm_head == "pretrained":
            raise ModelError(
                f"model {self.model!r} has no pretrained MLM head (its checkpoint lacks "
                f"{', '.join(self._missing_head)}), "
                f"and ALPS needs one to compute surprisal; use a checkpoint with an MLM head (the paper's: "
                f"--strategy-param model=bert-base-uncased), or --strategy-param mlm_head=fit (or auto) to fit a "
                f"head on the pool texts"
            )
        if self.mlm_head == "pretrained" or (self.mlm_head == "auto" and not self._missing_head):
            self.head_, head_key = "pretrained", "pretrained"
        else:
            distinct = list(dict.fromkeys(texts))
            self.head_ = f"fitted on {len(distinct)} pool texts, {self.fit_steps} steps"
            head_key = f"fit{HEAD_VERSION}-{pool_key(distinct)}-steps{self.fit_steps}-seed{self.seed}"
            self._fitted_head(distinct, head_key)
        self._cache = EmbeddingCache.open(
            cache_dir(
                "alps",
                "surprisal",
                f"{self.model_key}-len{MAX_LENGTH}-seed{self.seed}-{head_key}-{CANONICAL}-b{self.batch_size}"
                f"{self.precision_key}",
            )
        )
        self._prepared_for = key

    def _fitted_head(self, texts: list[str], head_key: str) -> None:
        """Load the head fitted for this pool from the cache, or fit and cache it; warn either way."""
        import torch

        _, head = head_module(self._mlm)
        self._mlm.get_output_embeddings().weight = self._mlm.get_input_embeddings().weight
        key = head_key + self.precision_key  # a head fitted over a bf16 encoder is another head
        path = cache_dir("alps", "heads", self.model_key) / f"{key}.pt"
        loss = None
        tied = self._mlm.get_input_embeddings().weight
        if self._initial_head is None:  # before any fit: a second pool's head must not start from the first's
            self._initial_head = {k: p.detach().clone() for k, p in head.named_parameters() if p is not tied}
        if not path.is_file():  # written atomically: complete once it exists, read without the lock
            with cache_lock(path.with_name(f".{key}.lock")):  # one process fits, the others wait and load
                if not path.is_file():
                    self._warn_fitted_head("fitting it now, once for this pool, and caching it")  # before the wait
                    with torch.no_grad():
                        for name, p in head.named_parameters():
                            if p is not tied:
                                p.copy_(self._initial_head[name])
                    loss = fit_mlm_head(self._mlm, self._tokenizer, texts, steps=self.fit_steps, seed=self.seed,
                                        encoder_dtype=self._encoder_dtype(), stop=self._stop())
                    with atomic_file(path, "wb") as f:
                        torch.save({k: p.detach().cpu() for k, p in head.named_parameters() if p.requires_grad}, f)
                    warnings.warn(f"ALPS: the MLM head {self.head_} ended at masked-LM loss {loss:.2f} "
                                  f"(final tenth of its steps); cached for later runs", UserWarning, stacklevel=3)
        if loss is None:
            try:
                head.load_state_dict(torch.load(path, weights_only=True), strict=False)
            except MemoryError:
                raise
            except Exception as exc:  # noqa: BLE001 - a damaged file: set aside, and the head is fitted again
                from al.embedders import set_aside_damaged

                set_aside_damaged(path, exc, "the head is fitted again")
                return self._fitted_head(texts, head_key)
            self._warn_fitted_head("loaded from the cache")
        mark_used(path)  # for python -m al.cache prune --unused-for

    def _warn_fitted_head(self, how: str) -> None:
        """The one-line warning that this ALPS reads a fitted MLM head, not the paper's pretrained one."""
        reason = (
            "has a pretrained MLM head, but mlm_head=fit asks for a new one"
            if not self._missing_head
            else "has no pretrained MLM head"
        )
        warnings.warn(
            f"ALPS: {self.model!r} {reason}; using an MLM head {self.head_} (over the frozen encoder; "
            f"self-supervised, no labels), {how}. This deviates from the paper, which uses bert-base-uncased's "
            f"pretrained head: pass --strategy-param model=bert-base-uncased (downloaded once) or a local "
            f"checkpoint with an MLM head.",
            UserWarning,
            stacklevel=5,
        )

    def share_pass(self, embedder: Any) -> bool:
        """Let the surprisal pass give ``embedder``'s sentence vectors too, where they come out the same; whether it will.

        ``embedder``: a :class:`al.embedders.SentenceEmbedder` with its cache.
        Where it runs this model's encoder on the same canonical batches in the
        same arithmetic (same model, ``batch_size``, device, fp32 both), a
        text of at most ``MAX_LENGTH`` tokens meets the same pass shape here
        and there, so its last hidden states are the same bits, and the
        embedder's own pooling of them (:meth:`~al.embedders.SentenceEmbedder.pooled`)
        is its vector. The surprisal pass then adds those vectors to the
        embedder's cache, which computes only the rest (longer texts, other
        splits): one encoder pass over the pool instead of two. The first
        pass of each padded length is checked bit for bit against the
        embedder's own pass over its texts (:meth:`~al.embedders.SentenceEmbedder.agrees`,
        on the torch thread count the embedder's own passes would start from);
        where one differs, none enters the cache (the embedder computes them
        as before). So does anything the sharing meets that it cannot do: the
        surprisal pass is never stopped by it. Shared, the head's fit and the
        surprisal pass heed the embedder's ``stop`` event as its own passes do
        (an annotation session closing): no new pass starts once it is set.
        """
        from al.device import resolve_device

        same = (getattr(embedder, "cache", False) and model_key(embedder.model) == self.model_key
                and embedder.batch_size == self.batch_size and embedder.precision == self.precision == "fp32"
                and resolve_device(embedder.device) == resolve_device(self.device))
        self._sentences = embedder if same else None
        return bool(same)

    def _sentence_rows(self, texts: Sequence[str], ids: Sequence[Sequence[int]]) -> np.ndarray | None:
        """Which of ``texts`` (tokenized here as ``ids``) get their sentence vector from this pass, (n,) bool; None:
        no sharing. A text qualifies when its embedder's tokens are ``ids`` (not truncated there or here), its
        padded length the same, and its vector not cached yet."""
        if self._sentences is None or not texts:
            return None
        embedder = self._sentences
        try:
            encoder = embedder._load()
            limit = encoder.max_seq_length
            theirs = encoder.tokenizer(list(texts), truncation=True, max_length=limit)["input_ids"]
            found, _ = embedder.vector_cache().lookup(text_keys(list(texts)))
        except Exception:  # noqa: BLE001 - the embedder cannot be shared here: it computes its vectors itself
            return None
        rows = np.array([len(t) <= MAX_LENGTH and list(t) == list(o)
                         and bucket_length(len(t), limit) == bucket_length(len(o), MAX_LENGTH)
                         for t, o in zip(theirs, ids)], dtype=bool)
        return rows & ~found

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        """Surprisal embeddings of ``texts`` (the pool), ndarray of shape (n_texts, MAX_LENGTH), float32."""
        texts = list(texts)
        keys = text_keys(texts)
        self._prepare(texts, pool_key(texts))
        if not texts:
            return np.zeros((0, MAX_LENGTH), dtype=np.float32)
        return self._cache.get_or_compute(keys, lambda rows: self._compute([texts[i] for i in rows]))

    def _compute(self, texts: list[str]) -> np.ndarray:
        """One MLM pass over ``texts`` (unmasked): ndarray (n_texts, MAX_LENGTH), float32.

        The encoder runs in canonical batches (:func:`al.embedders.canonical_batches`),
        the head in passes of exactly ``HEAD_ROWS`` chosen positions (the last
        one filled up with zero rows), so each text's vector depends on that
        text alone. On a CPU with a few torch threads, as many encoder passes
        run at once, one thread each, beside the head's passes on one thread
        (:func:`al.embedders.encoder_passes`); the vectors are the same bits
        either way.
        """
        import torch

        from al.device import autocast

        tokenizer, model = self._tokenizer, self._mlm
        _, head = head_module(model)
        device = model.get_input_embeddings().weight.device
        enc = tokenizer(texts, truncation=True, max_length=MAX_LENGTH, return_special_tokens_mask=True)
        ids = enc["input_ids"]
        chosen = [choose_positions(t, s, self.seed) for t, s in zip(texts, enc["special_tokens_mask"])]
        sharing = self._sentence_rows(texts, ids)  # texts whose sentence vectors this pass gives (share_pass)

        def encode(batch: CanonicalBatch) -> _ChosenStates:
            """One canonical batch through the encoder, and the hidden states at its chosen positions."""
            sequences = [ids[i] for i in batch.rows]
            sequences += [sequences[0]] * (batch.n_rows - len(sequences))  # filler rows: one shape per bucket
            x, attention = _pad(sequences, tokenizer.pad_token_id, width=batch.length)
            mask = np.zeros(x.shape, dtype=bool)
            for j, i in enumerate(batch.rows):
                mask[j, : len(chosen[i])] = chosen[i]
            rows, columns = np.nonzero(mask)
            with torch.inference_mode(), autocast(device, self._encoder_dtype()):
                hidden = model.base_model(
                    input_ids=torch.from_numpy(x).to(device), attention_mask=torch.from_numpy(attention).to(device)
                ).last_hidden_state
                selected = hidden.float()[torch.from_numpy(mask).to(device)]  # the head is fp32
                sentences = None
                if sharing is not None and not refused.is_set() and sharing[batch.rows].any():
                    given = np.flatnonzero(sharing[batch.rows])
                    try:
                        vectors = self._sentences.pooled(hidden, torch.from_numpy(attention).to(device))
                        sentences = (batch.rows[given], vectors[given])
                    except Exception:  # noqa: BLE001 - a pooling that needs more than hidden states: not shared
                        refused.set()
            return _ChosenStates(batch.rows[rows], columns, x[rows, columns], selected, sentences)

        batches = canonical_batches([len(s) for s in ids], MAX_LENGTH, self.batch_size)
        owners, positions = [], []  # text and token position of each chosen position, in the order the head sees them
        values: list[np.ndarray] = []
        hidden_rows, target_rows = None, np.zeros(0, dtype=np.int64)  # chosen positions not yet through the head
        batch_ends: list[tuple[np.ndarray, int]] = []  # each batch's texts, and the chosen positions up to its last
        given: list[tuple[np.ndarray, np.ndarray]] = []  # sentence vectors for the embedder: texts, vectors
        checked: set[int] = set()  # padded lengths whose first pass agreed with the embedder's own, bit for bit
        refused = threading.Event()  # set once a check fails (or pooling cannot run): nothing is given
        threads = torch.get_num_threads()  # the count the embedder's own passes would start from
        self.sentences_given_ = 0

        def vectors(n_through: int) -> np.ndarray:
            """(n_texts, MAX_LENGTH) from the first ``n_through`` chosen positions' surprisal, rows normalised."""
            out = np.zeros((len(texts), MAX_LENGTH))
            if values:
                out[np.concatenate(owners)[:n_through], np.concatenate(positions)[:n_through]] = \
                    np.concatenate(values)
            return normalise_rows(out)

        try:
            with torch.inference_mode(), \
                    encoder_passes(encode, batches, device=device, one_thread=True, stop=self._stop()) as passes, \
                    progress(len(texts), "ALPS: surprisal pass", unit="texts", work=padded_tokens(batches)) as bar:
                for batch, (text_rows, columns, targets, selected, sentences) in passes:  # head passes beside the
                    bar.update(len(batch.rows), work=batch.n_rows * batch.length)  # next encoder's; time by tokens
                    if sentences is not None and not refused.is_set():
                        if batch.length not in checked:  # each pass shape once: the embedder's own bits, or none
                            if self._agree(sentences, texts, threads):
                                checked.add(batch.length)
                            else:
                                refused.set()
                                given.clear()
                        if not refused.is_set():
                            given.append(sentences)
                    owners.append(text_rows)
                    positions.append(columns)
                    batch_ends.append((batch.rows, (batch_ends[-1][1] if batch_ends else 0) + len(targets)))
                    hidden_rows = selected if hidden_rows is None else torch.cat([hidden_rows, selected])
                    target_rows = np.concatenate([target_rows, targets])
                    while len(target_rows) >= HEAD_ROWS:
                        values.append(_head_surprisal(head, hidden_rows[:HEAD_ROWS], target_rows[:HEAD_ROWS]))
                        hidden_rows, target_rows = hidden_rows[HEAD_ROWS:], target_rows[HEAD_ROWS:]
                if len(target_rows):
                    values.append(_head_surprisal(head, hidden_rows, target_rows))
        except BaseException as exc:  # Ctrl-C, a kill's SIGTERM...: texts whose positions all went through are kept
            n_through = sum(len(v) for v in values)
            finished = [rows for rows, end in batch_ends if end <= n_through]
            if finished:
                done = np.sort(np.concatenate(finished))
                setattr(exc, PARTIAL, (done, vectors(n_through)[done]))
            raise
        finally:  # the sentence vectors given so far, whatever stopped the pass
            self._give(given, texts)
        return vectors(sum(len(v) for v in values))

    def _stop(self) -> "threading.Event | None":
        """The stop event of the embedder this pass is shared with (:meth:`share_pass`; an annotation session's,
        set when it closes): its passes here heed it as the embedder's own would. None when not shared."""
        return getattr(self._sentences, "stop", None) if self._sentences is not None else None

    def _agree(self, sentences: tuple[np.ndarray, np.ndarray], texts: Sequence[str], threads: int) -> bool:
        """Whether one pass's sentence vectors are the embedder's own for its texts, bit for bit, computed as
        its :meth:`~al.embedders.SentenceEmbedder.encode` would on ``threads`` torch threads; False where that
        cannot be told (the embedder stopped, failed)."""
        from al.device import torch_threads

        try:
            with torch_threads(threads):
                return self._sentences.agrees([texts[i] for i in sentences[0]], sentences[1])
        except Exception:  # noqa: BLE001 - not known to agree: nothing is given
            return False

    def _give(self, given: list[tuple[np.ndarray, np.ndarray]], texts: Sequence[str]) -> None:
        """Add the checked sentence vectors ``given`` (texts, vectors) to the embedder's cache; one warning line,
        never an exception, where that fails (the surprisal pass, or the error that stopped it, goes on)."""
        if not given:
            return
        rows = np.concatenate([r for r, _ in given])
        keys, first = np.unique(text_keys([texts[i] for i in rows]), return_index=True)
        try:
            self._sentences.vector_cache().add(keys, np.concatenate([v for _, v in given])[first])
        except Exception as exc:  # noqa: BLE001 - a shortcut: the embedder computes them itself instead
            warnings.warn(f"ALPS: the pool's sentence vectors from the surprisal pass were not cached ({exc}); "
                          f"the embedding pass computes them itself", UserWarning, stacklevel=2)
            return
        self.sentences_given_ = len(keys)
