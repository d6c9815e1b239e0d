"""The AWS CLI (v1, from the venv), unmodified, against `apiconform serve`."""

import pathlib
import subprocess
import sys

AWS = str(pathlib.Path(sys.executable).parent / "aws")
WORKDOCS_USER = "S-1-1-11-1111111111-2222222222-3333333333-3333&d-90670b3d16"


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


def test_workdocs_update_user(fake, aws_env):
    r = aws(fake, aws_env, "workdocs", "update-user", "--user-id", WORKDOCS_USER,
            "--given-name", "Janet")
    assert r.returncode == 0, r.stderr
    assert '"GivenName": "Janet"' in r.stdout


def test_errors_exit_255_with_the_code(fake, aws_env):
    # AWS CLI v1 exits 255 on a service error (v2 uses 254).
    r = aws(fake, aws_env, "iam", "update-user", "--user-name", "Nobody", "--new-path", "/")
    assert r.returncode == 255, (r.returncode, r.stderr)
    assert "(NoSuchEntity)" in r.stderr
    r = aws(fake, aws_env, "transfer", "update-user", "--server-id", "s-01234567890abcdef",
            "--user-name", "nobody")
    assert r.returncode == 255
    assert "(ResourceNotFoundException)" in r.stderr
