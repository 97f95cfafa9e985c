//! The analytics setting in PE's node classifier.
//!
//! PE documents the opt-out of an existing install as: on the node group
//! `PE Infrastructure`, class `puppet_enterprise`, set the parameter
//! `send_analytics_data` to `false` (then run Puppet on the primary and the
//! console node). The profiles consume it as a `Boolean`, so only the JSON
//! boolean counts; a string `"false"` breaks catalog compilation.
//!
//! Changes are one-key deltas (`POST /v1/groups/<id>`): the classifier merges
//! `classes` two levels deep and drops keys set to `null`, so nothing else in
//! the group changes. From PE 2018.1 the delta carries the `serial_number`
//! just read, so a concurrent edit gives 409 instead of being overwritten.

use super::error::PeError;
use super::http::PeHttp;
use crate::peconf::lint::State;
use crate::peconf::secrets::{is_secret_key, mask_json, REDACTED};
use serde::Serialize;
use serde_json::{json, Map, Value};

pub const PE_INFRASTRUCTURE: &str = "PE Infrastructure";
pub const CLASS: &str = "puppet_enterprise";
pub const PARAM: &str = "send_analytics_data";
/// Profiles whose own `send_analytics_data` parameter, when set in another
/// group, wins over the value inherited from `puppet_enterprise`.
pub const OVERRIDE_CLASSES: [&str; 2] = [
    "puppet_enterprise::profile::master",
    "puppet_enterprise::profile::console",
];
/// Bounded retries of a write after 409, a lost answer or a 5xx.
pub const MAX_WRITE_ATTEMPTS: u32 = 4;

/// The one goal type of the procedure (also used by pe.conf).
pub use crate::procedure::Goal;

/// What a parameter value means for analytics.
pub fn state_of(v: Option<&Value>) -> State {
    match v {
        None => State::Default,
        Some(Value::Bool(false)) => State::OptedOut,
        Some(Value::Bool(true)) => State::OptedIn,
        Some(_) => State::Invalid,
    }
}

/// `group.<section>.<class>.<param>`.
pub fn param<'a>(group: &'a Value, section: &str, class: &str) -> Option<&'a Value> {
    group.get(section)?.get(class)?.get(PARAM)
}

pub fn group_name(g: &Value) -> &str {
    g.get("name").and_then(Value::as_str).unwrap_or("?")
}

pub fn group_id(g: &Value) -> &str {
    g.get("id").and_then(Value::as_str).unwrap_or("?")
}

pub fn serial(g: &Value) -> Option<u64> {
    g.get("serial_number").and_then(Value::as_u64)
}

/// The one PE Infrastructure group, or why there isn't one.
/// Nodes pinned to a group: `["=", "name", N]` terms of its rule.
pub fn pinned(group: &Value) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        if let Some(a) = v.as_array() {
            if a.len() == 3 && a[0] == "=" && a[1] == "name" {
                if let Some(n) = a[2].as_str() {
                    out.push(n.to_string());
                }
                return;
            }
            for x in a {
                walk(x, out);
            }
        }
    }
    let mut out = Vec::new();
    if let Some(r) = group.get("rule") {
        walk(r, &mut out);
    }
    out
}

pub fn find_pe_infrastructure(groups: &[Value]) -> Result<&Value, String> {
    let found: Vec<&Value> = groups
        .iter()
        .filter(|g| group_name(g) == PE_INFRASTRUCTURE)
        .collect();
    match found.as_slice() {
        [one] => Ok(one),
        [] => Err(format!(
            "the classifier has no node group named \"{PE_INFRASTRUCTURE}\" ({} groups read); \
this does not look like a PE installation's classifier, or the group was renamed: \
nothing was changed",
            groups.len()
        )),
        many => Err(format!(
            "the classifier has {} node groups named \"{PE_INFRASTRUCTURE}\" ({}); refusing to \
guess which one PE uses: remove or rename the extra one(s), then re-run",
            many.len(),
            many.iter()
                .map(|g| format!(
                    "id {} in environment {}",
                    group_id(g),
                    g.get("environment").and_then(Value::as_str).unwrap_or("?")
                ))
                .collect::<Vec<_>>()
                .join("; ")
        )),
    }
}

/// Checks the parts of a node group this tool reads, as PE documents them:
/// an object; `id` and `name` strings; `environment` a string and
/// `serial_number` a non-negative integer when present; `classes` and
/// `config_data`, when present, objects whose every value (a class) is an
/// object of parameters; `rule` an array or null. Anything else (a broken
/// proxy, another service on the port, a future API) is an error that says
/// where, never a panic or a wrong write.
pub fn validate_group(g: &Value) -> Result<(), String> {
    let Some(obj) = g.as_object() else {
        return Err(format!("a group is {}, expected an object", shape(g)));
    };
    let name = obj.get("name").and_then(Value::as_str);
    let at = |what: String| match name {
        Some(n) => format!("group \"{n}\": {what}"),
        None => format!("a group: {what}"),
    };
    for key in ["id", "name"] {
        match obj.get(key) {
            Some(Value::String(_)) => {}
            None => return Err(at(format!("no \"{key}\""))),
            Some(v) => return Err(at(format!("\"{key}\" is {}, expected a string", shape(v)))),
        }
    }
    match obj.get("environment") {
        None | Some(Value::String(_)) => {}
        Some(v) => {
            return Err(at(format!(
                "\"environment\" is {}, expected a string",
                shape(v)
            )))
        }
    }
    match obj.get("serial_number") {
        None | Some(Value::Null) => {}
        Some(v) if v.as_u64().is_some() => {}
        Some(v) => {
            return Err(at(format!(
                "\"serial_number\" is {}, expected a non-negative integer",
                shape(v)
            )))
        }
    }
    match obj.get("rule") {
        None | Some(Value::Null) | Some(Value::Array(_)) => {}
        Some(v) => return Err(at(format!("\"rule\" is {}, expected an array", shape(v)))),
    }
    for section in ["classes", "config_data"] {
        match obj.get(section) {
            None => {}
            Some(Value::Object(classes)) => {
                for (class, params) in classes {
                    if !params.is_object() {
                        return Err(at(format!(
                            "{section}.{class} is {}, expected an object of class parameters",
                            shape(params)
                        )));
                    }
                }
            }
            Some(v) => {
                return Err(at(format!(
                    "\"{section}\" is {}, expected an object of classes",
                    shape(v)
                )))
            }
        }
    }
    Ok(())
}

/// A JSON value's kind, for shape errors.
fn shape(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        other => kind_of(other),
    }
}

/// `GET /v1/groups`'s answer: an array of valid groups ([`validate_group`]).
pub fn parse_groups(body: Value) -> Result<Vec<Value>, String> {
    let Value::Array(groups) = body else {
        return Err(format!(
            "expected a JSON array of groups, got {}",
            kind_of(&body)
        ));
    };
    for (i, g) in groups.iter().enumerate() {
        validate_group(g).map_err(|e| format!("group #{} of {}: {e}", i + 1, groups.len()))?;
    }
    Ok(groups)
}

/// `GET /v1/groups/<id>`'s answer: one valid group.
pub fn parse_group(body: Value) -> Result<Value, String> {
    validate_group(&body)?;
    Ok(body)
}

/// `send_analytics_data` on a profile class in some group.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Override {
    pub group: String,
    pub group_id: String,
    /// `classes` or `config_data`.
    pub section: String,
    pub class: String,
    pub value: Value,
    /// Whether it defeats the command's goal (for `check`: the opt-out).
    pub defeats: bool,
    /// Removed with --fix-overrides.
    pub removed: bool,
}

/// Every `send_analytics_data` on `profile::master`/`profile::console`, in
/// classes or configuration data, in any group.
pub fn overrides(groups: &[Value], goal: Goal) -> Vec<Override> {
    let mut out = Vec::new();
    for g in groups {
        for section in ["classes", "config_data"] {
            for class in OVERRIDE_CLASSES {
                if let Some(v) = param(g, section, class) {
                    out.push(Override {
                        group: group_name(g).to_string(),
                        group_id: group_id(g).to_string(),
                        section: section.to_string(),
                        class: class.to_string(),
                        value: v.clone(),
                        defeats: goal.defeated_by(v),
                        removed: false,
                    });
                }
            }
        }
    }
    out
}

/// The one-key delta that sets (or, with `None`, removes) a parameter.
pub fn delta(section: &str, class: &str, value: Option<Value>, serial: Option<u64>) -> Value {
    let mut d = Map::new();
    if let Some(s) = serial {
        d.insert("serial_number".into(), json!(s));
    }
    d.insert(
        section.into(),
        json!({ class: { PARAM: value.unwrap_or(Value::Null) } }),
    );
    Value::Object(d)
}

/// The group as the classifier would store it after `delta` (two-level merge
/// of classes/config_data, null removes), for showing a diff. Shapes PE
/// never sends (see [`validate_group`]) are replaced, not trusted: a section
/// or class that is not an object is treated as empty.
pub fn apply_delta(group: &Value, delta: &Value) -> Value {
    let mut g = group.clone();
    if !g.is_object() {
        g = json!({});
    }
    for section in ["classes", "config_data"] {
        let Some(d) = delta.get(section).and_then(Value::as_object) else {
            continue;
        };
        let Some(obj) = g.as_object_mut() else {
            continue;
        };
        let sec = obj.entry(section).or_insert_with(|| json!({}));
        if !sec.is_object() {
            *sec = json!({});
        }
        let Some(sec) = sec.as_object_mut() else {
            continue;
        };
        for (class, params) in d {
            match params.as_object() {
                None => {
                    sec.remove(class);
                }
                Some(ps) => {
                    let c = sec.entry(class.clone()).or_insert_with(|| json!({}));
                    if !c.is_object() {
                        *c = json!({});
                    }
                    let Some(c) = c.as_object_mut() else {
                        continue;
                    };
                    for (p, v) in ps {
                        if v.is_null() {
                            c.remove(p);
                        } else {
                            c.insert(p.clone(), v.clone());
                        }
                    }
                }
            }
        }
    }
    g
}

/// `(path, (raw JSON, text shown))` of every leaf, two levels into objects.
fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, (String, String))>) {
    match v {
        Value::Object(m) if !m.is_empty() && prefix.matches('.').count() < 2 => {
            for (k, x) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&p, x, out);
            }
        }
        _ => {
            // The one secret predicate of pe.conf: a parameter named like a
            // secret, or secrets inside a hash parameter, are masked.
            let text = if prefix.split('.').any(is_secret_key) {
                REDACTED.to_string()
            } else {
                mask_json(v).to_string()
            };
            out.push((prefix.to_string(), (v.to_string(), text)));
        }
    }
}

/// A key-level diff of a group, before → after; empty when equal. Secret
/// parameters (password, token, ...) are masked.
pub fn key_diff(before: &Value, after: &Value) -> String {
    let strip = |g: &Value| {
        let mut g = g.clone();
        if let Some(m) = g.as_object_mut() {
            m.remove("serial_number");
            m.remove("last_edited");
        }
        g
    };
    let (mut a, mut b) = (Vec::new(), Vec::new());
    flatten("", &strip(before), &mut a);
    flatten("", &strip(after), &mut b);
    let am: std::collections::BTreeMap<_, _> = a.into_iter().collect();
    let bm: std::collections::BTreeMap<_, _> = b.into_iter().collect();
    let mut lines = Vec::new();
    let keys: std::collections::BTreeSet<&String> = am.keys().chain(bm.keys()).collect();
    for k in keys {
        match (am.get(k), bm.get(k)) {
            (Some(x), Some(y)) if x.0 != y.0 => lines.push(format!("~ {k}: {} -> {}", x.1, y.1)),
            (Some(x), None) => lines.push(format!("- {k}: {} -> (absent)", x.1)),
            (None, Some(y)) => lines.push(format!("+ {k}: (absent) -> {}", y.1)),
            _ => {}
        }
    }
    if lines.is_empty() {
        return String::new();
    }
    format!(
        "--- group \"{}\" ({}) before\n+++ group \"{}\" ({}) after\n{}\n",
        group_name(before),
        group_id(before),
        group_name(after),
        group_id(after),
        lines.join("\n")
    )
}

/// A request as shown by `--dry-run` (secrets masked).
#[derive(Clone, Debug, Serialize)]
pub struct PlannedRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<String>,
    pub body: Value,
}

impl PlannedRequest {
    pub fn render(&self) -> String {
        let mut s = format!("{} {}\n", self.method, self.url);
        for h in &self.headers {
            s.push_str(h);
            s.push('\n');
        }
        s.push('\n');
        s.push_str(&serde_json::to_string(&self.body).expect("JSON"));
        s.push('\n');
        s
    }
}

/// The NC API, on top of [`PeHttp`].
pub struct Nc<'a> {
    pub http: &'a PeHttp,
    /// Base URL, e.g. `https://pe:4433/classifier-api`.
    pub base: String,
}

impl<'a> Nc<'a> {
    pub fn groups_url(&self) -> String {
        format!("{}/v1/groups", self.base)
    }

    pub fn group_url(&self, id: &str) -> String {
        format!("{}/v1/groups/{id}", self.base)
    }

    /// Every group, each checked ([`parse_groups`]).
    pub fn groups(&self) -> Result<Vec<Value>, PeError> {
        let url = self.groups_url();
        parse_groups(self.http.get(&url)?.body)
            .map_err(|e| PeError::Config(format!("GET {url}: unexpected answer: {e}")))
    }

    /// One group, checked ([`parse_group`]).
    pub fn group(&self, id: &str) -> Result<Value, PeError> {
        let url = self.group_url(id);
        parse_group(self.http.get(&url)?.body)
            .map_err(|e| PeError::Config(format!("GET {url}: unexpected answer: {e}")))
    }

    /// `POST /v1/groups/<id>` with a delta: never retried blindly (see
    /// [`write_param`]).
    pub fn post_delta(&self, id: &str, delta: &Value) -> Result<(), PeError> {
        self.http.post(&self.group_url(id), Some(delta), false)?;
        Ok(())
    }

    /// `POST /v1/update-classes?environment=<env>`: refreshing the class cache
    /// twice is the same as once, so it may be retried.
    pub fn update_classes(&self, environment: &str) -> Result<(), PeError> {
        let url = format!(
            "{}/v1/update-classes?environment={}",
            self.base,
            encode(environment)
        );
        self.http.post(&url, None, true)?;
        Ok(())
    }

    /// The request `post_delta` would send, for showing.
    pub fn planned(&self, id: &str, delta: &Value) -> PlannedRequest {
        let mut headers = vec!["Content-Type: application/json".to_string()];
        if self.http.auth().token {
            headers.push("X-Authentication: <redacted>".to_string());
        }
        PlannedRequest {
            method: "POST".into(),
            url: crate::peconf::secrets::mask_url(&self.group_url(id)),
            headers,
            body: delta.clone(),
        }
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "an empty body",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// What happened to one write.
#[derive(Debug, Default, Clone, Serialize)]
pub struct WriteLog {
    /// Delta POSTs sent.
    pub posts: u32,
    /// 409 conflicts met (each followed by a re-read).
    pub conflicts: u32,
    /// Whether the class cache was refreshed after a 422.
    pub updated_classes: bool,
    /// Answers that were not a clean success (no answer, a 5xx, a body that
    /// is not JSON) after which the group was re-read to learn what it holds.
    pub transient_failures: u32,
    /// What those answers were (shown as notes).
    pub uncertain: Vec<String>,
    /// A write of this run took effect. False when the group already held
    /// the value, or when someone else's change put it there meanwhile (our
    /// writes were refused with 409).
    pub written: bool,
    /// The group after the write, as read back.
    #[serde(skip)]
    pub group_after: Value,
}

/// An answer after which the write may or may not have happened: no answer
/// (the connection dropped or timed out after the request was sent), a 5xx,
/// 429, or a 2xx whose body is not the JSON PE sends. Only a re-read tells.
pub fn write_outcome_uncertain(e: &PeError) -> bool {
    e.is_transient()
        || e.status()
            .is_some_and(|s| s >= 500 || (200..300).contains(&s) || s == 429)
}

/// Sets (`Some`) or removes (`None`) `<section>.<class>.send_analytics_data`
/// on `group` with one-key deltas, then reads the group back and verifies it.
/// `group` is the group as read before (its serial goes into the first delta,
/// so the first request is exactly the one `--dry-run` shows).
///
/// * 409 (stale serial): re-read, and if the change is still needed, send it
///   again with the new serial; at most [`MAX_WRITE_ATTEMPTS`] writes. When
///   the re-read shows the value already in place, someone else made the
///   change: `written` stays false.
/// * An uncertain answer ([`write_outcome_uncertain`]): the write may or may
///   not have happened, so re-read; the outcome is what the group holds. It
///   counts as our write when the group holds the value with the serial our
///   write would have given it (or, before PE 2018.1, which has no serial,
///   when it holds the value); else the delta is sent again with the fresh
///   serial (a repeat with the old one would be refused with 409).
/// * 422 `missing-referents`: `POST /v1/update-classes?environment=<env>`
///   once, then retry.
/// * Any other error answer (400, 401, 403, 404, ...): PE refused the write;
///   nothing was changed.
pub fn write_param(
    nc: &Nc,
    group: &Value,
    section: &str,
    class: &str,
    wanted: Option<Value>,
) -> Result<WriteLog, PeError> {
    let id = group_id(group).to_string();
    let env = group
        .get("environment")
        .and_then(Value::as_str)
        .unwrap_or("production")
        .to_string();
    let mut log = WriteLog::default();
    let mut current = group.clone();
    let needs = |g: &Value| param(g, section, class) != wanted.as_ref();
    let mut last_err: Option<PeError> = None;
    // Whether `current` was read after the last write (no separate
    // verification read needed).
    let mut fresh = false;
    while needs(&current) {
        if log.posts >= MAX_WRITE_ATTEMPTS {
            let why = last_err
                .map(|e| format!(": last error: {e}"))
                .unwrap_or_default();
            return Err(PeError::Config(format!(
                "gave up changing group \"{}\" after {} attempts{why}; the group was re-read \
after each and still holds {section}.{class}.{PARAM} = {}",
                group_name(group),
                log.posts,
                show(param(&current, section, class))
            )));
        }
        let sent_serial = serial(&current);
        let d = delta(section, class, wanted.clone(), sent_serial);
        log.posts += 1;
        fresh = false;
        match nc.post_delta(&id, &d) {
            Ok(()) => {
                log.written = true;
                break;
            }
            Err(e) if e.status() == Some(409) => {
                log.conflicts += 1;
                current = nc.group(&id)?;
                fresh = true;
                last_err = Some(e);
            }
            Err(e) if e.status() == Some(422) && e.kind() == Some("missing-referents") => {
                if log.updated_classes {
                    return Err(e);
                }
                nc.update_classes(&env)?;
                log.updated_classes = true;
                last_err = Some(e);
            }
            Err(e) if write_outcome_uncertain(&e) => {
                log.transient_failures += 1;
                log.uncertain.push(e.to_string());
                std::thread::sleep(nc.http_backoff(log.transient_failures));
                current = nc.group(&id).map_err(|re| {
                    PeError::Config(format!(
                        "the write to group \"{}\" got no clean answer ({e}) and the group could \
not be read back ({re}): whether the change was made is unknown; run `pe-analytics check` to see",
                        group_name(group)
                    ))
                })?;
                fresh = true;
                if !needs(&current) {
                    log.written = match (sent_serial, serial(&current)) {
                        (Some(s), Some(now)) => now == s + 1,
                        _ => true,
                    };
                }
                last_err = Some(e);
            }
            Err(e) => return Err(e),
        }
    }
    // Verify by reading the group again (unless it was just read).
    let after = if fresh { current } else { nc.group(&id)? };
    if needs(&after) {
        return Err(PeError::Config(format!(
            "the classifier accepted the change but group \"{}\" ({id}) now reads {section}.{class}.{PARAM} = {}; \
expected {}",
            group_name(group),
            show(param(&after, section, class)),
            show(wanted.as_ref())
        )));
    }
    log.group_after = after;
    Ok(log)
}

fn show(v: Option<&Value>) -> String {
    v.map(Value::to_string)
        .unwrap_or_else(|| "(absent)".to_string())
}

impl Nc<'_> {
    fn http_backoff(&self, n: u32) -> std::time::Duration {
        super::http::RetryPolicy::default().backoff(n, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn infra(v: Option<Value>) -> Value {
        let mut g = json!({"id": "i", "name": PE_INFRASTRUCTURE, "environment": "production",
            "serial_number": 3,
            "classes": {"puppet_enterprise": {"console_host": "pe", "database_password": "x"}}});
        if let Some(v) = v {
            g["classes"]["puppet_enterprise"][PARAM] = v;
        }
        g
    }

    #[test]
    fn goals_and_states() {
        let f = json!(false);
        let t = json!(true);
        let s = json!("false");
        assert!(!Goal::OptOut.needs_change(Some(&f)));
        assert!(Goal::OptOut.needs_change(Some(&s)));
        assert!(Goal::OptOut.needs_change(None));
        assert!(!Goal::OptIn { explicit: false }.needs_change(None));
        assert!(!Goal::OptIn { explicit: false }.needs_change(Some(&t)));
        assert!(Goal::OptIn { explicit: false }.needs_change(Some(&f)));
        assert!(Goal::OptIn { explicit: true }.needs_change(None));
        assert_eq!(state_of(Some(&s)), State::Invalid);
        assert_eq!(state_of(None), State::Default);
    }

    #[test]
    fn delta_is_one_key_with_serial() {
        assert_eq!(
            delta("classes", CLASS, Some(json!(false)), Some(3)),
            json!({"serial_number": 3, "classes": {"puppet_enterprise": {"send_analytics_data": false}}})
        );
        assert_eq!(
            delta("classes", CLASS, None, None),
            json!({"classes": {"puppet_enterprise": {"send_analytics_data": null}}})
        );
    }

    #[test]
    fn diff_shows_only_the_key_and_masks_secrets() {
        let before = infra(Some(json!(true)));
        let after = apply_delta(
            &before,
            &delta("classes", CLASS, Some(json!(false)), Some(3)),
        );
        let d = key_diff(&before, &after);
        assert!(
            d.contains("~ classes.puppet_enterprise.send_analytics_data: true -> false"),
            "{d}"
        );
        assert_eq!(d.lines().count(), 3, "{d}");
        let removed = apply_delta(&before, &delta("classes", CLASS, None, None));
        assert!(key_diff(&before, &removed)
            .contains("- classes.puppet_enterprise.send_analytics_data: true -> (absent)"));
        let mut b2 = before.clone();
        b2["classes"]["puppet_enterprise"]["database_password"] = json!("y");
        let d = key_diff(&before, &b2);
        assert!(d.contains("<redacted>") && !d.contains("\"y\""), "{d}");
        // Names the old predicate missed, and secrets inside a hash parameter.
        let mut b3 = before.clone();
        b3["classes"]["puppet_enterprise"]["ssl_key_passphrase"] = json!("p1");
        b3["classes"]["puppet_enterprise"]["ldap_pw"] = json!("p2");
        b3["classes"]["puppet_enterprise"]["settings"] = json!({"api_key": "p3", "n": 1});
        let d = key_diff(&before, &b3);
        for leaked in ["p1", "p2", "p3"] {
            assert!(!d.contains(leaked), "{d}");
        }
        assert!(d.contains("\"n\":1"), "{d}");
        assert_eq!(key_diff(&before, &before), "");
    }

    #[test]
    fn finds_exactly_one_infrastructure_group() {
        let g = vec![infra(None), json!({"id": "a", "name": "All Nodes"})];
        assert_eq!(group_id(find_pe_infrastructure(&g).unwrap()), "i");
        assert!(find_pe_infrastructure(&g[1..])
            .unwrap_err()
            .contains("no node group"));
        let two = vec![infra(None), infra(None)];
        assert!(find_pe_infrastructure(&two)
            .unwrap_err()
            .contains("2 node groups"));
    }

    #[test]
    fn malformed_groups_are_errors_that_say_where() {
        let with = |k: &str, v: Value| {
            let mut g = infra(None);
            g[k] = v;
            g
        };
        let cases = [
            (
                json!([infra(None), json!(3)]),
                "group #2 of 2: a group is a number",
            ),
            (
                json!([with("classes", json!([]))]),
                "\"classes\" is an array",
            ),
            (
                json!([with("classes", json!({"puppet_enterprise": null}))]),
                "classes.puppet_enterprise is null",
            ),
            (
                json!([with("config_data", json!({"x": "y"}))]),
                "config_data.x is a string",
            ),
            (json!([with("serial_number", json!(-1))]), "serial_number"),
            (json!([with("id", json!(7))]), "\"id\" is a number"),
            (json!([with("rule", json!("x"))]), "\"rule\" is a string"),
            (
                json!({"groups": []}),
                "expected a JSON array of groups, got an object",
            ),
        ];
        for (body, want) in cases {
            let e = parse_groups(body.clone()).unwrap_err();
            assert!(e.contains(want), "{body}: {e}");
        }
        assert!(parse_groups(json!([infra(None)])).is_ok());
        assert!(parse_group(json!([])).is_err());
        // apply_delta does not trust shapes either.
        let d = delta("classes", CLASS, Some(json!(false)), None);
        for g in [
            json!({"classes": []}),
            json!({"classes": {CLASS: null}}),
            json!(null),
        ] {
            let after = apply_delta(&g, &d);
            assert_eq!(param(&after, "classes", CLASS), Some(&json!(false)));
        }
    }

    #[test]
    fn overrides_in_classes_and_config_data() {
        let g = vec![
            json!({"id": "m", "name": "PE Master", "classes": {"puppet_enterprise::profile::master": {"send_analytics_data": true}}}),
            json!({"id": "c", "name": "PE Console", "config_data": {"puppet_enterprise::profile::console": {"send_analytics_data": false}}}),
        ];
        let o = overrides(&g, Goal::OptOut);
        assert_eq!(o.len(), 2);
        assert!(o[0].defeats && o[0].section == "classes");
        assert!(!o[1].defeats && o[1].section == "config_data");
    }
}
