//! Secrets (passwords, tokens, private keys) and how they are masked before
//! any text is shown: diffs, lint messages, `conf get`, JSON reports, URLs in
//! errors. One predicate, [`is_secret_key`], decides everywhere (pe.conf keys,
//! classifier parameters, URL query parameters).

use crate::hocon::{Document, FieldInfo, ValueKind};
use serde_json::Value;

/// What a masked value is shown as.
pub const REDACTED: &str = "<redacted>";

/// Name fragments that make a key a secret wherever they appear, compared
/// with the key lowercased and stripped of separators (so `private_key`,
/// `private-key` and `privateKey` all match `privatekey`).
const SECRET_FRAGMENTS: [&str; 9] = [
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "credential",
    "pgpass",
    "privatekey",
    "apikey",
];

/// Words that make a key a secret when they stand alone between separators
/// (`db_pw`, `ldap.pass`): as fragments they would match too much (`pwd`
/// in `pwdgen`, `pass` in `bypass`).
const SECRET_WORDS: [&str; 3] = ["pw", "pwd", "pass"];

/// Whether a key (one path element, a classifier parameter, a URL query
/// parameter) names a secret: `console_admin_password`, `*_passphrase`,
/// `*_pw`, `api_key`, `credentials`, `pgpass`, `private-key`, anything
/// mentioning a password, secret, token or private key.
pub fn is_secret_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    let compact: String = lower.chars().filter(char::is_ascii_alphanumeric).collect();
    SECRET_FRAGMENTS.iter().any(|f| compact.contains(f))
        || lower
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|w| SECRET_WORDS.contains(&w))
}

/// A JSON value with every secret inside it masked: values under secret keys
/// (at any depth, in objects and in arrays of objects) and PEM blocks.
pub fn mask_json(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| {
                    let x = if is_secret_key(k) {
                        Value::String(REDACTED.into())
                    } else {
                        mask_json(x)
                    };
                    (k.clone(), x)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(mask_json).collect()),
        Value::String(s) if looks_like_pem(s) => Value::String(REDACTED.into()),
        other => other.clone(),
    }
}

/// `url` with its credentials masked: the user information
/// (`https://user:pass@host` becomes `https://<redacted>@host`) and the value
/// of every query parameter whose name is a secret (`?token=...`). Works on
/// text that does not parse as a URL, too.
pub fn mask_url(url: &str) -> String {
    let (head, rest) = match url.find("://") {
        Some(i) => url.split_at(i + 3),
        None => ("", url),
    };
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(auth_end);
    let authority = match authority.rfind('@') {
        Some(at) if !head.is_empty() => format!("{REDACTED}{}", &authority[at..]),
        _ => authority.to_string(),
    };
    let tail = match tail.find('?') {
        None => tail.to_string(),
        Some(q) => {
            let (path, query) = tail.split_at(q + 1);
            let (query, fragment) = match query.find('#') {
                Some(h) => query.split_at(h),
                None => (query, ""),
            };
            let masked: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((k, _)) if is_secret_key(&percent_decoded(k)) => format!("{k}={REDACTED}"),
                    _ => pair.to_string(),
                })
                .collect();
            format!("{path}{}{fragment}", masked.join("&"))
        }
    };
    format!("{head}{authority}{tail}")
}

/// Serializes a URL with [`mask_url`] (for report fields: the client keeps
/// the real URL to send requests to).
pub fn serialize_masked_url<S: serde::Serializer>(url: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&mask_url(url))
}

/// Every URL (`scheme://...`) in a message, masked with [`mask_url`].
pub fn mask_urls_in(text: &str) -> String {
    if !text.contains("://") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        // The URL starts at its scheme: the letters before "://".
        let start = rest[..i]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |p| p + 1);
        let mut end = rest[i..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ')' | '>' | '<' | '`'))
            .map_or(rest.len(), |p| i + p);
        // Punctuation after a URL ("GET https://...: error") is not part of it.
        while end > i + 3 && rest[..end].ends_with([':', ',', '.', ';']) {
            end -= 1;
        }
        out.push_str(&rest[..start]);
        out.push_str(&mask_url(&rest[start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn percent_decoded(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The key paths of a path expression as written in a substitution
/// (`${a."b.c".d}` → `[a, b.c, d]`); quotes removed, escapes kept as written.
fn substitution_path(expr: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for c in expr.trim().chars() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => out.push(String::new()),
            c => out.last_mut().expect("never empty").push(c),
        }
    }
    out.into_iter().map(|e| e.trim().to_string()).collect()
}

/// The paths referenced by the substitutions (`${x}`, `${?x}`) in a value's text.
fn substitutions(value_text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = value_text;
    while let Some(i) = rest.find("${") {
        let after = &rest[i + 2..];
        let Some(end) = after.find('}') else { break };
        let inner = after[..end].trim_start_matches('?');
        out.push(substitution_path(inner));
        rest = &after[end + 1..];
    }
    out
}

fn overlaps(a: &[String], b: &[String]) -> bool {
    a.iter().zip(b).all(|(x, y)| x == y)
}

/// The key paths of the fields whose value takes a secret through a
/// substitution: `x: ${console_admin_password}`, `url: "pg://u:"${db_pw}"@h"`,
/// or `${x}` where `x` is itself such a field (followed to a fixed point).
/// Their resolved values are secrets although their names are not.
pub fn secret_substitution_paths(doc: &Document) -> Vec<Vec<String>> {
    let text = doc.text();
    let mut refs: Vec<(Vec<String>, Vec<Vec<String>>)> = Vec::new();
    // Only text that holds `${` can hold a substitution (values and runs of
    // members kept as text never do: walking them would cost a large file's
    // every field for nothing).
    let may_refer = |t: &str| t.contains("${");
    doc.walk_fields(&may_refer, &mut |f| {
        // An object's own fields are fields too: judge the leaves.
        if f.value_kind == ValueKind::Object {
            return;
        }
        let found = substitutions(&text[f.value_span.0..f.value_span.1]);
        if !found.is_empty() {
            refs.push((f.path.iter().map(|k| k.to_string()).collect(), found));
        }
    });
    let mut tainted: Vec<Vec<String>> = Vec::new();
    loop {
        let before = tainted.len();
        for (path, refs) in &refs {
            if tainted.contains(path) {
                continue;
            }
            let secret = refs.iter().any(|r| {
                r.iter().any(|k| is_secret_key(k)) || tainted.iter().any(|t| overlaps(t, r))
            });
            if secret {
                tainted.push(path.clone());
            }
        }
        if tainted.len() == before {
            return tainted;
        }
    }
}

/// A resolved value at `at` (a key path), masked for showing: the whole of it
/// when its path names a secret or it takes one through a substitution
/// (`tainted`, from [`secret_substitution_paths`]); otherwise the secrets
/// inside it ([`mask_json`], and the sub-values that take one through a
/// substitution).
pub fn mask_resolved(at: &[String], value: &Value, tainted: &[Vec<String>]) -> Value {
    let whole = at.iter().any(|k| is_secret_key(k))
        || tainted
            .iter()
            .any(|t| t.len() <= at.len() && overlaps(t, at))
        || value.as_str().is_some_and(looks_like_pem);
    if whole {
        return Value::String(REDACTED.into());
    }
    let mut v = mask_json(value);
    fn redact_at(v: &mut Value, rel: &[String]) {
        match rel.split_first() {
            None => *v = Value::String(REDACTED.into()),
            Some((k, rest)) => {
                if let Some(next) = v.get_mut(k.as_str()) {
                    redact_at(next, rest);
                }
            }
        }
    }
    for t in tainted
        .iter()
        .filter(|t| t.len() > at.len() && overlaps(t, at))
    {
        redact_at(&mut v, &t[at.len()..]);
    }
    v
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
    let len = doc.text().len();
    masked_range(doc, 0, len)
}

/// [`masked_text`] of the bytes `from..to` of the document's text (both at
/// line starts, or the ends of the text): what those lines of the masked
/// text are. Only the fields around those lines are read, so a diff of a
/// large file masks the lines it shows, not the whole file.
pub fn masked_range(doc: &Document, from: usize, to: usize) -> String {
    let text = doc.text();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    // Values kept as text are read only when they reach into the range
    // (their place is where their text lies in the document's, which is
    // the buffer they borrow from when the text is not a rendering).
    let base = text.as_ptr() as usize;
    let borrowed = matches!(text, std::borrow::Cow::Borrowed(_));
    let meets = |t: &str| {
        let at = (t.as_ptr() as usize).wrapping_sub(base);
        !borrowed || at > text.len() || (at < to && at + t.len() > from)
    };
    // A walk of borrowed fields (nothing copied per field).
    doc.walk_fields(&meets, &mut |f| {
        if f.value_span.1 <= from || f.value_span.0 >= to {
            return;
        }
        // The keys of the objects around this field were judged with those
        // fields (whose spans hold this one): only its own key is new.
        let own = &f.path[f.path.len() - f.key_len..];
        let value = &text[f.value_span.0..f.value_span.1];
        if own.iter().any(|k| is_secret_key(k)) || looks_like_pem(value) {
            spans.push((f.value_span.0.max(from), f.value_span.1.min(to)));
        }
    });
    spans.sort();
    let mut out = String::with_capacity(to - from);
    let mut at = from;
    for (start, end) in spans {
        if start < at {
            continue; // inside a value already masked
        }
        out.push_str(&text[at..start]);
        out.push_str(&mask_lines(&text[start..end]));
        at = end;
    }
    out.push_str(&text[at..to]);
    out
}

/// HOCON value text as it may be shown for the key `key_path` (in messages
/// and reports echoing a value given on the command line): whole `<redacted>`
/// when the key names a secret, the text is a PEM block or it takes a secret
/// through a substitution (`${console_admin_password}`); an object's or
/// array's secret members masked (`{password: "X"}` → `{password: <redacted>}`).
pub fn mask_value_text(key_path: &[String], value_text: &str) -> String {
    if key_path.iter().any(|k| is_secret_key(k)) || looks_like_pem(value_text) {
        return mask_lines(value_text);
    }
    let Ok(doc) = Document::parse(&format!("v = {value_text}")) else {
        // Not a value the edit would accept; its text is never echoed.
        return REDACTED.to_string();
    };
    if !secret_substitution_paths(&doc).is_empty() {
        return mask_lines(value_text);
    }
    let masked = masked_text(&doc);
    match masked.strip_prefix("v = ") {
        Some(m) => m.to_string(),
        None => REDACTED.to_string(),
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
            "ssl_key_passphrase",
            "ldap_pw",
            "db.pwd",
            "api_key",
            "API-Key",
            "credentials",
            "aws_credential_file",
            "pgpass",
            "private-key",
            "privateKey",
            "passwd",
            "smtp_pass",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in [
            "puppet_enterprise::send_analytics_data",
            "console_host",
            "bypass_proxy",
            "compass",
            "public_key",
            "key",
        ] {
            assert!(!is_secret_key(k), "{k}");
        }
    }

    #[test]
    fn echoed_values_are_masked() {
        let k = |s: &str| vec![s.to_string()];
        assert_eq!(
            mask_value_text(&k("db"), "{password:\"X\"}"),
            "{password:<redacted>}"
        );
        assert_eq!(
            mask_value_text(&k("dbs"), "[{user: u, token: \"X\"}]"),
            "[{user: u, token: <redacted>}]"
        );
        assert_eq!(
            mask_value_text(&k("x"), "${console_admin_password}"),
            REDACTED
        );
        assert_eq!(mask_value_text(&k("x_password"), "\"X\""), REDACTED);
        assert_eq!(mask_value_text(&k("x"), "\"plain\""), "\"plain\"");
        assert_eq!(mask_value_text(&k("x"), "{unclosed \"X\""), REDACTED);
    }

    #[test]
    fn json_secrets_are_masked_at_any_depth() {
        let v = serde_json::json!({"db": {"password": "S1", "user": "u"},
            "list": [{"token": "T"}, "plain"], "cert": "-----BEGIN CERTIFICATE-----\nx"});
        let m = mask_json(&v);
        assert_eq!(
            m,
            serde_json::json!({"db": {"password": REDACTED, "user": "u"},
                "list": [{"token": REDACTED}, "plain"], "cert": REDACTED})
        );
    }

    #[test]
    fn urls_lose_their_credentials() {
        assert_eq!(
            mask_url("https://admin:hunter2@pe.example:4433/classifier-api?token=abc&x=1#f"),
            "https://<redacted>@pe.example:4433/classifier-api?token=<redacted>&x=1#f"
        );
        assert_eq!(
            mask_url("https://pe:4433/a?api%5Fkey=k"),
            "https://pe:4433/a?api%5Fkey=<redacted>"
        );
        assert_eq!(mask_url("https://pe:4433/a@b"), "https://pe:4433/a@b");
        assert_eq!(
            mask_urls_in("GET https://u:p@h/x?password=1: error (https://h/y?token=2)"),
            "GET https://<redacted>@h/x?password=<redacted>: error (https://h/y?token=<redacted>)"
        );
        assert_eq!(mask_urls_in("no url here: é"), "no url here: é");
        assert_eq!(mask_url("https://h/%é?%"), "https://h/%é?%");
    }

    #[test]
    fn substituted_secrets_are_found_through_chains() {
        let doc = Document::parse(
            "console_admin_password: S\nx: ${console_admin_password}\ny: ${x}\ndb { url: \"pg://u:\"${?db_pw}\"@h\", host: h }\nz: ${db.host}\n",
        )
        .unwrap();
        let mut t = secret_substitution_paths(&doc);
        t.sort();
        let p = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(t, vec![p(&["db", "url"]), p(&["x"]), p(&["y"])]);
        let db = serde_json::json!({"url": "pg://u:S@h", "host": "h"});
        assert_eq!(
            mask_resolved(&p(&["db"]), &db, &t),
            serde_json::json!({"url": REDACTED, "host": "h"})
        );
        assert_eq!(
            mask_resolved(&p(&["y"]), &serde_json::json!("S"), &t),
            serde_json::json!(REDACTED)
        );
        assert_eq!(
            mask_resolved(&p(&["z"]), &serde_json::json!("h"), &t),
            serde_json::json!("h")
        );
    }
}
