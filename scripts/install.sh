#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian machine (run as root or with sudo):
# Debian packages (Chromium for PDF reports and the UI browser test, poppler-utils for
# pdftotext, fonts with Polish glyphs), then a Python 3.11 virtualenv in .venv with the pinned
# packages of requirements.lock and the project itself (editable).
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(chromium poppler-utils fonts-dejavu-core fonts-liberation)
missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

python3 -m pip install -q --disable-pip-version-check "uv==0.13.*"
[ -x .venv/bin/python ] || python3 -m uv venv -q --python 3.11 .venv
# PYTHONDONTWRITEBYTECODE may be set on the machine: compile bytecode at install time.
python3 -m uv pip install -q -p .venv --compile-bytecode -r requirements.lock
python3 -m uv pip install -q -p .venv --compile-bytecode --no-deps -e .
echo "Instalacja zakończona: .venv gotowe."
