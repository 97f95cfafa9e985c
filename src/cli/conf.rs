//! `conf get`, `conf set`, `conf unset`: any key of a HOCON file, edited as
//! ruby-hocon edits it.

use super::args::{ConfCommand, FileArg, WriteArgs};
use super::pe_conf::located;
use super::Failure;
use crate::files::TextFile;
use crate::hocon::semantic::{resolve_file, value_at};
use crate::hocon::{Document, EditRules, HoconError};
use crate::output::{diff, Exit};
use crate::peconf::plan::{self, Edit, PlanError};
use crate::peconf::secrets::{is_secret_key, looks_like_pem, REDACTED};
use crate::peconf::{key_to_path, syntax_for};
use std::time::SystemTime;

pub fn run(command: ConfCommand) -> Result<Exit, Failure> {
    match command {
        ConfCommand::Get {
            file,
            show_secrets,
            key,
        } => get(&file, &key, show_secrets),
        ConfCommand::Set {
            file,
            write,
            key,
            value,
        } => edit(
            &file,
            &write,
            Edit::Set {
                path: key_to_path(&key),
                value,
            },
            &key,
        ),
        ConfCommand::Unset { file, write, key } => edit(
            &file,
            &write,
            Edit::Remove {
                path: key_to_path(&key),
            },
            &key,
        ),
    }
}

fn get(file: &FileArg, key: &str, show_secrets: bool) -> Result<Exit, Failure> {
    let path = &file.file;
    let text = TextFile::read(path).map_err(Failure::error)?;
    let mut doc = Document::parse_with(&text.text, syntax_for(path), EditRules::Improved)
        .map_err(|e| Failure::error(located(path, &e)))?;
    let expr = doc
        .parse_path(&key_to_path(key), doc.syntax())
        .map_err(Failure::error)?;
    // The value PE would see: includes followed, substitutions resolved.
    let value = resolve_file(path)
        .map_err(|e| Failure::error(format!("{}: cannot resolve the file: {e}", path.display())))?;
    match value_at(&value, &expr.elements) {
        None => Err(Failure {
            message: format!("{}: {key} is not set", path.display()),
            exit: Exit::NotSet,
        }),
        Some(v) => {
            let text = serde_json::to_string(v).expect("values serialize");
            let secret = expr.elements.iter().any(|k| is_secret_key(k)) || looks_like_pem(&text);
            if secret && !show_secrets {
                println!("{REDACTED}");
                eprintln!("note: {key} holds a secret; pass --show-secrets to print it");
            } else {
                println!("{text}");
            }
            Ok(Exit::Ok)
        }
    }
}

fn edit(file: &FileArg, write: &WriteArgs, edit: Edit, key: &str) -> Result<Exit, Failure> {
    let path = &file.file;
    let text = TextFile::read(path).map_err(Failure::error)?;
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
    let changed = planned.changed();
    let what = match &edit {
        Edit::Set { value, .. } => format!("set {key} to {}", shown_value(key, value)),
        Edit::Remove { .. } => format!("removed {key}"),
    };
    if write.stdout {
        print!("{}", planned.after.render());
        return Ok(Exit::Ok);
    }
    if write.dry_run {
        print!(
            "{}",
            diff::unified(&path.display().to_string(), &planned.before, &planned.after)
        );
        if changed {
            eprintln!("{}: would have {what}; nothing written", path.display());
            return Ok(Exit::Pending);
        }
        eprintln!("{}: nothing to change", path.display());
        return Ok(Exit::Ok);
    }
    if !changed {
        println!("{}: nothing to change; nothing written", path.display());
        return Ok(Exit::Ok);
    }
    text.ensure_writable().map_err(Failure::error)?;
    if write.backup {
        let backup = text.backup(SystemTime::now()).map_err(Failure::error)?;
        println!("backup: {}", backup.display());
    }
    text.write(&planned.after.render())
        .map_err(Failure::error)?;
    println!("{}: {what}", path.display());
    Ok(Exit::Ok)
}

/// A value as it may be shown in a message: masked for secret keys.
fn shown_value(key: &str, value: &str) -> String {
    if is_secret_key(key) || looks_like_pem(value) {
        REDACTED.to_string()
    } else {
        value.to_string()
    }
}
