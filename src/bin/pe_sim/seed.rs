//! PE versions, the classes "in code" per version, the seeded node groups and pe.conf.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde_json::{json, Map, Value};

use super::cli::Args;
use super::state::{Group, Job, JobNode};

pub const ALL_NODES_ID: &str = "00000000-0000-4000-8000-000000000000";

/// A PE version `YEAR.RELEASE.PATCH` (not semver; compared as a numeric tuple).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PeVersion(pub u32, pub u32, pub u32);

impl PeVersion {
    pub fn parse(s: &str) -> Result<Self, String> {
        let core = s.trim().split('-').next().unwrap_or("");
        let parts: Vec<&str> = core.split('.').collect();
        if parts.len() < 2 || parts.len() > 3 {
            return Err(format!(
                "invalid PE version {s:?} (expected YEAR.RELEASE.PATCH)"
            ));
        }
        let num = |p: &str| {
            p.parse::<u32>()
                .map_err(|_| format!("invalid PE version {s:?}"))
        };
        let patch = if parts.len() == 3 { num(parts[2])? } else { 0 };
        Ok(PeVersion(num(parts[0])?, num(parts[1])?, patch))
    }
    pub fn at_least(&self, y: u32, r: u32, p: u32) -> bool {
        *self >= PeVersion(y, r, p)
    }
    pub fn has_config_data(&self) -> bool {
        self.at_least(2017, 3, 0)
    }
    pub fn has_serial(&self) -> bool {
        self.at_least(2018, 1, 0)
    }
    /// 4-part service version reported by console-services, e.g. "2019.8.12.0".
    pub fn service_version(&self) -> String {
        format!("{}.{}.{}.0", self.0, self.1, self.2)
    }
}

impl std::fmt::Display for PeVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

pub fn timestamp(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

fn params(list: &[(&str, Value)]) -> Value {
    let mut m = Map::new();
    for (k, v) in list {
        m.insert((*k).to_string(), v.clone());
    }
    Value::Object(m)
}

/// Classes and their parameters (with defaults, `null` = required) as Puppet Server
/// would report them for the given PE version. The NC's class cache is filled from this.
pub fn code_classes(v: PeVersion) -> BTreeMap<String, Value> {
    let mut c = BTreeMap::new();
    let old = !v.at_least(2019, 0, 0); // MCollective era
    let mut pe = vec![
        ("puppet_master_host", Value::Null),
        ("certificate_authority_host", json!("%{::trusted.certname}")),
        ("console_host", json!("%{::trusted.certname}")),
        ("puppetdb_host", json!("%{::trusted.certname}")),
        ("database_host", json!("%{::trusted.certname}")),
        ("pcp_broker_host", json!("%{::trusted.certname}")),
        ("puppetdb_port", json!(8081)),
        ("database_port", json!(5432)),
        ("console_port", json!(443)),
        ("database_ssl", json!(true)),
        ("puppetdb_database_name", json!("pe-puppetdb")),
        ("puppetdb_database_user", json!("pe-puppetdb")),
        ("classifier_database_name", json!("pe-classifier")),
        ("rbac_database_name", json!("pe-rbac")),
        ("activity_database_name", json!("pe-activity")),
        ("orchestrator_database_name", json!("pe-orchestrator")),
        ("use_application_services", json!(false)),
    ];
    if v.at_least(2016, 4, 0) {
        pe.push(("send_analytics_data", json!(true)));
    }
    if old {
        pe.push(("mcollective_middleware_hosts", json!([])));
    }
    c.insert("puppet_enterprise".to_string(), params(&pe));

    let mut master = vec![
        ("check_for_updates", json!(true)),
        ("java_args", json!({"Xmx": "2048m", "Xms": "2048m"})),
        ("code_manager_auto_configure", json!(false)),
        ("r10k_remote", Value::Null),
        ("r10k_private_key", Value::Null),
    ];
    if v.at_least(2018, 1, 0) {
        master.push((
            "send_analytics_data",
            json!("$puppet_enterprise::send_analytics_data"),
        ));
    }
    c.insert("puppet_enterprise::profile::master".into(), params(&master));
    let console = vec![
        (
            "send_analytics_data",
            json!("$puppet_enterprise::send_analytics_data"),
        ),
        ("whitelisted_certnames", json!([])),
        ("rbac_token_auth_lifetime", json!("1h")),
        ("java_args", json!({"Xmx": "256m", "Xms": "256m"})),
        ("classifier_node_check_in_storage", json!(false)),
    ];
    c.insert(
        "puppet_enterprise::profile::console".into(),
        params(&console),
    );
    for cls in [
        "puppet_enterprise::profile::puppetdb",
        "puppet_enterprise::profile::orchestrator",
    ] {
        c.insert(cls.into(), params(&[("java_args", json!({"Xmx": "256m"}))]));
    }
    for cls in [
        "puppet_enterprise::profile::certificate_authority",
        "puppet_enterprise::profile::agent",
        "puppet_enterprise::license",
        "pe_repo",
        "pe_repo::platform::el_7_x86_64",
    ] {
        c.insert(cls.into(), json!({}));
    }
    if v.at_least(2019, 0, 0) {
        c.insert("puppet_enterprise::profile::database".into(), json!({}));
    }
    if old {
        for cls in [
            "puppet_enterprise::profile::mcollective::agent",
            "puppet_enterprise::profile::mcollective::peadmin",
            "puppet_enterprise::profile::mcollective::console",
            "puppet_enterprise::profile::master::mcollective",
            "puppet_enterprise::profile::amq::broker",
        ] {
            c.insert(cls.into(), json!({}));
        }
        c.insert(
            "pe_console_prune".into(),
            params(&[("prune_upto", json!(30))]),
        );
    }
    if v.at_least(2021, 0, 0) {
        c.insert("pe_patch".into(), json!({}));
    }
    c
}

pub fn environments() -> Vec<String> {
    vec![
        "production".into(),
        "agent-specified".into(),
        "staging".into(),
    ]
}

fn pin(nodes: &[&str]) -> Value {
    let mut r = vec![json!("or")];
    for n in nodes {
        r.push(json!(["=", "name", n]));
    }
    Value::Array(r)
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The seeded groups.
pub fn seed_groups(args: &Args, v: PeVersion, now: SystemTime) -> Result<Vec<Group>, String> {
    let primary = args.primary.as_str();
    let console = if args.split {
        args.console.as_str()
    } else {
        primary
    };
    let last_edited = timestamp(now - Duration::from_secs(3600));
    let mut serial = 0u64;
    let mut mk = |name: &str,
                  id: Option<&str>,
                  parent: &str,
                  env: &str,
                  trumps: bool,
                  rule: Option<Value>,
                  classes: Value| {
        serial += 1;
        let id = id
            .map(str::to_string)
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        Group {
            parent: if parent.is_empty() {
                id.clone()
            } else {
                parent.to_string()
            },
            id,
            name: name.to_string(),
            environment: env.to_string(),
            environment_trumps: trumps,
            description: None,
            rule,
            classes: obj(classes),
            config_data: v.has_config_data().then(Map::new),
            variables: Map::new(),
            last_edited: v.has_serial().then(|| last_edited.clone()),
            serial_number: v.has_serial().then_some(1 + serial % 5),
        }
    };

    let mut groups = Vec::new();
    let all = mk(
        "All Nodes",
        Some(ALL_NODES_ID),
        "",
        "production",
        false,
        Some(json!(["and", ["~", "name", ".*"]])),
        json!({}),
    );
    groups.push(all);

    // puppet_enterprise parameters as the installer writes them.
    let port = |p: u32| -> Value {
        if v.at_least(2018, 1, 0) {
            json!([p])
        } else {
            json!(p.to_string())
        }
    };
    let mut pe = Map::new();
    pe.insert("certificate_authority_host".into(), json!(primary));
    pe.insert("console_host".into(), json!(console));
    pe.insert("console_port".into(), json!(443));
    pe.insert("database_host".into(), json!(primary));
    pe.insert("database_port".into(), json!(5432));
    pe.insert("database_ssl".into(), json!(true));
    if !v.at_least(2019, 0, 0) {
        pe.insert("mcollective_middleware_hosts".into(), json!([primary]));
    }
    pe.insert("pcp_broker_host".into(), json!(primary));
    pe.insert("puppet_master_host".into(), json!(primary));
    pe.insert("puppetdb_database_name".into(), json!("pe-puppetdb"));
    pe.insert("puppetdb_database_user".into(), json!("pe-puppetdb"));
    if v.at_least(2018, 1, 0) {
        pe.insert("puppetdb_host".into(), json!([primary]));
    } else {
        pe.insert("puppetdb_host".into(), json!(primary));
    }
    pe.insert("puppetdb_port".into(), port(8081));
    if let Some(iv) = &args.initial_value {
        let val = serde_json::from_str::<Value>(iv).unwrap_or_else(|_| json!(iv));
        pe.insert("send_analytics_data".into(), val);
    }
    let pe_classes = json!({ "puppet_enterprise": Value::Object(pe) });

    let infra_parent = if args.no_pe_infrastructure {
        ALL_NODES_ID.to_string()
    } else {
        let g = mk(
            "PE Infrastructure",
            None,
            ALL_NODES_ID,
            "production",
            false,
            None,
            pe_classes.clone(),
        );
        let id = g.id.clone();
        groups.push(g);
        id
    };
    let ip = infra_parent.as_str();
    let old = !v.at_least(2019, 0, 0);

    groups.push(mk(
        "PE Certificate Authority",
        None,
        ip,
        "production",
        false,
        Some(pin(&[primary])),
        json!({"puppet_enterprise::profile::certificate_authority": {}}),
    ));
    let mut master_classes = json!({
        "puppet_enterprise::profile::master": {},
        "pe_repo": {},
        "pe_repo::platform::el_7_x86_64": {}
    });
    if old {
        master_classes["puppet_enterprise::profile::mcollective::peadmin"] = json!({});
        master_classes["puppet_enterprise::profile::master::mcollective"] = json!({});
    }
    let master = mk(
        "PE Master",
        None,
        ip,
        "production",
        false,
        Some(pin(&[primary])),
        master_classes,
    );
    let master_id = master.id.clone();
    groups.push(master);
    let mut console_classes = json!({
        "puppet_enterprise::profile::console": {},
        "puppet_enterprise::license": {}
    });
    if old {
        console_classes["pe_console_prune"] = json!({"prune_upto": 30});
        console_classes["puppet_enterprise::profile::mcollective::console"] = json!({});
    }
    groups.push(mk(
        "PE Console",
        None,
        ip,
        "production",
        false,
        Some(pin(&[console])),
        console_classes,
    ));
    groups.push(mk(
        "PE PuppetDB",
        None,
        ip,
        "production",
        false,
        Some(pin(&[primary])),
        json!({"puppet_enterprise::profile::puppetdb": {}}),
    ));
    groups.push(mk(
        "PE Orchestrator",
        None,
        ip,
        "production",
        false,
        Some(pin(&[primary])),
        json!({"puppet_enterprise::profile::orchestrator": {}}),
    ));
    if v.at_least(2019, 0, 0) {
        groups.push(mk(
            "PE Database",
            None,
            ip,
            "production",
            false,
            Some(pin(&[primary])),
            json!({"puppet_enterprise::profile::database": {}}),
        ));
        groups.push(mk(
            "PE Compiler",
            None,
            &master_id,
            "production",
            false,
            Some(json!([
                "and",
                ["=", ["trusted", "extensions", "pp_auth_role"], "pe_compiler"]
            ])),
            json!({"puppet_enterprise::profile::master": {}, "puppet_enterprise::profile::puppetdb": {}}),
        ));
    }
    if old {
        groups.push(mk(
            "PE MCollective",
            None,
            ip,
            "production",
            false,
            Some(json!(["and", ["~", ["fact", "pe_server_version"], ".+"]])),
            json!({"puppet_enterprise::profile::mcollective::agent": {}}),
        ));
        groups.push(mk(
            "PE ActiveMQ Broker",
            None,
            ip,
            "production",
            false,
            Some(pin(&[primary])),
            json!({"puppet_enterprise::profile::amq::broker": {}}),
        ));
    }
    if v.has_serial() && !args.ha_replica.is_empty() {
        let replicas: Vec<&str> = args.ha_replica.iter().map(String::as_str).collect();
        groups.push(mk(
            "PE HA Replica",
            None,
            ip,
            "production",
            false,
            Some(pin(&replicas)),
            json!({"puppet_enterprise::profile::primary_master_replica": {}}),
        ));
    }
    let agent = mk(
        "PE Agent",
        None,
        ip,
        "production",
        false,
        Some(json!(["and", ["~", ["fact", "aio_agent_version"], ".+"]])),
        json!({"puppet_enterprise::profile::agent": {}}),
    );
    let agent_id = agent.id.clone();
    groups.push(agent);
    if v.at_least(2016, 5, 0) {
        let mut infra_nodes = vec![primary];
        if console != primary {
            infra_nodes.push(console);
        }
        groups.push(mk(
            "PE Infrastructure Agent",
            None,
            &agent_id,
            "production",
            false,
            Some(pin(&infra_nodes)),
            json!({"puppet_enterprise::profile::agent": {}}),
        ));
    }
    if v.at_least(2021, 0, 0) {
        groups.push(mk(
            "PE Patch Management",
            None,
            ALL_NODES_ID,
            "production",
            false,
            None,
            json!({}),
        ));
    }
    let prod = mk(
        "Production environment",
        None,
        ALL_NODES_ID,
        "production",
        true,
        Some(json!(["and", ["~", "name", ".*"]])),
        json!({}),
    );
    let prod_id = prod.id.clone();
    groups.push(prod);
    groups.push(mk(
        "Agent-specified environment",
        None,
        &prod_id,
        "agent-specified",
        true,
        None,
        json!({}),
    ));
    if args.duplicate_pe_infrastructure {
        groups.push(mk(
            "PE Infrastructure",
            None,
            ALL_NODES_ID,
            "staging",
            false,
            None,
            pe_classes,
        ));
    }
    // Extra groups: a tree with fan-out 10 under All Nodes.
    let mut extra_ids: Vec<String> = Vec::with_capacity(args.extra_groups);
    for i in 0..args.extra_groups {
        let parent = if i < 10 {
            ALL_NODES_ID.to_string()
        } else {
            extra_ids[i / 10 - 1].clone()
        };
        let node = format!("extra{i:05}.example.test");
        let g = mk(
            &format!("Extra group {i:05}"),
            None,
            &parent,
            "production",
            false,
            Some(pin(&[node.as_str()])),
            json!({}),
        );
        extra_ids.push(g.id.clone());
        groups.push(g);
    }

    for spec in &args.overrides {
        let (group, rest) = spec
            .split_once(':')
            .ok_or_else(|| format!("--override {spec:?}: expected GROUP:CLASS:VALUE"))?;
        let (class, value) = rest
            .rsplit_once(':')
            .ok_or_else(|| format!("--override {spec:?}: expected GROUP:CLASS:VALUE"))?;
        let value = serde_json::from_str::<Value>(value).unwrap_or_else(|_| json!(value));
        let g = groups
            .iter_mut()
            .find(|g| g.name == group)
            .ok_or_else(|| format!("--override {spec:?}: no group named {group:?}"))?;
        let entry = g
            .classes
            .entry(class.to_string())
            .or_insert_with(|| json!({}));
        entry["send_analytics_data"] = value;
    }
    Ok(groups)
}

/// A pe.conf as the installer leaves it for the seeded version.
pub fn pe_conf(args: &Args, v: PeVersion) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "# pe.conf written by pe-sim for PE {v}\n# Generated for the sandbox; edit freely.\n{{\n"
    ));
    s.push_str("  \"console_admin_password\": \"pe-sim-password\"\n");
    s.push_str(&format!(
        "  \"puppet_enterprise::puppet_master_host\": \"{}\"\n",
        args.primary
    ));
    if args.split {
        s.push_str(&format!(
            "  \"puppet_enterprise::console_host\": \"{}\"\n",
            args.console
        ));
        s.push_str(&format!(
            "  \"puppet_enterprise::puppetdb_host\": \"{}\"\n",
            args.primary
        ));
    }
    s.push_str(&format!(
        "  \"pe_install::puppet_master_dnsaltnames\": [\"puppet\", \"{}\"]\n",
        args.primary
    ));
    if v.at_least(2019, 0, 0) {
        s.push_str("  \"puppet_enterprise::profile::master::java_args\": {\"Xmx\": \"2048m\", \"Xms\": \"512m\"}\n");
        s.push_str("  \"puppet_enterprise::profile::master::code_manager_auto_configure\": true\n");
    } else {
        s.push_str("  \"meep_schema_version\": \"1.0\"\n");
    }
    s.push_str("}\n");
    s
}

/// The kinds of jobs `--job-history` takes.
pub const JOB_KINDS: [&str; 7] = [
    "deploy",
    "task",
    "plan_task",
    "plan_upload",
    "plan_script",
    "plan_command",
    "plan_wait",
];

/// The seeded job history (`--job-history`): finished jobs in the half hour
/// before `now`, and one deploy job two hours before, ids in creation order.
pub fn job_history(spec: &str, now: SystemTime) -> Result<Vec<Job>, String> {
    let mut kinds: Vec<String> = Vec::new();
    for part in spec.split(',').filter(|p| !p.trim().is_empty()) {
        let (k, n) = part
            .trim()
            .split_once(':')
            .ok_or_else(|| format!("--job-history {part:?}: expected KIND:N"))?;
        if !JOB_KINDS.contains(&k) {
            return Err(format!(
                "--job-history: unknown job kind {k:?} ({})",
                JOB_KINDS.join(", ")
            ));
        }
        let n: usize = n
            .parse()
            .map_err(|_| format!("--job-history {part:?}: N must be a whole number"))?;
        kinds.extend(std::iter::repeat_n(k.to_string(), n));
    }
    let mut jobs = Vec::new();
    let mk = |id: u64, kind: &str, created: SystemTime, i: usize| {
        let count = i % 3 + 1;
        let nodes: Vec<String> = (0..count)
            .map(|k| format!("agent{:05}.example.test", k + 1))
            .collect();
        let scope = match i % 3 {
            0 => json!({"nodes": nodes}),
            1 => json!({"query": "nodes[certname] { }"}),
            _ => json!({"node_group": ALL_NODES_ID}),
        };
        let started = created + Duration::from_secs(1);
        let finished = started + Duration::from_secs(2 + i as u64);
        let mut options = json!({"scope": scope, "description": "x".repeat(i * 4)});
        if kind == "deploy" {
            options["noop"] = json!(i % 2 == 1);
            options["environment"] = json!("production");
        }
        Job {
            id,
            kind: kind.to_string(),
            owner: if i.is_multiple_of(2) { "admin" } else { "ops" }.to_string(),
            state: "finished".into(),
            options,
            created,
            started: Some(started),
            finished: Some(finished),
            nodes: nodes
                .iter()
                .map(|n| JobNode {
                    name: n.clone(),
                    state: "finished".into(),
                    start: Some(started),
                    finish: Some(finished),
                    details: json!({}),
                    result: Some(json!({"status": "unchanged"})),
                    transaction_uuid: uuid::Uuid::new_v4().to_string(),
                })
                .collect(),
            status_log: vec![("finished".into(), finished, None)],
            events: Vec::new(),
        }
    };
    jobs.push(mk(1, "deploy", now - Duration::from_secs(7200), 5));
    for (i, k) in kinds.iter().enumerate() {
        let created = now - Duration::from_secs(1800) + Duration::from_secs(10 * i as u64);
        jobs.push(mk(i as u64 + 2, k, created, i));
    }
    Ok(jobs)
}
