"""pytest fixtures for the real-client tests: one `apiconform serve --port 0` per session
over HTTP (`fake`) and one over HTTPS (`fake_tls`, for nimble-sdk, which speaks TLS only),
a reset of every started fake before each test, and an AWS CLI environment. Run by
tests/real_clients.rs, which sets APICONFORM_BIN to the binary under test."""

import os

import pytest

from fakeserver import ACCESS_KEY, SECRET_KEY, Fake

@pytest.fixture(scope="session")
def fake():
    f = Fake()
    yield f
    f.stop()


@pytest.fixture(scope="session")
def fake_tls():
    f = Fake("--tls")
    assert f.uri.startswith("https://"), f.uri
    yield f
    f.stop()


@pytest.fixture(scope="session")
def fake_config(tmp_path_factory):
    """A fake with --config: a Nexfs session holding no role at all (AKIDNOROLES)."""
    cfg = tmp_path_factory.mktemp("config") / "creds.yaml"
    cfg.write_text(
        "credentials:\n"
        "  - access_key: AKIDNOROLES\n"
        "    secret_key: noRolesSecretEXAMPLE\n"
        "    session_token: NOROLESSESSIONTOKEN\n"
        "    roles: []\n"
        "    user: NoRolesUser\n"
        "logins: []\n"
    )
    f = Fake("--spec", "nexfs", "--config", str(cfg))
    yield f
    f.stop()


@pytest.fixture(autouse=True)
def fresh(request):
    """Every test starts from the documents' fixtures: no state, faults, sessions carried over."""
    for name in ("fake", "fake_tls", "fake_config"):
        if name in request.fixturenames:
            request.getfixturevalue(name).reset()
    yield


@pytest.fixture
def aws_env(fake, tmp_path):
    """Environment for the AWS CLI pointed at the fake: env credentials, no config files."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(tmp_path / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
        AWS_MAX_ATTEMPTS="1",
        AWS_RETRY_MODE="standard",
        AWS_PAGER="",
    )
    return env
