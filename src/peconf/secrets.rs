//! Masking of secrets (passwords, tokens, private keys) before any text of a
//! pe.conf is shown: diffs, lint messages, JSON reports.

use crate::hocon::{Document, FieldInfo};

/// What a masked value is shown as.
pub const REDACTED: &str = "<redacted>";

/// Whether a key names a secret: `console_admin_password` and anything whose
/// name mentions a password, secret, token or private key.
pub fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    [
        "password",
        "passwd",
        "secret",
        "token",
        "private_key",
        "privatekey",
    ]
    .iter()
    .any(|word| key.contains(word))
}

/// Whether a value's text looks like a PEM block (a key or certificate).
pub fn looks_like_pem(text: &str) -> bool {
    text.contains("-----BEGIN ")
}

/// Whether a field's value must be masked.
pub fn is_secret_field(field: &FieldInfo, value_text: &str) -> bool {
    field.path.iter().any(|k| is_secret_key(k)) || looks_like_pem(value_text)
}

/// The document's text with every secret value replaced by `<redacted>`,
/// line for line (a value over n lines becomes n `<redacted>` lines), so a
/// diff of two masked texts has the same line numbers as the real one.
pub fn masked_text(doc: &Document) -> String {
    let text = doc.render();
    let mut spans: Vec<(usize, usize)> = doc
        .fields()
        .iter()
        .filter(|f| is_secret_field(f, &text[f.value_span.0..f.value_span.1]))
        .map(|f| f.value_span)
        .collect();
    spans.sort();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in spans {
        if start < at {
            continue; // inside a value already masked
        }
        out.push_str(&text[at..start]);
        out.push_str(&mask_lines(&text[start..end]));
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// Masks any text that may contain a secret value (for messages quoting a
/// document): PEM blocks are replaced whole.
pub fn mask_value_text(key_path: &[String], value_text: &str) -> String {
    if key_path.iter().any(|k| is_secret_key(k)) || looks_like_pem(value_text) {
        mask_lines(value_text)
    } else {
        value_text.to_string()
    }
}

fn mask_lines(value: &str) -> String {
    value
        .split_inclusive('\n')
        .map(|line| {
            let ending = if line.ends_with("\r\n") {
                "\r\n"
            } else if line.ends_with('\n') {
                "\n"
            } else {
                ""
            };
            format!("{REDACTED}{ending}")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_line_for_line() {
        let text = "{\n  \"console_admin_password\": \"hunter2\"\n  key: \"\"\"-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----\"\"\"\n  \"puppet_enterprise::x_token\": [\"t1\"]\n  host: \"m.example\"\n}\n";
        let doc = Document::parse(text).unwrap();
        let masked = masked_text(&doc);
        assert_eq!(
            masked,
            "{\n  \"console_admin_password\": <redacted>\n  key: <redacted>\n<redacted>\n<redacted>\n  \"puppet_enterprise::x_token\": <redacted>\n  host: \"m.example\"\n}\n"
        );
        assert_eq!(masked.lines().count(), text.lines().count());
    }

    #[test]
    fn secret_key_names() {
        for k in [
            "console_admin_password",
            "puppet_enterprise::puppetdb_database_password",
            "r10k_private_key",
            "x_token",
            "SAML_SECRET",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in ["puppet_enterprise::send_analytics_data", "console_host"] {
            assert!(!is_secret_key(k), "{k}");
        }
    }
}
