//! Certificates (rcgen) and the rustls server configuration.
//!
//! Layout of the state directory:
//! - `ca.pem`, `ca-key.pem`: the simulator's CA ("Puppet CA: <hostname>", ECDSA P-256)
//! - `server.pem`, `server-key.pem`: server certificate, SANs localhost, 127.0.0.1, hostname
//! - `client.pem`, `client-key.pem`: client certificate whose CN is the primary's certname
//!   (allowlisted); RSA 2048 key written as PKCS#1 (`BEGIN RSA PRIVATE KEY`) like Puppet
//! - `unlisted.pem`, `unlisted-key.pem`: same, CN `unlisted.example.test` (not allowlisted)
//! - `identity.json`: what the files were generated for; a mismatch regenerates them all.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PKCS_RSA_SHA256,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

pub const UNLISTED_CN: &str = "unlisted.example.test";

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Paths of the generated material.
#[derive(Debug, Clone)]
pub struct Material {
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    pub unlisted_cert: PathBuf,
    pub unlisted_key: PathBuf,
}

impl Material {
    fn in_dir(dir: &Path) -> Self {
        Material {
            ca: dir.join("ca.pem"),
            server_cert: dir.join("server.pem"),
            server_key: dir.join("server-key.pem"),
            client_cert: dir.join("client.pem"),
            client_key: dir.join("client-key.pem"),
            unlisted_cert: dir.join("unlisted.pem"),
            unlisted_key: dir.join("unlisted-key.pem"),
        }
    }

    fn all_exist(&self, dir: &Path) -> bool {
        [
            &self.ca,
            &dir.join("ca-key.pem"),
            &self.server_cert,
            &self.server_key,
            &self.client_cert,
            &self.client_key,
            &self.unlisted_cert,
            &self.unlisted_key,
        ]
        .iter()
        .all(|p| p.is_file())
    }
}

/// Make sure the certificates exist in `dir` (reusing them when they were generated for
/// the same host name and primary certname) and return their paths.
pub fn ensure_material(dir: &Path, hostname: &str, primary: &str) -> Result<Material, BoxError> {
    fs::create_dir_all(dir)?;
    let m = Material::in_dir(dir);
    let identity = serde_json::json!({"hostname": hostname, "client_cn": primary}).to_string();
    let id_path = dir.join("identity.json");
    let same_identity = fs::read_to_string(&id_path)
        .map(|s| s.trim() == identity)
        .unwrap_or(false);
    if same_identity && m.all_exist(dir) {
        return Ok(m);
    }
    generate(dir, &m, hostname, primary)?;
    fs::write(&id_path, format!("{identity}\n"))?;
    Ok(m)
}

fn dn(cn: &str) -> DistinguishedName {
    let mut d = DistinguishedName::new();
    d.push(DnType::CommonName, cn);
    d
}

fn validity(p: &mut CertificateParams) {
    p.not_before = rcgen::date_time_ymd(2020, 1, 1);
    p.not_after = rcgen::date_time_ymd(2049, 12, 31);
}

fn generate(dir: &Path, m: &Material, hostname: &str, primary: &str) -> Result<(), BoxError> {
    // CA
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.distinguished_name = dn(&format!("Puppet CA: {hostname}"));
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    validity(&mut ca_params);
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca_params.self_signed(&ca_key)?;
    write_private(&dir.join("ca-key.pem"), &ca_key.serialize_pem())?;
    fs::write(&m.ca, ca_cert.pem())?;
    let issuer = Issuer::new(ca_params, ca_key);

    // Server
    let mut sans = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    if !sans.iter().any(|s| s == hostname) {
        sans.push(hostname.to_string());
    }
    let mut sp = CertificateParams::new(sans)?;
    sp.distinguished_name = dn(hostname);
    sp.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    sp.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    validity(&mut sp);
    let server_key = KeyPair::generate()?;
    let server_cert = sp.signed_by(&server_key, &issuer)?;
    fs::write(&m.server_cert, server_cert.pem())?;
    write_private(&m.server_key, &server_key.serialize_pem())?;

    // Client certificates with RSA keys in PKCS#1 form.
    for (cn, cert_path, key_path) in [
        (primary, &m.client_cert, &m.client_key),
        (UNLISTED_CN, &m.unlisted_cert, &m.unlisted_key),
    ] {
        let mut cp = CertificateParams::new(vec![cn.to_string()])?;
        cp.distinguished_name = dn(cn);
        cp.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ClientAuth,
            ExtendedKeyUsagePurpose::ServerAuth,
        ];
        cp.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        validity(&mut cp);
        let key = KeyPair::generate_for(&PKCS_RSA_SHA256)?;
        let cert = cp.signed_by(&key, &issuer)?;
        fs::write(cert_path, cert.pem())?;
        write_private(key_path, &pkcs1_pem(&key.serialize_der())?)?;
    }
    Ok(())
}

/// Re-encode an RSA PKCS#8 private key as PKCS#1 PEM (`-----BEGIN RSA PRIVATE KEY-----`).
fn pkcs1_pem(pkcs8_der: &[u8]) -> Result<String, BoxError> {
    let info = pkcs8::PrivateKeyInfo::try_from(pkcs8_der).map_err(|e| e.to_string())?;
    let pem =
        pkcs8::der::pem::encode_string("RSA PRIVATE KEY", pkcs8::LineEnding::LF, info.private_key)
            .map_err(|e| e.to_string())?;
    Ok(pem)
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    fs::write(path, contents)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// Server configuration: our server certificate; client certificates are optional but,
/// when presented, must chain to our CA.
/// `client_cas`: more CAs whose client certificates are accepted at the TLS
/// level (`--client-ca`; authentication still wants an allowlisted name or a
/// token), e.g. a real Puppet CA whose certificates also reach a real PuppetDB.
pub fn server_config(
    m: &Material,
    client_cas: &[std::path::PathBuf],
) -> Result<Arc<ServerConfig>, BoxError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(&m.ca)? {
        roots.add(c?)?;
    }
    for f in client_cas {
        for c in CertificateDer::pem_file_iter(f)? {
            roots.add(c?)?;
        }
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()?;
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(&m.server_cert)?.collect::<Result<_, _>>()?;
    let key = PrivateKeyDer::from_pem_file(&m.server_key)?;
    let mut cfg = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// Common name of a (verified) client certificate.
pub fn common_name(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let cn = cert.subject().iter_common_name().next()?;
    cn.as_str().ok().map(str::to_string)
}
