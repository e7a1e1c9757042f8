"""One DAL discriminator training step, timed by part (forward, forward + backward, whole step, Adam, accuracy check).

    python benchmarks/dal_step.py

Random inputs shaped like a quick-grid query (|L| = 400, |U'| = 4,000, 384 dimensions), the default
3 x 256 ReLU discriminator, batch 256, one torch thread, as ``strategies/dal.py`` trains it. Prints
two whole trainings (epochs, seconds, seconds per epoch) and the milliseconds of each part.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from al.cli import ArgumentParser  # noqa: E402
from benchmarks.machine import describe  # noqa: E402

ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()  # only --help
import time  # noqa: E402
from datetime import date  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
torch.set_num_threads(1)
from strategies.dal import _train  # noqa: E402
rng = np.random.default_rng(0)
XL = rng.normal(size=(400, 384)).astype(np.float32); XU = rng.normal(size=(4000, 384)).astype(np.float32)+0.05
print(f"`python benchmarks/dal_step.py` on {date.today()}, {describe()}, torch {torch.__version__} on 1 thread")
for i in range(2):
    t = time.perf_counter()
    m, info = _train(XL, XU, 1, 256, 3, 1e-3, 256, 50, 0.98)
    dt = time.perf_counter() - t
    print(f"whole training {i + 1}: {info['epochs']} epochs to {info['train_accuracy']:.3f} training accuracy, "
          f"{dt:.2f} s, {dt / info['epochs'] * 1e3:.1f} ms an epoch")
# each part of a step, on one batch of 256
X = torch.from_numpy(np.vstack([XL, XU]))
y = torch.cat([torch.zeros(400, dtype=torch.long), torch.ones(4000, dtype=torch.long)])
model = nn.Sequential(nn.Linear(384, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                      nn.Linear(256, 2))
from al.optim import Adam  # noqa: E402

opt = Adam(model.parameters(), 1e-3)
lf = nn.CrossEntropyLoss(weight=torch.tensor([5.5, 0.55]))
xb, yb = X[:256], y[:256]


def tm(f, n=200):
    """Milliseconds a call of ``f`` takes, the mean of ``n`` after one untimed call."""
    f()
    t = time.perf_counter()
    for _ in range(n):
        f()
    return (time.perf_counter() - t) / n * 1e3


def fwd():
    return lf(model(xb), yb)


def fb():
    opt.zero_grad()
    fwd().backward()


def full():
    fb()
    opt.step()


print(f"a step's parts, ms: forward {tm(fwd):.3f}, forward + backward {tm(fb):.3f}, whole step {tm(full):.3f}, "
      f"Adam's step {tm(opt.step):.3f}")
with torch.inference_mode():
    print(f"the accuracy check over all {len(X):,} texts: {tm(lambda: model(X).argmax(1), 20):.3f} ms")
