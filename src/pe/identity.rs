//! This host's Puppet identity, its certname and ssldir, read from
//! `puppet.conf` the way Puppet reads it, without starting Puppet.
//!
//! Why: `puppet config print certname` boots Puppet's Ruby runtime, which
//! takes seconds on a PE primary, and every command that needs a default URL
//! or the agent certificate would pay it. The file answers in microseconds.
//!
//! What Puppet does, and this module with it (Puppet 7, `puppet/settings.rb`,
//! `settings/ini_file.rb`, `settings/config_file.rb`, `settings/value_translator.rb`):
//!
//! * The file is `$confdir/puppet.conf`: `/etc/puppetlabs/puppet` for root,
//!   `~/.puppetlabs/etc/puppet` for other users. Here a user without a
//!   `puppet.conf` of their own reads the system one: this host's identity
//!   is the system agent's, whoever runs the tool.
//! * Lines are `[section]`, `name = value`, blank or `#` comments; anything
//!   else makes Puppet ignore the whole file (with an error), so this module
//!   cannot answer from it either.
//! * The agent looks a setting up in `[agent]`, then `[main]`, then takes the
//!   default: for `certname` the host's FQDN as Facter computes it
//!   (lowercased), for `ssldir` `$confdir/ssl`.
//! * Values lose quotes at their ends and blanks at their end; `$name` and
//!   `${name}` are replaced by that setting's value. A value that names a
//!   setting this module does not know is the one case where the file cannot
//!   answer: then, and only then, Puppet itself is asked, once, with a
//!   timeout (`puppet config print certname ssldir --section agent`).

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The confdir of a root Puppet agent (PE and open-source AIO packages).
pub const SYSTEM_CONFDIR: &str = "/etc/puppetlabs/puppet";

/// Overrides the confdir (for hosts with Puppet elsewhere, and for tests).
pub const CONFDIR_ENV: &str = "PE_ANALYTICS_PUPPET_CONFDIR";

/// How long `puppet config print` may take before it is given up on.
pub const PUPPET_TIMEOUT: Duration = Duration::from_secs(10);

/// The certname and ssldir of this host's Puppet agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub certname: String,
    pub ssldir: PathBuf,
}

/// A parsed `puppet.conf`: each section's settings, in file order.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PuppetConf {
    sections: HashMap<String, Vec<(String, String)>>,
}

impl PuppetConf {
    /// Parses the text as Puppet's `IniFile` does; `None` when Puppet would
    /// reject the file (a line that is neither a section, a setting, a
    /// comment nor blank).
    pub fn parse(text: &str) -> Option<PuppetConf> {
        let mut conf = PuppetConf::default();
        let mut section = "main".to_string();
        for line in text.lines() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            if let Some(name) = trimmed.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
                if !name.is_empty() && name.chars().all(is_word) {
                    section = name.to_string();
                    continue;
                }
                return None;
            }
            let (name, value) = line.split_once('=')?;
            let name = name.trim();
            if name.is_empty() || !name.chars().all(is_word) {
                return None;
            }
            conf.sections
                .entry(section.clone())
                .or_default()
                .push((name.to_string(), translate(value)));
        }
        Some(conf)
    }

    /// The raw value of `name` as the agent sees it: `[agent]`, then `[main]`.
    /// Within a section the first setting counts, as in Puppet.
    pub fn get(&self, name: &str) -> Option<&str> {
        ["agent", "main"].iter().find_map(|section| {
            self.sections
                .get(*section)?
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        })
    }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Puppet's `ValueTranslator`: a quote at either end and blanks at the end go.
fn translate(value: &str) -> String {
    let v = without_file_metadata(value.trim_start());
    let v = v.as_str();
    let v = v.strip_prefix(['"', '\'']).unwrap_or(v);
    let v = v.trim_end();
    let v = v.strip_suffix(['"', '\'']).unwrap_or(v);
    v.trim_end().to_string()
}

/// A file setting's `{owner = service, mode = 0750}` suffix removed (Puppet's
/// `extract_fileinfo`); braces of a `${name}` are not metadata.
fn without_file_metadata(value: &str) -> String {
    if let Some(open) = value
        .find('{')
        .filter(|&i| i == 0 || !value[..i].ends_with('$'))
    {
        if let Some(len) = value[open..].find('}') {
            if value[open..open + len].contains('=') {
                return format!("{}{}", &value[..open], &value[open + len + 1..]);
            }
        }
    }
    value.to_string()
}

/// Where the file cannot answer.
#[derive(Debug, PartialEq, Eq)]
struct Unknown;

/// The settings a value may refer to, and the file they are read from.
struct Settings<'a> {
    conf: &'a PuppetConf,
    confdir: &'a Path,
    fqdn: &'a dyn Fn() -> Option<String>,
}

impl Settings<'_> {
    /// A setting's value, interpolated; `depth` bounds `$a` -> `$b` -> ... chains.
    fn value(&self, name: &str, depth: usize) -> Result<String, Unknown> {
        if depth > 16 {
            return Err(Unknown);
        }
        if let Some(raw) = self.conf.get(name) {
            return self.interpolate(raw, depth + 1);
        }
        let confdir = self.confdir.display().to_string();
        Ok(match name {
            "confdir" => confdir,
            "ssldir" => format!("{confdir}/ssl"),
            "certdir" => format!("{}/certs", self.value("ssldir", depth + 1)?),
            "privatekeydir" => format!("{}/private_keys", self.value("ssldir", depth + 1)?),
            "codedir" => "/etc/puppetlabs/code".into(),
            "vardir" => "/opt/puppetlabs/puppet/cache".into(),
            "publicdir" => "/opt/puppetlabs/puppet/public".into(),
            "logdir" => "/var/log/puppetlabs/puppet".into(),
            "rundir" => "/var/run/puppetlabs".into(),
            "run_mode" => "agent".into(),
            "certname" => (self.fqdn)().ok_or(Unknown)?,
            _ => return Err(Unknown),
        })
    }

    /// `$name` and `${name}` replaced, as Puppet's `convert` does.
    fn interpolate(&self, raw: &str, depth: usize) -> Result<String, Unknown> {
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw;
        while let Some(i) = rest.find('$') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            let (name, len) = if let Some(inner) = after.strip_prefix('{') {
                match inner.find('}') {
                    Some(end) if end > 0 && inner[..end].chars().all(is_word) => {
                        (&inner[..end], end + 2)
                    }
                    _ => ("", 0),
                }
            } else {
                let end = after.find(|c: char| !is_word(c)).unwrap_or(after.len());
                (&after[..end], end)
            };
            if name.is_empty() {
                // A lone `$` stays as written.
                out.push('$');
                rest = after;
                continue;
            }
            out.push_str(&self.value(name, depth)?);
            rest = &after[len..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// What the file says, each part `Err(Unknown)` where it cannot say.
fn from_file(
    text: Option<&str>,
    confdir: &Path,
    fqdn: &dyn Fn() -> Option<String>,
) -> (Result<String, Unknown>, Result<PathBuf, Unknown>) {
    let empty = PuppetConf::default();
    let conf = match text {
        // No file: Puppet's defaults.
        None => &empty,
        Some(text) => match PuppetConf::parse(text) {
            Some(conf) => return answer(&conf, confdir, fqdn),
            None => return (Err(Unknown), Err(Unknown)),
        },
    };
    answer(conf, confdir, fqdn)
}

fn answer(
    conf: &PuppetConf,
    confdir: &Path,
    fqdn: &dyn Fn() -> Option<String>,
) -> (Result<String, Unknown>, Result<PathBuf, Unknown>) {
    let settings = Settings {
        conf,
        confdir,
        fqdn,
    };
    let certname = settings
        .value("certname", 0)
        .map(|c| c.to_lowercase())
        .and_then(|c| {
            if c.is_empty() || c.contains(char::is_whitespace) {
                Err(Unknown)
            } else {
                Ok(c)
            }
        });
    let ssldir = settings
        .value("ssldir", 0)
        .map(PathBuf::from)
        .and_then(|p| if p.is_absolute() { Ok(p) } else { Err(Unknown) });
    (certname, ssldir)
}

/// Where this host's `puppet.conf` lives: the override, else Puppet's confdir
/// for this user, else the system one.
pub fn confdir() -> PathBuf {
    if let Some(dir) = std::env::var_os(CONFDIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if !is_root() {
        if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
            let user = Path::new(&home).join(".puppetlabs/etc/puppet");
            if user.join("puppet.conf").is_file() {
                return user;
            }
        }
    }
    PathBuf::from(SYSTEM_CONFDIR)
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Asks Puppet for the certname and ssldir (`None`: it cannot say).
pub type AskPuppet<'a> = &'a dyn Fn() -> Option<(Option<String>, Option<PathBuf>)>;

/// Reads this host's identity from `confdir`; asks `ask_puppet` (at most
/// once, and not at all when it is `None`) only for what the file cannot
/// answer, and falls back to the FQDN and the default ssldir when Puppet
/// cannot answer either.
pub fn discover_in(
    confdir: &Path,
    fqdn: &dyn Fn() -> Option<String>,
    ask_puppet: Option<AskPuppet>,
) -> Identity {
    let text = match std::fs::read(confdir.join("puppet.conf")) {
        Ok(bytes) => Some(String::from_utf8(bytes).ok()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        // Unreadable (permissions): the file exists but cannot answer.
        Err(_) => Some(None),
    };
    let (certname, ssldir) = match &text {
        Some(None) => (Err(Unknown), Err(Unknown)),
        Some(Some(t)) => from_file(Some(t), confdir, fqdn),
        None => from_file(None, confdir, fqdn),
    };
    let (certname, ssldir) = match (certname, ssldir) {
        (Ok(c), Ok(s)) => (c, s),
        (c, s) => {
            let (asked_c, asked_s) = ask_puppet.and_then(|ask| ask()).unwrap_or((None, None));
            let certname = c
                .ok()
                .or(asked_c)
                .or_else(fqdn)
                .unwrap_or_else(|| "localhost".to_string());
            let ssldir = s.ok().or(asked_s).unwrap_or_else(|| confdir.join("ssl"));
            (certname, ssldir)
        }
    };
    Identity { certname, ssldir }
}

/// This host's identity (see the module's documentation), found once per
/// process however many times it is asked for.
pub fn discover() -> &'static Identity {
    static IDENTITY: std::sync::OnceLock<Identity> = std::sync::OnceLock::new();
    IDENTITY.get_or_init(|| {
        discover_in(
            &confdir(),
            &fqdn,
            Some(&|| puppet_config_print(PUPPET_TIMEOUT)),
        )
    })
}

/// This host's ssldir when the certname is known already (`--certname`):
/// from the file, else the default; Puppet is never asked.
pub fn discover_ssldir() -> PathBuf {
    discover_in(&confdir(), &|| Some("localhost".into()), None).ssldir
}

/// `puppet config print certname ssldir --section agent`, given up on after
/// `timeout` (the child is killed); `None` when puppet is not on PATH, fails
/// or says nothing usable.
pub fn puppet_config_print(timeout: Duration) -> Option<(Option<String>, Option<PathBuf>)> {
    config_print(Path::new("puppet"), timeout)
}

fn config_print(program: &Path, timeout: Duration) -> Option<(Option<String>, Option<PathBuf>)> {
    let mut child = Command::new(program)
        .args([
            "config",
            "print",
            "certname",
            "ssldir",
            "--section",
            "agent",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdout = child.stdout.take()?;
    // Read on a thread so a child that never closes its output cannot hold
    // this one past the deadline.
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = stdout.read_to_string(&mut out);
        out
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    };
    if !status.success() {
        return None;
    }
    let out = reader.join().ok()?;
    let mut certname = None;
    let mut ssldir = None;
    for line in out.lines() {
        match line.split_once(" = ") {
            Some(("certname", v)) => certname = Some(v.trim().to_string()),
            Some(("ssldir", v)) => ssldir = Some(PathBuf::from(v.trim())),
            _ => {}
        }
    }
    let certname = certname.filter(|c| !c.is_empty() && !c.contains(char::is_whitespace));
    let ssldir = ssldir.filter(|p| p.is_absolute());
    Some((certname, ssldir))
}

/// The host's fully qualified name as Facter computes Puppet's default
/// certname: the host name, and when it has no domain, the domain of its
/// canonical name (the resolver: /etc/hosts, DNS), else `domain` or the first
/// `search` entry of /etc/resolv.conf. Lowercased, without a trailing dot.
pub fn fqdn() -> Option<String> {
    let host = hostname()?;
    let (short, domain) = match host.split_once('.') {
        Some((s, d)) => (s.to_string(), d.to_string()),
        None => {
            let domain = canonical_name(&host)
                .and_then(|c| c.split_once('.').map(|(_, d)| d.to_string()))
                .or_else(resolv_conf_domain)
                .unwrap_or_default();
            (host.clone(), domain)
        }
    };
    let name = if domain.is_empty() {
        short
    } else {
        format!("{short}.{domain}")
    };
    let name = name.trim_end_matches('.').to_lowercase();
    (!name.is_empty()).then_some(name)
}

fn hostname() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most
    // that many bytes.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return None;
    }
    let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name = std::str::from_utf8(&buf[..len]).ok()?.trim().to_string();
    (!name.is_empty()).then_some(name)
}

/// The canonical name of `host` (getaddrinfo with AI_CANONNAME, as
/// `hostname -f` and Ruby's `Addrinfo.getaddrinfo` do).
fn canonical_name(host: &str) -> Option<String> {
    let c_host = std::ffi::CString::new(host).ok()?;
    // SAFETY: a zeroed addrinfo is a valid "no hints" value; only the fields
    // set below are read by getaddrinfo.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_flags = libc::AI_CANONNAME;
    hints.ai_family = libc::AF_UNSPEC;
    hints.ai_socktype = libc::SOCK_STREAM;
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: valid C string and hints; on success `res` is a list we free below.
    let rc = unsafe { libc::getaddrinfo(c_host.as_ptr(), std::ptr::null(), &hints, &mut res) };
    if rc != 0 || res.is_null() {
        return None;
    }
    // SAFETY: `res` is the non-null list getaddrinfo returned; ai_canonname is
    // null or a NUL-terminated string owned by the list, copied before freeing.
    let name = unsafe {
        let canon = (*res).ai_canonname;
        let name = (!canon.is_null()).then(|| {
            std::ffi::CStr::from_ptr(canon)
                .to_string_lossy()
                .into_owned()
        });
        libc::freeaddrinfo(res);
        name
    };
    name.filter(|n| !n.is_empty())
}

fn resolv_conf_domain() -> Option<String> {
    let text = std::fs::read_to_string("/etc/resolv.conf").ok()?;
    let mut search = None;
    for line in text.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("domain") => return words.next().map(str::to_string),
            Some("search") if search.is_none() => search = words.next().map(str::to_string),
            _ => {}
        }
    }
    search
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fqdn_stub() -> Option<String> {
        Some("host.example.test".into())
    }

    fn read(text: Option<&str>) -> (Result<String, Unknown>, Result<PathBuf, Unknown>) {
        from_file(text, Path::new("/etc/puppetlabs/puppet"), &fqdn_stub)
    }

    #[test]
    fn agent_beats_main_and_defaults_follow_puppet() {
        let text = "# PE\n[main]\ncertname = Primary.Example.Test\nserver = x\n[agent]\nruninterval = 30m\n";
        assert_eq!(read(Some(text)).0, Ok("primary.example.test".into()));
        let text =
            "[main]\ncertname = main.example.test\n[agent]\n  certname=\"agent.example.test\"  \n";
        assert_eq!(read(Some(text)).0, Ok("agent.example.test".into()));
        assert_eq!(
            read(None),
            (
                Ok("host.example.test".into()),
                Ok(PathBuf::from("/etc/puppetlabs/puppet/ssl"))
            )
        );
        // Settings before any section header are [main]'s.
        assert_eq!(
            read(Some("certname = top.example.test\n")).0,
            Ok("top.example.test".into())
        );
        // Another run mode's section does not count.
        assert_eq!(
            read(Some("[server]\ncertname = s.example.test\n")).0,
            Ok("host.example.test".into())
        );
    }

    #[test]
    fn values_are_interpolated() {
        let text = "[main]\nvardir = /var/pe\nssldir = $vardir/ssl\n[agent]\ncertname = ${run_mode}-1.example.test\n";
        assert_eq!(
            read(Some(text)),
            (
                Ok("agent-1.example.test".into()),
                Ok(PathBuf::from("/var/pe/ssl"))
            )
        );
        assert_eq!(
            read(Some("ssldir = $confdir/tls\n")).1,
            Ok(PathBuf::from("/etc/puppetlabs/puppet/tls"))
        );
        assert_eq!(read(Some("certname = $nosuchsetting\n")).0, Err(Unknown));
        assert_eq!(read(Some("ssldir = $ssldir/x\n")).1, Err(Unknown));
        assert_eq!(read(Some("ssldir = relative/ssl\n")).1, Err(Unknown));
    }

    #[test]
    fn file_metadata_is_not_part_of_the_value() {
        assert_eq!(
            read(Some("ssldir = /srv/ssl { owner = service, mode = 0771 }\n")).1,
            Ok(PathBuf::from("/srv/ssl"))
        );
        assert_eq!(
            read(Some("ssldir = ${confdir}/ssl2\n")).1,
            Ok(PathBuf::from("/etc/puppetlabs/puppet/ssl2"))
        );
    }

    #[test]
    fn a_file_puppet_would_reject_cannot_answer() {
        assert_eq!(
            read(Some("[main]\nthis is not a setting\n")),
            (Err(Unknown), Err(Unknown))
        );
    }

    #[test]
    fn puppet_is_asked_once_and_only_for_what_the_file_cannot_say() {
        let dir = tempfile::tempdir().unwrap();
        let asked = std::cell::Cell::new(0);
        let ask = || {
            asked.set(asked.get() + 1);
            Some((
                Some("asked.example.test".into()),
                Some(PathBuf::from("/x/ssl")),
            ))
        };
        std::fs::write(
            dir.path().join("puppet.conf"),
            "[main]\ncertname = file.example.test\n",
        )
        .unwrap();
        let id = discover_in(dir.path(), &fqdn_stub, Some(&ask));
        assert_eq!(
            (id.certname.as_str(), id.ssldir, asked.get()),
            ("file.example.test", dir.path().join("ssl"), 0)
        );
        std::fs::write(
            dir.path().join("puppet.conf"),
            "[main]\ncertname = file.example.test\nssldir = $unknown/ssl\n",
        )
        .unwrap();
        let id = discover_in(dir.path(), &fqdn_stub, Some(&ask));
        assert_eq!(
            (id.certname.as_str(), id.ssldir, asked.get()),
            ("file.example.test", PathBuf::from("/x/ssl"), 1)
        );
        // Puppet cannot answer either: the FQDN and the default ssldir.
        let id = discover_in(dir.path(), &fqdn_stub, Some(&|| None));
        assert_eq!(
            (id.certname.as_str(), id.ssldir),
            ("file.example.test", dir.path().join("ssl"))
        );
    }

    fn script(dir: &Path, text: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join("puppet");
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    #[test]
    fn puppet_config_print_is_read_and_bounded_in_time() {
        let dir = tempfile::tempdir().unwrap();
        let ok = script(
            dir.path(),
            "#!/bin/sh\necho 'certname = a.example.test'\necho 'ssldir = /srv/ssl'\n",
        );
        assert_eq!(
            config_print(&ok, Duration::from_secs(10)),
            Some((
                Some("a.example.test".into()),
                Some(PathBuf::from("/srv/ssl"))
            ))
        );
        let failing = script(dir.path(), "#!/bin/sh\necho 'certname = a'\nexit 1\n");
        assert_eq!(config_print(&failing, Duration::from_secs(10)), None);
        let slow = script(dir.path(), "#!/bin/sh\nexec sleep 30\n");
        let start = Instant::now();
        assert_eq!(config_print(&slow, Duration::from_millis(300)), None);
        assert!(start.elapsed() < Duration::from_secs(10));
        assert_eq!(
            config_print(&dir.path().join("missing"), Duration::from_secs(1)),
            None
        );
    }

    #[test]
    fn this_host_has_a_name() {
        let name = fqdn().expect("an FQDN");
        assert!(!name.is_empty() && name == name.to_lowercase() && !name.ends_with('.'));
    }
}
