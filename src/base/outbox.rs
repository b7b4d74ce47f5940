//! A mail as the demo outbox keeps it: in demo mode no mail leaves the machine, and
//! `/dev/outbox` shows what would have been sent.

use serde::{Deserialize, Serialize};

/// A mail in the demo outbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    pub to: String,
    pub subject: String,
    pub text: String,
    /// Unix seconds.
    pub sent_at: i64,
}
