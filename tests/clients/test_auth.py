"""SigV4 failures through real clients: a tampered signature, a stale date and an unknown
key are refused with the codes the real services use."""

import datetime
from unittest import mock

import boto3
import botocore.auth
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, SECRET_KEY


def client(fake, service, key=ACCESS_KEY, secret=SECRET_KEY):
    return boto3.client(
        service, endpoint_url=fake.uri, region_name="us-east-1",
        aws_access_key_id=key, aws_secret_access_key=secret,
        config=Config(retries={"total_max_attempts": 1}),
    )


def tamper(request, **_):
    auth = request.headers["Authorization"]
    if isinstance(auth, bytes):
        auth = auth.decode()
    flipped = "0" if auth[-1] != "0" else "1"
    request.headers["Authorization"] = auth[:-1] + flipped


CALLS = {
    "iam": lambda c: c.update_user(UserName="Bob", NewPath="/x/"),
    "transfer": lambda c: c.update_user(ServerId="s-01234567890abcdef", UserName="my_user"),
    "workdocs": lambda c: c.update_user(
        UserId="S-1-1-11-1111111111-2222222222-3333333333-3333&d-90670b3d16", GivenName="J"),
}
EXPECTED = {
    "iam": ("SignatureDoesNotMatch", "InvalidClientTokenId", "SignatureDoesNotMatch"),
    "transfer": ("InvalidSignatureException", "UnrecognizedClientException", "InvalidSignatureException"),
    "workdocs": ("InvalidSignatureException", "UnrecognizedClientException", "InvalidSignatureException"),
}


def code_of(excinfo):
    return excinfo.value.response["Error"]["Code"]


@pytest.mark.parametrize("service", sorted(CALLS))
def test_tampered_signature(fake, service):
    c = client(fake, service)
    c.meta.events.register_last("before-send", tamper)
    with pytest.raises(ClientError) as e:
        CALLS[service](c)
    assert code_of(e) == EXPECTED[service][0]


@pytest.mark.parametrize("service", sorted(CALLS))
def test_unknown_key(fake, service):
    with pytest.raises(ClientError) as e:
        CALLS[service](client(fake, service, key="AKIDUNKNOWN"))
    assert code_of(e) == EXPECTED[service][1]
    assert e.value.response["Error"]["Message"] == "The security token included in the request is invalid."


@pytest.mark.parametrize("service", sorted(CALLS))
def test_stale_date(fake, service):
    stale = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)

    class Then(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return stale.replace(tzinfo=None)

        @classmethod
        def now(cls, tz=None):
            return stale if tz else stale.replace(tzinfo=None)

    c = client(fake, service)
    with mock.patch.object(botocore.auth.datetime, "datetime", Then):
        with pytest.raises(ClientError) as e:
            CALLS[service](c)
    assert code_of(e) == EXPECTED[service][2]
    assert e.value.response["Error"]["Message"].startswith("Signature expired: ")


def test_nothing_changed(fake):
    c = client(fake, "iam", key="AKIDUNKNOWN")
    with pytest.raises(ClientError):
        c.update_user(UserName="Bob", NewUserName="Mallory")
    assert "Bob" in {u["UserName"] for u in fake.state("aws-iam")}
