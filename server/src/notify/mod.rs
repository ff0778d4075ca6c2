//! What the employee and the security team are told by email when something changes on an
//! account, sent from a queue off the request path (issue 13: the `notify` branch fills this
//! in; until then [`AppState::notify`] records nothing).

mod message;

pub use message::{MailText, to_employee, to_security};

use crate::i18n::Lang;
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
}

impl AppState {
    /// Tells `user` (and the security team where the notice calls for it) about `notice`,
    /// in `lang` when the request that caused it came from a browser, else in the user's
    /// remembered language. Never blocks and never fails the request: the message is queued.
    pub fn notify(&self, user: &User, notice: Notice, lang: Option<Lang>) {
        let _ = (user, notice, lang);
    }
}
