//! Issue 14: what pe-analytics does with files an attacker or an unlucky
//! admin hands it: device nodes, FIFOs, huge (sparse) files, hard links,
//! extended attributes and ACLs, signals in the middle of a write, a full
//! disk, two editors at once, and the mode a backup is created with. Each
//! runs the real binary on real files.

mod support;

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use wait_timeout::ChildExt;

const BIN: &str = env!("CARGO_BIN_EXE_pe-analytics");

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/pe.conf")
        .join(name)
}

/// A scratch directory on the build's file system (which, unlike a tmpfs,
/// is sure to carry extended attributes and ACLs).
fn scratch() -> tempfile::TempDir {
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap()
}

type Out = support::measured::Measured;

/// Runs pe-analytics, waiting at most `limit` (a hang fails the test
/// instead of blocking it), with the peak memory of the process.
fn run_limited(args: &[&str], env: &[(&str, &str)], limit: Duration) -> Out {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env_remove("PE_ANALYTICS_MAX_FILE_SIZE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    support::measured::run(cmd, limit)
}

fn run(args: &[&str]) -> Out {
    run_limited(args, &[], Duration::from_secs(120))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `.pe-analytics-*` files in `dir`.
fn temps(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".pe-analytics-"))
        .collect()
}

/// Every writing command on `path`: opt-out/opt-in on pe.conf, conf set/unset.
fn writers(path: &str) -> Vec<Vec<String>> {
    [
        vec!["opt-out", "--pe-conf", path],
        vec!["opt-out", "--pe-conf", path, "--backup"],
        vec!["opt-in", "--explicit", "--pe-conf", path],
        vec!["conf", "set", "--file", path, "a.b", "1"],
        vec!["conf", "unset", "--file", path, "a"],
        vec!["check", "--pe-conf", path],
        vec!["conf", "get", "--file", path, "a"],
    ]
    .into_iter()
    .map(|v| v.into_iter().map(str::to_string).collect())
    .collect()
}

fn mknod_char(path: &Path, major: u32, minor: u32) -> bool {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: mknod on a NUL-terminated path in our own temporary directory.
    unsafe {
        libc::mknod(
            c.as_ptr(),
            libc::S_IFCHR | 0o666,
            libc::makedev(major, minor),
        ) == 0
    }
}

#[test]
fn a_device_node_is_refused_and_stays_a_device() {
    let dir = scratch();
    let dev = dir.path().join("pe.conf");
    // The numbers of /dev/null and /dev/zero, made here: never a real device.
    if !mknod_char(&dev, 1, 3) {
        eprintln!(
            "SKIPPED a_device_node_is_refused_and_stays_a_device: mknod is not permitted here ({})",
            std::io::Error::last_os_error()
        );
        return;
    }
    let zero = dir.path().join("zero.conf");
    assert!(mknod_char(&zero, 1, 5));
    for p in [&dev, &zero] {
        let rdev = fs::metadata(p).unwrap().rdev();
        for args in writers(s(p)) {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = run_limited(&args, &[], Duration::from_secs(60));
            assert_eq!(out.code, Some(1), "{args:?}: {}", out.stderr);
            assert!(
                out.stderr
                    .contains("is a character device, not a regular file"),
                "{args:?}: {}",
                out.stderr
            );
            let meta = fs::metadata(p).unwrap();
            assert!(
                meta.file_type().is_char_device(),
                "{args:?} replaced the device"
            );
            assert_eq!(meta.rdev(), rdev);
        }
    }
    assert!(temps(dir.path()).is_empty());
    // Through a symlink, too.
    let link = dir.path().join("link.conf");
    std::os::unix::fs::symlink(&dev, &link).unwrap();
    let out = run(&["opt-out", "--pe-conf", s(&link)]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(fs::metadata(&dev).unwrap().file_type().is_char_device());
}

#[test]
fn a_fifo_is_refused_without_blocking() {
    let dir = scratch();
    let fifo = dir.path().join("pe.conf");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: mkfifo on a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    for args in writers(s(&fifo)) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        // Nobody ever opens the other end: a blocking open would hang here.
        let out = run_limited(&args, &[], Duration::from_secs(30));
        assert_eq!(out.code, Some(1), "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains("is a FIFO"), "{args:?}: {}", out.stderr);
        assert!(fs::metadata(&fifo).unwrap().file_type().is_fifo());
    }
}

#[test]
fn a_sparse_2_gib_file_is_refused_before_reading() {
    let dir = scratch();
    let path = dir.path().join("pe.conf");
    fs::File::create(&path).unwrap().set_len(2 << 30).unwrap();
    for args in writers(s(&path)) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&args);
        assert_eq!(out.code, Some(1), "{args:?}: {}", out.stderr);
        assert!(
            out.stderr
                .contains("is 2 GiB (2147483648 bytes), more than the 64 MiB limit"),
            "{args:?}: {}",
            out.stderr
        );
        // Nothing was read: the process stayed small (a read would need 2 GiB).
        assert!(
            out.max_rss_kib < 64 * 1024,
            "{args:?}: {} KiB",
            out.max_rss_kib
        );
        assert_eq!(fs::metadata(&path).unwrap().len(), 2 << 30);
    }
    assert!(temps(dir.path()).is_empty());
}

#[test]
fn the_size_limit_is_overridable_by_flag_and_environment() {
    let dir = scratch();
    let path = dir.path().join("pe.conf");
    fs::copy(fixture("2021.7-standard.conf"), &path).unwrap();
    let size = fs::metadata(&path).unwrap().len();
    let small = (size - 1).to_string();
    let out = run_limited(
        &["check", "--pe-conf", s(&path)],
        &[("PE_ANALYTICS_MAX_FILE_SIZE", &small)],
        Duration::from_secs(60),
    );
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("PE_ANALYTICS_MAX_FILE_SIZE"),
        "{}",
        out.stderr
    );
    let out = run(&["check", "--max-file-size", &small, "--pe-conf", s(&path)]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let out = run(&[
        "check",
        "--max-file-size",
        &size.to_string(),
        "--pe-conf",
        s(&path),
    ]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    let out = run(&[
        "check",
        "--max-file-size",
        "1 parsec",
        "--pe-conf",
        s(&path),
    ]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(out.stderr.contains("--max-file-size"), "{}", out.stderr);
}

#[test]
fn a_hard_linked_file_is_refused_with_a_clear_message() {
    let dir = scratch();
    let path = dir.path().join("pe.conf");
    fs::copy(fixture("2021.7-standard.conf"), &path).unwrap();
    let other = dir.path().join("pe.conf.orig");
    fs::hard_link(&path, &other).unwrap();
    let before = fs::read(&path).unwrap();
    let out = run(&["opt-out", "--pe-conf", s(&path), "--backup"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(out.stderr.contains("has 2 hard links"), "{}", out.stderr);
    assert_eq!(fs::read(&path).unwrap(), before);
    assert_eq!(fs::metadata(&path).unwrap().nlink(), 2, "the link is kept");
    assert!(temps(dir.path()).is_empty());
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2, "no backup");
    // A dry run shows the change and the preflight finding that would stop
    // the real run (issue 13: a dry run whose real run would be refused
    // exits 1); nothing is written.
    let out = run(&["opt-out", "--pe-conf", s(&path), "--dry-run"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stdout
            .contains("+  \"puppet_enterprise::send_analytics_data\": false"),
        "{}",
        out.stdout
    );
    assert!(out.stderr.contains("has 2 hard links"), "{}", out.stderr);
    assert_eq!(fs::read(&path).unwrap(), before);
}

fn tool_exists(name: &str) -> bool {
    Command::new(name)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

fn sh(cmd: &str, args: &[&str]) -> String {
    let o = Command::new(cmd).args(args).output().unwrap();
    assert!(
        o.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn extended_attributes_and_acls_are_kept_on_the_file_and_its_backup() {
    for t in ["setfattr", "getfattr", "setfacl", "getfacl"] {
        assert!(
            tool_exists(t),
            "{t} is missing: apt-get install attr acl (.ci/run does)"
        );
    }
    let dir = scratch();
    let path = dir.path().join("pe.conf");
    fs::copy(fixture("2021.7-standard.conf"), &path).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    sh(
        "setfattr",
        &["-n", "user.pe_analytics_test", "-v", "kept", s(&path)],
    );
    sh("setfacl", &["-m", "u:nobody:r,g:daemon:rw", s(&path)]);
    let acl_before = sh("getfacl", &["-cp", s(&path)]);
    assert!(acl_before.contains("user:nobody:r--"), "{acl_before}");
    let mode_before = fs::metadata(&path).unwrap().mode() & 0o7777;

    let out = run(&["opt-out", "--pe-conf", s(&path), "--backup"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let backup = fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().contains(".bak."))
        .expect("a backup");
    for p in [&path, &backup] {
        let attr = sh(
            "getfattr",
            &["--only-values", "-n", "user.pe_analytics_test", s(p)],
        );
        assert_eq!(attr, "kept", "{}", p.display());
        assert_eq!(sh("getfacl", &["-cp", s(p)]), acl_before, "{}", p.display());
        assert_eq!(
            fs::metadata(p).unwrap().mode() & 0o7777,
            mode_before,
            "{}",
            p.display()
        );
    }
    assert!(fs::read_to_string(&path)
        .unwrap()
        .contains("send_analytics_data\": false"));
}

/// A pe.conf of about 8 MB: a real one plus many comment lines (cheap to
/// parse, as heavy to write as any text).
fn big_pe_conf(path: &Path) -> Vec<u8> {
    let mut text = fs::read_to_string(fixture("2021.7-braceless.conf")).unwrap();
    let mut i = 0;
    while text.len() < 8 << 20 {
        text.push_str(&format!("# {i:06} {}\n", "c".repeat(90)));
        i += 1;
    }
    fs::write(path, &text).unwrap();
    text.into_bytes()
}

/// Starts `args`, waits until a temporary file appears beside `path` (the
/// write has begun), then a random 0..`window` later sends `sig`.
fn signal_during_write(args: &[&str], dir: &Path, sig: i32, window: Duration) -> Option<i32> {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if !temps(dir).is_empty() {
            break;
        }
        if child.try_wait().unwrap().is_some() || Instant::now() > deadline {
            break; // finished before we saw it: the file must then be new
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    let nanos = fastrand::u64(0..=window.as_nanos() as u64);
    std::thread::sleep(Duration::from_nanos(nanos));
    // SAFETY: kill on our own child's pid.
    unsafe { libc::kill(child.id() as i32, sig) };
    let status = child
        .wait_timeout(Duration::from_secs(120))
        .unwrap()
        .expect("the process ends after the signal");
    status.signal()
}

#[test]
fn signals_during_a_write_leave_old_or_new_text_and_no_temporary_file() {
    let dir = scratch();
    let path = dir.path().join("pe.conf");
    let old = big_pe_conf(&path);
    let args = ["conf", "set", "--file", s(&path), "extra.key", "1"];
    // One undisturbed run gives the new text and how long the write takes.
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut seen = None;
    while child.try_wait().unwrap().is_none() {
        if seen.is_none() && !temps(dir.path()).is_empty() {
            seen = Some(Instant::now());
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    let window = seen.map_or(Duration::from_millis(50), |t| t.elapsed()) * 2;
    let new = fs::read(&path).unwrap();
    assert_ne!(new, old);

    let mut killed_mid_write = 0;
    let mut trials = 0;
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        for _ in 0..3 {
            fs::write(&path, &old).unwrap();
            let by = signal_during_write(&args, dir.path(), sig, window);
            trials += 1;
            let now = fs::read(&path).unwrap();
            assert!(
                now == old || now == new,
                "signal {sig}: the file is neither old nor new"
            );
            assert!(
                temps(dir.path()).is_empty(),
                "signal {sig} left {:?}",
                temps(dir.path())
            );
            if by == Some(sig) && now == old {
                killed_mid_write += 1;
            }
        }
    }
    eprintln!("{killed_mid_write} of {trials} signals landed before the rename");

    // SIGKILL runs no code: a leftover may stay, and the next write removes it.
    let mut leftovers = 0;
    for _ in 0..3 {
        fs::write(&path, &old).unwrap();
        signal_during_write(&args, dir.path(), libc::SIGKILL, window);
        let now = fs::read(&path).unwrap();
        assert!(now == old || now == new);
        leftovers += temps(dir.path()).len();
    }
    let left = temps(dir.path());
    let out = run(&["conf", "set", "--file", s(&path), "other.key", "2"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(temps(dir.path()).is_empty(), "{:?}", temps(dir.path()));
    for name in &left {
        assert!(
            out.stdout.contains(name.as_str()),
            "not reported: {name}: {}",
            out.stdout
        );
    }
    eprintln!("SIGKILL left {leftovers} temporary file(s) in 3 runs; the next write removed them");
}

#[test]
fn a_write_that_fails_midway_leaves_no_temporary_file_or_backup() {
    // A file size limit stands in for a full disk: the write fails partway
    // (EFBIG, with SIGXFSZ ignored) exactly where ENOSPC would.
    let dir = scratch();
    let path = dir.path().join("pe.conf");
    let old = big_pe_conf(&path);
    for args in [
        vec!["opt-out", "--pe-conf", s(&path), "--backup"],
        vec!["conf", "set", "--file", s(&path), "--backup", "a", "1"],
        vec!["opt-out", "--pe-conf", s(&path)],
    ] {
        let mut cmd = Command::new(BIN);
        cmd.args(&args);
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                let lim = libc::rlimit {
                    rlim_cur: 1 << 20,
                    rlim_max: 1 << 20,
                };
                libc::setrlimit(libc::RLIMIT_FSIZE, &lim);
                Ok(())
            });
        }
        let o = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("cannot write"), "{args:?}: {stderr}");
        assert_eq!(fs::read(&path).unwrap(), old, "{args:?}");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("pe.conf")], "{args:?}");
    }
}

#[test]
fn two_concurrent_editors_lose_no_update() {
    let dir = scratch();
    let path = dir.path().join("pe.conf");
    let mut base = fs::read_to_string(fixture("2021.7-braceless.conf")).unwrap();
    for i in 0..20_000 {
        base.push_str(&format!("# {i:06} {}\n", "c".repeat(60)));
    }
    let trials = 10;
    for t in 0..trials {
        fs::write(&path, &base).unwrap();
        let spawn = |key: &str| {
            Command::new(BIN)
                .args(["conf", "set", "--file", s(&path), key, &t.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let a = spawn("editor_a");
        let b = spawn("editor_b");
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        let text = fs::read_to_string(&path).unwrap();
        for (key, o) in [("editor_a", &a), ("editor_b", &b)] {
            assert_eq!(
                o.status.code(),
                Some(0),
                "trial {t}: {key}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            assert!(
                text.contains(&format!("{key}="))
                    || text.contains(&format!("{key} ="))
                    || text.contains(&format!("{key}:")),
                "trial {t}: the update of {key} was lost"
            );
        }
    }
}

/// The file descriptor a traced `openat(...) = N` returned.
fn returned_fd(line: &str) -> Option<u32> {
    line.rsplit("= ").next()?.trim().parse().ok()
}

#[test]
fn backups_and_temporary_files_are_private_before_their_first_byte() {
    assert!(
        tool_exists("strace"),
        "strace is missing: apt-get install strace (.ci/run does)"
    );
    let dir = scratch();
    let path = dir.path().join("pe.conf");
    fs::copy(fixture("2021.7-standard.conf"), &path).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    let trace = dir.path().join("trace.txt");
    let mut cmd = Command::new("strace");
    cmd.args(["-f", "-qq", "-e", "trace=openat,open,creat,fchmod,fchmodat,chmod,fchown,write,pwrite64,link,linkat,rename,renameat,renameat2,close", "-o"])
        .arg(&trace)
        .arg(BIN)
        .args(["opt-out", "--pe-conf", s(&path), "--backup"]);
    // SAFETY: umask only, between fork and exec: a permissive umask, so a
    // file created with the default mode would be world-readable.
    unsafe {
        cmd.pre_exec(|| {
            libc::umask(0o022);
            Ok(())
        });
    }
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let trace = fs::read_to_string(&trace).unwrap();
    let dir_s = s(dir.path()).to_string();
    // fd -> (path, whether it has been given its final mode yet)
    let mut open: std::collections::HashMap<u32, (String, bool)> = Default::default();
    let mut created = Vec::new();
    for line in trace.lines() {
        let call = line.split_once(' ').map_or(line, |x| x.1).trim_start();
        if (call.starts_with("openat(") || call.starts_with("open(") || call.starts_with("creat("))
            && call.contains(&dir_s)
            && (call.contains("O_CREAT") || call.starts_with("creat("))
        {
            let file = call.split('"').nth(1).unwrap().to_string();
            let mode = call
                .rsplit(", ")
                .next()
                .and_then(|m| m.split(')').next())
                .and_then(|m| u32::from_str_radix(m.trim_start_matches('0'), 8).ok())
                .unwrap_or(0);
            assert_eq!(
                mode & 0o077,
                0,
                "{file} was created with mode {mode:04o}: readable by others before its mode is set:\n{line}"
            );
            assert!(
                !file.contains(".bak."),
                "the backup was created under its final name (a partial one could stay):\n{line}"
            );
            if let Some(fd) = returned_fd(call) {
                open.insert(fd, (file.clone(), false));
            }
            created.push(file);
        } else if let Some(rest) = call.strip_prefix("fchmod(") {
            let fd: u32 = rest.split(',').next().unwrap().parse().unwrap();
            if let Some(f) = open.get_mut(&fd) {
                f.1 = true;
            }
        } else if let Some(rest) = call
            .strip_prefix("write(")
            .or_else(|| call.strip_prefix("pwrite64("))
        {
            let fd: u32 = rest.split(',').next().unwrap().parse().unwrap();
            if let Some((file, moded)) = open.get(&fd) {
                assert!(
                    moded,
                    "{file}: a byte was written before its final mode was set:\n{line}"
                );
            }
        } else if let Some(rest) = call.strip_prefix("close(") {
            let fd: u32 = rest.split(')').next().unwrap().parse().unwrap();
            open.remove(&fd);
        }
    }
    assert_eq!(
        created.len(),
        2,
        "a backup and a replacement: {created:?}\n{trace}"
    );
    let backup = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains(".bak."))
        .unwrap();
    assert_eq!(fs::metadata(&backup).unwrap().mode() & 0o777, 0o640);
    assert!(
        trace.contains(&format!("\"{}\"", backup.display())),
        "the backup's name appears by link or rename"
    );
}

/// Included files are read as pe.conf is: regular files only (a FIFO named
/// by an include is not opened, so it cannot hang the command; it is
/// missing, as HOCON treats an include it cannot read), and no larger than
/// the size limit (a huge file is refused, naming it, not read into memory).
#[test]
fn included_files_are_bounded_like_pe_conf() {
    let dir = scratch();
    let main = dir.path().join("pe.conf");
    fs::write(
        &main,
        "include \"fifo.conf\"\n\"puppet_enterprise::send_analytics_data\": false\n",
    )
    .unwrap();
    let fifo = dir.path().join("fifo.conf");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo on a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let key = "puppet_enterprise::send_analytics_data";
    let out = run_limited(
        &["conf", "get", "--file", s(&main), key],
        &[],
        Duration::from_secs(60),
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout.trim(), "false");

    // A sparse file over the limit (1 MiB here).
    fs::write(
        &main,
        "\"puppet_enterprise::send_analytics_data\": false\ninclude \"big.conf\"\n",
    )
    .unwrap();
    let big = fs::File::create(dir.path().join("big.conf")).unwrap();
    big.set_len(64 << 20).unwrap();
    // (`conf get` follows includes; `check` reads pe.conf alone and says
    // what an include after the key may do.)
    {
        let args = ["conf", "get", "--file", s(&main), key];
        let out = run_limited(
            &args,
            &[("PE_ANALYTICS_MAX_FILE_SIZE", "1048576")],
            Duration::from_secs(60),
        );
        assert_eq!(out.code, Some(1), "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("big.conf") && out.stderr.contains("limit"),
            "{args:?}: {}",
            out.stderr
        );
        assert!(
            out.max_rss_kib < 32 * 1024,
            "{args:?}: {} KiB",
            out.max_rss_kib
        );
    }
}
