//! Issue 14, item 2: the passphrase from an inherited descriptor (a real pipe moved to fd 3
//! by a real bash) and from a private file; precedence fd > file > environment; a wrong
//! passphrase through each is `wrong_passphrase` (exit 3); a bad descriptor or an open
//! file is a clear error.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use common::{PASSPHRASE, Run, command, run, vault_dir};

/// Runs cityauth with `args` under bash, which moves the pipe the test writes `input` into
/// from its stdin to descriptor 3 (stdin itself is then /dev/null).
fn with_fd3(vault: &Path, env_passphrase: Option<&str>, args: &[&str], input: &str) -> Run {
    let mut bash = std::process::Command::new("bash");
    bash.arg("-c")
        .arg(r#"exec "$@" 3<&0 0</dev/null"#)
        .arg("bash")
        .arg(env!("CARGO_BIN_EXE_cityauth"))
        .args(args)
        .env_remove("CITYAUTH_PASSPHRASE")
        .env_remove("CITYAUTH_ERROR_FORMAT")
        .env("CITYAUTH_VAULT", vault)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(passphrase) = env_passphrase {
        bash.env("CITYAUTH_PASSPHRASE", passphrase);
    }
    let mut child = bash.spawn().expect("run bash");
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(input.as_bytes()).unwrap();
    drop(pipe);
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().expect("exit status"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// Runs with `args` and no passphrase in the environment.
fn without_env(vault: &Path, args: &[&str]) -> Run {
    let mut command = command(args);
    command.env("CITYAUTH_VAULT", vault);
    common::output(command)
}

fn private_file(path: &Path, contents: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, contents).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_pipe_on_an_inherited_descriptor_unlocks_and_a_wrong_one_is_refused() {
    let (_dir, vault) = vault_dir();
    run(&vault, &["init"]).assert_ok();
    let listed = with_fd3(
        &vault,
        None,
        &["--passphrase-fd", "3", "list", "--json"],
        &format!("{PASSPHRASE}\nthe rest is not read\n"),
    );
    listed.assert_ok();
    assert_eq!(listed.stdout.trim(), "[]");
    // The descriptor wins over a wrong passphrase in the environment...
    with_fd3(
        &vault,
        Some("not it"),
        &["list", "--passphrase-fd", "3"],
        &format!("{PASSPHRASE}\n"),
    )
    .assert_ok();
    // ...and a wrong one on the descriptor is not rescued by a right one in the environment.
    with_fd3(
        &vault,
        Some(PASSPHRASE),
        &["list", "--passphrase-fd", "3"],
        "wrong horse battery staple\n",
    )
    .assert_error("wrong_passphrase", 3, "passphrase");
    with_fd3(&vault, None, &["list", "--passphrase-fd", "3"], "").assert_error(
        "passphrase_required",
        3,
        "empty",
    );
    without_env(&vault, &["list", "--passphrase-fd", "9"]).assert_error(
        "usage",
        2,
        "file descriptor 9 is not open",
    );
    without_env(&vault, &["list", "--passphrase-fd", "-1"]).assert_error("usage", 2, "-1");
}

#[test]
fn a_private_file_unlocks_an_open_one_is_refused_and_the_descriptor_wins() {
    let (dir, vault) = vault_dir();
    let file = dir.path().join("passphrase");
    private_file(&file, &format!("{PASSPHRASE}\n"), 0o600);
    let file_arg = file.to_str().unwrap();
    // `init` takes it too: the vault made with it opens with the environment's.
    without_env(&vault, &["init", "--passphrase-file", file_arg]).assert_ok();
    run(&vault, &["list"]).assert_ok();
    without_env(&vault, &["--passphrase-file", file_arg, "codes", "--json"]).assert_ok();

    // The file wins over the environment, a wrong one included.
    let mut wrong_env = command(&["list", "--passphrase-file", file_arg]);
    wrong_env
        .env("CITYAUTH_VAULT", &vault)
        .env("CITYAUTH_PASSPHRASE", "not it");
    common::output(wrong_env).assert_ok();

    let wrong = dir.path().join("wrong");
    private_file(&wrong, "wrong horse battery staple\r\n", 0o400);
    let wrong_arg = wrong.to_str().unwrap();
    let mut right_env = command(&["list", "--passphrase-file", wrong_arg]);
    right_env
        .env("CITYAUTH_VAULT", &vault)
        .env("CITYAUTH_PASSPHRASE", PASSPHRASE);
    common::output(right_env).assert_error("wrong_passphrase", 3, "passphrase");
    // The descriptor wins over the file.
    with_fd3(
        &vault,
        None,
        &[
            "list",
            "--passphrase-file",
            wrong_arg,
            "--passphrase-fd",
            "3",
        ],
        &format!("{PASSPHRASE}\n"),
    )
    .assert_ok();

    for mode in [0o640, 0o604, 0o660] {
        let open = dir.path().join(format!("open-{mode:o}"));
        private_file(&open, &format!("{PASSPHRASE}\n"), mode);
        let run = without_env(
            &vault,
            &["list", "--passphrase-file", open.to_str().unwrap()],
        );
        run.assert_error("passphrase_required", 3, "chmod 600");
        assert!(
            run.stderr.contains(&format!("mode {mode:03o}")),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains(PASSPHRASE));
    }
    let missing = dir.path().join("missing");
    without_env(
        &vault,
        &["list", "--passphrase-file", missing.to_str().unwrap()],
    )
    .assert_error("file_not_found", 4, "no such file");
}

#[test]
fn the_help_names_the_order_and_the_environment_risk() {
    let help = common::bare(&["--help"]);
    help.assert_ok();
    for text in ["--passphrase-fd", "--passphrase-file", "/proc/PID/environ"] {
        assert!(
            help.stdout.contains(text),
            "{text} not in:\n{}",
            help.stdout
        );
    }
}
