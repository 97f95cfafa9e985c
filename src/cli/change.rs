//! `opt-out`, `opt-in` and `check`: parse, build the options, call the
//! procedure, render. Results go to stdout, diagnostics and progress to
//! stderr, in every mode.

use super::args::{
    ChangeArgs, CheckArgs, ClassifierLayer, EnforceArgs, Format, OptInArgs, OptOutArgs, OutputArgs,
    PeConfLayer,
};
use crate::enforce::plan::DEFAULT_PE_VERSION_FILE;
use crate::enforce::signal::stderr_is_tty;
use crate::output::render::{self, Style};
use crate::output::report::Layer;
use crate::output::Exit;
use crate::procedure::execute::not_executed;
use crate::procedure::{self, lock, Context, Goal, Mode, Options, Outcome, Progress};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// Which layers a command works on: `--pe-conf` and/or `--classifier`
/// (those), or with no layer flag every layer that applies on this host:
/// pe.conf when it exists at the default path, the classifier when a
/// connection is configured.
pub fn select_layers(
    pe: &PeConfLayer,
    cl: &ClassifierLayer,
    ctx: &Context,
) -> Result<(Option<PathBuf>, bool), String> {
    if pe.pe_conf.is_some() || cl.classifier {
        return Ok((pe.pe_conf.clone(), cl.classifier));
    }
    let default = PathBuf::from(crate::peconf::DEFAULT_PE_CONF);
    let pe_conf = default.exists().then_some(default);
    let classifier = ctx.classifier_configured();
    if pe_conf.is_none() && !classifier {
        return Err(format!(
            "nothing to work on here: there is no pe.conf at {} and no PE classifier is configured \
(no --server/--classifier-url, no service-url in puppet-access.conf, and this host has no Puppet agent \
certificate in /etc/puppetlabs/puppet/ssl). Give --pe-conf PATH, or --server HOST with credentials",
            crate::peconf::DEFAULT_PE_CONF
        ));
    }
    Ok((pe_conf, classifier))
}

/// Shows results as they come (text), and job progress on a terminal.
struct Printer {
    style: Style,
    json: bool,
    tty: bool,
    progress_shown: bool,
}

impl Progress for Printer {
    fn layer(&mut self, layer: &Layer) {
        if self.json {
            return;
        }
        let t = render::layer_text(layer, self.style);
        print!("{}", t.out);
        let _ = std::io::stdout().flush();
        eprint!("{}", t.err);
    }
    fn note(&mut self, message: &str) {
        if !self.json {
            eprintln!("{message}");
        }
    }
    fn wants_job_progress(&self) -> bool {
        self.tty && !self.json
    }
    fn job(&mut self, job: &str, state: Option<&str>, done: usize, of: usize, waited: Duration) {
        if !self.wants_job_progress() {
            return;
        }
        self.progress_shown = true;
        eprint!(
            "\r\x1b[Kjob {job}: {} ({done}/{of} nodes done, {}s) — Ctrl-C stops the job",
            state.unwrap_or("?"),
            waited.as_secs()
        );
        let _ = std::io::stderr().flush();
    }
    fn job_done(&mut self) {
        if self.progress_shown {
            eprint!("\r\x1b[K");
            self.progress_shown = false;
        }
    }
}

fn print(o: &Outcome, format: Format, show_diff: bool, streamed: bool) -> Exit {
    match format {
        Format::Json => {
            println!("{}", render::json(o));
            if let Some(e) = &o.error {
                eprintln!("error: {e}");
            }
        }
        Format::Text => {
            let t = if streamed {
                render::closing_text(o, true)
            } else {
                render::text(o, show_diff)
            };
            print!("{}", t.out);
            eprint!("{}", t.err);
        }
    }
    o.exit
}

pub fn opt_out(a: &OptOutArgs) -> Exit {
    change(
        Goal::OptOut,
        &a.layer,
        &a.classifier,
        &a.enforce,
        a.fix_overrides,
        &a.change,
        &a.output,
    )
}

pub fn opt_in(a: &OptInArgs) -> Exit {
    change(
        Goal::OptIn {
            explicit: a.explicit,
        },
        &a.layer,
        &a.classifier,
        &a.enforce,
        a.fix_overrides,
        &a.change,
        &a.output,
    )
}

fn change(
    goal: Goal,
    layer: &PeConfLayer,
    classifier: &ClassifierLayer,
    e: &EnforceArgs,
    fix_overrides: bool,
    change: &ChangeArgs,
    output: &OutputArgs,
) -> Exit {
    let mode = if change.dry_run || change.check {
        Mode::DryRun
    } else {
        Mode::Apply
    };
    let ctx = Context::new(
        classifier.connection.requested(),
        classifier.connection.certname.as_deref(),
    );
    let (pe_conf, with_classifier) = match select_layers(layer, classifier, &ctx) {
        Ok(x) => x,
        Err(m) => {
            return print(
                &Outcome::failed(goal.command(), goal, mode, m),
                output.format,
                false,
                false,
            )
        }
    };
    let opts = Options {
        goal,
        mode,
        verdict_only: change.check,
        pe_conf,
        classifier: with_classifier,
        fix_overrides,
        nodes: e.nodes.clone(),
        no_run: e.no_run,
        no_reload: e.no_reload,
        backup: change.backup,
        wait_timeout: e.wait_timeout,
        pe_version: e.pe_version.clone(),
        pe_version_file: e.pe_version_file.clone(),
        lock_file: e.lock_file.clone(),
    };
    run(&ctx, &opts, output.format, change.diff)
}

/// Lock (a writing run with the classifier), facts, plan, then execute or
/// show.
fn run(ctx: &Context, opts: &Options, format: Format, show_diff: bool) -> Exit {
    let _lock = if opts.mode == Mode::Apply && opts.classifier {
        let path = opts.lock_file.clone().unwrap_or_else(lock::default_path);
        match lock::acquire(&path, opts.wait_timeout, &mut |m| eprintln!("{m}")) {
            Ok(l) => Some(l),
            Err(m) => {
                let o = Outcome::failed(opts.goal.command(), opts.goal, opts.mode, m);
                return print(&o, format, false, false);
            }
        }
    } else {
        None
    };
    let facts = procedure::gather(ctx, opts);
    let plan = procedure::plan(&facts, opts);
    if opts.mode != Mode::Apply || plan.blocked() {
        let mut o = not_executed(&plan, opts);
        if opts.mode == Mode::Apply {
            if let Some(e) = o.error.as_mut() {
                e.push_str("; nothing was written");
            }
        }
        return print(&o, format, show_diff, false);
    }
    let mut printer = Printer {
        style: Style {
            goal: opts.goal,
            mode: opts.mode,
            verdict_only: false,
            show_diff,
        },
        json: format == Format::Json,
        tty: stderr_is_tty(),
        progress_shown: false,
    };
    let o = procedure::execute(&plan, &facts, ctx, opts, &mut printer);
    print(&o, format, show_diff, format == Format::Text)
}

pub fn check(a: &CheckArgs) -> Exit {
    let ctx = Context::new(
        a.classifier.connection.requested(),
        a.classifier.connection.certname.as_deref(),
    );
    let goal = Goal::OptOut;
    let (pe_conf, with_classifier) = match select_layers(&a.layer, &a.classifier, &ctx) {
        Ok(x) => x,
        Err(m) => {
            return print(
                &Outcome::failed("check", goal, Mode::Check, m),
                a.output.format,
                false,
                false,
            )
        }
    };
    let opts = Options {
        goal,
        mode: Mode::Check,
        verdict_only: false,
        pe_conf,
        classifier: with_classifier,
        fix_overrides: false,
        nodes: Vec::new(),
        no_run: true,
        no_reload: true,
        backup: false,
        wait_timeout: Duration::from_secs(1),
        pe_version: None,
        pe_version_file: PathBuf::from(DEFAULT_PE_VERSION_FILE),
        lock_file: None,
    };
    run(&ctx, &opts, a.output.format, false)
}
