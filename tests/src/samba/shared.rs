//! One domain controller for a whole test binary: provisioning takes about a minute, so the
//! tests share it (each with accounts of its own) and the one that stops it takes it alone.

use std::sync::{OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Instant;

use super::Samba;

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

/// The binary's domain controller, beside the other tests that share it (started on first
/// use). A test that panicked holding it does not take it from the others.
pub fn shared() -> RwLockReadGuard<'static, Samba> {
    samba().read().unwrap_or_else(|p| p.into_inner())
}

/// The binary's domain controller alone, for a test that stops it.
pub fn alone() -> RwLockWriteGuard<'static, Samba> {
    samba().write().unwrap_or_else(|p| p.into_inner())
}
