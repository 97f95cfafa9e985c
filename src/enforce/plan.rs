//! What the enforcement needs to know about this PE: its version (and where
//! that came from) and the reloads PE 2016.5.1 needs after the runs. The
//! steps themselves are part of the procedure's plan
//! ([`crate::procedure::plan`]).

use super::reload::{reloads_for, remote_command, Reload, ServiceManager};
use super::version::PeVersion;
use serde::Serialize;
use std::path::Path;

pub const DEFAULT_PE_VERSION_FILE: &str = "/opt/puppetlabs/server/pe_version";

/// The PE version and where it came from.
#[derive(Clone, Debug, Serialize)]
pub struct DetectedVersion {
    pub version: Option<PeVersion>,
    /// `--pe-version`, the file's path, the status URL, or `unknown`.
    pub source: String,
    /// Why it is unknown, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// `--pe-version`, else the version file when it exists, else `status()`
/// (console services' `service_version`). A malformed flag or file is an
/// error; an unreachable status endpoint only leaves the version unknown.
pub fn detect_version(
    flag: Option<&str>,
    file: &Path,
    status: impl FnOnce() -> Result<(String, String), String>,
) -> Result<DetectedVersion, String> {
    if let Some(f) = flag {
        let v = f
            .parse::<PeVersion>()
            .map_err(|e| format!("--pe-version: {e}"))?;
        return Ok(DetectedVersion {
            version: Some(v),
            source: "--pe-version".into(),
            note: None,
        });
    }
    if file.exists() {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let first = text.lines().next().unwrap_or_default();
        let v = first
            .parse::<PeVersion>()
            .map_err(|e| format!("{}: {e}", file.display()))?;
        return Ok(DetectedVersion {
            version: Some(v),
            source: file.display().to_string(),
            note: None,
        });
    }
    match status() {
        Ok((text, url)) => match text.parse::<PeVersion>() {
            Ok(v) => Ok(DetectedVersion {
                version: Some(v),
                source: url,
                note: None,
            }),
            Err(e) => Ok(DetectedVersion {
                version: None,
                source: "unknown".into(),
                note: Some(format!("{url}: {e}")),
            }),
        },
        Err(e) => Ok(DetectedVersion {
            version: None,
            source: "unknown".into(),
            note: Some(e),
        }),
    }
}

/// A reload of the plan: done here, or printed for another host.
#[derive(Clone, Debug, Serialize)]
pub struct ReloadStep {
    pub node: String,
    pub service: &'static str,
    /// The node is this host: the reload is done here.
    pub local: bool,
    /// The command (run here, or to run on `node`).
    pub command: String,
    pub done: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The `reloads` entry of the JSON report's `layers`.
#[derive(Clone, Debug, Serialize)]
pub struct ReloadsReport {
    pub layer: &'static str,
    pub pe_version: DetectedVersion,
    pub this_host: String,
    pub reloads: Vec<ReloadStep>,
    /// Why the reloads were not done (the runs did not all succeed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_done: Option<String>,
}

/// The reloads PE `version` needs after the runs (only 2016.5.1 needs any).
pub fn plan_reloads(
    version: Option<PeVersion>,
    primary: &str,
    console: &str,
    this_host: &str,
    manager: Option<&ServiceManager>,
) -> Vec<ReloadStep> {
    if !version.is_some_and(PeVersion::needs_reload) {
        return Vec::new();
    }
    reloads_for(primary, console)
        .into_iter()
        .map(|r: Reload| {
            let local = r.node == this_host;
            let command = match (local, manager) {
                (true, Some(m)) => {
                    let (p, args) = m.command_line(r.service);
                    format!("{} {}", p.display(), args.join(" "))
                }
                (true, None) => format!("service {} reload", r.service),
                (false, _) => remote_command(&r),
            };
            ReloadStep {
                node: r.node,
                service: r.service,
                local,
                command,
                done: false,
                error: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_sources_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pe_version");
        let never = || -> Result<(String, String), String> { panic!("not asked") };
        let d = detect_version(Some("2016.5.1"), &file, never).unwrap();
        assert_eq!(d.version, Some(PeVersion::new(2016, 5, 1)));
        std::fs::write(&file, "2019.8.12\n").unwrap();
        let d = detect_version(None, &file, never).unwrap();
        assert_eq!(d.version, Some(PeVersion::new(2019, 8, 12)));
        std::fs::remove_file(&file).unwrap();
        let d = detect_version(None, &file, || Ok(("2021.7.1.0".into(), "u".into()))).unwrap();
        assert_eq!(d.version, Some(PeVersion::new(2021, 7, 1)));
        let d = detect_version(None, &file, || Err("down".into())).unwrap();
        assert_eq!(d.version, None);
        assert!(detect_version(Some("x"), &file, never).is_err());
    }

    #[test]
    fn reloads_only_on_2016_5_1_and_local_only_here() {
        let v = Some(PeVersion::new(2016, 5, 1));
        assert!(plan_reloads(Some(PeVersion::new(2016, 5, 2)), "p", "c", "p", None).is_empty());
        let r = plan_reloads(v, "p", "c", "p", None);
        assert_eq!(r.len(), 2);
        assert!(!r[0].local && r[0].command == "ssh c sudo service pe-console-services reload");
        assert!(r[1].local && r[1].service == "pe-puppetserver");
    }
}
