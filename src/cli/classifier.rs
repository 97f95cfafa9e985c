//! `opt-out --classifier`, `opt-in --classifier` and `check --classifier`:
//! the node classifier layer, alone or after pe.conf (`--pe-conf`).

use super::args::EnforceArgs;
use super::args::{
    ChangeArgs, CheckArgs, ClassifierLayer, Format, OptInArgs, OptOutArgs, OutputArgs,
};
use super::enforce;
use super::pe_conf;
use super::Failure;
use crate::output::classifier::ClassifierLayerReport;
use crate::output::report::{Layer, Report, SCHEMA};
use crate::output::Exit;
use crate::pe::classifier::{
    self as nc, apply_delta, delta, find_pe_infrastructure, key_diff, overrides, param, serial,
    state_of, Goal, Nc, CLASS, PARAM,
};
use crate::pe::config::{self, Host};
use crate::pe::PeHttp;
use serde_json::{json, Value};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// Report compliance, send nothing (check, --check).
    Check,
    /// Show what would be sent, send nothing.
    DryRun,
    Apply,
}

/// The more serious of two exit codes: error, then pending, then ok.
fn worst(a: Exit, b: Exit) -> Exit {
    let rank = |e: Exit| match e {
        Exit::Ok => 0,
        Exit::NotSet => 1,
        Exit::Pending => 2,
        Exit::Enforce => 3,
        Exit::Error => 4,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

/// Which layers a command works on (decided in `cli::run`).
#[derive(Clone, Debug)]
pub struct Layers {
    /// pe.conf, when it applies (asked for, or present at the default path).
    pub pe_conf: Option<std::path::PathBuf>,
    /// The classifier, then the runs and reloads.
    pub classifier: bool,
}

pub fn opt_out(a: &OptOutArgs, layers: &Layers) -> Result<Exit, Failure> {
    change(
        Goal::OptOut,
        pe_conf::Goal::OptOut,
        layers,
        &a.classifier,
        &a.enforce,
        a.fix_overrides,
        &a.change,
        &a.output,
    )
}

pub fn opt_in(a: &OptInArgs, layers: &Layers) -> Result<Exit, Failure> {
    change(
        Goal::OptIn {
            explicit: a.explicit,
        },
        pe_conf::Goal::OptIn {
            explicit: a.explicit,
        },
        layers,
        &a.classifier,
        &a.enforce,
        a.fix_overrides,
        &a.change,
        &a.output,
    )
}

pub fn check(a: &CheckArgs, sel: &Layers) -> Result<Exit, Failure> {
    let mut layers: Vec<Layer> = Vec::new();
    let mut exit = Exit::Ok;
    let json = a.output.format == Format::Json;
    if sel.pe_conf.is_some() {
        if json {
            match pe_conf::check_layer(&pe_conf::pe_conf_path(&a.layer)) {
                Ok((e, r)) => {
                    exit = worst(exit, e);
                    layers.push(r.into());
                }
                Err(f) => return fail_json("check", true, layers, f),
            }
        } else {
            exit = worst(exit, pe_conf::check(a)?);
        }
    }
    let (e, report, text) = match run(
        Goal::OptOut,
        Mode::Check,
        &a.classifier,
        false,
        a.classifier.connection.certname.as_deref(),
    ) {
        Ok(x) => x,
        Err(b) => {
            let (partial, f) = *b;
            if json {
                layers.extend(partial.map(Layer::from));
                return fail_json("check", true, layers, f);
            }
            return Err(f);
        }
    };
    exit = worst(exit, e);
    if json {
        layers.push(report.into());
        print_json("check", true, layers, exit, None);
    } else {
        text.print();
    }
    Ok(exit)
}

#[allow(clippy::too_many_arguments)]
fn change(
    goal: Goal,
    pe_goal: pe_conf::Goal,
    layers_sel: &Layers,
    classifier: &ClassifierLayer,
    enforce_args: &EnforceArgs,
    fix_overrides: bool,
    change: &ChangeArgs,
    output: &OutputArgs,
) -> Result<Exit, Failure> {
    let command = pe_goal.command();
    let dry_run = change.dry_run || change.check;
    let json = output.format == Format::Json;
    let mut layers: Vec<Layer> = Vec::new();
    let mut exit = Exit::Ok;
    if let Some(path) = &layers_sel.pe_conf {
        match pe_conf::change_layer(pe_goal, path, change) {
            Ok((e, report, message)) => {
                exit = worst(exit, e);
                if !json {
                    pe_conf::print_layer_text(path, change, &report, &message);
                }
                layers.push(report.into());
            }
            Err(f) => {
                if json {
                    return fail_json(command, dry_run, layers, f);
                }
                return Err(f);
            }
        }
    }
    if !layers_sel.classifier {
        if json {
            print_json(command, dry_run, layers, exit, None);
        }
        return Ok(exit);
    }
    let mode = if change.check {
        Mode::Check
    } else if change.dry_run {
        Mode::DryRun
    } else {
        Mode::Apply
    };
    // The PE version first: below 2016.4 there is nothing to change.
    let ctx = enforce::Ctx::new(classifier, classifier.connection.certname.as_deref());
    let version = match ctx.version(enforce_args).and_then(|v| {
        enforce::refuse_old(&v)?;
        Ok(v)
    }) {
        Ok(v) => v,
        Err(f) => {
            if json {
                return fail_json(command, dry_run, layers, f);
            }
            return Err(f);
        }
    };
    let (e, report, text) = match run(
        goal,
        mode,
        classifier,
        fix_overrides,
        classifier.connection.certname.as_deref(),
    ) {
        Ok(x) => x,
        Err(b) => {
            let (partial, f) = *b;
            if json {
                layers.extend(partial.map(Layer::from));
                return fail_json(command, dry_run, layers, f);
            }
            return Err(f);
        }
    };
    exit = worst(exit, e);
    // The classifier's outcome first: the runs may take minutes.
    if !json {
        text.print();
    }
    let enf = if mode == Mode::Check {
        None
    } else {
        Some(enforce::after_classifier(
            &ctx,
            enforce_args,
            &report,
            &version,
            mode == Mode::DryRun,
            json,
        ))
    };
    layers.push(report.into());
    if let Some(enf) = enf {
        exit = worst(exit, enf.exit);
        layers.extend(enf.layers);
        if !json {
            for l in &enf.lines.out {
                println!("{l}");
            }
            for l in &enf.lines.err {
                eprintln!("{l}");
            }
        }
    }
    if json {
        print_json(command, dry_run, layers, exit, None);
    }
    Ok(exit)
}

/// Text output of the classifier layer: stdout lines, then stderr lines.
#[derive(Default)]
pub(super) struct Text {
    out: Vec<String>,
    err: Vec<String>,
}

impl Text {
    fn print(&self) {
        for l in &self.out {
            println!("{l}");
        }
        for l in &self.err {
            eprintln!("{l}");
        }
    }
}

fn show(v: Option<&Value>) -> String {
    v.map(Value::to_string)
        .unwrap_or_else(|| "(absent)".to_string())
}

pub(super) type Partial = Box<(Option<ClassifierLayerReport>, Failure)>;

/// Runs the classifier layer; prints nothing.
pub(super) fn run(
    goal: Goal,
    mode: Mode,
    layer: &ClassifierLayer,
    fix_overrides: bool,
    certname: Option<&str>,
) -> Result<(Exit, ClassifierLayerReport, Text), Partial> {
    let host = Host::current_with_certname(certname);
    let conn = config::resolve(&layer.connection.requested(), &host)
        .map_err(|e| Box::new((None, Failure::error(format!("classifier: {e}")))))?;
    let http = PeHttp::new(&conn.client_config())
        .map_err(|e| Box::new((None, Failure::error(format!("classifier: {e}")))))?;
    let nc_api = Nc {
        http: &http,
        base: conn.classifier_url.value.clone(),
    };
    let mut rep = ClassifierLayerReport::new(
        conn.classifier_url.value.clone(),
        conn.classifier_url.source.clone(),
    );
    if http.auth().token {
        rep.auth.push("token");
    }
    if http.auth().cert {
        rep.auth.push("certificate");
    }
    let result = body(goal, mode, &nc_api, fix_overrides, &mut rep);
    rep.nc_requests = http.requests_sent();
    rep.retries = http.retries();
    match result {
        Ok((exit, text)) => Ok((exit, rep, text)),
        Err(f) => Err(Box::new((Some(rep), f))),
    }
}

fn body(
    goal: Goal,
    mode: Mode,
    api: &Nc,
    fix_overrides: bool,
    rep: &mut ClassifierLayerReport,
) -> Result<(Exit, Text), Failure> {
    let err = |e: crate::pe::PeError| Failure::error(format!("classifier: {e}"));
    let groups = api.groups().map_err(err)?;
    let infra = find_pe_infrastructure(&groups)
        .map_err(|m| Failure::error(format!("classifier: {m}")))?
        .clone();
    let id = nc::group_id(&infra).to_string();
    let env = infra
        .get("environment")
        .and_then(Value::as_str)
        .unwrap_or("production")
        .to_string();
    let pe_params = infra.get("classes").and_then(|c| c.get(CLASS));
    let host_param = |k: &str| pe_params.and_then(|p| p.get(k)).and_then(Value::as_str);
    rep.group = Some(json!({
        "id": id, "name": nc::group_name(&infra), "environment": env,
        "serial_number": serial(&infra),
    }));
    if let Some(g) = rep.group.as_mut() {
        for (k, v) in [
            (
                "last_edited",
                infra.get("last_edited").and_then(Value::as_str),
            ),
            ("puppet_master_host", host_param("puppet_master_host")),
            ("console_host", host_param("console_host")),
        ] {
            if let Some(v) = v {
                g[k] = json!(v);
            }
        }
    }
    let current = param(&infra, "classes", CLASS).cloned();
    rep.state = Some(state_of(current.as_ref()));
    rep.value = Some(current.clone().unwrap_or(Value::Null));
    let mut targets: Vec<String> = ["puppet_master_host", "console_host"]
        .iter()
        .filter_map(|k| host_param(k).map(str::to_string))
        .collect();
    for name in ["PE Master", "PE Console"] {
        if let Some(g) = groups.iter().find(|g| nc::group_name(g) == name) {
            targets.extend(nc::pinned(g));
        }
    }
    for h in targets {
        if !h.contains("%{") && !rep.run_puppet_on.iter().any(|x| x == &h) {
            rep.run_puppet_on.push(h);
        }
    }
    let mut ovs = overrides(&groups, goal);
    let needs = goal.needs_change(current.as_ref());
    let mut text = Text::default();
    let where_ = format!("classifier: group \"PE Infrastructure\" ({id})");

    // What would be sent.
    let mut diff = String::new();
    let mut after_value = current.clone();
    if needs {
        let d = delta("classes", CLASS, goal.wanted(), serial(&infra));
        diff.push_str(&key_diff(&infra, &apply_delta(&infra, &d)));
        rep.requests.push(api.planned(&id, &d));
        after_value = goal.wanted();
    }
    if fix_overrides {
        for o in ovs.iter().filter(|o| o.defeats) {
            let g = groups
                .iter()
                .find(|g| nc::group_id(g) == o.group_id)
                .expect("the override came from this list");
            let d = delta(&o.section, &o.class, None, serial(g));
            diff.push_str(&key_diff(g, &apply_delta(g, &d)));
            rep.requests.push(api.planned(&o.group_id, &d));
        }
    }
    let defeating = |ovs: &[nc::Override]| ovs.iter().filter(|o| o.defeats && !o.removed).count();
    let pending = !rep.requests.is_empty();

    match mode {
        Mode::Check => {
            rep.state_after = rep.state;
            rep.value_after = rep.value.clone();
            rep.compliant = !needs && defeating(&ovs) == 0;
            rep.diff = diff;
            if rep.compliant {
                text.out.push(format!(
                    "{where_}: {}",
                    match goal {
                        Goal::OptOut => "opted out".to_string(),
                        Goal::OptIn { .. } => "opted in".to_string(),
                    }
                ));
            } else {
                text.out.push(format!(
                    "{where_}: not {}: {}",
                    match goal {
                        Goal::OptOut => "opted out",
                        Goal::OptIn { .. } => "opted in",
                    },
                    if needs {
                        format!(
                            "{CLASS}::{PARAM} is {} ({})",
                            show(current.as_ref()),
                            state_of(current.as_ref()).describe()
                        )
                    } else {
                        "overridden in other groups".to_string()
                    }
                ));
            }
            override_warnings(&ovs, goal, false, &mut text);
            rep.overrides = ovs;
            let exit = if rep.compliant {
                Exit::Ok
            } else {
                Exit::Pending
            };
            return Ok((exit, text));
        }
        Mode::DryRun => {
            rep.state_after = Some(state_of(after_value.as_ref()));
            rep.value_after = Some(after_value.clone().unwrap_or(Value::Null));
            let remaining = if fix_overrides { 0 } else { defeating(&ovs) };
            rep.compliant = !needs && defeating(&ovs) == 0;
            if !diff.is_empty() {
                text.out.push(diff.trim_end().to_string());
            }
            for r in &rep.requests {
                text.out.push(String::new());
                text.out.push(r.render().trim_end().to_string());
            }
            rep.diff = diff;
            text.err.push(if needs {
                format!(
                    "{where_}: would {} ({CLASS}::{PARAM} is now {}); nothing sent",
                    verb(goal),
                    show(current.as_ref())
                )
            } else {
                format!("{where_}: already {}; nothing to send", done(goal))
            });
            override_warnings(&ovs, goal, fix_overrides, &mut text);
            rep.overrides = ovs;
            let exit = if pending || remaining > 0 {
                Exit::Pending
            } else {
                Exit::Ok
            };
            return Ok((exit, text));
        }
        Mode::Apply => {}
    }

    rep.diff = diff;
    let mut final_value = current.clone();
    if needs {
        let log = nc::write_param(api, &infra, "classes", CLASS, goal.wanted()).map_err(err)?;
        rep.written = true;
        rep.verified = true;
        rep.conflicts += log.conflicts;
        rep.updated_classes |= log.updated_classes;
        final_value = param(&log.group_after, "classes", CLASS).cloned();
        if let Some(g) = rep.group.as_mut() {
            g["serial_number"] = json!(serial(&log.group_after));
        }
        text.out.push(format!(
            "{where_}: {} ({CLASS}::{PARAM} was {}, now {}; verified by reading the group back)",
            done(goal),
            show(current.as_ref()),
            show(final_value.as_ref())
        ));
        if log.conflicts > 0 {
            text.err.push(format!(
                "note: the group was changed by someone else meanwhile ({} conflict(s)); re-read and re-applied",
                log.conflicts
            ));
        }
        if log.updated_classes {
            text.err.push(format!(
                "note: the classifier's class cache was stale; refreshed it (POST /v1/update-classes?environment={env})"
            ));
        }
    } else {
        text.out
            .push(format!("{where_}: already {}; nothing written", done(goal)));
    }
    if fix_overrides {
        for o in ovs.iter_mut().filter(|o| o.defeats) {
            let g = groups
                .iter()
                .find(|g| nc::group_id(g) == o.group_id)
                .expect("the override came from this list");
            let log = nc::write_param(api, g, &o.section, &o.class, None).map_err(err)?;
            rep.conflicts += log.conflicts;
            rep.updated_classes |= log.updated_classes;
            o.removed = true;
            rep.written = true;
            text.out.push(format!(
                "classifier: group \"{}\": removed {}.{}.{PARAM} (was {})",
                o.group, o.section, o.class, o.value
            ));
        }
    }
    rep.verified = rep.written;
    rep.state_after = Some(state_of(final_value.as_ref()));
    rep.value_after = Some(final_value.unwrap_or(Value::Null));
    let remaining = defeating(&ovs);
    rep.compliant = remaining == 0;
    override_warnings(&ovs, goal, fix_overrides, &mut text);
    rep.overrides = ovs;
    Ok((
        if remaining > 0 {
            Exit::Pending
        } else {
            Exit::Ok
        },
        text,
    ))
}

fn verb(goal: Goal) -> &'static str {
    match goal {
        Goal::OptOut => "opt out",
        Goal::OptIn { .. } => "opt in",
    }
}

fn done(goal: Goal) -> &'static str {
    match goal {
        Goal::OptOut => "opted out",
        Goal::OptIn { .. } => "opted in",
    }
}

fn override_warnings(ovs: &[nc::Override], goal: Goal, fixing: bool, text: &mut Text) {
    for o in ovs.iter().filter(|o| o.defeats && !o.removed) {
        text.err.push(format!(
            "warning: group \"{}\" ({}) sets {}.{}.{PARAM} = {}, which defeats the {} on the nodes it classifies{}",
            o.group,
            o.group_id,
            o.section,
            o.class,
            o.value,
            match goal {
                Goal::OptOut => "opt-out",
                Goal::OptIn { .. } => "opt-in",
            },
            if fixing {
                " (--fix-overrides would remove it)"
            } else {
                "; remove it with --fix-overrides"
            }
        ));
    }
}

fn outcome(command: &str, exit: Exit, layers: &[Layer]) -> &'static str {
    let written = layers.iter().any(|l| match l {
        Layer::PeConf(r) => r.written,
        Layer::Classifier(r) => r.written,
        _ => false,
    });
    match (exit, command) {
        (Exit::Error, _) => "error",
        (Exit::Ok, "check") => "compliant",
        (Exit::Pending, "check") => "not-compliant",
        (Exit::Pending, _) => "pending",
        (Exit::Enforce, _) => "enforcement-failed",
        (Exit::Ok, _) if written => "done",
        _ => "unchanged",
    }
}

fn print_json(command: &str, dry_run: bool, layers: Vec<Layer>, exit: Exit, error: Option<String>) {
    let report = Report {
        schema: SCHEMA,
        command: command.to_string(),
        dry_run,
        outcome: outcome(command, exit, &layers).to_string(),
        layers,
        exit_code: exit.code(),
        error,
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&report).expect("the report serializes")
    );
}

fn fail_json(
    command: &str,
    dry_run: bool,
    layers: Vec<Layer>,
    failure: Failure,
) -> Result<Exit, Failure> {
    print_json(
        command,
        dry_run,
        layers,
        failure.exit,
        Some(failure.message.clone()),
    );
    Err(failure)
}
