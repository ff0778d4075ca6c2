//! The text of each email, from the `mail.ftl` catalogues: a subject and a plain-text body
//! per [`Notice`], for the employee and (fraud, floods) for the security team. Only the
//! username, the phone's name and the portal's home go in: never a secret, never a link that
//! grants access.

use super::Notice;
use crate::i18n::Lang;

/// One email's text, before it is addressed and sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailText {
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub body: String,
}

/// The email telling `username` about `notice` in `lang`; `portal` is the portal's home page.
pub fn to_employee(notice: &Notice, lang: Lang, username: &str, portal: &str) -> MailText {
    let (subject, body) = match notice {
        Notice::PasswordReset => (
            lang.text("mail-password-reset-subject"),
            lang.text("mail-password-reset-body"),
        ),
        Notice::PasswordChanged => (
            lang.text("mail-password-changed-subject"),
            lang.text("mail-password-changed-body"),
        ),
        Notice::PhoneAdded { phone } => (
            lang.text("mail-phone-added-subject"),
            lang.text_with("mail-phone-added-body", &[("phone", phone)]),
        ),
        Notice::PhoneRemoved { phone, by_helpdesk } => {
            let key = if *by_helpdesk {
                "mail-phone-removed-helpdesk-body"
            } else {
                "mail-phone-removed-body"
            };
            (
                lang.text("mail-phone-removed-subject"),
                lang.text_with(key, &[("phone", phone)]),
            )
        }
        Notice::FraudReported => (
            lang.text("mail-fraud-reported-subject"),
            lang.text("mail-fraud-reported-body"),
        ),
        Notice::PushFlood => (
            lang.text("mail-push-flood-subject"),
            lang.text("mail-push-flood-body"),
        ),
        Notice::AccessCodeIssued {
            at,
            minutes,
            overridden,
        } => {
            let key = if *overridden {
                "mail-access-code-override-body"
            } else {
                "mail-access-code-body"
            };
            let args = [
                ("when", lang.date_time(*at)),
                ("minutes", minutes.to_string()),
            ];
            let args: Vec<_> = args.iter().map(|(n, v)| (*n, v.as_str())).collect();
            (
                lang.text("mail-access-code-subject"),
                lang.text_with(key, &args),
            )
        }
    };
    let greeting = lang.text_with("mail-greeting", &[("username", username)]);
    let footer = lang.text_with("mail-footer", &[("portal", portal)]);
    MailText {
        subject,
        body: format!("{greeting}\n\n{body}\n\n{footer}\n"),
    }
}

/// The email to the security team about `notice`, if the notice calls for one (fraud
/// reports and floods), in English: the team's working language.
pub fn to_security(notice: &Notice, username: &str) -> Option<MailText> {
    let (subject, body) = match notice {
        Notice::FraudReported => ("mail-security-fraud-subject", "mail-security-fraud-body"),
        Notice::PushFlood => ("mail-security-flood-subject", "mail-security-flood-body"),
        _ => return None,
    };
    let args = [("username", username)];
    Some(MailText {
        subject: Lang::En.text_with(subject, &args),
        body: format!("{}\n", Lang::En.text_with(body, &args)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PORTAL: &str = "https://auth.example.gov/";

    fn every_notice() -> Vec<Notice> {
        vec![
            Notice::PasswordReset,
            Notice::PasswordChanged,
            Notice::PhoneAdded {
                phone: "Pixel".into(),
            },
            Notice::PhoneRemoved {
                phone: "Pixel".into(),
                by_helpdesk: false,
            },
            Notice::PhoneRemoved {
                phone: "Pixel".into(),
                by_helpdesk: true,
            },
            Notice::FraudReported,
            Notice::PushFlood,
            Notice::AccessCodeIssued {
                at: 1_772_460_300,
                minutes: 60,
                overridden: false,
            },
            Notice::AccessCodeIssued {
                at: 1_772_460_300,
                minutes: 60,
                overridden: true,
            },
        ]
    }

    #[test]
    fn the_access_code_notice_says_when_for_how_long_and_whether_overridden() {
        let notice = |overridden| Notice::AccessCodeIssued {
            at: 1_772_460_300,
            minutes: 45,
            overridden,
        };
        let verified = to_employee(&notice(false), Lang::En, "alice", PORTAL);
        assert!(
            verified.body.contains("2 March 2026, 14:05 UTC"),
            "{}",
            verified.body
        );
        assert!(verified.body.contains("45 minutes"), "{}", verified.body);
        assert!(
            !verified.body.contains("without confirming"),
            "{}",
            verified.body
        );
        let overridden = to_employee(&notice(true), Lang::En, "alice", PORTAL);
        assert!(
            overridden.body.contains("without confirming"),
            "{}",
            overridden.body
        );
    }

    #[test]
    fn every_notice_has_a_subject_and_body_in_each_language() {
        for notice in every_notice() {
            let en = to_employee(&notice, Lang::En, "alice", PORTAL);
            let es = to_employee(&notice, Lang::Es, "alice", PORTAL);
            for mail in [&en, &es] {
                // A key missing from the catalogue comes back as the key itself.
                assert!(!mail.subject.starts_with("mail-"), "{notice:?}: {mail:?}");
                assert!(!mail.body.contains("mail-"), "{notice:?}: {mail:?}");
                assert!(mail.body.contains("alice"), "{notice:?}: {mail:?}");
                assert!(mail.body.contains(PORTAL), "{notice:?}: {mail:?}");
            }
            assert_ne!(en.subject, es.subject, "{notice:?}");
            assert_ne!(en.body, es.body, "{notice:?}");
        }
    }

    #[test]
    fn the_spanish_mail_is_in_spanish() {
        let es = to_employee(&Notice::PasswordChanged, Lang::Es, "alice", PORTAL);
        assert_eq!(es.subject, "Se cambió su contraseña de la Ciudad");
        assert!(es.body.contains("mesa de ayuda"), "{}", es.body);
        let en = to_employee(&Notice::PasswordChanged, Lang::En, "alice", PORTAL);
        assert_eq!(en.subject, "Your City password was changed");
    }

    #[test]
    fn the_phone_is_named_and_the_helpdesk_removal_says_so() {
        let phone = Notice::PhoneRemoved {
            phone: "Work Pixel".into(),
            by_helpdesk: true,
        };
        let en = to_employee(&phone, Lang::En, "alice", PORTAL);
        assert!(en.body.contains("\"Work Pixel\""), "{}", en.body);
        assert!(en.body.contains("help desk removed"), "{}", en.body);
    }

    #[test]
    fn the_only_link_is_the_portal_home() {
        for notice in every_notice() {
            for lang in Lang::ALL {
                let mail = to_employee(&notice, lang, "alice", PORTAL);
                let links = mail.body.matches("http").count();
                assert_eq!(links, 1, "{notice:?} {lang:?}: {}", mail.body);
            }
        }
    }

    #[test]
    fn the_security_team_hears_of_fraud_and_floods_only() {
        let fraud = to_security(&Notice::FraudReported, "alice").unwrap();
        assert_eq!(fraud.subject, "Fraud report: alice");
        let flood = to_security(&Notice::PushFlood, "alice").unwrap();
        assert_eq!(flood.subject, "Push flood stopped: alice");
        for notice in every_notice() {
            let expected = matches!(notice, Notice::FraudReported | Notice::PushFlood);
            assert_eq!(
                to_security(&notice, "alice").is_some(),
                expected,
                "{notice:?}"
            );
        }
    }
}
