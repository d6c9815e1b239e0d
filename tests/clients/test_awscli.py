"""The AWS CLI (v1, the `aws` from the venv), unmodified, against `apiconform serve`:
--endpoint-url and credentials from the environment; update-user on IAM, Transfer and
WorkDocs exits 0; IAM's whole user lifecycle (create, update, get, list, delete);
a service error exits 255 with the error code on stderr."""

import json
import pathlib
import subprocess
import sys

from fakeserver import WORKDOCS_USER

AWS = str(pathlib.Path(sys.executable).parent / "aws")


def aws(fake, env, *args):
    return subprocess.run(
        [AWS, "--endpoint-url", fake.uri, *args], env=env, capture_output=True, text=True,
        timeout=60,
    )


def test_iam_update_user(fake, aws_env):
    r = aws(fake, aws_env, "iam", "update-user", "--user-name", "Bob", "--new-user-name", "Robert")
    assert r.returncode == 0, r.stderr
    assert "Robert" in {u["UserName"] for u in fake.state("aws-iam")}


def test_transfer_update_user(fake, aws_env):
    r = aws(fake, aws_env, "transfer", "update-user", "--server-id", "s-01234567890abcdef",
            "--user-name", "my_user", "--home-directory", "/bucket/new")
    assert r.returncode == 0, r.stderr
    assert '"UserName": "my_user"' in r.stdout
    user = next(u for u in fake.state("aws-transfer") if u["UserName"] == "my_user")
    assert user["HomeDirectory"] == "/bucket/new"


def test_workdocs_update_user(fake, aws_env):
    r = aws(fake, aws_env, "workdocs", "update-user", "--user-id", WORKDOCS_USER,
            "--given-name", "Janet")
    assert r.returncode == 0, r.stderr
    assert '"GivenName": "Janet"' in r.stdout
    user = next(u for u in fake.state("aws-workdocs") if u["Id"] == WORKDOCS_USER)
    assert user["GivenName"] == "Janet"


def test_errors_exit_255_with_the_code(fake, aws_env):
    # AWS CLI v1 (the one on PyPI) exits 255 on any service error: awscli/clidriver.py
    # `except Exception: ... return 255`. Only AWS CLI v2 (not on PyPI) uses 254.
    r = aws(fake, aws_env, "iam", "update-user", "--user-name", "Nobody", "--new-path", "/")
    assert r.returncode == 255, (r.returncode, r.stderr)
    assert "(NoSuchEntity)" in r.stderr
    r = aws(fake, aws_env, "transfer", "update-user", "--server-id", "s-01234567890abcdef",
            "--user-name", "nobody")
    assert r.returncode == 255
    assert "(ResourceNotFoundException)" in r.stderr
    r = aws(fake, aws_env, "workdocs", "update-user", "--user-id", "nobody", "--given-name", "X")
    assert r.returncode == 255
    assert "(EntityNotExistsException)" in r.stderr


def test_iam_user_lifecycle(fake, aws_env):
    def ok(*args):
        r = aws(fake, aws_env, "iam", *args)
        assert r.returncode == 0, (args, r.stderr)
        return json.loads(r.stdout) if r.stdout.strip() else None

    made = ok("create-user", "--user-name", "Dave", "--path", "/qa/",
              "--tags", "Key=team,Value=qa")["User"]
    assert made["Arn"] == "arn:aws:iam::123456789012:user/qa/Dave"
    ok("update-user", "--user-name", "Dave", "--new-user-name", "David", "--new-path", "/ops/")
    got = ok("get-user", "--user-name", "david")["User"]
    assert (got["UserName"], got["Path"], got["UserId"]) == ("David", "/ops/", made["UserId"])
    # The CLI paginates by itself (MaxItems 1 a request), and joins the pages.
    listed = ok("list-users", "--page-size", "1")["Users"]
    assert [u["UserName"] for u in listed] == ["Alice", "Bob", "David"]
    listed = ok("list-users", "--path-prefix", "/ops/")["Users"]
    assert [u["UserName"] for u in listed] == ["David"]
    assert ok("delete-user", "--user-name", "David") is None
    r = aws(fake, aws_env, "iam", "get-user", "--user-name", "David")
    assert r.returncode == 255
    assert "(NoSuchEntity)" in r.stderr
    assert {u["UserName"] for u in fake.state("aws-iam")} == {"Alice", "Bob"}
