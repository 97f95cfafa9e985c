//! The PE 2016.5.1 quirk: after the runs, `pe-console-services` must be
//! reloaded on the console node and `pe-puppetserver` on the primary. On this
//! host that is done here (`systemctl reload X`, or `service X reload` where
//! there is no systemd); for another host the exact command is printed.

use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One service to reload, and on which node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reload {
    pub node: String,
    pub service: &'static str,
}

/// The reloads 2016.5.1 needs for a primary and a console node.
pub fn reloads_for(primary: &str, console: &str) -> Vec<Reload> {
    vec![
        Reload {
            node: console.to_string(),
            service: "pe-console-services",
        },
        Reload {
            node: primary.to_string(),
            service: "pe-puppetserver",
        },
    ]
}

/// How a service is reloaded on a host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServiceManager {
    Systemctl(PathBuf),
    Service(PathBuf),
}

impl ServiceManager {
    /// `systemctl` where systemd runs, else `service`, each looked up on
    /// `path_var` (the PATH); where only one exists, that one.
    pub fn find(
        path_var: Option<&std::ffi::OsStr>,
        systemd_running: bool,
    ) -> Option<ServiceManager> {
        let systemctl = which("systemctl", path_var);
        let service = which("service", path_var);
        match (systemctl, service) {
            (Some(s), _) if systemd_running => Some(ServiceManager::Systemctl(s)),
            (_, Some(s)) => Some(ServiceManager::Service(s)),
            (Some(s), None) => Some(ServiceManager::Systemctl(s)),
            (None, None) => None,
        }
    }

    /// The command line that reloads `service`.
    pub fn command_line(&self, service: &str) -> (PathBuf, Vec<String>) {
        match self {
            ServiceManager::Systemctl(p) => (p.clone(), vec!["reload".into(), service.into()]),
            ServiceManager::Service(p) => (p.clone(), vec![service.into(), "reload".into()]),
        }
    }

    /// Reloads `service` here; the error says what failed.
    pub fn reload(&self, service: &str) -> Result<(), String> {
        let (program, args) = self.command_line(service);
        let shown = format!("{} {}", program.display(), args.join(" "));
        let output = Command::new(&program)
            .args(&args)
            .output()
            .map_err(|e| format!("`{shown}` could not be started: {e}"))?;
        if output.status.success() {
            Ok(())
        } else {
            let err = String::from_utf8_lossy(&output.stderr);
            Err(format!(
                "`{shown}` failed ({}): {}",
                output.status,
                err.trim()
            ))
        }
    }
}

/// The command an admin runs on another host, in PE's documented form.
pub fn remote_command(reload: &Reload) -> String {
    format!("ssh {} sudo service {} reload", reload.node, reload.service)
}

/// Whether systemd is the init system here (its runtime directory exists).
pub fn systemd_running() -> bool {
    Path::new("/run/systemd/system").is_dir()
}

fn which(name: &str, path_var: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path_var = path_var?;
    std::env::split_paths(path_var)
        .map(|dir| dir.join(name))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn stub(dir: &Path, name: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, "#!/bin/sh\nexit 0\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    #[test]
    fn systemctl_where_systemd_runs_else_service() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().as_os_str();
        assert_eq!(ServiceManager::find(Some(path), true), None);
        let systemctl = stub(dir.path(), "systemctl");
        assert_eq!(
            ServiceManager::find(Some(path), false),
            Some(ServiceManager::Systemctl(systemctl.clone()))
        );
        let service = stub(dir.path(), "service");
        assert_eq!(
            ServiceManager::find(Some(path), true),
            Some(ServiceManager::Systemctl(systemctl))
        );
        let found = ServiceManager::find(Some(path), false).unwrap();
        assert_eq!(found, ServiceManager::Service(service.clone()));
        assert_eq!(
            found.command_line("pe-puppetserver"),
            (
                service,
                vec!["pe-puppetserver".to_string(), "reload".to_string()]
            )
        );
        found.reload("pe-puppetserver").unwrap();
    }

    #[test]
    fn failures_say_what_failed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("service");
        std::fs::write(
            &p,
            "#!/bin/sh\necho 'Job for pe-puppetserver.service failed' >&2\nexit 1\n",
        )
        .unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        let err = ServiceManager::Service(p)
            .reload("pe-puppetserver")
            .unwrap_err();
        assert!(
            err.contains("pe-puppetserver reload` failed") && err.contains("Job for"),
            "{err}"
        );
    }

    #[test]
    fn reloads_name_the_right_nodes() {
        let r = reloads_for("primary.example.com", "console.example.com");
        assert_eq!(r[0].node, "console.example.com");
        assert_eq!(r[0].service, "pe-console-services");
        assert_eq!(
            remote_command(&r[1]),
            "ssh primary.example.com sudo service pe-puppetserver reload"
        );
    }
}
