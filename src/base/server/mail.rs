//! Sending mail: over SMTP with lettre, and in demo mode into an outbox that `/dev/outbox`
//! shows. A failed send is logged and dropped: the person asking sees the same neutral answer
//! either way, and nothing retries forever.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::base::outbox::OutboxMessage;
use crate::base::server::config::MailConfig;

/// Messages the demo outbox keeps; older ones drop off.
const OUTBOX_CAPACITY: usize = 200;

/// One mail to send.
#[derive(Clone, Debug)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
    outbox: Option<Arc<Mutex<VecDeque<OutboxMessage>>>>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .field("smtp", &self.smtp.is_some())
            .field("outbox", &self.outbox.is_some())
            .finish()
    }
}

impl Mailer {
    /// `demo` keeps an outbox; an SMTP URL, when configured, sends for real as well.
    pub fn new(config: &MailConfig, demo: bool) -> Result<Self, String> {
        let from = config
            .from
            .parse::<Mailbox>()
            .map_err(|e| format!("MAIL_FROM: {e}"))?;
        let smtp = match &config.smtp_url {
            Some(url) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                    .map_err(|_| "SMTP_URL: not a usable SMTP address".to_owned())?
                    .timeout(Some(Duration::from_secs(10)))
                    .build(),
            ),
            None => None,
        };
        Ok(Self {
            from,
            smtp,
            outbox: demo.then(|| Arc::new(Mutex::new(VecDeque::new()))),
        })
    }

    /// Sends `mail`, logging (never returning) a failure.
    pub async fn send(&self, mail: Mail) {
        if let Some(outbox) = &self.outbox {
            let mut outbox = outbox.lock().unwrap_or_else(|e| e.into_inner());
            if outbox.len() == OUTBOX_CAPACITY {
                outbox.pop_back();
            }
            outbox.push_front(OutboxMessage {
                to: mail.to.clone(),
                subject: mail.subject.clone(),
                text: mail.text.clone(),
                sent_at: time::OffsetDateTime::now_utc().unix_timestamp(),
            });
        }
        let Some(smtp) = &self.smtp else {
            return;
        };
        let message = match self.build(&mail) {
            Ok(message) => message,
            Err(e) => {
                tracing::error!(error = %e, "cannot build a mail");
                return;
            }
        };
        match smtp.send(message).await {
            Ok(_) => tracing::info!("mail sent"),
            Err(e) => tracing::error!(error = %e, "mail could not be sent"),
        }
    }

    fn build(&self, mail: &Mail) -> Result<Message, String> {
        let to: Mailbox = mail.to.parse().map_err(|e| format!("recipient: {e}"))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&mail.subject)
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(mail.text.clone()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(mail.html.clone()),
                    ),
            )
            .map_err(|e| e.to_string())
    }

    /// The demo outbox, newest first; `None` outside demo mode.
    pub fn outbox(&self) -> Option<Vec<OutboxMessage>> {
        self.outbox.as_ref().map(|outbox| {
            outbox
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .cloned()
                .collect()
        })
    }
}

/// Escapes text for HTML element content and attribute values.
/// A mail with one call to action, in the tenant's name and colour: `before` paragraphs, the
/// link as a button (and as plain text in the text part), `after` paragraphs, the brand's name.
pub struct Composed<'a> {
    pub brand: &'a crate::base::server::config::Brand,
    pub lang: &'a str,
    pub to: &'a str,
    pub subject: String,
    pub before: Vec<String>,
    pub link: &'a str,
    pub button: String,
    pub after: Vec<String>,
}

impl Composed<'_> {
    pub fn into_mail(self) -> Mail {
        let brand = &self.brand.name;
        let text = format!(
            "{}\n\n{}\n\n{}\n\n{brand}\n",
            self.before.join("\n\n"),
            self.link,
            self.after.join("\n\n"),
        );
        let paragraphs = |texts: &[String]| -> String {
            texts
                .iter()
                .map(|t| format!("<p>{}</p>", escape_html(t).replace('\n', "<br>")))
                .collect()
        };
        // The colour was checked at start-up to be `#rgb` or `#rrggbb`.
        let html = format!(
            "<!DOCTYPE html><html lang=\"{lang}\"><body style=\"font-family:sans-serif;line-height:1.5\">\
             {before}<p><a href=\"{link}\" style=\"display:inline-block;padding:10px 18px;\
             background:{color};color:#fff;text-decoration:none;border-radius:6px\">{button}</a></p>\
             {after}<p>{brand}</p></body></html>",
            lang = escape_html(self.lang),
            before = paragraphs(&self.before),
            link = escape_html(self.link),
            color = self.brand.color,
            button = escape_html(&self.button),
            after = paragraphs(&self.after),
            brand = escape_html(brand),
        );
        Mail {
            to: self.to.to_owned(),
            subject: self.subject,
            text,
            html,
        }
    }
}

pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
