//! The rows pages show, made from FlexPortal's records.

use std::cmp::Ordering;
use std::collections::HashSet;

use flexportal::model::{File, Order, Payment, Timestamp};
use rust_decimal::Decimal;

use super::upstream::doc_type;
use crate::documents::model::{DocumentRow, Money, OrderSummary, PaymentRow};

pub(super) fn row(file: &File) -> DocumentRow {
    DocumentRow {
        id: file.file_id.clone(),
        name: file.display_name().to_owned(),
        doc_type: doc_type(&file.file_type),
        type_label: file.file_type.as_str().to_owned(),
        order_id: file.order_id.clone().unwrap_or_default(),
        created: file.created_at.map(iso_timestamp),
        year: file.created_at.map(|t| t.year()),
        size: file.file_size,
        content_type: content_type(file),
    }
}

pub(super) fn content_type(file: &File) -> String {
    file.content_type
        .clone()
        .unwrap_or_else(|| "application/octet-stream".to_owned())
}

pub(crate) fn order_summary(order: &Order) -> OrderSummary {
    OrderSummary {
        id: order.order_id.clone(),
        status: order.status.as_str().to_owned(),
        created: order.created_at.map(iso_timestamp),
        total: money(order.totals.total, &order.totals.currency),
        item_count: order.items.iter().map(|i| i.quantity).sum(),
    }
}

pub(super) fn payment_row(payment: &Payment) -> PaymentRow {
    PaymentRow {
        billing_period: payment.billing_period.clone(),
        amount: payment
            .amount_due()
            .map(|amount| money(amount, &payment.currency)),
        status: payment.status.as_str().to_owned(),
        due_date: payment.due_date.map(iso_date),
        paid_date: payment.paid_at.map(iso_date),
        invoice: None,
    }
}

/// The year a payment belongs to: its billing period's, else its due date's.
pub(super) fn payment_year(payment: &Payment) -> Option<i32> {
    payment
        .billing_period
        .as_deref()
        .and_then(|p| p.get(..4))
        .and_then(|y| y.parse().ok())
        .or_else(|| payment.due_date.map(|d| d.year()))
}

pub(super) fn payment_sort_key(payment: &Payment) -> (Option<&str>, Option<Timestamp>) {
    (payment.billing_period.as_deref(), payment.due_date)
}

pub(super) fn money(amount: Decimal, currency: &str) -> Money {
    Money {
        amount: format!("{:.2}", amount.round_dp(2)),
        currency: currency.to_owned(),
    }
}

pub(super) fn iso_timestamp(t: Timestamp) -> String {
    let utc = t.0.to_offset(time::UtcOffset::UTC);
    let year = utc.year();
    if !(0..=9999).contains(&year) {
        return format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            year,
            u8::from(utc.month()),
            utc.day(),
            utc.hour(),
            utc.minute(),
            utc.second()
        );
    }
    // By hand: this runs for every file of a customer whenever their documents are derived,
    // and `format!` costs several times as much.
    let mut text = String::with_capacity(20);
    let mut digits = |value: u32, width: u32, then: Option<char>| {
        for place in (0..width).rev() {
            text.push(char::from(b'0' + (value / 10u32.pow(place) % 10) as u8));
        }
        if let Some(c) = then {
            text.push(c);
        }
    };
    digits(year.unsigned_abs(), 4, Some('-'));
    digits(u32::from(u8::from(utc.month())), 2, Some('-'));
    digits(u32::from(utc.day()), 2, Some('T'));
    digits(u32::from(utc.hour()), 2, Some(':'));
    digits(u32::from(utc.minute()), 2, Some(':'));
    digits(u32::from(utc.second()), 2, Some('Z'));
    text
}

pub(super) fn iso_date(t: Timestamp) -> String {
    iso_timestamp(t)[..10].to_owned()
}

pub(super) fn dedup_rows(rows: &mut Vec<DocumentRow>) {
    let mut seen = HashSet::new();
    rows.retain(|r| seen.insert(r.id.clone()));
}

pub(super) fn newest_order_first(a: &Order, b: &Order) -> Ordering {
    b.created_at
        .cmp(&a.created_at)
        .then_with(|| a.order_id.cmp(&b.order_id))
}
