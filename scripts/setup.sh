#!/usr/bin/env bash
# Sets up koderz on a fresh Debian machine, as root: the Debian packages it needs, a Docker
# engine (started when none answers), the npm dependencies and build, and the sandbox images.
# Run it again at any time: each step is skipped when its result is already there.
#   scripts/setup.sh            everything
#   scripts/setup.sh --ci       the same, and npm ci even where node_modules is already there
#   KODERZ_SETUP_SKIP_IMAGES=1  skip building the sandbox images (a few minutes the first time)
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "setup: $*" >&2; }

# What is missing, one check per line, so a new package is one added line (easy to merge).
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
# The process sandbox confines its runner with bubblewrap.
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
# The browser tests of the report and the viewer drive Chromium.
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# The process sandbox runs programs under uids of their own with the system Python and numpy.
command -v python3 >/dev/null 2>&1 || missing+=(python3)
/usr/bin/python3 -I -c "import numpy" >/dev/null 2>&1 || missing+=(python3-numpy)
# The PostgreSQL tests start their own throwaway cluster from Debian's binaries.
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
command -v git >/dev/null 2>&1 || missing+=(git)
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

if ! docker info >/dev/null 2>&1; then
  say "starting dockerd"
  # A daemon killed with its session leaves its pid file behind, which stops a new one starting.
  pgrep -x dockerd >/dev/null || rm -f /var/run/docker.pid
  nohup dockerd >/tmp/koderz-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { say "dockerd did not start; see /tmp/koderz-dockerd.log"; exit 1; }
fi

# npm ci builds dist/ too (the prepare script).
if [ "${1:-}" = "--ci" ] || [ ! -d node_modules ] || [ ! -f dist/src/cli/main.js ]; then npm ci; fi

if [ -z "${KODERZ_SETUP_SKIP_IMAGES:-}" ]; then
  # Both images come from Debian packages when no registry answers (a few minutes the first time).
  node dist/src/cli/main.js sandbox build --workspace
fi
say "ready: try  node dist/src/cli/main.js evaluate \"\$KODERZ_DATA_DIR/samples/<file>.jsonl\"  or see README.md"
