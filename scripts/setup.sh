#!/usr/bin/env bash
# Installs everything ketsite needs to build, test and lint, and nothing twice.
#
#   bash scripts/setup.sh          # idempotent; ~0.1 s when everything is in place
#   FORCE=1 bash scripts/setup.sh  # redo the pip and npm steps even if up to date
#
# 1. Debian packages, only those missing: chromium + chromium-driver (the browser
#    tests drive /usr/bin/chromium; no test tool ever downloads a browser), a Java
#    runtime for the Nu HTML checker (only if `java` is absent), and on a bare
#    machine python3/python3-venv/nodejs/npm.
# 2. .venv (python3 >= 3.11) with `pip install -e '.[test]'`, redone only when
#    pyproject.toml or the interpreter changed.
# 3. node_modules via `npm ci` from package-lock.json, redone only when the lock
#    changed. Install scripts are off (.npmrc), so vnu-jar downloads no Java.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
FORCE=${FORCE:-0}
VENV=$ROOT/.venv
CHROMIUM=${KETSITE_CHROMIUM:-/usr/bin/chromium}

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

# Prints the first interpreter on PATH that is Python >= 3.11.
find_python() {
    local cand
    for cand in python3 python3.13 python3.12 python3.11; do
        if command -v "$cand" >/dev/null 2>&1 &&
            "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$cand"
            return 0
        fi
    done
    return 1
}

# ---------------------------------------------------------------- 1. apt
apt_pkgs=()
[[ -x $CHROMIUM ]] || apt_pkgs+=(chromium)
command -v chromedriver >/dev/null 2>&1 || [[ -x /usr/bin/chromedriver ]] || apt_pkgs+=(chromium-driver)
command -v java >/dev/null 2>&1 || apt_pkgs+=(default-jre-headless)
command -v make >/dev/null 2>&1 || apt_pkgs+=(make)
if [[ ! -x $VENV/bin/python ]]; then
    # Only a machine that still has to create the venv needs these.
    if ! PY=$(find_python); then
        apt_pkgs+=(python3 python3-venv)
    elif ! "$PY" -c 'import ensurepip, venv' 2>/dev/null; then
        apt_pkgs+=(python3-venv)   # Debian keeps ensurepip out of python3 itself
    fi
fi
if ! command -v npm >/dev/null 2>&1; then
    command -v node >/dev/null 2>&1 && die "node is installed but npm is not; install npm"
    apt_pkgs+=(nodejs npm)
fi

if ((${#apt_pkgs[@]})); then
    SUDO=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || die "need root (or sudo) to install: ${apt_pkgs[*]}"
        SUDO=(sudo)
    fi
    command -v apt-get >/dev/null 2>&1 || die "no apt-get; install these yourself: ${apt_pkgs[*]}"
    # Another apt/dpkg (e.g. a background install) may hold the lock: wait for it.
    if command -v pgrep >/dev/null 2>&1; then
        for i in $(seq 1 180); do
            pgrep -x apt >/dev/null || pgrep -x apt-get >/dev/null ||
                pgrep -x dpkg >/dev/null || break
            ((i == 1)) && say "waiting for another apt/dpkg process to finish"
            sleep 5
        done
    fi
    say "apt-get install ${apt_pkgs[*]}"
    APT_OPTS=(-o DPkg::Lock::Timeout=900 -o Dpkg::Use-Pty=0)
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTS[@]}" -qq update
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTS[@]}" -qq -y \
        install --no-install-recommends "${apt_pkgs[@]}" >/dev/null
    [[ -x $CHROMIUM ]] || die "chromium installed but $CHROMIUM is missing"
else
    say "system packages present (chromium, chromedriver, java, make, npm)"
fi

# ---------------------------------------------------------------- 2. .venv
if [[ -x $VENV/bin/python ]] &&
    ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    say ".venv has Python < 3.11: recreating it"
    rm -rf "$VENV"
fi
if [[ ! -x $VENV/bin/python ]]; then
    PY=$(find_python) || die "no python3 >= 3.11 found"
    say "creating .venv with $PY ($("$PY" -c 'import platform; print(platform.python_version())'))"
    rm -rf "$VENV"
    "$PY" -m venv "$VENV"
fi

py_stamp_file=$VENV/.ketsite-setup-stamp
py_stamp="$(sha256sum pyproject.toml | cut -d' ' -f1) $("$VENV/bin/python" -c 'import sys; print(sys.version)' | head -1)"
if [[ $FORCE != 1 && -x $VENV/bin/ketsite && -f $py_stamp_file && $(<"$py_stamp_file") == "$py_stamp" ]]; then
    say ".venv up to date (pip install -e '.[test]' skipped; FORCE=1 to redo)"
else
    say "pip install -e '.[test]' into .venv"
    rm -f "$py_stamp_file"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[test]'
    printf '%s' "$py_stamp" >"$py_stamp_file"
fi

# ---------------------------------------------------------------- 3. node_modules
npm_stamp_file=$ROOT/node_modules/.ketsite-setup-stamp
npm_stamp=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ $FORCE != 1 && -f $npm_stamp_file && $(<"$npm_stamp_file") == "$npm_stamp" &&
    -f node_modules/minisearch/dist/umd/index.js &&
    -f node_modules/axe-core/axe.min.js &&
    -f node_modules/vnu-jar/build/dist/vnu.jar ]]; then
    say "node_modules up to date (npm ci skipped)"
else
    say "npm ci"
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
    printf '%s' "$npm_stamp" >"$npm_stamp_file"
fi

say "done"
