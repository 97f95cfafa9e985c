//! pe.conf and the analytics setting in it: where the file is, what it says
//! (lint), what opting out or in changes (plan), and what must never be shown
//! (secrets).

pub mod lint;
pub mod plan;
pub mod secrets;

use crate::hocon::{Document, EditRules, HoconError, Syntax};
use lint::Analysis;
use plan::{Edit, PlanError, Planned};
use std::path::Path;

/// Where PE keeps pe.conf on the primary server (PE's installer writes it
/// there; `puppet infrastructure configure` and the `puppet_enterprise::data`
/// Hiera backend read it from there).
pub const DEFAULT_PE_CONF: &str = "/etc/puppetlabs/enterprise/conf.d/pe.conf";

/// The analytics setting's key, as PE looks it up.
pub const ANALYTICS_KEY: &str = "puppet_enterprise::send_analytics_data";

/// The same key as a HOCON path expression (quoted, because of the `::`).
pub const ANALYTICS_PATH: &str = "\"puppet_enterprise::send_analytics_data\"";

/// The nested spelling people write by mistake, which PE never reads.
pub const NESTED_ANALYTICS_PATH: &str = "puppet_enterprise.send_analytics_data";

/// The HOCON dialect ruby-hocon's `parse_file` would use for `path`: JSON for
/// `.json` files, HOCON for everything else.
pub fn syntax_for(path: &Path) -> Syntax {
    match path.extension().and_then(|e| e.to_str()) {
        Some(ext) if ext.eq_ignore_ascii_case("json") => Syntax::Json,
        _ => Syntax::Conf,
    }
}

/// Turns a KEY argument into a HOCON path expression. Keys are path
/// expressions as ruby-hocon takes them (`'"puppet_enterprise::x".y'`); for
/// convenience, when the argument has no double quote at all, each
/// `.`-separated element that contains `:` is quoted, so
/// `puppet_enterprise::send_analytics_data` means the single quoted key.
pub fn key_to_path(key: &str) -> String {
    if key.contains('"') || !key.contains(':') {
        return key.to_string();
    }
    key.split('.')
        .map(|element| {
            if element.contains(':') {
                format!("\"{element}\"")
            } else {
                element.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// A pe.conf parsed once, and what it says about analytics. One parse
/// serves every step of a command: the lint (here), the plan and its edits,
/// the diff (the plan keeps the document before) and the check (which parses
/// only the text to be written).
#[derive(Clone, Debug)]
pub struct PeConf {
    document: Document,
    analysis: Analysis,
}

/// A planned change of a pe.conf, with the analysis before and after.
#[derive(Clone, Debug)]
pub struct PeConfChange {
    pub before: Analysis,
    pub after: Analysis,
    pub planned: Planned,
}

impl PeConfChange {
    fn new(before: Analysis, planned: Planned) -> PeConfChange {
        let after = if planned.changed() {
            lint::analyze(&planned.after)
        } else {
            before.clone()
        };
        PeConfChange {
            before,
            after,
            planned,
        }
    }

    pub fn changed(&self) -> bool {
        self.planned.changed()
    }
}

impl PeConf {
    /// Parses `text` (the dialect `syntax`) and analyses it.
    pub fn parse(text: &str, syntax: Syntax) -> Result<PeConf, HoconError> {
        Ok(PeConf::from_document(Document::parse_with(
            text,
            syntax,
            EditRules::Improved,
        )?))
    }

    /// [`PeConf::parse`] on a text the caller gives away (kept, not copied).
    pub fn parse_owned(text: String, syntax: Syntax) -> Result<PeConf, HoconError> {
        Ok(PeConf::from_document(Document::parse_owned(
            text,
            syntax,
            EditRules::Improved,
        )?))
    }

    pub fn from_document(document: Document) -> PeConf {
        let analysis = lint::analyze(&document);
        PeConf { document, analysis }
    }

    pub fn document(&self) -> &Document {
        &self.document
    }

    pub fn analysis(&self) -> &Analysis {
        &self.analysis
    }

    /// Plans `opt-out` ([`plan::opt_out_document`]).
    pub fn opt_out(self) -> Result<PeConfChange, PlanError> {
        let planned = plan::opt_out_analysed(self.document, &self.analysis)?;
        Ok(PeConfChange::new(self.analysis, planned))
    }

    /// Plans `opt-in` ([`plan::opt_in_edit`]).
    pub fn opt_in(self, explicit: bool) -> Result<PeConfChange, PlanError> {
        self.apply(&[plan::opt_in_edit(explicit)])
    }

    /// Plans any edits ([`plan::apply_to`]).
    pub fn apply(self, edits: &[Edit]) -> Result<PeConfChange, PlanError> {
        let planned = plan::apply_to(self.document, edits)?;
        Ok(PeConfChange::new(self.analysis, planned))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_with_colons_are_quoted() {
        assert_eq!(key_to_path(ANALYTICS_KEY), ANALYTICS_PATH);
        assert_eq!(
            key_to_path("puppet_enterprise::profile::master::java_args.Xmx"),
            "\"puppet_enterprise::profile::master::java_args\".Xmx"
        );
        assert_eq!(key_to_path("\"a::b\".c"), "\"a::b\".c");
        assert_eq!(key_to_path("a.b"), "a.b");
    }
}
