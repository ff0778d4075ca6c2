//! `export --google` drawing its links as QR codes: the drawing, read back by rqrr, is the
//! link printed under it, and those links import as the same accounts; a terminal gets the
//! codes by default, a pipe only with --qr.

mod common;
#[path = "common/tmux.rs"]
mod tmux;

use common::*;
use tmux::{Tmux, cityauth_line};

const BLACK_ON_WHITE: &str = "\x1b[30;107m";
const RESET: &str = "\x1b[0m";

/// A vault with `count` TOTP accounts, each its own secret.
fn vault_with(count: usize) -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, vault) = vault_dir();
    run(&vault, &["init"]).assert_ok();
    let links: Vec<String> = (0..count)
        .map(|n| {
            let c = char::from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[n]);
            format!("otpauth://totp/Service%20{n}:user{n}%40city.example?secret=JBSWY3DPEHPK3PXP{c}AAAAAAA")
        })
        .collect();
    let mut add = vec!["add"];
    add.extend(links.iter().map(String::as_str));
    run(&vault, &add).assert_ok();
    (dir, vault)
}

/// Every QR code drawn in `text`, decoded by rqrr from the half blocks.
fn decode_drawings(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut block: Vec<Vec<bool>> = Vec::new();
    for line in text.lines().chain(std::iter::once("")) {
        if let Some(cells) = line
            .strip_prefix(BLACK_ON_WHITE)
            .and_then(|l| l.strip_suffix(RESET))
        {
            let (mut top, mut bottom) = (Vec::new(), Vec::new());
            for c in cells.chars() {
                let (t, b) = match c {
                    '█' => (true, true),
                    '▀' => (true, false),
                    '▄' => (false, true),
                    ' ' => (false, false),
                    other => panic!("unexpected {other:?} in a QR drawing"),
                };
                top.push(t);
                bottom.push(b);
            }
            block.push(top);
            block.push(bottom);
        } else if !block.is_empty() {
            found.push(decode_modules(&block));
            block.clear();
        }
    }
    found
}

fn decode_modules(modules: &[Vec<bool>]) -> String {
    const SCALE: usize = 4;
    let (w, h) = (modules[0].len() * SCALE, modules.len() * SCALE);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
        if modules[y / SCALE][x / SCALE] {
            0
        } else {
            255
        }
    });
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code per drawing");
    grids[0].decode().expect("the drawing decodes").1
}

#[test]
fn drawn_codes_decode_to_the_links_printed_and_import_as_the_same_accounts() {
    let (dir, vault) = vault_with(30);
    let plain = run(&vault, &["export", "-", "--google"]);
    assert!(
        !plain.assert_ok().stdout.contains('\x1b'),
        "a pipe gets links only"
    );
    let plain_parts = plain.stdout.lines().count();
    assert!(plain_parts >= 2, "several parts: {plain_parts}");

    let drawn = run(&vault, &["export", "-", "--google", "--qr"]);
    let out = &drawn.assert_ok().stdout;
    let printed: Vec<&str> = out
        .lines()
        .filter(|line| line.starts_with("otpauth-migration://"))
        .collect();
    assert_eq!(printed.len(), plain_parts);
    let decoded = decode_drawings(out);
    assert_eq!(decoded, printed, "each drawing is the link under it");
    for n in 1..=printed.len() {
        assert!(
            out.contains(&format!("Part {n} of {}:", printed.len())),
            "{out}"
        );
    }

    // Those links are the whole vault: imported elsewhere, the same codes.
    let links = dir.path().join("decoded.txt");
    std::fs::write(&links, decoded.join("\n")).unwrap();
    let (_dir2, target) = vault_dir();
    run(&target, &["init"]).assert_ok();
    run(&target, &["import", "--yes", links.to_str().unwrap()]).assert_ok();
    let view = |vault: &std::path::Path| {
        let mut rows: Vec<String> = run(vault, &["codes", "--json"])
            .assert_ok()
            .json()
            .iter()
            .map(|i| format!("{} {} {}", i["issuer"], i["name"], i["code"]))
            .collect();
        rows.sort();
        rows
    };
    // Read within one 30 s step: the two vaults' codes are compared only when the source's
    // did not change around the target's read (a step boundary would change every code).
    let mut compared = false;
    for _ in 0..3 {
        let (before, imported, after) = (view(&vault), view(&target), view(&vault));
        if before == after {
            assert_eq!(before, imported);
            compared = true;
            break;
        }
    }
    assert!(compared, "three reads each crossed a time step");

    // To a file: the file holds the links only, the drawings go to stdout.
    let file = dir.path().join("google.txt");
    let to_file = run(
        &vault,
        &["export", file.to_str().unwrap(), "--google", "--qr"],
    );
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(!written.contains('\x1b') && written.lines().count() == plain_parts);
    let shown = decode_drawings(&to_file.assert_ok().stdout);
    assert_eq!(shown, written.lines().collect::<Vec<_>>());
    run(&vault, &["export", "-", "--qr"]).assert_error("usage", 2, "--google");
}

#[test]
fn a_terminal_gets_the_codes_without_asking() {
    let (_dir, vault) = vault_with(1);
    let line = cityauth_line(&vault, PASSPHRASE, "export - --google");
    let tmux = Tmux::start("export", &format!("{line}; echo \"ended: $?\"; sleep 30"));
    let screen = tmux.wait_for(15, |screen| screen.contains("ended: "));
    assert!(screen.contains("ended: 0"), "{screen}");
    assert!(screen.contains("Part 1 of 1:"), "{screen}");
    assert!(
        screen.contains('▀') && screen.contains('▄'),
        "a drawing:\n{screen}"
    );
}
