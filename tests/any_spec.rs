//! Any spec, anywhere: spec files the code has never seen (an awsQuery operation and an
//! awsJson operation with a nested list and a free-form `document` member, in
//! `tests/fixtures/served/`) are served, cased, recorded and passed with no Rust code
//! naming them; specs that would collide are refused, naming both files.

use std::path::{Path, PathBuf};
use std::process::Command;

use apiconform::runner::{report, suite, Observations, Runner, Selection};
use apiconform::spec::{self, Sources};

const NEW_APIS: [&str; 2] = ["aws-iam-group", "aws-identitystore-group"];

fn served() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/served")
}

fn sources() -> Sources {
    Sources {
        dirs: vec![served()],
        ..Sources::default()
    }
}

#[tokio::test]
async fn specs_from_files_are_served_cased_and_passed() {
    let specs = spec::gather(&sources()).expect("the fixture specs load beside the embedded ones");
    for api in NEW_APIS {
        let s = specs.iter().find(|s| s.api.id == api).expect("loaded");
        let cases = apiconform::runner::cases::cases(s);
        let table = report::coverage(s, &cases);
        assert!(!table.contains("MISSING"), "{table}");
    }
    let mut runner = Runner::in_process_with(specs.clone())
        .await
        .expect("runner");
    runner.snapshot_dir = served().join("snapshots");
    runner.observed = Observations::Nowhere;
    runner.extra = suite::load_dir(&served().join("suites"), &specs).expect("the suite reads");
    let out = runner
        .run(&Selection {
            apis: NEW_APIS.iter().map(|a| a.to_string()).collect(),
            case_glob: None,
        })
        .await;
    assert!(out.len() > 80, "{} cases", out.len());
    assert!(out
        .iter()
        .any(|o| o.case.name == "aws-iam-group/suite/renamed-group-answers-to-its-new-name"));
    let failed: Vec<_> = out.iter().filter(|o| !o.passed()).cloned().collect();
    assert!(failed.is_empty(), "{}", report::text(&failed));
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

#[test]
fn a_second_spec_with_a_taken_api_id_is_refused_naming_both_files() {
    let tmp = tempfile::tempdir().expect("tmp");
    let iam = std::fs::read_to_string(served().join("aws-iam.update-group.yaml")).expect("read");
    let copy = write(
        tmp.path(),
        "copy.yaml",
        &iam.replace("action: UpdateGroup", "action: UpdateGroupCopy"),
    );
    let e = spec::gather(&Sources {
        files: vec![served().join("aws-iam.update-group.yaml"), copy.clone()],
        ..Sources::default()
    })
    .expect_err("refused")
    .to_string();
    assert!(
        e.contains("api id 'aws-iam-group' is already used by"),
        "{e}"
    );
    assert!(
        e.contains("aws-iam.update-group.yaml") && e.contains(&copy.display().to_string()),
        "{e}"
    );
}

#[test]
fn a_spec_whose_route_is_taken_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let iam = std::fs::read_to_string(served().join("aws-iam.update-group.yaml")).expect("read");
    // Another id, but the same Action for the same SigV4 service as the embedded IAM spec.
    let shadow = write(
        tmp.path(),
        "shadow.yaml",
        &iam.replace("id: aws-iam-group", "id: shadow")
            .replace("action: UpdateGroup", "action: UpdateUser"),
    );
    let e = spec::gather(&Sources {
        files: vec![shadow],
        ..Sources::default()
    })
    .expect_err("refused")
    .to_string();
    assert!(
        e.contains("'shadow' answers the same requests as 'aws-iam'"),
        "{e}"
    );
    assert!(e.contains("Action=UpdateUser"), "{e}");
}

fn apiconform(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_apiconform"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run apiconform");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_cli_tests_a_spec_file_and_names_unknown_ids() {
    let (code, stdout, stderr) = apiconform(&[
        "test",
        "--spec-file",
        "tests/fixtures/served/aws-identitystore.update-group.yaml",
        "--api",
        "aws-identitystore-group",
        "--snapshots",
        "tests/fixtures/served/snapshots",
        "-j",
        "1",
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains(" passed, 0 failed, 0 skipped"), "{stdout}");
    let (code, _, stderr) = apiconform(&["test", "--api", "aws-identitystore-group"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no spec has api id 'aws-identitystore-group'; known: aws-iam,"),
        "{stderr}"
    );
    let (code, _, stderr) = apiconform(&["cases", "--api", "nope"]);
    assert_eq!(code, 2, "{stderr}");
    let (code, stdout, _) = apiconform(&[
        "cases",
        "--specs",
        "tests/fixtures/served",
        "--only-spec-files",
    ]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("aws-iam-group/effect/NewGroupName") && !stdout.contains("aws-iam/"),
        "{stdout}"
    );
    let (code, stdout, _) = apiconform(&[
        "specs",
        "show",
        "aws-iam-group",
        "--specs",
        "tests/fixtures/served",
    ]);
    assert_eq!(code, 0);
    assert!(stdout.contains("UpdateGroup"), "{stdout}");
}

/// No code in `src/` knows a particular API: vendor knowledge lives in specs and protocol
/// settings. Scanned: code lines of `src/**/*.rs` (comments, `after_help` examples and
/// `#[cfg(test)]` modules left out), for the embedded api ids and the vendors' product
/// names; the lists of embedded specs and suites are where ids belong.
#[test]
fn no_code_in_src_names_an_embedded_api_or_a_vendor() {
    let specs = spec::embedded().expect("specs");
    let mut words: Vec<String> = specs.iter().map(|s| s.api.id.clone()).collect();
    words.extend(["nimble", "nexfs", "workdocs", "transfer family", "hpe "].map(String::from));
    let allowed = ["src/spec/mod.rs", "src/runner/suite.rs"];
    let mut hits = Vec::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path
                .strip_prefix(env!("CARGO_MANIFEST_DIR"))
                .expect("inside")
                .display()
                .to_string();
            if path.extension().is_none_or(|e| e != "rs") || allowed.contains(&rel.as_str()) {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read");
            for (n, line) in text.lines().enumerate() {
                if line.trim_start().starts_with("#[cfg(test)]") {
                    break;
                }
                let code = line.split("//").next().unwrap_or("").to_lowercase();
                if code.contains("after_help") {
                    continue;
                }
                if let Some(w) = words.iter().find(|w| code.contains(w.as_str())) {
                    hits.push(format!("{rel}:{}: {w:?} in {}", n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        hits.is_empty(),
        "vendor knowledge in code:\n{}",
        hits.join("\n")
    );
}

/// A spec file that reads the users an embedded spec owns: accepted beside it, refused when
/// its `shared_with` names no spec loaded, and served over a socket from the owner's store.
#[tokio::test]
async fn a_spec_file_shares_an_embedded_resource_and_a_dangling_share_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let get = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/aws-iam.get-user.yaml"),
    )
    .expect("read");
    let mine = get
        .replace("id: aws-iam-get-user", "id: mine-get-user")
        .replace("action: GetUser", "action: GetUserMine");
    let dangling = write(
        tmp.path(),
        "dangling.yaml",
        &mine.replace("shared_with: aws-iam", "shared_with: nobody"),
    );
    let e = spec::gather(&Sources {
        files: vec![dangling.clone()],
        ..Sources::default()
    })
    .expect_err("refused")
    .to_string();
    assert!(e.contains("names 'nobody'"), "{e}");
    assert!(e.contains(&dangling.display().to_string()), "{e}");

    let file = write(tmp.path(), "mine.yaml", &mine);
    let specs = spec::gather(&Sources {
        files: vec![file],
        ..Sources::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let s = specs
        .iter()
        .find(|s| s.api.id == "mine-get-user")
        .expect("loaded");
    assert_eq!(s.store_id(), "aws-iam");
    assert_eq!(s.resource.key, ["UserName"], "the owner's resource");

    let mut builder = apiconform::Fake::builder().no_auth();
    for s in specs {
        builder = builder.spec(s);
    }
    let fake = builder.start().await.expect("fake starts");
    let client = reqwest::Client::new();
    let ask = |user: &str| {
        client
            .post(fake.uri())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "Action=GetUserMine&Version=2010-05-08&UserName={user}"
            ))
            .send()
    };
    let r = ask("bob").await.expect("answer");
    assert_eq!(r.status(), 200);
    let body = r.text().await.expect("body");
    assert!(body.contains("<UserName>Bob</UserName>"), "{body}");
    assert!(
        body.contains("<Path>/division_abc/subdivision_xyz/</Path>"),
        "{body}"
    );
    let r = ask("Nobody").await.expect("answer");
    assert_eq!(r.status(), 404);
    fake.stop().await;
}
