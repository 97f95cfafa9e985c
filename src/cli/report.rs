//! `pe-analytics report`: gathers each item PE's analytics collect from where
//! PE keeps it (license file, `pe_version`, PuppetDB) and prints the table
//! of [`crate::report`], with the opt-out state from `status`.
//!
//! Exit 0 when every item that applies was gathered (an absent license file
//! or `pe_version` is reported as absent, not as an error); 1 when an item
//! could not be gathered (malformed license file, PuppetDB unreachable or
//! answering an error or an unexpected shape). The report is printed either way.

use super::args::{Format, ReportArgs};
use super::{status, Failure};
use crate::output::Exit;
use crate::pe::config::{self, Host};
use crate::pe::puppetdb::{self, PuppetDb, PUPPETDB_PORT};
use crate::pe::{PeError, PeHttp};
use crate::report::license::{self, License};
use crate::report::queries::{self, Query};
use crate::report::{
    console_section, not_collected_section, render_text, Item, ItemStatus, OptOut, PuppetDbInfo,
    Report, Section, SCHEMA,
};
use serde_json::{json, Value};
use std::path::Path;

fn item(id: &'static str, name: &'static str, source: impl Into<String>) -> Item {
    Item {
        id,
        item: name,
        sent_by_pe: true,
        status: ItemStatus::Ok,
        value: Value::Null,
        source: source.into(),
        detail: None,
    }
}

fn set(i: &mut Item, status: ItemStatus, detail: impl Into<String>) {
    i.status = status;
    i.detail = Some(detail.into());
}

/// The license file: parsed, absent, or an error (`FILE:LINE: message`).
fn read_license(path: &Path) -> Result<Option<License>, String> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(format!(
                "{}: cannot read the license file: {e}",
                path.display()
            ))
        }
    };
    let text = String::from_utf8(bytes).map_err(|e| {
        format!(
            "{}: the license file is not UTF-8 text (at byte {})",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })?;
    license::parse(&text)
        .map(Some)
        .map_err(|e| format!("{}:{}: {}", path.display(), e.line, e.message))
}

/// `--pe-version`, else the first line of the version file; `None` when absent.
fn read_pe_version(flag: Option<&str>, file: &Path) -> Result<Option<(String, String)>, String> {
    if let Some(v) = flag {
        return Ok(Some((v.to_string(), "--pe-version".into())));
    }
    match std::fs::read_to_string(file) {
        Ok(t) => Ok(t
            .lines()
            .next()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| (s.to_string(), file.display().to_string()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", file.display())),
    }
}

/// The items that come from PuppetDB, in the order of PE's list.
struct PdbItems {
    primary_os: Item,
    public_ip: Item,
    nodes: Item,
    agent_os: Item,
    agent_versions: Item,
    aio_versions: Item,
}

fn no_answer(e: &PeError) -> bool {
    matches!(
        e,
        PeError::Transport { .. } | PeError::Timeout { .. } | PeError::Config(_)
    )
}

/// Runs the queries; after a failure to get any answer at all the others are
/// not tried (they would only wait for the same dead server).
fn gather_puppetdb(
    pdb: Option<&PuppetDb>,
    setup_error: Option<&str>,
    primary: &str,
) -> (PdbItems, Vec<String>) {
    let src = |q: &Query| format!("PuppetDB {}", q.path());
    let facts_q = queries::node_facts(primary, &["os", "networking"]);
    let nodes_q = queries::active_nodes();
    let os_q = queries::os_counts();
    let pv_q = queries::fact_value_counts("puppetversion");
    let aio_q = queries::fact_value_counts("aio_agent_version");
    let mut it = PdbItems {
        primary_os: item(
            "primary_os",
            "Primary server's operating system",
            src(&facts_q),
        ),
        public_ip: item(
            "primary_public_ip",
            "Primary server's public IP address",
            src(&facts_q),
        ),
        nodes: item(
            "nodes_in_deployment",
            "Number of nodes in deployment",
            src(&nodes_q),
        ),
        agent_os: item(
            "agent_os",
            "Agent operating systems and number of agents running each",
            src(&os_q),
        ),
        agent_versions: item(
            "agent_versions",
            "Puppet agent versions and number of agents running each",
            format!("{} (fact puppetversion)", src(&pv_q)),
        ),
        aio_versions: item(
            "aio_agent_versions",
            "All-in-One puppet-agent package versions",
            format!("{} (fact aio_agent_version)", src(&aio_q)),
        ),
    };
    let mut errors = Vec::new();
    let mut dead: Option<String> = setup_error.map(str::to_string);
    let mut run = |q: &Query, errors: &mut Vec<String>| -> Result<Value, String> {
        if let Some(d) = &dead {
            return Err(d.clone());
        }
        let pdb = pdb.expect("a client when there is no setup error");
        pdb.query(q).map_err(|e| {
            // Name the endpoint, not the whole URL-encoded query (twice).
            let mut msg = e.to_string();
            if let Ok(url) = pdb.url(q) {
                msg = msg.replace(&url, &format!("{}{}?query=…", pdb.base, q.path()));
            }
            errors.push(msg.clone());
            if no_answer(&e) {
                dead = Some(format!(
                    "not asked: PuppetDB did not answer an earlier query ({})",
                    q.path()
                ));
            }
            msg
        })
    };
    let ip_why =
        "PE does not read it on the primary: Puppet's analytics server records the address \
the daily check-in comes from (the primary's public, possibly NAT-ed, address)";

    match run(&facts_q, &mut errors).and_then(|a| queries::read_node_facts(&a)) {
        Ok(f) if f.is_empty() => {
            let why = format!(
                "PuppetDB has no facts for {primary} (give the primary's certname with --certname)"
            );
            set(&mut it.primary_os, ItemStatus::Absent, why);
            set(&mut it.public_ip, ItemStatus::NotComputable, ip_why);
        }
        Ok(f) => {
            match queries::os_of(&f) {
                Some(os) => it.primary_os.value = json!(os),
                None => set(
                    &mut it.primary_os,
                    ItemStatus::Absent,
                    format!("{primary} has no os fact"),
                ),
            }
            let why = match queries::ip_of(&f) {
                Some(ip) => {
                    it.public_ip.value = json!(ip);
                    format!("{ip_why}; shown: the primary's own address from its networking fact")
                }
                None => ip_why.to_string(),
            };
            set(&mut it.public_ip, ItemStatus::NotComputable, why);
        }
        Err(e) => {
            set(&mut it.primary_os, ItemStatus::Error, e);
            set(&mut it.public_ip, ItemStatus::NotComputable, ip_why);
        }
    }
    match run(&nodes_q, &mut errors).and_then(|a| queries::read_node_count(&a)) {
        Ok(n) => it.nodes.value = json!(n),
        Err(e) => set(&mut it.nodes, ItemStatus::Error, e),
    }
    match run(&os_q, &mut errors).and_then(|a| queries::read_os_counts(&a)) {
        Ok(v) => it.agent_os.value = json!(v),
        Err(e) => set(&mut it.agent_os, ItemStatus::Error, e),
    }
    for (q, target) in [
        (&pv_q, &mut it.agent_versions),
        (&aio_q, &mut it.aio_versions),
    ] {
        match run(q, &mut errors).and_then(|a| queries::read_value_counts(&a)) {
            Ok(v) => target.value = json!(v),
            Err(e) => set(target, ItemStatus::Error, e),
        }
    }
    // Shape errors are errors too (they were not pushed by `run`).
    for i in [
        &it.primary_os,
        &it.nodes,
        &it.agent_os,
        &it.agent_versions,
        &it.aio_versions,
    ] {
        if i.status == ItemStatus::Error {
            let d = i.detail.clone().unwrap_or_default();
            if !d.starts_with("not asked") && !errors.iter().any(|e| d.contains(e.as_str())) {
                errors.push(format!("{}: {d}", i.item));
            }
        }
    }
    (it, errors)
}

pub fn report(a: &ReportArgs) -> Result<Exit, Failure> {
    let s = &a.status;
    let mut errors: Vec<String> = Vec::new();

    // License file.
    let lic_src = a.license_file.display().to_string();
    let mut uuid = item("license_uuid", "License UUID", lic_src.clone());
    let mut licensed = item(
        "licensed_nodes",
        "Number of licensed nodes",
        lic_src.clone(),
    );
    match read_license(&a.license_file) {
        Ok(Some(l)) => {
            match l.uuid {
                Some(u) => uuid.value = json!(u),
                None => set(
                    &mut uuid,
                    ItemStatus::Absent,
                    "the license file has no uuid (an older license)",
                ),
            }
            licensed.value = json!(l.nodes);
            if let Some(end) = l.end {
                licensed.detail = Some(format!("license valid until {end}"));
            }
        }
        Ok(None) => {
            for i in [&mut uuid, &mut licensed] {
                set(
                    i,
                    ItemStatus::Absent,
                    format!("no license file ({lic_src})"),
                );
            }
        }
        Err(e) => {
            errors.push(e.clone());
            for i in [&mut uuid, &mut licensed] {
                set(i, ItemStatus::Error, e.clone());
            }
        }
    }

    // Product and version.
    let mut product = item(
        "product_name",
        "Product name",
        "PE's product.conf (product.name: puppetlabs.packages/pe-master)",
    );
    let mut version = item(
        "pe_version",
        "PE version",
        s.pe_version_file.display().to_string(),
    );
    match read_pe_version(s.pe_version.as_deref(), &s.pe_version_file) {
        Ok(Some((v, src))) => {
            version.value = json!(v);
            version.source = src;
            product.value = json!("Puppet Enterprise (pe-master)");
        }
        Ok(None) => {
            let why = format!(
                "no {} (not a PE primary server?)",
                s.pe_version_file.display()
            );
            set(&mut version, ItemStatus::Absent, why.clone());
            set(&mut product, ItemStatus::Absent, why);
        }
        Err(e) => {
            errors.push(e.clone());
            set(&mut version, ItemStatus::Error, e);
            product.value = json!("Puppet Enterprise (pe-master)");
        }
    }

    // PuppetDB.
    let host = Host::current_with_certname(s.classifier.connection.certname.as_deref());
    let primary = s
        .classifier
        .connection
        .certname
        .clone()
        .unwrap_or_else(|| host.certname().to_string());
    let mut req = s.classifier.connection.requested();
    let (url, url_source) = match (&a.puppetdb_url, &req.server) {
        (Some(u), _) => (u.clone(), "--puppetdb-url".to_string()),
        (None, Some(srv)) => (
            format!("https://{srv}:{PUPPETDB_PORT}"),
            "--server".to_string(),
        ),
        (None, None) => (
            format!("https://{primary}:{PUPPETDB_PORT}"),
            "this host's certname".to_string(),
        ),
    };
    let client: Result<(PeHttp, String), String> = puppetdb::check_url(&url)
        .and_then(|u| {
            // Only the CA and credentials matter here: giving the (unused) API URLs
            // spares the certname discovery `resolve` would run for their defaults.
            req.classifier_url = Some(u.clone());
            req.orchestrator_url = Some(u.clone());
            let conn = config::resolve(&req, &host)?;
            Ok((PeHttp::new(&conn.client_config())?, u))
        })
        .map_err(|e| e.to_string());
    let (pdb_items, pdb_errors, queries_sent, setup_error) = match &client {
        Ok((http, base)) => {
            let pdb = PuppetDb {
                http,
                base: base.clone(),
            };
            let (i, e) = gather_puppetdb(Some(&pdb), None, &primary);
            (i, e, http.requests_sent(), None)
        }
        Err(e) => {
            let (i, _) = gather_puppetdb(None, Some(e), &primary);
            (i, vec![e.clone()], 0, Some(e.clone()))
        }
    };
    errors.extend(pdb_errors);

    let server = Section {
        section: "server",
        title: "Sent by Puppet Server (at start and every 24 hours)",
        items: vec![
            uuid,
            licensed,
            product,
            version,
            pdb_items.primary_os,
            pdb_items.public_ip,
            pdb_items.nodes,
            pdb_items.agent_os,
            pdb_items.agent_versions,
            pdb_items.aio_versions,
        ],
    };

    // Opt-out state, as `status` sees it (informational: it does not change the exit code).
    let (rows, st_exit, st_error) = status::collect(s);
    let verdict = if st_error.is_some() || st_exit == Exit::Error {
        "unknown"
    } else if st_exit == Exit::Pending {
        "not-opted-out"
    } else {
        "opted-out"
    };

    let exit = if errors.is_empty() {
        Exit::Ok
    } else {
        Exit::Error
    };
    let rep = Report {
        schema: SCHEMA,
        command: "report",
        sections: vec![server, console_section(), not_collected_section()],
        opt_out: OptOut {
            verdict,
            layers: rows,
        },
        puppetdb: PuppetDbInfo {
            url,
            url_source,
            queries: queries_sent,
            primary_certname: primary,
            error: setup_error,
        },
        outcome: if errors.is_empty() { "done" } else { "error" },
        exit_code: exit.code(),
        errors,
    };
    if s.output.format == Format::Json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rep).expect("the report serializes")
        );
    } else {
        print!("{}", render_text(&rep));
        for e in &rep.errors {
            eprintln!("error: {e}");
        }
    }
    Ok(exit)
}
