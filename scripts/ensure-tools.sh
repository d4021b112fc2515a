#!/usr/bin/env bash
# Installs the programs the test suite drives when they are missing:
# Debian's chromium (browser tests), fonts-noto-cjk (Chinese in screenshots)
# and zbar-tools (zbarimg decodes the QR codes we draw).
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v zbarimg >/dev/null 2>&1 || missing+=(zbar-tools)
{ fc-list 2>/dev/null || true; } | grep -i "Noto Sans CJK" >/dev/null || missing+=(fonts-noto-cjk)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing: ${missing[*]}; run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
