//! Every conformance case as its own test, named like the case
//! (`cargo test --test conformance -- aws-iam/length` runs those), against the embedded
//! fake started in-process; with `APICONFORM_TARGET=profile.yaml`, against that target.
//!
//! The cases come from the specs and suites at run time, so this target uses
//! libtest-mimic instead of the built-in harness. Each test thread has its own runtime
//! and its own fake (cases reset the state they run on); a profile target is shared, so
//! its cases run one at a time, and those it cannot run (no control plane to inject a
//! fault, no limited identity...) are reported as ignored. A difference from a snapshot leaves a `.snap.new` file for
//! `cargo insta review`.

use std::cell::RefCell;

use apiconform::runner::target::Profile;
use apiconform::runner::{cases::Case, compare, report, Runner, Selection};
use libtest_mimic::{Arguments, Failed, Trial};

thread_local! {
    static WORKER: RefCell<Option<(tokio::runtime::Runtime, Runner)>> = const { RefCell::new(None) };
}

fn target() -> Option<std::path::PathBuf> {
    std::env::var_os("APICONFORM_TARGET").map(Into::into)
}

fn new_worker() -> Result<(tokio::runtime::Runtime, Runner), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let runner = match target() {
        Some(p) => Profile::load(&p).and_then(Runner::with_profile)?,
        None => rt.block_on(Runner::in_process())?,
    };
    Ok((rt, runner))
}

fn run(case: &Case) -> Result<(), Failed> {
    WORKER.with(|w| {
        let mut w = w.borrow_mut();
        if w.is_none() {
            *w = Some(new_worker()?);
        }
        let Some((rt, runner)) = w.as_ref() else {
            return Err("no worker".into());
        };
        let outcome = rt.block_on(runner.run_case(case));
        if let Some(why) = &outcome.skipped {
            // What a target cannot run is marked ignored up front; anything else is a bug.
            return Err(format!("not run: {why}").into());
        }
        if outcome.passed() {
            Ok(())
        } else {
            Err(report::text(std::slice::from_ref(&outcome)).into())
        }
    })
}

fn main() {
    let mut args = Arguments::from_args();
    if target().is_some() {
        args.test_threads = Some(1);
    }
    let runner = match target() {
        Some(p) => Profile::load(&p)
            .and_then(Runner::with_profile)
            .unwrap_or_else(|e| panic!("APICONFORM_TARGET: {e}")),
        // Listing cases needs no server.
        None => Runner::with_profile(Profile::fake("http://127.0.0.1:9")).expect("specs"),
    };
    let trials: Vec<Trial> = runner
        .cases(&Selection::default())
        .into_iter()
        .map(|case| {
            let name = case.name.clone();
            let kind = case.api.clone();
            let ignored = runner.skip_reason(&case).is_some();
            Trial::test(name, move || run(&case))
                .with_kind(kind)
                .with_ignored_flag(ignored)
        })
        .collect();
    // A profile may serve only some of the APIs (moto: IAM and Transfer).
    assert!(
        target().is_some() || trials.len() > 300,
        "only {} cases",
        trials.len()
    );
    let mut trials = trials;
    if target().is_none() {
        let names: Vec<String> = runner
            .cases(&Selection::default())
            .into_iter()
            .map(|c| c.name)
            .collect();
        let dir = runner.snapshot_dir.clone();
        trials.push(Trial::test("snapshots/none-orphaned", move || {
            let orphans = compare::orphan_snapshots(&dir, names.iter().map(String::as_str))?;
            if orphans.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "snapshots no case reads (renamed or removed cases; \
                     `apiconform test --update` deletes them): {orphans:?}"
                )
                .into())
            }
        }));
    }
    libtest_mimic::run(&args, trials).exit();
}
