//! The `apiconform` command: parses flags and calls the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
}

#[derive(Subcommand)]
enum SpecsCommand {
    /// Load and check spec files (the embedded specs when no path is given).
    ///
    /// Exit code 0 when every spec is valid, 1 when any has an error.
    #[command(after_help = "Examples:\n  apiconform specs check\n  apiconform specs check specs/*.yaml")]
    Check {
        /// Spec files to check.
        paths: Vec<PathBuf>,
    },
    /// Print an embedded spec's parameter, rule and error tables.
    #[command(after_help = "Example:\n  apiconform specs show aws-iam")]
    Show {
        /// API id (aws-iam, aws-transfer, aws-workdocs, hpe-nimble, nexfs) or a spec file.
        api: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Specs(SpecsCommand::Check { paths }) => specs_check(&paths),
        Command::Specs(SpecsCommand::Show { api }) => specs_show(&api),
    }
}

fn specs_check(paths: &[PathBuf]) -> ExitCode {
    let results: Vec<(String, Result<spec::Spec, spec::SpecErrors>)> = if paths.is_empty() {
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

fn specs_show(api: &str) -> ExitCode {
    let loaded = if std::path::Path::new(api).is_file() {
        spec::load_file(std::path::Path::new(api)).map(|s| vec![s])
    } else {
        spec::embedded()
    };
    match loaded {
        Ok(specs) => match specs.iter().find(|s| s.api.id == api).or(specs.first().filter(|_| std::path::Path::new(api).is_file())) {
            Some(s) => {
                print!("{}", spec::show::render(s));
                ExitCode::SUCCESS
            }
            None => {
                let ids: Vec<&str> = specs.iter().map(|s| s.api.id.as_str()).collect();
                eprintln!("error: no spec '{api}'; known: {}", ids.join(", "));
                ExitCode::from(2)
            }
        },
        Err(e) => {
            eprint!("{e}");
            ExitCode::from(1)
        }
    }
}
