//! The derivations of the documents feature, on made-up answers.

use std::sync::Arc;

use flexportal::model::{File, FileType, Order, OrderCustomer, OrderStatus, Timestamp, Totals};
use rust_decimal::Decimal;

use crate::base::server::principal::Scope;
use crate::base::who::DocType;
use crate::documents::model::DocumentFacets;
use crate::documents::model::DocumentQuery;
use crate::documents::model::DocumentRow;
use crate::documents::model::Sort;
use crate::documents::server::derived::AnswerId;
use crate::documents::server::derived::Derived;
use crate::documents::server::derived::Held;
use crate::documents::server::index::page_of;
use crate::documents::server::index::sort_rows;
use crate::documents::server::index::DocumentIndex;
use crate::documents::server::ownership::belongs_to;
use crate::documents::server::ownership::visible;
use crate::documents::server::ownership::OwnedOrders;
use crate::documents::server::rows::iso_date;
use crate::documents::server::rows::iso_timestamp;
use crate::documents::server::rows::money;
use crate::documents::server::upstream::doc_type;
use crate::documents::server::upstream::plausible_id;

const TENANT: &str = "bu_ours";

fn order(id: &str, customer: &str) -> Order {
    Order {
        order_id: id.into(),
        tenant_id: Some(TENANT.into()),
        status: OrderStatus::Fulfilled,
        customer: OrderCustomer {
            customer_id: customer.into(),
            email: String::new(),
            first_name: String::new(),
            last_name: String::new(),
            company: None,
        },
        items: Vec::new(),
        totals: Totals {
            subtotal: Decimal::ZERO,
            tax_amount: Decimal::ZERO,
            total: Decimal::ZERO,
            currency: "EUR".into(),
        },
        created_at: None,
        updated_at: None,
        shipped_at: None,
        tracking_number: None,
    }
}

/// The order every list of orders shows: newest first, the undated last, by id when equal.
#[test]
fn orders_are_newest_first_with_the_undated_last() {
    use crate::documents::server::rows::newest_order_first;
    let dated = |id: &str, at: &str| Order {
        created_at: Some(Timestamp::parse_text(at).unwrap()),
        ..order(id, "c1")
    };
    let mut all = [
        order("x", "c1"),
        dated("old", "2024-01-01T00:00:00Z"),
        dated("b", "2026-01-01T00:00:00Z"),
        dated("a", "2026-01-01T00:00:00Z"),
    ];
    all.sort_by(newest_order_first);
    let ids: Vec<&str> = all.iter().map(|o| o.order_id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "old", "x"]);
}

fn file(id: &str, order: Option<&str>, tenant: Option<&str>, kind: &str) -> File {
    File {
        file_id: id.into(),
        tenant_id: tenant.map(Into::into),
        order_id: order.map(Into::into),
        file_type: FileType::from(kind),
        filename: Some(format!("{id}.pdf")),
        original_filename: None,
        content_type: None,
        file_size: None,
        created_at: None,
        updated_at: None,
    }
}

fn owned(ids: &[&str]) -> OwnedOrders {
    OwnedOrders {
        orders: Arc::new(ids.iter().map(|id| order(id, "cust_a")).collect()),
        age: Default::default(),
    }
}

#[test]
fn a_file_is_visible_only_through_an_owned_order_of_our_tenant_and_type() {
    let owned = owned(&["ord_1"]);
    let all = Scope::customer("cust_a");
    let invoices = Scope {
        types: Some([DocType::Invoice].into()),
        ..all.clone()
    };
    let check = |f: &File, s: &Scope| visible(f, &owned, TENANT, s);
    assert!(check(
        &file("f", Some("ord_1"), Some(TENANT), "contract"),
        &all
    ));
    assert!(check(&file("f", Some("ord_1"), None, "contract"), &all));
    assert!(!check(
        &file("f", Some("ord_2"), Some(TENANT), "contract"),
        &all
    ));
    assert!(!check(&file("f", None, Some(TENANT), "contract"), &all));
    assert!(!check(
        &file("f", Some("ord_1"), Some("bu_other"), "contract"),
        &all
    ));
    assert!(!check(
        &file("f", Some("ord_1"), Some(TENANT), "contract"),
        &invoices
    ));
    assert!(check(
        &file("f", Some("ord_1"), Some(TENANT), "invoice"),
        &invoices
    ));
    let others = Scope {
        types: Some([DocType::Other].into()),
        ..all
    };
    assert!(check(
        &file("f", Some("ord_1"), None, "delivery_note"),
        &others
    ));
}

#[test]
fn an_order_belongs_to_the_scope_only_when_every_field_agrees() {
    let all = Scope::customer("cust_a");
    let one = Scope {
        order_id: Some("ord_1".into()),
        ..all.clone()
    };
    assert!(belongs_to(&order("ord_1", "cust_a"), "ord_1", &all, TENANT));
    assert!(!belongs_to(
        &order("ord_1", "cust_b"),
        "ord_1",
        &all,
        TENANT
    ));
    assert!(
        !belongs_to(&order("ord_1", "cust_a"), "ord_2", &all, TENANT),
        "an answer for another id than asked"
    );
    let mut foreign = order("ord_1", "cust_a");
    foreign.tenant_id = Some("bu_other".into());
    assert!(!belongs_to(&foreign, "ord_1", &all, TENANT));
    assert!(belongs_to(&order("ord_1", "cust_a"), "ord_1", &one, TENANT));
    assert!(!belongs_to(
        &order("ord_2", "cust_a"),
        "ord_2",
        &one,
        TENANT
    ));
}

#[test]
fn file_types_map_to_document_types() {
    assert_eq!(doc_type(&FileType::Invoice), DocType::Invoice);
    assert_eq!(doc_type(&FileType::from("delivery_note")), DocType::Other);
    assert_eq!(doc_type(&FileType::from("")), DocType::Other);
    for t in DocType::ALL {
        assert_eq!(DocType::parse(t.as_str()), Some(t));
    }
    assert_eq!(DocType::parse("INVOICE"), Some(DocType::Invoice));
    assert_eq!(DocType::parse("invoices"), None);
}

#[test]
fn ids_that_cannot_be_ids_are_refused_before_any_request() {
    for bad in ["", ".", "..", "...", "a\nb", &"x".repeat(201)] {
        assert!(!plausible_id(bad), "{bad:?}");
    }
    for good in ["ord_10001", "file_200001", "a.b", "../x"] {
        assert!(plausible_id(good), "{good:?}");
    }
}

#[test]
fn money_has_two_places_and_dates_are_utc() {
    assert_eq!(money(Decimal::new(89, 0), "EUR").amount, "89.00");
    assert_eq!(money(Decimal::new(10555, 3), "EUR").amount, "10.56");
    let t = Timestamp::parse_text("2025-01-15T11:30:00+01:00").unwrap();
    assert_eq!(iso_timestamp(t), "2025-01-15T10:30:00Z");
    assert_eq!(iso_date(t), "2025-01-15");
}

#[test]
fn derived_values_are_reused_only_for_the_same_scope_and_answers() {
    let memo: Derived<Vec<Order>> = Derived::new(100, 10);
    let a = Scope::customer("cust_a");
    let list = Arc::new(vec![order("ord_1", "cust_a")]);
    let answers = [AnswerId::of(&list, false)];
    let value = Arc::new(vec![order("ord_1", "cust_a")]);
    let keep = |scope: &Scope, value: &Arc<Vec<Order>>| {
        memo.keep(
            TENANT,
            scope,
            Vec::new(),
            answers.to_vec(),
            vec![Held::of(&list)],
            value.clone(),
        )
    };
    keep(&a, &value);
    let found = memo.find(TENANT, &a, &[], &answers);
    assert!(found.is_some_and(|v| Arc::ptr_eq(&v, &value)));
    let b = Scope::customer("cust_b");
    assert!(
        memo.find(TENANT, &b, &[], &answers).is_none(),
        "another customer"
    );
    assert!(
        memo.find("bu_other", &a, &[], &answers).is_none(),
        "another tenant"
    );
    let narrower = Scope {
        types: Some([DocType::Invoice].into()),
        ..a.clone()
    };
    assert!(memo.find(TENANT, &narrower, &[], &answers).is_none());
    let equal_but_new = Arc::new(vec![order("ord_1", "cust_a")]);
    let new_answer = [AnswerId::of(&equal_but_new, false)];
    assert!(
        memo.find(TENANT, &a, &[], &new_answer).is_none(),
        "a new answer"
    );
    assert!(
        memo.find(TENANT, &a, &["ord_1"], &answers).is_none(),
        "other inputs"
    );

    // A value kept again for the same scope replaces the old one.
    let newer = Arc::new(Vec::new());
    keep(&a, &newer);
    let found = memo.find(TENANT, &a, &[], &answers);
    assert!(found.is_some_and(|v| Arc::ptr_eq(&v, &newer)));
    assert_eq!(memo.lock().count, 1);
}

#[test]
fn values_whose_answers_are_gone_are_dropped_first() {
    let memo: Derived<Vec<Order>> = Derived::new(100, 2);
    let lists: Vec<Arc<Vec<Order>>> = (0..3).map(|_| Arc::new(Vec::new())).collect();
    let answers = |i: usize| vec![AnswerId::of(&lists[i], false)];
    let keep = |i: usize| {
        memo.keep(
            TENANT,
            &Scope::customer(format!("cust_{i}")),
            Vec::new(),
            answers(i),
            vec![Held::of(&lists[i])],
            Arc::new(Vec::new()),
        )
    };
    keep(0);
    keep(1);
    let gone = Arc::new(Vec::<Order>::new());
    memo.keep(
        TENANT,
        &Scope::customer("cust_gone"),
        Vec::new(),
        vec![AnswerId::of(&gone, false)],
        vec![Held::of(&gone)],
        Arc::new(Vec::new()),
    );
    drop(gone);
    keep(2);
    let inner = memo.lock();
    assert_eq!(inner.count, 2);
    assert!(!inner.entries.contains_key("cust_gone"));
    assert!(inner.entries.contains_key("cust_2"));
}

#[test]
fn derived_values_stay_within_bounds() {
    let memo: Derived<Vec<Order>> = Derived::new(100, 3);
    let lists: Vec<Arc<Vec<Order>>> = (0..10).map(|_| Arc::new(Vec::new())).collect();
    for (i, list) in lists.iter().enumerate() {
        let scope = Scope::customer(format!("cust_{i}"));
        let answers = vec![AnswerId::of(list, false)];
        let value = Arc::new(vec![order("o", "c"); 30]);
        memo.keep(
            TENANT,
            &scope,
            Vec::new(),
            answers,
            vec![Held::of(list)],
            value,
        );
        let inner = memo.lock();
        assert!(inner.count <= 3 && inner.size <= 100, "{i}");
    }
    // The most recent stays.
    let last = Scope::customer("cust_9");
    assert!(memo
        .find(TENANT, &last, &[], &[AnswerId::of(&lists[9], false)])
        .is_some());
}

#[test]
fn timestamps_are_written_as_format_would() {
    let by_format = |t: Timestamp| {
        let utc = t.0.to_offset(time::UtcOffset::UTC);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            utc.year(),
            u8::from(utc.month()),
            utc.day(),
            utc.hour(),
            utc.minute(),
            utc.second()
        )
    };
    let start = Timestamp::parse_text("0001-01-01T00:00:00+05:00").unwrap();
    for i in 0..20_000i64 {
        let t = Timestamp(start.0 + time::Duration::seconds(i * 1_234_567 + i * i));
        assert_eq!(iso_timestamp(t), by_format(t));
    }
}

fn rows(n: usize) -> Vec<DocumentRow> {
    (0..n)
        .map(|i| DocumentRow {
            id: format!("file_{i:03}"),
            name: format!("Doc {}", i % 7),
            doc_type: DocType::Document,
            type_label: "document".into(),
            order_id: "ord_1".into(),
            created: Some(format!("2025-01-{:02}T00:00:00Z", 1 + i % 3)),
            year: Some(2025),
            size: Some((i % 5) as u64),
            content_type: "application/pdf".into(),
        })
        .collect()
}

fn index(rows: Vec<DocumentRow>) -> DocumentIndex {
    DocumentIndex::new(rows, DocumentFacets::default())
}

#[test]
fn pages_are_clamped_and_stable() {
    let list = page_of(
        &index(rows(60)),
        DocumentQuery {
            page: 7,
            ..Default::default()
        },
        Vec::new(),
        Default::default(),
    );
    assert_eq!((list.page, list.page_count, list.rows.len()), (3, 3, 10));
    assert_eq!(list.notices[0].param, "page");
    let mut reversed = rows(60);
    reversed.reverse();
    let again = page_of(
        &index(reversed),
        DocumentQuery {
            page: 3,
            ..Default::default()
        },
        Vec::new(),
        Default::default(),
    );
    assert_eq!(list.rows, again.rows);
    assert!(again.notices.is_empty());
}

#[test]
fn a_page_is_a_slice_of_the_filtered_and_sorted_rows() {
    let all: Vec<DocumentRow> = rows(60)
        .into_iter()
        .enumerate()
        .map(|(i, mut r)| {
            if i % 3 == 0 {
                r.doc_type = DocType::Invoice;
            }
            if i % 4 == 0 {
                r.order_id = "ord_2".into();
            }
            r
        })
        .collect();
    let idx = index(all.clone());
    let queries = [
        DocumentQuery::default(),
        DocumentQuery {
            q: Some("DOC 3".into()),
            ..Default::default()
        },
        DocumentQuery {
            doc_type: Some(DocType::Invoice),
            order: Some("ord_2".into()),
            ..Default::default()
        },
    ];
    for sort in Sort::ALL {
        for base in &queries {
            let mut expected: Vec<DocumentRow> = all
                .iter()
                .filter(|r| {
                    base.doc_type.is_none_or(|t| r.doc_type == t)
                        && base.order.as_deref().is_none_or(|o| r.order_id == o)
                        && base
                            .q
                            .as_deref()
                            .is_none_or(|q| r.name.to_lowercase().contains(&q.to_lowercase()))
                })
                .cloned()
                .collect();
            sort_rows(&mut expected, sort);
            let mut shown = Vec::new();
            for page in 1..=3 {
                let query = DocumentQuery {
                    sort,
                    page,
                    ..base.clone()
                };
                let list = page_of(&idx, query, Vec::new(), Default::default());
                assert_eq!(list.total, expected.len());
                if list.page == page {
                    shown.extend(list.rows);
                }
            }
            assert_eq!(shown, expected, "{sort:?} {base:?}");
        }
    }
}

#[test]
fn equal_keys_fall_back_to_the_file_id() {
    for sort in Sort::ALL {
        let mut a = rows(30);
        let mut b = rows(30);
        b.reverse();
        sort_rows(&mut a, sort);
        sort_rows(&mut b, sort);
        assert_eq!(a, b, "{sort:?}");
    }
}
