//! Unified diffs of a document before and after an edit, with secrets
//! masked on both sides (line for line, so line numbers stay true).

use crate::hocon::Document;
use crate::peconf::secrets::masked_text;
use similar::TextDiff;

/// A unified diff (3 lines of context) from `before` to `after`, labelled
/// with `label`; empty when nothing changes.
pub fn unified(label: &str, before: &Document, after: &Document) -> String {
    let old = masked_text(before);
    let new = masked_text(after);
    if old == new {
        return if before.render() == after.render() {
            String::new()
        } else {
            format!("# {label}: only secret values change; the diff is not shown\n")
        };
    }
    TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(3)
        .header(label, label)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_masks_secrets_and_shows_the_change() {
        let before =
            Document::parse("{\n  \"console_admin_password\": \"hunter2\"\n  a: 1\n}\n").unwrap();
        let mut after = before.clone();
        after.set("a", "2").unwrap();
        let diff = unified("pe.conf", &before, &after);
        assert!(diff.contains("-  a: 1\n+  a: 2\n"), "{diff}");
        assert!(diff.contains("<redacted>"));
        assert!(!diff.contains("hunter2"));
        assert_eq!(unified("pe.conf", &before, &before), "");
        let mut secret = before.clone();
        secret
            .set("\"console_admin_password\"", "\"hunter3\"")
            .unwrap();
        let note = unified("pe.conf", &before, &secret);
        assert!(
            note.contains("only secret values change") && !note.contains("hunter"),
            "{note}"
        );
    }
}
