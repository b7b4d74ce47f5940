//! What the demo tenant promises to the app's tests and to people trying the demo.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

use flexportal_sim::{Sim, Tenant};

fn tenant() -> Tenant {
    Tenant::demo()
}

fn orders_of<'a>(t: &'a Tenant, customer_id: &str) -> Vec<&'a flexportal_sim::Order> {
    t.orders
        .iter()
        .filter(|o| o.customer.customer_id == customer_id)
        .collect()
}

fn customer<'a>(t: &'a Tenant, email: &str) -> &'a flexportal_sim::Customer {
    t.customers
        .iter()
        .find(|c| c.email == email)
        .unwrap_or_else(|| panic!("{email}"))
}

#[test]
fn the_same_data_every_run() {
    let a = serde_json::to_string(&tenant().orders).unwrap();
    let b = serde_json::to_string(&tenant().orders).unwrap();
    assert_eq!(a, b);
    let (x, y) = (tenant(), tenant());
    assert_eq!(x.files[500].bytes(), y.files[500].bytes());
    assert_eq!(x.payments.len(), y.payments.len());
}

#[test]
fn customers_cover_the_cases_the_portal_must_handle() {
    let t = tenant();
    assert!(t.customers.len() >= 8);
    assert!(t
        .customers
        .iter()
        .all(|c| c.email.ends_with("@example.com") || c.email.ends_with("@example.org")));

    let no_orders: Vec<_> = t
        .customers
        .iter()
        .filter(|c| orders_of(&t, &c.customer_id).is_empty())
        .collect();
    assert!(no_orders
        .iter()
        .any(|c| c.email == "anna.keller@example.com"));

    let ben = customer(&t, "ben.okafor@example.com");
    assert_eq!(ben.customer_type, "individual");
    assert_eq!(orders_of(&t, &ben.customer_id).len(), 1);

    let clara = customer(&t, "clara.jensen@example.org");
    let years: BTreeSet<&str> = orders_of(&t, &clara.customer_id)
        .iter()
        .map(|o| &o.created_at[..4])
        .collect();
    assert_eq!(years, BTreeSet::from(["2024", "2025", "2026"]));

    let business = customer(&t, "dana.fischer@example.com");
    assert_eq!(business.customer_type, "business");
    assert!(business.company.is_some());
    let business_orders: HashSet<&str> = orders_of(&t, &business.customer_id)
        .iter()
        .map(|o| o.order_id.as_str())
        .collect();
    assert!(business_orders.len() >= 40);
    let business_files = t
        .files
        .iter()
        .filter(|f| business_orders.contains(f.order_id.as_str()))
        .count();
    assert!(business_files >= 800, "{business_files} files");

    let mut surnames: HashMap<&str, usize> = HashMap::new();
    for c in &t.customers {
        *surnames.entry(&c.last_name).or_default() += 1;
    }
    assert!(surnames.get("Schneider") == Some(&2));

    assert!(t.customers.iter().any(|c| c.status == "inactive"));

    let upper = customer(&t, "Jo.Berg@example.com");
    let lower = customer(&t, "jo.berg@example.com");
    assert_ne!(upper.customer_id, lower.customer_id);
    assert!(upper.email.eq_ignore_ascii_case(&lower.email));
}

#[test]
fn customer_summaries_agree_with_the_records() {
    let t = tenant();
    for c in &t.customers {
        let orders: Vec<String> = orders_of(&t, &c.customer_id)
            .iter()
            .map(|o| o.order_id.clone())
            .collect();
        assert_eq!(c.order_ids, orders, "{}", c.email);
        assert_eq!(c.total_orders as usize, orders.len());
        let rentals: Vec<String> = t
            .rentals
            .iter()
            .filter(|r| r.customer_id == c.customer_id)
            .map(|r| r.rental_id.clone())
            .collect();
        assert_eq!(c.rental_ids, rentals);
        assert!(c.total_acquisition_cost >= 0.0);
    }
    assert!(
        t.customers.iter().any(|c| c.customer_margin != 0.0),
        "internal figures are populated"
    );
}

#[test]
fn orders_span_statuses_years_and_carry_items() {
    let t = tenant();
    let statuses: BTreeSet<&str> = t.orders.iter().map(|o| o.status.as_str()).collect();
    assert_eq!(
        statuses,
        BTreeSet::from(["cancelled", "confirmed", "fulfilled", "partial", "pending"])
    );
    let types: BTreeSet<&str> = t.orders.iter().map(|o| o.order_type.as_str()).collect();
    assert_eq!(types, BTreeSet::from(["extension", "standard", "upgrade"]));
    let years: BTreeSet<&str> = t.orders.iter().map(|o| &o.created_at[..4]).collect();
    assert!(years.is_superset(&BTreeSet::from(["2024", "2025", "2026"])));
    for o in &t.orders {
        assert!(!o.items.is_empty());
        assert_eq!(o.totals.currency, "EUR");
        let subtotal: f64 = o
            .items
            .iter()
            .map(|i| f64::from(i.quantity) * i.unit_price)
            .sum();
        assert!(
            (o.totals.subtotal - subtotal).abs() < 0.005,
            "{}",
            o.order_id
        );
        assert_eq!(
            o.rental_progress.total_devices,
            o.items.iter().map(|i| i.quantity).sum::<u32>()
        );
        assert_eq!(o.rental_ids.len() as u32, o.rental_progress.rented_devices);
    }
}

#[test]
fn files_cover_every_type_and_belong_to_orders() {
    let t = tenant();
    let types: BTreeSet<&str> = t.files.iter().map(|f| f.file_type.as_str()).collect();
    for expected in [
        "contract",
        "invoice",
        "document",
        "attachment",
        "delivery_note",
    ] {
        assert!(types.contains(expected), "{expected}");
    }
    let order_ids: HashSet<&str> = t.orders.iter().map(|o| o.order_id.as_str()).collect();
    let ids: HashSet<&str> = t.files.iter().map(|f| f.file_id.as_str()).collect();
    assert_eq!(ids.len(), t.files.len(), "file ids are unique");
    for f in &t.files {
        assert_eq!(f.tenant_id, t.tenant_id);
        assert!(
            f.order_id.is_empty() || order_ids.contains(f.order_id.as_str()),
            "{}",
            f.file_id
        );
        assert!(f.storage_path.contains(&f.file_id));
        assert!(!f.filename.is_empty() && !f.created_at.is_empty());
    }
    assert!(
        t.files.iter().any(|f| f.order_id.is_empty()),
        "tenant-level files exist"
    );
    let content_types: BTreeSet<&str> = t.files.iter().map(|f| f.content_type.as_str()).collect();
    assert!(content_types.is_superset(&BTreeSet::from([
        "application/pdf",
        "image/png",
        "image/jpeg"
    ])));
}

#[test]
fn start_up_renders_no_file_and_rendering_all_is_quick() {
    let start = Instant::now();
    let sim = Sim::demo();
    assert!(start.elapsed() < Duration::from_secs(2));
    assert!(sim.tenant().files.iter().all(|f| !f.is_rendered()));
    for f in &sim.tenant().files {
        let bytes = f.bytes();
        match f.content_type.as_str() {
            "application/pdf" => assert!(bytes.starts_with(b"%PDF-"), "{}", f.file_id),
            "image/png" => assert!(bytes.starts_with(b"\x89PNG"), "{}", f.file_id),
            "image/jpeg" => assert!(bytes.starts_with(&[0xFF, 0xD8]), "{}", f.file_id),
            _ => assert!(!bytes.is_empty()),
        }
        assert_eq!(f.file_size(), bytes.len());
    }
}

#[test]
fn rentals_and_payments_per_customer() {
    let t = tenant();
    let statuses: BTreeSet<&str> = t.rentals.iter().map(|r| r.status.as_str()).collect();
    assert!(statuses.len() >= 4, "{statuses:?}");
    for c in t.customers.iter().filter(|c| !c.rental_ids.is_empty()) {
        assert!(
            t.payments.iter().any(|p| p.customer_id == c.customer_id),
            "{}",
            c.email
        );
    }
    let statuses: BTreeSet<&str> = t.payments.iter().map(|p| p.status.as_str()).collect();
    assert!(
        statuses.is_superset(&BTreeSet::from(["paid", "pending", "failed"])),
        "{statuses:?}"
    );
    for p in &t.payments {
        let b = p.billing_period.as_bytes();
        assert!(
            b.len() == 7
                && b[4] == b'-'
                && b.iter()
                    .enumerate()
                    .all(|(i, c)| i == 4 || c.is_ascii_digit())
        );
        assert_eq!(p.currency, "EUR");
        assert!(p.total >= p.subtotal);
    }
    assert!(t.payments.iter().any(|p| p.payment_type == "consolidated"));
}

#[test]
fn invoice_pdf_period_matches_its_filename() {
    let t = tenant();
    let invoice = t.files.iter().find(|f| f.file_type == "invoice").unwrap();
    let text = String::from_utf8_lossy(invoice.bytes()).into_owned();
    let period = text.split("Billing period: ").nth(1).unwrap()[..7].to_owned();
    assert!(
        invoice.filename.contains(&period),
        "{} vs {period}",
        invoice.filename
    );
}

#[test]
fn demo_accounts_describe_every_customer() {
    let sim = Sim::demo();
    let accounts = sim.demo_accounts();
    assert_eq!(accounts.len(), sim.tenant().customers.len());
    assert!(accounts.iter().all(|a| !a.description.is_empty()));
}

#[test]
fn a_crowd_adds_customers_without_changing_the_demo() {
    let demo = Tenant::demo();
    let crowd = Tenant::demo_with_crowd(25);
    assert_eq!(crowd.customers.len(), demo.customers.len() + 25);
    for (a, b) in demo.customers.iter().zip(&crowd.customers) {
        assert_eq!(a.customer_id, b.customer_id);
        assert_eq!(a.email, b.email);
        assert_eq!(a.order_ids, b.order_ids);
    }
    for n in 0..25 {
        let email = flexportal_sim::crowd_email(n);
        let c = crowd
            .customers
            .iter()
            .find(|c| c.email == email)
            .expect("each crowd customer exists");
        // Every twentieth is a small business with a dozen orders.
        let orders = if n % 20 == 19 { 12 } else { 1 };
        assert_eq!(c.order_ids.len(), orders, "{email} has {orders} orders");
        let order = &c.order_ids[0];
        assert!(
            crowd.files.iter().any(|f| &f.order_id == order),
            "{email}'s order has documents"
        );
    }
    let ids: std::collections::HashSet<_> =
        crowd.customers.iter().map(|c| &c.customer_id).collect();
    assert_eq!(ids.len(), crowd.customers.len(), "customer ids are unique");
}
