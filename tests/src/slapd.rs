//! A real OpenLDAP slapd on loopback for the directory tests: its own `slapd.conf` and mdb
//! database in a temporary folder, the ppolicy overlay (history, minimum length, lockout),
//! refint (a rename keeps group memberships), LDAPS and StartTLS with a certificate from a
//! test CA, free ports on 127.0.0.1, and a least-privilege service account.
//!
//! The service account `cn=sspr,ou=services,…` may read entries, write `userPassword` and
//! `pwdAccountLockedTime` under `ou=people` and nothing else (it is not a password
//! administrator: it has `write`, not `manage`, so ppolicy applies its rules to resets).
//! The harness's own changes (users, renames, disabling) are made as the rootdn with
//! Debian's ldap-utils. slapd runs in the foreground and is killed when the [`Slapd`] is
//! dropped, also when a test panics.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cityauth_server::directory::ldap::LdapSettings;

use crate::nginx::TestCa;

/// The directory's suffix.
pub const SUFFIX: &str = "dc=city,dc=test";
/// Where the employees are (the base DN the server searches).
pub const PEOPLE: &str = "ou=people,dc=city,dc=test";
/// The service account the server binds as.
pub const SERVICE_DN: &str = "cn=sspr,ou=services,dc=city,dc=test";
/// Its password (a test value).
pub const SERVICE_PASSWORD: &str = "sspr-service-Secret-41";
/// The group whose members may use self-service.
pub const SCOPE_GROUP: &str = "cn=sspr-users,ou=groups,dc=city,dc=test";
/// A protected group (never reset by self-service).
pub const ADMINS_GROUP: &str = "cn=directory-admins,ou=groups,dc=city,dc=test";
/// A group nested in [`ADMINS_GROUP`]: its members are protected too.
pub const IT_GROUP: &str = "cn=it-staff,ou=groups,dc=city,dc=test";
/// A policy with a day's minimum age, given to users that need it (`pwdPolicySubentry`).
pub const SLOW_POLICY: &str = "cn=slow,ou=policies,dc=city,dc=test";
/// A policy with `pwdMustChange`: a user given it and `pwdReset` must change the password.
pub const RENEW_POLICY: &str = "cn=renew,ou=policies,dc=city,dc=test";
/// The default policy's `pwdMinLength` (bytes; with `pwdCheckQuality` 2).
pub const MIN_LENGTH: u32 = 12;
/// The default policy's `pwdInHistory`.
pub const HISTORY: u32 = 5;
/// The default policy's `pwdMaxFailure` (then locked until lifted).
pub const MAX_FAILURE: u32 = 3;
/// The password every user is created with.
pub const FIRST_PASSWORD: &str = "Amber-Orchard-Kite-2024";

const ROOT_DN: &str = "cn=admin,dc=city,dc=test";
const ROOT_PASSWORD: &str = "harness-root-password";
/// How long slapd may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// The slapd binaries, or a sentence naming the Debian packages to install.
pub fn binaries() -> Result<(PathBuf, PathBuf), String> {
    let find = |name: &str| -> Option<PathBuf> {
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path)
            .chain([PathBuf::from("/usr/sbin")])
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    };
    let missing = |what: &str, package: &str| {
        format!(
            "{what} not found: install Debian's {package} package (apt-get install slapd ldap-utils)"
        )
    };
    let slapd = find("slapd").ok_or_else(|| missing("slapd", "slapd"))?;
    let slapadd = find("slapadd").ok_or_else(|| missing("slapadd", "slapd"))?;
    for tool in ["ldapmodify", "ldapwhoami", "ldapsearch", "ldapmodrdn"] {
        find(tool).ok_or_else(|| missing(tool, "ldap-utils"))?;
    }
    Ok((slapd, slapadd))
}

/// A running slapd; killed on drop.
pub struct Slapd {
    child: Option<Child>,
    slapd: PathBuf,
    ldap_port: u16,
    ldaps_port: u16,
    ca: TestCa,
    dir: tempfile::TempDir,
    /// How long the last start took (configuration, certificates, load, listening).
    pub started_in: Duration,
}

impl std::fmt::Debug for Slapd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Slapd(ldap {}, ldaps {})",
            self.ldap_port, self.ldaps_port
        )
    }
}

impl Slapd {
    /// A fresh directory: the OUs, the policies, the service account, the groups (the IT
    /// group nested in the admins group), no users. Panics with the package to install if
    /// slapd or ldap-utils is missing.
    pub fn start() -> Self {
        Self::start_with(true)
    }

    /// [`Slapd::start`] with `ppolicy_use_lockout` on or off: off, a bind to a locked
    /// account gets a plain "invalid credentials", as the overlay's manual recommends for
    /// sites that would not tell an attacker which accounts are locked.
    pub fn start_with(report_lockout: bool) -> Self {
        match Self::try_start(report_lockout) {
            Ok(slapd) => slapd,
            Err(e) => panic!("cannot start slapd: {e}"),
        }
    }

    /// [`Slapd::start_with`], the failure as a sentence.
    pub fn try_start(report_lockout: bool) -> Result<Self, String> {
        let started = Instant::now();
        let (slapd, slapadd) = binaries()?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let ca = TestCa::new().map_err(|e| e.to_string())?;
        let (cert, key) = ca
            .issue(&["127.0.0.1", "localhost"])
            .map_err(|e| e.to_string())?;
        write(&dir.path().join("ca.pem"), ca.root_pem())?;
        write(&dir.path().join("server.pem"), &cert)?;
        write(&dir.path().join("server.key"), &key)?;
        std::fs::create_dir(dir.path().join("db")).map_err(|e| e.to_string())?;
        write(
            &dir.path().join("slapd.conf"),
            &config(dir.path(), report_lockout),
        )?;
        write(&dir.path().join("base.ldif"), BASE_LDIF)?;
        let load = Command::new(&slapadd)
            .arg("-f")
            .arg(dir.path().join("slapd.conf"))
            .arg("-l")
            .arg(dir.path().join("base.ldif"))
            .output()
            .map_err(|e| format!("run {}: {e}", slapadd.display()))?;
        if !load.status.success() {
            return Err(format!(
                "slapadd failed: {}",
                String::from_utf8_lossy(&load.stderr)
            ));
        }
        let mut server = Self {
            child: None,
            slapd,
            ldap_port: free_port()?,
            ldaps_port: free_port()?,
            ca,
            dir,
            started_in: Duration::ZERO,
        };
        server.run()?;
        server.started_in = started.elapsed();
        Ok(server)
    }

    /// Starts the slapd process on the ports chosen at the first start.
    fn run(&mut self) -> Result<(), String> {
        let log =
            std::fs::File::create(self.dir.path().join("slapd.log")).map_err(|e| e.to_string())?;
        let urls = format!(
            "ldap://127.0.0.1:{}/ ldaps://127.0.0.1:{}/",
            self.ldap_port, self.ldaps_port
        );
        let mut child = Command::new(&self.slapd)
            .arg("-f")
            .arg(self.dir.path().join("slapd.conf"))
            .arg("-h")
            .arg(urls)
            // In the foreground (-d), logging only what is wrong.
            .arg("-d")
            .arg("0")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("start {}: {e}", self.slapd.display()))?;
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("slapd exited ({status}): {}", self.log()));
            }
            if TcpStream::connect(("127.0.0.1", self.ldaps_port)).is_ok()
                && TcpStream::connect(("127.0.0.1", self.ldap_port)).is_ok()
            {
                self.child = Some(child);
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("slapd did not start listening: {}", self.log()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops slapd (the data stays): the directory becomes unreachable.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts slapd again on the same ports with the same data.
    pub fn restart(&mut self) {
        self.stop();
        if let Err(e) = self.run() {
            panic!("cannot restart slapd: {e}");
        }
    }

    /// What slapd wrote to its log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("slapd.log")).unwrap_or_default()
    }

    /// `ldaps://127.0.0.1:<port>`.
    pub fn ldaps_url(&self) -> String {
        format!("ldaps://127.0.0.1:{}", self.ldaps_port)
    }

    /// `ldap://127.0.0.1:<port>` (a client must use StartTLS).
    pub fn starttls_url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.ldap_port)
    }

    /// The PEM file of the test CA that signed slapd's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The test CA (to make a certificate slapd's clients must not trust, say).
    pub fn ca(&self) -> &TestCa {
        &self.ca
    }

    /// Settings for the server: LDAPS, the service account, `uid`, the scope group and the
    /// admins group as protected.
    pub fn settings(&self) -> LdapSettings {
        LdapSettings {
            url: self.ldaps_url(),
            base_dn: PEOPLE.into(),
            bind_dn: SERVICE_DN.into(),
            bind_password: SERVICE_PASSWORD.to_owned().into(),
            user_attribute: "uid".into(),
            ca_file: self.ca_file(),
            scope_group: Some(SCOPE_GROUP.into()),
            protected_groups: vec![ADMINS_GROUP.into()],
            timeout: Duration::from_secs(10),
            pool_size: 4,
        }
    }

    /// The DN of user `uid`.
    pub fn user_dn(uid: &str) -> String {
        format!("uid={uid},{PEOPLE}")
    }

    /// Adds user `uid` with [`FIRST_PASSWORD`], `displayName` and mail, a member of
    /// `groups` (DNs; [`SCOPE_GROUP`] for an employee who may use self-service).
    pub fn add_user(&self, uid: &str, display_name: &str, groups: &[&str]) {
        let dn = Self::user_dn(uid);
        self.modify(&format!(
            "dn: {dn}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {display_name}\n\
             sn: {uid}\ndisplayName: {display_name}\nmail: {uid}@city.test\nuserPassword: {FIRST_PASSWORD}\n"
        ));
        for group in groups {
            self.add_member(group, &dn);
        }
    }

    /// Adds `member` (a DN) to `group`.
    pub fn add_member(&self, group: &str, member: &str) {
        self.modify(&format!(
            "dn: {group}\nchangetype: modify\nadd: member\nmember: {member}\n"
        ));
    }

    /// Removes `member` (a DN) from `group`.
    pub fn remove_member(&self, group: &str, member: &str) {
        self.modify(&format!(
            "dn: {group}\nchangetype: modify\ndelete: member\nmember: {member}\n"
        ));
    }

    /// Renames user `uid` to `new_uid` (modrdn, the old RDN value removed), and waits
    /// until refint, which works in the background after the rename is answered, has moved
    /// its group memberships along.
    pub fn rename(&self, uid: &str, new_uid: &str) {
        let old = Self::user_dn(uid);
        self.tool("ldapmodrdn", &["-r", &old, &format!("uid={new_uid}")], "");
        let started = Instant::now();
        let filter = format!("(member={old})");
        while self
            .tool("ldapsearch", &["-LLL", "-b", SUFFIX, &filter, "1.1"], "")
            .contains("dn:")
        {
            assert!(
                started.elapsed() < START_TIMEOUT,
                "refint did not update the groups of {old}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Disables user `uid` the ppolicy way (`pwdAccountLockedTime` = `000001010000Z`).
    pub fn disable(&self, uid: &str) {
        self.modify(&format!(
            "dn: {}\nchangetype: modify\nreplace: pwdAccountLockedTime\npwdAccountLockedTime: 000001010000Z\n",
            Self::user_dn(uid)
        ));
    }

    /// Gives user `uid` the policy `policy` (a DN).
    pub fn set_policy(&self, uid: &str, policy: &str) {
        self.modify(&format!(
            "dn: {}\nchangetype: modify\nreplace: pwdPolicySubentry\npwdPolicySubentry: {policy}\n",
            Self::user_dn(uid)
        ));
    }

    /// Marks user `uid`'s password as reset by an administrator (`pwdReset`), under
    /// [`RENEW_POLICY`]: the next bind must change it.
    pub fn require_change(&self, uid: &str) {
        self.set_policy(uid, RENEW_POLICY);
        self.modify(&format!(
            "dn: {}\nchangetype: modify\nreplace: pwdReset\npwdReset: TRUE\n",
            Self::user_dn(uid)
        ));
    }

    /// Makes user `uid`'s password expired: a policy with a day's maximum age, and the
    /// password's change time (`pwdChangedTime`, written with the Relax control) in 2000.
    pub fn expire(&self, uid: &str) {
        self.set_policy(uid, "cn=expiring,ou=policies,dc=city,dc=test");
        self.tool(
            "ldapmodify",
            &["-e", "relax"],
            &format!(
                "dn: {}\nchangetype: modify\nreplace: pwdChangedTime\npwdChangedTime: 20000101000000Z\n",
                Self::user_dn(uid)
            ),
        );
    }

    /// Locks user `uid` out for real: [`MAX_FAILURE`] binds with a wrong password.
    pub fn lock_out(&self, uid: &str) {
        for _ in 0..MAX_FAILURE {
            assert!(!self.bind(uid, "not-the-password"));
        }
    }

    /// True if a simple bind as user `uid` with `password` succeeds (ldapwhoami).
    pub fn bind(&self, uid: &str, password: &str) -> bool {
        Command::new("ldapwhoami")
            .env("LDAPNOINIT", "1")
            .args([
                "-x",
                "-H",
                &self.starttls_url(),
                "-D",
                &Self::user_dn(uid),
                "-w",
            ])
            .arg(password)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }

    /// The values of `attribute` (operational ones too) of user `uid`, read as the rootdn.
    pub fn attribute(&self, uid: &str, attribute: &str) -> Vec<String> {
        let out = self.tool(
            "ldapsearch",
            &[
                "-LLL",
                "-o",
                "ldif_wrap=no",
                "-s",
                "base",
                "-b",
                &Self::user_dn(uid),
                "(objectClass=*)",
                attribute,
            ],
            "",
        );
        let prefix = format!("{attribute}: ");
        out.lines()
            .filter_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
            .collect()
    }

    /// Applies `ldif` (with `changetype`s) as the rootdn.
    pub fn modify(&self, ldif: &str) {
        self.tool("ldapmodify", &[], ldif);
    }

    /// Runs an ldap-utils tool as the rootdn over loopback; panics with its words if it fails.
    fn tool(&self, tool: &str, args: &[&str], input: &str) -> String {
        let mut child = Command::new(tool)
            .env("LDAPNOINIT", "1")
            .args([
                "-x",
                "-H",
                &self.starttls_url(),
                "-D",
                ROOT_DN,
                "-w",
                ROOT_PASSWORD,
            ])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{tool}: {e} (install Debian's ldap-utils)"));
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(input.as_bytes())
                .expect("write to the tool");
        }
        let out = child.wait_with_output().expect("the tool runs");
        assert!(
            out.status.success(),
            "{tool} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
    }
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("write {}: {e}", path.display()))
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

/// slapd.conf: schemas, mdb, ppolicy and refint, TLS, and the ACLs.
fn config(dir: &Path, report_lockout: bool) -> String {
    let dir = dir.display();
    let lockout = if report_lockout {
        "ppolicy_use_lockout"
    } else {
        ""
    };
    format!(
        "include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
moduleload refint
pidfile {dir}/slapd.pid
argsfile {dir}/slapd.args
TLSCACertificateFile {dir}/ca.pem
TLSCertificateFile {dir}/server.pem
TLSCertificateKeyFile {dir}/server.key
# Unauthenticated binds (a DN, no password) succeed, as on some directories: the client
# must never take one for a password check.
allow bind_anon_dn

database mdb
suffix \"{SUFFIX}\"
rootdn \"{ROOT_DN}\"
rootpw {ROOT_PASSWORD}
directory {dir}/db
maxsize 104857600

overlay ppolicy
ppolicy_default \"cn=default,ou=policies,{SUFFIX}\"
{lockout}
ppolicy_hash_cleartext

overlay refint
refint_attributes member

access to dn.subtree=\"{PEOPLE}\" attrs=userPassword
  by self write
  by dn.exact=\"{SERVICE_DN}\" write
  by anonymous auth
  by * none
access to attrs=userPassword
  by self write
  by anonymous auth
  by * none
access to dn.subtree=\"{PEOPLE}\" attrs=pwdAccountLockedTime
  by dn.exact=\"{SERVICE_DN}\" write
  by * none
access to *
  by dn.exact=\"{SERVICE_DN}\" read
  by self read
  by * none
"
    )
}

/// The entries loaded before the first start.
const BASE_LDIF: &str = "dn: dc=city,dc=test
objectClass: dcObject
objectClass: organization
o: City
dc: city

dn: ou=people,dc=city,dc=test
objectClass: organizationalUnit
ou: people

dn: ou=groups,dc=city,dc=test
objectClass: organizationalUnit
ou: groups

dn: ou=services,dc=city,dc=test
objectClass: organizationalUnit
ou: services

dn: ou=policies,dc=city,dc=test
objectClass: organizationalUnit
ou: policies

dn: cn=default,ou=policies,dc=city,dc=test
objectClass: device
objectClass: pwdPolicy
cn: default
pwdAttribute: userPassword
pwdMinLength: 12
pwdCheckQuality: 2
pwdInHistory: 5
pwdLockout: TRUE
pwdMaxFailure: 3
pwdLockoutDuration: 0

dn: cn=slow,ou=policies,dc=city,dc=test
objectClass: device
objectClass: pwdPolicy
cn: slow
pwdAttribute: userPassword
pwdMinLength: 12
pwdCheckQuality: 2
pwdInHistory: 5
pwdMinAge: 86400

dn: cn=renew,ou=policies,dc=city,dc=test
objectClass: device
objectClass: pwdPolicy
cn: renew
pwdAttribute: userPassword
pwdMustChange: TRUE

dn: cn=expiring,ou=policies,dc=city,dc=test
objectClass: device
objectClass: pwdPolicy
cn: expiring
pwdAttribute: userPassword
pwdMaxAge: 86400

dn: cn=sspr,ou=services,dc=city,dc=test
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: sspr
userPassword: sspr-service-Secret-41

dn: cn=sspr-users,ou=groups,dc=city,dc=test
objectClass: groupOfNames
cn: sspr-users
member: cn=sspr,ou=services,dc=city,dc=test

dn: cn=it-staff,ou=groups,dc=city,dc=test
objectClass: groupOfNames
cn: it-staff
member: cn=sspr,ou=services,dc=city,dc=test

dn: cn=directory-admins,ou=groups,dc=city,dc=test
objectClass: groupOfNames
cn: directory-admins
member: cn=it-staff,ou=groups,dc=city,dc=test
";
