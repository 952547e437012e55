#!/usr/bin/env bash
# Installs PyTorch's CPU build with the pip given ($1): from PyTorch's CPU index when it can be
# reached, else from the configured package registry, pinned by constraints.txt to a release it
# serves as a CPU wheel. A GPU user installs a CUDA torch first instead (README, Install).
set -euo pipefail
pip="$1"
here="$(cd "$(dirname "$0")/.." && pwd)"
index="${TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}"
python="$(dirname "$pip")/python"
if "$python" -c 'import torch' 2>/dev/null; then
    exit 0  # a torch is there already (CPU or CUDA): keep it
fi
if "$python" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + '/torch/', timeout=10)" "$index" 2>/dev/null; then
    "$pip" install -q -c "$here/constraints.txt" --index-url "$index" --extra-index-url https://pypi.org/simple torch
else
    echo "PyTorch's CPU index ($index) is out of reach; installing torch from the configured registry" >&2
    "$pip" install -q -c "$here/constraints.txt" torch
fi
