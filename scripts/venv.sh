#!/usr/bin/env bash
# Creates (or reuses) the Python venv in .venv/ holding the real clients the tests drive:
# boto3, the AWS CLI, HPE's nimble-sdk, moto and pytest, pinned in
# tests/clients/requirements.txt. Idempotent: a stamp holding the requirements' hash skips
# the install when nothing changed; a lock keeps parallel test processes from racing.
# Prints the venv's python on the last line.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${APICONFORM_VENV:-$root/.venv}"
req="$root/tests/clients/requirements.txt"
stamp="$venv/.apiconform-requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"

mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "$venv/bin/python"
    exit 0
fi

python="${PYTHON:-python3}"
if ! command -v "$python" >/dev/null; then
    echo "scripts/venv.sh: $python not found; install Python 3.9+ (Debian: apt install python3 python3-venv)" >&2
    exit 1
fi
echo "scripts/venv.sh: creating $venv (first run takes about a minute)" >&2
rm -rf "$venv"
if ! "$python" -m venv "$venv" >&2; then
    echo "scripts/venv.sh: '$python -m venv' failed; on Debian install python3-venv" >&2
    exit 1
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
echo "$want" >"$stamp"
echo "$venv/bin/python"
