"""boto3, unmodified, as a downstream test uses the fake: the whole user lifecycle
(create -> update -> get -> list, paginated -> delete -> get fails) for IAM and for
Transfer, each operation a spec of its own acting on the one store its UpdateUser spec
owns."""

import boto3
import pytest
from botocore.config import Config

from fakeserver import ACCESS_KEY, SECRET_KEY, TRANSFER_SERVER as SERVER

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
