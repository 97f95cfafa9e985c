//! Issue 14: the network edges of the PE client, against small servers of
//! this file (real TLS with a CA made here, on 127.0.0.1 only): a listener
//! that never accepts (a hung connect), one that accepts but never speaks
//! TLS, a body that never ends, a connection reset while the client writes
//! (SIGPIPE), malformed classifier JSON; and, against pe-sim, the hints, the
//! token file's mode and URLs with credentials.

mod support;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{with, Sim};

const BIN: &str = env!("CARGO_BIN_EXE_pe-analytics");

/// A CA and a server certificate for 127.0.0.1, written to a directory with a
/// token file, as the client's `--cacert` and `--token-file`.
struct Pki {
    dir: tempfile::TempDir,
    server: Arc<rustls::ServerConfig>,
}

impl Pki {
    fn new() -> Pki {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "test CA");
        ca.distinguished_name = dn;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate().unwrap();
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca_cert.pem()).unwrap();
        let issuer = Issuer::new(ca, ca_key);
        let sp = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".into()]).unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = sp.signed_by(&key, &issuer).unwrap();
        let token = dir.path().join("token");
        std::fs::write(&token, "test-token\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
        let mut cfg = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(cert.der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .unwrap();
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        Pki {
            dir,
            server: Arc::new(cfg),
        }
    }

    /// Connection flags for a server on `port`.
    fn args(&self, port: u16) -> Vec<String> {
        vec![
            "--classifier-url".into(),
            format!("https://127.0.0.1:{port}/classifier-api"),
            "--orchestrator-url".into(),
            format!("https://127.0.0.1:{port}"),
            "--cacert".into(),
            self.dir.path().join("ca.pem").display().to_string(),
            "--token-file".into(),
            self.dir.path().join("token").display().to_string(),
        ]
    }
}

/// What a stub server does with each connection.
#[derive(Clone)]
enum Behaviour {
    /// Accept the TCP connection, then say nothing (no TLS).
    Silent,
    /// Answer each request with the JSON the function gives for its path.
    Json(fn(&str) -> (u16, String)),
    /// Answer 200 with a chunked body that never ends.
    Endless,
    /// Send the TLS server flight, then reset the connection (RST) without
    /// reading: the client's next write meets a closed socket (EPIPE).
    ResetAfterServerFlight,
}

struct Stub {
    port: u16,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn stub(pki: &Pki, behaviour: Behaviour) -> Stub {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let (a, s, cfg) = (accepted.clone(), stop.clone(), pki.server.clone());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            if s.load(Ordering::SeqCst) {
                return;
            }
            let Ok(sock) = conn else { continue };
            a.fetch_add(1, Ordering::SeqCst);
            let (cfg, b, s) = (cfg.clone(), behaviour.clone(), s.clone());
            std::thread::spawn(move || serve(sock, cfg, b, s));
        }
    });
    Stub {
        port,
        accepted,
        stop,
    }
}

fn serve(mut sock: TcpStream, cfg: Arc<rustls::ServerConfig>, b: Behaviour, stop: Arc<AtomicBool>) {
    let _ = sock.set_read_timeout(Some(Duration::from_secs(60)));
    match b {
        Behaviour::Silent => {
            let start = Instant::now();
            while !stop.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(120) {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Behaviour::ResetAfterServerFlight => {
            let mut conn = rustls::ServerConnection::new(cfg).unwrap();
            // Read the ClientHello, answer with the whole server flight.
            while conn.wants_read() && !conn.wants_write() {
                if conn.read_tls(&mut sock).unwrap_or(0) == 0 {
                    return;
                }
                if conn.process_new_packets().is_err() {
                    return;
                }
            }
            while conn.wants_write() {
                if conn.write_tls(&mut sock).is_err() {
                    return;
                }
            }
            // SO_LINGER 0: close() sends RST.
            let fd = std::os::fd::AsRawFd::as_raw_fd(&sock);
            let l = libc::linger {
                l_onoff: 1,
                l_linger: 0,
            };
            // SAFETY: setsockopt on our own socket with a valid linger struct.
            unsafe {
                libc::setsockopt(
                    fd,
                    libc::SOL_SOCKET,
                    libc::SO_LINGER,
                    (&l as *const libc::linger).cast(),
                    std::mem::size_of::<libc::linger>() as u32,
                );
            }
        }
        Behaviour::Json(_) | Behaviour::Endless => {
            let conn = rustls::ServerConnection::new(cfg).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, sock);
            loop {
                // Read one request (headers; bodies here are small and sent with them).
                let mut reader = BufReader::new(&mut tls);
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let path = line.split(' ').nth(1).unwrap_or("/").to_string();
                let mut len = 0usize;
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 {
                        return;
                    }
                    if h == "\r\n" {
                        break;
                    }
                    if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; len];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                drop(reader);
                match &b {
                    Behaviour::Json(f) => {
                        let (status, body) = f(&path);
                        let head = format!(
                            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                            body.len()
                        );
                        if tls.write_all(head.as_bytes()).is_err()
                            || tls.write_all(body.as_bytes()).is_err()
                        {
                            return;
                        }
                        let _ = tls.flush();
                    }
                    _ => {
                        let _ = tls.write_all(
                            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
                        );
                        let chunk = format!("10000\r\n{}\r\n", "[".repeat(0x10000));
                        let start = Instant::now();
                        while !stop.load(Ordering::SeqCst)
                            && start.elapsed() < Duration::from_secs(120)
                        {
                            if tls.write_all(chunk.as_bytes()).is_err() {
                                return;
                            }
                        }
                        return;
                    }
                }
            }
        }
    }
}

/// A listener on 127.0.0.1 that never accepts, its queue already full, so
/// a further connect hangs (its SYNs are dropped).
struct Blackhole {
    port: u16,
    _fd: std::os::fd::OwnedFd,
    _fillers: Vec<std::os::fd::OwnedFd>,
}

fn blackhole() -> Blackhole {
    use std::os::fd::FromRawFd;
    // SAFETY: plain socket calls on descriptors we own, with valid structs.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        assert!(fd >= 0);
        let mut addr: libc::sockaddr_in = std::mem::zeroed();
        addr.sin_family = libc::AF_INET as u16;
        addr.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
        let len = std::mem::size_of::<libc::sockaddr_in>() as u32;
        assert_eq!(
            libc::bind(fd, (&addr as *const libc::sockaddr_in).cast(), len),
            0
        );
        assert_eq!(libc::listen(fd, 0), 0);
        let mut got: libc::sockaddr_in = std::mem::zeroed();
        let mut l = len;
        libc::getsockname(fd, (&mut got as *mut libc::sockaddr_in).cast(), &mut l);
        let port = u16::from_be(got.sin_port);
        // Fill the accept queue: non-blocking connects until one stays pending.
        let mut fillers = Vec::new();
        for _ in 0..8 {
            let c = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_NONBLOCK, 0);
            libc::connect(c, (&got as *const libc::sockaddr_in).cast(), len);
            fillers.push(std::os::fd::OwnedFd::from_raw_fd(c));
        }
        std::thread::sleep(Duration::from_millis(200));
        Blackhole {
            port,
            _fd: std::os::fd::OwnedFd::from_raw_fd(fd),
            _fillers: fillers,
        }
    }
}

type Run = support::measured::Measured;

fn run(args: &[String]) -> Run {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env("HOME", home.path())
        .env_remove("PE_RBAC_TOKEN");
    support::measured::run(cmd, Duration::from_secs(600))
}

fn args(first: &[&str], rest: &[String]) -> Vec<String> {
    first
        .iter()
        .map(|s| s.to_string())
        .chain(rest.iter().cloned())
        .collect()
}

#[test]
fn a_hung_connect_waits_the_whole_timeout_and_says_so() {
    let pki = Pki::new();
    let hole = blackhole();
    // Over the 10 s the connect phase was once capped at, whatever --timeout said.
    let out = run(&args(
        &["check", "--classifier", "--timeout", "11"],
        &pki.args(hole.port),
    ));
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("could not connect (TCP and TLS handshake) within 11 s (--timeout)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!("port {}", hole.port)),
        "{}",
        out.stderr
    );
    assert!(
        out.elapsed >= Duration::from_secs(11),
        "gave up after {:?}, before --timeout",
        out.elapsed
    );
}

#[test]
fn a_server_that_never_speaks_tls_times_out_in_the_connect_phase() {
    let pki = Pki::new();
    let s = stub(&pki, Behaviour::Silent);
    let out = run(&args(
        &["check", "--classifier", "--timeout", "1.5"],
        &pki.args(s.port),
    ));
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("could not connect (TCP and TLS handshake) within 1.5 s"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_pe_version_probe_does_not_spend_a_second_timeout() {
    let pki = Pki::new();
    let s = stub(&pki, Behaviour::Silent);
    let out = run(&args(
        &[
            "opt-out",
            "--classifier",
            "--timeout",
            "1",
            "--no-run",
            "--pe-version-file",
            "/nonexistent/pe_version",
        ],
        &pki.args(s.port),
    ));
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("/classifier-api/v1/groups")
            && out.stderr.contains("within 1 s (--timeout)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("pe-version: not asked"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("classifier: classifier:"),
        "{}",
        out.stderr
    );
    // One connection (the classifier's), not a second one for the version
    // probe on the same server.
    assert_eq!(s.accepted.load(Ordering::SeqCst), 1, "{}", out.stderr);
}

#[test]
fn an_endless_body_is_cut_at_the_cap_with_bounded_memory() {
    let pki = Pki::new();
    let s = stub(&pki, Behaviour::Endless);
    let out = run(&args(
        &["check", "--classifier", "--timeout", "20"],
        &pki.args(s.port),
    ));
    eprintln!(
        "endless body: peak RSS {} MiB after {:?}",
        out.max_rss_kib / 1024,
        out.elapsed
    );
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("the answer is larger than 64 MiB"),
        "{}",
        out.stderr
    );
    assert!(
        out.max_rss_kib < 256 * 1024,
        "peak RSS {} MiB",
        out.max_rss_kib / 1024
    );
}

#[test]
fn a_connection_reset_while_writing_is_an_error_not_a_silent_sigpipe() {
    let pki = Pki::new();
    let s = stub(&pki, Behaviour::ResetAfterServerFlight);
    for _ in 0..3 {
        let out = run(&args(
            &["check", "--classifier", "--timeout", "5"],
            &pki.args(s.port),
        ));
        assert_eq!(
            out.signal, None,
            "killed by signal {:?} (13 is SIGPIPE); stderr: {}",
            out.signal, out.stderr
        );
        assert_eq!(out.code, Some(1), "{}", out.stderr);
        assert!(
            out.stderr.contains("classifier: GET https://127.0.0.1"),
            "{}",
            out.stderr
        );
    }
}

fn broken_group(path: &str) -> (u16, String) {
    if path.ends_with("/v1/groups") {
        (
            200,
            r#"[{"id":"00000000-0000-4000-8000-000000000000","name":"PE Infrastructure","environment":"production","parent":"00000000-0000-4000-8000-000000000000","rule":null,"classes":{"puppet_enterprise":null}}]"#
                .into(),
        )
    } else {
        (404, r#"{"kind":"not-found","msg":"no"}"#.into())
    }
}

fn array_classes(path: &str) -> (u16, String) {
    if path.ends_with("/v1/groups") {
        (
            200,
            r#"[{"id":"00000000-0000-4000-8000-000000000000","name":"PE Infrastructure","environment":"production","classes":[]}]"#
                .into(),
        )
    } else {
        (404, r#"{"kind":"not-found","msg":"no"}"#.into())
    }
}

#[test]
fn malformed_classifier_json_is_an_error_never_a_panic() {
    let pki = Pki::new();
    for (f, want) in [
        (
            broken_group as fn(&str) -> (u16, String),
            "classes.puppet_enterprise is null, expected an object of class parameters",
        ),
        (
            array_classes,
            "\"classes\" is an array, expected an object of classes",
        ),
    ] {
        let s = stub(&pki, Behaviour::Json(f));
        for cmd in [
            &[
                "opt-out",
                "--classifier",
                "--pe-version",
                "2021.7.1",
                "--dry-run",
            ][..],
            &[
                "opt-out",
                "--classifier",
                "--pe-version",
                "2021.7.1",
                "--no-run",
            ][..],
            &["check", "--classifier"][..],
            &["status", "--pe-version", "2021.7.1", "--classifier"][..],
        ] {
            let out = run(&args(cmd, &pki.args(s.port)));
            let all = format!("{}{}", out.stdout, out.stderr);
            assert_eq!(out.code, Some(1), "{cmd:?}: {all}");
            assert!(!all.contains("panicked"), "{cmd:?}: {all}");
            assert!(all.contains(want), "{cmd:?}: {all}");
        }
    }
}

#[test]
fn huge_durations_are_usage_errors_before_anything_is_sent() {
    let sim = Sim::start(&["--pe-version", "2021.7.1"]);
    for flags in [
        &["--timeout", "1e20"][..],
        &["--wait-timeout", "1e20"][..],
        &["--wait-timeout", "inf"][..],
        &["--timeout=-1"][..],
        &["--wait-timeout", "100000000000000y"][..],
    ] {
        let mut a = vec![
            "opt-out",
            "--classifier",
            "--certname",
            "primary.example.test",
        ];
        a.extend(flags);
        let out = sim.run(&with(&a, &sim.token_args()));
        assert_eq!(out.code, 1, "{flags:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("invalid value"),
            "{flags:?}: {}",
            out.stderr
        );
        assert!(
            !out.stderr.contains("panicked"),
            "{flags:?}: {}",
            out.stderr
        );
    }
    assert!(sim.writes().is_empty(), "{:?}", sim.writes());
}

#[test]
fn puppetdb_refusals_name_puppetdbs_own_allowlist_once() {
    let sim = Sim::start(&["--pe-version", "2021.7.1"]);
    let out = sim.run(&[
        "report",
        "--puppetdb-url",
        &sim.s("puppetdb_url"),
        "--cacert",
        &sim.s("ca"),
        "--cert",
        &sim.s("unlisted_cert"),
        "--key",
        &sim.s("unlisted_key"),
        "--certname",
        "primary.example.test",
        "--pe-version",
        "2021.7.1",
        "--license-file",
        "/nonexistent/license.key",
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    // One PuppetDB hint for its five queries (other services have their own).
    assert_eq!(
        out.stderr.matches("hint: PuppetDB").count(),
        1,
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("/etc/puppetlabs/puppetdb/certificate-allowlist"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr
            .contains("console-services/rbac-certificate-allowlist\n"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_token_file_others_can_read_gets_a_warning() {
    let sim = Sim::start(&["--pe-version", "2021.7.1"]);
    use std::os::unix::fs::PermissionsExt;
    let token = PathBuf::from(sim.s("token_file"));
    for (mode, warned) in [(0o644, true), (0o640, true), (0o600, false)] {
        std::fs::set_permissions(&token, std::fs::Permissions::from_mode(mode)).unwrap();
        let out = sim.run(&with(&["check", "--classifier"], &sim.token_args()));
        assert_eq!(out.code, 2, "{}", out.stderr);
        let w = format!(
            "warning: the RBAC token file {} has mode {mode:04o}",
            token.display()
        );
        assert_eq!(out.stderr.contains(&w), warned, "{mode:o}: {}", out.stderr);
        assert!(
            out.stderr.matches("RBAC token file").count() <= 1,
            "{}",
            out.stderr
        );
    }
}

#[test]
fn urls_with_credentials_are_masked_in_errors_and_json() {
    let pki = Pki::new();
    let hole_port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port() // closed again: connection refused
    };
    let mut a = pki.args(hole_port);
    a[1] = format!("https://admin:hunter2@127.0.0.1:{hole_port}/classifier-api");
    for fmt in ["text", "json"] {
        let out = run(&args(&["check", "--classifier", "--format", fmt], &a));
        assert_eq!(out.code, Some(1), "{}", out.stderr);
        let all = format!("{}{}", out.stdout, out.stderr);
        assert!(!all.contains("hunter2"), "{all}");
        assert!(all.contains("https://<redacted>@127.0.0.1"), "{all}");
    }
    let out = run(&args(
        &[
            "report",
            "--puppetdb-url",
            &format!("https://127.0.0.1:{hole_port}/?token=s3cr3t"),
            "--format",
            "json",
            "--certname",
            "p",
            "--license-file",
            "/nonexistent",
        ],
        &a[4..],
    ));
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(!all.contains("s3cr3t") && !all.contains("hunter2"), "{all}");
    assert!(all.contains("token=<redacted>"), "{all}");
}
