//! What FlexPortal sends, as far as a customer portal may use it.
//!
//! FlexPortal's documentation contradicts itself (its schema and its prose name some fields
//! differently), so decoding is tolerant: the schema's names with the prose spellings as
//! aliases, unknown fields ignored, enums open (unknown values kept as `Other`), money as
//! decimals, timestamps in any of the forms the docs show. Merchant-internal fields (costs,
//! margins, profitability, storage paths) are deliberately not modelled.
//!
//! Every model also serializes, in the schema's spelling, to JSON that decodes back to the same
//! value: that is the form in which an [`crate::AnswerStore`] keeps answers.

use std::fmt;

use rust_decimal::Decimal;
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use time::{format_description::well_known::Rfc3339, Date, OffsetDateTime, PrimitiveDateTime};

/// Declares a string enum whose unknown values decode as `Other(text)` instead of failing.
macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($variant,)+
            /// A value this client does not know.
            Other(String),
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)+
                    Self::Other(text) => text,
                }
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                match text {
                    $($text => Self::$variant,)+
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                Ok(Self::from(text.as_str()))
            }
        }
    };
}

open_enum!(
    /// `customerType`.
    CustomerType { Individual = "individual", Business = "business" }
);
open_enum!(
    /// A customer's `status`.
    CustomerStatus { Active = "active", Inactive = "inactive" }
);
open_enum!(
    /// An order's `status`.
    OrderStatus {
        Pending = "pending",
        Confirmed = "confirmed",
        Partial = "partial",
        Fulfilled = "fulfilled",
        Cancelled = "cancelled",
    }
);
open_enum!(
    /// A rental's (subscription's) `status`.
    RentalStatus {
        Active = "active",
        Cancelled = "cancelled",
        EndedCompleted = "ended_completed",
        EndedBuyout = "ended_buyout",
        EndedUpgrade = "ended_upgrade",
        EndedEarlyReturn = "ended_early_return",
    }
);
open_enum!(
    /// A payment's `status`.
    PaymentStatus {
        Pending = "pending",
        Processing = "processing",
        Paid = "paid",
        Failed = "failed",
        Cancelled = "cancelled",
    }
);
open_enum!(
    /// A file's `type`. The prose names four; the schema allows any string.
    FileType {
        Contract = "contract",
        Invoice = "invoice",
        Document = "document",
        Attachment = "attachment",
    }
);

/// A point in time, from any of the forms FlexPortal's docs show: ISO 8601 with an offset,
/// ISO without one (read as UTC), a bare date (midnight UTC), epoch seconds or milliseconds
/// (told apart by magnitude), or a `{ "_seconds": …, "_nanoseconds": … }` object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub OffsetDateTime);

impl Timestamp {
    pub fn parse_text(text: &str) -> Option<Self> {
        let text = text.trim();
        if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
            return Some(Self(t));
        }
        let naive = time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
        );
        if let Ok(t) = PrimitiveDateTime::parse(text, naive) {
            return Some(Self(t.assume_utc()));
        }
        let date = time::macros::format_description!("[year]-[month]-[day]");
        if let Ok(d) = Date::parse(text, date) {
            return Some(Self(d.midnight().assume_utc()));
        }
        None
    }

    /// Epoch seconds or milliseconds: anything beyond the year 5138 in seconds is taken as
    /// milliseconds.
    pub fn from_epoch_number(n: f64) -> Option<Self> {
        if !n.is_finite() || n < 0.0 {
            return None;
        }
        let seconds = if n >= 1e11 { n / 1000.0 } else { n };
        OffsetDateTime::from_unix_timestamp(seconds.trunc() as i64)
            .ok()
            .map(Self)
    }

    pub fn year(&self) -> i32 {
        self.0.year()
    }

    pub fn unix_seconds(&self) -> i64 {
        self.0.unix_timestamp()
    }
}

/// Kept as RFC 3339 text, which reads back as the same instant.
impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = self.0.format(&Rfc3339).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        Timestamp::from_json(&value)
            .ok_or_else(|| de::Error::custom(format!("not a timestamp: {value}")))
    }
}

impl Timestamp {
    fn from_json(value: &serde_json::Value) -> Option<Self> {
        use serde_json::Value;
        match value {
            Value::String(s) => Self::parse_text(s),
            Value::Number(n) => Self::from_epoch_number(n.as_f64()?),
            Value::Object(map) => {
                let seconds = map.get("_seconds").or_else(|| map.get("seconds"))?;
                Self::from_epoch_number(seconds.as_f64()?)
            }
            _ => None,
        }
    }
}

/// For optional, display-only timestamps: a value in no known form reads as absent rather
/// than failing the whole answer.
fn lenient_timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(d)?;
    Ok(value.as_ref().and_then(Timestamp::from_json))
}

/// Empty strings, which some answers use for "none", read as absent.
fn non_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let value = Option::<String>::deserialize(d)?;
    Ok(value.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()))
}

/// A count or size that may arrive as an integer, a float or a numeric string.
fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    use serde_json::Value;
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub customer_id: String,
    #[serde(default, deserialize_with = "non_empty")]
    pub tenant_id: Option<String>,
    pub email: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default, deserialize_with = "non_empty")]
    pub company: Option<String>,
    #[serde(default = "default_customer_type")]
    pub customer_type: CustomerType,
    #[serde(default = "default_customer_status")]
    pub status: CustomerStatus,
    #[serde(default)]
    pub order_ids: Vec<String>,
    #[serde(default, deserialize_with = "lenient_timestamp")]
    pub created_at: Option<Timestamp>,
}

fn default_customer_type() -> CustomerType {
    CustomerType::Individual
}

fn default_customer_status() -> CustomerStatus {
    CustomerStatus::Active
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub order_id: String,
    #[serde(default, deserialize_with = "non_empty")]
    pub tenant_id: Option<String>,
    pub status: OrderStatus,
    pub customer: OrderCustomer,
    #[serde(default)]
    pub items: Vec<OrderItem>,
    pub totals: Totals,
    #[serde(default, deserialize_with = "lenient_timestamp")]
    pub created_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "lenient_timestamp")]
    pub updated_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "lenient_timestamp")]
    pub shipped_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "non_empty")]
    pub tracking_number: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderCustomer {
    pub customer_id: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default, deserialize_with = "non_empty")]
    pub company: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderItem {
    #[serde(default)]
    pub sku: String,
    #[serde(alias = "name")]
    pub product_name: String,
    #[serde(default = "one")]
    pub quantity: u32,
    /// Monthly price per unit.
    pub unit_price: Decimal,
    /// Months.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub contract_length: Option<u64>,
}

fn one() -> u32 {
    1
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    #[serde(default)]
    pub subtotal: Decimal,
    #[serde(default)]
    pub tax_amount: Decimal,
    pub total: Decimal,
    pub currency: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rental {
    #[serde(alias = "subscriptionId")]
    pub rental_id: String,
    pub customer_id: String,
    #[serde(default, deserialize_with = "non_empty")]
    pub order_id: Option<String>,
    #[serde(default, alias = "serialNumber", deserialize_with = "non_empty")]
    pub asset_serial_number: Option<String>,
    #[serde(default)]
    pub product_name: String,
    pub monthly_amount: Decimal,
    #[serde(default)]
    pub currency: String,
    pub status: RentalStatus,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub contract_length: Option<u64>,
    #[serde(default, deserialize_with = "lenient_timestamp")]
    pub start_date: Option<Timestamp>,
    #[serde(default, deserialize_with = "lenient_timestamp")]
    pub end_date: Option<Timestamp>,
    #[serde(default, deserialize_with = "lenient_timestamp")]
    pub next_billing_date: Option<Timestamp>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    pub payment_id: String,
    pub customer_id: String,
    #[serde(default)]
    pub total: Option<Decimal>,
    #[serde(default)]
    pub amount: Option<Decimal>,
    pub currency: String,
    #[serde(default, deserialize_with = "non_empty")]
    pub billing_period: Option<String>,
    pub status: PaymentStatus,
    #[serde(default, deserialize_with = "lenient_timestamp")]
    pub due_date: Option<Timestamp>,
    #[serde(default, deserialize_with = "lenient_timestamp")]
    pub paid_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "non_empty")]
    pub rental_id: Option<String>,
}

impl Payment {
    /// What the customer pays: the schema's `total`, else the prose's `amount`.
    pub fn amount_due(&self) -> Option<Decimal> {
        self.total.or(self.amount)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct File {
    pub file_id: String,
    #[serde(default, deserialize_with = "non_empty")]
    pub tenant_id: Option<String>,
    /// Absent for tenant-level files, which a portal never shows.
    #[serde(default, deserialize_with = "non_empty")]
    pub order_id: Option<String>,
    #[serde(rename = "type", alias = "fileType", default = "other_type")]
    pub file_type: FileType,
    #[serde(default, alias = "fileName", deserialize_with = "non_empty")]
    pub filename: Option<String>,
    #[serde(default, deserialize_with = "non_empty")]
    pub original_filename: Option<String>,
    #[serde(default, alias = "mimeType", deserialize_with = "non_empty")]
    pub content_type: Option<String>,
    #[serde(default, alias = "size", deserialize_with = "lenient_u64")]
    pub file_size: Option<u64>,
    #[serde(default, deserialize_with = "lenient_timestamp")]
    pub created_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "lenient_timestamp")]
    pub updated_at: Option<Timestamp>,
}

fn other_type() -> FileType {
    FileType::Other(String::new())
}

impl File {
    /// The name to show and to download under.
    pub fn display_name(&self) -> &str {
        self.original_filename
            .as_deref()
            .or(self.filename.as_deref())
            .unwrap_or(&self.file_id)
    }
}

/// A short-lived, signed address of a file's bytes. Never log it or show it anywhere but in
/// the one redirect that hands it to the browser that asked.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedUrl {
    pub url: String,
    #[serde(default, alias = "fileName", deserialize_with = "non_empty")]
    pub filename: Option<String>,
    #[serde(default, alias = "mimeType", deserialize_with = "non_empty")]
    pub content_type: Option<String>,
    #[serde(default, alias = "size", deserialize_with = "lenient_u64")]
    pub file_size: Option<u64>,
    #[serde(default, deserialize_with = "lenient_timestamp")]
    pub expires_at: Option<Timestamp>,
}

impl fmt::Debug for SignedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedUrl")
            .field("url", &"<redacted>")
            .field("filename", &self.filename)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A cursor-paginated list answer (customers, orders, subscriptions, payments).
pub(crate) trait CursorPage: de::DeserializeOwned {
    type Item;
    fn into_parts(self) -> (Vec<Self::Item>, bool, Option<String>);
}

macro_rules! cursor_page {
    ($page:ident, $item:ty, $key:literal $(, alias = $alias:literal)?) => {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub(crate) struct $page {
            #[serde(rename = $key $(, alias = $alias)?)]
            items: Vec<$item>,
            #[serde(default)]
            has_more: bool,
            #[serde(default, deserialize_with = "non_empty")]
            next_cursor: Option<String>,
        }

        impl CursorPage for $page {
            type Item = $item;
            fn into_parts(self) -> (Vec<$item>, bool, Option<String>) {
                (self.items, self.has_more, self.next_cursor)
            }
        }
    };
}

cursor_page!(CustomersPage, Customer, "customers");
cursor_page!(OrdersPage, Order, "orders");
cursor_page!(RentalsPage, Rental, "rentals", alias = "subscriptions");
cursor_page!(PaymentsPage, Payment, "payments");

#[derive(Deserialize)]
pub(crate) struct FilesPage {
    pub files: Vec<File>,
}

/// FlexPortal's error body: `{ "error": { "code", "message" } }`.
#[derive(Deserialize)]
pub(crate) struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Deserialize)]
pub(crate) struct ErrorDetail {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn files_decode_from_schema_and_prose_spellings() {
        let schema: File = serde_json::from_value(json!({
            "fileId": "f1", "tenantId": "t", "orderId": "o1", "type": "invoice",
            "category": "generated", "filename": "a.pdf", "contentType": "application/pdf",
            "fileSize": 1234, "storagePath": "secret/bucket/a.pdf", "uploadedBy": "x",
            "createdAt": "2025-01-15T10:30:00Z", "updatedAt": "2025-01-15", "metadata": {"k": 1}
        }))
        .unwrap();
        let prose: File = serde_json::from_value(json!({
            "fileId": "f1", "orderId": "o1", "fileType": "invoice", "fileName": "a.pdf",
            "mimeType": "application/pdf", "size": "1234", "createdAt": 1736937000
        }))
        .unwrap();
        assert_eq!(schema.file_type, FileType::Invoice);
        assert_eq!(prose.file_type, FileType::Invoice);
        assert_eq!(prose.filename.as_deref(), Some("a.pdf"));
        assert_eq!(prose.content_type.as_deref(), Some("application/pdf"));
        assert_eq!(prose.file_size, Some(1234));
        assert_eq!(schema.created_at.unwrap().year(), 2025);
        assert_eq!(prose.created_at.unwrap().year(), 2025);
    }

    #[test]
    fn unknown_enum_values_are_kept() {
        let f: File =
            serde_json::from_value(json!({"fileId": "f", "type": "delivery_note"})).unwrap();
        assert_eq!(f.file_type, FileType::Other("delivery_note".into()));
        assert_eq!(f.file_type.as_str(), "delivery_note");
        assert_eq!(f.order_id, None);
    }

    #[test]
    fn timestamps_in_every_documented_form() {
        let expect = 1_736_937_000;
        for value in [
            json!("2025-01-15T10:30:00Z"),
            json!("2025-01-15T11:30:00+01:00"),
            json!("2025-01-15T10:30:00"),
            json!("2025-01-15T10:30:00.000Z"),
            json!(1_736_937_000),
            json!(1_736_937_000_000u64),
            json!({"_seconds": 1_736_937_000, "_nanoseconds": 0}),
        ] {
            let t = Timestamp::from_json(&value).unwrap_or_else(|| panic!("{value}"));
            assert_eq!(t.unix_seconds(), expect, "{value}");
        }
        assert_eq!(Timestamp::parse_text("2025-06-30").unwrap().year(), 2025);
        assert!(Timestamp::from_json(&json!({})).is_none());
    }

    #[test]
    fn money_is_decimal_not_float() {
        let t: Totals = serde_json::from_value(json!({
            "subtotal": 0.1, "taxAmount": 0.2, "total": 89.00, "currency": "EUR"
        }))
        .unwrap();
        assert_eq!(t.subtotal + t.tax_amount, Decimal::new(3, 1));
        assert_eq!(t.total, Decimal::new(89, 0));
    }

    #[test]
    fn rentals_read_the_prose_names_too() {
        let page: RentalsPage = serde_json::from_value(json!({
            "subscriptions": [{"subscriptionId": "s1", "customerId": "c", "serialNumber": "SN1",
                "monthlyAmount": 59, "currency": "EUR", "status": "ended_buyout"}],
            "hasMore": false, "nextCursor": null
        }))
        .unwrap();
        let (items, more, cursor) = page.into_parts();
        assert_eq!(items[0].rental_id, "s1");
        assert_eq!(items[0].asset_serial_number.as_deref(), Some("SN1"));
        assert_eq!(items[0].status, RentalStatus::EndedBuyout);
        assert!(!more);
        assert_eq!(cursor, None);
    }

    #[test]
    fn every_kept_model_reads_back_as_itself() {
        fn round_trip<T: Serialize + de::DeserializeOwned + PartialEq + fmt::Debug>(value: T) {
            let text = serde_json::to_string(&value).unwrap();
            assert_eq!(serde_json::from_str::<T>(&text).unwrap(), value, "{text}");
        }
        let file: File = serde_json::from_value(json!({
            "fileId": "f1", "orderId": "o1", "fileType": "delivery_note", "fileName": "a.pdf",
            "size": "12", "createdAt": 1736937000, "storagePath": "secret/a.pdf"
        }))
        .unwrap();
        let kept = serde_json::to_string(&file).unwrap();
        assert!(
            !kept.contains("secret"),
            "only modelled fields are kept: {kept}"
        );
        round_trip(file);
        round_trip(
            serde_json::from_value::<Order>(json!({
                "orderId": "o1", "status": "fulfilled", "customer": {"customerId": "c1"},
                "items": [{"name": "Laptop", "unitPrice": "59.90", "contractLength": 12}],
                "totals": {"total": 59.9, "currency": "EUR"}, "createdAt": "2025-06-30"
            }))
            .unwrap(),
        );
        round_trip(
            serde_json::from_value::<Customer>(json!({
                "customerId": "c1", "email": "a@b.example", "status": "inactive",
                "orderIds": ["o1"], "createdAt": {"_seconds": 1736937000}
            }))
            .unwrap(),
        );
        round_trip(
            serde_json::from_value::<Payment>(json!({
                "paymentId": "p1", "customerId": "c1", "amount": -5.5, "currency": "EUR",
                "status": "refunded", "dueDate": "2025-01-15"
            }))
            .unwrap(),
        );
        round_trip(
            serde_json::from_value::<Rental>(json!({
                "subscriptionId": "s1", "customerId": "c1", "monthlyAmount": 59,
                "status": "active", "startDate": "2025-01-15T10:30:00Z"
            }))
            .unwrap(),
        );
    }

    #[test]
    fn signed_urls_never_print_their_address() {
        let s: SignedUrl = serde_json::from_value(json!({
            "success": true, "url": "https://storage.example/x?signature=abc", "expiresAt": "2025-01-15T10:30:00Z"
        }))
        .unwrap();
        assert!(!format!("{s:?}").contains("signature"));
        assert_eq!(s.expires_at.unwrap().unix_seconds(), 1_736_937_000);
    }
}
