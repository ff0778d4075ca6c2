//! A real Active Directory domain controller (Samba's) on a loopback address of its own,
//! provisioned in a temporary folder: the domain `CITY.TEST`, LDAPS with a certificate from
//! a test CA for the address in the URL, `old password allowed period = 0` (so the old
//! password stops working at once), an OU of staff with a scope group, Domain Admins as
//! the protected group, and a least-privilege service account: the "Reset password"
//! extended right and write access to `lockoutTime` on users in the OU, nothing more
//! (`samba-tool dsacl set`). Tests bind as it, never as Administrator; the harness uses
//! Administrator only to arrange accounts, through ldap-utils.
//!
//! Samba's LDAP ports are the fixed 389 and 636, so each instance binds its own address,
//! 127.0.0.N (`interfaces`, `bind interfaces only`), N chosen from the process id among
//! the free ones. Samba runs in the foreground (`samba -i`) with its standard input a pipe
//! held here: when the test process ends, for any reason, the pipe closes and Samba exits.
//! [`Samba`]'s `Drop` stops it too.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cityauth_server::directory::ldap::LdapSettings;

use crate::nginx::TestCa;

mod shared;
pub use shared::{alone, shared};

/// The domain's DN.
pub const DOMAIN_DN: &str = "DC=city,DC=test";
/// Where the employees are, the base DN the directory is given.
pub const STAFF_OU: &str = "OU=Staff,DC=city,DC=test";
/// The self-service scope group.
pub const SCOPE_GROUP: &str = "CN=SSPR Users,OU=Staff,DC=city,DC=test";
/// A group nested in the scope group (membership through it counts).
pub const NESTED_GROUP: &str = "CN=Nested Staff,OU=Staff,DC=city,DC=test";
/// The protected group.
pub const DOMAIN_ADMINS: &str = "CN=Domain Admins,CN=Users,DC=city,DC=test";
/// Members get a password settings object with a lockout threshold of [`LOCKOUT_THRESHOLD`].
pub const LOCKOUT_GROUP: &str = "CN=Lockout Test,OU=Staff,DC=city,DC=test";
/// Members get a password settings object with a minimum password age of one day.
pub const MIN_AGE_GROUP: &str = "CN=Min Age Test,OU=Staff,DC=city,DC=test";
/// Wrong passwords before a member of [`LOCKOUT_GROUP`] is locked out.
pub const LOCKOUT_THRESHOLD: u32 = 3;
/// The domain's password history length.
pub const HISTORY: u32 = 3;
/// The domain's minimum password length.
pub const MIN_LENGTH: u32 = 8;
/// The service account.
pub const SERVICE_DN: &str = "CN=svc-sspr,CN=Users,DC=city,DC=test";
/// Its password.
pub const SERVICE_PASSWORD: &str = "Svc-sspr-Pass-42";
/// A password the domain accepts (complex, long enough).
pub const INITIAL_PASSWORD: &str = "Initial-Pass-42";

const ADMIN_PASSWORD: &str = "Admin-Pass-4242";
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Why the harness could not provide a domain controller.
#[derive(Debug)]
pub struct SambaError(pub String);

impl std::fmt::Display for SambaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Times the harness measured (reported, never asserted).
#[derive(Debug, Clone, Copy)]
pub struct Timings {
    /// `samba-tool domain provision` and the offline set-up.
    pub provision: Duration,
    /// From `samba -i` to LDAPS accepting connections.
    pub startup: Duration,
}

/// A running Samba AD DC.
pub struct Samba {
    dir: tempfile::TempDir,
    ip: String,
    ca: TestCa,
    process: Option<(Child, ChildStdin)>,
    /// What provisioning and the first start took.
    pub timings: Timings,
}

impl std::fmt::Debug for Samba {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Samba({})", self.ip)
    }
}

/// The binaries the harness needs, each with the Debian package that has it.
const BINARIES: [(&str, &str); 4] = [
    ("samba", "samba-ad-dc"),
    ("samba-tool", "samba-ad-provision"),
    ("ldapmodify", "ldap-utils"),
    ("ldapwhoami", "ldap-utils"),
];

fn find_binary(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// A loopback address whose LDAP ports are free, chosen from the process id and a counter
/// so that two test processes (or two instances in one) do not pick the same one.
fn free_address() -> Result<String, SambaError> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let seed = std::process::id();
    for _ in 0..200 {
        let n = 10 + (seed.wrapping_add(NEXT.fetch_add(37, Ordering::Relaxed)) % 240);
        let ip = format!("127.0.0.{n}");
        // Nothing answers there (a connection, not a bind: binding 389 needs root).
        let free = |port: u16| {
            let addr: SocketAddr = format!("{ip}:{port}").parse().expect("an address");
            TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err()
        };
        if free(389) && free(636) && free(3268) && free(3269) {
            return Ok(ip);
        }
    }
    Err(SambaError("no free loopback address for Samba".into()))
}

impl Samba {
    /// Provisions a domain in a temporary folder, sets it up, and starts Samba on its own
    /// loopback address. Fails, naming the Debian package, when a binary is missing.
    pub fn start() -> Result<Self, SambaError> {
        for (binary, package) in BINARIES {
            if find_binary(binary).is_none() {
                return Err(SambaError(format!(
                    "`{binary}` is not installed: the Active Directory tests need the Debian \
                     package {package} (apt-get install samba-ad-dc samba-ad-provision ldap-utils)"
                )));
            }
        }
        let provisioning = Instant::now();
        remove_abandoned();
        let dir = tempfile::Builder::new()
            .prefix(DIR_PREFIX)
            .tempdir()
            .map_err(|e| SambaError(e.to_string()))?;
        std::fs::write(dir.path().join(OWNER), std::process::id().to_string())
            .map_err(|e| SambaError(e.to_string()))?;
        let ip = free_address()?;
        let ca = TestCa::new().map_err(|e| SambaError(e.to_string()))?;
        let tls = dir.path().join("tls");
        std::fs::create_dir(&tls).map_err(|e| SambaError(e.to_string()))?;
        let (cert, key) = ca
            .issue(&[ip.as_str(), "dc1.city.test"])
            .map_err(|e| SambaError(e.to_string()))?;
        std::fs::write(tls.join("cert.pem"), cert).map_err(|e| SambaError(e.to_string()))?;
        write_private(&tls.join("key.pem"), &key)?;
        std::fs::write(tls.join("ca.pem"), ca.root_pem()).map_err(|e| SambaError(e.to_string()))?;
        let mut samba = Self {
            dir,
            ip,
            ca,
            process: None,
            timings: Timings {
                provision: Duration::ZERO,
                startup: Duration::ZERO,
            },
        };
        samba.provision()?;
        samba.timings.provision = provisioning.elapsed();
        let starting = Instant::now();
        samba.run()?;
        samba.timings.startup = starting.elapsed();
        Ok(samba)
    }

    fn provision(&self) -> Result<(), SambaError> {
        let d = self.dir.path().display().to_string();
        let option = |o: &str| format!("--option={o}");
        let mut args = vec![
            "domain".to_owned(),
            "provision".into(),
            "--realm=CITY.TEST".into(),
            "--domain=CITY".into(),
            "--server-role=dc".into(),
            "--dns-backend=NONE".into(),
            format!("--targetdir={d}"),
            "--host-name=dc1".into(),
            format!("--adminpass={ADMIN_PASSWORD}"),
        ];
        for o in [
            format!("interfaces={}/8", self.ip),
            "bind interfaces only=yes".into(),
            // LDAP is all the tests use; the other services would only slow the start.
            "server services=ldap".into(),
            format!("log file={d}/log.%m"),
            format!("pid directory={d}/run"),
            "tls enabled=yes".into(),
            format!("tls keyfile={d}/tls/key.pem"),
            format!("tls certfile={d}/tls/cert.pem"),
            "tls cafile=".into(),
            "panic action=".into(),
        ] {
            args.push(option(&o));
        }
        run("samba-tool", &args)?;
        // provision does not write this one: AD's (and Samba's) default keeps accepting the
        // previous password for an hour after a change.
        let conf = self.conf();
        let text = std::fs::read_to_string(&conf).map_err(|e| SambaError(e.to_string()))?;
        let text = text.replacen(
            "[global]\n",
            "[global]\n\told password allowed period = 0\n",
            1,
        );
        std::fs::write(&conf, text).map_err(|e| SambaError(e.to_string()))?;
        std::fs::create_dir_all(self.dir.path().join("run"))
            .map_err(|e| SambaError(e.to_string()))?;

        let tool = |args: &[&str]| -> Result<String, SambaError> {
            let mut all: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
            all.extend(self.offline());
            run("samba-tool", &all)
        };
        tool(&["ou", "add", STAFF_OU])?;
        tool(&["user", "add", "svc-sspr", SERVICE_PASSWORD])?;
        let show = tool(&["user", "show", "svc-sspr", "--attributes=objectSid"])?;
        let sid = show
            .lines()
            .find_map(|l| l.strip_prefix("objectSid: "))
            .ok_or_else(|| SambaError(format!("no objectSid in: {show}")))?
            .trim()
            .to_owned();
        // Inherited by user objects under the OU only (CIIO, object type user): the
        // "Reset password" extended right, and write on the lockoutTime attribute.
        const RESET_PASSWORD: &str = "00299570-246d-11d0-a768-00aa006e0529";
        const LOCKOUT_TIME: &str = "28630ebf-41d5-11d1-a9c1-0000f80367c1";
        const USER_CLASS: &str = "bf967aba-0de6-11d0-a285-00aa003049e2";
        let sddl = format!(
            "(OA;CIIO;CR;{RESET_PASSWORD};{USER_CLASS};{sid})\
             (OA;CIIO;WP;{LOCKOUT_TIME};{USER_CLASS};{sid})"
        );
        tool(&[
            "dsacl",
            "set",
            &format!("--objectdn={STAFF_OU}"),
            &format!("--sddl={sddl}"),
        ])?;
        tool(&["group", "add", "SSPR Users", "--groupou=OU=Staff"])?;
        tool(&["group", "add", "Nested Staff", "--groupou=OU=Staff"])?;
        tool(&["group", "addmembers", "SSPR Users", "Nested Staff"])?;
        tool(&["group", "add", "Lockout Test", "--groupou=OU=Staff"])?;
        tool(&["group", "add", "Min Age Test", "--groupou=OU=Staff"])?;
        tool(&[
            "domain",
            "passwordsettings",
            "set",
            "--complexity=on",
            &format!("--history-length={HISTORY}"),
            &format!("--min-pwd-length={MIN_LENGTH}"),
            "--min-pwd-age=0",
            "--max-pwd-age=0",
            "--account-lockout-threshold=0",
        ])?;
        // Per-group settings (fine-grained password settings objects), so that the
        // lockout and minimum-age tests do not change the rules for everyone else.
        tool(&[
            "domain",
            "passwordsettings",
            "pso",
            "create",
            "lockout-test",
            "1",
            "--complexity=on",
            &format!("--history-length={HISTORY}"),
            &format!("--min-pwd-length={MIN_LENGTH}"),
            "--min-pwd-age=0",
            "--max-pwd-age=0",
            &format!("--account-lockout-threshold={LOCKOUT_THRESHOLD}"),
            "--account-lockout-duration=30",
            "--reset-account-lockout-after=30",
        ])?;
        tool(&[
            "domain",
            "passwordsettings",
            "pso",
            "apply",
            "lockout-test",
            "Lockout Test",
        ])?;
        tool(&[
            "domain",
            "passwordsettings",
            "pso",
            "create",
            "min-age-test",
            "2",
            "--complexity=on",
            &format!("--history-length={HISTORY}"),
            &format!("--min-pwd-length={MIN_LENGTH}"),
            "--min-pwd-age=1",
            "--max-pwd-age=0",
            "--account-lockout-threshold=0",
        ])?;
        tool(&[
            "domain",
            "passwordsettings",
            "pso",
            "apply",
            "min-age-test",
            "Min Age Test",
        ])?;
        Ok(())
    }

    fn conf(&self) -> PathBuf {
        self.dir.path().join("etc").join("smb.conf")
    }

    /// samba-tool's arguments for the database on disk (Samba stopped).
    fn offline(&self) -> Vec<String> {
        vec![
            "-s".into(),
            self.conf().display().to_string(),
            "-H".into(),
            self.dir
                .path()
                .join("private/sam.ldb")
                .display()
                .to_string(),
        ]
    }

    /// Starts Samba (again) and waits until LDAPS accepts connections.
    fn run(&mut self) -> Result<(), SambaError> {
        let log = std::fs::File::create(self.dir.path().join("samba.out"))
            .map_err(|e| SambaError(e.to_string()))?;
        let mut child = Command::new("samba")
            .arg("-i")
            .arg("-s")
            .arg(self.conf())
            .stdin(Stdio::piped())
            .stdout(log.try_clone().map_err(|e| SambaError(e.to_string()))?)
            .stderr(log)
            .spawn()
            .map_err(|e| SambaError(format!("start samba: {e}")))?;
        let stdin = child.stdin.take().expect("piped stdin");
        let started = Instant::now();
        let ldaps: SocketAddr = format!("{}:636", self.ip).parse().expect("an address");
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(SambaError(format!(
                    "samba exited ({status}): {}",
                    self.output()
                )));
            }
            if TcpStream::connect_timeout(&ldaps, Duration::from_millis(200)).is_ok() {
                self.process = Some((child, stdin));
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                return Err(SambaError(format!(
                    "samba did not listen on {ldaps}: {}",
                    self.output()
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// What Samba printed.
    pub fn output(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("samba.out")).unwrap_or_default()
    }

    /// Stops Samba (the directory becomes unreachable); [`Samba::restart`] brings it back.
    pub fn stop(&mut self) {
        if let Some((mut child, stdin)) = self.process.take() {
            // EOF on its standard input is Samba's own signal to end.
            drop(stdin);
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
            // Its worker processes end when they see the master gone; wait for the port.
            let ldaps: SocketAddr = format!("{}:636", self.ip).parse().expect("an address");
            while Instant::now() < deadline
                && TcpStream::connect_timeout(&ldaps, Duration::from_millis(200)).is_ok()
            {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    /// Starts Samba again after [`Samba::stop`].
    pub fn restart(&mut self) -> Result<(), SambaError> {
        self.run()
    }

    /// `ldaps://<address>`: the certificate is for this address.
    pub fn url(&self) -> String {
        format!("ldaps://{}", self.ip)
    }

    /// `ldap://<address>` (StartTLS).
    pub fn starttls_url(&self) -> String {
        format!("ldap://{}", self.ip)
    }

    /// The test CA's certificate file.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("tls").join("ca.pem")
    }

    /// The test CA (to issue another certificate, for a test of verification).
    pub fn ca(&self) -> &TestCa {
        &self.ca
    }

    /// Settings for the server: LDAPS, the service account, `sAMAccountName`, the scope
    /// group and Domain Admins as protected.
    pub fn settings(&self) -> LdapSettings {
        LdapSettings {
            url: self.url(),
            base_dn: STAFF_OU.into(),
            bind_dn: SERVICE_DN.into(),
            bind_password: SERVICE_PASSWORD.to_owned().into(),
            user_attribute: "sAMAccountName".into(),
            ca_file: self.ca_file(),
            scope_group: Some(SCOPE_GROUP.into()),
            protected_groups: vec![DOMAIN_ADMINS.into()],
            timeout: Duration::from_secs(5),
            pool_size: 2,
        }
    }

    /// The DN of the staff member `name` (`CN=<name>,OU=Staff,…`).
    pub fn dn(name: &str) -> String {
        format!("CN={name},{STAFF_OU}")
    }

    /// Creates the employee `name` (`sAMAccountName` and CN) in the staff OU with
    /// [`INITIAL_PASSWORD`], a display name and mail, a member of `groups` (DNs).
    pub fn add_user(&self, name: &str, groups: &[&str]) -> Result<String, SambaError> {
        let dn = Self::dn(name);
        self.ldapmodify(&format!(
            "dn: {dn}\nchangetype: add\nobjectClass: user\nsAMAccountName: {name}\n\
             userPrincipalName: {name}@city.test\ndisplayName: {name} Example\n\
             mail: {name}@city.test\nunicodePwd:: {}\nuserAccountControl: 512\n",
            unicode_pwd(INITIAL_PASSWORD)
        ))?;
        for group in groups {
            self.add_member(group, &dn)?;
        }
        Ok(dn)
    }

    /// Adds `member` (a DN) to `group` (a DN).
    pub fn add_member(&self, group: &str, member: &str) -> Result<(), SambaError> {
        self.ldapmodify(&format!(
            "dn: {group}\nchangetype: modify\nadd: member\nmember: {member}\n-\n"
        ))
    }

    /// Removes `member` (a DN) from `group` (a DN).
    pub fn remove_member(&self, group: &str, member: &str) -> Result<(), SambaError> {
        self.ldapmodify(&format!(
            "dn: {group}\nchangetype: modify\ndelete: member\nmember: {member}\n-\n"
        ))
    }

    /// Disables the account (`userAccountControl` bit 2).
    pub fn disable(&self, dn: &str) -> Result<(), SambaError> {
        self.ldapmodify(&format!(
            "dn: {dn}\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 514\n-\n"
        ))
    }

    /// Makes the account change its password at next logon (`pwdLastSet` = 0).
    pub fn must_change(&self, dn: &str) -> Result<(), SambaError> {
        self.ldapmodify(&format!(
            "dn: {dn}\nchangetype: modify\nreplace: pwdLastSet\npwdLastSet: 0\n-\n"
        ))
    }

    /// Renames the staff member `old` to `new`: a new CN and a new `sAMAccountName`.
    pub fn rename(&self, old: &str, new: &str) -> Result<String, SambaError> {
        self.ldapmodify(&format!(
            "dn: {}\nchangetype: modrdn\nnewrdn: CN={new}\ndeleteoldrdn: 1\n",
            Self::dn(old)
        ))?;
        let dn = Self::dn(new);
        self.ldapmodify(&format!(
            "dn: {dn}\nchangetype: modify\nreplace: sAMAccountName\nsAMAccountName: {new}\n-\n"
        ))?;
        Ok(dn)
    }

    /// Sets the password as Administrator (for a test's starting point).
    pub fn set_password(&self, dn: &str, password: &str) -> Result<(), SambaError> {
        self.ldapmodify(&format!(
            "dn: {dn}\nchangetype: modify\nreplace: unicodePwd\nunicodePwd:: {}\n-\n",
            unicode_pwd(password)
        ))
    }

    /// Binds as `dn` with `password` (`ldapsearch` over LDAPS): `Ok(true)` if the
    /// directory accepts it, `Ok(false)` if it refuses the credentials.
    pub fn binds(&self, dn: &str, password: &str) -> Result<bool, SambaError> {
        Ok(self.bind_refusal(dn, password)?.is_none())
    }

    /// A bind's refusal as the directory words it (`… data 775 …` when locked out), or
    /// `None` if the bind succeeded.
    pub fn bind_refusal(&self, dn: &str, password: &str) -> Result<Option<String>, SambaError> {
        // Samba does not answer the Who am I? operation: a base search of the root DSE
        // binds just the same.
        let args = ["-LLL", "-s", "base", "-b", "", "1.1"];
        let output = self.ldap_tool("ldapsearch", dn, password, &args, None)?;
        match output.status.code() {
            Some(0) => Ok(None),
            Some(49) => Ok(Some(String::from_utf8_lossy(&output.stderr).into_owned())),
            _ => Err(SambaError(format!(
                "ldapsearch: {}",
                String::from_utf8_lossy(&output.stderr)
            ))),
        }
    }

    /// Locks the account out the real way: [`LOCKOUT_THRESHOLD`] wrong binds (it must be
    /// in [`LOCKOUT_GROUP`]).
    pub fn lock_out(&self, dn: &str) -> Result<(), SambaError> {
        for _ in 0..LOCKOUT_THRESHOLD {
            self.binds(dn, "Wrong-Password-1")?;
        }
        Ok(())
    }

    /// The entry's values of `attribute` (`ldapsearch` as Administrator).
    pub fn attribute(&self, dn: &str, attribute: &str) -> Result<Vec<String>, SambaError> {
        let args = [
            "-LLL",
            "-o",
            "ldif_wrap=no",
            "-s",
            "base",
            "-b",
            dn,
            attribute,
        ];
        let output = self.ldap_tool("ldapsearch", &admin_dn(), ADMIN_PASSWORD, &args, None)?;
        if !output.status.success() {
            return Err(SambaError(format!(
                "ldapsearch: {}",
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        let prefix = format!("{}: ", attribute.to_ascii_lowercase());
        Ok(String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter(|l| l.to_ascii_lowercase().starts_with(&prefix))
            .map(|l| l[prefix.len()..].to_owned())
            .collect())
    }

    /// The entry's `objectGUID` in its canonical text form, as `samba-tool` prints it.
    pub fn guid_text(&self, dn: &str) -> Result<String, SambaError> {
        let args = [
            "-LLL",
            "-o",
            "ldif_wrap=no",
            "-s",
            "base",
            "-b",
            dn,
            "objectGUID",
        ];
        let output = self.ldap_tool("ldapsearch", &admin_dn(), ADMIN_PASSWORD, &args, None)?;
        let text = String::from_utf8_lossy(&output.stdout);
        let value = text
            .lines()
            .find_map(|l| l.strip_prefix("objectGUID:: "))
            .ok_or_else(|| SambaError(format!("no objectGUID for {dn}: {text}")))?;
        let b = STANDARD
            .decode(value.trim())
            .map_err(|e| SambaError(e.to_string()))?;
        if b.len() != 16 {
            return Err(SambaError(format!("objectGUID of {} bytes", b.len())));
        }
        // Windows' text form: the first three fields little-endian (as Python's
        // uuid.UUID(bytes_le=...) reads them).
        let hex = |r: &[u8]| r.iter().map(|x| format!("{x:02x}")).collect::<String>();
        let rev = |r: &[u8]| hex(&r.iter().rev().copied().collect::<Vec<u8>>());
        Ok(format!(
            "{}-{}-{}-{}-{}",
            rev(&b[0..4]),
            rev(&b[4..6]),
            rev(&b[6..8]),
            hex(&b[8..10]),
            hex(&b[10..16])
        ))
    }

    /// Applies an LDIF change as Administrator over LDAPS.
    pub fn ldapmodify(&self, ldif: &str) -> Result<(), SambaError> {
        self.ldapmodify_as(&admin_dn(), ADMIN_PASSWORD, ldif)
    }

    /// Applies an LDIF change bound as `dn` (to show what an account may not do).
    pub fn ldapmodify_as(&self, dn: &str, password: &str, ldif: &str) -> Result<(), SambaError> {
        let output = self.ldap_tool("ldapmodify", dn, password, &[], Some(ldif))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(SambaError(format!(
                "ldapmodify: {}",
                String::from_utf8_lossy(&output.stderr)
            )))
        }
    }

    /// Runs an ldap-utils tool against this DC over LDAPS, verifying its certificate
    /// against the test CA, bound as `dn`; the password goes in a file (`-y`), never on
    /// the command line.
    fn ldap_tool(
        &self,
        tool: &str,
        dn: &str,
        password: &str,
        args: &[&str],
        stdin: Option<&str>,
    ) -> Result<Output, SambaError> {
        static SERIAL: AtomicU32 = AtomicU32::new(0);
        let secret = self
            .dir
            .path()
            .join(format!("bind-{}", SERIAL.fetch_add(1, Ordering::Relaxed)));
        write_private(&secret, password)?;
        let mut child = Command::new(tool)
            .env("LDAPTLS_CACERT", self.ca_file())
            .env("LDAPTLS_REQCERT", "demand")
            .args(["-H", &self.url(), "-x", "-D", dn, "-y"])
            .arg(&secret)
            .args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| SambaError(format!("{tool}: {e}")))?;
        if let Some(text) = stdin {
            let mut pipe = child.stdin.take().expect("piped stdin");
            pipe.write_all(text.as_bytes())
                .map_err(|e| SambaError(format!("{tool}: {e}")))?;
        }
        let output = child
            .wait_with_output()
            .map_err(|e| SambaError(format!("{tool}: {e}")));
        let _ = std::fs::remove_file(&secret);
        output
    }
}

fn admin_dn() -> String {
    format!("CN=Administrator,CN=Users,{DOMAIN_DN}")
}

impl Drop for Samba {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The temporary folders' prefix, and the file in each naming the process that made it.
const DIR_PREFIX: &str = "cityauth-samba-";
const OWNER: &str = "owner.pid";

/// Removes the folders of instances whose test process has ended. A test binary's shared
/// instance lives in a static, which is never dropped: its Samba exits with the process
/// (the standard-input pipe), and its folder (some 30 MB) is removed here, by the next run.
fn remove_abandoned() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let ours = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(DIR_PREFIX));
        if !ours {
            continue;
        }
        let alive = match std::fs::read_to_string(path.join(OWNER)) {
            Ok(owner) => Path::new("/proc").join(owner.trim()).exists(),
            // Just made, its owner not written yet (or unreadable): leave it unless old.
            Err(_) => entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_none_or(|age| age < Duration::from_secs(600)),
        };
        if !alive {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

/// Runs a command; its standard output, or an error with what it printed.
fn run(program: &str, args: &[String]) -> Result<String, SambaError> {
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| SambaError(format!("{program}: {e}")))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(SambaError(format!(
            "{program} {}: {}{}",
            args.first().map(String::as_str).unwrap_or(""),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )))
    }
}

/// Writes a file only its owner can read (Samba refuses a TLS key others can read).
fn write_private(path: &Path, contents: &str) -> Result<(), SambaError> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| SambaError(e.to_string()))?;
    file.write_all(contents.as_bytes())
        .map_err(|e| SambaError(e.to_string()))
}

/// `unicodePwd`'s value for LDIF: the quoted password in UTF-16LE, base64.
fn unicode_pwd(password: &str) -> String {
    let bytes: Vec<u8> = format!("\"{password}\"")
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    STANDARD.encode(bytes)
}
