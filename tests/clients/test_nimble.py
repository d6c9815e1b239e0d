"""HPE's nimble-sdk (PyPI nimble-sdk, import nimbleclient), unmodified, against
`apiconform serve --tls` (the SDK builds `https://{hostname}:{port}/v1/...` with
verify=False, so it speaks HTTPS only; its documented `port=` argument, default 5392, points
it at the fake's random port). Covers login, users.update, NimbleOS error bodies, a wrong
password, and revoked sessions, which the SDK must recover from by logging in once instead
of looping (its request loop is `while 1`, so each test runs under an alarm)."""

import signal

import pytest
import requests
from nimbleclient import NimOSClient
from nimbleclient import exceptions

from fakeserver import NIMBLE_PASSWORD, NIMBLE_USER, NIMBLE_USER_ID as USER_ID


class Looping(Exception):
    pass


@pytest.fixture(autouse=True)
def no_endless_loop():
    """Fails a test that is still running after 20 s (the SDK retrying forever)."""
    def expire(*_):
        raise Looping("nimble-sdk still retrying after 20 s: endless re-login/401 loop?")

    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def connect(fake_tls, password=NIMBLE_PASSWORD):
    # The SDK caches sessions per (hostname, port, user, password) in the process; the
    # reset before every test drops them on the fake, so a cached one is stale by design.
    return NimOSClient("127.0.0.1", NIMBLE_USER, password, port=fake_tls.port)


def token_requests(fake_tls):
    return [(j["method"], j["path"], j["status"]) for j in fake_tls.journal()
            if j["path"].startswith("/v1/tokens")]


def test_login_and_update(fake_tls):
    client = connect(fake_tls)
    user = client.users.update(USER_ID, description="updated by nimble-sdk", full_name="Ann Lee")
    assert user.id == USER_ID
    assert user.attrs["description"] == "updated by nimble-sdk"
    assert user.attrs["search_name"] == "Ann Lee (user729060021)"
    assert "password" not in user.attrs
    stored = {u["id"]: u for u in fake_tls.state("hpe-nimble")}
    assert stored[USER_ID]["full_name"] == "Ann Lee"
    assert stored[USER_ID]["description"] == "updated by nimble-sdk"


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
    # Renaming onto another user's name: the conflict row.
    with pytest.raises(exceptions.NimOSAPIError) as e:
        client.users.update(USER_ID, name="operator1")
    assert e.value.args[0]["messages"][0]["code"] == "SM_http_conflict"


def test_wrong_password_fails_login(fake_tls):
    with pytest.raises(exceptions.NimOSAuthenticationError):
        connect(fake_tls, password="wrong-password")
    assert token_requests(fake_tls) == [("POST", "/v1/tokens", 401)]


def test_revoked_token_logs_in_once_instead_of_looping(fake_tls):
    client = connect(fake_tls)
    client.users.update(USER_ID, description="before")
    # Read only: the session the SDK got at login (NimOSAPIClient.session_id / session_token).
    session_id, token = client._client.session_id, client._client.session_token
    # The session is revoked behind the SDK's back: NimbleOS's DELETE v1/tokens/{id}.
    r = requests.delete(f"{fake_tls.uri}/v1/tokens/{session_id}",
                        headers={"X-Auth-Token": token}, verify=False, timeout=10)
    assert r.status_code == 200, r.text
    fake_tls.control("DELETE", "journal")
    user = client.users.update(USER_ID, description="after")
    assert user.attrs["description"] == "after"
    # 401 on the PUT, the SDK's session check (an error: 401 or 404), one fresh login, the
    # PUT again.
    calls = [(j["method"], j["path"].split("/")[2], j["status"]) for j in fake_tls.journal()]
    assert len(calls) == 4, calls
    assert calls[0] == ("PUT", "users", 401), calls
    assert calls[1][:2] == ("GET", "tokens") and calls[1][2] in (401, 404), calls
    assert calls[2:] == [("POST", "tokens", 201), ("PUT", "users", 200)], calls


def test_sessions_dropped_by_reset_log_in_once(fake_tls):
    client = connect(fake_tls)
    client.users.update(USER_ID, description="before")
    fake_tls.reset()  # drops every session, as a restarted array would
    user = client.users.update(USER_ID, description="after")
    assert user.attrs["description"] == "after"
    assert [c for c in token_requests(fake_tls) if c[0] == "POST"] == [("POST", "/v1/tokens", 201)]


def test_sdk_close_connection_then_new_client(fake_tls):
    client = connect(fake_tls)
    client.users.update(USER_ID, description="one")
    client._client.close_connection()  # the SDK's own logout: DELETE v1/tokens/{id}
    assert ("DELETE", f"/v1/tokens/{client._client.session_id}", 200) in token_requests(fake_tls)
    user = connect(fake_tls).users.update(USER_ID, description="two")
    assert user.attrs["description"] == "two"


def test_injected_unauthorized_is_retried_once_by_the_sdk(fake_tls):
    # An injected 401 on a still-valid session: the SDK checks its session (valid), does
    # not log in again and repeats the PUT; with count=1 that ends after one round.
    client = connect(fake_tls)
    client.users.update(USER_ID, description="warm")
    fake_tls.fail_next("hpe-nimble", "SM_http_unauthorized", 1)
    user = client.users.update(USER_ID, description="after-401")
    assert user.attrs["description"] == "after-401"


def test_user_lifecycle(fake_tls):
    """users.create -> update -> get -> list (summary, detail, by name, paged) -> delete ->
    get fails: each the SDK's own call, against one store shared by the five specs."""
    client = connect(fake_tls)
    created = client.users.create("sdkuser1", password="password-91", full_name="Sam Dee",
                                  role="operator", email_addr="sam@example.com")
    new_id = created.id
    assert len(new_id) == 42 and all(c in "0123456789abcdef" for c in new_id), new_id
    assert created.attrs["name"] == "sdkuser1"
    assert created.attrs["role"] == "operator"
    assert created.attrs["search_name"] == "Sam Dee (sdkuser1)"
    assert created.attrs["disabled"] is False  # the documented default
    assert "password" not in created.attrs
    assert ("POST", "/v1/users", 201) in [(j["method"], j["path"], j["status"])
                                          for j in fake_tls.journal()]

    # The same name again: 409 SM_http_conflict.
    with pytest.raises(exceptions.NimOSAPIError) as e:
        client.users.create("sdkuser1", password="password-91")
    assert e.value.args[0]["messages"][0]["code"] == "SM_http_conflict"
    # A password of 7 characters, as the SDK's own test tries: SM_invalid_arg_value.
    with pytest.raises(exceptions.NimOSAPIError) as e:
        client.users.create("sdkuser2", password="pass91*")
    assert e.value.args[0]["messages"][0]["code"] == "SM_invalid_arg_value"

    updated = client.users.update(new_id, description="made by nimble-sdk", disabled=True)
    assert updated.id == new_id and updated.attrs["disabled"] is True

    got = client.users.get(new_id)
    assert got.id == new_id
    assert got.attrs["description"] == "made by nimble-sdk"
    assert got.attrs["email_addr"] == "sam@example.com"

    # The summary list: id and name of each user (the two fixtures and the new one).
    summary = client.users.list()
    assert {u.id: u.attrs for u in summary}[new_id] == {"id": new_id, "name": "sdkuser1"}
    assert len(summary) == 3
    # The detailed list: every field.
    detail = {u.id: u.attrs for u in client.users.list(detail=True)}
    assert detail[new_id]["role"] == "operator" and detail[new_id]["disabled"] is True
    # By name (GET v1/users/detail?name=...): the SDK takes the first user answered.
    by_name = client.users.get(name="sdkuser1")
    assert by_name.id == new_id and by_name.attrs["full_name"] == "Sam Dee"
    assert client.users.get(name="nosuchuser") is None
    # Only some fields.
    some = client.users.list(detail=True, fields="id,role")
    assert all(set(u.attrs) == {"id", "role"} for u in some), [u.attrs for u in some]

    # Paging: limit=1 is one page of one row; a startRow makes the SDK's loop walk the
    # rest of the list page by page until endRow == totalRows.
    assert len(client.users.list(limit=1)) == 1
    rest = client.users.list(startRow=1, pageSize=1)
    assert [u.id for u in rest] == [u.id for u in summary][1:]
    paged = [(j["path"], j["status"]) for j in fake_tls.journal() if j["path"] == "/v1/users"]
    assert len(paged) >= 4, paged

    deleted = client.users.delete(new_id)
    assert deleted == {}
    with pytest.raises(exceptions.NimOSAPIError) as e:
        client.users.get(new_id)
    assert e.value.args[0]["messages"][0]["code"] == "SM_http_not_found"
    with pytest.raises(exceptions.NimOSAPIError) as e:
        client.users.delete(new_id)
    assert e.value.args[0]["messages"][0]["code"] == "SM_http_not_found"
    assert new_id not in {u.id for u in client.users.list()}
    assert new_id not in {u["id"] for u in fake_tls.state("hpe-nimble")}
