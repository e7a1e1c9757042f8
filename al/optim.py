"""A torch optimizer without the import cost of ``torch.optim``'s optimizer classes."""
from __future__ import annotations

from typing import Any


class Adam:
    """``torch.optim.Adam(params, lr)``'s update, bit for bit on CPU, without the optimizer class.

    Each step calls :func:`torch.optim.adam.adam` (the function ``Adam.step``
    calls) with the class's defaults (betas 0.9 and 0.999, eps 1e-8, no weight
    decay, single-tensor form on CPU), on the parameters that have a gradient,
    their state made on their first gradient, as the class does. The class is
    avoided because its first call imports ``torch._dynamo``: about 2.4 s per
    process on a quiet 2-core machine, more than a head space's whole fit
    (``benchmarks/RESULTS.md``, section 7) or a warm-started DAL query.
    ``tests/unit/test_spaces.py`` and ``tests/unit/test_dal.py`` compare both.
    """

    def __init__(self, params: Any, lr: float) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")  # as torch.optim.Adam says it
        self.params = list(params)
        self.lr = lr
        self.state: dict[Any, tuple[Any, Any, Any]] = {}  # parameter -> (step, exp_avg, exp_avg_sq)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        import torch
        from torch.optim.adam import adam
        from torch.optim.optimizer import _get_scalar_dtype

        live = [p for p in self.params if p.grad is not None]
        for p in live:
            if p not in self.state:
                self.state[p] = (torch.tensor(0.0, dtype=_get_scalar_dtype()),
                                 torch.zeros_like(p, memory_format=torch.preserve_format),
                                 torch.zeros_like(p, memory_format=torch.preserve_format))
        steps, exp_avgs, exp_avg_sqs = (list(x) for x in zip(*(self.state[p] for p in live))) if live else ([], [], [])
        with torch.no_grad():
            adam(live, [p.grad for p in live], exp_avgs, exp_avg_sqs, [], steps, amsgrad=False, beta1=0.9,
                 beta2=0.999, lr=self.lr, weight_decay=0.0, eps=1e-8, maximize=False)
