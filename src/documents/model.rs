//! The views of a customer's documents that the pages show, and the query of the documents page.
//!
//! View types sent to the browser. They hold only what a page shows: nothing here may carry
//! secrets or merchant-internal data, and nothing here depends on server-only crates.

use serde::{Deserialize, Serialize};

use crate::base::who::DocType;

/// An amount of money as FlexPortal sent it: decimal text with two places (`"89.00"`) and a
/// currency code (`"EUR"`). Pages format it for the reader's locale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub amount: String,
    pub currency: String,
}

/// How `/documents` orders its rows. Ties are always broken by file id, so pages are stable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    #[default]
    DateDesc,
    DateAsc,
    NameAsc,
    NameDesc,
    SizeAsc,
    SizeDesc,
}

impl Sort {
    pub const ALL: [Sort; 6] = [
        Sort::DateDesc,
        Sort::DateAsc,
        Sort::NameAsc,
        Sort::NameDesc,
        Sort::SizeAsc,
        Sort::SizeDesc,
    ];

    /// The value used in URLs (`?sort=name_asc`).
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::DateDesc => "date_desc",
            Sort::DateAsc => "date_asc",
            Sort::NameAsc => "name_asc",
            Sort::NameDesc => "name_desc",
            Sort::SizeAsc => "size_asc",
            Sort::SizeDesc => "size_desc",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        Sort::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(text))
    }
}

/// A query parameter whose value could not be used as given: it was ignored (malformed or
/// unknown) or adjusted (a page past the end). Pages may tell the reader; nothing failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryNotice {
    /// The parameter's name, e.g. `page`.
    pub param: String,
    /// What was sent, cut to a short length.
    pub value: String,
}

/// The filters, order and page of `/documents`, as the URL carries them.
///
/// Built leniently from untrusted query strings: a value that cannot be used falls back to
/// the default and is reported as a [`QueryNotice`], never an error. The filters only ever
/// narrow what the caller's scope already allows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DocumentQuery {
    pub doc_type: Option<DocType>,
    pub order: Option<String>,
    pub year: Option<i32>,
    /// Case-insensitive search in the document name.
    pub q: Option<String>,
    pub sort: Sort,
    /// 1-based. Past the last page it is clamped to the last page.
    pub page: u32,
}

/// The longest search text or order id taken from a URL; longer values are cut.
pub const MAX_QUERY_TEXT: usize = 100;

/// Years outside this range cannot come from real documents.
const YEARS: std::ops::RangeInclusive<i32> = 1970..=9999;

impl Default for DocumentQuery {
    fn default() -> Self {
        Self {
            doc_type: None,
            order: None,
            year: None,
            q: None,
            sort: Sort::default(),
            page: 1,
        }
    }
}

impl DocumentQuery {
    /// Rows per page. Fixed, so that bookmarked page numbers keep meaning the same rows.
    pub const PER_PAGE: u32 = 25;

    /// Reads `type`, `order`, `year`, `q`, `sort` and `page` from URL query pairs. Other
    /// parameters are ignored; empty values (what a GET form sends for "all") mean "not set";
    /// for a repeated parameter the last value counts.
    pub fn from_query_pairs<K, V>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> (Self, Vec<QueryNotice>)
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut query = DocumentQuery::default();
        let known = ["type", "order", "year", "q", "sort", "page"];
        let notices = read_leniently(pairs, &known, |key, value| match key {
            "type" => {
                query.doc_type = DocType::parse(value);
                value.is_empty() || query.doc_type.is_some()
            }
            "order" => {
                let bad =
                    value.chars().count() > MAX_QUERY_TEXT || value.chars().any(char::is_control);
                query.order = (!value.is_empty() && !bad).then(|| value.to_owned());
                !bad
            }
            "year" => read_year(value, &mut query.year),
            "q" => {
                let text: String = value.chars().filter(|c| !c.is_control()).collect();
                let fits = text.chars().count() <= MAX_QUERY_TEXT;
                query.q = (!text.is_empty()).then(|| text.chars().take(MAX_QUERY_TEXT).collect());
                fits
            }
            "sort" => {
                let sort = Sort::parse(value);
                query.sort = sort.unwrap_or_default();
                value.is_empty() || sort.is_some()
            }
            _ => read_page(value, &mut query.page),
        });
        (query, notices)
    }

    /// The query as URL pairs, leaving out defaults, for links to other pages or sorts.
    pub fn to_query_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(t) = self.doc_type {
            pairs.push(("type", t.as_str().to_owned()));
        }
        if let Some(order) = &self.order {
            pairs.push(("order", order.clone()));
        }
        if let Some(year) = self.year {
            pairs.push(("year", year.to_string()));
        }
        if let Some(q) = &self.q {
            pairs.push(("q", q.clone()));
        }
        if self.sort != Sort::default() {
            pairs.push(("sort", self.sort.as_str().to_owned()));
        }
        if self.page > 1 {
            pairs.push(("page", self.page.to_string()));
        }
        pairs
    }

    /// The same query on another page.
    pub fn with_page(&self, page: u32) -> Self {
        Self {
            page: page.max(1),
            ..self.clone()
        }
    }
}

impl QueryNotice {
    fn new(param: &str, value: &str) -> Self {
        Self {
            param: param.to_owned(),
            value: value.chars().take(40).collect(),
        }
    }
}

/// One document as lists show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRow {
    /// The file id, used in `/files/{id}/view` and `/files/{id}/download`.
    pub id: String,
    pub name: String,
    pub doc_type: DocType,
    /// FlexPortal's own type text, e.g. `delivery_note` for a document of type `Other`.
    pub type_label: String,
    pub order_id: String,
    /// When the document was created, ISO 8601 in UTC (`2025-01-15T10:30:00Z`), if known.
    pub created: Option<String>,
    pub year: Option<i32>,
    /// Size in bytes, if known.
    pub size: Option<u64>,
    /// MIME type; `application/octet-stream` when FlexPortal does not say.
    pub content_type: String,
}

/// How many documents of one type there are.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeCount {
    pub doc_type: DocType,
    pub count: usize,
}

/// What the filter form can offer: only values that occur among the visible documents.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentFacets {
    /// Newest first.
    pub years: Vec<i32>,
    /// Order ids that have documents, newest order first.
    pub orders: Vec<String>,
    /// Types present, in [`DocType::ALL`] order.
    pub types: Vec<TypeCount>,
}

/// One page of `/documents`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentList {
    pub rows: Vec<DocumentRow>,
    /// Documents matching the filters, on all pages.
    pub total: usize,
    /// The page shown (after clamping), 1-based.
    pub page: u32,
    /// At least 1, even when nothing matches.
    pub page_count: u32,
    pub per_page: u32,
    /// The query as applied, with unusable values replaced by defaults and the page clamped.
    pub query: DocumentQuery,
    /// Values adjusted while applying the query (a page past the end). What parsing ignored is
    /// reported by [`DocumentQuery::from_query_pairs`].
    pub notices: Vec<QueryNotice>,
    pub facets: DocumentFacets,
    pub age: DataAge,
}

/// How current a page's data is: what the page says about it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataAge {
    /// FlexPortal failed when last asked: some of the data may be out of date.
    pub stale: bool,
    /// Some of the data is past its freshness while a refresh runs behind the page: when the
    /// oldest of it was fetched (ISO 8601, UTC). `None` while all of it is fresh.
    pub updated: Option<String>,
}

impl DataAge {
    /// The age of a page made from both: stale if either is, as old as the older.
    pub fn and(self, other: DataAge) -> DataAge {
        let updated = match (self.updated, other.updated) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        DataAge {
            stale: self.stale || other.stale,
            updated,
        }
    }
}

/// One order as the overview lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderSummary {
    pub id: String,
    /// FlexPortal's status text: `pending`, `confirmed`, `partial`, `fulfilled`, `cancelled`
    /// (or a newer value pages show as is).
    pub status: String,
    /// ISO 8601 in UTC, if known.
    pub created: Option<String>,
    pub total: Money,
    /// Devices ordered: the sum of the items' quantities.
    pub item_count: u32,
}

/// `/orders?status=&year=&page=`: which of the customer's orders to list. Read leniently, like
/// [`DocumentQuery`]: what is malformed is left out and reported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderQuery {
    /// FlexPortal's status text, as [`OrderSummary::status`].
    pub status: Option<String>,
    /// The year the order was placed in (UTC).
    pub year: Option<i32>,
    /// 1-based.
    pub page: u32,
}

impl Default for OrderQuery {
    fn default() -> Self {
        OrderQuery {
            status: None,
            year: None,
            page: 1,
        }
    }
}

impl OrderQuery {
    /// Orders per page.
    pub const PER_PAGE: u32 = 20;

    /// Reads `status`, `year` and `page`; for a repeated parameter the last value counts.
    pub fn from_query_pairs<K, V>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> (Self, Vec<QueryNotice>)
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut query = OrderQuery::default();
        let notices = read_leniently(pairs, &["status", "year", "page"], |key, value| match key {
            "status" => {
                // Status texts are short lowercase words; anything else cannot match.
                let word = |c: char| c.is_ascii_lowercase() || c == '_';
                let fits = value.len() <= 32 && value.chars().all(word);
                query.status = (!value.is_empty() && fits).then(|| value.to_owned());
                fits
            }
            "year" => read_year(value, &mut query.year),
            _ => read_page(value, &mut query.page),
        });
        (query, notices)
    }

    /// The query as URL pairs, leaving out defaults.
    pub fn to_query_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(status) = &self.status {
            pairs.push(("status", status.clone()));
        }
        if let Some(year) = self.year {
            pairs.push(("year", year.to_string()));
        }
        if self.page > 1 {
            pairs.push(("page", self.page.to_string()));
        }
        pairs
    }

    /// The same filters on another page.
    pub fn with_page(&self, page: u32) -> Self {
        Self {
            page: page.max(1),
            ..self.clone()
        }
    }
}

/// How many orders have one status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCount {
    pub status: String,
    pub count: usize,
}

/// `/orders`: one page of the customer's orders, filtered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderList {
    /// Newest first.
    pub orders: Vec<OrderSummary>,
    /// The statuses there are among all the orders, most frequent first.
    pub statuses: Vec<StatusCount>,
    /// Years with orders, newest first.
    pub years: Vec<i32>,
    /// As asked, the page clamped to the pages there are.
    pub query: OrderQuery,
    pub page_count: u32,
    /// Orders matching the filters, on all pages.
    pub total: usize,
    pub notices: Vec<QueryNotice>,
    pub age: DataAge,
}

/// The home page of a signed-in customer or a link session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    /// A handful: the open ones first, then the newest; see `/orders` for all of them.
    pub orders: Vec<OrderSummary>,
    /// All of the customer's orders.
    pub order_count: usize,
    /// The newest documents, newest first.
    pub latest: Vec<DocumentRow>,
    /// Types present, in [`DocType::ALL`] order.
    pub type_counts: Vec<TypeCount>,
    pub total_documents: usize,
    pub age: DataAge,
}

/// One line of an order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub product: String,
    pub quantity: u32,
    /// Price per unit and month.
    pub monthly_unit_price: Money,
    /// Contract length in months, if known.
    pub contract_months: Option<u64>,
}

/// An order's documents of one type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentGroup {
    pub doc_type: DocType,
    /// Newest first.
    pub documents: Vec<DocumentRow>,
}

/// `/orders/{orderId}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderDetail {
    pub id: String,
    pub status: String,
    pub items: Vec<OrderLine>,
    pub subtotal: Money,
    pub tax: Money,
    pub total: Money,
    /// ISO 8601 in UTC, if known.
    pub created: Option<String>,
    pub shipped: Option<String>,
    pub tracking_number: Option<String>,
    /// Only groups that have documents, in [`DocType::ALL`] order.
    pub documents: Vec<DocumentGroup>,
    pub age: DataAge,
}

/// One billing payment (a monthly charge).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRow {
    /// `YYYY-MM`, if FlexPortal gave one.
    pub billing_period: Option<String>,
    /// What is charged; absent if FlexPortal gave no amount.
    pub amount: Option<Money>,
    /// FlexPortal's status text: `pending`, `processing`, `paid`, `failed`, `cancelled`.
    pub status: String,
    /// `YYYY-MM-DD`, if known.
    pub due_date: Option<String>,
    /// `YYYY-MM-DD`, once paid.
    pub paid_date: Option<String>,
    /// The invoice document of the same order and month, when one is visible: FlexPortal
    /// links payments to no file, so Folio pairs them by the rental's order and the month.
    pub invoice: Option<InvoiceRef>,
}

/// An invoice document a payment is paired with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceRef {
    pub id: String,
    pub name: String,
}

/// What a month's payments of one status add up to, in one currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthTotal {
    pub status: String,
    pub amount: Money,
}

/// One month of a year's invoices: its documents and its payments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceMonth {
    /// `YYYY-MM`.
    pub month: String,
    /// Newest first.
    pub invoices: Vec<DocumentRow>,
    /// Newest billing period first.
    pub payments: Vec<PaymentRow>,
    /// Per status and currency, in a fixed order (currency, then status).
    pub totals: Vec<MonthTotal>,
}

/// `/invoices?year=&page=`: one year's invoices and billing payments, by month.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceHistory {
    /// The year shown; `None` when there is nothing in any year.
    pub year: Option<i32>,
    /// Years with invoices or payments, newest first.
    pub years: Vec<i32>,
    /// This page's months, newest first.
    pub months: Vec<InvoiceMonth>,
    /// 1-based, clamped to the pages there are.
    pub page: u32,
    /// At least 1.
    pub page_count: u32,
    /// The year's invoice documents and payments, on all pages.
    pub invoice_count: usize,
    pub payment_count: usize,
    pub age: DataAge,
}

impl InvoiceHistory {
    /// Months on one page: a quarter, so that a business customer's year stays short.
    pub const MONTHS_PER_PAGE: usize = 3;
}

/// Where a customer's (and a link session's) background archives are listed.
pub const ARCHIVES_PAGE: &str = "/archives";

/// Where a staff member's background archives are listed.
pub const STAFF_ARCHIVES_PAGE: &str = "/manage/archives";

/// `/archives`: the person's archives made in the background, and the limits they are made
/// within.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveList {
    /// Newest first.
    pub archives: Vec<ArchiveView>,
    /// Archives one person may have in the making at once.
    pub at_once: u32,
    /// How long a finished archive is kept.
    pub keep_hours: u32,
    /// Most documents in one archive.
    pub max_files: u32,
}

/// One background archive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveView {
    pub id: String,
    /// Its file name, e.g. `invoices-2026.zip`.
    pub name: String,
    pub state: ArchiveState,
    pub files_total: u64,
    pub files_done: u64,
    pub bytes: u64,
    /// Documents it could not hold (missing upstream, or over the size limit); the manifest
    /// lists them.
    pub missing: u64,
    /// ISO 8601, UTC.
    pub created: String,
    pub expires: String,
}

/// Where a background archive stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArchiveState {
    Running,
    Ready,
    Failed,
}

impl ArchiveState {
    /// As stored in the database, and as the JSON says.
    pub fn as_str(self) -> &'static str {
        match self {
            ArchiveState::Running => "running",
            ArchiveState::Ready => "ready",
            ArchiveState::Failed => "failed",
        }
    }

    /// A stored state; anything unknown is failed.
    pub fn parse(text: &str) -> ArchiveState {
        match text {
            "running" => ArchiveState::Running,
            "ready" => ArchiveState::Ready,
            _ => ArchiveState::Failed,
        }
    }
}

/// Reads the `known` parameters of URL query pairs the lenient way the lists share: others are
/// ignored, values are trimmed, and for a repeated parameter the last value counts, with its
/// notice. `read` sets a parameter from its trimmed value (an empty one, what a GET form sends
/// for "all", meaning "not set") and says whether the value was fit to use; a notice is kept
/// for each parameter whose last value was not.
fn read_leniently<K, V>(
    pairs: impl IntoIterator<Item = (K, V)>,
    known: &[&str],
    mut read: impl FnMut(&str, &str) -> bool,
) -> Vec<QueryNotice>
where
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut notices: Vec<QueryNotice> = Vec::new();
    for (key, value) in pairs {
        let (key, raw) = (key.as_ref(), value.as_ref());
        if !known.contains(&key) {
            continue;
        }
        notices.retain(|n| n.param != key);
        if !read(key, raw.trim()) {
            notices.push(QueryNotice::new(key, raw));
        }
    }
    notices
}

/// A `year` filter: one the lists know, or not set; whether the value was fit to use.
fn read_year(value: &str, year: &mut Option<i32>) -> bool {
    *year = value.parse::<i32>().ok().filter(|y| YEARS.contains(y));
    value.is_empty() || year.is_some()
}

/// A 1-based `page`, the first when not set or unusable; whether the value was fit to use.
fn read_page(value: &str, page: &mut u32) -> bool {
    let read = value.parse::<u32>().ok().filter(|&p| p >= 1);
    *page = read.unwrap_or(1);
    value.is_empty() || read.is_some()
}
