//! Real clients against `apiconform serve`: boto3, the AWS CLI, HPE's nimble-sdk and
//! botocore-signed Nexfs requests, each unmodified, in the Python venv that
//! `scripts/venv.sh` creates in `.venv/` (pinned in `tests/clients/requirements.txt`).
//! One cargo test per pytest file, so a failure names the client.
//!
//! `APICONFORM_SKIP_CLIENTS=1` skips them (loudly) for a quick local loop.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The venv's python, made (once per test process) by scripts/venv.sh.
fn python() -> &'static PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let out = Command::new("bash")
            .arg(root().join("scripts/venv.sh"))
            .output()
            .expect("run scripts/venv.sh");
        assert!(
            out.status.success(),
            "scripts/venv.sh failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        PathBuf::from(
            stdout
                .lines()
                .last()
                .expect("venv.sh prints the python path")
                .trim(),
        )
    })
}

fn pytest(file: &str) {
    if std::env::var_os("APICONFORM_SKIP_CLIENTS").is_some() {
        eprintln!("SKIPPED real-client tests ({file}): APICONFORM_SKIP_CLIENTS is set");
        return;
    }
    let out = Command::new(python())
        .args([
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-W",
            "ignore::Warning",
        ])
        .arg(file)
        .current_dir(root().join("tests/clients"))
        .env("APICONFORM_BIN", env!("CARGO_BIN_EXE_apiconform"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("run pytest");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "pytest {file} failed:\n{report}");
    eprintln!("{report}");
}

#[test]
fn boto3_iam_transfer_workdocs() {
    pytest("test_boto3.py");
}

#[test]
fn aws_cli() {
    pytest("test_awscli.py");
}

#[test]
fn nimble_sdk_over_tls() {
    pytest("test_nimble.py");
}

#[test]
fn nexfs_signed_by_botocore() {
    pytest("test_nexfs.py");
}

#[test]
fn sigv4_failures_through_real_clients() {
    pytest("test_auth.py");
}
