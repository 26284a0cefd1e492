//! Sending one delivery: a webhook POST signed the Standard Webhooks way, or an email through
//! the `[smtp]` server.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncTransport, Message, Tokio1Executor};
use shared::notify::SECRET_PREFIX;

use super::settings::{SmtpConfig, SmtpTls};

/// How long one try may take.
const TIMEOUT: Duration = Duration::from_secs(15);

/// How one try ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Outcome {
    Delivered(String),
    /// The receiver answered 410 Gone: disable the target.
    Gone(String),
    /// Try again later.
    Retry(String),
}

/// The webhook client and the mail transport.
pub(super) struct Sender {
    http: reqwest::Client,
    mail: Option<Mail>,
}

struct Mail {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Sender {
    pub(super) fn new(smtp: Option<&SmtpConfig>, node_name: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            // A receiver answers itself; a redirect is not followed (it would move the secret's
            // signature to a place the admin did not name).
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("SMS-notifications/", env!("CARGO_PKG_VERSION")))
            // Never a link-local (metadata), multicast or unspecified address, at any
            // connection (docs/notifications.md).
            .dns_resolver(std::sync::Arc::new(
                crate::service::outbound::CheckedResolver,
            ))
            .build()?;
        let mail = smtp
            .map(|smtp| mail_transport(smtp, node_name))
            .transpose()?;
        Ok(Self { http, mail })
    }

    pub(super) fn has_email(&self) -> bool {
        self.mail.is_some()
    }

    /// POSTs `body` to `url` with the `webhook-id`, `webhook-timestamp` and `webhook-signature`
    /// headers.
    pub(super) async fn webhook(
        &self,
        url: &str,
        secret: &str,
        message_id: &str,
        body: &str,
    ) -> Outcome {
        let key = match secret_key(secret) {
            Ok(key) => key,
            Err(message) => return Outcome::Retry(message),
        };
        let timestamp = chrono::Utc::now().timestamp();
        let signature = sign(&key, message_id, timestamp, body);
        let sent = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body.to_owned())
            .send()
            .await;
        match sent {
            Ok(answer) if answer.status().is_success() => {
                Outcome::Delivered(format!("HTTP {}", answer.status().as_u16()))
            }
            // 410 Gone: the receiver says this target no longer exists.
            Ok(answer) if answer.status().as_u16() == 410 => Outcome::Gone("HTTP 410 Gone".into()),
            Ok(answer) => Outcome::Retry(format!("HTTP {}", answer.status().as_u16())),
            Err(err) => Outcome::Retry(describe_http_error(&err)),
        }
    }

    /// Sends `text` to `address` with `subject`.
    pub(super) async fn email(&self, address: &str, subject: &str, text: &str) -> Outcome {
        let Some(mail) = &self.mail else {
            return Outcome::Retry(
                "no mail server is set ([smtp] in the configuration)".to_owned(),
            );
        };
        let to: Mailbox = match address.parse() {
            Ok(to) => to,
            Err(err) => return Outcome::Retry(format!("the address is not valid: {err}")),
        };
        let message = Message::builder()
            .from(mail.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(text.to_owned());
        let message = match message {
            Ok(message) => message,
            Err(err) => return Outcome::Retry(format!("cannot build the email: {err}")),
        };
        match mail.transport.send(message).await {
            Ok(answer) => Outcome::Delivered(format!("SMTP {}", answer.code().to_string().trim())),
            Err(err) => Outcome::Retry(format!("the mail server refused or failed: {err}")),
        }
    }
}

fn mail_transport(smtp: &SmtpConfig, node_name: &str) -> anyhow::Result<Mail> {
    use anyhow::Context;
    let from: Mailbox = smtp
        .from
        .parse()
        .with_context(|| format!("`smtp.from` `{}` is not an email address", smtp.from))?;
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
        .port(smtp.port)
        .timeout(Some(TIMEOUT))
        .hello_name(ClientId::Domain(node_name.to_owned()));
    if smtp.tls != SmtpTls::None {
        let mut parameters = TlsParameters::builder(smtp.host.clone());
        if let Some(path) = &smtp.ca_file {
            let pem = std::fs::read(path)
                .with_context(|| format!("cannot read `smtp.ca_file` {}", path.display()))?;
            let certificate = Certificate::from_pem(&pem).with_context(|| {
                format!("`smtp.ca_file` {} is not a PEM certificate", path.display())
            })?;
            parameters = parameters.add_root_certificate(certificate);
        }
        let parameters = parameters
            .build_rustls()
            .context("cannot set up TLS for the mail server")?;
        builder = builder.tls(match smtp.tls {
            SmtpTls::Tls => Tls::Wrapper(parameters),
            _ => Tls::Required(parameters),
        });
    }
    if let Some((user, password)) = &smtp.login {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    Ok(Mail {
        transport: builder.build(),
        from,
    })
}

/// The signing key of a `whsec_...` secret: the base64 after the prefix, decoded.
pub(super) fn secret_key(secret: &str) -> Result<Vec<u8>, String> {
    let encoded = secret.trim().strip_prefix(SECRET_PREFIX).ok_or_else(|| {
        format!("A webhook secret starts with `{SECRET_PREFIX}` (then base64), as Standard Webhooks secrets do.")
    })?;
    let key = STANDARD
        .decode(encoded)
        .map_err(|_| format!("The part after `{SECRET_PREFIX}` is not base64."))?;
    if !(24..=64).contains(&key.len()) {
        return Err(format!(
            "The secret's key is {} bytes; use 24 to 64 (e.g. leave the secret empty and the \
             server makes one).",
            key.len()
        ));
    }
    Ok(key)
}

/// `v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`.
pub fn sign(key: &[u8], message_id: &str, timestamp: i64, body: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    let signed = format!("{message_id}.{timestamp}.{body}");
    let tag = ring::hmac::sign(&key, signed.as_bytes());
    format!("v1,{}", STANDARD.encode(tag.as_ref()))
}

/// Whether `address` is one mailbox.
pub(super) fn check_address(address: &str) -> Result<(), String> {
    address
        .parse::<lettre::Address>()
        .map(|_| ())
        .map_err(|_| format!("`{address}` is not an email address such as ops@example.com."))
}

fn describe_http_error(err: &reqwest::Error) -> String {
    use std::error::Error;
    let mut text = if err.is_timeout() {
        "no answer in time".to_owned()
    } else if err.is_connect() {
        "cannot connect".to_owned()
    } else {
        err.to_string()
    };
    let mut source = err.source();
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_standard_webhooks_one() {
        // The example of the Standard Webhooks specification.
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secrets_are_checked() {
        assert!(secret_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
        assert!(secret_key("whsec_not base64!").is_err());
        assert!(secret_key("whsec_c2hvcnQ=").is_err());
        assert!(check_address("ops@example.com").is_ok());
        assert!(check_address("not an address").is_err());
    }
}
