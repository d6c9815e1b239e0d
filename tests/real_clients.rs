//! Real clients against `apiconform serve`: boto3, the AWS CLI, HPE's nimble-sdk and
//! botocore-signed Nexfs requests, each unmodified, run by pytest from `tests/clients/` in
//! the Python venv that `scripts/venv.sh` makes in `.venv/` (pinned in
//! `tests/clients/requirements.txt`; the first run needs PyPI and takes about a minute).
//! One cargo test per pytest file, so a failure names the client; pytest's output streams
//! to the test's stderr (see it live with `-- --nocapture`) and is repeated in the panic.
//!
//! `APICONFORM_SKIP_CLIENTS=1` skips them, loudly, for a quick local loop.
//! `APICONFORM_CLIENTS_TIMEOUT` (seconds, default 900) bounds each pytest run.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn skipped(what: &str) -> bool {
    let skip = std::env::var("APICONFORM_SKIP_CLIENTS").is_ok_and(|v| !v.is_empty() && v != "0");
    if skip {
        eprintln!(
            "\n**********************************************************************\n\
             *** SKIPPED real-client test {what}: APICONFORM_SKIP_CLIENTS is set.\n\
             *** boto3 / AWS CLI / nimble-sdk / Nexfs signing were NOT exercised.\n\
             **********************************************************************\n"
        );
    }
    skip
}

/// The venv's python, made (once per test process; flock across processes) by
/// scripts/venv.sh, whose progress is streamed.
fn python() -> &'static PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let (ok, stdout, stderr) = run_streaming(
            Command::new("bash").arg(root().join("scripts/venv.sh")),
            "venv.sh",
            Duration::from_secs(900),
        );
        assert!(ok, "scripts/venv.sh failed:\n{stderr}{stdout}");
        let python = stdout.lines().last().unwrap_or("").trim().to_string();
        assert!(
            Path::new(&python).exists(),
            "scripts/venv.sh did not print the venv's python (got {python:?}):\n{stderr}"
        );
        PathBuf::from(python)
    })
}

/// Runs `cmd`, echoing every output line (prefixed with `tag`) as it arrives, killing it
/// after `limit`. Returns (success, stdout, stderr).
fn run_streaming(cmd: &mut Command, tag: &str, limit: Duration) -> (bool, String, String) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let done = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let (done, pid, tag) = (done.clone(), child.id(), tag.to_string());
        std::thread::spawn(move || {
            let start = Instant::now();
            while !done.load(Ordering::SeqCst) {
                if start.elapsed() > limit {
                    eprintln!("[{tag}] still running after {limit:?}: killing it");
                    let _ = Command::new("kill").arg(pid.to_string()).status();
                    return true;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            false
        })
    };
    let echo = |pipe: Box<dyn Read + Send>, tag: String| {
        std::thread::spawn(move || {
            let mut all = String::new();
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                eprintln!("[{tag}] {line}");
                all.push_str(&line);
                all.push('\n');
            }
            all
        })
    };
    let out = echo(Box::new(child.stdout.take().unwrap()), tag.to_string());
    let err = echo(Box::new(child.stderr.take().unwrap()), tag.to_string());
    let status = child.wait().expect("wait for child");
    done.store(true, Ordering::SeqCst);
    let killed = watchdog.join().unwrap_or(false);
    let stdout = out.join().unwrap_or_default();
    let mut stderr = err.join().unwrap_or_default();
    if killed {
        stderr.push_str(&format!(
            "\n*** killed after {limit:?} (APICONFORM_CLIENTS_TIMEOUT)\n"
        ));
    }
    (status.success(), stdout, stderr)
}

fn pytest(file: &str) {
    if skipped(file) {
        return;
    }
    let limit = std::env::var("APICONFORM_CLIENTS_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(900);
    let path = format!("tests/clients/{file}");
    let (ok, stdout, stderr) = run_streaming(
        Command::new(python())
            .args(["-m", "pytest", "-q", &path])
            .current_dir(root())
            .env("APICONFORM_BIN", env!("CARGO_BIN_EXE_apiconform"))
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONUNBUFFERED", "1"),
        file,
        Duration::from_secs(limit),
    );
    assert!(
        ok,
        "pytest {path} failed (rerun: APICONFORM_BIN={} .venv/bin/python -m pytest {path}):\n{stdout}{stderr}",
        env!("CARGO_BIN_EXE_apiconform")
    );
}

#[test]
fn boto3_iam_transfer_workdocs() {
    pytest("test_boto3.py");
}

#[test]
fn boto3_user_lifecycle_iam_transfer_workdocs() {
    pytest("test_lifecycle.py");
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
