//! Issue 10, item 5: the hostile files the issue names, each refused with a typed error and
//! at a bounded cost in memory, measured.
//!
//! Each case runs in a child process (this test binary again, with `HOSTILE_CASE` set), under
//! a counting global allocator that also refuses to hand out more than [`CEILING`]: a
//! regression then aborts the child, which the parent reports as a failure, instead of
//! taking the machine's memory. The child prints the peak of live heap bytes while the file
//! was read (the input itself excluded) and its `VmHWM`; the parent checks the peak against
//! [`ALLOWED_PEAK`] and prints both (`cargo test -p cityauth-transfer --test hostile_files --
//! --nocapture`).

#![allow(unsafe_code)] // the counting allocator: GlobalAlloc is an unsafe trait

use std::alloc::{GlobalAlloc, Layout, System};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine as _;
use cityauth_transfer::{Cancel, Format, ImportError, read, read_cancellable};

/// Heap the child may hold at once before allocations fail (and the child aborts).
const CEILING: usize = 1024 * 1024 * 1024;
/// The most heap reading a hostile file may take beyond the file itself.
const ALLOWED_PEAK: usize = 8 * 1024 * 1024;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

struct Counting;

impl Counting {
    fn grow(size: usize) -> bool {
        let now = LIVE.fetch_add(size, Ordering::Relaxed) + size;
        if now > CEILING {
            LIVE.fetch_sub(size, Ordering::Relaxed);
            return false;
        }
        PEAK.fetch_max(now, Ordering::Relaxed);
        true
    }
}

// SAFETY: every call is forwarded to `System` with the caller's layout; the counters only
// decide whether to forward an allocation at all (refusing is returning null, as allowed).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !Self::grow(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's layout, as GlobalAlloc::alloc requires.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() && !Self::grow(new_size - layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: as for `alloc` and `dealloc`.
        let moved = unsafe { System.realloc(ptr, layout, new_size) };
        if moved.is_null() {
            if new_size > layout.size() {
                LIVE.fetch_sub(new_size - layout.size(), Ordering::Relaxed);
            }
        } else if new_size < layout.size() {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// `VmHWM` of this process, in KiB (Linux), or 0 where there is no `/proc`.
fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// In the child: reads the file `make` builds and checks the outcome with `expect`; prints
/// the figures. In the parent: runs the child and checks its figures.
fn case(
    name: &str,
    make: fn() -> Vec<u8>,
    read_it: fn(&[u8]) -> Result<cityauth_transfer::Parsed, ImportError>,
    expect: fn(&ImportError) -> bool,
) {
    if std::env::var("HOSTILE_CASE").as_deref() == Ok(name) {
        let bytes = make();
        assert!(
            bytes.len() <= cityauth_transfer::MAX_IMPORT_BYTES,
            "{}",
            bytes.len()
        );
        let before = LIVE.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        let result = read_it(&bytes);
        let peak = PEAK.load(Ordering::Relaxed) - before;
        let Err(error) = result else {
            panic!("{name}: the hostile file was read");
        };
        assert!(expect(&error), "{name}: unexpected error {error:?}");
        println!(
            "HOSTILE {name} file_bytes={} peak_heap_bytes={peak} vm_hwm_kib={} error={error:?}",
            bytes.len(),
            vm_hwm_kib()
        );
        return;
    }
    let output = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env("HOSTILE_CASE", name)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{name}: the child failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    // The harness may print its `test … ` on the same line first.
    let line = stdout
        .lines()
        .find_map(|line| line.find("HOSTILE ").map(|at| &line[at..]))
        .unwrap_or_else(|| panic!("{name}: no figures in\n{stdout}"));
    eprintln!("{line}");
    let peak: usize = line
        .split(' ')
        .find_map(|word| word.strip_prefix("peak_heap_bytes="))
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(
        peak <= ALLOWED_PEAK,
        "{name}: reading took {peak} bytes of heap, over {ALLOWED_PEAK}"
    );
}

fn detected(bytes: &[u8]) -> Result<cityauth_transfer::Parsed, ImportError> {
    read(bytes, None, Some("password"))
}

fn too_many(error: &ImportError) -> bool {
    matches!(error, ImportError::TooMany { .. })
}

/// `[{},{},…]`: five million empty entries, the shape of an andOTP backup.
fn five_million_empty_entries() -> Vec<u8> {
    let mut bytes = b"[".to_vec();
    bytes.extend(b"{},".repeat(5_000_000 - 1));
    bytes.extend(b"{}]");
    bytes
}

#[test]
fn five_million_empty_json_entries_are_refused_as_too_many() {
    case(
        "five_million_empty_json_entries_are_refused_as_too_many",
        five_million_empty_entries,
        detected,
        too_many,
    );
}

#[test]
fn five_million_empty_json_entries_read_as_andotp_are_refused_as_too_many() {
    case(
        "five_million_empty_json_entries_read_as_andotp_are_refused_as_too_many",
        five_million_empty_entries,
        |bytes| read(bytes, Some(Format::AndOtp), None),
        too_many,
    );
}

#[test]
fn five_million_empty_aegis_entries_are_refused_as_too_many() {
    case(
        "five_million_empty_aegis_entries_are_refused_as_too_many",
        || {
            let mut bytes = br#"{"version":1,"header":{"slots":null,"params":null},"db":{"version":2,"entries":["#.to_vec();
            bytes.extend(b"{},".repeat(5_000_000 - 1));
            bytes.extend(b"{}]}}");
            bytes
        },
        detected,
        too_many,
    );
}

/// A Bitwarden CSV header, then sixteen million commas on one line.
#[test]
fn sixteen_million_csv_commas_are_refused_as_too_many() {
    case(
        "sixteen_million_csv_commas_are_refused_as_too_many",
        || {
            let mut bytes = b"name,login_totp\n".to_vec();
            bytes.extend(b",".repeat(16_000_000));
            bytes
        },
        detected,
        too_many,
    );
}

/// The same header, then eight million records of two empty fields.
#[test]
fn eight_million_csv_records_are_refused_as_too_many() {
    case(
        "eight_million_csv_records_are_refused_as_too_many",
        || {
            let mut bytes = b"name,login_totp\n".to_vec();
            bytes.extend(b",\n".repeat(8_000_000));
            bytes
        },
        detected,
        too_many,
    );
}

/// A migration link whose payload is `items` empty accounts, with the given batch fields.
fn migration_link(items: usize, batch: Option<(u64, u64)>) -> String {
    let mut payload = [0x0a, 0x00].repeat(items);
    if let Some((size, index)) = batch {
        payload.extend([0x18, size as u8, 0x20, index as u8]);
    }
    let data = base64::engine::general_purpose::STANDARD.encode(payload);
    format!("otpauth-migration://offline?data={data}")
}

/// 29,000 links of 200 empty accounts each (5.8 million entries) in one file.
#[test]
fn twenty_nine_thousand_google_links_of_200_empty_entries_are_refused_as_too_many() {
    case(
        "twenty_nine_thousand_google_links_of_200_empty_entries_are_refused_as_too_many",
        || {
            let line = migration_link(200, None) + "\n";
            line.repeat(29_000).into_bytes()
        },
        detected,
        too_many,
    );
}

/// 50 parts of 200 empty accounts, each a different part of one 50-part export: within the
/// line and link bounds, over the file's entries once decoded (10,000 + the rest) only if
/// counted, so this is refused on the count before any account is decoded.
#[test]
fn fifty_one_full_google_parts_are_refused_before_decoding() {
    case(
        "fifty_one_full_google_parts_are_refused_before_decoding",
        || {
            let mut text = String::new();
            for index in 0..51 {
                text.push_str(&migration_link(200, Some((51, index))));
                text.push('\n');
            }
            text.into_bytes()
        },
        detected,
        too_many,
    );
}

/// An encrypted Aegis vault whose password slots each ask for scrypt at `n`, `r`, `p`.
fn aegis_with_slots(slots: usize, n: u64, r: u64, p: u64) -> Vec<u8> {
    let slot = serde_json::json!({
        "type": 1, "uuid": "00000000-0000-0000-0000-000000000000",
        "key": "00".repeat(32),
        "key_params": {"nonce": "00".repeat(12), "tag": "00".repeat(16)},
        "n": n, "r": r, "p": p, "salt": "00".repeat(32)
    });
    serde_json::to_vec(&serde_json::json!({
        "version": 1,
        "header": {
            "slots": vec![slot; slots],
            "params": {"nonce": "00".repeat(12), "tag": "00".repeat(16)}
        },
        "db": "AAAA"
    }))
    .unwrap()
}

/// The issue's four slots at N = 2^20, r = 2, p = 32: 256 MiB and 256 times Aegis's work
/// each; refused before any scrypt runs (one would show as 256 MiB of heap).
#[test]
fn four_aegis_slots_at_n_2_20_r_2_p_32_are_refused_before_any_kdf() {
    case(
        "four_aegis_slots_at_n_2_20_r_2_p_32_are_refused_before_any_kdf",
        || aegis_with_slots(4, 1 << 20, 2, 32),
        detected,
        |error| {
            matches!(
                error,
                ImportError::Unsupported { .. } | ImportError::TooMany { .. }
            )
        },
    );
}

/// Slots each within the bounds of one derivation (N = 2^16, r = 8, p = 8: 64 MiB, 2^22)
/// but over the file's total work together: refused before the first runs.
#[test]
fn aegis_slots_over_the_files_kdf_work_are_refused_before_any_kdf() {
    case(
        "aegis_slots_over_the_files_kdf_work_are_refused_before_any_kdf",
        || aegis_with_slots(2, 1 << 16, 8, 8),
        detected,
        too_many,
    );
}

/// Eight million lines that are not links, read as a file of links.
#[test]
fn eight_million_lines_of_links_are_refused_as_too_many() {
    case(
        "eight_million_lines_of_links_are_refused_as_too_many",
        || b"x\n".repeat(8_000_000),
        |bytes| read(bytes, Some(Format::OtpauthLinks), None),
        too_many,
    );
}

/// A cancel tripped from another thread stops the import, whatever the file.
#[test]
fn an_import_cancelled_from_another_thread_returns_cancelled() {
    let cancel = Cancel::new();
    let host = cancel.clone();
    std::thread::spawn(move || host.cancel()).join().unwrap();
    let links = b"otpauth://totp/A:a?secret=JBSWY3DPEHPK3PXP\n";
    assert_eq!(
        read_cancellable(links, None, None, &cancel).unwrap_err(),
        ImportError::Cancelled
    );
    assert!(read_cancellable(links, None, None, &Cancel::new()).is_ok());
}
