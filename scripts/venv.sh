#!/usr/bin/env bash
# Creates (or reuses) the Python venv holding the real clients the tests drive: boto3, the
# AWS CLI, HPE's nimble-sdk, moto and pytest, pinned in tests/clients/requirements.txt.
#
#   scripts/venv.sh                  # .venv/ in the repo root (APICONFORM_VENV overrides)
#   PYTHON=python3.12 scripts/venv.sh
#
# Idempotent: a stamp holding the hash of the requirements and of the interpreter skips
# the install when nothing changed (a change installs over the existing venv); an flock on
# <venv>.lock keeps parallel cargo test processes from racing. A cold install takes about a
# minute (59 s measured: PyPI, no pip cache). Progress and errors go to stderr; the last
# stdout line is the venv's python.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${APICONFORM_VENV:-$root/.venv}"
req="$root/tests/clients/requirements.txt"
python="${PYTHON:-python3}"
stamp="$venv/.apiconform-requirements.sha256"

die() {
    printf '\nscripts/venv.sh: ERROR: %s\n\n' "$*" >&2
    exit 1
}

command -v "$python" >/dev/null ||
    die "$python not found. Install Python 3.9 or newer (Debian/Ubuntu: apt install python3 python3-venv), or set PYTHON=/path/to/python3."
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 9))' ||
    die "$("$python" --version 2>&1) is too old; the clients need Python 3.9 or newer (set PYTHON=...)."

want="$( (sha256sum "$req" && "$python" -c 'import sys; print(sys.version)') | sha256sum | cut -d' ' -f1)"

mkdir -p "$(dirname "$venv")"
if command -v flock >/dev/null; then
    exec 9>"$venv.lock"
    flock 9
else
    # No flock (macOS): a mkdir lock, good enough for a few concurrent test processes.
    until mkdir "$venv.lockdir" 2>/dev/null; do sleep 1; done
    trap 'rmdir "$venv.lockdir"' EXIT
fi

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "scripts/venv.sh: venv up to date: $venv" >&2
    echo "$venv/bin/python"
    exit 0
fi

start=$SECONDS
pyver() { "$1" -c 'import sys; print(sys.version)' 2>/dev/null; }
if [[ -x "$venv/bin/python" && "$(pyver "$venv/bin/python")" == "$(pyver "$python")" ]] &&
    "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
    # Requirements changed: install over the existing venv rather than deleting it under
    # a test process that may still be using it.
    echo "scripts/venv.sh: updating $venv to $req" >&2
else
    echo "scripts/venv.sh: creating $venv with $("$python" --version 2>&1) (takes about a minute; needs PyPI)" >&2
    rm -rf "$venv"
    if ! "$python" -m venv "$venv" >&2; then
        # Debian/Ubuntu ship venv without ensurepip unless python3-venv is installed; try a
        # venv without pip and bootstrap pip with ensurepip before giving up.
        echo "scripts/venv.sh: '$python -m venv' failed; trying --without-pip + ensurepip" >&2
        rm -rf "$venv"
        "$python" -m venv --without-pip "$venv" >&2 &&
            "$venv/bin/python" -m ensurepip --upgrade --default-pip >&2 || {
            rm -rf "$venv"
            die "cannot create a venv with pip using $python. On Debian/Ubuntu: apt install python3-venv (or python3.X-venv for your version), then rerun."
        }
    fi
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2 ||
    die "pip install -r $req failed (network? PyPI reachable? see the pip output above). $venv has no stamp, so the next run retries."
echo "$want" >"$stamp"
echo "scripts/venv.sh: venv ready in $((SECONDS - start)) s: $venv" >&2
echo "$venv/bin/python"
