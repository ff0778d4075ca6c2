//! `cityauth-server config check` as an operator runs it: the file under the `CITYAUTH_*`
//! variables under the flags; an unknown key or a wrong value named; the database URL's
//! password, the KEK and the directory's password never printed; nothing created.

use std::process::Command;

fn check(
    dir: &std::path::Path,
    file: &str,
    env: &[(&str, &str)],
    flags: &[&str],
) -> (bool, String, String) {
    let path = dir.join("cityauth.toml");
    std::fs::write(&path, file).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cityauth-server"))
        .current_dir(dir)
        .arg("--config")
        .arg(&path)
        .args(["config", "check"])
        .args(flags)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const FILE: &str = r#"
db = "postgres://city:Pg-Secret-91@db.city.example/auth"
kek_env = "CITY_KEK"
[serve]
number_digits = 6
challenge_lifetime = 90
[portal]
register_reminders = 1
[edge]
trusted_proxies = ["127.0.0.1"]
max_connections = 100
[limits]
code_tries = 3
reset_start_per_ip = { max = 9, window = 60 }
[directory]
kind = "ldap"
url = "ldaps://ldap.city.example:636"
base_dn = "ou=people,dc=city,dc=example"
bind_dn = "cn=sspr,dc=city,dc=example"
password_env = "DIRECTORY_PASSWORD"
ca_file = "/etc/cityauth/ca.pem"
[mail]
host = "relay.city.example"
from = "City of Chicago <accounts@city.example>"
security_team = "soc@city.example"
"#;

#[test]
fn the_file_is_under_the_environment_which_is_under_the_flags_and_secrets_are_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("CITY_KEK", "ab".repeat(32)),
        ("DIRECTORY_PASSWORD", "Ldap-Secret-77".to_owned()),
        ("CITYAUTH_MAX_CONNECTIONS", "200".to_owned()),
        ("CITYAUTH_CHALLENGE_LIFETIME", "60".to_owned()),
        ("CITYAUTH_LIMITS_CODE_TRIES", "4".to_owned()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (ok, out, err) = check(dir.path(), FILE, &env, &["--challenge-lifetime", "30"]);
    assert!(ok, "{err}");
    let has = |line: &str| out.lines().any(|l| l == line);
    assert!(has("serve.number_digits = 6"), "the file: {out}");
    assert!(
        has("edge.max_connections = 200"),
        "the environment over the file: {out}"
    );
    assert!(
        has("serve.challenge_lifetime = 30"),
        "the flag over both: {out}"
    );
    assert!(has("limits.code_tries = 4"), "{out}");
    assert!(has("portal.register_reminders = 1"), "{out}");
    assert!(
        has("mail.host = relay.city.example:587 (StartTls)"),
        "{out}"
    );
    assert!(
        has("limits.reset_start_per_ip = { max = 9, window = 60 }"),
        "{out}"
    );
    assert!(
        has("db = postgres://city:<redacted>@db.city.example/auth"),
        "{out}"
    );
    assert!(
        has("directory.url = ldaps://ldap.city.example:636"),
        "{out}"
    );
    for secret in ["Pg-Secret-91", "Ldap-Secret-77", &"ab".repeat(32)] {
        assert!(
            !out.contains(secret) && !err.contains(secret),
            "a secret printed: {out}{err}"
        );
    }
    assert!(out.ends_with("configuration ok\n"), "{out}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "nothing but the file: no database was made"
    );
}

#[test]
fn the_durability_defaults_to_full_on_postgresql_and_normal_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("CITY_KEK", "ab".repeat(32))];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let postgres = "db = \"postgres://city@db.city.example/auth\"\nkek_env = \"CITY_KEK\"\n";
    let sqlite = "db = \"city.db\"\nkek_env = \"CITY_KEK\"\n";
    for (file, flags, expected) in [
        (postgres, &[][..], "Full"),
        (sqlite, &[][..], "Normal"),
        (postgres, &["--durability", "normal"][..], "Normal"),
        (sqlite, &["--durability", "full"][..], "Full"),
    ] {
        let (ok, out, err) = check(dir.path(), file, &env, flags);
        assert!(ok, "{err}");
        let line = format!("database.durability = {expected}");
        assert!(out.lines().any(|l| l == line), "{file} {flags:?}: {out}");
    }
}

/// A file, the variables, and the setting the error must name.
type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);

#[test]
fn an_unknown_key_or_a_wrong_value_fails_with_a_sentence_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[Case] = &[
        ("[serve]\nnumbr_digits = 6\n", &[], "numbr_digits"),
        (
            "[limits]\ncode_per_ip = { max = 5, window = 0 }\n",
            &[],
            "limits.code_per_ip",
        ),
        ("[serve]\nnumber_digits = 4\n", &[], "serve.number_digits"),
        (
            "[portal]\nregister_reminder = 1\n",
            &[],
            "register_reminder",
        ),
        ("[portal]\nregister_reminders = -1\n", &[], "line 2"),
        (
            "[edge]\ntrusted_proxies = [\"10.0.0.0/33\"]\n",
            &[],
            "edge.trusted_proxies",
        ),
        (
            "",
            &[("CITYAUTH_LIMITS_CODE_TIRES", "4")],
            "CITYAUTH_LIMITS_CODE_TIRES",
        ),
        (
            "db = \"postgres://u:Pg-Secret-91@h/d\"\nbogus = 1\n",
            &[],
            "bogus",
        ),
        (
            "[push.apns]\nkey_file = \"/k.p8\"\nkey_id = \"K\"\nteam_id = \"T\"\n",
            &[],
            "topic",
        ),
        (
            "[helpdesk]\ncode_minutes_min = 60\ncode_minutes_max = 30\n",
            &[],
            "helpdesk.code_minutes",
        ),
        (
            "[mail]\nhost = \"relay.city.test\"\nfrom = \"not an address\"\n",
            &[],
            "mail.from",
        ),
        (
            "[mail]\nhost = \"relay.city.test\"\nfrom = \"a@city.test\"\ntls = \"none\"\n",
            &[],
            "mail.tls",
        ),
        (
            "[mail]\nhost = \"relay.city.test\"\nfrom = \"a@city.test\"\nusername = \"relay\"\n",
            &[],
            "mail.password_file",
        ),
        (
            "[mail]\nhost = \"relay.city.test\"\nfrom = \"a@city.test\"\nsecurity_team = \"soc\"\n",
            &[],
            "mail.security_team",
        ),
    ];
    for (file, env, named) in cases {
        let (ok, out, err) = check(dir.path(), file, env, &[]);
        assert!(!ok, "{file} was accepted: {out}");
        assert!(
            err.contains(named),
            "{file}: the error does not name {named}: {err}"
        );
        assert!(!err.contains("Pg-Secret-91"), "{err}");
    }
}
