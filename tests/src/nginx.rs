//! A real nginx on loopback as the TLS-terminating reverse proxy in front of one server or
//! several replicas (round robin), with a certificate from a test CA made at test time, and HTTPS clients that trust that CA and
//! connect from a loopback address of their choosing (127.0.0.0/8 is all loopback on
//! Linux), so that each one is a distinct client to nginx.
//!
//! Everything nginx writes (pid, logs, temporary files) stays in a temporary folder; it
//! runs in the foreground as one process and is killed when the [`Nginx`] is dropped.

use std::collections::HashMap;
use std::fmt;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use ureq::tls::{Certificate, RootCerts, TlsConfig};
use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, RustlsConnector,
    Transport,
};

/// How long nginx may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest a test client waits on one read or write.
const IO_TIMEOUT: Duration = Duration::from_secs(60);

/// A certificate authority that exists only for one test run.
pub struct TestCa {
    root: Certificate<'static>,
    root_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl TestCa {
    /// A fresh CA (ECDSA P-256, from `ring`).
    pub fn new() -> Result<Self, rcgen::Error> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "cityauth test CA");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key)?;
        Ok(Self {
            root: Certificate::from_der(cert.der()).to_owned(),
            root_pem: cert.pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// A server certificate for `names` (host names or IP addresses): (certificate PEM, key PEM).
    pub fn issue(&self, names: &[&str]) -> Result<(String, String), rcgen::Error> {
        let key = KeyPair::generate()?;
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let cert = CertificateParams::new(names)?.signed_by(&key, &self.issuer)?;
        Ok((cert.pem(), key.serialize_pem()))
    }

    /// The CA's certificate in PEM, for a client's CA file.
    pub fn root_pem(&self) -> &str {
        &self.root_pem
    }

    /// The CA's certificate, for a client's root store.
    pub fn root(&self) -> Certificate<'static> {
        self.root.clone()
    }
}

/// The nginx binary, if installed (`nginx` on the PATH, or Debian's `/usr/sbin/nginx`).
pub fn binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join("nginx"))
        .find(|candidate| candidate.is_file())
}

/// What nginx in front of a server is told.
pub struct ProxyOptions<'a> {
    /// The servers nginx proxies to (plain HTTP), round robin when there are several.
    pub upstreams: &'a [SocketAddr],
    /// The CA that signs nginx's certificate (for `127.0.0.1` and `localhost`).
    pub ca: &'a TestCa,
    /// The address nginx connects to the server from (`proxy_bind`): the server's view of
    /// the proxy, which it is told to trust.
    pub bind: IpAddr,
}

/// A running nginx; killed on drop.
pub struct Nginx {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl fmt::Debug for Nginx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nginx(port {})", self.port)
    }
}

impl Nginx {
    /// Starts `binary` as a TLS reverse proxy on a free loopback port, passing the client
    /// on in `X-Forwarded-For` (`$proxy_add_x_forwarded_for`) and `X-Forwarded-Proto`.
    pub fn start(binary: &Path, options: &ProxyOptions<'_>) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let (cert, key) = options
            .ca
            .issue(&["127.0.0.1", "localhost"])
            .map_err(|e| e.to_string())?;
        std::fs::write(dir.path().join("server.pem"), cert).map_err(|e| e.to_string())?;
        std::fs::write(dir.path().join("server.key"), key).map_err(|e| e.to_string())?;
        let port = free_port()?;
        let conf = config(dir.path(), port, options);
        let conf_path = dir.path().join("nginx.conf");
        std::fs::write(&conf_path, conf).map_err(|e| e.to_string())?;
        let mut child = Command::new(binary)
            .arg("-p")
            .arg(dir.path())
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("start {}: {e}", binary.display()))?;
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default();
                return Err(format!("nginx exited ({status}): {log}"));
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(Self { child, port, dir });
            }
            if started.elapsed() > START_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                return Err("nginx did not start listening".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `https://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// nginx's error log so far (for a failing test's message).
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }

    /// nginx's access log so far, one line per request:
    /// `<client> "<request line>" <status> <upstream address(es) tried>`.
    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default()
    }

    /// How many requests each upstream answered so far, from the access log (the last
    /// upstream of a line is the one whose answer the client got).
    pub fn requests_per_upstream(&self) -> HashMap<SocketAddr, usize> {
        let mut counts = HashMap::new();
        for line in self.access_log().lines() {
            let last = line.rsplit([' ', ',']).next().unwrap_or_default();
            if let Ok(addr) = last.parse::<SocketAddr>() {
                *counts.entry(addr).or_insert(0) += 1;
            }
        }
        counts
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

/// The nginx configuration. A replica that refuses connections is skipped for one second
/// (`fail_timeout=1s`, not the default 10 s), so a restarted one rejoins the rotation
/// quickly. nginx retries a request on the next upstream only when it could not be sent
/// (`proxy_next_upstream error timeout`, the default, which since 1.9.13 never resends a
/// POST that may have reached a replica): an answer is not replayed by the proxy.
fn config(dir: &Path, port: u16, options: &ProxyOptions<'_>) -> String {
    let dir = dir.display();
    let servers: String = options
        .upstreams
        .iter()
        .map(|addr| format!("        server {addr} max_fails=1 fail_timeout=1s;\n"))
        .collect();
    format!(
        "daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 8192;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    log_format replicas '$remote_addr \"$request\" $status $upstream_addr';
    access_log {dir}/access.log replicas;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream cityauth {{
{servers}        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name localhost;
        ssl_certificate {dir}/server.pem;
        ssl_certificate_key {dir}/server.key;
        location / {{
            proxy_pass http://cityauth;
            proxy_bind {bind};
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_read_timeout 60s;
        }}
    }}
}}
",
        bind = options.bind,
    )
}
/// An HTTP(S) client whose connections come from `source` (a loopback address) and that
/// trusts `ca` (and nothing else) for HTTPS. Statuses are answers, not errors.
pub fn client(source: IpAddr, ca: &TestCa) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .tls_config(
            TlsConfig::builder()
                .root_certs(RootCerts::new_with_certs(&[ca.root()]))
                .build(),
        )
        .build();
    let connector = BoundTcp { source }.chain(RustlsConnector::default());
    ureq::Agent::with_parts(config, connector, DefaultResolver::default())
}

/// Plain TCP from a fixed local address: what a client at that address would send.
#[derive(Debug)]
struct BoundTcp {
    source: IpAddr,
}

impl<In: Transport> Connector<In> for BoundTcp {
    type Out = Either<In, BoundTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        if let Some(chained) = chained {
            return Ok(Some(Either::A(chained)));
        }
        let target = details
            .addrs
            .iter()
            .find(|addr| addr.is_ipv4() == self.source.is_ipv4())
            .ok_or(ureq::Error::ConnectionFailed)?;
        let socket = socket2::Socket::new(
            socket2::Domain::for_address(*target),
            socket2::Type::STREAM,
            Some(socket2::Protocol::TCP),
        )?;
        socket.bind(&SocketAddr::new(self.source, 0).into())?;
        socket.connect(&(*target).into())?;
        let stream: TcpStream = socket.into();
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        stream.set_write_timeout(Some(IO_TIMEOUT))?;
        let config = details.config;
        let buffers = LazyBuffers::new(config.input_buffer_size(), config.output_buffer_size());
        Ok(Some(Either::B(BoundTransport { stream, buffers })))
    }
}

/// A TCP connection for ureq; its timeouts are fixed ([`IO_TIMEOUT`]), enough for tests.
#[derive(Debug)]
pub struct BoundTransport {
    stream: TcpStream,
    buffers: LazyBuffers,
}

impl Transport for BoundTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, _: NextTimeout) -> Result<(), ureq::Error> {
        let output = &self.buffers.output()[..amount];
        self.stream.write_all(output)?;
        Ok(())
    }

    fn await_input(&mut self, _: NextTimeout) -> Result<bool, ureq::Error> {
        let input = self.buffers.input_append_buf();
        let read = loop {
            match self.stream.read(input) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => break other?,
            }
        };
        self.buffers.input_appended(read);
        Ok(read > 0)
    }

    fn is_open(&mut self) -> bool {
        // Open unless a peek that must not block finds the peer's close.
        let mut probe = [0u8; 1];
        if self.stream.set_nonblocking(true).is_err() {
            return false;
        }
        let open = match self.stream.peek(&mut probe) {
            Ok(0) => false,
            Ok(_) => true,
            Err(e) => e.kind() == std::io::ErrorKind::WouldBlock,
        };
        self.stream.set_nonblocking(false).is_ok() && open
    }
}
