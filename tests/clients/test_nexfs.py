"""Nexfs console API requests signed by botocore's own SigV4 signer
(`SigV4Auth(credentials, 'nexfsconsoleapi', 'nexfs')`, with the session token the document
requires) and sent with requests to `/nexfsconsoleapi`, where the vendor serves the console
API: the document's example, roles (403 Forbidden), errors, the `/` alias, and the user
lifecycle through CreateUser, GetUser, ListUsers and DeleteUser."""

import urllib.parse
from xml.etree import ElementTree

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from fakeserver import (
    ACCESS_KEY, LIMITED_KEY, LIMITED_SECRET, LIMITED_TOKEN, SECRET_KEY, SESSION_TOKEN,
)

ADMIN = Credentials(ACCESS_KEY, SECRET_KEY, SESSION_TOKEN)
LIMITED = Credentials(LIMITED_KEY, LIMITED_SECRET, LIMITED_TOKEN)
NO_ROLES = Credentials("AKIDNOROLES", "noRolesSecretEXAMPLE", "NOROLESSESSIONTOKEN")


CONSOLE_API = "/nexfsconsoleapi"


def call(fake, params, creds=ADMIN, content_sha=False, path=CONSOLE_API):
    url = f"{fake.uri}{path}?" + urllib.parse.urlencode({"Action": "UpdateUser", **params},
                                                         quote_via=urllib.parse.quote)
    req = AWSRequest(method="GET", url=url)
    if content_sha:
        req.headers["x-amz-content-sha256"] = (
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        )
    SigV4Auth(creds, "nexfsconsoleapi", "nexfs").add_auth(req)
    return requests.get(url, headers=dict(req.headers.items()), timeout=10)


def test_the_documents_example(fake):
    r = call(fake, {
        "Description": '{"UserDescription2": "of updating a user"}',
        "NewContentSecret": "SecretKey",
        "NewSecretHash": "9f94debc27074c380d3028c52705e891",
        "NewUserId": "ExampleUserUpdated",
        "UserId": "ExampleUser",
        "UserName": "Example User Updated",
    }, content_sha=True)
    assert r.status_code == 200, r.text
    assert r.text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert "<UserName>Example User Updated</UserName>" in r.text
    assert "<UserId>ExampleUserUpdated</UserId>" in r.text
    assert r.headers["content-type"] == "application/xml"
    root = ElementTree.fromstring(r.content)
    assert root.tag == "RequestCompleted"
    assert root.findtext("Code") == "OK"
    assert root.findtext("Resource") == "/nexfsconsoleapi"
    assert root.findtext("UpdateUserResponse/ResponseMetadata/RequestId").isdigit()
    users = {u["UserId"]: u for u in fake.state("nexfs")}
    assert "ExampleUser" not in users
    assert users["ExampleUserUpdated"]["UserDescription2"] == "of updating a user"
    assert users["ExampleUserUpdated"]["UserDescription1"] == "An example user"


def test_unknown_user_is_409_no_such_entity(fake):
    r = call(fake, {"UserId": "Nobody", "UserName": "x"})
    assert r.status_code == 409
    root = ElementTree.fromstring(r.content)
    assert root.tag == "Error"
    assert root.findtext("Code") == "NoSuchEntity"
    assert root.findtext("Resource") == "/nexfsconsoleapi"
    assert root.findtext("RequestId").isdigit()


def test_roles_give_403(fake):
    # LimitedUser holds iam/UpdateUsers only.
    r = call(fake, {"UserId": "OtherUser", "UserName": "Renamed"}, LIMITED)
    assert r.status_code == 200, r.text
    r = call(fake, {"UserId": "OtherUser", "NewSecretHash": "0" * 32}, LIMITED)
    assert r.status_code == 403
    assert "<Code>Forbidden</Code>" in r.text
    r = call(fake, {"UserId": "OtherUser", "NewContentSecret": "s3cret"}, LIMITED)
    assert r.status_code == 403
    # Its own secret too: UpdateUser needs the role for any user's secret (the document
    # sends a session without it to ChangePassword); its own name needs only UpdateUsers.
    r = call(fake, {"UserId": "LimitedUser", "NewSecretHash": "0" * 32}, LIMITED)
    assert r.status_code == 403, r.text
    r = call(fake, {"UserId": "LimitedUser", "UserName": "Limited"}, LIMITED)
    assert r.status_code == 200, r.text


def test_limited_user_changing_other_users_secret_is_403_and_changes_nothing(fake):
    before = fake.state("nexfs")
    r = call(fake, {"UserId": "OtherUser", "NewSecretHash": "9f94debc27074c380d3028c52705e891"},
             LIMITED)
    assert r.status_code == 403, r.text
    assert "<Code>Forbidden</Code>" in r.text
    assert "iam/UpdateOtherUserSecret" in r.text
    assert fake.state("nexfs") == before


def test_a_session_without_iam_update_users_is_403(fake_config):
    # fake_config's only credential (AKIDNOROLES) holds no role at all.
    before = fake_config.state("nexfs")
    r = call(fake_config, {"UserId": "ExampleUser", "UserName": "Renamed"}, NO_ROLES)
    assert r.status_code == 403, r.text
    assert "<Code>Forbidden</Code>" in r.text
    assert "iam/UpdateUsers" in r.text
    assert fake_config.state("nexfs") == before


def test_the_root_path_still_answers(fake):
    # `/` is an alias of the console API where the request is not IAM's (no IAM scope, no
    # Version): clients written for `/` keep working. Errors name the console API's path.
    r = call(fake, {"UserId": "ExampleUser", "UserName": "At The Root"}, path="/")
    assert r.status_code == 200, r.text
    assert ElementTree.fromstring(r.content).findtext("Resource") == CONSOLE_API
    assert {u["UserId"]: u for u in fake.state("nexfs")}["ExampleUser"]["UserName"] == "At The Root"
    r = call(fake, {"UserId": "Nobody"}, path="/")
    assert r.status_code == 409
    assert ElementTree.fromstring(r.content).findtext("Resource") == CONSOLE_API


def test_a_signature_for_another_path_is_refused(fake):
    # The path is part of what SigV4 signs: signed for `/`, sent to the console API.
    params = {"Action": "UpdateUser", "UserId": "ExampleUser", "UserName": "Moved"}
    query = urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
    req = AWSRequest(method="GET", url=f"{fake.uri}/?{query}")
    SigV4Auth(ADMIN, "nexfsconsoleapi", "nexfs").add_auth(req)
    before = fake.state("nexfs")
    r = requests.get(f"{fake.uri}{CONSOLE_API}?{query}", headers=dict(req.headers.items()),
                     timeout=10)
    assert r.status_code == 401, r.text
    assert "<Code>Unauthorized</Code>" in r.text
    assert fake.state("nexfs") == before


def test_unsigned_or_tokenless_requests_get_401(fake):
    r = requests.get(f"{fake.uri}{CONSOLE_API}?Action=UpdateUser&UserId=ExampleUser&UserName=x",
                     timeout=10)
    assert r.status_code == 401
    assert "<Code>Unauthorized</Code>" in r.text
    r = call(fake, {"UserId": "ExampleUser", "UserName": "x"}, Credentials(ACCESS_KEY, SECRET_KEY))
    assert r.status_code == 401


def test_bad_hash_is_bad_request(fake):
    r = call(fake, {"UserId": "ExampleUser", "NewSecretHash": "not-md5"})
    assert r.status_code == 400
    assert "<Code>BadRequest</Code>" in r.text


def console(fake, action, params, creds=ADMIN):
    """One console API action, signed by botocore as the vendor's console signs it."""
    url = f"{fake.uri}{CONSOLE_API}?" + urllib.parse.urlencode(
        {"Action": action, **params}, quote_via=urllib.parse.quote)
    req = AWSRequest(method="GET", url=url)
    SigV4Auth(creds, "nexfsconsoleapi", "nexfs").add_auth(req)
    return requests.get(url, headers=dict(req.headers.items()), timeout=10)


def test_user_lifecycle(fake):
    # CreateUser -> UpdateUser -> GetUser -> ListUsers -> DeleteUser -> GetUser fails: five
    # specs sharing the users nexfs (UpdateUser) owns.
    r = console(fake, "CreateUser", {
        "UserId": "carol",
        "UserName": "Carol",
        "Email": "carol@example.com",
        "NewSecretHash": "9f94debc27074c380d3028c52705e891",
        "AssumeRolePolicyDocument": '{"Roles": ["ReadOnly", "Operators"]}',
        "Description": '{"UserDescription1": "storage team"}',
        "UserPOSIXUID": "1001",
    })
    assert r.status_code == 200, r.text
    made = ElementTree.fromstring(r.content)
    assert made.findtext("Code") == "OK"
    assert made.findtext("CreateUserResponse/CreateUserResult/User/UserId") == "carol"
    assert made.findtext("CreateUserResponse/ResponseMetadata/RequestId").isdigit()
    r = console(fake, "CreateUser", {"UserId": "carol", "UserName": "Again"})
    assert r.status_code == 409, r.text
    assert ElementTree.fromstring(r.content).findtext("Code") == "EntityAlreadyExists"

    r = console(fake, "UpdateUser", {"UserId": "carol", "NewUserId": "caroline",
                                     "UserName": "Caroline",
                                     "Description": '{"UserDescription2": "on call"}'})
    assert r.status_code == 200, r.text

    r = console(fake, "GetUser", {"UserId": "caroline"})
    assert r.status_code == 200, r.text
    user = ElementTree.fromstring(r.content).find("GetUserResponse/GetUserResult/User")
    assert user.findtext("UserId") == "caroline"
    assert user.findtext("UserName") == "Caroline"
    assert user.findtext("UserEnabled") == "1"
    assert user.findtext("UserEmail") == "carol@example.com"
    assert user.findtext("UserPOSIXUID") == "1001"
    assert user.find("UserPOSIXGID") is None            # never set
    assert user.findtext("UserDescription1") == "storage team"
    assert user.findtext("UserDescription2") == "on call"
    assert user.findtext("AuthenicationMethod") == "0"
    assert [e.text for e in user.findall("Roles/MgmtRole")] == ["ReadOnly", "Operators"]
    r = console(fake, "GetUser", {"UserId": "carol"})
    assert r.status_code == 409
    assert ElementTree.fromstring(r.content).findtext("Code") == "NoSuchEntity"

    r = console(fake, "ListUsers", {})
    assert r.status_code == 200, r.text
    results = ElementTree.fromstring(r.content).find("ListUsersResponse/ListUsersResults")
    assert results.findtext("IsTruncated") == "false"
    listed = {m.findtext("UserId"): m.findtext("UserName") for m in results.findall("Users/member")}
    assert listed == {"ExampleUser": "Example User", "LimitedUser": "Limited session user",
                      "OtherUser": "Other User", "caroline": "Caroline"}

    r = console(fake, "DeleteUser", {"UserId": "caroline"})
    assert r.status_code == 200, r.text
    assert ElementTree.fromstring(r.content).find("DeleteUserResponse/ResponseMetadata") is not None
    r = console(fake, "GetUser", {"UserId": "caroline"})
    assert r.status_code == 409                         # NoSuchEntity, as the vendor documents
    assert ElementTree.fromstring(r.content).findtext("Code") == "NoSuchEntity"
    r = console(fake, "DeleteUser", {"UserId": "caroline"})
    assert r.status_code == 409
    assert "caroline" not in {u["UserId"] for u in fake.state("nexfs")}


def test_lifecycle_roles(fake):
    # GetUser needs iam/GetUser, ListUsers iam/ListUsers; the limited session holds
    # iam/UpdateUsers only, so it may create and delete but not read.
    r = console(fake, "CreateUser", {"UserId": "dave", "UserName": "Dave"}, LIMITED)
    assert r.status_code == 200, r.text
    for action, params in [("GetUser", {"UserId": "dave"}), ("ListUsers", {})]:
        r = console(fake, action, params, LIMITED)
        assert r.status_code == 403, r.text
        assert "<Code>Forbidden</Code>" in r.text
    r = console(fake, "DeleteUser", {"UserId": "dave"}, LIMITED)
    assert r.status_code == 200, r.text
    r = console(fake, "CreateUser", {"UserId": "erin", "UserName": "Erin",
                                     "AssumeRolePolicyDocument": '{"Roles": %s}' % (
                                         str([f"r{i}" for i in range(17)]).replace("'", '"'))})
    assert r.status_code == 507, r.text
    assert "<Code>ToManyRoles</Code>" in r.text
