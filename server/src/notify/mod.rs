//! What the employee and the security team are told by email when something changes on an
//! account: [`AppState::notify`] queues a [`Notice`] and returns; the mail thread
//! ([`queue`]) finds the address and the language and sends it through the City's relay
//! ([`smtp`]) with retries. Nothing is sent when `[mail]` is not configured.

mod config;
mod message;
mod queue;
mod smtp;

pub use config::{MAX_RETRY_WAIT, MailConfig, MailConfigError, MailTls};
pub use message::{MailText, to_employee, to_security};
pub use queue::{Job, Mailer, check};

use crate::state::AppState;
use crate::store::User;

/// Something an employee is told about (the security team too, for fraud and floods).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The password was reset (self-service or with a help-desk access code).
    PasswordReset,
    /// The password was changed while signed in.
    PasswordChanged,
    /// A phone was added to the account.
    PhoneAdded {
        /// The phone's name.
        phone: String,
    },
    /// A phone was removed (by the employee, or by the help desk for a lost phone).
    PhoneRemoved {
        /// The phone's name.
        phone: String,
        /// Whether a help-desk operator removed it.
        by_helpdesk: bool,
    },
    /// A push was reported as fraud from the employee's phone.
    FraudReported,
    /// The push cap stopped a flood of prompts.
    PushFlood,
    /// The help desk issued an access code, which signs in without the phone (never the
    /// code itself: the mail says what was done and when, and whom to call).
    AccessCodeIssued {
        /// When (Unix seconds).
        at: u64,
        /// How long the code is valid, minutes.
        minutes: u64,
        /// Whether the operator issued it without the caller verified on the employee's
        /// phone (an override, with a reason recorded).
        overridden: bool,
    },
}

impl Notice {
    /// Whether the help desk caused it: the browser was then the operator's, whose language
    /// says nothing about the employee's.
    fn by_helpdesk(&self) -> bool {
        matches!(
            self,
            Notice::AccessCodeIssued { .. }
                | Notice::PhoneRemoved {
                    by_helpdesk: true,
                    ..
                }
        )
    }
}

impl AppState {
    /// Waits until the notices queued so far are sent or given up, at most `patience`;
    /// false if some are still waiting then (they are lost when the process stops).
    pub fn finish_notices(&self, patience: std::time::Duration) -> bool {
        self.0
            .mailer
            .as_ref()
            .is_none_or(|mailer| mailer.drain(patience))
    }

    /// Tells `user` (and the security team where the notice calls for it) about `notice`:
    /// in the language the browser that caused it asked for (which is then remembered), else
    /// in the one the employee last used on the portal; a help-desk operator's browser is
    /// not the employee's, so its language is not used. Never waits and never fails the
    /// request: the message is queued.
    pub fn notify(&self, user: &User, notice: Notice) {
        let Some(mailer) = &self.0.mailer else {
            return;
        };
        let lang = crate::i18n::chosen().filter(|_| !notice.by_helpdesk());
        mailer.enqueue(Job {
            user_id: user.id,
            username: user.username.clone(),
            directory_id: user.directory_id.clone(),
            notice,
            lang,
        });
    }
}
