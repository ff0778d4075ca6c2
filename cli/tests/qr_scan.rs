//! `add --qr` and `import --qr`: QR codes in PNG images the test draws, a Google
//! Authenticator export in several parts, and images that must add nothing.

mod common;
#[path = "common/qrpng.rs"]
mod qrpng;

use common::*;
use qrpng::{write_png, write_qr};

#[test]
fn an_otpauth_qr_code_is_added_with_its_parameters() {
    let (dir, vault) = vault_dir();
    run(&vault, &["init"]).assert_ok();
    let image = dir.path().join("github.png");
    let link = format!("otpauth://totp/GitHub:alice?secret={RFC_SECRET}&digits=8&issuer=GitHub");
    write_qr(&image, &link);
    let added = run(&vault, &["add", "--qr", image.to_str().unwrap()]);
    assert!(
        added.assert_ok().stdout.contains("GitHub (alice)"),
        "{}",
        added.stdout
    );
    let code = run(&vault, &["code", "GitHub", "--time", "59"]);
    assert_eq!(
        code.assert_ok().stdout,
        "94287082\n",
        "the RFC 6238 code: the secret came through"
    );
}

#[test]
fn images_without_an_otpauth_qr_code_add_nothing_and_say_why() {
    let (dir, vault) = vault_dir();
    run(&vault, &["init"]).assert_ok();
    let path = |name: &str| dir.path().join(name);

    // A colour gradient: a PNG, but no QR code in it.
    let (w, h) = (64, 48);
    let pixels: Vec<u8> = (0..w * h)
        .flat_map(|i| [(i % w * 4) as u8, (i / w * 5) as u8, 128])
        .collect();
    write_png(&path("plain.png"), w, h, png::ColorType::Rgb, &pixels);
    let plain = run(
        &vault,
        &["add", "--qr", path("plain.png").to_str().unwrap()],
    );
    plain.assert_error("no_qr_code", 9, "no QR code found in");

    std::fs::write(path("notes.png"), "not an image at all").unwrap();
    run(
        &vault,
        &["add", "--qr", path("notes.png").to_str().unwrap()],
    )
    .assert_error("unknown_format", 9, "is not a PNG image");
    run(
        &vault,
        &[
            "import",
            "--yes",
            "--qr",
            path("missing.png").to_str().unwrap(),
        ],
    )
    .assert_error("file_not_found", 4, "missing.png");

    // A QR code of something else: refused without quoting it.
    write_qr(&path("wifi.png"), "WIFI:S:office;P:hunter2hunter2;;");
    let wifi = path("wifi.png");
    for args in [vec!["add", "--qr"], vec!["import", "--yes", "--qr"]] {
        let mut args = args.clone();
        args.push(wifi.to_str().unwrap());
        let out = run(&vault, &args);
        out.assert_error("invalid_link", 2, "is not an otpauth link");
        assert!(!out.stderr.contains("hunter2"), "{}", out.stderr);
    }
    // A Google export given to `add`: pointed to `import`.
    write_qr(
        &path("google.png"),
        "otpauth-migration://offline?data=CgA%3D",
    );
    run(
        &vault,
        &["add", "--qr", path("google.png").to_str().unwrap()],
    )
    .assert_error("invalid_link", 2, "cityauth import --qr");

    assert!(
        run(&vault, &["list", "--json"])
            .assert_ok()
            .json()
            .is_empty(),
        "nothing added"
    );
}

#[test]
fn a_google_export_in_several_qr_images_is_imported_whole() {
    let (dir, source) = vault_dir();
    run(&source, &["init"]).assert_ok();
    let links: Vec<String> = (0..30)
        .map(|n| {
            format!(
                "otpauth://totp/Service%20number%20{n}:employee{n}%40city.example?secret=JBSWY3DPEHPK3PXP{}AAAAAAA",
                char::from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[n])
            )
        })
        .collect();
    let mut add = vec!["add"];
    add.extend(links.iter().map(String::as_str));
    run(&source, &add).assert_ok();
    let exported = run(&source, &["export", "-", "--google"]);
    let parts: Vec<&str> = exported.assert_ok().stdout.lines().collect();
    assert!(parts.len() >= 2, "several parts: {}", parts.len());
    let images: Vec<String> = parts
        .iter()
        .enumerate()
        .map(|(n, part)| {
            let image = dir.path().join(format!("part{n}.png"));
            write_qr(&image, part);
            image.to_str().unwrap().to_owned()
        })
        .collect();

    let (_dir2, target) = vault_dir();
    run(&target, &["init"]).assert_ok();
    // One part alone is refused whole.
    run(&target, &["import", "--yes", "--qr", &images[0]]).assert_error(
        "missing_batch_parts",
        9,
        "",
    );
    // All parts, last first: the same 30 accounts.
    let mut import = vec!["import", "--yes", "--qr"];
    import.extend(images.iter().rev().map(String::as_str));
    let out = run(&target, &import);
    assert!(
        out.assert_ok().stdout.contains("Imported 30 account(s)"),
        "{}",
        out.stdout
    );
    let before = run(&source, &["codes", "--json"]).assert_ok().json();
    let after = run(&target, &["codes", "--json"]).assert_ok().json();
    let view = |items: &[serde_json::Value]| -> Vec<(String, String, String)> {
        let mut rows: Vec<_> = items
            .iter()
            .map(|i| {
                (
                    i["issuer"].to_string(),
                    i["name"].to_string(),
                    i["code"].to_string(),
                )
            })
            .collect();
        rows.sort();
        rows
    };
    assert_eq!(view(&before), view(&after));
}
