"""A round's recorded seconds are its own work's: no import is paid inside a timed step."""
from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
import numpy as np, scipy.sparse as sp
from al.classifiers.linear import LogisticRegressionClassifier
before = set(sys.modules)
X = np.random.default_rng(0).random((40, 8)).astype(np.float32)
Y = sp.csr_matrix(np.eye(4, dtype=np.int8)[np.arange(40) % 4])
LogisticRegressionClassifier(seed=0).fit(X, Y, X, Y).predict(X)
print(sorted(m for m in set(sys.modules) - before if m.split(".")[0] in ("sklearn", "scipy")))
"""


def test_the_first_logistic_regression_fit_imports_nothing():
    """scikit-learn is imported with the classifier's module, so round 0's training time is a fit's, not an import's
    (1-2 s that a report's compute table charged to whichever strategy a worker ran first)."""
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out
