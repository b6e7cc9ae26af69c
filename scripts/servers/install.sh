#!/usr/bin/env bash
# Installs the local S3- and SQS-compatible servers used for development and integration tests.
#
#   bash scripts/servers/install.sh minio|versitygw|elasticmq|all
#
# Everything is built or fetched from package registries only and cached inside the repository's
# ignored folders, so a second run returns at once:
#   .bin/minio, .bin/versitygw     Go binaries (go install; module and build caches in .cache/go)
#   .cache/elasticmq/lib/*.jar     ElasticMQ server and its dependencies (Maven local repo in .cache/m2)
# Each artefact has a stamp file holding its version; a changed pin below reinstalls it.
# Pins can be overridden for a trial through MINIO_VERSION, VERSITYGW_VERSION, ELASTICMQ_VERSION.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="$ROOT/.bin"
CACHE="$ROOT/.cache"

# MinIO's repository is archived (2026-02); this pseudo-version is its last commit and is also
# what `go list -m github.com/minio/minio@latest` resolves to.
MINIO_VERSION="${MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}"
VERSITYGW_VERSION="${VERSITYGW_VERSION:-v1.7.0}"
# >= 1.5.1 is needed for the JSON protocol that AWS SDK v3's SQS client speaks.
ELASTICMQ_VERSION="${ELASTICMQ_VERSION:-1.7.1}"
MAVEN_DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

# The official Go tarball installs to /usr/local/go, which a non-login shell may not have on PATH.
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
  PATH="$PATH:/usr/local/go/bin"
fi
# Go for MinIO and the Versity gateway: versitygw's go.mod asks for 1.25, and Debian 12's golang-go
# is 1.19. Without a new enough go, the official toolchain is fetched once from the Go module proxy,
# where it is the module golang.org/toolchain (what GOTOOLCHAIN=auto downloads), checked against
# this sha256 of its zip, into .cache/go-toolchain.
GO_MIN_MINOR=25
GO_TOOLCHAIN="v0.0.1-go1.26.11.linux-amd64"
GO_TOOLCHAIN_SHA256="e1edb778de0aa08c8e827f5a873b35a46afe680fb241482c531725b2355e470d"
GOPROXY_URL="https://proxy.golang.org"

log() { printf '[servers:install] %s\n' "$*" >&2; }
die() { printf '[servers:install] error: %s\n' "$*" >&2; exit 1; }

need() {
  local cmd="$1" hint="$2"
  command -v "$cmd" >/dev/null 2>&1 || die "'$cmd' is not on PATH; $hint"
}

# Runs "$@" under an exclusive lock so that two test processes never build the same thing at once.
with_lock() {
  local name="$1" lock_fd; shift
  mkdir -p "$CACHE"
  if command -v flock >/dev/null 2>&1; then
    exec {lock_fd}>"$CACHE/install-$name.lock"
    flock "$lock_fd"
    "$@"
    local rc=$?
    exec {lock_fd}>&-
    return $rc
  fi
  "$@"
}

stamp_ok() { # file version
  [[ -f "$1" ]] && [[ "$(cat "$1")" == "$2" ]]
}

# True when `go` on PATH is 1.<GO_MIN_MINOR> or newer.
go_new_enough() {
  command -v go >/dev/null 2>&1 || return 1
  local v
  v="$(go env GOVERSION 2>/dev/null || go version | awk '{print $3}')"
  [[ "$v" =~ ^go1\.([0-9]+) ]] && (( BASH_REMATCH[1] >= GO_MIN_MINOR ))
}

go_toolchain_fetch() {
  local dir="$CACHE/go-toolchain"
  if [[ -x "$dir/go/bin/go" ]] && stamp_ok "$dir/.version" "$GO_TOOLCHAIN"; then return 0; fi
  need curl "install curl (Debian: apt-get install -y curl)"
  need python3 "install Python 3 (Debian: apt-get install -y python3), which unpacks the toolchain's zip"
  log "no Go >= 1.$GO_MIN_MINOR found: fetching $GO_TOOLCHAIN from the Go module proxy (golang.org/toolchain), once"
  rm -rf "$dir" && mkdir -p "$dir"
  curl -sSfL -o "$dir/toolchain.zip" "$GOPROXY_URL/golang.org/toolchain/@v/$GO_TOOLCHAIN.zip" \
    || die "could not download golang.org/toolchain@$GO_TOOLCHAIN from $GOPROXY_URL"
  echo "$GO_TOOLCHAIN_SHA256  $dir/toolchain.zip" | sha256sum -c --quiet - \
    || die "golang.org/toolchain@$GO_TOOLCHAIN: the zip's sha256 is not the pinned $GO_TOOLCHAIN_SHA256"
  # The module's files sit under golang.org/toolchain@<version>/; keep their modes (bin/go is 0755).
  python3 - "$dir/toolchain.zip" "$dir/go" "golang.org/toolchain@$GO_TOOLCHAIN/" <<'PY'
import os, sys, zipfile
archive, target, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
with zipfile.ZipFile(archive) as z:
    for info in z.infolist():
        if not info.filename.startswith(prefix) or info.filename.endswith('/'):
            continue
        rel = info.filename[len(prefix):]
        path = os.path.join(target, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with z.open(info) as src, open(path, 'wb') as dst:
            dst.write(src.read())
        mode = (info.external_attr >> 16) & 0o777
        if mode:
            os.chmod(path, mode)
PY
  rm -f "$dir/toolchain.zip"
  [[ -x "$dir/go/bin/go" ]] || die "golang.org/toolchain@$GO_TOOLCHAIN: no bin/go in its zip"
  printf '%s' "$GO_TOOLCHAIN" >"$dir/.version"
}

# Puts a Go >= 1.<GO_MIN_MINOR> first on PATH: the one installed, else the fetched toolchain.
ensure_go() {
  go_new_enough && return 0
  with_lock go-toolchain go_toolchain_fetch
  PATH="$CACHE/go-toolchain/go/bin:$PATH"
  go_new_enough || die "the Go toolchain in .cache/go-toolchain does not run ($(go version 2>&1 | head -n 1))"
}

go_env() {
  export GOPATH="$CACHE/go"
  export GOMODCACHE="$CACHE/go/pkg/mod"
  export GOCACHE="$CACHE/go/build"
  export GOBIN="$BIN"
  export GOTOOLCHAIN=local    # the installed Go is new enough; never fetch another toolchain
  export CGO_ENABLED=0        # pure Go builds, no C compiler needed
  export GOFLAGS="-buildvcs=false"
}

go_install() { # name module package version
  local name="$1" module="$2" package="$3" version="$4"
  local stamp="$BIN/.$name.version"
  if [[ -x "$BIN/$name" ]] && stamp_ok "$stamp" "$version"; then
    log "$name $version already installed at .bin/$name"
    return 0
  fi
  ensure_go
  go_env
  mkdir -p "$BIN" "$GOPATH"
  log "resolving $module@$version with the Go module proxy"
  go list -m "$module@$version" >/dev/null \
    || die "$module@$version does not resolve; see which does with: go list -m $module@latest"
  log "building $name ($package@$version) into .bin/ — the first build takes minutes on 2 cores"
  local start=$SECONDS
  rm -f "$stamp"
  go install -trimpath -ldflags "-s -w" "$package@$version"
  printf '%s' "$version" >"$stamp"
  log "$name built in $((SECONDS - start)) s: $("$BIN/$name" --version 2>/dev/null | head -n 1 || true)"
}

install_minio() {
  with_lock minio go_install minio github.com/minio/minio github.com/minio/minio "$MINIO_VERSION"
}

install_versitygw() {
  with_lock versitygw go_install versitygw github.com/versity/versitygw github.com/versity/versitygw/cmd/versitygw "$VERSITYGW_VERSION"
}

elasticmq_fetch() {
  local dir="$CACHE/elasticmq"
  local stamp="$dir/.version"
  if [[ -d "$dir/lib" ]] && stamp_ok "$stamp" "$ELASTICMQ_VERSION"; then
    log "ElasticMQ $ELASTICMQ_VERSION already installed in .cache/elasticmq/lib"
    return 0
  fi
  need java "install a Java 17+ runtime (Debian: apt-get install -y openjdk-17-jre-headless)"
  need mvn "install Maven (Debian: apt-get install -y maven)"
  log "fetching ElasticMQ $ELASTICMQ_VERSION and its dependencies from Maven Central"
  local start=$SECONDS
  mkdir -p "$dir"
  rm -rf "$dir/lib" "$stamp"
  cat >"$dir/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by scripts/servers/install.sh: only used to resolve ElasticMQ's runtime classpath. -->
<project xmlns="http://maven.apache.org/POM/4.0.0"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 http://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.servers</groupId>
  <artifactId>elasticmq-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.elasticmq</groupId>
      <artifactId>elasticmq-server_2.13</artifactId>
      <version>$ELASTICMQ_VERSION</version>
    </dependency>
  </dependencies>
</project>
EOF
  mvn -B -q -Dstyle.color=never -f "$dir/pom.xml" -Dmaven.repo.local="$CACHE/m2" \
    "$MAVEN_DEPENDENCY_PLUGIN:copy-dependencies" \
    -DincludeScope=runtime -DoutputDirectory="$dir/lib" \
    || die "mvn could not resolve org.elasticmq:elasticmq-server_2.13:$ELASTICMQ_VERSION (see output above)"
  [[ -n "$(ls "$dir"/lib/elasticmq-server_2.13-*.jar 2>/dev/null)" ]] \
    || die "elasticmq-server jar missing from $dir/lib after mvn"
  printf '%s' "$ELASTICMQ_VERSION" >"$stamp"
  log "ElasticMQ $ELASTICMQ_VERSION fetched in $((SECONDS - start)) s ($(ls "$dir/lib" | wc -l) jars)"
}

install_elasticmq() {
  with_lock elasticmq elasticmq_fetch
}

main() {
  local what="${1:-all}"
  local start=$SECONDS
  case "$what" in
    minio) install_minio ;;
    versitygw) install_versitygw ;;
    elasticmq) install_elasticmq ;;
    all) install_minio; install_versitygw; install_elasticmq ;;
    *) die "unknown target '$what'; expected one of: minio, versitygw, elasticmq, all" ;;
  esac
  log "done ($what) in $((SECONDS - start)) s"
}

main "$@"
