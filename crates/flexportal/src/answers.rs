//! What the client keeps: one answer per question ([`Ask`]), and how long each stays fresh
//! ([`Freshness`]).

use std::time::Duration;

use crate::model::{File, OrderStatus};

/// What the caller knows of an order whose files it asks for: whose it is (its answer goes
/// with that customer) and its status (its freshness follows it).
#[derive(Clone, Copy, Debug)]
pub struct FilesHint<'a> {
    pub customer_id: &'a str,
    pub status: &'a OrderStatus,
}

/// A question FlexPortal answers, as the client keeps its answer. Its key (`kind:id`) names
/// the answer in the store, and reads back as the same question, so that any instance can
/// refresh an answer from its key alone.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Ask {
    /// `GET /v1/customers?email=`, all pages.
    CustomersByEmail(String),
    /// `GET /v1/customers/{id}`.
    Customer(String),
    /// `GET /v1/orders?customerId=`, all pages.
    OrdersOf(String),
    /// `GET /v1/orders/{id}`.
    Order(String),
    /// `GET /v1/files?orderId=`, all pages.
    FilesOf(String),
    /// `GET /v1/payments?customerId=`, all pages.
    PaymentsOf(String),
    /// `GET /v1/subscriptions?customerId=`, all pages.
    RentalsOf(String),
}

impl Ask {
    pub fn key(&self) -> String {
        let (kind, id) = match self {
            Ask::CustomersByEmail(email) => ("customers-by-email", email),
            Ask::Customer(id) => ("customer", id),
            Ask::OrdersOf(id) => ("orders-of", id),
            Ask::Order(id) => ("order", id),
            Ask::FilesOf(id) => ("files-of", id),
            Ask::PaymentsOf(id) => ("payments-of", id),
            Ask::RentalsOf(id) => ("rentals-of", id),
        };
        format!("{kind}:{id}")
    }

    /// The question a key names; `None` for text that is no key.
    pub fn parse(key: &str) -> Option<Self> {
        let (kind, id) = key.split_once(':')?;
        let id = id.to_owned();
        Some(match kind {
            "customers-by-email" => Ask::CustomersByEmail(id),
            "customer" => Ask::Customer(id),
            "orders-of" => Ask::OrdersOf(id),
            "order" => Ask::Order(id),
            "files-of" => Ask::FilesOf(id),
            "payments-of" => Ask::PaymentsOf(id),
            "rentals-of" => Ask::RentalsOf(id),
            _ => return None,
        })
    }

    /// The customer this question is about, when the question names one.
    pub fn customer(&self) -> Option<&str> {
        match self {
            Ask::Customer(id) | Ask::OrdersOf(id) | Ask::PaymentsOf(id) | Ask::RentalsOf(id) => {
                Some(id)
            }
            Ask::CustomersByEmail(_) | Ask::Order(_) | Ask::FilesOf(_) => None,
        }
    }
}

/// How long answers stay fresh. A fresh answer is served without asking FlexPortal; an older
/// one is still served at once (stale-while-revalidate) while one refresh runs behind it.
///
/// FlexPortal sends no expiry, so file lists follow the heuristic HTTP caches use for answers
/// without one (RFC 9111 §4.2.2): a list whose newest file is old changes rarely, so it stays
/// fresh for a fraction of the time since that file, between a floor and a ceiling, and for
/// longer once the order is cancelled (no new files are expected). Customer records and order
/// lists decide who owns what, so their freshness stays short.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Freshness {
    /// Customer records, single orders and order lists.
    pub records: Duration,
    /// Sign-in lookups by email.
    pub lookups: Duration,
    /// Payments and rentals.
    pub billing: Duration,
    /// File lists: `files_fraction` of the time since the newest file, within these bounds.
    pub files_floor: Duration,
    pub files_ceiling: Duration,
    pub files_fraction: f64,
    /// File lists of cancelled orders.
    pub files_cancelled: Duration,
    /// Off: every answer is fresh for `records`, whatever it holds.
    pub adaptive: bool,
}

impl Default for Freshness {
    fn default() -> Self {
        Self {
            records: Duration::from_secs(120),
            lookups: Duration::from_secs(60),
            billing: Duration::from_secs(600),
            files_floor: Duration::from_secs(60),
            files_ceiling: Duration::from_secs(3600),
            files_fraction: 0.1,
            files_cancelled: Duration::from_secs(24 * 3600),
            adaptive: true,
        }
    }
}

impl Freshness {
    /// One freshness for every answer: the design without adaptive freshness.
    pub fn flat(ttl: Duration) -> Self {
        Self {
            records: ttl,
            adaptive: false,
            ..Self::default()
        }
    }

    /// Every duration multiplied by `factor`, and the fraction too, so that file lists stay
    /// fresh for the same share of their (real) age: for a compressed day in a benchmark.
    pub fn scaled(self, factor: f64) -> Self {
        let factor = factor.max(0.0);
        let scale = |d: Duration| d.mul_f64(factor);
        Self {
            files_fraction: self.files_fraction * factor,
            records: scale(self.records),
            lookups: scale(self.lookups),
            billing: scale(self.billing),
            files_floor: scale(self.files_floor),
            files_ceiling: scale(self.files_ceiling),
            files_cancelled: scale(self.files_cancelled),
            adaptive: self.adaptive,
        }
    }

    /// How long the answer to `ask` stays fresh. `files` is the answer when it is a file
    /// list, `status` the status of its order when known, `now_ms` the time of fetching.
    pub(crate) fn of(
        &self,
        ask: &Ask,
        files: Option<&[File]>,
        status: Option<&OrderStatus>,
        now_ms: i64,
    ) -> Duration {
        if !self.adaptive {
            return self.records;
        }
        match ask {
            Ask::Customer(_) | Ask::Order(_) | Ask::OrdersOf(_) => self.records,
            Ask::CustomersByEmail(_) => self.lookups,
            Ask::PaymentsOf(_) | Ask::RentalsOf(_) => self.billing,
            Ask::FilesOf(_) => {
                if status == Some(&OrderStatus::Cancelled) {
                    return self.files_cancelled;
                }
                let newest = files
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|f| f.created_at.or(f.updated_at))
                    .map(|t| t.0.unix_timestamp_nanos() / 1_000_000)
                    .max();
                let Some(newest) = newest else {
                    // No file yet: the first may come any time (a contract on confirmation).
                    return self.files_floor;
                };
                let since =
                    Duration::from_millis(u64::try_from(i128::from(now_ms) - newest).unwrap_or(0));
                since
                    .mul_f64(self.files_fraction.clamp(0.0, 1.0))
                    .clamp(self.files_floor, self.files_ceiling.max(self.files_floor))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Timestamp;

    #[test]
    fn keys_read_back_as_their_question() {
        for ask in [
            Ask::CustomersByEmail("a:b@example.com".into()),
            Ask::Customer("c1".into()),
            Ask::OrdersOf("c1".into()),
            Ask::Order("o:1".into()),
            Ask::FilesOf("o1".into()),
            Ask::PaymentsOf("c1".into()),
            Ask::RentalsOf("c1".into()),
        ] {
            assert_eq!(Ask::parse(&ask.key()), Some(ask));
        }
        assert_eq!(Ask::parse("nonsense"), None);
        assert_eq!(Ask::parse("files:o1"), None);
    }

    fn file_made(days_ago: i64, now_ms: i64) -> File {
        let created = now_ms / 1000 - days_ago * 86_400;
        File {
            file_id: "f".into(),
            tenant_id: None,
            order_id: Some("o1".into()),
            file_type: crate::model::FileType::Invoice,
            filename: None,
            original_filename: None,
            content_type: None,
            file_size: None,
            created_at: Timestamp::from_epoch_number(created as f64),
            updated_at: None,
        }
    }

    #[test]
    fn file_lists_stay_fresh_for_a_tenth_of_their_age_within_bounds() {
        let f = Freshness::default();
        let now = 1_800_000_000_000;
        let ask = Ask::FilesOf("o1".into());
        let of = |files: &[File], status| f.of(&ask, Some(files), status, now);
        assert_eq!(of(&[], None), f.files_floor, "no file yet");
        // Made 5 minutes ago: a tenth is 30 s, under the floor.
        let mut recent = file_made(0, now);
        recent.created_at = Timestamp::from_epoch_number((now / 1000 - 300) as f64);
        assert_eq!(of(&[recent], None), Duration::from_secs(60));
        // 5 hours ago: 30 minutes.
        let mut hours = file_made(0, now);
        hours.created_at = Timestamp::from_epoch_number((now / 1000 - 5 * 3600) as f64);
        assert_eq!(of(&[hours.clone()], None), Duration::from_secs(1800));
        // A month ago: the ceiling. The newest file counts.
        assert_eq!(of(&[file_made(30, now)], None), f.files_ceiling);
        assert_eq!(
            of(&[file_made(30, now), hours], None),
            Duration::from_secs(1800)
        );
        assert_eq!(
            of(&[file_made(0, now)], Some(&OrderStatus::Cancelled)),
            f.files_cancelled
        );
        assert_eq!(
            Freshness::flat(Duration::from_secs(60)).of(&ask, Some(&[]), None, now),
            Duration::from_secs(60)
        );
        assert_eq!(f.of(&Ask::OrdersOf("c".into()), None, None, now), f.records);
        assert_eq!(
            Freshness::default().scaled(0.5).records,
            Duration::from_secs(60)
        );
    }
}
