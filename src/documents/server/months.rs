//! A year of invoices by month: the grouping, the totals and the pages of `/invoices`, and the
//! pairing of payments with invoice documents that `/invoices` and `/invoices.csv` show.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::rows::money;
use crate::documents::model::{
    DataAge, DocumentRow, InvoiceHistory, InvoiceMonth, InvoiceRef, MonthTotal, PaymentRow,
};

/// One year's invoices and payments, before they are grouped and paged.
#[derive(Debug, Default)]
pub struct InvoiceYear {
    pub year: Option<i32>,
    /// Years with invoices or payments, newest first.
    pub years: Vec<i32>,
    /// Newest first.
    pub invoices: Vec<DocumentRow>,
    /// Newest billing period first.
    pub payments: Vec<PaymentRow>,
    pub age: DataAge,
}

/// The month a document belongs to: that of its date (UTC, as dates render).
fn invoice_month(row: &DocumentRow) -> Option<&str> {
    row.created.as_deref().and_then(|c| c.get(..7))
}

/// The month a payment belongs to: its billing period's, else its due date's.
fn payment_month(row: &PaymentRow) -> Option<&str> {
    row.billing_period
        .as_deref()
        .or(row.due_date.as_deref())
        .and_then(|d| d.get(..7))
}

/// The invoice document of `order` in the payment's month; the newest if there are several.
/// `invoices` is newest first.
pub(super) fn paired_invoice(
    payment: &PaymentRow,
    order: &str,
    invoices: &[DocumentRow],
) -> Option<InvoiceRef> {
    let month = payment_month(payment)?;
    invoices
        .iter()
        .find(|r| r.order_id == order && invoice_month(r) == Some(month))
        .map(|r| InvoiceRef {
            id: r.id.clone(),
            name: r.name.clone(),
        })
}

/// The year's months, newest first, each with its documents, payments and totals.
pub(super) fn by_month(invoices: Vec<DocumentRow>, payments: Vec<PaymentRow>) -> Vec<InvoiceMonth> {
    let mut months: BTreeMap<String, InvoiceMonth> = BTreeMap::new();
    for row in invoices {
        if let Some(key) = invoice_month(&row).map(str::to_owned) {
            slot(&mut months, key).invoices.push(row);
        }
    }
    for row in payments {
        if let Some(key) = payment_month(&row).map(str::to_owned) {
            slot(&mut months, key).payments.push(row);
        }
    }
    months
        .into_values()
        .rev()
        .map(|mut m| {
            m.totals = totals(&m.payments);
            m
        })
        .collect()
}

/// The month `key` of `months`, begun empty if it is not there yet.
fn slot(months: &mut BTreeMap<String, InvoiceMonth>, key: String) -> &mut InvoiceMonth {
    months.entry(key).or_insert_with_key(|key| InvoiceMonth {
        month: key.clone(),
        invoices: Vec::new(),
        payments: Vec::new(),
        totals: Vec::new(),
    })
}

/// Sums per currency and status. An amount FlexPortal sent that does not read as a decimal
/// is left out rather than guessed.
fn totals(payments: &[PaymentRow]) -> Vec<MonthTotal> {
    let mut sums: BTreeMap<(&str, &str), Decimal> = BTreeMap::new();
    for p in payments {
        let Some(amount) = &p.amount else { continue };
        let Ok(value) = amount.amount.parse::<Decimal>() else {
            continue;
        };
        *sums.entry((&amount.currency, &p.status)).or_default() += value;
    }
    sums.into_iter()
        .map(|((currency, status), sum)| MonthTotal {
            status: status.to_owned(),
            amount: money(sum, currency),
        })
        .collect()
}

/// One page of months. A page past the end shows the last.
pub(super) fn history_page(year: InvoiceYear, page: u32) -> InvoiceHistory {
    let (invoice_count, payment_count) = (year.invoices.len(), year.payments.len());
    let months = by_month(year.invoices, year.payments);
    let per_page = InvoiceHistory::MONTHS_PER_PAGE;
    let page_count = u32::try_from(months.len().div_ceil(per_page))
        .unwrap_or(u32::MAX)
        .max(1);
    let page = page.clamp(1, page_count);
    InvoiceHistory {
        year: year.year,
        years: year.years,
        months: months
            .into_iter()
            .skip((page as usize - 1) * per_page)
            .take(per_page)
            .collect(),
        page,
        page_count,
        invoice_count,
        payment_count,
        age: year.age,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::who::DocType;
    use crate::documents::model::Money;

    fn invoice(id: &str, order: &str, created: &str) -> DocumentRow {
        DocumentRow {
            id: id.to_owned(),
            name: format!("{id}.pdf"),
            doc_type: DocType::Invoice,
            type_label: "invoice".to_owned(),
            order_id: order.to_owned(),
            created: Some(created.to_owned()),
            year: created.get(..4).and_then(|y| y.parse().ok()),
            size: Some(1),
            content_type: "application/pdf".to_owned(),
        }
    }

    fn payment(period: &str, amount: &str, currency: &str, status: &str) -> PaymentRow {
        PaymentRow {
            billing_period: Some(period.to_owned()),
            amount: Some(Money {
                amount: amount.to_owned(),
                currency: currency.to_owned(),
            }),
            status: status.to_owned(),
            due_date: None,
            paid_date: None,
            invoice: None,
        }
    }

    #[test]
    fn months_are_newest_first_with_totals_per_currency_and_status() {
        let invoices = [
            invoice("i3", "o1", "2026-03-02T00:00:00Z"),
            invoice("i1", "o1", "2026-01-31T23:59:59Z"),
        ];
        let payments = [
            payment("2026-03", "89.00", "EUR", "paid"),
            payment("2026-03", "10.50", "EUR", "paid"),
            payment("2026-03", "-5.00", "EUR", "paid"),
            payment("2026-03", "20.00", "USD", "pending"),
            payment("2026-02", "89.00", "EUR", "failed"),
        ];
        let months = by_month(invoices.to_vec(), payments.to_vec());
        let keys: Vec<&str> = months.iter().map(|m| m.month.as_str()).collect();
        assert_eq!(keys, ["2026-03", "2026-02", "2026-01"]);
        assert_eq!(months[0].invoices.len(), 1);
        assert_eq!(months[0].payments.len(), 4);
        let totals: Vec<(String, String, String)> = months[0]
            .totals
            .iter()
            .map(|t| {
                (
                    t.amount.currency.clone(),
                    t.status.clone(),
                    t.amount.amount.clone(),
                )
            })
            .collect();
        assert_eq!(
            totals,
            [
                ("EUR".into(), "paid".into(), "94.50".into()),
                ("USD".into(), "pending".into(), "20.00".into())
            ]
        );
        assert!(months[2].payments.is_empty() && months[2].totals.is_empty());
    }

    #[test]
    fn a_long_year_is_paged_by_quarters_and_a_page_past_the_end_shows_the_last() {
        let invoices: Vec<DocumentRow> = (1..=12)
            .map(|m| invoice(&format!("i{m}"), "o1", &format!("2026-{m:02}-10T00:00:00Z")))
            .collect();
        let year = || InvoiceYear {
            year: Some(2026),
            invoices: invoices.clone(),
            ..InvoiceYear::default()
        };
        let first = history_page(year(), 1);
        assert_eq!(
            (first.page, first.page_count, first.invoice_count),
            (1, 4, 12)
        );
        let months: Vec<&str> = first.months.iter().map(|m| m.month.as_str()).collect();
        assert_eq!(months, ["2026-12", "2026-11", "2026-10"]);
        let past = history_page(year(), 99);
        assert_eq!(past.page, 4);
        assert_eq!(past.months.last().unwrap().month, "2026-01");
        assert_eq!(history_page(InvoiceYear::default(), 0).page_count, 1);
    }

    #[test]
    fn payments_pair_with_the_invoice_of_their_order_and_month() {
        let invoices = [
            invoice("mar-o2", "o2", "2026-03-01T00:00:00Z"),
            invoice("mar-o1", "o1", "2026-03-01T00:00:00Z"),
            invoice("feb-o1", "o1", "2026-02-01T00:00:00Z"),
        ];
        let march = payment("2026-03", "1.00", "EUR", "paid");
        assert_eq!(
            paired_invoice(&march, "o1", &invoices).unwrap().id,
            "mar-o1"
        );
        assert!(paired_invoice(&march, "o3", &invoices).is_none());
        let april = payment("2026-04", "1.00", "EUR", "paid");
        assert!(paired_invoice(&april, "o1", &invoices).is_none());
    }
}
