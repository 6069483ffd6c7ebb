#!/usr/bin/env bash
# Headless Chromium for rendering the Superset dashboards (edp superset screenshots):
# Debian's chromium, its chromedriver, and Noto CJK fonts so Chinese titles render.
# Idempotent: nothing to do when chromium and chromedriver are on PATH already.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "infra/browser/install.sh: no apt-get; install chromium, chromedriver and Noto CJK fonts yourself" >&2
    exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    SUDO=(sudo)
fi

# Another install may hold dpkg's lock (parallel checkouts, unattended upgrades): wait for it
# rather than fail.
LOCK_WAIT=(-o DPkg::Lock::Timeout=900)
"${SUDO[@]}" apt-get "${LOCK_WAIT[@]}" update
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get "${LOCK_WAIT[@]}" install -y --no-install-recommends chromium chromium-driver fonts-noto-cjk
