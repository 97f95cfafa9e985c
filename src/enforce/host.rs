//! Which host this is, by its Puppet certname: `--certname`, else the agent's
//! own (`puppet config print certname`, where Puppet is installed), else the
//! FQDN.

use std::process::Command;

/// This host's certname.
pub fn this_certname(explicit: Option<&str>) -> String {
    if let Some(name) = explicit {
        return name.to_string();
    }
    puppet_certname().unwrap_or_else(fqdn)
}

fn puppet_certname() -> Option<String> {
    let out = Command::new("puppet")
        .args(["config", "print", "certname"])
        .output()
        .ok()?;
    let name = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !name.is_empty()).then_some(name)
}

/// The fully qualified domain name, as `hostname -f` gives it, else the
/// kernel's host name.
pub fn fqdn() -> String {
    let from_hostname = Command::new("hostname")
        .arg("-f")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    from_hostname.unwrap_or_else(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "localhost".into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_certname_wins() {
        assert_eq!(
            this_certname(Some("primary.example.com")),
            "primary.example.com"
        );
        assert!(!fqdn().is_empty());
    }
}
