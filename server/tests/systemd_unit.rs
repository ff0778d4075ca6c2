//! The example unit `server/deploy/cityauth-server.service`: `systemd-analyze verify` accepts
//! it (with `ExecStart` pointed at this build's binary, since the unit names its installed
//! path), its hardening is in place, and `systemd-analyze security --offline` rates its
//! exposure "OK" (below 2.0 on its 0–10 scale). Skipped, saying why, where systemd-analyze
//! is missing or cannot run.

use std::path::Path;
use std::process::Command;

const UNIT: &str = include_str!("../deploy/cityauth-server.service");
/// Where the unit expects the binary.
const INSTALLED: &str = "/usr/local/bin/cityauth-server";
/// The hardening the unit must keep (docs/deploy.md says what each is for).
const HARDENING: &[&str] = &[
    "DynamicUser=yes",
    "StateDirectory=cityauth",
    "ProtectSystem=strict",
    "NoNewPrivileges=yes",
    "ProtectHome=yes",
    "PrivateTmp=yes",
    "PrivateDevices=yes",
    "CapabilityBoundingSet=",
    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
    "SystemCallFilter=@system-service",
    "MemoryDenyWriteExecute=yes",
    "UMask=0077",
];

/// The unit with this build's binary, in a folder of its own.
fn unit_here(dir: &Path) -> std::path::PathBuf {
    let text = UNIT.replace(INSTALLED, env!("CARGO_BIN_EXE_cityauth-server"));
    let path = dir.join("cityauth-server.service");
    std::fs::write(&path, text).unwrap();
    path
}

fn analyze(args: &[&str]) -> Option<(bool, String)> {
    match Command::new("systemd-analyze").args(args).output() {
        Ok(out) => Some((
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )),
        Err(error) => {
            eprintln!("skipped: systemd-analyze cannot run here ({error}); install systemd");
            None
        }
    }
}

#[test]
fn the_unit_keeps_its_hardening() {
    let lines: Vec<&str> = UNIT.lines().map(str::trim).collect();
    for directive in HARDENING {
        assert!(lines.contains(directive), "the unit lacks {directive}");
    }
}

#[test]
fn systemd_analyze_verifies_the_unit_and_rates_its_exposure_ok() {
    let dir = tempfile::tempdir().unwrap();
    let unit = unit_here(dir.path());
    let unit = unit.to_str().unwrap();
    let Some((ok, said)) = analyze(&["verify", unit]) else {
        return;
    };
    assert!(
        ok && said.trim().is_empty(),
        "systemd-analyze verify: {said}"
    );
    let Some((ok, said)) = analyze(&["security", "--offline=true", unit]) else {
        return;
    };
    assert!(ok, "systemd-analyze security: {said}");
    let score: f64 = said
        .lines()
        .find_map(|l| l.split("cityauth-server.service: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in: {said}"));
    eprintln!("systemd-analyze security: exposure {score}");
    assert!(score < 2.0, "exposure {score}: {said}");
}
