//! `pe-analytics report`: works out where each of PE's services is, has
//! [`crate::report::gather`] read every item of the PE version's list, takes
//! the opt-out state from `status`, and prints the table (results on
//! stdout, errors and their hints on stderr).
//!
//! Exit 0 when every item that applies was gathered (an absent license file
//! or `pe_version` is reported as absent, not as an error); 1 when an item
//! could not be gathered. The report is printed either way.

use super::args::{Format, ReportArgs, StatusArgs};
use super::{status, Failure};
use crate::output::Exit;
use crate::pe::config::{self, Host, Sourced};
use crate::pe::orchestrator::api_base;
use crate::pe::puppetdb::{self, PUPPETDB_PORT};
use crate::pe::PeHttp;
use crate::report::catalog::{self, Section as Sec, When};
use crate::report::gather::{self, Endpoint, Endpoints, Inputs};
use crate::report::{
    render_text, Item, ItemStatus, ListInfo, OptOut, PuppetDbInfo, Report, Section, Sent, SCHEMA,
};

/// Puppet Server's port.
const PUPPETSERVER_PORT: u16 = 8140;

/// The opt-out state, as `pe-analytics status` computes it from the same
/// flags (the one place the report calls `status`).
fn opt_out_state(a: &ReportArgs) -> OptOut {
    let s = StatusArgs {
        layer: a.layer.clone(),
        classifier: a.classifier.clone(),
        nodes: Vec::new(),
        marker_file: a.marker_file.clone(),
        pe_version: a.pe_version.clone(),
        pe_version_file: a.pe_version_file.clone(),
        // The same PuppetDB proves whether the opt-out was applied.
        puppetdb_url: a.puppetdb_url.clone(),
        output: a.output.clone(),
    };
    let (rows, st_exit, st_error) = status::collect(&s);
    let verdict = if st_error.is_some() || st_exit == Exit::Error {
        "unknown"
    } else if st_exit == Exit::Pending {
        "not-opted-out"
    } else {
        "opted-out"
    };
    OptOut {
        verdict,
        layers: rows,
    }
}

fn https(flag: &str, url: &str) -> Result<String, String> {
    match reqwest::Url::parse(url) {
        Ok(u) if u.scheme() == "https" => Ok(url.trim_end_matches('/').to_string()),
        Ok(_) => Err(format!("{flag} {url}: only https:// URLs are accepted")),
        Err(e) => Err(format!("{flag} {url}: not a URL ({e})")),
    }
}

/// The primary and every service's URL, and the one HTTPS client for them.
fn endpoints(a: &ReportArgs, host: &Host) -> (Sourced<String>, Endpoints, Result<PeHttp, String>) {
    let conn_args = &a.classifier.connection;
    let primary = match (&a.primary, &conn_args.server) {
        (Some(p), _) => Sourced {
            value: p.clone(),
            source: "--primary".into(),
        },
        (None, Some(s)) => Sourced {
            value: s.clone(),
            source: "--server".into(),
        },
        (None, None) => Sourced {
            value: host.certname().to_string(),
            source: "this host's certname".into(),
        },
    };
    let on_primary = |port: u16| Endpoint {
        url: format!("https://{}:{port}", primary.value),
        url_source: primary.source.clone(),
    };
    let flagged = |flag: &str, v: &Option<String>, port: u16| match v {
        Some(u) => https(flag, u).map(|url| Endpoint {
            url,
            url_source: flag.to_string(),
        }),
        None => Ok(on_primary(port)),
    };
    let pdb = match &a.puppetdb_url {
        Some(u) => puppetdb::check_url(u)
            .map(|url| Endpoint {
                url,
                url_source: "--puppetdb-url".into(),
            })
            .map_err(|e| e.to_string()),
        None => Ok(on_primary(PUPPETDB_PORT)),
    };
    let ps = flagged("--puppetserver-url", &a.puppetserver_url, PUPPETSERVER_PORT);
    let console_not_here = (!a.classifier.classifier
        && config::classifier_configured(&conn_args.requested(), host).is_none())
    .then(|| {
        "no PE console connection configured here (give --server or --classifier-url with \
credentials, as for `status`)"
            .to_string()
    });
    let conn = config::resolve(&conn_args.requested(), host).map_err(|e| e.to_string());
    let http = conn
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|c| PeHttp::new(&c.client_config()).map_err(|e| e.to_string()));
    let (classifier, rbac, orchestrator) = match &conn {
        Ok(c) => {
            let nc = c.classifier_url.value.trim_end_matches('/').to_string();
            let rbac = nc
                .strip_suffix("/classifier-api")
                .map(|b| format!("{b}/rbac-api"));
            (
                Ok(Endpoint {
                    url: nc.clone(),
                    url_source: c.classifier_url.source.clone(),
                }),
                rbac.map(|url| Endpoint {
                    url,
                    url_source: "the classifier's host and port".into(),
                })
                .ok_or_else(|| {
                    format!("--classifier-url {nc} does not end in /classifier-api, so RBAC's URL is unknown")
                }),
                Ok(Endpoint {
                    url: api_base(&c.orchestrator_url.value),
                    url_source: c.orchestrator_url.source.clone(),
                }),
            )
        }
        Err(e) => (Err(e.clone()), Err(e.clone()), Err(e.clone())),
    };
    (
        primary,
        Endpoints {
            puppetdb: pdb,
            classifier,
            rbac,
            orchestrator,
            puppetserver: ps,
            console_not_here,
        },
        http,
    )
}

fn sent_for(status: ItemStatus, when: When, opt_out: &OptOut) -> Sent {
    match (status, when) {
        (ItemStatus::NotCollected, _) | (ItemStatus::NotApplicable, _) | (_, When::Never) => {
            Sent::No
        }
        _ => opt_out.sent(),
    }
}

pub fn report(a: &ReportArgs) -> Result<Exit, Failure> {
    if !a.nodes.is_empty() {
        return Err(Failure::error(
            "report does not take --nodes: PE's analytics describe the whole installation, not \
given nodes (`pe-analytics status --nodes NODE,...` shows those nodes' opt-out state)",
        ));
    }
    let host = Host::current_with_certname(a.classifier.connection.certname.as_deref());
    let (primary, ends, http) = endpoints(a, &host);
    let inputs = Inputs {
        license_file: a.license_file.clone(),
        product_conf: a.product_conf.clone(),
        pe_version: a.pe_version.clone(),
        pe_version_file: a.pe_version_file.clone(),
        puppet_conf: a.puppet_conf.clone(),
        puppetserver_conf: a.puppetserver_conf.clone(),
        primary: primary.value.clone(),
        here: host.certname().to_string(),
    };
    let pdb_endpoint = ends.puppetdb.clone();
    let got = gather::gather(&inputs, &ends, http.as_ref().map_err(Clone::clone));
    let opt_out = opt_out_state(a);

    // PE's list for the version found.
    let version = got.pe_version.as_ref().map(|(v, _)| v.clone());
    let latest = catalog::PAGES.last().expect("pages").from;
    let parsed = version.as_deref().and_then(gather::release_of);
    let release = parsed.unwrap_or(latest);
    let page = catalog::page_for(release);
    let note = match (&version, parsed) {
        (None, _) => Some(format!(
            "the PE version is unknown (no {} and no --pe-version): PE's latest list is shown",
            a.pe_version_file.display()
        )),
        (Some(v), None) => Some(format!(
            "{v:?} is not a PE version (YEAR.RELEASE.PATCH): PE's latest list is shown"
        )),
        (Some(_), Some(r)) if r < catalog::PAGES[0].from => Some(
            "PE documents its analytics from 2016.4 on (the release that added the opt-out): \
2016.4's list is shown"
                .into(),
        ),
        _ => None,
    };
    let entries = catalog::items_for(release);
    let mut sections = Vec::new();
    let mut errors = got.errors.clone();
    for sec in Sec::ALL {
        let items: Vec<Item> = entries
            .iter()
            .filter(|e| e.section == sec)
            .map(|e| {
                let c = gather::complete(e, got.items.get(e.id));
                if c.status == ItemStatus::Error {
                    let d = c.detail.clone().unwrap_or_default();
                    let told = d.starts_with("not asked")
                        || d.contains(" not asked: ")
                        || errors.iter().any(|l| l.contains(d.as_str()));
                    if !told {
                        errors.push(format!("{}: {d}", e.item));
                    }
                }
                Item {
                    id: e.id,
                    item: e.item,
                    sent_by_pe: e.source != catalog::Source::NotCollected,
                    sent: sent_for(c.status, e.when, &opt_out),
                    sent_when: e.when.id(),
                    status: c.status,
                    value: c.value,
                    source: c.source,
                    detail: c.detail,
                }
            })
            .collect();
        if !items.is_empty() {
            sections.push(Section {
                section: sec.id(),
                title: sec.title(),
                items,
            });
        }
    }
    let any_error = sections
        .iter()
        .flat_map(|s| &s.items)
        .any(|i| i.status == ItemStatus::Error);
    let exit = if any_error || !errors.is_empty() {
        Exit::Error
    } else {
        Exit::Ok
    };
    let pdb_info = got.services.iter().find(|s| s.service == "puppetdb");
    let rep = Report {
        schema: SCHEMA,
        command: "report",
        list: ListInfo {
            pe_version: version,
            page_from: format!("{}.{}", page.from.0, page.from.1),
            pages: page.paths.to_vec(),
            items: sections.iter().map(|s| s.items.len()).sum(),
            note,
        },
        sections,
        opt_out,
        puppetdb: PuppetDbInfo {
            url: match &pdb_endpoint {
                Ok(e) => e.url.clone(),
                Err(_) => a.puppetdb_url.clone().unwrap_or_default(),
            },
            url_source: match &pdb_endpoint {
                Ok(e) => e.url_source.clone(),
                Err(_) => "--puppetdb-url".into(),
            },
            queries: pdb_info.map(|s| s.requests).unwrap_or(0),
            primary_certname: primary.value.clone(),
            error: pdb_endpoint
                .as_ref()
                .err()
                .cloned()
                .or_else(|| http.as_ref().err().cloned()),
        },
        outcome: if exit == Exit::Ok { "done" } else { "error" },
        exit_code: exit.code(),
        errors,
        services: got.services,
    };
    if a.output.format == Format::Json {
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
