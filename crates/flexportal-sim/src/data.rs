//! The seeded demo tenant: customers, orders, rentals, payments and files.
//!
//! Everything is derived from fixed inputs and a seeded PRNG, so every run (and every test)
//! sees the same ids, dates and amounts. Dates are relative to a fixed "today" rather than the
//! wall clock for the same reason.

use std::sync::OnceLock;

use serde::Serialize;
use serde_json::{json, Value};

use crate::content::{Content, ContractLine};
use crate::util::{add_months, epoch, iso_date, iso_timestamp, Rng};

/// The demo data's notion of today: payments for this month are still pending.
pub const DEMO_TODAY: (i64, u32, u32) = (2026, 11, 15);

pub const DEMO_TENANT_ID: &str = "bu_demo_eu_01";
pub const DEMO_API_KEY: &str = "fp_sim_demo_0d4c9b7e2a6f41c3";

const CURRENCY: &str = "EUR";
const TAX_RATE: f64 = 19.0;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub contact_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    pub street_address: String,
    pub city: String,
    pub postal_code: Option<String>,
    pub country: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub customer_id: String,
    pub tenant_id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub customer_type: String,
    pub total_orders: u32,
    pub total_devices_rented: u32,
    pub total_monthly_revenue: f64,
    pub status: String,
    pub order_ids: Vec<String>,
    pub rental_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_billing_address: Option<Address>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_shipping_address: Option<Address>,
    pub created_at: String,
    pub updated_at: String,
    pub created_by: String,
    /// Merchant-internal profitability figures; a portal must never show them.
    pub lifetime_collected: f64,
    pub total_acquisition_cost: f64,
    pub customer_margin: f64,
    pub customer_margin_percent: f64,
    pub subscriptions_tracked: u32,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderCustomer {
    pub customer_id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    pub customer_type: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    pub product_id: String,
    pub sku: String,
    pub product_name: String,
    pub quantity: u32,
    pub unit_price: f64,
    pub contract_length: u32,
    pub list_price: f64,
    pub list_price_source: String,
    pub acquisition_cost: f64,
    pub acquisition_cost_source: String,
    pub rental_ids: Vec<String>,
    pub rental_status: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub subtotal: f64,
    pub tax_amount: f64,
    pub total: f64,
    pub currency: String,
    pub total_devices: u32,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RentalProgress {
    pub total_devices: u32,
    pub rented_devices: u32,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub order_id: String,
    pub tenant_id: String,
    pub status: String,
    pub order_type: String,
    pub customer: OrderCustomer,
    pub billing_address: Address,
    pub shipping_address: Address,
    pub items: Vec<Item>,
    pub totals: Totals,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment: Option<Value>,
    pub rental_progress: RentalProgress,
    pub rental_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_group_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipped_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub created_by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extension_details: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upgrade_details: Option<Value>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rental {
    pub rental_id: String,
    pub tenant_id: String,
    pub asset_serial_number: String,
    pub customer_id: String,
    pub product_id: String,
    pub sku: String,
    pub product_name: String,
    pub monthly_amount: f64,
    pub currency: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_group_id: Option<String>,
    pub original_contract_length: u32,
    pub contract_length: u32,
    pub start_date: String,
    pub end_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_billing_date: Option<String>,
    pub order_id: String,
    pub customer_email: String,
    pub customer_name: String,
    pub created_at: String,
    pub updated_at: String,
    pub created_by: String,
    /// Merchant-internal cost recovery figures.
    pub acquisition_cost: f64,
    pub total_collected: f64,
    pub current_profit: f64,
    pub recovery_status: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    pub rental_id: String,
    pub description: String,
    pub amount: f64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    pub payment_id: String,
    pub tenant_id: String,
    pub customer_id: String,
    pub subtotal: f64,
    pub tax_amount: f64,
    pub tax_rate: f64,
    pub total: f64,
    pub currency: String,
    pub payment_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rental_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_group_id: Option<String>,
    pub billing_period: String,
    pub status: String,
    pub provider: String,
    pub idempotency_key: String,
    pub due_date: String,
    pub paid_at: Option<String>,
    pub line_items: Vec<LineItem>,
    pub created_at: String,
    pub updated_at: String,
}

/// File metadata plus the recipe for its bytes. Serialised by hand (see `server`) because
/// `fileSize` depends on the rendered body and prose mode renames fields.
#[derive(Debug)]
pub struct File {
    pub file_id: String,
    pub tenant_id: String,
    /// Empty for tenant-level files that belong to no order.
    pub order_id: String,
    /// The customer owning `order_id`; not part of the schema, used by the undeclared
    /// `customerId` filter when that fault is switched on.
    pub customer_id: Option<String>,
    pub file_type: String,
    pub category: String,
    pub filename: String,
    pub content_type: String,
    pub storage_path: String,
    pub uploaded_by: String,
    pub created_at: String,
    pub metadata: Option<Value>,
    pub(crate) content: Content,
    bytes: OnceLock<Vec<u8>>,
}

impl File {
    /// The body, rendered on first use and cached.
    pub fn bytes(&self) -> &[u8] {
        self.bytes.get_or_init(|| self.content.render())
    }

    pub fn file_size(&self) -> usize {
        self.bytes().len()
    }

    /// Whether the body has been rendered yet (start-up must not render them all).
    pub fn is_rendered(&self) -> bool {
        self.bytes.get().is_some()
    }

    /// The schema shape, or the documentation prose's field names when `prose` is set.
    pub fn to_json(&self, prose: bool) -> Value {
        let mut v = json!({
            "fileId": self.file_id,
            "tenantId": self.tenant_id,
            "orderId": self.order_id,
            "category": self.category,
            "storagePath": self.storage_path,
            "uploadedBy": self.uploaded_by,
            "createdAt": self.created_at,
            "updatedAt": self.created_at,
        });
        let obj = v.as_object_mut().expect("object literal");
        let size = self.file_size();
        if prose {
            obj.insert("fileName".into(), json!(self.filename));
            obj.insert("fileType".into(), json!(self.file_type));
            obj.insert("mimeType".into(), json!(self.content_type));
            obj.insert("size".into(), json!(size));
            if let Some(c) = &self.customer_id {
                obj.insert("customerId".into(), json!(c));
            }
        } else {
            obj.insert("filename".into(), json!(self.filename));
            obj.insert("originalFilename".into(), json!(self.filename));
            obj.insert("type".into(), json!(self.file_type));
            obj.insert("contentType".into(), json!(self.content_type));
            obj.insert("fileSize".into(), json!(size));
        }
        if let Some(m) = &self.metadata {
            obj.insert("metadata".into(), m.clone());
        }
        v
    }
}

/// One business unit's data.
#[derive(Debug)]
pub struct Tenant {
    pub tenant_id: String,
    pub customers: Vec<Customer>,
    pub orders: Vec<Order>,
    pub rentals: Vec<Rental>,
    pub payments: Vec<Payment>,
    pub files: Vec<File>,
}

/// A person one can sign in as in demo mode, and why they exist.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoAccount {
    pub email: String,
    pub customer_id: String,
    pub name: String,
    pub description: String,
}

struct Product {
    id: &'static str,
    sku: &'static str,
    name: &'static str,
    monthly: f64,
    list_price: f64,
    acquisition: f64,
}

#[rustfmt::skip]
const PRODUCTS: &[Product] = &[
    Product { id: "prod_mbp14", sku: "MBP14-M3-16-512", name: "MacBook Pro 14 M3", monthly: 89.0, list_price: 2199.0, acquisition: 1850.0 },
    Product { id: "prod_x1c", sku: "TP-X1C-G11", name: "ThinkPad X1 Carbon Gen 11", monthly: 69.0, list_price: 1899.0, acquisition: 1510.0 },
    Product { id: "prod_u27", sku: "DELL-U2723QE", name: "Dell UltraSharp 27 4K Monitor", monthly: 19.0, list_price: 629.0, acquisition: 480.0 },
    Product { id: "prod_iph15", sku: "IPH15-128-BLK", name: "iPhone 15 128 GB", monthly: 39.0, list_price: 949.0, acquisition: 805.0 },
    Product { id: "prod_ipadair", sku: "IPAD-AIR-M2-256", name: "iPad Air M2 256 GB", monthly: 35.0, list_price: 899.0, acquisition: 720.0 },
    Product { id: "prod_fw13", sku: "FW13-R7-32", name: "Framework Laptop 13", monthly: 59.0, list_price: 1399.0, acquisition: 1150.0 },
    Product { id: "prod_ts4", sku: "CALDIGIT-TS4", name: "CalDigit TS4 Dock", monthly: 12.0, list_price: 399.0, acquisition: 290.0 },
    Product { id: "prod_ev285", sku: "JABRA-EV2-85", name: "Jabra Evolve2 85 Headset", monthly: 9.0, list_price: 449.0, acquisition: 310.0 },
];

/// Rounds to cents. Adding 0.0 turns the -0.0 of an empty `sum()` into 0.0.
fn money(x: f64) -> f64 {
    (x * 100.0).round() / 100.0 + 0.0
}

struct Person {
    first: &'static str,
    last: &'static str,
    email: &'static str,
    company: Option<&'static str>,
    business: bool,
    active: bool,
    street: &'static str,
    city: &'static str,
    postal: &'static str,
    country: &'static str,
    description: &'static str,
}

/// The address of the `n`th (from 0) generated customer of [`Tenant::demo_with_crowd`].
pub fn crowd_email(n: usize) -> String {
    format!("crowd{:04}@example.net", n + 1)
}

#[rustfmt::skip]
const PEOPLE: &[Person] = &[
    Person { first: "Anna", last: "Keller", email: "anna.keller@example.com", company: None, business: false, active: true, street: "Lindenstrasse 4", city: "Berlin", postal: "10969", country: "DE", description: "Individual with no orders yet" },
    Person { first: "Ben", last: "Okafor", email: "ben.okafor@example.com", company: None, business: false, active: true, street: "Keizersgracht 120", city: "Amsterdam", postal: "1015 CW", country: "NL", description: "Individual with exactly one order" },
    Person { first: "Clara", last: "Jensen", email: "clara.jensen@example.org", company: None, business: false, active: true, street: "Norrebrogade 52", city: "Copenhagen", postal: "2200", country: "DK", description: "Individual with several orders in 2024, 2025 and 2026" },
    Person { first: "Dana", last: "Fischer", email: "dana.fischer@example.com", company: Some("Northwind Logistics GmbH"), business: true, active: true, street: "Hafenstrasse 7", city: "Hamburg", postal: "20457", country: "DE", description: "Business customer with 40+ orders and 800+ files" },
    Person { first: "Mia", last: "Schneider", email: "mia.schneider@example.com", company: None, business: false, active: true, street: "Gartenweg 12", city: "Munich", postal: "80331", country: "DE", description: "Shares a surname with Lukas Schneider" },
    Person { first: "Lukas", last: "Schneider", email: "lukas.schneider@example.org", company: None, business: false, active: true, street: "Bahnhofstrasse 3", city: "Zurich", postal: "8001", country: "CH", description: "Shares a surname with Mia Schneider" },
    Person { first: "Greta", last: "Holm", email: "greta.holm@example.com", company: None, business: false, active: false, street: "Storgatan 9", city: "Stockholm", postal: "111 23", country: "SE", description: "Inactive customer" },
    Person { first: "Jo", last: "Berg", email: "Jo.Berg@example.com", company: None, business: false, active: true, street: "Karl Johans gate 22", city: "Oslo", postal: "0159", country: "NO", description: "Email differs only in case from jo.berg@example.com (another customer)" },
    Person { first: "Joanna", last: "Berg", email: "jo.berg@example.com", company: None, business: false, active: true, street: "Vasagatan 14", city: "Gothenburg", postal: "411 24", country: "SE", description: "Email differs only in case from Jo.Berg@example.com (another customer)" },
    Person { first: "Ines", last: "Duarte", email: "ines.duarte@example.org", company: Some("Harbor & Finch Design Lda"), business: true, active: true, street: "Rua Augusta 100", city: "Lisbon", postal: "1100-053", country: "PT", description: "Small business customer with a few orders" },
];

/// Which people own which orders: (person index, year, month, day, status, items, kind).
type OrderPlan = (
    usize,
    i64,
    u32,
    u32,
    &'static str,
    &'static [(usize, u32, u32)],
    OrderKind,
);

#[derive(Clone, Copy, PartialEq)]
enum OrderKind {
    Standard,
    Extension,
    Upgrade,
    /// A standard order with a large photo documentation (more than 100 files on one order).
    PhotoHeavy,
}

#[rustfmt::skip]
const INDIVIDUAL_ORDERS: &[OrderPlan] = &[
    (1, 2025, 4, 10, "fulfilled", &[(0, 1, 24)], OrderKind::Standard),
    (2, 2024, 3, 5, "fulfilled", &[(5, 1, 24), (6, 1, 24)], OrderKind::Standard),
    (2, 2024, 11, 20, "cancelled", &[(3, 1, 12)], OrderKind::Standard),
    (2, 2025, 6, 2, "fulfilled", &[(3, 1, 24)], OrderKind::Standard),
    (2, 2026, 2, 14, "fulfilled", &[(5, 1, 12)], OrderKind::Extension),
    (2, 2026, 9, 30, "partial", &[(4, 2, 12)], OrderKind::Standard),
    (4, 2025, 1, 8, "fulfilled", &[(1, 1, 24)], OrderKind::Standard),
    (4, 2026, 10, 28, "pending", &[(7, 1, 12)], OrderKind::Standard),
    (5, 2025, 9, 17, "confirmed", &[(4, 1, 18)], OrderKind::Standard),
    (6, 2024, 6, 1, "fulfilled", &[(3, 1, 12)], OrderKind::Standard),
    (7, 2025, 11, 3, "fulfilled", &[(2, 1, 24)], OrderKind::Standard),
    (8, 2024, 8, 19, "fulfilled", &[(1, 1, 24)], OrderKind::Standard),
    (8, 2026, 5, 6, "fulfilled", &[(0, 1, 24)], OrderKind::Upgrade),
    (9, 2025, 2, 11, "fulfilled", &[(0, 2, 36), (2, 2, 36)], OrderKind::Standard),
    (9, 2025, 12, 1, "fulfilled", &[(4, 1, 24)], OrderKind::Standard),
    (9, 2026, 7, 21, "confirmed", &[(6, 2, 24)], OrderKind::Standard),
];

const BUSINESS: usize = 3;
const BUSINESS_ORDERS: usize = 44;

struct Builder {
    rng: Rng,
    tenant_id: String,
    customers: Vec<Customer>,
    orders: Vec<Order>,
    rentals: Vec<Rental>,
    payments: Vec<Payment>,
    files: Vec<File>,
    today: i64,
    serial: u32,
    invoice_seq: u32,
}

impl Tenant {
    /// The demo tenant. Cheap: no file body is rendered here.
    pub fn demo() -> Self {
        Self::demo_with_crowd(0)
    }

    /// The demo tenant plus `extra` generated individual customers, each with one fulfilled
    /// order and its documents: distinct customers for load tests and benchmarks. Their
    /// addresses are `crowd0001@example.net` onwards ([`crowd_email`]); the demo customers and
    /// their ids are the same as in [`Tenant::demo`].
    pub fn demo_with_crowd(extra: usize) -> Self {
        let (ty, tm, td) = DEMO_TODAY;
        let mut b = Builder {
            rng: Rng::new(0x5EED_F011_0000_0001),
            tenant_id: DEMO_TENANT_ID.to_owned(),
            customers: Vec::new(),
            orders: Vec::new(),
            rentals: Vec::new(),
            payments: Vec::new(),
            files: Vec::new(),
            today: epoch(ty, tm, td, 12, 0),
            serial: 0,
            invoice_seq: 0,
        };
        b.customers();
        for plan in INDIVIDUAL_ORDERS {
            b.order(
                plan.0,
                epoch(plan.1, plan.2, plan.3, 9, 15),
                plan.4,
                plan.5,
                plan.6,
            );
        }
        b.business_orders();
        b.tenant_files();
        b.crowd(extra);
        b.payments();
        b.finish()
    }

    /// The demo accounts, in seeding order.
    pub fn demo_accounts(&self) -> Vec<DemoAccount> {
        PEOPLE
            .iter()
            .zip(&self.customers)
            .map(|(p, c)| DemoAccount {
                email: c.email.clone(),
                customer_id: c.customer_id.clone(),
                name: format!("{} {}", c.first_name, c.last_name),
                description: p.description.to_owned(),
            })
            .collect()
    }

    pub fn file(&self, id: &str) -> Option<&File> {
        self.files.iter().find(|f| f.file_id == id)
    }
}

impl Builder {
    fn customers(&mut self) {
        for (i, p) in PEOPLE.iter().enumerate() {
            let created = epoch(2023, 10 + (i as u32 % 3), 1 + i as u32, 8, 0);
            let address = Address {
                contact_name: format!("{} {}", p.first, p.last),
                company: p.company.map(str::to_owned),
                street_address: p.street.to_owned(),
                city: p.city.to_owned(),
                postal_code: Some(p.postal.to_owned()),
                country: p.country.to_owned(),
            };
            self.customers.push(Customer {
                customer_id: format!("cust_{:04}", i + 1),
                tenant_id: self.tenant_id.clone(),
                email: p.email.to_owned(),
                first_name: p.first.to_owned(),
                last_name: p.last.to_owned(),
                company: p.company.map(str::to_owned),
                phone: Some(format!("+49 30 5550 {:04}", 1000 + i * 37)),
                customer_type: if p.business { "business" } else { "individual" }.to_owned(),
                total_orders: 0,
                total_devices_rented: 0,
                total_monthly_revenue: 0.0,
                status: if p.active { "active" } else { "inactive" }.to_owned(),
                order_ids: Vec::new(),
                rental_ids: Vec::new(),
                last_billing_address: Some(address.clone()),
                last_shipping_address: Some(address),
                created_at: iso_timestamp(created),
                updated_at: iso_timestamp(created),
                created_by: "api".to_owned(),
                lifetime_collected: 0.0,
                total_acquisition_cost: 0.0,
                customer_margin: 0.0,
                customer_margin_percent: 0.0,
                subscriptions_tracked: 0,
            });
        }
    }

    fn crowd(&mut self, extra: usize) {
        for n in 0..extra {
            let created = epoch(2024, 1 + (n % 12) as u32, 1 + (n % 28) as u32, 8, 0);
            let address = Address {
                contact_name: format!("Crowd Customer {}", n + 1),
                company: None,
                street_address: format!("Teststrasse {}", n + 1),
                city: "Berlin".to_owned(),
                postal_code: Some("10115".to_owned()),
                country: "DE".to_owned(),
            };
            let mut customer = self.customers[0].clone();
            customer.customer_id = format!("cust_{:04}", self.customers.len() + 1);
            customer.email = crowd_email(n);
            customer.first_name = "Crowd".to_owned();
            customer.last_name = format!("Customer {}", n + 1);
            customer.phone = None;
            customer.last_billing_address = Some(address.clone());
            customer.last_shipping_address = Some(address);
            customer.created_at = iso_timestamp(created);
            customer.updated_at = iso_timestamp(created);
            self.customers.push(customer);
        }
        for n in 0..extra {
            let who = PEOPLE.len() + n;
            let created = epoch(2025, 1 + (n % 12) as u32, 1 + (n % 28) as u32, 9, 15);
            let plan = [(n % PRODUCTS.len(), 1, 24)];
            self.order(who, created, "fulfilled", &plan, OrderKind::Standard);
        }
        // Every twentieth is a small business: eleven more orders over two years, one of them
        // cancelled, as a portal's busier customers have.
        for n in (19..extra).step_by(20) {
            let who = PEOPLE.len() + n;
            for k in 0..11u32 {
                let (year, month) = (2024 + (k * 2) / 12, 1 + (k * 2) % 12);
                let created = epoch(i64::from(year), month, 3 + k, 10, 0);
                let status = if k == 4 { "cancelled" } else { "fulfilled" };
                let plan = [((n + k as usize) % PRODUCTS.len(), 1 + k % 3, 12)];
                self.order(who, created, status, &plan, OrderKind::Standard);
            }
        }
    }

    fn business_orders(&mut self) {
        const STATUSES: &[&str] = &[
            "fulfilled",
            "fulfilled",
            "fulfilled",
            "partial",
            "confirmed",
            "cancelled",
            "fulfilled",
        ];
        let start = epoch(2024, 1, 8, 10, 0);
        let end = epoch(2026, 10, 20, 10, 0);
        let step = (end - start) / BUSINESS_ORDERS as i64;
        for n in 0..BUSINESS_ORDERS {
            let created = start + step * n as i64 + self.rng.range(0, 5 * 3600) as i64;
            // The newest order is still pending, as a business usually has one in flight.
            let status = if n == BUSINESS_ORDERS - 1 {
                "pending"
            } else {
                STATUSES[n % STATUSES.len()]
            };
            let count = self.rng.range(1, 3) as usize;
            let mut items: Vec<(usize, u32, u32)> = Vec::new();
            for _ in 0..count {
                let p = self.rng.range(0, PRODUCTS.len() as u64 - 1) as usize;
                if items.iter().all(|i| i.0 != p) {
                    let qty = self.rng.range(1, 6) as u32;
                    let len = *self.rng.pick(&[24u32, 36]);
                    items.push((p, qty, len));
                }
            }
            let kind = if n == 2 {
                OrderKind::PhotoHeavy
            } else {
                OrderKind::Standard
            };
            self.order(BUSINESS, created, status, &items, kind);
        }
    }

    fn next_serial(&mut self, sku: &str) -> String {
        self.serial += 1;
        let prefix: String = sku
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(4)
            .collect();
        format!(
            "{prefix}{:06}{}",
            100_000 + self.serial * 7,
            (b'A' + (self.serial % 26) as u8) as char
        )
    }

    #[allow(clippy::too_many_lines)]
    fn order(
        &mut self,
        who: usize,
        created: i64,
        status: &str,
        plan: &[(usize, u32, u32)],
        kind: OrderKind,
    ) {
        let order_id = format!("ord_{:05}", 10_001 + self.orders.len());
        let cust = self.customers[who].clone();
        let customer_name = format!("{} {}", cust.first_name, cust.last_name);
        let total_devices: u32 = plan.iter().map(|p| p.1).sum();
        let rented_target = match status {
            "fulfilled" => total_devices,
            "partial" => total_devices
                .div_ceil(2)
                .min(total_devices.saturating_sub(1))
                .max(1),
            _ => 0,
        };
        let billing_group = (who == BUSINESS).then(|| "bg_northwind_main".to_owned());
        let (cy, cm, _) = crate::util::civil_from_days(created.div_euclid(86_400));

        let mut items = Vec::new();
        let mut order_rentals = Vec::new();
        let mut rented = 0;
        for (idx, &(p, qty, len)) in plan.iter().enumerate() {
            let product = &PRODUCTS[p];
            let mut item_rentals = Vec::new();
            for unit in 0..qty {
                if rented >= rented_target {
                    break;
                }
                rented += 1;
                let rental_id = format!("sub_{:05}", 50_001 + self.rentals.len());
                let start = created + 3 * 86_400;
                let (sy, sm, sd) = crate::util::civil_from_days(start.div_euclid(86_400));
                let (ey, em) = add_months(sy, sm, len);
                let end = epoch(ey, em, sd.min(28), 0, 0);
                let months_elapsed = ((self.today.min(end) - start) / (30 * 86_400)).max(0) as f64;
                let rental_status = if end <= self.today {
                    "ended_completed"
                } else if kind == OrderKind::Upgrade && unit == 0 && idx == 0 {
                    "active"
                } else {
                    match self.rentals.len() % 29 {
                        5 => "ended_buyout",
                        11 => "ended_early_return",
                        17 => "cancelled",
                        23 => "ended_upgrade",
                        _ => "active",
                    }
                };
                let collected = money(months_elapsed * product.monthly);
                let (ny, nm) = add_months(DEMO_TODAY.0, DEMO_TODAY.1, 1);
                let asset_serial_number = self.next_serial(product.sku);
                self.rentals.push(Rental {
                    rental_id: rental_id.clone(),
                    tenant_id: self.tenant_id.clone(),
                    asset_serial_number,
                    customer_id: cust.customer_id.clone(),
                    product_id: product.id.to_owned(),
                    sku: product.sku.to_owned(),
                    product_name: product.name.to_owned(),
                    monthly_amount: product.monthly,
                    currency: CURRENCY.to_owned(),
                    status: rental_status.to_owned(),
                    billing_group_id: billing_group.clone(),
                    original_contract_length: len,
                    contract_length: len,
                    start_date: iso_date(start),
                    end_date: iso_date(end),
                    next_billing_date: (rental_status == "active")
                        .then(|| format!("{ny:04}-{nm:02}-01")),
                    order_id: order_id.clone(),
                    customer_email: cust.email.clone(),
                    customer_name: customer_name.clone(),
                    created_at: iso_timestamp(start),
                    updated_at: iso_timestamp(start + 86_400),
                    created_by: "system".to_owned(),
                    acquisition_cost: product.acquisition,
                    total_collected: collected,
                    current_profit: money(collected - product.acquisition),
                    recovery_status: if collected >= product.acquisition {
                        "profitable"
                    } else {
                        "recovering"
                    }
                    .to_owned(),
                });
                item_rentals.push(rental_id.clone());
                order_rentals.push(rental_id);
            }
            let rental_status = if item_rentals.is_empty() {
                "pending"
            } else if item_rentals.len() as u32 == qty {
                "completed"
            } else {
                "partial"
            };
            items.push(Item {
                product_id: product.id.to_owned(),
                sku: product.sku.to_owned(),
                product_name: product.name.to_owned(),
                quantity: qty,
                unit_price: product.monthly,
                contract_length: len,
                list_price: product.list_price,
                list_price_source: "variant".to_owned(),
                acquisition_cost: product.acquisition,
                acquisition_cost_source: "variant".to_owned(),
                rental_ids: item_rentals,
                rental_status: rental_status.to_owned(),
            });
        }

        let subtotal = money(
            items
                .iter()
                .map(|i| f64::from(i.quantity) * i.unit_price)
                .sum(),
        );
        let tax = money(subtotal * TAX_RATE / 100.0);
        let total = money(subtotal + tax);
        let address = cust
            .last_shipping_address
            .clone()
            .expect("seeded with an address");
        let shipped = matches!(status, "fulfilled" | "partial").then(|| created + 2 * 86_400);
        let previous_rental = self
            .rentals
            .iter()
            .find(|r| r.customer_id == cust.customer_id && r.order_id != order_id)
            .map(|r| {
                (
                    r.rental_id.clone(),
                    r.product_name.clone(),
                    r.asset_serial_number.clone(),
                    r.monthly_amount,
                    r.end_date.clone(),
                    r.order_id.clone(),
                )
            });
        let (extension_details, upgrade_details, order_type) = match (kind, previous_rental) {
            (OrderKind::Extension, Some((_, _, _, _, end, original))) => (
                Some(json!({
                    "originalOrderId": original,
                    "extensionMonths": 12,
                    "previousEndDate": end,
                    "newEndDate": format!("{}{}", (end[..4].parse::<i32>().unwrap_or(2026) + 1), &end[4..]),
                    "reason": "Customer asked to keep the device longer",
                })),
                None,
                "extension",
            ),
            (OrderKind::Upgrade, Some((rental, device, serial, monthly, _, _))) => (
                None,
                Some(json!({
                    "previousDevice": device,
                    "previousSerialNumber": serial,
                    "previousMonthlyAmount": monthly,
                    "previousRentalId": rental,
                    "upgradeReason": "Needs more memory",
                })),
                "upgrade",
            ),
            _ => (None, None, "standard"),
        };
        if let Some(replaced) = upgrade_details
            .as_ref()
            .and_then(|u| u["previousRentalId"].as_str())
        {
            if let Some(r) = self.rentals.iter_mut().find(|r| r.rental_id == replaced) {
                r.status = "ended_upgrade".to_owned();
                r.next_billing_date = None;
            }
        }
        let payment = match status {
            "pending" => json!({"status": "pending", "method": "stripe"}),
            "cancelled" => {
                json!({"status": "failed", "method": "stripe", "transactionId": format!("pi_{}", order_id)})
            }
            _ => {
                json!({"status": "paid", "method": if who == BUSINESS { "manual" } else { "stripe" }, "transactionId": format!("pi_{}", order_id), "paidAmount": total, "manuallyMarked": who == BUSINESS})
            }
        };
        self.orders.push(Order {
            order_id: order_id.clone(),
            tenant_id: self.tenant_id.clone(),
            status: status.to_owned(),
            order_type: order_type.to_owned(),
            customer: OrderCustomer {
                customer_id: cust.customer_id.clone(),
                email: cust.email.clone(),
                first_name: cust.first_name.clone(),
                last_name: cust.last_name.clone(),
                company: cust.company.clone(),
                customer_type: cust.customer_type.clone(),
            },
            billing_address: address.clone(),
            shipping_address: address,
            items: items.clone(),
            totals: Totals {
                subtotal,
                tax_amount: tax,
                total,
                currency: CURRENCY.to_owned(),
                total_devices,
            },
            payment: Some(payment),
            rental_progress: RentalProgress {
                total_devices,
                rented_devices: rented,
            },
            rental_ids: order_rentals,
            billing_group_id: billing_group,
            tracking_number: shipped
                .map(|_| format!("DHL{}", 4_000_000_000u64 + self.orders.len() as u64 * 7919)),
            shipped_at: shipped.map(iso_timestamp),
            created_at: iso_timestamp(created),
            updated_at: iso_timestamp(shipped.unwrap_or(created) + 3600),
            created_by: "api".to_owned(),
            notes: (who == BUSINESS && self.orders.len().is_multiple_of(5))
                .then(|| "Deliver to loading dock B".to_owned()),
            extension_details,
            upgrade_details,
        });

        // Files: a contract once the order is confirmed, a monthly invoice while devices are
        // rented, and some uploads.
        if status != "pending" {
            let lines = items
                .iter()
                .map(|i| ContractLine {
                    product_name: i.product_name.clone(),
                    sku: i.sku.clone(),
                    quantity: i.quantity,
                    unit_price: i.unit_price,
                    contract_length: i.contract_length,
                })
                .collect();
            self.file(
                &order_id,
                Some(&cust.customer_id),
                "contract",
                format!("contract-{order_id}.pdf"),
                "application/pdf",
                created + 86_400,
                Content::Contract {
                    order_id: order_id.clone(),
                    customer_name: customer_name.clone(),
                    company: cust.company.clone(),
                    lines,
                    monthly_total: total,
                    currency: CURRENCY.to_owned(),
                    signed_on: iso_date(created + 86_400),
                },
            );
        }
        if rented > 0 {
            let longest = items.iter().map(|i| i.contract_length).max().unwrap_or(0);
            let monthly = money(
                items
                    .iter()
                    .map(|i| f64::from(i.rental_ids.len() as u32) * i.unit_price)
                    .sum::<f64>()
                    * (1.0 + TAX_RATE / 100.0),
            );
            for m in 0..longest {
                let (y, mo) = add_months(cy, cm, m);
                let issued = epoch(y, mo, 1, 6, 0).max(created + 4 * 86_400);
                if issued > self.today {
                    break;
                }
                self.invoice_seq += 1;
                let number = format!("INV-{y}-{:06}", self.invoice_seq);
                let period = format!("{y:04}-{mo:02}");
                self.file(
                    &order_id,
                    Some(&cust.customer_id),
                    "invoice",
                    format!("invoice-{period}-{order_id}.pdf"),
                    "application/pdf",
                    issued,
                    Content::Invoice {
                        invoice_number: number,
                        billing_period: period,
                        amount: monthly,
                        currency: CURRENCY.to_owned(),
                        customer_name: customer_name.clone(),
                        order_id: order_id.clone(),
                        issued_on: iso_date(issued),
                    },
                );
            }
        }
        if let Some(shipped) = shipped {
            let n = self.orders.len();
            if n.is_multiple_of(2) || who == BUSINESS {
                self.file(
                    &order_id,
                    Some(&cust.customer_id),
                    "delivery_note",
                    format!("delivery-note-{order_id}.pdf"),
                    "application/pdf",
                    shipped,
                    Content::Document {
                        title: format!("Delivery note for order {order_id}"),
                        lines: items
                            .iter()
                            .map(|i| format!("{} x {} ({})", i.quantity, i.product_name, i.sku))
                            .chain([format!("Shipped on {}", iso_date(shipped))])
                            .collect(),
                    },
                );
            }
            if n.is_multiple_of(3) || who == BUSINESS {
                self.file(
                    &order_id,
                    Some(&cust.customer_id),
                    "document",
                    format!("handover-protocol-{order_id}.pdf"),
                    "application/pdf",
                    shipped + 2 * 86_400,
                    Content::Document {
                        title: "Device handover protocol".to_owned(),
                        lines: vec![
                            format!("Order {order_id}"),
                            format!("Received by {}", cust.first_name),
                            "All devices undamaged.".to_owned(),
                        ],
                    },
                );
            }
            if n % 4 == 1 || who == BUSINESS {
                let rgb = [
                    self.rng.range(0, 255) as u8,
                    self.rng.range(0, 255) as u8,
                    self.rng.range(0, 255) as u8,
                ];
                self.file(
                    &order_id,
                    Some(&cust.customer_id),
                    "attachment",
                    format!("device-photo-{order_id}.png"),
                    "image/png",
                    shipped + 3 * 86_400,
                    Content::Png {
                        width: 16,
                        height: 12,
                        rgb,
                    },
                );
            }
            if n % 4 == 3 {
                self.file(
                    &order_id,
                    Some(&cust.customer_id),
                    "attachment",
                    format!("packaging-{order_id}.jpg"),
                    "image/jpeg",
                    shipped + 3 * 86_400,
                    Content::Jpeg { gray: 180 },
                );
            }
            if kind == OrderKind::PhotoHeavy {
                for k in 0..120u32 {
                    let at = shipped + 4 * 86_400 + i64::from(k) * 60;
                    let (filename, content_type, content) = if k % 2 == 0 {
                        (
                            format!("site-photo-{:03}.jpg", k + 1),
                            "image/jpeg",
                            Content::Jpeg {
                                gray: 60 + (k % 150) as u8,
                            },
                        )
                    } else {
                        (
                            format!("site-photo-{:03}.png", k + 1),
                            "image/png",
                            Content::Png {
                                width: 8,
                                height: 8,
                                rgb: [(k * 2) as u8, 90, 140],
                            },
                        )
                    };
                    self.file(
                        &order_id,
                        Some(&cust.customer_id),
                        "attachment",
                        filename,
                        content_type,
                        at,
                        content,
                    );
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn file(
        &mut self,
        order_id: &str,
        customer_id: Option<&str>,
        file_type: &str,
        filename: String,
        content_type: &str,
        created: i64,
        content: Content,
    ) {
        let file_id = format!("file_{:06}", 200_001 + self.files.len());
        let generated = matches!(file_type, "contract" | "invoice");
        let folder = if order_id.is_empty() {
            "tenant".to_owned()
        } else {
            format!("orders/{order_id}")
        };
        self.files.push(File {
            storage_path: format!("tenants/{}/{folder}/{file_id}/{filename}", self.tenant_id),
            file_id,
            tenant_id: self.tenant_id.clone(),
            order_id: order_id.to_owned(),
            customer_id: customer_id.map(str::to_owned),
            file_type: file_type.to_owned(),
            category: if generated { "generated" } else { "uploaded" }.to_owned(),
            filename,
            content_type: content_type.to_owned(),
            uploaded_by: if generated { "system" } else { "user_ops_7" }.to_owned(),
            created_at: iso_timestamp(created),
            metadata: generated.then(|| json!({"source": "flexportal-sim"})),
            content,
            bytes: OnceLock::new(),
        });
    }

    fn tenant_files(&mut self) {
        self.file(
            "",
            None,
            "document",
            "price-list-2026.pdf".to_owned(),
            "application/pdf",
            epoch(2026, 1, 2, 9, 0),
            Content::Document {
                title: "Price list 2026".to_owned(),
                lines: PRODUCTS
                    .iter()
                    .map(|p| format!("{} ({}): EUR {:.2} per month", p.name, p.sku, p.monthly))
                    .collect(),
            },
        );
        self.file(
            "",
            None,
            "document",
            "internal-margin-report.txt".to_owned(),
            "text/plain",
            epoch(2026, 3, 2, 9, 0),
            Content::Text("Tenant-internal report: not for customers.\n".to_owned()),
        );
    }

    fn payments(&mut self) {
        let (ty, tm, _) = DEMO_TODAY;
        let today_period = format!("{ty:04}-{tm:02}");
        // Individual customers pay per rental and month; the business pays one consolidated
        // charge per month for its billing group.
        let mut business_months: std::collections::BTreeMap<String, Vec<(String, String, f64)>> =
            Default::default();
        let rentals = self.rentals.clone();
        for r in &rentals {
            let (sy, sm) = (
                r.start_date[..4].parse::<i64>().unwrap_or(2024),
                r.start_date[5..7].parse::<u32>().unwrap_or(1),
            );
            let live = r.status == "active" || r.status == "ended_completed";
            let months = if live { r.contract_length } else { 3 };
            for m in 0..months {
                let (y, mo) = add_months(sy, sm, m);
                let period = format!("{y:04}-{mo:02}");
                if period > today_period
                    || format!(
                        "{}-{:02}",
                        &r.end_date[..4],
                        r.end_date[5..7].parse::<u32>().unwrap_or(1)
                    ) < period
                {
                    break;
                }
                if r.billing_group_id.is_some() {
                    business_months.entry(period).or_default().push((
                        r.rental_id.clone(),
                        r.product_name.clone(),
                        r.monthly_amount,
                    ));
                } else {
                    let subtotal = r.monthly_amount;
                    self.payment(
                        &r.customer_id.clone(),
                        Some(r.rental_id.clone()),
                        None,
                        &period,
                        subtotal,
                        vec![LineItem {
                            rental_id: r.rental_id.clone(),
                            description: format!("{} ({period})", r.product_name),
                            amount: subtotal,
                        }],
                    );
                }
            }
        }
        let business_id = self.customers[BUSINESS].customer_id.clone();
        for (period, lines) in business_months {
            let subtotal = money(lines.iter().map(|l| l.2).sum());
            let items = lines
                .into_iter()
                .map(|(rental_id, name, amount)| LineItem {
                    rental_id,
                    description: format!("{name} ({period})"),
                    amount,
                })
                .collect();
            self.payment(
                &business_id,
                None,
                Some("bg_northwind_main".to_owned()),
                &period,
                subtotal,
                items,
            );
        }
    }

    fn payment(
        &mut self,
        customer_id: &str,
        rental_id: Option<String>,
        group: Option<String>,
        period: &str,
        subtotal: f64,
        line_items: Vec<LineItem>,
    ) {
        let (ty, tm, _) = DEMO_TODAY;
        let y: i64 = period[..4].parse().unwrap_or(ty);
        let m: u32 = period[5..].parse().unwrap_or(tm);
        let due = epoch(y, m, 5, 0, 0);
        let n = self.payments.len();
        let current = y == ty && m == tm;
        let status = if current {
            "pending"
        } else {
            match n % 41 {
                7 => "failed",
                19 => "cancelled",
                _ if y == ty && m + 1 == tm && n.is_multiple_of(3) => "processing",
                _ => "paid",
            }
        };
        let tax = money(subtotal * TAX_RATE / 100.0);
        let payment_id = format!("pay_{:06}", 700_001 + n);
        self.payments.push(Payment {
            idempotency_key: format!(
                "{}-{period}",
                rental_id
                    .as_deref()
                    .or(group.as_deref())
                    .unwrap_or(customer_id)
            ),
            payment_id,
            tenant_id: self.tenant_id.clone(),
            customer_id: customer_id.to_owned(),
            subtotal,
            tax_amount: tax,
            tax_rate: TAX_RATE,
            total: money(subtotal + tax),
            currency: CURRENCY.to_owned(),
            payment_type: if group.is_some() {
                "consolidated"
            } else {
                "individual"
            }
            .to_owned(),
            rental_id,
            billing_group_id: group,
            billing_period: period.to_owned(),
            status: status.to_owned(),
            provider: "stripe".to_owned(),
            due_date: iso_date(due),
            paid_at: (status == "paid").then(|| iso_timestamp(due + 3600)),
            line_items,
            created_at: iso_timestamp(epoch(y, m, 1, 2, 0)),
            updated_at: iso_timestamp(due + 3600),
        });
    }

    fn finish(mut self) -> Tenant {
        for c in &mut self.customers {
            let orders: Vec<&Order> = self
                .orders
                .iter()
                .filter(|o| o.customer.customer_id == c.customer_id)
                .collect();
            let rentals: Vec<&Rental> = self
                .rentals
                .iter()
                .filter(|r| r.customer_id == c.customer_id)
                .collect();
            c.order_ids = orders.iter().map(|o| o.order_id.clone()).collect();
            c.rental_ids = rentals.iter().map(|r| r.rental_id.clone()).collect();
            c.total_orders = orders.len() as u32;
            let active: Vec<&&Rental> = rentals.iter().filter(|r| r.status == "active").collect();
            c.total_devices_rented = active.len() as u32;
            c.total_monthly_revenue = money(active.iter().map(|r| r.monthly_amount).sum());
            c.lifetime_collected = money(
                self.payments
                    .iter()
                    .filter(|p| p.customer_id == c.customer_id && p.status == "paid")
                    .map(|p| p.total)
                    .sum(),
            );
            c.total_acquisition_cost = money(rentals.iter().map(|r| r.acquisition_cost).sum());
            c.customer_margin = money(c.lifetime_collected - c.total_acquisition_cost);
            c.customer_margin_percent = if c.total_acquisition_cost > 0.0 {
                money(100.0 * c.customer_margin / c.total_acquisition_cost)
            } else {
                0.0
            };
            c.subscriptions_tracked = rentals.len() as u32;
            if let Some(last) = orders.iter().map(|o| o.updated_at.clone()).max() {
                c.updated_at = last;
            }
        }
        Tenant {
            tenant_id: self.tenant_id,
            customers: self.customers,
            orders: self.orders,
            rentals: self.rentals,
            payments: self.payments,
            files: self.files,
        }
    }
}
