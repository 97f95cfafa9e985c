//! Unified diffs of a document before and after an edit, with secrets
//! masked on both sides (line for line, so line numbers stay true).

use crate::hocon::Document;
use crate::peconf::secrets::masked_range;
use similar::TextDiff;

/// A unified diff (3 lines of context) from `before` to `after`, labelled
/// with `label`; empty when nothing changes.
pub fn unified(label: &str, before: &Document, after: &Document) -> String {
    let (old, new) = (before.text(), after.text());
    if old == new {
        return String::new();
    }
    // The lines both texts share at their ends are set aside first; only
    // the lines around the change are masked and diffed.
    let (start, end, lines_before) = shared_ends(&old, &new);
    let old_middle = masked_range(before, start, old.len() - end);
    let new_middle = masked_range(after, start, new.len() - end);
    if old_middle == new_middle {
        return format!("# {label}: only secret values change; the diff is not shown\n");
    }
    diff_middles(label, &old_middle, &new_middle, lines_before)
}

/// The unified diff of the middles of two texts whose first
/// `lines_before` lines (and last lines) are the same.
fn diff_middles(label: &str, old: &str, new: &str, lines_before: usize) -> String {
    let diff = TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(CONTEXT)
        .header(label, label)
        .to_string();
    if lines_before == 0 {
        return diff;
    }
    diff.split_inclusive('\n')
        .map(|line| match line.strip_prefix("@@ -") {
            Some(rest) => shift_hunk_header(rest, lines_before).unwrap_or_else(|| line.to_string()),
            None => line.to_string(),
        })
        .collect()
}

/// Lines of context around each change.
const CONTEXT: usize = 3;

/// The unified diff of two texts. The lines both share at the start and at
/// the end (all but a few, for one edit in a large file) are set aside
/// first, apart from the context lines, and the hunks' line numbers moved
/// by them: the diff algorithm then only sees the lines around the change.
#[cfg(test)]
fn unified_texts(label: &str, old: &str, new: &str) -> String {
    let (start, end, lines_before) = shared_ends(old, new);
    diff_middles(
        label,
        &old[start..old.len() - end],
        &new[start..new.len() - end],
        lines_before,
    )
}

/// How many bytes at the start and at the end of both texts can be set
/// aside (whole lines, leaving [`CONTEXT`] lines next to the change), and
/// how many lines the start holds.
fn shared_ends(old: &str, new: &str) -> (usize, usize, usize) {
    let (a, b) = (old.as_bytes(), new.as_bytes());
    let prefix = crate::hocon::semantic::common_prefix(a, b);
    // Back to the start of the line where they part, then CONTEXT lines more.
    let mut start = a[..prefix]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |i| i + 1);
    for _ in 0..CONTEXT {
        if start == 0 {
            break;
        }
        start = a[..start - 1]
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |i| i + 1);
    }
    let max_suffix = a.len().min(b.len()) - start;
    let suffix = crate::hocon::semantic::common_suffix(&a[start..], &b[start..]).min(max_suffix);
    // Forward to the start of a line, then CONTEXT lines more.
    let mut end_at = a.len() - suffix;
    if end_at > 0 && a[end_at - 1] != b'\n' {
        end_at = a[end_at..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(a.len(), |i| end_at + i + 1);
    }
    for _ in 0..CONTEXT {
        if end_at == a.len() {
            break;
        }
        end_at = a[end_at..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(a.len(), |i| end_at + i + 1);
    }
    let end = a.len() - end_at;
    let lines_before = memchr::memchr_iter(b'\n', &a[..start]).count();
    (start, end, lines_before)
}

/// `-a,b +c,d @@...` with both starts moved down by `by` lines.
fn shift_hunk_header(rest: &str, by: usize) -> Option<String> {
    let (ranges, tail) = rest.split_once(" @@")?;
    let (old, new) = ranges.split_once(" +")?;
    let shift = |range: &str| -> Option<String> {
        let (start, len) = match range.split_once(',') {
            Some((s, l)) => (s.parse::<usize>().ok()?, Some(l)),
            None => (range.parse::<usize>().ok()?, None),
        };
        Some(match len {
            Some(l) => format!("{},{l}", start + by),
            None => format!("{}", start + by),
        })
    };
    Some(format!("@@ -{} +{} @@{tail}", shift(old)?, shift(new)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(label: &str, old: &str, new: &str) -> String {
        TextDiff::from_lines(old, new)
            .unified_diff()
            .context_radius(CONTEXT)
            .header(label, label)
            .to_string()
    }

    #[test]
    fn setting_shared_lines_aside_changes_nothing() {
        let lines: Vec<String> = (0..40).map(|i| format!("line {i}\n")).collect();
        let base: String = lines.concat();
        let mut cases = Vec::new();
        for at in [0, 1, 2, 3, 4, 10, 36, 37, 38, 39, 40] {
            let mut inserted = lines.clone();
            inserted.insert(at, "new\n".into());
            cases.push((base.clone(), inserted.concat()));
            let mut removed = lines.clone();
            removed.remove(at.min(39));
            cases.push((base.clone(), removed.concat()));
            let mut changed = lines.clone();
            changed[at.min(39)] = "changed\n".into();
            cases.push((base.clone(), changed.concat()));
        }
        let mut two = lines.clone();
        two[5] = "x\n".into();
        two[30] = "y\n".into();
        cases.push((base.clone(), two.concat()));
        cases.push((base.clone(), format!("{base}tail")));
        cases.push((format!("{base}tail"), format!("{base}tail2")));
        cases.push(("a\r\nb\r\n".into(), "a\r\nc\r\n".into()));
        cases.push((String::new(), "x\n".into()));
        for (old, new) in cases {
            assert_eq!(
                unified_texts("f", &old, &new),
                full("f", &old, &new),
                "{new:?}"
            );
        }
    }

    #[test]
    fn masking_a_range_masks_those_lines_of_the_whole() {
        use crate::peconf::secrets::{masked_range, masked_text};
        let mut text = String::from("{\n");
        for i in 0..300 {
            match i % 5 {
                0 => text.push_str(&format!("  \"db_password{i}\": \"S{i}\"\n")),
                1 => text.push_str(&format!(
                    "  \"o{i}\": {{ \"token\": \"T{i}\", \"x\": [1] }}\n"
                )),
                2 => text.push_str(&format!(
                    "  k{i} = \"\"\"-----BEGIN KEY-----\nabc\n-----END\"\"\"\n"
                )),
                3 => text.push_str(&format!("  plain{i}: \"v{i}\"\n")),
                _ => text.push_str("  # note\n"),
            }
        }
        text.push_str("}\n");
        let doc = Document::parse(&text).unwrap();
        let whole = masked_text(&doc);
        let whole_lines: Vec<&str> = whole.split_inclusive('\n').collect();
        let starts: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        for (a, &from) in starts.iter().enumerate().step_by(7) {
            for (b, &to) in starts.iter().enumerate().skip(a).step_by(11) {
                assert_eq!(
                    masked_range(&doc, from, to),
                    whole_lines[a..b].concat(),
                    "{from}..{to}"
                );
            }
        }
        assert!(!whole.contains("S1\"") && !whole.contains("T1\"") && !whole.contains("abc"));
    }

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
