//! `pe-analytics status`: the library collects the rows
//! ([`crate::procedure::status`]); this parses and renders. `report` calls
//! [`collect`] for its opt-out state.

use super::args::{Format, StatusArgs};
use crate::output::render;
use crate::output::report::StatusRow;
use crate::output::Exit;
use crate::procedure::status::{self, StatusOptions};
use crate::procedure::{Context, Outcome};
use std::path::PathBuf;

/// The rows of the table, the exit code and the error, if any.
pub fn collect(a: &StatusArgs) -> (Vec<StatusRow>, Exit, Option<String>) {
    let ctx = Context::new(
        a.classifier.connection.requested(),
        a.classifier.connection.certname.as_deref(),
    );
    let default = PathBuf::from(crate::peconf::DEFAULT_PE_CONF);
    let pe_conf = match &a.layer.pe_conf {
        Some(p) => Some(p.clone()),
        None => default.exists().then_some(default),
    };
    let o = StatusOptions {
        pe_conf,
        pe_conf_explicit: a.layer.pe_conf.is_some(),
        classifier: a.classifier.classifier || ctx.classifier_configured(),
        nodes: a.nodes.clone(),
        marker_file: a.marker_file.clone(),
        pe_version: a.pe_version.clone(),
        pe_version_file: a.pe_version_file.clone(),
        puppetdb_url: a.puppetdb_url.clone(),
        server: a.classifier.connection.server.clone(),
    };
    status::collect(&ctx, &o)
}

pub fn status(a: &StatusArgs) -> Exit {
    let (rows, exit, error) = collect(a);
    let o = Outcome::status(rows, exit, error);
    match a.output.format {
        Format::Json => {
            println!("{}", render::json(&o));
            if let Some(e) = &o.error {
                eprintln!("error: {e}");
            }
        }
        Format::Text => {
            let t = render::text(&o, false);
            print!("{}", t.out);
            eprint!("{}", t.err);
        }
    }
    exit
}
