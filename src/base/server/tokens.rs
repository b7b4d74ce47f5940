//! Random tokens, their hashes, the keyed hashing of codes, and the shape of an email address.

use std::sync::Arc;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

/// Trims and checks the shape of an email address: something `@` something, no spaces, at
/// most 254 characters. FlexPortal decides whether it exists.
pub fn normalize_email(input: &str) -> Option<String> {
    let email = input.trim();
    let (local, domain) = email.split_once('@')?;
    let plausible = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 254
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
        && !domain.contains('@');
    plausible.then(|| email.to_owned())
}

/// `bytes` random bytes, URL-safe base64.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// Link tokens carry 256 random bits, so a plain hash is enough to make a stolen table useless.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Bytes as lowercase hexadecimal, two digits each.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Keyed hashing of codes. Six digits are a million guesses: only a key the database does not
/// hold keeps a stolen table from giving them away.
#[derive(Clone)]
pub struct Secrets {
    /// Shared: the state, and with it this, is cloned several times per request.
    key: Arc<secrecy::SecretSlice<u8>>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(<redacted>)")
    }
}

impl Secrets {
    pub fn new(secret: &str) -> Self {
        Self {
            key: Arc::new(secret.as_bytes().to_vec().into()),
        }
    }

    fn mac(&self, attempt_id: &str, code: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.key.expose_secret())
            .expect("HMAC takes any key length");
        mac.update(attempt_id.as_bytes());
        mac.update(b":");
        mac.update(code.as_bytes());
        mac
    }

    pub fn code_hash(&self, attempt_id: &str, code: &str) -> String {
        hex(&self.mac(attempt_id, code).finalize().into_bytes())
    }

    /// Constant-time comparison with the stored hash.
    pub fn code_matches(&self, attempt_id: &str, code: &str, stored_hex: &str) -> bool {
        let Some(stored) = unhex(stored_hex) else {
            return false;
        };
        self.mac(attempt_id, code).verify_slice(&stored).is_ok()
    }
}

/// Compares two secrets through their digests, in time that depends on neither: not where
/// they differ, nor their lengths.
pub fn same_secret(given: &str, expected: &str) -> bool {
    let (a, b) = (
        Sha256::digest(given.as_bytes()),
        Sha256::digest(expected.as_bytes()),
    );
    a.iter()
        .zip(b.iter())
        .fold(0u8, |diff, (x, y)| diff | (x ^ y))
        == 0
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_checked() {
        assert_eq!(
            normalize_email("  Ann@Example.com "),
            Some("Ann@Example.com".into())
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@x.com",
            "ann@x",
            "a b@x.com",
            "ann@x.com@y.com",
            "<a@x.com>",
        ] {
            assert_eq!(normalize_email(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn codes_are_keyed_and_checked_in_constant_time() {
        let secrets = Secrets::new("0123456789abcdef0123456789abcdef");
        let hash = secrets.code_hash("attempt", "123456");
        assert!(secrets.code_matches("attempt", "123456", &hash));
        assert!(!secrets.code_matches("attempt", "123457", &hash));
        assert!(
            !secrets.code_matches("other", "123456", &hash),
            "bound to its attempt"
        );
        let other_key = Secrets::new("another secret of at least 32 chars!");
        assert!(!other_key.code_matches("attempt", "123456", &hash));
    }
}
