//! The `apiconform` command: parses flags and calls the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use apiconform::auth::AuthConfig;
use apiconform::fake::{Config, Engine, Server, ServerOptions, TlsOptions};
use apiconform::runner;
use apiconform::spec;

/// Reference fake server and conformance runner for documented APIs.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Work with spec files.
    #[command(subcommand)]
    Specs(SpecsCommand),
    /// Serve the fake: every embedded API on one port (or only those named).
    #[command(
        after_help = "Examples:\n  apiconform serve --port 4580\n  apiconform serve --tls --port 5392 --spec hpe-nimble\n  apiconform serve --port 0 --no-auth --seed users.yaml\n\nThe first line on stdout is `apiconform listening on URI`. Control plane: URI/_apiconform/health, reset, state, seed, journal, faults (README)."
    )]
    Serve(ServeArgs),
    /// Run the conformance cases against a target (the embedded fake by default).
    #[command(
        after_help = "Examples:\n  apiconform test\n  apiconform test --api aws-iam --case 'aws-iam/length/*'\n  apiconform test --target moto.yaml --junit report.xml\n  apiconform test --update          # re-record snapshots/ from the target\n  apiconform test --target vendor.yaml --strict\n  apiconform test --target vendor.yaml --report report/ --ctrf ctrf.json\n  apiconform test --target vendor.yaml --write-baseline baseline.yaml   # accept today's failures\n  apiconform test --target vendor.yaml --baseline baseline.yaml         # in CI\n  apiconform test --target vendor.yaml --shard 2/4\n  apiconform test --target real.yaml --update --snapshots recorded/     # a redacted recording\n\nAnswers are compared as trees, the way the protocol's clients read them (README, \"How answers are judged\"). After the run: a table per API by category and the failures grouped by cause, each cause's first case in full with the commands that re-run it (README, \"The vendor workflow\").\n\nExit codes: 0 all passed (with --baseline: every failure is accepted; with only --write-baseline: written), 1 a case failed (outside the baseline), 2 usage or configuration error."
    )]
    Test(TestArgs),
    /// List the cases the specs generate, or the coverage table.
    Cases(CasesArgs),
    /// Send one case's request again and print the raw HTTP exchange and the verdict.
    #[command(
        after_help = "Examples:\n  apiconform replay aws-iam/length/NewUserName/max+1\n  apiconform replay aws-transfer/auth/unsigned --target vendor.yaml\n\nThe target is brought to the case's starting state first (reset or the profile's before_each, the case's setup steps), as in `test`; the request is signed afresh. Every failure in `test` prints this command.\n\nExit codes: 0 the case passes, 1 it fails, 2 usage or configuration error (or the target cannot run the case)."
    )]
    Replay(ReplayArgs),
    /// Work with snapshot sets (the shipped ones, recordings of a target).
    #[command(subcommand)]
    Snapshots(SnapshotsCommand),
}

#[derive(Subcommand)]
enum SnapshotsCommand {
    /// List, case by case, where two snapshot sets disagree (A is the reference).
    #[command(
        after_help = "Examples:\n  apiconform test --target real.yaml --update --snapshots recorded/\n  apiconform snapshots diff snapshots recorded --api aws-iam\n  apiconform snapshots diff snapshots recorded --diff\n\nAnswers are compared as the runner compares them (trees, masks), every member counted. Redacted values (<redacted:...>) on either side are compared redacted.\n\nExit codes: 0 the sets agree, 1 they differ, 2 a folder cannot be read."
    )]
    Diff {
        /// The reference snapshot folder (`<api>/<case>.snap` inside).
        a: PathBuf,
        /// The folder compared with it.
        b: PathBuf,
        /// Only this API (repeatable).
        #[arg(long = "api")]
        apis: Vec<String>,
        /// Print the unified diff under each case that differs.
        #[arg(long)]
        diff: bool,
    },
}

#[derive(clap::Args)]
struct ReplayArgs {
    /// The case's full name, as `apiconform cases` lists it.
    case: String,
    #[command(flatten)]
    specs: SpecArgs,
    #[command(flatten)]
    at: JudgeArgs,
    /// Print credentials, signatures and tokens as sent (redacted by default).
    #[arg(long)]
    unredacted: bool,
}

/// Where cases are sent, and what their answers are judged against (`test`, `replay`).
#[derive(clap::Args)]
struct JudgeArgs {
    /// Target profile (YAML); without it, the embedded fake runs in-process.
    #[arg(long, env = "APICONFORM_TARGET")]
    target: Option<PathBuf>,
    /// Also the suites (`*.yaml`, format in suites/README.md) in this directory.
    #[arg(long, value_name = "DIR")]
    suites: Vec<PathBuf>,
    /// Snapshot directory the answers are judged against.
    #[arg(long, default_value = "snapshots")]
    snapshots: PathBuf,
    /// Members the expected answer does not have fail the case (default: a warning, as
    /// the protocols' clients ignore them).
    #[arg(long)]
    strict: bool,
}

/// Which specs a command works with.
#[derive(clap::Args, Clone, Default)]
struct SpecArgs {
    /// Also use the spec in this file (repeatable).
    #[arg(long = "spec-file", value_name = "FILE")]
    spec_files: Vec<PathBuf>,
    /// Also use every spec (`*.yaml`) in this folder (repeatable).
    #[arg(long = "specs", value_name = "DIR")]
    spec_dirs: Vec<PathBuf>,
    /// Use only the spec files and folders given, not the embedded specs.
    #[arg(long)]
    only_spec_files: bool,
}

#[derive(clap::Args)]
struct TestArgs {
    #[command(flatten)]
    specs: SpecArgs,
    #[command(flatten)]
    at: JudgeArgs,
    /// Only this API (may be repeated).
    #[arg(long = "api")]
    apis: Vec<String>,
    /// Only cases whose name matches this glob (`*`, `?`).
    #[arg(long = "case")]
    case: Option<String>,
    /// Write a JUnit XML report here.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Write a JSON report here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Record the answers as the new snapshots instead of comparing.
    #[arg(long)]
    update: bool,
    /// Parallel workers, each with its own in-process fake (default: one per CPU);
    /// a --target is always run one case at a time.
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
    /// With --target: after this many timeouts in a row on one API, fail its remaining
    /// cases at once as "target stalled"; 0 sends every case (default: the profile's
    /// `stall_after`, 3).
    #[arg(long, value_name = "N")]
    stall_after: Option<u32>,
    /// With --target: where every observed answer is written, as `DIR/<api>/<case>.snap`
    /// (a recording; never into --snapshots).
    #[arg(long, value_name = "DIR", default_value = "target/apiconform/observed")]
    out: PathBuf,
    /// No line per failure and no progress line while the cases run (the summary is
    /// still printed). The progress line is drawn only on a terminal, never when `CI` is set.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Write the publishable report here: index.html (self-contained), report.md,
    /// badge.svg and badge-<api>.svg, with the conformance matrix of every documented
    /// constraint and error row.
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
    /// Write a CTRF (Common Test Report Format) JSON report here.
    #[arg(long, value_name = "FILE")]
    ctrf: Option<PathBuf>,
    /// Accepted deviations (YAML): fail only on failures outside it, and list the entries
    /// that pass now.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Write every failure of this run as an accepted deviation (reasons kept from
    /// --baseline where case and cause match). Without --baseline the run then exits 0.
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// Run only part K of N (e.g. 2/4): cases dealt in turn, so N machines with 1/N ... N/N
    /// together run every case once.
    #[arg(long, value_name = "K/N")]
    shard: Option<runner::shard::Shard>,
}

impl TestArgs {
    /// The options a reproducer repeats: specs, suites, target, snapshots, strictness.
    fn invocation(&self) -> runner::replay::Invocation {
        let mut args: Vec<String> = Vec::new();
        let mut push = |flag: &str, v: &std::path::Path| {
            args.push(flag.to_string());
            args.push(v.display().to_string());
        };
        for f in &self.specs.spec_files {
            push("--spec-file", f);
        }
        for d in &self.specs.spec_dirs {
            push("--specs", d);
        }
        if let Some(t) = &self.at.target {
            push("--target", t);
        }
        for d in &self.at.suites {
            push("--suites", d);
        }
        if self.at.snapshots != std::path::Path::new("snapshots") {
            push("--snapshots", &self.at.snapshots);
        }
        if self.specs.only_spec_files {
            args.push("--only-spec-files".into());
        }
        if self.at.strict {
            args.push("--strict".into());
        }
        runner::replay::Invocation {
            args,
            target: self.at.target.as_ref().map(|t| t.display().to_string()),
        }
    }
}

#[derive(clap::Args)]
struct CasesArgs {
    #[command(flatten)]
    specs: SpecArgs,
    /// Only this API (may be repeated).
    #[arg(long = "api")]
    apis: Vec<String>,
    /// Show the coverage table of constraints and error rows instead.
    #[arg(long)]
    coverage: bool,
}

#[derive(clap::Args)]
struct ServeArgs {
    #[command(flatten)]
    spec_sources: SpecArgs,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 4580)]
    port: u16,
    /// Serve only this API (repeatable; an id of the embedded specs or of a spec file).
    #[arg(long = "spec", value_name = "API")]
    specs: Vec<String>,
    /// YAML or JSON file `{api-id: [resource, ...]}` added to the fixtures (kept across resets).
    #[arg(long, value_name = "FILE")]
    seed: Option<PathBuf>,
    /// Credentials and logins to accept (YAML, see README); replaces the defaults.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Serve HTTPS (a self-signed certificate is made at start unless --cert/--key).
    #[arg(long)]
    tls: bool,
    /// PEM certificate chain for --tls.
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// PEM private key for --tls.
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// Accept requests without verifying signatures or tokens.
    #[arg(long)]
    no_auth: bool,
    /// Requests kept in the journal.
    #[arg(long, default_value_t = 1000)]
    journal_cap: usize,
    /// Largest request body in bytes.
    #[arg(long, default_value_t = 10 * 1024 * 1024)]
    body_limit: usize,
    /// Largest request head (request line and headers) in bytes; larger gets 431.
    #[arg(long, default_value_t = 64 * 1024)]
    max_header_bytes: usize,
    /// Seconds a client has to send its request head before the connection is closed.
    #[arg(long, default_value = "10", value_parser = seconds)]
    header_timeout: std::time::Duration,
    /// Seconds a client has to send its body before it gets 408.
    #[arg(long, default_value = "30", value_parser = seconds)]
    body_timeout: std::time::Duration,
    /// Log one line per request (RUST_LOG overrides).
    #[arg(short, long)]
    verbose: bool,
}

#[derive(Subcommand)]
enum SpecsCommand {
    /// Load and check spec files (the embedded specs when no path is given).
    ///
    /// Exit code 0 when every spec is valid, 1 when any has an error.
    #[command(
        after_help = "Examples:\n  apiconform specs check\n  apiconform specs check specs/*.yaml"
    )]
    Check {
        /// Spec files to check.
        paths: Vec<PathBuf>,
    },
    /// Print the JSON Schema of the spec format (specs/schema.json is this output).
    Schema,
    /// Print a spec's parameter, rule and error tables.
    #[command(
        after_help = "Examples:\n  apiconform specs show aws-iam\n  apiconform specs show my-api.yaml\n  apiconform specs show my-api --specs specs.d/"
    )]
    Show {
        /// API id (of an embedded spec or of one given with --spec-file/--specs), or a
        /// spec file.
        api: String,
        #[command(flatten)]
        specs: SpecArgs,
    },
}

/// A positive number of seconds (fractions allowed), for the timeout flags.
fn seconds(s: &str) -> Result<std::time::Duration, String> {
    let n: f64 = s
        .parse()
        .map_err(|_| format!("'{s}' is not a number of seconds"))?;
    if !(n > 0.0 && n <= 86_400.0) {
        return Err(format!(
            "'{s}' must be more than 0 and at most 86400 seconds"
        ));
    }
    Ok(std::time::Duration::from_secs_f64(n))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::Test(args) => conformance(args),
        Command::Cases(args) => list_cases(args),
        Command::Replay(args) => replay(args),
        Command::Snapshots(SnapshotsCommand::Diff { a, b, apis, diff }) => {
            match runner::snapdiff::diff_dirs(&a, &b, &apis) {
                Ok(entries) => {
                    print!("{}", runner::snapdiff::render(&a, &b, &entries, diff));
                    if runner::snapdiff::agree(&entries) {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::from(1)
                    }
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Specs(SpecsCommand::Check { paths }) => specs_check(&paths),
        Command::Specs(SpecsCommand::Show { api, specs }) => specs_show(&api, &specs),
        Command::Specs(SpecsCommand::Schema) => {
            println!("{}", spec::json_schema());
            ExitCode::SUCCESS
        }
    }
}

impl SpecArgs {
    fn sources(&self) -> spec::Sources {
        spec::Sources {
            only_files: self.only_spec_files,
            files: self.spec_files.clone(),
            dirs: self.spec_dirs.clone(),
        }
    }

    /// The specs, or the message and exit code 2 (a usage or configuration error).
    fn load(&self) -> Result<Vec<spec::Spec>, ExitCode> {
        if self.only_spec_files && self.spec_files.is_empty() && self.spec_dirs.is_empty() {
            eprintln!("error: --only-spec-files needs --spec-file FILE or --specs DIR");
            return Err(ExitCode::from(2));
        }
        spec::gather(&self.sources()).map_err(|e| {
            eprint!("{e}");
            ExitCode::from(2)
        })
    }
}

/// `--api` ids that no spec has: a usage error that lists the known ids.
fn unknown_apis(specs: &[spec::Spec], apis: &[String]) -> Result<(), ExitCode> {
    match apis.iter().find(|a| !specs.iter().any(|s| &s.api.id == *a)) {
        None => Ok(()),
        Some(a) => {
            let ids: Vec<&str> = specs.iter().map(|s| s.api.id.as_str()).collect();
            eprintln!(
                "error: no spec has api id '{a}'; known: {} (add one with --spec-file or --specs)",
                ids.join(", ")
            );
            Err(ExitCode::from(2))
        }
    }
}

fn conformance(args: TestArgs) -> ExitCode {
    let specs = match args.specs.load() {
        Ok(s) => s,
        Err(code) => return code,
    };
    if let Err(code) = unknown_apis(&specs, &args.apis) {
        return code;
    }
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    rt.block_on(async {
        let jobs = match (&args.at.target, args.jobs) {
            (Some(_), _) => 1,
            (None, Some(n)) => n.clamp(1, 64),
            (None, None) => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        let runners = match &args.at.target {
            Some(path) => runner::target::Profile::load(path)
                .map(|mut p| {
                    if let Some(n) = args.stall_after {
                        p.stall_after = n;
                    }
                    p
                })
                .and_then(|p| runner::Runner::with_specs(p, specs.clone()))
                .map(|mut r| {
                    r.observed = runner::Observations::Dir(args.out.clone());
                    r.redact = Some(runner::redact::Redactor::with_profile(r.profile()));
                    vec![r]
                }),
            None => runner::Runner::in_process_pool_with(jobs, specs.clone()).await,
        };
        let mut runners = match runners {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        let mut extra = Vec::new();
        for dir in &args.at.suites {
            match runner::suite::load_dir(dir, runners[0].specs()) {
                Ok(cases) => extra.extend(cases),
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            }
        }
        for r in &mut runners {
            r.update = args.update;
            r.snapshot_dir = args.at.snapshots.clone();
            r.extra = extra.clone();
            r.strict = args.at.strict;
        }
        let sel = runner::Selection {
            apis: args.apis.clone(),
            case_glob: args.case.clone(),
        };
        let cases = runners[0].cases(&sel);
        if cases.is_empty() {
            eprintln!("error: no case matches");
            return ExitCode::from(2);
        }
        let all_cases = runners[0].cases(&runner::Selection::default());
        let baseline = match &args.baseline {
            Some(p) => match runner::baseline::Baseline::load(p) {
                Ok(b) => Some((p.clone(), b)),
                Err(e) => {
                    eprintln!("error: baseline {e}");
                    return ExitCode::from(2);
                }
            },
            None => None,
        };
        let cases = match args.shard {
            Some(s) => {
                let part = s.select(cases);
                if part.is_empty() {
                    println!("shard {s} holds no case");
                    return ExitCode::SUCCESS;
                }
                part
            }
            None => cases,
        };
        let invocation = args.invocation();
        let endpoints: std::collections::BTreeMap<String, String> = match &args.at.target {
            Some(_) => runners[0]
                .profile()
                .apis
                .iter()
                .map(|(api, t)| (api.clone(), t.base_url.clone()))
                .collect(),
            None => specs
                .iter()
                .map(|s| (s.api.id.clone(), "in-process fake".to_string()))
                .collect(),
        };
        let redactor = runner::redact::Redactor::with_profile(runners[0].profile());
        let total = cases.len();
        // Re-recording everything also drops the snapshots no case reads any more.
        let orphans = if args.update && args.case.is_none() && args.shard.is_none() {
            let names: Vec<String> = cases.iter().map(|c| c.name.clone()).collect();
            runner::compare::orphan_snapshots(&args.at.snapshots, names.iter().map(String::as_str))
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let started = std::time::Instant::now();
        let start_ms = unix_ms();
        let progress = std::sync::Arc::new(runner::summary::Progress::new(total, args.quiet));
        let ticks = progress.clone();
        let outcomes =
            runner::run_parallel(runners, cases, move |o, done| ticks.tick(o, done)).await;
        progress.finish();
        print!("{}", runner::summary::console(&outcomes, &invocation));
        for path in &orphans {
            match std::fs::remove_file(path) {
                Ok(()) => println!("removed {} (no case reads it)", path.display()),
                Err(e) => eprintln!("error: cannot remove {}: {e}", path.display()),
            }
        }
        let wall = started.elapsed().as_secs_f64();
        println!(
            "{:.2} s, {:.0} cases/s, {jobs} worker{}",
            wall,
            outcomes.len() as f64 / wall.max(1e-9),
            if jobs == 1 { "" } else { "s" }
        );
        let mut meta = runner::report::publish::Meta::now(
            args.at.target.as_deref(),
            endpoints,
            runner::report::publish::spec_origins(&args.specs.sources()),
            &invocation,
        );
        meta.shard = args.shard.map(|s| s.to_string());
        // The command as typed (after `test`), for the report's header.
        meta.options = std::env::args()
            .skip(2)
            .map(|a| runner::replay::quote(&a))
            .collect::<Vec<_>>()
            .join(" ");
        let outputs = runner::outputs::Outputs {
            specs: &specs,
            all_cases: &all_cases,
            invocation: &invocation,
            redactor,
            run: runner::report::ctrf::Run {
                start_ms,
                stop_ms: unix_ms(),
                target: meta.target.clone(),
                shard: meta.shard.clone(),
            },
            meta,
            junit: args.junit.clone(),
            json: args.json.clone(),
            ctrf: args.ctrf.clone(),
            report: args.report.clone(),
            baseline,
            write_baseline: args.write_baseline.clone(),
        };
        match outputs.finish(&outcomes) {
            Ok(code) => ExitCode::from(code),
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        }
    })
}

/// Now, in milliseconds since the Unix epoch.
fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn replay(args: ReplayArgs) -> ExitCode {
    let specs = match args.specs.load() {
        Ok(s) => s,
        Err(code) => return code,
    };
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    rt.block_on(async {
        let runner = match &args.at.target {
            Some(path) => runner::target::Profile::load(path)
                .and_then(|p| runner::Runner::with_specs(p, specs.clone())),
            None => runner::Runner::in_process_with(specs.clone()).await,
        };
        let mut runner = match runner {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        for dir in &args.at.suites {
            match runner::suite::load_dir(dir, runner.specs()) {
                Ok(cases) => runner.extra.extend(cases),
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            }
        }
        runner.observed = runner::Observations::Nowhere;
        runner.snapshot_dir = args.at.snapshots.clone();
        runner.strict = args.at.strict;
        match runner::replay::replay(&runner, &args.case, args.unredacted).await {
            Ok((text, passed)) => {
                print!("{text}");
                ExitCode::from(u8::from(!passed))
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        }
    })
}

fn list_cases(args: CasesArgs) -> ExitCode {
    let specs = match args.specs.load() {
        Ok(s) => s,
        Err(code) => return code,
    };
    if let Err(code) = unknown_apis(&specs, &args.apis) {
        return code;
    }
    for s in specs
        .iter()
        .filter(|s| args.apis.is_empty() || args.apis.contains(&s.api.id))
    {
        let cases = runner::cases::cases(s);
        if args.coverage {
            print!("{}", runner::report::coverage(s, &cases));
        } else {
            for c in &cases {
                let expect = match &c.expect {
                    runner::cases::Expect::Success => "success".to_string(),
                    runner::cases::Expect::Error(code) => code.clone(),
                };
                println!("{:<70} {expect}", c.name);
            }
        }
    }
    ExitCode::SUCCESS
}

fn specs_check(paths: &[PathBuf]) -> ExitCode {
    let mut results: Vec<(String, Result<spec::Spec, spec::SpecErrors>)> = if paths.is_empty() {
        spec::EMBEDDED
            .iter()
            .map(|(name, text)| {
                let file = format!("specs/{name}");
                (file.clone(), spec::load_str(&file, text))
            })
            .collect()
    } else {
        paths
            .iter()
            .map(|p| (p.display().to_string(), spec::load_file(p)))
            .collect()
    };
    spec::link_loaded(&mut results);
    let mut failed = 0;
    for (file, r) in &results {
        match r {
            Ok(s) => println!(
                "ok    {file}: {} {} ({} parameters, {} errors, {} examples)",
                s.api.id,
                s.api.operation,
                s.parameters.len(),
                s.errors.len(),
                s.examples.len()
            ),
            Err(errors) => {
                failed += 1;
                eprint!("{errors}");
                println!("FAIL  {file}: {} error(s)", errors.0.len());
            }
        }
    }
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn specs_show(api: &str, sources: &SpecArgs) -> ExitCode {
    let path = std::path::Path::new(api);
    if path.is_file() {
        return match spec::load_file(path) {
            Ok(s) => {
                print!("{}", spec::show::render(&s));
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprint!("{e}");
                ExitCode::from(1)
            }
        };
    }
    let specs = match sources.load() {
        Ok(s) => s,
        Err(code) => return code,
    };
    match specs.iter().find(|s| s.api.id == api) {
        Some(s) => {
            print!("{}", spec::show::render(s));
            ExitCode::SUCCESS
        }
        None => unknown_apis(&specs, &[api.to_string()])
            .err()
            .unwrap_or(ExitCode::from(2)),
    }
}

fn serve(args: ServeArgs) -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(if args.verbose { "info" } else { "warn" })
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    match build_engine(&args) {
        Ok(engine) => {
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: cannot start the runtime: {e}");
                    return ExitCode::from(1);
                }
            };
            runtime.block_on(run_server(engine, &args))
        }
        Err(msg) if msg.starts_with("error:") => {
            eprint!("{msg}");
            ExitCode::from(2)
        }
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}

fn build_engine(args: &ServeArgs) -> Result<Engine, String> {
    let s = &args.spec_sources;
    if s.only_spec_files && s.spec_files.is_empty() && s.spec_dirs.is_empty() {
        return Err("--only-spec-files needs --spec-file FILE or --specs DIR".into());
    }
    let mut specs = spec::gather(&args.spec_sources.sources()).map_err(|e| e.to_string())?;
    if !args.specs.is_empty() {
        if let Some(a) = args
            .specs
            .iter()
            .find(|a| !specs.iter().any(|s| &s.api.id == *a))
        {
            let ids: Vec<&str> = specs.iter().map(|s| s.api.id.as_str()).collect();
            return Err(format!(
                "no spec has api id '{a}'; known: {}",
                ids.join(", ")
            ));
        }
        specs.retain(|s| args.specs.contains(&s.api.id));
    }
    // A JSON seed (the usual form for large ones) is stored as it is read, once the engine
    // exists; YAML is decoded whole first.
    let mut seeds = None;
    if let Some(path) = &args.seed {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let json = bytes.trim_ascii_start().starts_with(b"{");
        let seed = if json {
            Seed::Json(bytes)
        } else {
            let text = String::from_utf8(bytes).map_err(|e| format!("{}: {e}", path.display()))?;
            Seed::Yaml(spec::decode_yaml(&text).map_err(|e| format!("{}: {e}", path.display()))?)
        };
        seeds = Some((path, seed));
    }
    let auth = match &args.config {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            spec::decode_yaml::<AuthConfig>(&text)
                .map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => AuthConfig::default(),
    };
    let config = Config {
        auth,
        no_auth: args.no_auth,
        journal_cap: args.journal_cap,
    };
    let engine = Engine::new(specs, config);
    match seeds {
        Some((path, Seed::Json(bytes))) => {
            engine
                .seed_fixtures_json(&bytes)
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Some((path, Seed::Yaml(seed))) => {
            for (api, resources) in seed {
                engine
                    .seed_fixtures(&api, resources)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
            }
        }
        None => {}
    }
    Ok(engine)
}

/// A `--seed` file, by its form.
enum Seed {
    Json(Vec<u8>),
    Yaml(std::collections::BTreeMap<String, Vec<serde_json::Map<String, serde_json::Value>>>),
}

async fn run_server(engine: Engine, args: &ServeArgs) -> ExitCode {
    let options = ServerOptions {
        addr: std::net::SocketAddr::new(args.host, args.port),
        tls: args.tls.then(|| TlsOptions {
            cert: args.cert.clone(),
            key: args.key.clone(),
        }),
        body_limit: args.body_limit,
        max_header_bytes: args.max_header_bytes,
        header_timeout: args.header_timeout,
        body_timeout: args.body_timeout,
    };
    let server = match Server::start(std::sync::Arc::new(engine), options).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "apiconform listening on {}", server.uri());
        let _ = out.flush();
    }
    shutdown_signal().await;
    tracing::info!("shutting down");
    server.shutdown().await;
    ExitCode::SUCCESS
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
