"""boto3, unmodified, as a downstream test uses the fake: the whole user lifecycle
(create -> update -> get -> list, paginated -> delete -> get fails) for IAM, Transfer
and WorkDocs (whose read is DescribeUsers), each operation a spec of its own acting on
the one store its UpdateUser spec owns."""

import boto3
import pytest
from botocore.config import Config

from fakeserver import ACCESS_KEY, SECRET_KEY, TRANSFER_SERVER as SERVER, WORKDOCS_USER

ROLE = "arn:aws:iam::123456789012:role/transfer-user-role"
BOUNDARY = "arn:aws:iam::123456789012:policy/boundary"


def client(fake, service):
    return boto3.client(
        service,
        endpoint_url=fake.uri,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(retries={"total_max_attempts": 1}),
    )


def test_iam_user_lifecycle(fake):
    iam = client(fake, "iam")
    made = iam.create_user(
        UserName="Carol",
        Path="/engineering/",
        PermissionsBoundary=BOUNDARY,
        Tags=[{"Key": "team", "Value": "storage"}, {"Key": "site", "Value": "lab"}],
    )["User"]
    assert made["UserName"] == "Carol"
    assert made["Arn"] == "arn:aws:iam::123456789012:user/engineering/Carol"
    assert made["UserId"].startswith("AIDA") and len(made["UserId"]) == 21
    assert made["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
        "PermissionsBoundaryArn": BOUNDARY,
    }
    assert made["Tags"] == [{"Key": "team", "Value": "storage"}, {"Key": "site", "Value": "lab"}]
    # Names are unique whatever their letter case.
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException) as e:
        iam.create_user(UserName="CAROL")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409

    iam.update_user(UserName="Carol", NewUserName="Caroline", NewPath="/ops/")
    got = iam.get_user(UserName="caroline")["User"]
    assert got["UserName"] == "Caroline"
    assert got["Path"] == "/ops/"
    assert got["UserId"] == made["UserId"]
    assert got["CreateDate"] == made["CreateDate"]
    assert got["Tags"] == made["Tags"]
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_user(UserName="Carol")

    # One user a page: IsTruncated and Marker until the last, in name order.
    first = iam.list_users(MaxItems=1)
    assert first["IsTruncated"] is True and first["Marker"]
    assert [u["UserName"] for u in first["Users"]] == ["Alice"]
    pages = iam.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 1})
    seen = [[u["UserName"] for u in p["Users"]] for p in pages]
    assert seen == [["Alice"], ["Bob"], ["Caroline"]]
    ops = iam.list_users(PathPrefix="/ops/")
    assert [u["UserName"] for u in ops["Users"]] == ["Caroline"]
    assert ops["IsTruncated"] is False and "Marker" not in ops
    with pytest.raises(iam.exceptions.ClientError) as e:
        iam.list_users(Marker="not-a-marker")
    assert e.value.response["Error"]["Code"] == "ValidationError"

    iam.delete_user(UserName="Caroline")
    with pytest.raises(iam.exceptions.NoSuchEntityException) as e:
        iam.get_user(UserName="Caroline")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.delete_user(UserName="Caroline")
    assert {u["UserName"] for u in fake.state("aws-iam")} == {"Alice", "Bob"}


def test_transfer_user_lifecycle(fake):
    t = client(fake, "transfer")
    out = t.create_user(
        ServerId=SERVER,
        UserName="new_user",
        Role=ROLE,
        HomeDirectory="/bucket_name/home/new_user",
        Tags=[{"Key": "team", "Value": "storage"}],
    )
    assert (out["ServerId"], out["UserName"]) == (SERVER, "new_user")
    with pytest.raises(t.exceptions.ResourceExistsException) as e:
        t.create_user(ServerId=SERVER, UserName="new_user", Role=ROLE)
    assert e.value.response["Resource"] == "new_user"
    assert e.value.response["ResourceType"] == "User"
    with pytest.raises(t.exceptions.ResourceNotFoundException) as e:
        t.create_user(ServerId="s-00000000000000000", UserName="new_user", Role=ROLE)
    assert e.value.response["ResourceType"] == "Server"
    # The mappings rule holds for a create as for an update.
    with pytest.raises(t.exceptions.InvalidRequestException):
        t.create_user(
            ServerId=SERVER,
            UserName="mapped",
            Role=ROLE,
            HomeDirectoryMappings=[{"Entry": "/", "Target": "/bucket_name/home/mapped"}],
        )

    t.update_user(ServerId=SERVER, UserName="new_user", HomeDirectory="/bucket_name/elsewhere")
    user = t.describe_user(ServerId=SERVER, UserName="new_user")["User"]
    assert user["HomeDirectory"] == "/bucket_name/elsewhere"
    assert user["HomeDirectoryType"] == "PATH"
    assert user["Role"] == ROLE
    assert user["Tags"] == [{"Key": "team", "Value": "storage"}]
    assert user["Arn"] == f"arn:aws:transfer:us-east-1:123456789012:user/{SERVER}/new_user"

    first = t.list_users(ServerId=SERVER, MaxResults=1)
    assert first["ServerId"] == SERVER and first["NextToken"]
    assert [u["UserName"] for u in first["Users"]] == ["my_user"]
    pages = t.get_paginator("list_users").paginate(
        ServerId=SERVER, PaginationConfig={"PageSize": 1}
    )
    seen = [u["UserName"] for p in pages for u in p["Users"]]
    assert seen == ["my_user", "new_user", "other_user"]
    with pytest.raises(t.exceptions.InvalidNextTokenException):
        t.list_users(ServerId=SERVER, NextToken="not-a-token")
    with pytest.raises(t.exceptions.ResourceNotFoundException):
        t.list_users(ServerId="s-00000000000000000")

    t.delete_user(ServerId=SERVER, UserName="new_user")
    with pytest.raises(t.exceptions.ResourceNotFoundException) as e:
        t.describe_user(ServerId=SERVER, UserName="new_user")
    assert e.value.response["ResourceType"] == "User"
    with pytest.raises(t.exceptions.ResourceNotFoundException):
        t.delete_user(ServerId=SERVER, UserName="new_user")
    assert {u["UserName"] for u in fake.state("aws-transfer")} == {"my_user", "other_user"}


ORG = "d-90670b3d16"
JOHN = "S-1-1-11-1111111111-2222222222-3333333333-4444&d-90670b3d16"
MAX = "S-1-1-11-1111111111-2222222222-3333333333-5555&d-90670b3d16"


def test_workdocs_user_lifecycle(fake):
    wd = client(fake, "workdocs")
    made = wd.create_user(
        OrganizationId=ORG,
        Username="mateo.jackson",
        EmailAddress="mateo.jackson@example.com",
        GivenName="Mateo",
        Surname="Jackson",
        Password="examplePa$$w0rd",
        TimeZoneId="Europe/Madrid",
    )
    assert made["ResponseMetadata"]["HTTPStatusCode"] == 201
    user = made["User"]
    uid = user["Id"]
    assert uid.startswith("S-1-1-11-") and uid not in (WORKDOCS_USER, JOHN, MAX)
    assert (user["Username"], user["GivenName"], user["Surname"]) == (
        "mateo.jackson", "Mateo", "Jackson")
    assert (user["OrganizationId"], user["Status"], user["TimeZoneId"]) == (
        ORG, "ACTIVE", "Europe/Madrid")
    assert "Password" not in user
    # Login names are unique whatever their letter case.
    with pytest.raises(wd.exceptions.EntityAlreadyExistsException) as e:
        wd.create_user(Username="Mateo.Jackson", GivenName="M", Surname="J", Password="pass-91")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    # The service model's patterns (boto3 checks lengths itself, not patterns), answered
    # with a modeled error.
    with pytest.raises(wd.exceptions.InvalidArgumentException) as e:
        wd.create_user(Username="mateo jackson", GivenName="M", Surname="J", Password="pass-91",
                       EmailAddress="not-an-email")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "2 validation errors detected" in e.value.response["Error"]["Message"]

    wd.update_user(UserId=uid, GivenName="Matthew", Type="ADMIN")

    # DescribeUsers is the read: by id, the updated user.
    got = wd.describe_users(UserIds=uid)["Users"]
    assert [(u["Id"], u["GivenName"], u["Type"]) for u in got] == [(uid, "Matthew", "ADMIN")]
    assert got[0]["CreatedTimestamp"] == user["CreatedTimestamp"]
    # A comma list of ids; the inactive fixture user only with Include=ALL.
    both = wd.describe_users(UserIds=f"{uid},{MAX}")["Users"]
    assert [u["Id"] for u in both] == [uid]
    both = wd.describe_users(UserIds=f"{uid}, {MAX}", Include="ALL")["Users"]
    assert sorted(u["Id"] for u in both) == sorted([uid, MAX])
    # Query: every word starts a word of the names, in any letter case; UserIds wins.
    assert [u["Id"] for u in wd.describe_users(Query="matt J")["Users"]] == [uid]
    assert wd.describe_users(Query="Matt Doe")["Users"] == []
    assert [u["Id"] for u in wd.describe_users(Query="john", UserIds=uid)["Users"]] == [uid]
    assert wd.describe_users(OrganizationId="d-0000000000")["Users"] == []

    # Pages of one: a Marker until the last; boto3's paginator walks them all.
    first = wd.describe_users(Limit=1)
    assert len(first["Users"]) == 1 and first["Marker"]
    pages = wd.get_paginator("describe_users").paginate(PaginationConfig={"PageSize": 1})
    seen = [[u["Id"] for u in p["Users"]] for p in pages]
    assert all(len(p) == 1 for p in seen)
    assert sorted(i for p in seen for i in p) == sorted([WORKDOCS_USER, JOHN, uid])
    everyone = wd.get_paginator("describe_users").paginate(
        Include="ALL", PaginationConfig={"PageSize": 2})
    assert len([u for p in everyone for u in p["Users"]]) == 4
    with pytest.raises(wd.exceptions.InvalidArgumentException):
        wd.describe_users(Marker="not-a-marker")

    out = wd.delete_user(UserId=uid)
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 204
    # Gone: DescribeUsers finds nothing, and a second delete is not found.
    assert wd.describe_users(UserIds=uid, Include="ALL")["Users"] == []
    with pytest.raises(wd.exceptions.EntityNotExistsException) as e:
        wd.delete_user(UserId=uid)
    assert e.value.response["EntityIds"] == [uid]
    with pytest.raises(wd.exceptions.EntityNotExistsException):
        wd.update_user(UserId=uid, GivenName="Ghost")
    assert {u["Id"] for u in fake.state("aws-workdocs")} == {WORKDOCS_USER, JOHN, MAX}
