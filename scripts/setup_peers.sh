#!/usr/bin/env bash
# The peers' own virtual environment, .venv-peers: CTGAN 0.12.1 (PyTorch) and SDMetrics, for the
# side-by-side checks of experiments/cdnow_augment/ctgan_peer.py, scripts/bench_tabular.py and
# scripts/check_sdmetrics.py. Kept apart from .venv: gan_jax never needs them, and their pins
# (rdt, scipy, torch) must not move gan_jax's. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

CTGAN=0.12.1
SDMETRICS=0.32.0
# The CPU build named in pyproject's `bench` extra. Installed first and by itself: asked for
# through ctgan's open range, pip would pick the newest release, a CUDA build of several GB.
TORCH=2.13.0

if [ ! -x .venv-peers/bin/python ]; then
  python3.11 -m venv .venv-peers
fi
.venv-peers/bin/python -m pip install -q --upgrade pip
.venv-peers/bin/python -m pip install -q "torch==$TORCH"
.venv-peers/bin/python -m pip install -q "torch==$TORCH" "ctgan==$CTGAN" "sdmetrics==$SDMETRICS"
.venv-peers/bin/python - <<'EOF'
import ctgan, sdmetrics, torch
print(f"ctgan {ctgan.__version__}, sdmetrics {sdmetrics.__version__}, torch {torch.__version__}")
EOF
echo "the peers are set up in $(pwd)/.venv-peers (run their scripts with .venv-peers/bin/python)"
