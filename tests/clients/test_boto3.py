"""boto3, unmodified, against `apiconform serve`: IAM, Transfer and WorkDocs UpdateUser
succeed and change state; every reachable error row raises the client's modeled class;
every row of every error table can be injected (POST /_apiconform/faults) and reaches the
client intact. Clients run with parameter_validation=False so invalid values reach the
server's own validation, and with one attempt so injected 5xx/throttling are not retried."""

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from fakeserver import ACCESS_KEY, SECRET_KEY, TRANSFER_SERVER as SERVER, WORKDOCS_USER
from specs import error_rows


def client(fake, service, **kw):
    return boto3.client(
        service,
        endpoint_url=fake.uri,
        region_name="us-east-1",
        aws_access_key_id=kw.get("key", ACCESS_KEY),
        aws_secret_access_key=kw.get("secret", SECRET_KEY),
        config=Config(parameter_validation=False, retries={"total_max_attempts": 1}),
    )


def names(rows, field):
    return {r[field] for r in rows}


def test_iam_rename_and_path(fake):
    iam = client(fake, "iam")
    out = iam.update_user(UserName="Bob", NewUserName="Robert", NewPath="/ops/")
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert len(out["ResponseMetadata"]["RequestId"]) == 36
    users = {u["UserName"]: u for u in fake.state("aws-iam")}
    assert "Bob" not in users
    assert users["Robert"]["Path"] == "/ops/"
    assert users["Robert"]["Arn"] == "arn:aws:iam::123456789012:user/ops/Robert"


def test_iam_modeled_errors(fake):
    iam = client(fake, "iam")
    with pytest.raises(iam.exceptions.NoSuchEntityException) as e:
        iam.update_user(UserName="Nobody", NewPath="/")
    assert e.value.response["Error"]["Message"] == "The user with name Nobody cannot be found."
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    # Names are unique case-insensitively, both ways.
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException) as e:
        iam.update_user(UserName="Bob", NewUserName="ALICE")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException):
        iam.update_user(UserName="Alice", NewUserName="bob")
    assert names(fake.state("aws-iam"), "UserName") >= {"Bob", "Alice"}


def test_iam_names_in_any_letter_case(fake):
    iam = client(fake, "iam")
    # A name in another case selects the user; the stored name keeps its case.
    iam.update_user(UserName="BOB", NewPath="/engineering/")
    users = {u["UserName"]: u for u in fake.state("aws-iam")}
    assert users["Bob"]["Path"] == "/engineering/"
    assert "BOB" not in users
    # A case-only rename is refused, as IAM refuses it, and changes nothing.
    before = fake.state("aws-iam")
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException) as e:
        iam.update_user(UserName="Bob", NewUserName="BOB")
    assert e.value.response["Error"]["Message"] == "User with name BOB already exists."
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert fake.state("aws-iam") == before
    # Selected in another case and renamed: the old name is gone in every case.
    iam.update_user(UserName="bOB", NewUserName="Robert")
    assert names(fake.state("aws-iam"), "UserName") == {"Robert", "Alice"}
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.update_user(UserName="bob", NewPath="/")


def test_iam_validation_error_is_worded_like_aws(fake):
    iam = client(fake, "iam")
    with pytest.raises(ClientError) as e:
        iam.update_user(UserName="Bob", NewUserName="x" * 65)
    err = e.value.response["Error"]
    assert err["Code"] == "ValidationError"
    assert err["Message"] == (
        f"1 validation error detected: Value '{'x' * 65}' at 'newUserName' failed to "
        "satisfy constraint: Member must have length less than or equal to 64"
    )
    with pytest.raises(ClientError) as e:
        iam.update_user(UserName="Bób")
    assert e.value.response["Error"]["Code"] == "ValidationError"


def test_transfer_update_and_rule(fake):
    tr = client(fake, "transfer")
    out = tr.update_user(
        ServerId=SERVER,
        UserName="my_user",
        HomeDirectoryType="LOGICAL",
        HomeDirectoryMappings=[{"Entry": "/", "Target": "/bucket/home", "Type": "DIRECTORY"}],
        PosixProfile={"Uid": 1000, "Gid": 1000, "SecondaryGids": [10, 20]},
        Role="arn:aws:iam::123456789012:role/transfer-role",
    )
    assert (out["ServerId"], out["UserName"]) == (SERVER, "my_user")
    user = next(u for u in fake.state("aws-transfer") if u["UserName"] == "my_user")
    assert user["PosixProfile"] == {"Uid": 1000, "Gid": 1000, "SecondaryGids": [10, 20]}
    with pytest.raises(tr.exceptions.InvalidRequestException):
        tr.update_user(
            ServerId=SERVER, UserName="other_user", HomeDirectoryType="PATH",
            HomeDirectoryMappings=[{"Entry": "/", "Target": "/bucket/home"}],
        )
    with pytest.raises(tr.exceptions.ResourceNotFoundException) as e:
        tr.update_user(ServerId=SERVER, UserName="nobody")
    assert e.value.response["Resource"] == "nobody"
    assert e.value.response["ResourceType"] == "User"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as e:
        tr.update_user(ServerId="s-1", UserName="my_user")
    assert e.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as e:
        tr.update_user(ServerId=SERVER, UserName="my_user", PosixProfile={"Uid": "x", "Gid": 1})
    assert e.value.response["Error"]["Code"] == "SerializationException"


def test_transfer_unknown_server_names_the_server(fake):
    # As AWS documents it for a server that does not exist: the server, not the user.
    tr = client(fake, "transfer")
    before = fake.state("aws-transfer")
    unknown = "s-11112222333344444"
    for user in ("my_user", "nobody"):
        with pytest.raises(tr.exceptions.ResourceNotFoundException) as e:
            tr.update_user(ServerId=unknown, UserName=user, HomeDirectory="/bucket/x")
        r = e.value.response
        assert (r["Resource"], r["ResourceType"]) == (unknown, "Server"), r
        assert r["Error"]["Message"] == "Unknown server"
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert fake.state("aws-transfer") == before


def test_workdocs_update(fake):
    wd = client(fake, "workdocs")
    out = wd.update_user(
        UserId=WORKDOCS_USER, GivenName="Janet", Type="ADMIN", Locale="fr",
        StorageRule={"StorageAllocatedInBytes": 1024, "StorageType": "QUOTA"},
        AuthenticationToken="token-123",
    )
    user = out["User"]
    assert user["Id"] == WORKDOCS_USER
    assert (user["GivenName"], user["Type"], user["Locale"]) == ("Janet", "ADMIN", "fr")
    assert user["Storage"]["StorageRule"] == {"StorageAllocatedInBytes": 1024, "StorageType": "QUOTA"}
    with pytest.raises(wd.exceptions.EntityNotExistsException) as e:
        wd.update_user(UserId="nobody", GivenName="X")
    assert e.value.response["EntityIds"] == ["nobody"]
    with pytest.raises(wd.exceptions.InvalidArgumentException):
        wd.update_user(UserId=WORKDOCS_USER, Type="BOGUS")


VALID_CALL = {
    "aws-iam": ("iam", lambda c: c.update_user(UserName="Bob", NewPath="/x/")),
    "aws-transfer": ("transfer", lambda c: c.update_user(ServerId=SERVER, UserName="my_user")),
    "aws-workdocs": ("workdocs", lambda c: c.update_user(UserId=WORKDOCS_USER, GivenName="J")),
}


@pytest.mark.parametrize(
    "api,code,status",
    [(api, code, status) for api in VALID_CALL for code, status in error_rows(api)],
)
def test_every_error_row_can_be_injected(fake, api, code, status):
    service, call = VALID_CALL[api]
    c = client(fake, service)
    fake.fail_next(api, code)
    with pytest.raises(ClientError) as e:
        call(c)
    assert e.value.response["Error"]["Code"] == code
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    # The modeled exception class when the service model has one.
    assert isinstance(e.value, c.exceptions.from_code(code))
    # Only the next request fails.
    call(c)
