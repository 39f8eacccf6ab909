#!/usr/bin/env bash
# Set up everything the tests need on a fresh machine, then run them.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  # The browser tests drive Debian's Chromium; a test tool's own browser download cannot work here.
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

python -m pip install -q -e '.[test,milvus]'  # milvus: the Milvus Lite store's tests
export HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False
# Lint and types first (settings in pyproject.toml): a finding fails the run like a test.
python -m ruff check src tests bench training app.py
python -m mypy
exec python -m pytest "$@"
