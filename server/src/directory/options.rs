//! Which directory the server uses, as `cityauth-server` is told on its command line
//! (`--directory ad|ldap|builtin` and the `--directory-*` flags), checked and turned into
//! [`LdapSettings`] and a [`Directory`]; and the startup check that stops a server whose
//! directory refuses its service account or cannot be reached.
//!
//! Each flag also reads the `CITYAUTH_DIRECTORY_*` variable of its name and the configuration
//! file's `[directory]` table (`crate::settings`; flags over variables over the file). The
//! service account's password is the one value that is never a flag nor a setting (a command
//! line is visible to every local user in `ps`): it comes from a file or an environment variable.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use zeroize::Zeroizing;

use super::ldap::LdapSettings;
use super::{Directory, DirectoryError, DirectoryKind};

/// The directory flags of `cityauth-server` (global: `serve` and the admin commands that
/// look accounts up read them alike).
#[derive(Debug, Clone, clap::Args)]
pub struct DirectoryOptions {
    /// Where the accounts and their passwords live: `builtin` (the server's own table, the
    /// default), `ad` (Active Directory, or Samba's AD DC) or `ldap` (OpenLDAP and compatible).
    #[arg(long = "directory", env = "CITYAUTH_DIRECTORY", global = true, default_value = "builtin", value_parser = parse_kind)]
    pub kind: DirectoryKind,
    /// The directory's URL: `ldaps://host:636`, or `ldap://host:389` (then StartTLS, always).
    #[arg(
        long = "directory-url",
        env = "CITYAUTH_DIRECTORY_URL",
        global = true,
        value_name = "URL"
    )]
    pub url: Option<String>,
    /// Where accounts are searched (the whole subtree), e.g. `OU=Staff,DC=city,DC=example`.
    #[arg(
        long = "directory-base-dn",
        env = "CITYAUTH_DIRECTORY_BASE_DN",
        global = true,
        value_name = "DN"
    )]
    pub base_dn: Option<String>,
    /// The service account's DN (least privilege: `server/README.md`, "Connect your directory").
    #[arg(
        long = "directory-bind-dn",
        env = "CITYAUTH_DIRECTORY_BIND_DN",
        global = true,
        value_name = "DN"
    )]
    pub bind_dn: Option<String>,
    /// A file holding the service account's password (one line; a final newline is ignored).
    #[arg(
        long = "directory-password-file",
        env = "CITYAUTH_DIRECTORY_PASSWORD_FILE",
        global = true,
        value_name = "PATH",
        conflicts_with = "password_env"
    )]
    pub password_file: Option<PathBuf>,
    /// The environment variable holding the service account's password, instead.
    #[arg(
        long = "directory-password-env",
        env = "CITYAUTH_DIRECTORY_PASSWORD_ENV",
        global = true,
        value_name = "NAME"
    )]
    pub password_env: Option<String>,
    /// The attribute a username is matched against (default: `sAMAccountName` for `ad`,
    /// `uid` for `ldap`; `userPrincipalName` also works on AD).
    #[arg(
        long = "directory-user-attribute",
        env = "CITYAUTH_DIRECTORY_USER_ATTRIBUTE",
        global = true,
        value_name = "ATTRIBUTE"
    )]
    pub user_attribute: Option<String>,
    /// The PEM file of the CA that the directory's certificate must chain to.
    #[arg(
        long = "directory-ca-file",
        env = "CITYAUTH_DIRECTORY_CA_FILE",
        global = true,
        value_name = "PATH"
    )]
    pub ca_file: Option<PathBuf>,
    /// Only members of this group (DN; nested membership counts on AD) may use self-service;
    /// others are answered as unknown. Default: every account under the base DN.
    #[arg(
        long = "directory-scope-group",
        env = "CITYAUTH_DIRECTORY_SCOPE_GROUP",
        global = true,
        value_name = "DN"
    )]
    pub scope_group: Option<String>,
    /// A group (DN) whose members are never reset or unlocked through self-service; repeat
    /// for several. Replaces the default: for `ad`, the groups AD itself protects (Domain
    /// Admins, Administrators, the Operators…) under the base DN's `DC=` part; for `ldap`, none.
    #[arg(
        long = "directory-protected-group",
        env = "CITYAUTH_DIRECTORY_PROTECTED_GROUPS",
        value_delimiter = ';',
        global = true,
        value_name = "DN"
    )]
    pub protected_groups: Vec<String>,
    /// The longest one directory operation (connect, bind, search, modify) may take, seconds.
    #[arg(long = "directory-timeout", env = "CITYAUTH_DIRECTORY_TIMEOUT", global = true, value_name = "SECONDS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..=120))]
    pub timeout: u64,
    /// Service-account connections kept open for reuse.
    #[arg(long = "directory-pool-size", env = "CITYAUTH_DIRECTORY_POOL_SIZE", global = true, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u64).range(1..=64))]
    pub pool_size: u64,
}

/// The domain's administrative groups that `ad` protects unless `--directory-protected-group`
/// says otherwise, under the domain `DC=…` part of the base DN: the groups whose members
/// Active Directory itself protects (AdminSDHolder), since resetting any of them through
/// self-service would hand an attacker who fooled the reset the domain. Groups of the forest
/// root (Enterprise Admins, Schema Admins) are named in this domain too: on a child domain
/// they match nobody, and BUILTIN\Administrators, which nests Enterprise Admins, still counts.
pub fn default_ad_protected_groups(base_dn: &str) -> Result<Vec<String>, DirectoryError> {
    let domain = domain_of(base_dn).ok_or_else(|| {
        DirectoryError::Config(format!(
            "the base DN {base_dn} has no DC= part to find the domain's administrative groups \
             under: give them with --directory-protected-group"
        ))
    })?;
    let users = ["Domain Admins", "Enterprise Admins", "Schema Admins"];
    let builtin = [
        "Administrators",
        "Account Operators",
        "Server Operators",
        "Backup Operators",
        "Print Operators",
    ];
    Ok(users
        .iter()
        .map(|cn| format!("CN={cn},CN=Users,{domain}"))
        .chain(
            builtin
                .iter()
                .map(|cn| format!("CN={cn},CN=Builtin,{domain}")),
        )
        .collect())
}

/// The trailing `DC=` components of a DN (`OU=Staff,DC=city,DC=test` → `DC=city,DC=test`).
fn domain_of(dn: &str) -> Option<String> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in dn.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            ',' if !escaped => {
                parts.push(dn[start..i].trim());
                start = i + 1;
            }
            _ => escaped = false,
        }
    }
    parts.push(dn[start..].trim());
    let first_dc = parts
        .iter()
        .rposition(|p| !p.to_ascii_lowercase().starts_with("dc="))
        .map_or(0, |i| i + 1);
    let domain = &parts[first_dc..];
    (!domain.is_empty()).then(|| domain.join(","))
}

/// An external directory as the flags chose it, not yet connected.
pub struct Opened {
    /// The directory.
    pub directory: Arc<dyn Directory>,
    /// Its settings (the password redacted from `Debug`).
    pub settings: LdapSettings,
    /// Where the service account's password came from, for messages.
    pub password_source: String,
}

impl Opened {
    /// [`startup_check`] on this directory.
    pub async fn check(&self) -> Result<(), String> {
        startup_check(
            self.directory.as_ref(),
            &self.settings,
            &self.password_source,
        )
        .await
    }
}

/// `builtin`, `ad` or `ldap`.
pub fn parse_kind(text: &str) -> Result<DirectoryKind, String> {
    match text {
        "builtin" => Ok(DirectoryKind::BuiltIn),
        "ad" => Ok(DirectoryKind::ActiveDirectory),
        "ldap" => Ok(DirectoryKind::Ldap),
        _ => Err("builtin, ad or ldap".into()),
    }
}

impl DirectoryOptions {
    /// The settings these flags give: `None` for the built-in store. Every missing or
    /// unusable value is a [`DirectoryError::Config`] naming the flag.
    pub fn settings(&self) -> Result<Option<LdapSettings>, DirectoryError> {
        if self.kind == DirectoryKind::BuiltIn {
            if let Some(flag) = self.external_flag_given() {
                return Err(DirectoryError::Config(format!(
                    "{flag} needs --directory ad or --directory ldap (the built-in store is in use)"
                )));
            }
            return Ok(None);
        }
        let required = |value: &Option<String>, flag: &str| {
            value
                .clone()
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| DirectoryError::Config(format!("{flag} is required")))
        };
        let url = required(&self.url, "--directory-url")?;
        let base_dn = required(&self.base_dn, "--directory-base-dn")?;
        let bind_dn = required(&self.bind_dn, "--directory-bind-dn")?;
        let ca_file = self.ca_file.clone().ok_or_else(|| {
            DirectoryError::Config(
                "--directory-ca-file is required (the directory's certificate is always verified)"
                    .into(),
            )
        })?;
        let bind_password = self.password()?;
        let user_attribute = self.user_attribute.clone().unwrap_or_else(|| {
            match self.kind {
                DirectoryKind::ActiveDirectory => "sAMAccountName",
                _ => "uid",
            }
            .to_owned()
        });
        let protected_groups = match (self.kind, self.protected_groups.is_empty()) {
            (DirectoryKind::ActiveDirectory, true) => default_ad_protected_groups(&base_dn)?,
            _ => self.protected_groups.clone(),
        };
        Ok(Some(LdapSettings {
            url,
            base_dn,
            bind_dn,
            bind_password,
            user_attribute,
            ca_file,
            scope_group: self.scope_group.clone(),
            protected_groups,
            timeout: Duration::from_secs(self.timeout),
            pool_size: self.pool_size as usize,
        }))
    }

    /// The directory these flags choose, opened (which connects to nothing yet: the first
    /// connection is made on the runtime that uses it); `None` for the built-in store.
    pub fn open(&self) -> Result<Option<Opened>, DirectoryError> {
        let Some(settings) = self.settings()? else {
            return Ok(None);
        };
        let directory: Arc<dyn Directory> = match self.kind {
            DirectoryKind::ActiveDirectory => {
                Arc::new(super::ad::ActiveDirectory::new(settings.clone())?)
            }
            _ => Arc::new(super::openldap::OpenLdap::new(settings.clone())?),
        };
        Ok(Some(Opened {
            directory,
            settings,
            password_source: self.password_source(),
        }))
    }

    /// Where the password comes from, for messages (the file or the variable, never the
    /// password).
    pub fn password_source(&self) -> String {
        match (&self.password_file, &self.password_env) {
            (Some(path), _) => format!("the file {}", path.display()),
            (None, Some(name)) => format!("the environment variable {name}"),
            (None, None) => "nowhere".to_owned(),
        }
    }

    /// The service account's password, read from its file or variable.
    fn password(&self) -> Result<Zeroizing<String>, DirectoryError> {
        let password = match (&self.password_file, &self.password_env) {
            (Some(path), _) => read_password_file(path)?,
            (None, Some(name)) => match std::env::var(name) {
                Ok(value) => Zeroizing::new(value),
                Err(std::env::VarError::NotPresent) => {
                    return Err(DirectoryError::Config(format!(
                        "the environment variable {name} (--directory-password-env) is not set"
                    )));
                }
                Err(std::env::VarError::NotUnicode(_)) => {
                    return Err(DirectoryError::Config(format!(
                        "the environment variable {name} (--directory-password-env) is not UTF-8"
                    )));
                }
            },
            (None, None) => {
                return Err(DirectoryError::Config(
                    "the service account's password is required: --directory-password-file \
                     PATH or --directory-password-env NAME (never on the command line)"
                        .into(),
                ));
            }
        };
        if password.is_empty() {
            return Err(DirectoryError::Config(format!(
                "the service account's password in {} is empty",
                self.password_source()
            )));
        }
        Ok(password)
    }

    /// The first flag of an external directory given while the built-in store is chosen.
    fn external_flag_given(&self) -> Option<&'static str> {
        [
            (self.url.is_some(), "--directory-url"),
            (self.base_dn.is_some(), "--directory-base-dn"),
            (self.bind_dn.is_some(), "--directory-bind-dn"),
            (self.password_file.is_some(), "--directory-password-file"),
            (self.password_env.is_some(), "--directory-password-env"),
            (self.user_attribute.is_some(), "--directory-user-attribute"),
            (self.ca_file.is_some(), "--directory-ca-file"),
            (self.scope_group.is_some(), "--directory-scope-group"),
            (
                !self.protected_groups.is_empty(),
                "--directory-protected-group",
            ),
        ]
        .into_iter()
        .find_map(|(given, flag)| given.then_some(flag))
    }
}

/// The password in `path`: its content less one final line break. A file others can read is
/// logged as a warning (it is still used: a mounted secret is sometimes world-readable in
/// its own private mount).
fn read_password_file(path: &Path) -> Result<Zeroizing<String>, DirectoryError> {
    let unreadable = |e: &dyn std::fmt::Display| {
        DirectoryError::Config(format!(
            "the service account's password file {} (--directory-password-file): {e}",
            path.display()
        ))
    };
    let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| unreadable(&e))?);
    let text = std::str::from_utf8(&bytes).map_err(|_| unreadable(&"not UTF-8"))?;
    let text = text
        .strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(text);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            crate::log(&format!(
                "warning: the service account's password file {} is readable by others \
                 (chmod 600 it)",
                path.display()
            ));
        }
    }
    Ok(Zeroizing::new(text.to_owned()))
}

/// Checks, before the server listens, that the directory answers with the service account:
/// `Err` is one sentence saying what is wrong and where to look (the URL, the account, where
/// its password came from), never the password. Bounded: past three times the operation
/// timeout it gives up as unreachable.
pub async fn startup_check(
    directory: &dyn Directory,
    settings: &LdapSettings,
    password_source: &str,
) -> Result<(), String> {
    let url = &settings.url;
    let outcome = tokio::time::timeout(settings.timeout * 3, directory.health()).await;
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(DirectoryError::ServiceAccount(detail))) => Err(format!(
            "the directory at {url} refused the service account {} (check its password in {}): \
             {detail}",
            settings.bind_dn, password_source
        )),
        Ok(Err(DirectoryError::Unavailable(detail))) => Err(format!(
            "the directory at {url} cannot be reached, or its certificate does not verify \
             against {}: {detail}",
            settings.ca_file.display()
        )),
        Ok(Err(DirectoryError::Config(detail))) => {
            Err(format!("directory configuration: {detail}"))
        }
        Ok(Err(other)) => Err(format!(
            "the directory at {url} failed the startup check (a search of {} as {}): {other}",
            settings.base_dn, settings.bind_dn
        )),
        Err(_) => Err(format!(
            "the directory at {url} did not answer within {} s",
            (settings.timeout * 3).as_secs()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        directory: DirectoryOptions,
    }

    fn parse(args: &[&str]) -> DirectoryOptions {
        Flags::try_parse_from(std::iter::once("cityauth-server").chain(args.iter().copied()))
            .unwrap()
            .directory
    }

    fn config_error(options: &DirectoryOptions) -> String {
        match options.settings() {
            Err(DirectoryError::Config(message)) => message,
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }

    #[test]
    fn no_directory_flags_choose_the_built_in_store() {
        assert!(parse(&[]).settings().unwrap().is_none());
    }

    #[test]
    fn a_directory_flag_without_a_directory_kind_is_refused() {
        let message = config_error(&parse(&["--directory-url", "ldaps://dc1:636"]));
        assert!(
            message.contains("--directory-url needs --directory ad"),
            "{message}"
        );
    }

    #[test]
    fn ad_flags_give_the_settings_with_ad_defaults_and_the_password_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("service.password");
        std::fs::write(&secret, "Sérvice-Pass-1\n").unwrap();
        let options = parse(&[
            "--directory",
            "ad",
            "--directory-url",
            "ldaps://dc1.city.test:636",
            "--directory-base-dn",
            "OU=Staff,DC=city,DC=test",
            "--directory-bind-dn",
            "CN=svc-sspr,OU=Service,DC=city,DC=test",
            "--directory-password-file",
            secret.to_str().unwrap(),
            "--directory-ca-file",
            "/etc/cityauth/city-ca.pem",
        ]);
        let settings = options.settings().unwrap().unwrap();
        assert_eq!(settings.url, "ldaps://dc1.city.test:636");
        assert_eq!(settings.base_dn, "OU=Staff,DC=city,DC=test");
        assert_eq!(settings.bind_dn, "CN=svc-sspr,OU=Service,DC=city,DC=test");
        assert_eq!(settings.bind_password.as_str(), "Sérvice-Pass-1");
        assert_eq!(settings.user_attribute, "sAMAccountName");
        assert_eq!(settings.timeout, Duration::from_secs(5));
        assert_eq!(settings.pool_size, 4);
        assert_eq!(settings.scope_group, None);
        assert!(
            settings
                .protected_groups
                .contains(&"CN=Domain Admins,CN=Users,DC=city,DC=test".to_owned())
        );
        assert!(
            settings
                .protected_groups
                .contains(&"CN=Administrators,CN=Builtin,DC=city,DC=test".to_owned())
        );
        assert!(
            !format!("{settings:?}").contains("Sérvice"),
            "no password in Debug"
        );
    }

    #[test]
    fn ldap_flags_default_to_uid_and_no_protected_groups_and_take_the_given_ones() {
        let name = "CITYAUTH_TEST_LDAP_SERVICE_PASSWORD";
        let options = parse(&[
            "--directory",
            "ldap",
            "--directory-url",
            "ldap://ldap.city.test",
            "--directory-base-dn",
            "ou=people,dc=city,dc=test",
            "--directory-bind-dn",
            "cn=sspr,ou=services,dc=city,dc=test",
            "--directory-password-env",
            name,
            "--directory-ca-file",
            "ca.pem",
            "--directory-timeout",
            "9",
            "--directory-pool-size",
            "2",
        ]);
        // Not set in this process: the error names the variable, not a value.
        let message = config_error(&options);
        assert!(
            message.contains(name) && message.contains("not set"),
            "{message}"
        );

        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("p");
        std::fs::write(&secret, "x").unwrap();
        let mut options = options;
        options.password_env = None;
        options.password_file = Some(secret);
        options.protected_groups = vec!["cn=admins,ou=groups,dc=city,dc=test".into()];
        options.scope_group = Some("cn=staff,ou=groups,dc=city,dc=test".into());
        let settings = options.settings().unwrap().unwrap();
        assert_eq!(settings.user_attribute, "uid");
        assert_eq!(
            settings.protected_groups,
            ["cn=admins,ou=groups,dc=city,dc=test"]
        );
        assert_eq!(
            settings.scope_group.as_deref(),
            Some("cn=staff,ou=groups,dc=city,dc=test")
        );
        assert_eq!(settings.timeout, Duration::from_secs(9));
        assert_eq!(settings.pool_size, 2);
    }

    #[test]
    fn each_missing_setting_is_named() {
        let full = [
            "--directory",
            "ad",
            "--directory-url",
            "ldaps://dc1:636",
            "--directory-base-dn",
            "DC=city,DC=test",
            "--directory-bind-dn",
            "CN=svc,DC=city,DC=test",
            "--directory-password-env",
            "UNSET_VARIABLE_FOR_THIS_TEST",
            "--directory-ca-file",
            "ca.pem",
        ];
        for (flag, named) in [
            ("--directory-url", "--directory-url is required"),
            ("--directory-base-dn", "--directory-base-dn is required"),
            ("--directory-bind-dn", "--directory-bind-dn is required"),
            ("--directory-ca-file", "--directory-ca-file is required"),
            (
                "--directory-password-env",
                "--directory-password-file PATH or",
            ),
        ] {
            let at = full.iter().position(|a| *a == flag).unwrap();
            let args: Vec<&str> = full
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != at && *i != at + 1)
                .map(|(_, a)| *a)
                .collect();
            let message = config_error(&parse(&args));
            assert!(message.contains(named), "without {flag}: {message}");
        }
    }

    #[test]
    fn the_password_is_never_a_flag_value_and_file_and_variable_exclude_each_other() {
        let given = |args: &[&str]| {
            Flags::try_parse_from(std::iter::once("x").chain(args.iter().copied())).is_ok()
        };
        assert!(!given(&["--directory-password", "secret"]));
        assert!(!given(&[
            "--directory-password-file",
            "a",
            "--directory-password-env",
            "B"
        ]));
        assert!(!given(&["--directory", "nis"]));
        assert!(!given(&["--directory-timeout", "0"]));
    }

    #[test]
    fn an_empty_or_unreadable_password_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "\n").unwrap();
        let mut options = parse(&[
            "--directory",
            "ldap",
            "--directory-url",
            "ldaps://l:636",
            "--directory-base-dn",
            "dc=x",
            "--directory-bind-dn",
            "cn=s,dc=x",
            "--directory-ca-file",
            "ca.pem",
        ]);
        options.password_file = Some(empty);
        assert!(config_error(&options).contains("is empty"));
        options.password_file = Some(dir.path().join("missing"));
        let message = config_error(&options);
        assert!(
            message.contains("password file") && message.contains("missing"),
            "{message}"
        );
    }

    #[test]
    fn the_ad_default_protected_groups_sit_under_the_domain_of_the_base_dn() {
        let groups =
            default_ad_protected_groups("OU=Staff\\, Temps,OU=City,DC=city,DC=test").unwrap();
        assert_eq!(groups[0], "CN=Domain Admins,CN=Users,DC=city,DC=test");
        assert!(groups.iter().all(|g| g.ends_with(",DC=city,DC=test")));
        assert_eq!(
            domain_of("dc=example,dc=org").as_deref(),
            Some("dc=example,dc=org")
        );
        assert!(matches!(
            default_ad_protected_groups("OU=Staff,O=City"),
            Err(DirectoryError::Config(_))
        ));
    }
}
