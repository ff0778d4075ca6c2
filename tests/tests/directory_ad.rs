//! Active Directory through the `Directory` trait, against a real Samba AD DC on loopback
//! (tests/src/samba.rs), as the least-privilege service account.

use std::sync::{OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use cityauth_e2e::samba::{self, Samba};
use cityauth_server::directory::ad::ActiveDirectory;
use cityauth_server::directory::ldap::LdapSettings;
use cityauth_server::directory::{
    Account, Directory, DirectoryError, DirectoryId, PasswordCheck, PasswordPolicy, Refusal,
};
use zeroize::Zeroizing;

/// One domain controller for the whole binary; the test that stops it takes it alone.
fn samba() -> &'static RwLock<Samba> {
    static SAMBA: OnceLock<RwLock<Samba>> = OnceLock::new();
    SAMBA.get_or_init(|| {
        let started = Instant::now();
        let samba = Samba::start().unwrap_or_else(|e| panic!("{e}"));
        eprintln!(
            "samba: provisioned in {:?}, listening {:?} later ({:?} in all)",
            samba.timings.provision,
            samba.timings.startup,
            started.elapsed()
        );
        RwLock::new(samba)
    })
}

fn shared() -> RwLockReadGuard<'static, Samba> {
    samba().read().unwrap_or_else(|p| p.into_inner())
}

fn alone() -> RwLockWriteGuard<'static, Samba> {
    samba().write().unwrap_or_else(|p| p.into_inner())
}

fn settings(samba: &Samba) -> LdapSettings {
    LdapSettings {
        url: samba.url(),
        base_dn: samba::STAFF_OU.into(),
        bind_dn: samba::SERVICE_DN.into(),
        bind_password: Zeroizing::new(samba::SERVICE_PASSWORD.into()),
        user_attribute: "sAMAccountName".into(),
        ca_file: samba.ca_file(),
        scope_group: Some(samba::SCOPE_GROUP.into()),
        protected_groups: vec![samba::DOMAIN_ADMINS.into()],
        timeout: Duration::from_secs(5),
        pool_size: 2,
    }
}

fn directory(samba: &Samba) -> ActiveDirectory {
    ActiveDirectory::new(settings(samba)).expect("valid settings")
}

/// Runs `f` on a runtime of its own, as each server or test would.
fn block<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(f)
}

/// A fresh employee in scope; returns (sAMAccountName, DN).
fn employee(samba: &Samba, name: &str) -> (String, String) {
    let dn = samba
        .add_user(name, &[samba::SCOPE_GROUP])
        .unwrap_or_else(|e| panic!("{e}"));
    (name.to_owned(), dn)
}

fn found(ad: &ActiveDirectory, name: &str) -> Account {
    block(ad.find(name))
        .expect("the directory answers")
        .unwrap_or_else(|| panic!("{name} is found"))
}

#[test]
fn an_employee_is_found_by_name_with_the_guid_display_name_and_mail() {
    let samba = shared();
    let (name, dn) = employee(&samba, "finn");
    let ad = directory(&samba);
    let account = found(&ad, &name);
    assert_eq!(account.username, "finn");
    assert_eq!(account.locator, dn);
    assert_eq!(account.display_name, "finn Example");
    assert_eq!(account.mail.as_deref(), Some("finn@city.test"));
    assert!(!account.protected && !account.locked);
    // The canonical text form of the objectGUID, as samba-tool prints it.
    let guid = samba.guid_text(&dn).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(account.id, DirectoryId(guid));
    assert_eq!(block(ad.by_id(&account.id)).expect("answers"), Some(account));
    assert_eq!(block(ad.find("nobody-here")).expect("answers"), None);
}
