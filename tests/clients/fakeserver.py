"""Runs `apiconform serve` as a subprocess for the real-client tests and talks to its
control plane (/_apiconform/). Also holds the default credentials and fixture ids the
tests share. APICONFORM_BIN names the binary (tests/real_clients.rs sets it)."""

import json
import os
import pathlib
import select
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

if sys.platform.startswith("linux"):
    import ctypes

    def _die_with_parent():
        """In the child: SIGTERM when pytest dies, so a killed run leaves no server behind."""
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
else:
    _die_with_parent = None

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "EXAMPLESESSIONTOKEN"
LIMITED_KEY = "AKIDLIMITED"
LIMITED_SECRET = "limitedSecretKeyEXAMPLE"
LIMITED_TOKEN = "LIMITEDSESSIONTOKEN"
NIMBLE_USER, NIMBLE_PASSWORD = "admin", "password-91"

IAM_USER = "Bob"
TRANSFER_SERVER = "s-01234567890abcdef"
TRANSFER_USER = "my_user"
WORKDOCS_USER = "S-1-1-11-1111111111-2222222222-3333333333-3333&d-90670b3d16"
NIMBLE_USER_ID = "1000000000000004d3000000000000000000000003"

LISTENING = "apiconform listening on "
REPO = pathlib.Path(__file__).resolve().parents[2]


def binary():
    env = os.environ.get("APICONFORM_BIN")
    if env:
        return env
    for candidate in (REPO / "target/debug/apiconform", REPO / "target/release/apiconform"):
        if candidate.exists():
            return str(candidate)
    raise RuntimeError("set APICONFORM_BIN to the apiconform binary (cargo test does)")


class Fake:
    """A running `apiconform serve --port 0 ARGS`, with its control plane."""

    def __init__(self, *args, startup_timeout=30):
        self.log = tempfile.NamedTemporaryFile(prefix="apiconform-", suffix=".log", delete=False)
        self.argv = [binary(), "serve", "--port", "0", *args]
        self.proc = subprocess.Popen(
            self.argv, stdout=subprocess.PIPE, stderr=self.log, text=True,
            preexec_fn=_die_with_parent,
        )
        try:
            first = self._first_line(startup_timeout)
            if not first.startswith(LISTENING):
                raise RuntimeError(f"unexpected first stdout line {first!r}")
            self.uri = first[len(LISTENING):].strip().rstrip("/")
            self.port = int(self.uri.rsplit(":", 1)[1])
            self._wait_healthy(startup_timeout)
        except Exception as e:
            self.stop()
            raise RuntimeError(f"{' '.join(self.argv)} did not start: {e}\n{self.stderr()}") from e

    def _first_line(self, timeout):
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            raise RuntimeError(f"no stdout line within {timeout} s")
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"exited with {self.proc.wait()} before listening")
        return line

    def _wait_healthy(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                health = self.control("GET", "health")
                if health.get("status") == "ok":
                    self.apis = [a["id"] for a in health["apis"]]
                    return
            except (OSError, urllib.error.URLError, ValueError) as e:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"/_apiconform/health not ok: {e}") from e
            time.sleep(0.05)

    def stderr(self):
        try:
            return pathlib.Path(self.log.name).read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def control(self, method, path, body=None):
        """Calls /_apiconform/<path> (HTTP, or HTTPS without verification); the JSON answer."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.uri}/_apiconform/{path}", data=data, method=method,
            headers={"content-type": "application/json"},
        )
        ctx = ssl._create_unverified_context() if self.uri.startswith("https") else None
        with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:
            return json.loads(resp.read())

    def reset(self):
        self.control("POST", "reset")

    def fail_next(self, api, code, count=1):
        self.control("POST", "faults", {"api": api, "code": code, "count": count})

    def state(self, api):
        return self.control("GET", f"state?api={api}")[api]

    def journal(self):
        return self.control("GET", "journal")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        self.log.close()
        pathlib.Path(self.log.name).unlink(missing_ok=True)
