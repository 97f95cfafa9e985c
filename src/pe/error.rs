//! Errors from PE's APIs, with the HTTP status, PE's error `kind`, and what
//! to do about it.

use serde_json::Value;
use std::fmt;

/// Where the allowlist of client certificates lives (PE 2019.8.3+; before, the
/// same file was called `rbac-certificate-whitelist`, which still works).
pub const ALLOWLIST: &str = "/etc/puppetlabs/console-services/rbac-certificate-allowlist";

/// Which credentials a request carried (decides the advice on 401/403).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AuthUsed {
    pub token: bool,
    pub cert: bool,
}

#[derive(Debug)]
pub enum PeError {
    /// Bad local input: unreadable CA, certificate, key or token file, bad URL.
    Config(String),
    /// No HTTP answer: connection refused or reset, TLS failure, DNS.
    Transport {
        method: String,
        url: String,
        detail: String,
        hint: Option<String>,
        attempts: u32,
    },
    /// No answer within the timeout.
    Timeout {
        method: String,
        url: String,
        secs: f64,
        attempts: u32,
    },
    /// PE answered with an error status.
    Http(Box<HttpError>),
}

/// An error answer from PE.
#[derive(Debug)]
pub struct HttpError {
    pub method: String,
    pub url: String,
    pub status: u16,
    /// PE's error `kind`, e.g. `puppetlabs.rbac/token-expired`.
    pub kind: Option<String>,
    pub msg: Option<String>,
    pub details: Value,
    pub hint: Option<String>,
    pub attempts: u32,
}

impl PeError {
    pub fn status(&self) -> Option<u16> {
        match self {
            PeError::Http(h) => Some(h.status),
            _ => None,
        }
    }

    pub fn kind(&self) -> Option<&str> {
        match self {
            PeError::Http(h) => h.kind.as_deref(),
            _ => None,
        }
    }

    /// A failure after which the request may or may not have been processed
    /// (no answer, or a gateway/overload status): a write must re-read first.
    pub fn is_transient(&self) -> bool {
        match self {
            PeError::Transport { hint, .. } => hint.is_none(),
            PeError::Timeout { .. } => true,
            PeError::Http(h) => matches!(h.status, 429 | 502 | 503 | 504),
            PeError::Config(_) => false,
        }
    }

    /// Builds the error for an HTTP error answer, parsing PE's error body.
    pub fn from_answer(
        method: &str,
        url: &str,
        status: u16,
        body: &str,
        auth: AuthUsed,
        attempts: u32,
    ) -> PeError {
        let json: Option<Value> = serde_json::from_str(body).ok();
        let field = |k: &str| {
            json.as_ref()
                .and_then(|j| j.get(k))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let kind = field("kind");
        let msg = field("msg").or_else(|| {
            let t = body.trim();
            (!t.is_empty() && json.is_none()).then(|| t.chars().take(300).collect())
        });
        let details = json
            .as_ref()
            .and_then(|j| j.get("details"))
            .cloned()
            .unwrap_or(Value::Null);
        let hint = advice(status, kind.as_deref(), &details, auth);
        PeError::Http(Box::new(HttpError {
            method: method.to_string(),
            url: url.to_string(),
            status,
            kind,
            msg,
            details,
            hint,
            attempts,
        }))
    }
}

/// What to do about an error answer.
fn advice(status: u16, kind: Option<&str>, details: &Value, auth: AuthUsed) -> Option<String> {
    let k = kind.unwrap_or("");
    let token_advice = "the RBAC token has expired or was revoked: get a new one with \
`puppet-access login --lifetime 1h` (it writes ~/.puppetlabs/token), or point --token-file / \
PE_RBAC_TOKEN at a valid token";
    let allowlist_advice = format!(
        "the client certificate is not on the allowlist: add its certname to {ALLOWLIST} \
(rbac-certificate-whitelist before PE 2019.8.3) on the console node and run \
`service pe-console-services reload`, or use an RBAC token (--token-file)"
    );
    match status {
        401 | 403 => Some(if k.contains("token") {
            token_advice.to_string()
        } else if auth.token {
            if status == 403 && k.contains("permission") {
                "the RBAC user of this token lacks the permission \"Node groups: edit configuration data / \
set parameters\" on PE Infrastructure; use an administrator's token"
                    .to_string()
            } else {
                token_advice.to_string()
            }
        } else if auth.cert {
            allowlist_advice
        } else {
            "no credentials were sent: give a client certificate (--cert/--key) or an RBAC token \
(--token-file, PE_RBAC_TOKEN, ~/.puppetlabs/token)"
                .to_string()
        }),
        404 => Some(
            "not found: check --classifier-url (the console services' host and port, e.g. \
https://<console host>:4433); a group may also have been deleted meanwhile"
                .to_string(),
        ),
        422 if k == "missing-referents" => {
            let first = details.as_array().and_then(|a| a.first());
            let get = |key: &str| {
                first
                    .and_then(|d| d.get(key))
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_string()
            };
            Some(format!(
                "this PE's classifier knows no {} `{}` in environment `{}`: the puppet_enterprise \
class of that environment has no such parameter (PE older than 2016.4 has no analytics opt-out), \
or the class cache is stale (POST /v1/update-classes refreshes it)",
                if get("kind") == "missing-class" {
                    "class"
                } else {
                    "parameter"
                },
                get("missing"),
                get("environment")
            ))
        }
        409 => Some(
            "the group was changed by someone else meanwhile (stale serial_number); re-run"
                .to_string(),
        ),
        429 | 502 | 503 | 504 => Some(
            "PE is overloaded or restarting (pe-console-services); wait and re-run".to_string(),
        ),
        _ => None,
    }
}

impl fmt::Display for PeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tries = |n: &u32| {
            if *n > 1 {
                format!(" (after {n} attempts)")
            } else {
                String::new()
            }
        };
        match self {
            PeError::Config(m) => write!(f, "{m}"),
            PeError::Transport {
                method,
                url,
                detail,
                hint,
                attempts,
            } => {
                write!(f, "{method} {url}: {detail}{}", tries(attempts))?;
                if let Some(h) = hint {
                    write!(f, "\n  hint: {h}")?;
                }
                Ok(())
            }
            PeError::Timeout {
                method,
                url,
                secs,
                attempts,
            } => write!(
                f,
                "{method} {url}: no answer within {secs} s{}\n  hint: is the console-services \
port (4433) right and pe-console-services running? Raise the limit with --timeout SECS",
                tries(attempts)
            ),
            PeError::Http(h) => {
                let HttpError {
                    method,
                    url,
                    status,
                    kind,
                    msg,
                    hint,
                    attempts,
                    ..
                } = h.as_ref();
                write!(f, "HTTP {status}")?;
                if let Some(k) = kind {
                    write!(f, " ({k})")?;
                }
                write!(f, " from {method} {url}{}", tries(attempts))?;
                if let Some(m) = msg {
                    write!(f, ": {m}")?;
                }
                if let Some(h) = hint {
                    write!(f, "\n  hint: {h}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for PeError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expired_token_says_what_to_do() {
        let e = PeError::from_answer(
            "GET",
            "https://pe:4433/classifier-api/v1/groups",
            401,
            r#"{"kind":"puppetlabs.rbac/token-expired","msg":"The provided token has expired.","details":null}"#,
            AuthUsed {
                token: true,
                cert: false,
            },
            1,
        );
        let s = e.to_string();
        assert!(
            s.starts_with("HTTP 401 (puppetlabs.rbac/token-expired)"),
            "{s}"
        );
        assert!(s.contains("puppet-access login"), "{s}");
    }

    #[test]
    fn unlisted_cert_names_the_allowlist() {
        let e = PeError::from_answer(
            "GET",
            "u",
            403,
            r#"{"kind":"puppetlabs.rbac/user-unauthenticated","msg":"no","details":null}"#,
            AuthUsed {
                token: false,
                cert: true,
            },
            1,
        );
        assert!(e.to_string().contains(ALLOWLIST), "{e}");
    }

    #[test]
    fn missing_referents_names_parameter_and_environment() {
        let e = PeError::from_answer(
            "POST",
            "u",
            422,
            r#"{"kind":"missing-referents","msg":"m","details":[{"kind":"missing-parameter","missing":"send_analytics_data","environment":"production"}]}"#,
            AuthUsed::default(),
            1,
        );
        let s = e.to_string();
        assert!(
            s.contains("no parameter `send_analytics_data` in environment `production`"),
            "{s}"
        );
        assert_eq!(e.kind(), Some("missing-referents"));
    }

    #[test]
    fn non_json_bodies_are_kept_short() {
        let e = PeError::from_answer("GET", "u", 500, &"x".repeat(1000), AuthUsed::default(), 2);
        let s = e.to_string();
        assert!(s.contains("(after 2 attempts)") && s.len() < 400, "{s}");
    }
}
