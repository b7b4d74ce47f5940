//! A minimal SMTP sink: Folio sends its sign-in mails here, and the driver reads the codes
//! out of them, as a customer would from their inbox.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// The sign-in codes received, per recipient, oldest first.
#[derive(Clone, Default)]
pub struct Inbox {
    codes: Arc<Mutex<HashMap<String, Vec<String>>>>,
    /// Mails in which no code was found, per recipient: kept to say what arrived instead.
    unreadable: Arc<Mutex<HashMap<String, Vec<String>>>>,
    arrived: Arc<Notify>,
}

impl Inbox {
    /// Listens on a free loopback port; returns the `smtp://` URL for Folio's `SMTP_URL`.
    pub async fn start() -> std::io::Result<(Self, String)> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("smtp://{}", listener.local_addr()?);
        let inbox = Self::default();
        let accepting = inbox.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let inbox = accepting.clone();
                tokio::spawn(async move {
                    let _ = inbox.session(socket).await;
                });
            }
        });
        Ok((inbox, url))
    }

    /// How many codes `to` has received so far.
    pub fn count(&self, to: &str) -> usize {
        self.lock()
            .get(&to.to_ascii_lowercase())
            .map_or(0, Vec::len)
    }

    /// The code of the mail after the first `already` ones to `to`, waiting up to `within`.
    pub async fn code_after(&self, to: &str, already: usize, within: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let arrived = self.arrived.notified();
            if let Some(code) = self
                .lock()
                .get(&to.to_ascii_lowercase())
                .and_then(|codes| codes.get(already))
            {
                return Some(code.clone());
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return None;
            }
        }
    }

    /// The mails to `to` in which no sign-in code was found.
    pub fn unreadable(&self, to: &str) -> Vec<String> {
        self.unreadable
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&to.to_ascii_lowercase())
            .cloned()
            .unwrap_or_default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<String>>> {
        self.codes.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn session(&self, socket: tokio::net::TcpStream) -> std::io::Result<()> {
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read);
        write.write_all(b"220 folio-bench ESMTP\r\n").await?;
        let mut recipients = Vec::new();
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let command = line.trim_end().to_ascii_uppercase();
            let reply: &[u8] = if command.starts_with("EHLO") {
                b"250-folio-bench\r\n250 8BITMIME\r\n"
            } else if command.starts_with("RCPT TO:") {
                let address = line.trim_end()[8..]
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>');
                recipients.push(address.to_ascii_lowercase());
                b"250 OK\r\n"
            } else if command == "DATA" {
                write.write_all(b"354 go on\r\n").await?;
                let mut message = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line.trim_end() == "." {
                        break;
                    }
                    message.push_str(&line);
                }
                if let Some(code) = sign_in_code(&message) {
                    let mut codes = self.lock();
                    for to in recipients.drain(..) {
                        codes.entry(to).or_default().push(code.clone());
                    }
                } else {
                    let mut unreadable = self.unreadable.lock().unwrap_or_else(|e| e.into_inner());
                    for to in recipients.drain(..) {
                        unreadable.entry(to).or_default().push(message.clone());
                    }
                }
                recipients.clear();
                self.arrived.notify_waiters();
                b"250 OK\r\n"
            } else if command == "QUIT" {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            } else if command == "RSET" {
                recipients.clear();
                b"250 OK\r\n"
            } else {
                // HELO, MAIL FROM, NOOP: all fine.
                b"250 OK\r\n"
            };
            write.write_all(reply).await?;
        }
    }
}

/// The 6-digit code in a sign-in mail's plain-text part, whatever its transfer encoding.
pub fn sign_in_code(message: &str) -> Option<String> {
    let text = plain_text(message);
    // A word of its own: six digits inside the link's random token must not count.
    text.split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_ascii_alphanumeric()))
        .find(|w| w.len() == 6 && w.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_owned)
}

/// The decoded text/plain part of a MIME message (or the whole body of a simple one).
fn plain_text(message: &str) -> String {
    let message = message.replace("\r\n", "\n");
    // Parts are split at their boundary, never at any line that starts with `--`: a link
    // token may hold `--`, and a soft line break can put it at the start of a line.
    let separator = boundary(&message).map_or_else(|| "\n--".to_owned(), |b| format!("\n--{b}"));
    for part in message.split(separator.as_str()) {
        let Some((headers, body)) = part.split_once("\n\n") else {
            continue;
        };
        let headers = headers.to_ascii_lowercase();
        if !headers.contains("content-type: text/plain") {
            continue;
        }
        if headers.contains("content-transfer-encoding: base64") {
            let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            let compact = compact.trim_end_matches('-');
            return base64::engine::general_purpose::STANDARD
                .decode(compact)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .unwrap_or_default();
        }
        // 7bit, 8bit or quoted-printable: soft line breaks are the only thing that can split
        // a code.
        return body.replace("=\n", "");
    }
    String::new()
}

/// The multipart boundary named in the message's headers.
fn boundary(message: &str) -> Option<&str> {
    let at = message.find("boundary=")? + "boundary=".len();
    let rest = &message[at..];
    let value = match rest.strip_prefix('"') {
        Some(quoted) => &quoted[..quoted.find('"')?],
        None => rest.split([';', '\n', ' ']).next()?,
    };
    (!value.is_empty()).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_code_in_each_encoding() {
        let qp = "Content-Type: multipart/alternative; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nYour code: 12=\r\n3456 =E2=80=94 valid 15 minutes\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>999999</p>\r\n--b--\r\n";
        assert_eq!(sign_in_code(qp).as_deref(), Some("123456"));
        let encoded = base64::engine::general_purpose::STANDARD.encode("Ihr Code: 654321 — gültig");
        let b64 = format!("--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{encoded}\r\n--b--\r\n");
        assert_eq!(sign_in_code(&b64).as_deref(), Some("654321"));
        assert_eq!(sign_in_code("Subject: hi\r\n\r\nno code"), None);
        let token = "--b\r\nContent-Type: text/plain\r\n\r\nhttps://x/login/verify?t=ab123456cd\r\nCode: 654321.\r\n--b--\r\n";
        assert_eq!(sign_in_code(token).as_deref(), Some("654321"));
        // A soft line break that puts the token's `--` at the start of a line.
        let dashes = "Content-Type: multipart/alternative; boundary=\"Xb1\"\r\n\r\n--Xb1\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nhttps://x/login/verify?t=3Dab2dK8j=\r\n--9-bn5\r\n\r\nCode: 839239\r\n--Xb1--\r\n";
        assert_eq!(sign_in_code(dashes).as_deref(), Some("839239"));
    }
}
