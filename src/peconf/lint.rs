//! What a pe.conf says about analytics, as PE reads it, and everything in it
//! that could mislead a reader or break PE.
//!
//! PE reads pe.conf through its `puppet_enterprise::data` Hiera backend, which
//! looks up the single quoted key `"puppet_enterprise::send_analytics_data"`
//! at the top level. A nested `puppet_enterprise { send_analytics_data = .. }`
//! or a dotted `puppet_enterprise.send_analytics_data` is a different key that
//! PE never reads, and the profiles declare the parameter `Boolean`, so the
//! string `"false"` fails catalog compilation.

use super::ANALYTICS_KEY;
use crate::hocon::{locate_all, Document, FieldInfo, FieldRef, ValueKind};
use serde::Serialize;

/// What PE would make of the file's analytics setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// The key is the boolean `false`: collection is off.
    OptedOut,
    /// The key is the boolean `true`: collection is on.
    OptedIn,
    /// The key is not set: PE's default, collection on.
    Default,
    /// The key has a value PE cannot use (a string, a number, ...).
    Invalid,
    /// The file alone cannot tell (a substitution, or an include).
    Unknown,
}

impl State {
    pub fn describe(self) -> &'static str {
        match self {
            State::OptedOut => "opted out (send_analytics_data is false)",
            State::OptedIn => "opted in (send_analytics_data is true)",
            State::Default => "not set (PE's default: analytics data is sent)",
            State::Invalid => "invalid (PE cannot use this value)",
            State::Unknown => "cannot tell from this file alone",
        }
    }
}

/// Kinds of findings, stable names for JSON output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    /// `"false"` or `"true"` as a string.
    StringBoolean,
    /// Any other value that is not a boolean.
    NotBoolean,
    /// `puppet_enterprise { send_analytics_data = ... }`.
    NestedKey,
    /// `puppet_enterprise.send_analytics_data: ...`.
    DottedKey,
    /// The key inside some other object, where PE does not look.
    MisplacedKey,
    /// An earlier setting that a later one overrides.
    Duplicate,
    /// The value comes from a substitution.
    Substitution,
    /// An include may set the value.
    Include,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: Code,
    pub message: String,
    pub line: usize,
    pub column: usize,
    /// Whether `opt-out` fixes it.
    pub fixed_by_opt_out: bool,
}

/// The analytics setting of one pe.conf.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Analysis {
    pub state: State,
    /// The effective value as written (for example `false`, `"false"`).
    pub value: Option<String>,
    pub line: Option<usize>,
    pub findings: Vec<Finding>,
    /// Whether some field sets `puppet_enterprise.send_analytics_data` or
    /// something under it (nested or dotted), which `opt-out` removes.
    #[serde(skip)]
    pub nested_setting: bool,
}

impl Analysis {
    pub fn opted_out(&self) -> bool {
        self.state == State::OptedOut
    }
}

/// The part of the key that every spelling PE could be misled by contains,
/// unless written with escapes.
const KEY_TAIL: &str = "send_analytics_data";

/// Whether a field is one the lint looks at: any key that ends in, or lies
/// under, the analytics key, and the nested `puppet_enterprise` spelling.
fn relevant(f: &FieldRef, finder: &memchr::memmem::Finder) -> bool {
    f.path.iter().any(|k| finder.find(k.as_bytes()).is_some())
}

/// The fields the lint looks at, in document order. Nested values kept
/// lazily are only read when their text could hold such a key (the key's
/// name, or an escape that could spell it).
fn relevant_fields(doc: &Document) -> Vec<FieldInfo> {
    let mut fields = Vec::new();
    let finder = memchr::memmem::Finder::new(KEY_TAIL);
    let could_hold = |text: &str| {
        finder.find(text.as_bytes()).is_some() || memchr::memchr(b'\\', text.as_bytes()).is_some()
    };
    doc.walk_fields(&could_hold, &mut |f| {
        if relevant(&f, &finder) {
            fields.push(f.to_info());
        }
    });
    fields
}

/// Reads the analytics setting out of a parsed pe.conf. Linear in the size
/// of the document: one walk that skips what cannot matter, and locations
/// from one line index.
pub fn analyze(doc: &Document) -> Analysis {
    let text = doc.text();
    let fields = relevant_fields(doc);
    let includes = doc.includes();
    // Every place a finding may point at, located in one pass.
    let places = locate_all(
        &text,
        fields
            .iter()
            .flat_map(|f| [f.key_offset, f.value_span.0])
            .chain(includes.iter().map(|i| i.offset)),
    );
    let at = |offset: usize| places[&offset];
    let value_of = |f: &FieldInfo| text[f.value_span.0..f.value_span.1].to_string();
    let mut findings = Vec::new();

    let settings: Vec<&FieldInfo> = fields
        .iter()
        .filter(|f| !f.in_array && f.path.len() == 1 && f.path[0] == ANALYTICS_KEY)
        .collect();
    let below: Vec<&FieldInfo> = fields
        .iter()
        .filter(|f| {
            !f.in_array
                && f.path.len() > 1
                && f.path[0] == ANALYTICS_KEY
                && f.key_len == f.path.len()
        })
        .collect();

    for f in &fields {
        let nested = f.path.len() == 2
            && f.path[0] == "puppet_enterprise"
            && f.path[1] == "send_analytics_data";
        let loc = at(f.key_offset);
        if nested && f.key_len == 1 {
            findings.push(Finding {
                code: Code::NestedKey,
                message: format!(
                    "`puppet_enterprise {{ send_analytics_data = {} }}` is a nested key that PE never reads; PE looks up the single quoted key \"{ANALYTICS_KEY}\"",
                    value_of(f)
                ),
                line: loc.line,
                column: loc.col,
                fixed_by_opt_out: true,
            });
        } else if nested {
            findings.push(Finding {
                code: Code::DottedKey,
                message: format!(
                    "`{}` is a dotted path (a nested key) that PE never reads; PE looks up the single quoted key \"{ANALYTICS_KEY}\"",
                    f.key_text
                ),
                line: loc.line,
                column: loc.col,
                fixed_by_opt_out: true,
            });
        } else if f.path.len() > 1 && f.path.last().is_some_and(|k| k == ANALYTICS_KEY) {
            findings.push(Finding {
                code: Code::MisplacedKey,
                message: format!(
                    "the key is set inside `{}`, where PE does not look; only the top-level key counts",
                    f.path[..f.path.len() - 1].join(".")
                ),
                line: loc.line,
                column: loc.col,
                fixed_by_opt_out: false,
            });
        }
    }

    let effective = settings.last().copied();
    if let Some(last) = effective {
        let last_loc = at(last.key_offset);
        for earlier in &settings[..settings.len() - 1] {
            let loc = at(earlier.key_offset);
            findings.push(Finding {
                code: Code::Duplicate,
                message: format!(
                    "line {} sets the key to {}, but line {} sets it again to {}, which wins",
                    loc.line,
                    value_of(earlier),
                    last_loc.line,
                    value_of(last)
                ),
                line: loc.line,
                column: loc.col,
                fixed_by_opt_out: true,
            });
        }
    }
    for f in &below {
        let loc = at(f.key_offset);
        findings.push(Finding {
            code: Code::NotBoolean,
            message: format!("`{}` makes the key an object, not a boolean", f.key_text),
            line: loc.line,
            column: loc.col,
            fixed_by_opt_out: true,
        });
    }

    let mut state = match effective {
        None => State::Default,
        Some(f) => {
            let value = value_of(f);
            let loc = at(f.value_span.0);
            let mut finding = |code, message: String| {
                findings.push(Finding {
                    code,
                    message,
                    line: loc.line,
                    column: loc.col,
                    fixed_by_opt_out: true,
                })
            };
            if f.separator.as_deref() == Some("+=") {
                finding(
                    Code::NotBoolean,
                    "`+=` appends to a list; the key needs the boolean false or true".to_string(),
                );
                State::Invalid
            } else {
                match f.value_kind {
                    ValueKind::Boolean if value == "false" => State::OptedOut,
                    ValueKind::Boolean => State::OptedIn,
                    ValueKind::String if value == "\"false\"" || value == "\"true\"" => {
                        finding(
                            Code::StringBoolean,
                            format!(
                                "the value is the string {value}, not a boolean; PE declares the parameter Boolean, so catalog compilation fails. Write {} without quotes",
                                value.trim_matches('"')
                            ),
                        );
                        State::Invalid
                    }
                    ValueKind::Substitution => {
                        finding(
                            Code::Substitution,
                            format!("the value comes from the substitution {value}, which this file alone cannot resolve"),
                        );
                        State::Unknown
                    }
                    _ => {
                        finding(
                            Code::NotBoolean,
                            format!("the value {value} is not a boolean; write false or true without quotes"),
                        );
                        State::Invalid
                    }
                }
            }
        }
    };
    if !below.is_empty() && state != State::Unknown {
        state = State::Invalid;
    }

    let setting_offset = effective.map(|f| f.key_offset);
    for include in includes {
        if setting_offset.is_none_or(|s| include.offset > s) {
            let loc = at(include.offset);
            findings.push(Finding {
                code: Code::Include,
                message: format!(
                    "`{}` comes {} and may set the key; this file alone cannot tell",
                    include.text,
                    if setting_offset.is_some() {
                        "after the setting"
                    } else {
                        "in this file"
                    }
                ),
                line: loc.line,
                column: loc.col,
                fixed_by_opt_out: false,
            });
            if matches!(state, State::OptedOut | State::OptedIn | State::Default) {
                state = State::Unknown;
            }
        }
    }

    findings.sort_by_key(|f| (f.line, f.column));
    let nested_setting = fields.iter().any(|f| {
        f.path.len() >= 2 && f.path[0] == "puppet_enterprise" && f.path[1] == "send_analytics_data"
    });
    Analysis {
        nested_setting,
        state,
        value: effective.map(value_of),
        line: effective.map(|f| at(f.key_offset).line),
        findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analysis(text: &str) -> Analysis {
        analyze(&Document::parse(text).unwrap())
    }

    #[test]
    fn states() {
        let k = "\"puppet_enterprise::send_analytics_data\"";
        assert_eq!(analysis(&format!("{k}: false\n")).state, State::OptedOut);
        assert_eq!(analysis(&format!("{k}: true\n")).state, State::OptedIn);
        assert_eq!(analysis("a: 1\n").state, State::Default);
        assert_eq!(analysis(&format!("{k}: \"false\"\n")).state, State::Invalid);
        assert_eq!(analysis(&format!("{k}: 0\n")).state, State::Invalid);
        assert_eq!(analysis(&format!("{k}: ${{?X}}\n")).state, State::Unknown);
        assert_eq!(
            analysis(&format!("{k}: false\ninclude \"x\"\n")).state,
            State::Unknown
        );
        assert_eq!(
            analysis(&format!("include \"x\"\n{k}: false\n")).state,
            State::OptedOut
        );
        assert_eq!(analysis(&format!("{k} += false\n")).state, State::Invalid);
    }

    #[test]
    fn findings_are_located() {
        let a = analysis("{\n  \"puppet_enterprise::send_analytics_data\": true\n  puppet_enterprise { send_analytics_data = false }\n  \"puppet_enterprise::send_analytics_data\": \"false\"\n}\n");
        let codes: Vec<(Code, usize)> = a.findings.iter().map(|f| (f.code, f.line)).collect();
        assert_eq!(
            codes,
            vec![
                (Code::Duplicate, 2),
                (Code::NestedKey, 3),
                (Code::StringBoolean, 4)
            ]
        );
        assert_eq!(a.state, State::Invalid);
    }
}
