#!/usr/bin/env bash
# Debian packages the tests and the commands they run need, installed only when missing (needs root):
#   chromium        the gallery's browser test
#   libvips-tools   vipsthumbnail, the resize benchmark's reference
#   curl            the README's uploads, run as written
#   python3-venv    MiniStack's venv (npm run deploy:local); brings python3 (Debian 12: 3.11)
#   a Java runtime  ElasticMQ (npm run dev, the SQS tests)
#   maven           fetches ElasticMQ from Maven Central
#   libheif-examples  heif-dec (heif-convert on Debian 12): the native HEIC decoder the pipeline's is
#                   held to, in the tests and the HEIC benchmark; heif-enc makes some of the fixtures
# Go (MinIO, the Versity gateway) is not among them: Debian 12's is too old, and
# scripts/servers/install.sh fetches one from the Go module proxy when none new enough is installed.
set -euo pipefail
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v vipsthumbnail >/dev/null || missing+=(libvips-tools)
command -v curl >/dev/null || missing+=(curl)
# Debian splits venv's ensurepip out of python3; without it `python3 -m venv` fails.
"${PYTHON:-python3}" -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
command -v java >/dev/null || missing+=(default-jre-headless)
command -v mvn >/dev/null || missing+=(maven)
{ command -v heif-dec || command -v heif-convert; } >/dev/null || missing+=(libheif-examples)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "missing: ${missing[*]} — install them with your package manager (Debian: apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "installing ${missing[*]} (apt-get)…"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
