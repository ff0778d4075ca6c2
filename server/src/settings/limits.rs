//! `[limits]` and the `CITYAUTH_LIMITS_<FIELD>` variables onto [`crate::Limits`], checked.

use crate::config::Limits;
use crate::limits::Limit;

use super::{LimitSetting, LimitSettings, SettingsError};

/// The prefix of the limits' environment variables.
const ENV_PREFIX: &str = "CITYAUTH_LIMITS_";

/// Reads the `CITYAUTH_LIMITS_<FIELD>` variables of `vars` (a rate limit as `MAX/WINDOW`,
/// e.g. `30/600`; the others a number) over `from`; an unknown field is an error naming it.
pub fn limits_from_env(
    vars: impl Iterator<Item = (String, String)>,
    mut from: LimitSettings,
) -> Result<LimitSettings, SettingsError> {
    for (name, value) in vars {
        let Some(field) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let field = field.to_ascii_lowercase();
        let limit = || parse_limit(&name, &value);
        let number = || {
            value
                .trim()
                .parse::<u64>()
                .map_err(|_| SettingsError::invalid(&name, "not a whole number"))
        };
        let small =
            || u32::try_from(number()?).map_err(|_| SettingsError::invalid(&name, "too large"));
        let l = &mut from;
        match field.as_str() {
            "reset_start_per_user" => l.reset_start_per_user = Some(limit()?),
            "reset_start_per_user_ip" => l.reset_start_per_user_ip = Some(limit()?),
            "reset_start_per_ip" => l.reset_start_per_ip = Some(limit()?),
            "code_per_user" => l.code_per_user = Some(limit()?),
            "code_per_user_ip" => l.code_per_user_ip = Some(limit()?),
            "code_per_ip" => l.code_per_ip = Some(limit()?),
            "sign_in_per_user" => l.sign_in_per_user = Some(limit()?),
            "sign_in_per_user_ip" => l.sign_in_per_user_ip = Some(limit()?),
            "sign_in_per_ip" => l.sign_in_per_ip = Some(limit()?),
            "push_anonymous" => l.push_anonymous = Some(limit()?),
            "push_after_password" => l.push_after_password = Some(limit()?),
            "code_tries" => l.code_tries = Some(small()?),
            "lock_after" => l.lock_after = Some(small()?),
            "disable_after" => l.disable_after = Some(small()?),
            "lock_seconds" => l.lock_seconds = Some(number()?),
            "lock_max_seconds" => l.lock_max_seconds = Some(number()?),
            "trusted_client_seconds" => l.trusted_client_seconds = Some(number()?),
            "limiter_keys" => {
                l.limiter_keys = Some(
                    usize::try_from(number()?)
                        .map_err(|_| SettingsError::invalid(&name, "too large"))?,
                )
            }
            _ => return Err(SettingsError::invalid(&name, "no such limit")),
        }
    }
    Ok(from)
}

fn parse_limit(name: &str, value: &str) -> Result<LimitSetting, SettingsError> {
    let wrong = || SettingsError::invalid(name, "not MAX/WINDOW_SECONDS, e.g. 30/600");
    let (max, window) = value.trim().split_once('/').ok_or_else(wrong)?;
    Ok(LimitSetting {
        max: max.trim().parse().map_err(|_| wrong())?,
        window: window.trim().parse().map_err(|_| wrong())?,
    })
}

/// Applies `settings` over `limits`, refusing values that would disable a defence or make
/// the limiter divide by zero (a zero window, no keys).
pub fn apply_limits(limits: &mut Limits, settings: &LimitSettings) -> Result<(), SettingsError> {
    let rate = |field: &str, target: &mut Limit, value: Option<LimitSetting>| {
        if let Some(v) = value {
            if v.max == 0 || v.window == 0 {
                return Err(SettingsError::invalid(
                    format!("limits.{field}"),
                    "max and window must be at least 1",
                ));
            }
            *target = Limit {
                max: v.max,
                window: v.window,
            };
        }
        Ok(())
    };
    let s = settings;
    rate(
        "reset_start_per_user",
        &mut limits.reset_start_per_user,
        s.reset_start_per_user,
    )?;
    rate(
        "reset_start_per_user_ip",
        &mut limits.reset_start_per_user_ip,
        s.reset_start_per_user_ip,
    )?;
    rate(
        "reset_start_per_ip",
        &mut limits.reset_start_per_ip,
        s.reset_start_per_ip,
    )?;
    rate("code_per_user", &mut limits.code_per_user, s.code_per_user)?;
    rate(
        "code_per_user_ip",
        &mut limits.code_per_user_ip,
        s.code_per_user_ip,
    )?;
    rate("code_per_ip", &mut limits.code_per_ip, s.code_per_ip)?;
    rate(
        "sign_in_per_user",
        &mut limits.sign_in_per_user,
        s.sign_in_per_user,
    )?;
    rate(
        "sign_in_per_user_ip",
        &mut limits.sign_in_per_user_ip,
        s.sign_in_per_user_ip,
    )?;
    rate(
        "sign_in_per_ip",
        &mut limits.sign_in_per_ip,
        s.sign_in_per_ip,
    )?;
    rate(
        "push_anonymous",
        &mut limits.push_anonymous,
        s.push_anonymous,
    )?;
    rate(
        "push_after_password",
        &mut limits.push_after_password,
        s.push_after_password,
    )?;
    let positive = |field: &str, value: u64| {
        if value == 0 {
            Err(SettingsError::invalid(
                format!("limits.{field}"),
                "must be at least 1",
            ))
        } else {
            Ok(())
        }
    };
    if let Some(v) = s.code_tries {
        positive("code_tries", v.into())?;
        limits.code_tries = v;
    }
    if let Some(v) = s.lock_after {
        positive("lock_after", v.into())?;
        limits.lock_after = v;
    }
    if let Some(v) = s.disable_after {
        positive("disable_after", v.into())?;
        // NIST SP 800-63B: at most 100 consecutive failures before an authenticator is disabled.
        if v > 100 {
            return Err(SettingsError::invalid(
                "limits.disable_after",
                "at most 100 (NIST SP 800-63B)",
            ));
        }
        limits.disable_after = v;
    }
    if let Some(v) = s.lock_seconds {
        positive("lock_seconds", v)?;
        limits.lock_seconds = v;
    }
    if let Some(v) = s.lock_max_seconds {
        positive("lock_max_seconds", v)?;
        limits.lock_max_seconds = v;
    }
    if limits.lock_max_seconds < limits.lock_seconds {
        return Err(SettingsError::invalid(
            "limits.lock_max_seconds",
            "shorter than limits.lock_seconds",
        ));
    }
    if let Some(v) = s.trusted_client_seconds {
        limits.trusted_client_seconds = v;
    }
    if let Some(v) = s.limiter_keys {
        positive("limiter_keys", v as u64)?;
        limits.limiter_keys = v;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(list: &[(&str, &str)]) -> impl Iterator<Item = (String, String)> {
        list.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn the_environment_overrides_the_file_and_names_a_wrong_variable() {
        let file = super::super::FileSettings::parse(
            "[limits]\ncode_tries = 3\nreset_start_per_user = { max = 7, window = 60 }\n",
        )
        .unwrap();
        let merged = limits_from_env(
            vars(&[("CITYAUTH_LIMITS_CODE_TRIES", "4"), ("PATH", "/bin")]),
            file.limits,
        )
        .unwrap();
        let mut limits = Limits::default();
        apply_limits(&mut limits, &merged).unwrap();
        assert_eq!(limits.code_tries, 4);
        assert_eq!(
            (
                limits.reset_start_per_user.max,
                limits.reset_start_per_user.window
            ),
            (7, 60)
        );

        let error = limits_from_env(
            vars(&[("CITYAUTH_LIMITS_CODE_TIRES", "4")]),
            LimitSettings::default(),
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("CITYAUTH_LIMITS_CODE_TIRES"),
            "{error}"
        );
        let error = limits_from_env(
            vars(&[("CITYAUTH_LIMITS_CODE_PER_IP", "30")]),
            LimitSettings::default(),
        )
        .unwrap_err();
        assert!(error.to_string().contains("MAX/WINDOW"), "{error}");
    }

    #[test]
    fn a_zero_window_or_too_many_failures_is_refused_naming_the_setting() {
        let mut settings = LimitSettings {
            code_per_ip: Some(LimitSetting { max: 5, window: 0 }),
            ..LimitSettings::default()
        };
        let error = apply_limits(&mut Limits::default(), &settings).unwrap_err();
        assert!(
            error.to_string().starts_with("limits.code_per_ip:"),
            "{error}"
        );
        settings.code_per_ip = None;
        settings.disable_after = Some(1000);
        let error = apply_limits(&mut Limits::default(), &settings).unwrap_err();
        assert!(
            error.to_string().starts_with("limits.disable_after:"),
            "{error}"
        );
    }
}
