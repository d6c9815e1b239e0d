//! The spec layer as a spec author meets it: the shipped specs load, every kind of
//! mistake in a spec is reported with file, line, column and a plain sentence, the JSON
//! Schema in `specs/schema.json` matches the model, and `specs show` reads like the documents.
//!
//! Broken specs are data: each file in `tests/fixtures/specs/broken/` is the valid
//! `minimal.yaml` with one mistake, and its first line says what the error must mention.

use std::path::{Path, PathBuf};
use std::process::Command;

use apiconform::spec::{self, show};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/specs")
}

fn broken_fixtures() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures().join("broken"))
        .expect("tests/fixtures/specs/broken exists")
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
}

/// Loads a fixture under a stable, relative name (so snapshots do not depend on the checkout).
fn load_fixture(path: &Path) -> Result<spec::Spec, spec::SpecErrors> {
    let text = std::fs::read_to_string(path).expect("fixture is readable");
    let name = format!(
        "tests/fixtures/specs/{}",
        path.strip_prefix(fixtures())
            .expect("under fixtures")
            .display()
    );
    spec::load_str(&name, &text)
}

#[test]
fn the_minimal_fixture_loads() {
    let s = load_fixture(&fixtures().join("minimal.yaml")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.api.id, "mini");
    assert_eq!(s.parameters.len(), 2);
}

#[test]
fn each_broken_spec_is_reported_with_position_and_a_plain_sentence() {
    let files = broken_fixtures();
    assert!(
        files.len() >= 20,
        "expected the broken fixtures, found {}",
        files.len()
    );
    let mut rendered = String::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("fixture is readable");
        let expect = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{} lacks its `# expect:` first line", path.display()));
        let errors = match load_fixture(path) {
            Ok(_) => panic!("{} loaded, but it is broken", path.display()),
            Err(e) => e,
        };
        let first = &errors.0[0];
        assert!(
            first.message.contains(expect),
            "{}: message {:?} does not mention {expect:?}",
            path.display(),
            first.message
        );
        let pos = first
            .position
            .unwrap_or_else(|| panic!("{}: error has no position: {first}", path.display()));
        assert!(
            pos.line > 1,
            "{}: position {pos:?} points at the comment line",
            path.display()
        );
        assert!(
            first.source_line.is_some(),
            "{}: no source line shown",
            path.display()
        );
        rendered.push_str(&errors.to_string());
        rendered.push('\n');
    }
    insta::with_settings!({snapshot_path => "../snapshots/specs", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("loader_errors", rendered);
    });
}

#[test]
fn the_embedded_specs_load() {
    let specs = spec::embedded().unwrap_or_else(|e| panic!("{e}"));
    let ids: Vec<&str> = specs.iter().map(|s| s.api.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "aws-iam",
            "aws-iam-create-user",
            "aws-iam-get-user",
            "aws-iam-list-users",
            "aws-iam-delete-user",
            "aws-transfer",
            "aws-transfer-create-user",
            "aws-transfer-describe-user",
            "aws-transfer-list-users",
            "aws-transfer-delete-user",
            "aws-workdocs",
            "aws-workdocs-create-user",
            "aws-workdocs-describe-users",
            "aws-workdocs-delete-user",
            "hpe-nimble",
            "hpe-nimble-create-user",
            "hpe-nimble-get-user",
            "hpe-nimble-list-users",
            "hpe-nimble-list-users-detail",
            "hpe-nimble-delete-user",
            "nexfs",
            "nexfs-create-user",
            "nexfs-get-user",
            "nexfs-list-users",
            "nexfs-delete-user"
        ]
    );
}

#[test]
fn the_files_under_specs_are_the_embedded_ones() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("specs");
    for (name, text) in spec::EMBEDDED {
        let on_disk = std::fs::read_to_string(dir.join(name)).expect("spec file exists");
        assert_eq!(&on_disk, text, "{name} differs from the embedded copy");
    }
}

#[test]
fn specs_show_reads_like_the_documents() {
    for s in spec::embedded().unwrap_or_else(|e| panic!("{e}")) {
        insta::with_settings!({snapshot_path => "../snapshots/specs", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(format!("show_{}", s.api.id), show::render(&s));
        });
    }
}

#[test]
fn the_committed_json_schema_matches_the_model() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/schema.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let current = format!("{}\n", spec::json_schema());
    if committed != current {
        if std::env::var_os("APICONFORM_UPDATE_SCHEMA").is_some() {
            std::fs::write(&path, &current).expect("write specs/schema.json");
            return;
        }
        panic!(
            "specs/schema.json is out of date with src/spec/model.rs; regenerate it with\n  \
             APICONFORM_UPDATE_SCHEMA=1 cargo test --test spec_loader\n(or `apiconform specs schema > specs/schema.json`)"
        );
    }
}

#[test]
fn specs_check_exits_non_zero_on_a_broken_spec_and_zero_on_good_ones() {
    let bin = env!("CARGO_BIN_EXE_apiconform");
    let bad = Command::new(bin)
        .args(["specs", "check"])
        .arg(fixtures().join("broken/bad-pattern.yaml"))
        .output()
        .expect("run apiconform");
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("does not compile"), "{stderr}");
    assert!(stderr.contains("bad-pattern.yaml:35:5"), "{stderr}");

    let good = Command::new(bin)
        .args(["specs", "check"])
        .output()
        .expect("run apiconform");
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&good.stdout).lines().count(),
        spec::EMBEDDED.len()
    );
}

#[test]
fn patterns_follow_java_semantics_whatever_the_anchors() {
    // `\w` is ASCII only, and anchors in the document's pattern change nothing.
    let text = std::fs::read_to_string(fixtures().join("minimal.yaml"))
        .expect("fixture")
        .replace("pattern: '[a-z]+'", "pattern: '^\\w+$'");
    let s = spec::load_str("anchored.yaml", &text).unwrap_or_else(|e| panic!("{e}"));
    let p = s.parameters[0].compiled.as_ref().expect("compiled pattern");
    assert!(p.is_match("bob_1"));
    assert!(!p.is_match("bøb"));
    assert!(!p.is_match("bob smith"));
}

/// `minimal.yaml` turned into a list operation whose filters are `filters` (YAML lines
/// under `filters:`), over users with a name, a given name and a status.
fn list_spec(filters: &str) -> String {
    let text = std::fs::read_to_string(fixtures().join("minimal.yaml")).expect("fixture");
    let text = text
        .replace("  operation: UpdateUser\n", "  operation: ListUsers\n  kind: list\n")
        .replace("MiniService.UpdateUser", "MiniService.ListUsers")
        .replace(",\n     message: \"User ${UserName} not found\"}", "}")
        .replace(
            "    - {name: Level, type: integer, default: 1}\n",
            "    - {name: Level, type: integer, default: 1}\n    - {name: GivenName, type: string}\n    - {name: Status, type: string, default: ACTIVE}\n",
        );
    let params = "parameters:
  - {name: Ids, location: body, type: string}
  - {name: Query, location: body, type: string}
  - {name: Include, location: body, type: string, enum: [ALL, ACTIVE_PENDING]}
  - {name: Marker, location: body, type: string}
errors:";
    let start = text.find("parameters:").expect("parameters");
    let end = text.find("\nerrors:").expect("errors") + 1;
    let mut text = format!(
        "{}{params}{}",
        &text[..start],
        &text[end + "errors:".len()..]
    );
    let body = text.find("  body: {UserName").expect("body");
    let line_end = body + text[body..].find('\n').expect("eol");
    text.replace_range(
        body..line_end,
        "  body: {Users: \"${list.items}\", Marker: \"${list.next}\"}",
    );
    let ex = text.find("examples:").expect("examples");
    text.truncate(ex);
    text.push_str(&format!(
        "list:\n  token: Marker\n  default_page_size: 10\n  item: {{UserName: \"${{resource.UserName}}\"}}\n  filters:\n{filters}"
    ));
    text
}

#[test]
fn list_filters_match_comma_lists_word_prefixes_and_named_values() {
    let text = list_spec(
        "    - {parameter: Ids, field: UserName, match: one-of}
    - {parameter: Query, fields: [UserName, GivenName], match: word-prefixes, case_insensitive: true, ignored_with: [Ids]}
    - parameter: Include
      field: Status
      match: {values: {ALL: [], ACTIVE_PENDING: [ACTIVE, PENDING]}}
      default: ACTIVE_PENDING
",
    );
    let s = spec::load_str("list.yaml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let l = s.list.as_ref().expect("list section");
    let user = |name: &str, given: &str, status: &str| {
        serde_json::json!({"UserName": name, "GivenName": given, "Status": status})
            .as_object()
            .cloned()
            .expect("object")
    };
    let mateo = user("mjackson", "Mateo Jackson", "ACTIVE");
    let maria = user("mgarcia", "Maria Garcia", "PENDING");
    let gone = user("old", "Old Timer", "INACTIVE");
    let params = |v: serde_json::Value| v.as_object().cloned().expect("object");
    let kept = |p: &serde_json::Map<String, serde_json::Value>| -> Vec<String> {
        [&mateo, &maria, &gone]
            .into_iter()
            .filter(|r| l.filters.iter().all(|f| f.keeps(p, r)))
            .map(|r| r["UserName"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    // No parameter: the default (ACTIVE_PENDING) hides the inactive user.
    assert_eq!(
        kept(&params(serde_json::json!({}))),
        ["mjackson", "mgarcia"]
    );
    assert_eq!(
        kept(&params(serde_json::json!({"Include": "ALL"}))),
        ["mjackson", "mgarcia", "old"]
    );
    // A comma list, spaces trimmed: each id kept, others not.
    assert_eq!(
        kept(&params(
            serde_json::json!({"Ids": "mgarcia, nobody ,mjackson"})
        )),
        ["mjackson", "mgarcia"]
    );
    // Every word of the query starts a word of the fields, in any letter case.
    assert_eq!(
        kept(&params(serde_json::json!({"Query": "ma"}))),
        ["mjackson", "mgarcia"]
    );
    assert_eq!(
        kept(&params(serde_json::json!({"Query": "Ma J"}))),
        ["mjackson"]
    );
    assert_eq!(
        kept(&params(serde_json::json!({"Query": "ackson"}))),
        Vec::<String>::new()
    );
    // With Ids sent, Query is ignored.
    assert_eq!(
        kept(&params(
            serde_json::json!({"Ids": "mgarcia", "Query": "Ma J"})
        )),
        ["mgarcia"]
    );
    // A value `values` does not name keeps nothing.
    let odd = params(serde_json::json!({"Include": "SOME"}));
    assert!(kept(&odd).is_empty());
    // `contains` (and letter case kept unless the filter says otherwise).
    let contains = spec::model::ListFilter {
        parameter: "Query".into(),
        field: Some("GivenName".into()),
        fields: Vec::new(),
        matches: spec::model::FilterMatch::Contains,
        case_insensitive: false,
        default: None,
        ignored_with: Vec::new(),
    };
    let q = |text: &str| params(serde_json::json!({ "Query": text }));
    assert!(contains.keeps(&q("ckso"), &mateo));
    assert!(!contains.keeps(&q("CKSO"), &mateo));
    assert!(!contains.keeps(&q("ckso"), &maria));
    assert!(contains.keeps(&params(serde_json::json!({})), &maria));
}

#[test]
fn list_filters_naming_what_the_spec_lacks_are_refused() {
    for (filters, at, says) in [
        (
            "    - {parameter: Ids, field: Nope, match: one-of}\n",
            "list.filters[0].field",
            "'Nope' is not a resource field",
        ),
        (
            "    - {parameter: Query, fields: [UserName, Nope], match: contains}\n",
            "list.filters[0].fields",
            "'Nope' is not a resource field",
        ),
        (
            "    - {parameter: Query, field: UserName, fields: [GivenName], match: contains}\n",
            "list.filters[0].fields",
            "not both",
        ),
        (
            "    - {parameter: Query, match: contains}\n",
            "list.filters[0]",
            "needs `field`",
        ),
        (
            "    - {parameter: Query, field: UserName, match: prefix, ignored_with: [Nope]}\n",
            "list.filters[0].ignored_with",
            "'Nope' is not a parameter",
        ),
        (
            "    - {parameter: Include, field: Status, match: {values: {ALL: []}}, default: SOME}\n",
            "list.filters[0].default",
            "'SOME' is not one of the values",
        ),
    ] {
        let text = list_spec(filters);
        let errors = match spec::load_str("list.yaml", &text) {
            Ok(_) => panic!("loaded a spec whose filter is broken:\n{filters}"),
            Err(e) => e,
        };
        assert!(
            errors
                .0
                .iter()
                .any(|e| e.path.as_deref() == Some(at) && e.message.contains(says)),
            "expected `{says}` at {at}, got:\n{errors}"
        );
    }
}

/// `minimal.yaml` as a list operation with row-number paging, its `list` section and
/// response body given.
fn offset_list(list: &str, body: &str) -> Result<spec::Spec, spec::SpecErrors> {
    let text = std::fs::read_to_string(fixtures().join("minimal.yaml")).expect("readable");
    let text = text
        .replace(
            "  document: tests/fixtures/specs/minimal.yaml\n",
            "  document: tests/fixtures/specs/minimal.yaml\n  kind: list\n",
        )
        .replace("    selects: UserName\n", "")
        .replace("    required: true\n", "")
        .replace(
            "  body: {UserName: \"${resource.UserName}\", Level: \"${resource.Level}\"}\n",
            &format!("  body: {body}\n{list}"),
        )
        .replace(
            "    params: {UserName: bob, Level: 3}\n",
            "    params: {}\n",
        );
    spec::load_str("offset-list.yaml", &text)
}

#[test]
fn offset_paging_loads_and_is_checked() {
    let body = r#"{Start: "${list.start}", End: "${list.end}", Total: "${list.total}", Users: "${list.items}"}"#;
    let good = "list:\n  paging: offset\n  token: UserName\n  end: Level\n  fields: UserName\n  default_page_size: 2\n  item: {UserName: \"${resource.UserName}\"}\n";
    let s = offset_list(good, body).unwrap_or_else(|e| panic!("{e}"));
    let l = s.list.expect("a list section");
    assert_eq!(l.paging, spec::model::Paging::Offset);
    assert_eq!(l.end.as_deref(), Some("Level"));
    assert_eq!(l.fields.as_deref(), Some("UserName"));

    // Row numbers only exist with offset paging.
    let keyed = good.replace("  paging: offset\n", "");
    let e = offset_list(&keyed, body).expect_err("end and list.total need offset paging");
    let text = e.to_string();
    assert!(text.contains("an end row needs `paging: offset`"), "{text}");
    assert!(
        text.contains("${list.total} is only known with `list.paging: offset`"),
        "{text}"
    );
    // Every parameter a list section names must exist.
    let unknown = good.replace("  fields: UserName\n", "  fields: Columns\n");
    let e = offset_list(&unknown, body).expect_err("fields names no parameter");
    assert!(
        e.to_string().contains("'Columns' is not a parameter"),
        "{e}"
    );
    // An unknown paging kind is refused by name.
    let bad = good.replace("paging: offset", "paging: pages");
    let e = offset_list(&bad, body).expect_err("no such paging");
    assert!(e.to_string().contains("pages"), "{e}");
}
