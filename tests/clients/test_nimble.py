"""HPE's nimble-sdk, unmodified, against `apiconform serve --tls` (the SDK speaks HTTPS
only): login, update, NimbleOS error bodies, a failed login, and a revoked session that
the SDK recovers from by logging in again instead of looping."""

import pytest
from nimbleclient import NimOSClient
from nimbleclient import exceptions

USER_ID = "1000000000000004d3000000000000000000000003"


def connect(fake_tls, password="password-91"):
    return NimOSClient("127.0.0.1", "admin", password, port=fake_tls.port)


def test_login_and_update(fake_tls):
    client = connect(fake_tls)
    user = client.users.update(USER_ID, description="updated by nimble-sdk", full_name="Ann Lee")
    assert user.attrs["description"] == "updated by nimble-sdk"
    assert user.attrs["search_name"] == "Ann Lee (user729060021)"
    stored = {u["id"]: u for u in fake_tls.state("hpe-nimble")}
    assert stored[USER_ID]["full_name"] == "Ann Lee"


def test_invalid_input_is_a_nimbleos_error(fake_tls):
    client = connect(fake_tls)
    with pytest.raises(exceptions.NimOSAPIError) as e:
        client.users.update(USER_ID, role="king")
    body = e.value.args[0]
    message = body["messages"][0]
    assert message["code"] == "SM_invalid_arg_value"
    assert message["severity"] == "error"
    assert "role" in message["text"]
    with pytest.raises(exceptions.NimOSAPIError) as e:
        client.users.update(USER_ID, favourite_colour="blue")
    assert e.value.args[0]["messages"][0]["code"] == "SM_unexpected_arg"
    with pytest.raises(exceptions.NimOSAPIError) as e:
        client.users.update("1000000000000004d3000000000000000000000999", description="x")
    assert e.value.args[0]["messages"][0]["code"] == "SM_http_not_found"


def test_wrong_password_fails_login(fake_tls):
    with pytest.raises(exceptions.NimOSAuthenticationError):
        connect(fake_tls, password="wrong-password").users.update(USER_ID, description="x")


def test_revoked_session_logs_in_again_instead_of_looping(fake_tls):
    client = connect(fake_tls)
    client.users.update(USER_ID, description="before")
    # Drop every session (as a restarted array would); the SDK must re-login once.
    fake_tls.reset()
    user = client.users.update(USER_ID, description="after")
    assert user.attrs["description"] == "after"
    logins = [j for j in fake_tls.control("GET", "journal") if j["path"] == "/v1/tokens"]
    assert len(logins) == 1, logins
