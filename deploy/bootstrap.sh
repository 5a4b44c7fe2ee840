#!/usr/bin/env bash
# Idempotent bootstrap for a development or CI machine that reaches package registries only.
#
#   1. Debian packages: PostgreSQL, RabbitMQ, Java + Maven (test server), the system libraries
#      cv2 needs, and opencv-doc (real footage for tests). Installed only when missing.
#   2. Python environment: uv (from PyPI, cached by version) syncs .venv from uv.lock.
#   3. Server binaries: `ascension bootstrap` builds the Temporal CLI and MinIO from the Go module
#      proxy and fetches the Temporal test server from Maven Central, cached by version.
#
# Everything lands under one cache directory, $ASCENSION_CACHE_DIR (default ~/.cache/ascension),
# so a second run only checks and returns. Set ASCENSION_SKIP_APT=1 to manage system packages
# yourself.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${ASCENSION_CACHE_DIR:-$HOME/.cache/ascension}
UV_VERSION=0.13.8
export ASCENSION_CACHE_DIR=$CACHE

step() { printf '==> %s\n' "$*"; }
die() { printf '\nbootstrap failed: %s\n' "$*" >&2; exit 1; }

# --- 1. Debian packages ----------------------------------------------------------------------
missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || command -v rabbitmq-server >/dev/null \
  || missing+=(rabbitmq-server)
[ -f /usr/share/doc/opencv-doc/examples/data/vtest.avi ] || missing+=(opencv-doc)
/sbin/ldconfig -p 2>/dev/null | grep -q 'libGL.so.1' || missing+=(libgl1)
/sbin/ldconfig -p 2>/dev/null | grep -q 'libglib-2.0.so.0' || missing+=(libglib2.0-0)
command -v java >/dev/null || missing+=(default-jre-headless)
command -v mvn >/dev/null || missing+=(maven)
# Browser tests (Temporal Web UI with the codec server, the overlay viewer) use Debian's Chromium.
[ -x /usr/bin/chromium ] || missing+=(chromium)

if [ ${#missing[@]} -gt 0 ] && [ "${ASCENSION_SKIP_APT:-0}" != "1" ]; then
  step "installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" = 0 ]; then sudo=(); elif sudo -n true 2>/dev/null; then sudo=(sudo -n); else
    die "missing Debian packages (${missing[*]}) and no root or passwordless sudo.
Fix: sudo apt-get install -y ${missing[*]}   then run this again."
  fi
  command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get.
Fix: install them with your system's package manager, or set ASCENSION_*_PATH settings."
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${missing[@]}"
else
  step "Debian packages: present"
fi

# --- 2. Python environment -------------------------------------------------------------------
python=""
for candidate in python3.12 python3.11 python3; do
  if command -v "$candidate" >/dev/null \
    && "$candidate" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 12) else 1)'
  then python=$(command -v "$candidate"); break; fi
done
[ -n "$python" ] || die "Python 3.11 or 3.12 is required. Fix: apt-get install -y python3.11"

uv="$CACHE/uv/$UV_VERSION/bin/uv"
if [ ! -x "$uv" ]; then
  step "installing uv $UV_VERSION (PyPI)"
  "$python" -m pip install -q --disable-pip-version-check --target "$CACHE/uv/$UV_VERSION.tmp" \
    "uv==$UV_VERSION" || die "could not install uv from PyPI. Fix: check access to PyPI."
  rm -rf "$CACHE/uv/$UV_VERSION" && mv "$CACHE/uv/$UV_VERSION.tmp" "$CACHE/uv/$UV_VERSION"
fi

step "syncing .venv from uv.lock ($("$python" --version))"
cd "$ROOT"
UV_CACHE_DIR="$CACHE/uv-cache" "$uv" sync --frozen --extra dev --python "$python" \
  || die "uv sync failed (see above)."

# --- 3. Server binaries ----------------------------------------------------------------------
step "server binaries (Temporal CLI, Temporal test server, MinIO)"
"$ROOT/.venv/bin/ascension" bootstrap
# --- 4. Database schema ----------------------------------------------------------------------
# The embedded SQLite file, or ASCENSION_DATABASE_URL when it names a running PostgreSQL.
# (The test suite migrates each database it creates itself.)
step "database migrations (Alembic)"
"$ROOT/.venv/bin/ascension" migrate || die "database migrations failed (see above)."
step "bootstrap done; 'make doctor' lists every component"
