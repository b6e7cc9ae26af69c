#!/usr/bin/env bash
# Debian packages the tests use: chromium (browser test of the gallery) and libvips-tools
# (vipsthumbnail, the resize benchmark's reference). Installed only when missing; needs root.
set -euo pipefail
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v vipsthumbnail >/dev/null || missing+=(libvips-tools)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "missing: ${missing[*]} — install them with your package manager (Debian: apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "installing ${missing[*]} (apt-get)…"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
