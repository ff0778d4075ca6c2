//! No copy of a secret is left in freed memory: a global allocator that wraps the system's
//! scans every block freed (or moved by `realloc`) on the test's thread for a marker secret,
//! raw and in base32, while secrets go through base32, long links, exports, a backup, andOTP
//! detection and a CSV import. Every buffer that held the marker must have been wiped
//! before it was given back.
//!
//! Run with `--nocapture` to see the number of blocks scanned per step.

#![allow(unsafe_code)] // the scanning allocator: GlobalAlloc is an unsafe trait

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use cityauth_core::{Account, Algorithm, KdfParams, OtpParams, SecretBytes, otpauth};
use cityauth_transfer::formats::andotp;
use cityauth_transfer::{Format, backup, export, read};
use zeroize::Zeroizing;

/// The marker secret's bytes: nothing else in the process holds them.
const MARKER: [u8; 20] = [
    0xC1, 0x7A, 0x5E, 0x3B, 0x91, 0x0D, 0xE4, 0x26, 0xA8, 0x7F, 0x13, 0xB6, 0x58, 0xCA, 0x02, 0x9D,
    0x44, 0xF0, 0x6B, 0x37,
];
/// The marker in base32, as links and backups write it.
const MARKER_BASE32: &str = "YF5F4O4RBXSCNKD7CO3FRSQCTVCPA2ZX";

/// A prefix of each form is searched for, so that a partial copy counts too.
const RAW_PREFIX: &[u8] = MARKER.split_at(12).0;
const BASE32_PREFIX: &[u8] = MARKER_BASE32.as_bytes().split_at(16).0;

static BLOCKS: AtomicU64 = AtomicU64::new(0);
static HITS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Only the test's thread, and only inside a step, is scanned.
    static SCANNING: Cell<bool> = const { Cell::new(false) };
}

struct ScanningAllocator;

impl ScanningAllocator {
    /// Counts the block and whether it still holds the marker, raw or in base32.
    ///
    /// # Safety
    /// `ptr` must point to `size` readable bytes.
    unsafe fn scan(ptr: *const u8, size: usize) {
        if !SCANNING.try_with(Cell::get).unwrap_or(false) {
            return;
        }
        // SAFETY: the caller guarantees `size` readable bytes at `ptr`; the block is still
        // allocated (it is scanned before being handed back).
        let block = unsafe { std::slice::from_raw_parts(ptr, size) };
        BLOCKS.fetch_add(1, Ordering::Relaxed);
        let holds = |pattern: &[u8]| block.windows(pattern.len()).any(|w| w == pattern);
        if holds(RAW_PREFIX) || holds(BASE32_PREFIX) {
            HITS.fetch_add(1, Ordering::Relaxed);
        }
    }
}

// SAFETY: every call is passed on to `System` unchanged; the blocks are only read, before
// they are freed.
unsafe impl GlobalAlloc for ScanningAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as the caller's contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as the caller's contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` is a live block of `layout.size()` bytes until the call below.
        unsafe {
            Self::scan(ptr, layout.size());
            System.dealloc(ptr, layout);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // A block that grows may move, leaving its old bytes behind: a secret buffer must
        // never be reallocated, so the old block is scanned as if freed.
        // SAFETY: `ptr` is a live block of `layout.size()` bytes until the call below.
        unsafe {
            Self::scan(ptr, layout.size());
            System.realloc(ptr, layout, new_size)
        }
    }
}

#[global_allocator]
static ALLOCATOR: ScanningAllocator = ScanningAllocator;

/// Runs `work` with scanning on (what it returns is dropped inside) and gives the blocks
/// scanned and the blocks that held the marker.
fn scanned<T>(work: impl FnOnce() -> T) -> (u64, u64) {
    BLOCKS.store(0, Ordering::Relaxed);
    HITS.store(0, Ordering::Relaxed);
    SCANNING.with(|s| s.set(true));
    drop(work());
    SCANNING.with(|s| s.set(false));
    (BLOCKS.load(Ordering::Relaxed), HITS.load(Ordering::Relaxed))
}

/// The marker followed by `len - 20` filler bytes, built without reallocating.
fn marker_secret(len: usize) -> SecretBytes {
    let mut bytes = Vec::with_capacity(len);
    bytes.extend_from_slice(&MARKER);
    bytes.resize(len, 0x11);
    SecretBytes::new(bytes)
}

fn accounts() -> Vec<Account> {
    let long = "Marker & Sons, Inc. / é".repeat(20);
    vec![
        Account::new(
            "Marker Bank",
            "alice",
            marker_secret(20),
            OtpParams::totp(Algorithm::Sha1, 6, 30).unwrap(),
        )
        .unwrap(),
        Account::new(
            &long,
            &long,
            marker_secret(64),
            OtpParams::hotp(Algorithm::Sha256, 8, 1 << 40).unwrap(),
        )
        .unwrap(),
    ]
}

/// Text holding the marker, in a buffer reserved once (the inputs must not leave copies
/// of their own).
fn wiped(parts: &[&str]) -> Zeroizing<String> {
    let mut text = Zeroizing::new(String::with_capacity(parts.iter().map(|p| p.len()).sum()));
    for part in parts {
        text.push_str(part);
    }
    text
}

#[test]
fn freed_blocks_never_hold_the_marker_secret() {
    assert_eq!(&*marker_secret(20).to_base32(), MARKER_BASE32);
    let accounts = accounts();
    let cheap = KdfParams::new(8, 1, 1).unwrap();
    let link = otpauth::write(&accounts[1]);
    let bad_utf8_link = wiped(&["otpauth://totp/a?secret=", MARKER_BASE32, "%FF"]);
    let backup_file = backup::write(&accounts, "backup words", &cheap).unwrap();
    let andotp_file = wiped(&[
        r#"[{"secret":""#,
        MARKER_BASE32,
        r#"","issuer":"Marker Bank","label":"alice","digits":6,"type":"TOTP","algorithm":"SHA1","period":30}]"#,
    ]);
    let csv_file = wiped(&[
        "folder,favorite,type,name,notes,fields,login_uri,login_username,login_password,login_totp\n",
        ",,login,Marker Bank,,,,alice,\"pass, \"\"",
        MARKER_BASE32,
        "\"\"\",otpauth://totp/Marker:alice?secret=",
        MARKER_BASE32,
        "&issuer=Marker\r\n",
        ",,login,Bare,,,,bob,,",
        MARKER_BASE32,
        "\n",
    ]);

    let steps: Vec<(&str, (u64, u64))> = vec![
        (
            "to_base32",
            scanned(|| {
                for len in 20..=80 {
                    drop(marker_secret(len).to_base32());
                }
            }),
        ),
        (
            "long links",
            scanned(|| {
                for account in &accounts {
                    let written = otpauth::write(account);
                    assert_eq!(&otpauth::parse(&written).unwrap(), account);
                }
                assert_eq!(&otpauth::parse(&link).unwrap(), &accounts[1]);
                assert!(otpauth::parse(&bad_utf8_link).is_err());
            }),
        ),
        (
            "otpauth export",
            scanned(|| export::otpauth_links(&accounts)),
        ),
        (
            "Google export",
            scanned(|| export::google_migration_links(&accounts).unwrap()),
        ),
        (
            "backup",
            scanned(|| {
                drop(backup::write(&accounts, "backup words", &cheap).unwrap());
                let entries = backup::read(&backup_file, Some("backup words")).unwrap();
                assert_eq!(entries.len(), 2);
            }),
        ),
        (
            "andOTP detection",
            scanned(|| assert!(andotp::looks_like(andotp_file.as_bytes()))),
        ),
        (
            "CSV import",
            scanned(|| {
                let parsed = read(csv_file.as_bytes(), Some(Format::BitwardenCsv), None).unwrap();
                assert_eq!(parsed.entries.len(), 2);
                assert!(parsed.entries.iter().all(|e| e.outcome.is_ok()));
            }),
        ),
    ];

    // The scanner itself: a plain copy of the marker, freed unwiped, is seen.
    let (_, control_hits) = scanned(|| MARKER_BASE32.to_owned());
    assert_eq!(control_hits, 1, "the scanner misses a plain copy");

    let total: u64 = steps.iter().map(|(_, (blocks, _))| blocks).sum();
    for (step, (blocks, hits)) in &steps {
        eprintln!("{step}: {blocks} freed blocks scanned, {hits} held the marker");
    }
    eprintln!("total: {total} freed blocks scanned");
    let leaks: Vec<&str> = steps
        .iter()
        .filter(|(_, (_, hits))| *hits > 0)
        .map(|(step, _)| *step)
        .collect();
    assert!(
        leaks.is_empty(),
        "freed blocks held the marker in: {leaks:?}"
    );
}
