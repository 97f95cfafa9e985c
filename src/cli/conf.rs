//! `conf get`, `conf set`, `conf unset`: any key of a HOCON file, edited as
//! ruby-hocon edits it.

use super::args::{ConfCommand, FileArg, Format, WriteArgs};
use super::Failure;
use crate::files::TextFile;
use crate::hocon::resolve;
use crate::hocon::{Document, EditRules, HoconError, Syntax};
use crate::output::report::ConfReport;
use crate::output::{diff, Exit};
use crate::peconf::plan::{self, Edit, PlanError};
use crate::peconf::secrets::{
    is_secret_key, mask_resolved, mask_value_text, secret_substitution_paths, REDACTED,
};
use crate::peconf::{key_to_path, syntax_for, ANALYTICS_KEY};
use crate::procedure::plan::located;
use serde_json::Value;
use std::time::SystemTime;

pub fn run(command: ConfCommand) -> Result<Exit, Failure> {
    match command {
        ConfCommand::Get {
            file,
            output,
            show_secrets,
            key,
        } => {
            let mut report = ConfReport::new("conf get", &file.file, &key);
            let result = get(&file, &key, show_secrets, &mut report);
            finish(output.format, report, result)
        }
        ConfCommand::Set {
            file,
            write,
            force,
            key,
            value,
        } => {
            let mut report = ConfReport::new("conf set", &file.file, &key);
            let edit = Edit::Set {
                path: key_to_path(&key),
                value,
            };
            let result = edit_file(&file, &write, edit, &key, force, &mut report);
            finish(write.format, report, result)
        }
        ConfCommand::Unset { file, write, key } => {
            let mut report = ConfReport::new("conf unset", &file.file, &key);
            let edit = Edit::Remove {
                path: key_to_path(&key),
            };
            let result = edit_file(&file, &write, edit, &key, false, &mut report);
            finish(write.format, report, result)
        }
    }
}

/// Prints the report (JSON) or the text already printed, and the outcome.
fn finish(
    format: Format,
    mut report: ConfReport,
    result: Result<(Exit, String), Failure>,
) -> Result<Exit, Failure> {
    let (exit, text) = match &result {
        Ok((exit, text)) => (*exit, Some(text.clone())),
        Err(f) => {
            report.error = Some(f.message.clone());
            (f.exit, None)
        }
    };
    report.exit_code = exit.code();
    report.outcome = match (exit, report.written) {
        (Exit::Ok, true) => "done",
        (Exit::Ok, false) if report.command == "conf get" => "found",
        (Exit::Ok, false) => "unchanged",
        (Exit::Pending, _) => "pending",
        (Exit::NotSet, _) => "not-set",
        _ => "error",
    }
    .to_string();
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("the report serializes")
        ),
        Format::Text => {
            if let Some(text) = text {
                print!("{text}");
            }
        }
    }
    result.map(|(exit, _)| exit)
}

/// PE declares `send_analytics_data` Boolean in every profile, so any other
/// value there (`fals`, the string `"false"`, an object) makes catalog
/// compilation fail on every infrastructure node, which `check` only reports
/// afterwards. `conf set` refuses it unless `--force` is given, and warns
/// when it is.
fn guard_analytics_value(key: &str, value: &str, force: bool) -> Result<(), Failure> {
    let Ok(mut empty) = Document::parse_with("", Syntax::Conf, EditRules::Improved) else {
        return Ok(());
    };
    // A key that does not parse is reported by the edit itself.
    let Ok(expr) = empty.parse_path(&key_to_path(key), Syntax::Conf) else {
        return Ok(());
    };
    if expr.elements.first().map(String::as_str) != Some(ANALYTICS_KEY) {
        return Ok(());
    }
    let shown = value.trim();
    let problem = if expr.elements.len() > 1 {
        format!("setting {key} would make {ANALYTICS_KEY} an object, not a boolean")
    } else if shown == "true" || shown == "false" {
        return Ok(());
    } else if shown.starts_with('"') {
        format!(
            "{shown} is a quoted string, not a boolean: {ANALYTICS_KEY} must be true or false, \
unquoted"
        )
    } else {
        format!("{shown} is not a boolean: {ANALYTICS_KEY} must be true or false")
    };
    let consequence = "PE declares the parameter Boolean, so compiling the catalog of every \
infrastructure node would fail";
    if force {
        eprintln!("warning: {problem}; {consequence} (written anyway: --force)");
        Ok(())
    } else {
        Err(Failure::error(format!(
            "refusing to write: {problem}; {consequence}. Give true or false, or --force to \
write it anyway"
        )))
    }
}

fn get(
    file: &FileArg,
    key: &str,
    show_secrets: bool,
    report: &mut ConfReport,
) -> Result<(Exit, String), Failure> {
    let path = &file.file;
    let text = TextFile::read(path).map_err(Failure::error)?;
    let mut doc = Document::parse_owned(text.text, syntax_for(path), EditRules::Improved)
        .map_err(|e| Failure::error(located(path, &e)))?;
    let expr = doc
        .parse_path(&key_to_path(key), doc.syntax())
        .map_err(Failure::error)?;
    // The value PE would see: includes followed, substitutions resolved
    // (the document as parsed above: one parse).
    let resolved = resolve::document_at_key(&doc, path, &expr.elements[0])
        .map_err(|e| Failure::error(format!("{}: cannot resolve the file: {e}", path.display())))?;
    let value = resolved.get(&expr.elements);
    let Some(v) = value.as_ref() else {
        report.set = Some(false);
        return Err(Failure {
            message: format!("{}: {key} is not set", path.display()),
            exit: Exit::NotSet,
        });
    };
    report.set = Some(true);
    if show_secrets {
        report.value = Some(v.clone());
        let text = serde_json::to_string(v).expect("values serialize");
        return Ok((Exit::Ok, format!("{text}\n")));
    }
    // Secrets are masked wherever they sit: the key itself, keys inside an
    // object or an array of objects, a `${console_admin_password}` substitution.
    let shown = mask_resolved(&expr.elements, v, &secret_substitution_paths(&doc));
    if shown != *v {
        eprintln!("note: {key} holds a secret; pass --show-secrets to print it");
    }
    report.value = Some(shown.clone());
    let text = match &shown {
        Value::String(s) if s == REDACTED => REDACTED.to_string(),
        other => serde_json::to_string(other).expect("values serialize"),
    };
    Ok((Exit::Ok, format!("{text}\n")))
}

fn edit_file(
    file: &FileArg,
    write: &WriteArgs,
    edit: Edit,
    key: &str,
    force: bool,
    report: &mut ConfReport,
) -> Result<(Exit, String), Failure> {
    let path = &file.file;
    let text = if write.stdout || write.dry_run {
        TextFile::read(path)
    } else {
        TextFile::read_for_edit(path)
    }
    .map_err(Failure::error)?;
    let planned = plan::apply(&text.text, syntax_for(path), std::slice::from_ref(&edit)).map_err(
        |e| match e {
            PlanError::Hocon(h) if h.is_syntax() => Failure::error(located(path, &h)),
            // The value of a secret key is never repeated, not even a bad one.
            PlanError::Hocon(HoconError::BadValue { msg, .. }) if is_secret_key(key) => {
                Failure::error(format!("invalid value for {key}: {msg}"))
            }
            other => Failure::error(format!("{}: {other}", path.display())),
        },
    )?;
    // A value that parsed, but that PE cannot use: before anything is shown
    // or written, in every mode (a dry run predicts the real run).
    if let Edit::Set { value, .. } = &edit {
        guard_analytics_value(key, value, force)?;
    }
    let changed = planned.changed();
    // The value as given is echoed (message, JSON `changes`) with its secrets masked.
    let shown_edit = match &edit {
        Edit::Set { path, value } => Edit::Set {
            path: path.clone(),
            value: mask_value_text(&[key.to_string()], value),
        },
        other => other.clone(),
    };
    let what = match &shown_edit {
        Edit::Set { value, .. } => format!("set {key} to {value}"),
        Edit::Remove { .. } => format!("removed {key}"),
    };
    if changed {
        report.changes.push(shown_edit);
    }
    // The diff is shown by --dry-run and carried by the JSON report; on a
    // large file it costs as much as the edit, so only make it when used.
    if write.dry_run || write.format == Format::Json {
        report.diff = diff::unified(&path.display().to_string(), &planned.before, &planned.after);
    }
    let shown = path.display();
    if write.stdout {
        return Ok((Exit::Ok, planned.after.render()));
    }
    // Results (the diff, what was or would be done) go to stdout, in every
    // mode; warnings and errors to stderr.
    if write.dry_run {
        if changed {
            return Ok((
                Exit::Pending,
                format!(
                    "{}{shown}: would have {what}; nothing written\n",
                    report.diff
                ),
            ));
        }
        return Ok((
            Exit::Ok,
            format!("{shown}: nothing to change; nothing written\n"),
        ));
    }
    if !changed {
        return Ok((
            Exit::Ok,
            format!("{shown}: nothing to change; nothing written\n"),
        ));
    }
    text.ensure_writable().map_err(Failure::error)?;
    let mut message = String::new();
    if write.backup {
        let backup = text.backup(SystemTime::now()).map_err(Failure::error)?;
        message.push_str(&format!("backup: {}\n", backup.display()));
        report.backup = Some(backup.display().to_string());
    }
    let written = text.write(&planned.after.text()).map_err(Failure::error)?;
    report.written = true;
    for p in &written.removed_leftovers {
        message.push_str(&format!(
            "removed {}, left by an earlier run that was killed while writing\n",
            p.display()
        ));
    }
    message.push_str(&format!("{shown}: {what}\n"));
    Ok((Exit::Ok, message))
}
