"""SigV4 failures through real clients (boto3, the AWS CLI, botocore's signer for Nexfs): a
tampered signature, a date 20 minutes old, an unknown access key and an unsigned request
are refused with the codes the real services use, and change nothing."""

import datetime
import pathlib
import subprocess
import sys
from unittest import mock

import boto3
import botocore.auth
import pytest
import requests
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from fakeserver import (
    ACCESS_KEY, IAM_USER, SECRET_KEY, SESSION_TOKEN, TRANSFER_SERVER, TRANSFER_USER,
    WORKDOCS_USER,
)

CALLS = {
    "iam": lambda c: c.update_user(UserName=IAM_USER, NewUserName="Mallory"),
    "transfer": lambda c: c.update_user(
        ServerId=TRANSFER_SERVER, UserName=TRANSFER_USER, HomeDirectory="/mallory"),
    "workdocs": lambda c: c.update_user(UserId=WORKDOCS_USER, GivenName="Mallory"),
}
# (tampered signature, unknown key, stale date, unsigned) per service, with the status.
EXPECTED = {
    "iam": [("SignatureDoesNotMatch", 403), ("InvalidClientTokenId", 403),
            ("SignatureDoesNotMatch", 403), ("MissingAuthenticationToken", 403)],
    "transfer": [("InvalidSignatureException", 400), ("UnrecognizedClientException", 400),
                 ("InvalidSignatureException", 400), ("MissingAuthenticationTokenException", 400)],
    "workdocs": [("InvalidSignatureException", 403), ("UnrecognizedClientException", 403),
                 ("InvalidSignatureException", 403), ("MissingAuthenticationTokenException", 403)],
}
API = {"iam": "aws-iam", "transfer": "aws-transfer", "workdocs": "aws-workdocs"}


def client(fake, service, key=ACCESS_KEY, secret=SECRET_KEY, **config):
    return boto3.client(
        service, endpoint_url=fake.uri, region_name="us-east-1",
        aws_access_key_id=key, aws_secret_access_key=secret,
        config=Config(retries={"total_max_attempts": 1}, **config),
    )


def tamper(request, **_):
    """Flips the last hex digit of the signature after botocore signed the request."""
    auth = request.headers["Authorization"]
    if isinstance(auth, bytes):
        auth = auth.decode()
    request.headers["Authorization"] = auth[:-1] + ("0" if auth[-1] != "0" else "1")


def twenty_minutes_ago(remove_tzinfo=True):
    then = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)
    return then.replace(tzinfo=None) if remove_tzinfo else then


def refused(fake, service, c, expected):
    before = fake.state(API[service])
    with pytest.raises(ClientError) as e:
        CALLS[service](c)
    code, status = expected
    assert e.value.response["Error"]["Code"] == code
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert fake.state(API[service]) == before, "a refused request changed state"
    return e.value.response["Error"]["Message"]


@pytest.mark.parametrize("service", sorted(CALLS))
def test_tampered_signature(fake, service):
    c = client(fake, service)
    c.meta.events.register_last("before-send", tamper)
    message = refused(fake, service, c, EXPECTED[service][0])
    assert message.startswith("The request signature we calculated does not match")


@pytest.mark.parametrize("service", sorted(CALLS))
def test_unknown_key(fake, service):
    message = refused(fake, service, client(fake, service, key="AKIDUNKNOWN"), EXPECTED[service][1])
    assert message == "The security token included in the request is invalid."


@pytest.mark.parametrize("service", sorted(CALLS))
def test_stale_date(fake, service):
    c = client(fake, service)
    with mock.patch.object(botocore.auth, "get_current_datetime", twenty_minutes_ago):
        message = refused(fake, service, c, EXPECTED[service][2])
    assert message.startswith("Signature expired: "), message
    assert message.endswith(" - 15 min.)"), message


@pytest.mark.parametrize("service", sorted(CALLS))
def test_unsigned(fake, service):
    refused(fake, service, client(fake, service, signature_version=UNSIGNED), EXPECTED[service][3])


def test_aws_cli_with_an_unknown_key(fake, aws_env):
    aws = str(pathlib.Path(sys.executable).parent / "aws")
    aws_env["AWS_ACCESS_KEY_ID"] = "AKIDUNKNOWN"
    r = subprocess.run(
        [aws, "--endpoint-url", fake.uri, "iam", "update-user", "--user-name", IAM_USER,
         "--new-path", "/x/"],
        env=aws_env, capture_output=True, text=True, timeout=60,
    )
    assert r.returncode == 255, (r.returncode, r.stderr)
    assert "(InvalidClientTokenId)" in r.stderr


def nexfs(fake, creds, params, sign=None):
    url = f"{fake.uri}/nexfsconsoleapi?Action=UpdateUser&" + "&".join(
        f"{k}={v}" for k, v in params.items())
    req = AWSRequest(method="GET", url=url)
    if sign is not None:
        sign(req)
    else:
        SigV4Auth(creds, "nexfsconsoleapi", "nexfs").add_auth(req)
    return requests.get(url, headers=dict(req.headers.items()), timeout=10)


@pytest.mark.parametrize("case", ["tampered", "stale", "unknown-key", "no-token", "wrong-scope"])
def test_nexfs_refusals_are_401_unauthorized(fake, case):
    creds = Credentials(ACCESS_KEY, SECRET_KEY, SESSION_TOKEN)
    sign = None
    if case == "tampered":
        def sign(req):
            SigV4Auth(creds, "nexfsconsoleapi", "nexfs").add_auth(req)
            tamper(req)
    elif case == "stale":
        def sign(req):
            with mock.patch.object(botocore.auth, "get_current_datetime", twenty_minutes_ago):
                SigV4Auth(creds, "nexfsconsoleapi", "nexfs").add_auth(req)
    elif case == "unknown-key":
        creds = Credentials("AKIDUNKNOWN", SECRET_KEY, SESSION_TOKEN)
    elif case == "no-token":
        creds = Credentials(ACCESS_KEY, SECRET_KEY)
    elif case == "wrong-scope":
        def sign(req):
            SigV4Auth(creds, "nexfsconsoleapi", "us-east-1").add_auth(req)
    before = fake.state("nexfs")
    r = nexfs(fake, creds, {"UserId": "ExampleUser", "UserName": "Mallory"}, sign)
    assert r.status_code == 401, r.text
    assert "<Code>Unauthorized</Code>" in r.text
    assert fake.state("nexfs") == before
