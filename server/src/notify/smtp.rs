//! The conversation with the City's mail relay: SMTP over TLS (STARTTLS, or TLS from the
//! first byte) by lettre on tokio and rustls, one connection per message.

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use zeroize::Zeroizing;

use super::MailText;
use super::config::{MailConfig, MailConfigError, MailTls};

/// The relay, ready to take messages from the configured sender.
pub struct Relay {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

/// Why a message was not taken.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later: the relay is unreachable, timed out, or answered 4xx.
    #[error("relay unavailable: {0}")]
    Transient(String),
    /// Never worth trying again: a 5xx answer, or a message that cannot be written.
    #[error("refused: {0}")]
    Permanent(String),
}

impl Relay {
    /// The relay `config` names, greeting it as `hello` (the server's public host name).
    /// Reads the relay password's file and the CA file now: a bad one stops the start.
    pub fn new(config: &MailConfig, hello: &str) -> Result<Self, MailConfigError> {
        let invalid = |setting, why: String| MailConfigError { setting, why };
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| invalid("from", format!("not an address: {e}")))?;
        let mut tls = TlsParameters::builder(config.host.clone());
        if let Some(path) = &config.ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| invalid("ca_file", format!("{}: {e}", path.display())))?;
            let ca = Certificate::from_pem(&pem)
                .map_err(|e| invalid("ca_file", format!("{}: {e}", path.display())))?;
            // The City's own CA only: a relay certificate from any public CA is refused.
            tls = tls
                .certificate_store(CertificateStore::None)
                .add_root_certificate(ca);
        }
        let tls = tls
            .build_rustls()
            .map_err(|e| invalid("host", format!("TLS settings: {e}")))?;
        let tls = match config.tls {
            MailTls::StartTls => Tls::Required(tls),
            MailTls::Wrapper => Tls::Wrapper(tls),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(config.port)
            .tls(tls)
            .timeout(Some(config.timeout))
            .hello_name(ClientId::Domain(hello.to_owned()));
        match (&config.username, &config.password_file) {
            (Some(user), Some(path)) => {
                let password =
                    Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
                        invalid("password_file", format!("{}: {e}", path.display()))
                    })?);
                let password = password.trim_end_matches(['\r', '\n']);
                builder = builder.credentials(Credentials::new(user.clone(), password.to_owned()));
            }
            (None, None) => {}
            (Some(_), None) => return Err(invalid("password_file", "needed with username".into())),
            (None, Some(_)) => return Err(invalid("username", "needed with password_file".into())),
        }
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }

    /// Sends `text` to `to` as plain UTF-8 text.
    pub async fn send(&self, to: &Mailbox, text: &MailText) -> Result<(), SendError> {
        let message = Message::builder()
            .from(self.from.clone())
            .to(to.clone())
            .subject(text.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(text.body.clone())
            .map_err(|e| SendError::Permanent(e.to_string()))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            Err(e) => Err(SendError::Transient(e.to_string())),
        }
    }
}
