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

ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()  # only --help
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
torch.set_num_threads(1)
from strategies.dal import _train  # noqa: E402
rng = np.random.default_rng(0)
XL = rng.normal(size=(400, 384)).astype(np.float32); XU = rng.normal(size=(4000, 384)).astype(np.float32)+0.05
for _ in range(2):
    t=time.perf_counter(); m, info = _train(XL, XU, 1, 256, 3, 1e-3, 256, 50, 0.98); dt=time.perf_counter()-t
    print(info, dt, dt/info['epochs'])
# component timing
X = torch.from_numpy(np.vstack([XL,XU])); y=torch.cat([torch.zeros(400,dtype=torch.long),torch.ones(4000,dtype=torch.long)])
model = nn.Sequential(nn.Linear(384,256),nn.ReLU(),nn.Linear(256,256),nn.ReLU(),nn.Linear(256,256),nn.ReLU(),nn.Linear(256,2))
from al.optim import Adam  # noqa: E402
opt=Adam(model.parameters(),1e-3); lf=nn.CrossEntropyLoss(weight=torch.tensor([5.5,0.55]))
xb=X[:256]; yb=y[:256]
def tm(f, n=200):
    f(); t=time.perf_counter()
    for _ in range(n): f()
    return (time.perf_counter()-t)/n*1e3
def fwd():
    return lf(model(xb), yb)
def fb():
    opt.zero_grad(); fwd().backward()
def full():
    fb(); opt.step()
print('fwd ms', tm(fwd)); print('fwd+bwd', tm(fb)); print('full', tm(full)); print('adam', tm(opt.step))
with torch.inference_mode(): print('check', tm(lambda: model(X).argmax(1), 20))
