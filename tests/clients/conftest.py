"""Fixtures for the real-client tests: an `apiconform serve` process per session (plain
HTTP, and HTTPS for nimble-sdk), a reset before every test, and helpers for the control
plane. Run by tests/real_clients.rs, which sets APICONFORM_BIN to the binary under test."""

import json
import os
import subprocess
import urllib.request

import pytest

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "EXAMPLESESSIONTOKEN"


class Fake:
    """A running `apiconform serve`, with its control plane."""

    def __init__(self, *args):
        binary = os.environ.get("APICONFORM_BIN", "apiconform")
        self.proc = subprocess.Popen(
            [binary, "serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        first = self.proc.stdout.readline().strip()
        prefix = "apiconform listening on "
        if not first.startswith(prefix):
            self.proc.kill()
            raise RuntimeError(f"unexpected first line from apiconform serve: {first!r}")
        self.uri = first[len(prefix):]
        self.port = int(self.uri.rsplit(":", 1)[1])

    def control(self, method, path, body=None):
        """Calls /_apiconform/<path> (over plain HTTP or HTTPS without verification)."""
        import ssl

        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.uri}/_apiconform/{path}", data=data, method=method,
            headers={"content-type": "application/json"},
        )
        ctx = ssl._create_unverified_context()
        with urllib.request.urlopen(req, context=ctx) as resp:
            return json.loads(resp.read())

    def reset(self):
        self.control("POST", "reset")

    def fail_next(self, api, code, count=1):
        self.control("POST", "faults", {"api": api, "code": code, "count": count})

    def state(self, api):
        return self.control("GET", f"state?api={api}")[api]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="session")
def fake():
    f = Fake()
    yield f
    f.stop()


@pytest.fixture(scope="session")
def fake_tls():
    f = Fake("--tls")
    yield f
    f.stop()


@pytest.fixture(autouse=True)
def fresh(request):
    """Every test starts from the documents' fixtures."""
    for name in ("fake", "fake_tls"):
        if name in request.fixturenames:
            request.getfixturevalue(name).reset()
    yield


@pytest.fixture
def aws_env(fake, tmp_path):
    """Environment for the AWS CLI pointed at the fake."""
    env = dict(os.environ)
    env.update(
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(tmp_path / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
        AWS_MAX_ATTEMPTS="1",
        AWS_RETRY_MODE="standard",
    )
    return env
