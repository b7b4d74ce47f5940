//! Customers, orders, subscriptions and payments: the tenant's records, read-only.

use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Map, Value};

use super::api::{check_enum, cursor_page, matches, to_value, ApiError, ApiResult, Params};
use super::state::SimState;

pub(super) async fn list_customers(State(s): State<SimState>, Query(q): Params) -> ApiResult {
    check_enum(&q, "status", &["active", "inactive"])?;
    check_enum(&q, "customerType", &["individual", "business"])?;
    let ci = s.0.faults.email_case_insensitive();
    // Filters apply to the records as served now, changes included.
    let served = |c: &crate::data::Customer| customer_value(&s, c);
    let field = |v: &Value, name: &str| v[name].as_str().unwrap_or_default().to_owned();
    let items = s
        .tenant()
        .customers
        .iter()
        .filter(|c| {
            let v = served(c);
            let email = field(&v, "email");
            let email_ok = match q.get("email") {
                None => true,
                Some(e) if ci => email.eq_ignore_ascii_case(e),
                Some(e) => &email == e,
            };
            email_ok
                && matches(&q, "status", &field(&v, "status"))
                && matches(&q, "customerType", &c.customer_type)
        })
        .collect();
    let p = cursor_page(items, &q, |c| &c.customer_id, |c| &c.created_at, served)?;
    Ok(Json(json!({"customers": p.items, "count": p.items.len(), "limit": p.limit, "hasMore": p.has_more, "nextCursor": p.next_cursor})).into_response())
}

pub(super) async fn get_customer(State(s): State<SimState>, Path(id): Path<String>) -> ApiResult {
    let c = s
        .tenant()
        .customers
        .iter()
        .find(|c| c.customer_id == id)
        .ok_or_else(|| ApiError::not_found("Customer"))?;
    Ok(Json(customer_value(&s, c)).into_response())
}

/// A customer record as served now: as seeded, with any change made since (see
/// [`crate::Faults::change_customer`]).
fn customer_value(s: &SimState, c: &crate::data::Customer) -> Value {
    let mut value = to_value(c);
    if let Some(change) = s.0.faults.customer_change(&c.customer_id) {
        if let Some(status) = change.status {
            value["status"] = Value::String(status);
        }
        if let Some(email) = change.email {
            value["email"] = Value::String(email);
        }
    }
    value
}

pub(super) async fn list_orders(State(s): State<SimState>, Query(q): Params) -> ApiResult {
    check_enum(
        &q,
        "status",
        &["pending", "confirmed", "partial", "fulfilled", "cancelled"],
    )?;
    let items = s
        .tenant()
        .orders
        .iter()
        .filter(|o| {
            matches(&q, "customerId", &o.customer.customer_id) && matches(&q, "status", &o.status)
        })
        .collect();
    let p = cursor_page(items, &q, |o| &o.order_id, |o| &o.created_at, to_value)?;
    Ok(Json(json!({"orders": p.items, "count": p.items.len(), "limit": p.limit, "hasMore": p.has_more, "nextCursor": p.next_cursor})).into_response())
}

pub(super) async fn get_order(State(s): State<SimState>, Path(id): Path<String>) -> ApiResult {
    let o = s
        .tenant()
        .orders
        .iter()
        .find(|o| o.order_id == id)
        .ok_or_else(|| ApiError::not_found("Order"))?;
    Ok(Json(to_value(o)).into_response())
}

const RENTAL_STATUSES: &[&str] = &[
    "active",
    "cancelled",
    "ended_completed",
    "ended_buyout",
    "ended_upgrade",
    "ended_early_return",
];

/// Prose mode renames what the subscription pages' prose calls these fields.
fn rental_json(r: &crate::data::Rental, prose: bool) -> Value {
    let mut v = to_value(r);
    if prose {
        let obj = v.as_object_mut().expect("struct serialises to an object");
        rename(obj, "rentalId", "subscriptionId");
        rename(obj, "assetSerialNumber", "serialNumber");
    }
    v
}

fn rename(obj: &mut Map<String, Value>, from: &str, to: &str) {
    if let Some(v) = obj.remove(from) {
        obj.insert(to.to_owned(), v);
    }
}

pub(super) async fn list_subscriptions(State(s): State<SimState>, Query(q): Params) -> ApiResult {
    check_enum(&q, "status", RENTAL_STATUSES)?;
    let prose = s.0.faults.prose_mode();
    let items = s
        .tenant()
        .rentals
        .iter()
        .filter(|r| {
            matches(&q, "customerId", &r.customer_id)
                && matches(&q, "orderId", &r.order_id)
                && matches(&q, "status", &r.status)
                && matches(&q, "serialNumber", &r.asset_serial_number)
        })
        .collect();
    let p = cursor_page(
        items,
        &q,
        |r| &r.rental_id,
        |r| &r.created_at,
        |r| rental_json(r, prose),
    )?;
    let key = if prose { "subscriptions" } else { "rentals" };
    Ok(Json(json!({key: p.items, "count": p.items.len(), "limit": p.limit, "hasMore": p.has_more, "nextCursor": p.next_cursor})).into_response())
}

pub(super) async fn get_subscription(
    State(s): State<SimState>,
    Path(id): Path<String>,
) -> ApiResult {
    let r = s
        .tenant()
        .rentals
        .iter()
        .find(|r| r.rental_id == id)
        .ok_or_else(|| ApiError::not_found("Subscription"))?;
    Ok(Json(rental_json(r, s.0.faults.prose_mode())).into_response())
}

pub(super) async fn list_payments(State(s): State<SimState>, Query(q): Params) -> ApiResult {
    check_enum(
        &q,
        "status",
        &["pending", "processing", "paid", "failed", "cancelled"],
    )?;
    let items = s
        .tenant()
        .payments
        .iter()
        .filter(|p| {
            matches(&q, "customerId", &p.customer_id)
                && matches(&q, "status", &p.status)
                && q.get("rentalId")
                    .is_none_or(|r| p.rental_id.as_deref() == Some(r.as_str()))
                && q.get("billingGroupId")
                    .is_none_or(|g| p.billing_group_id.as_deref() == Some(g.as_str()))
        })
        .collect();
    let p = cursor_page(items, &q, |p| &p.payment_id, |p| &p.created_at, to_value)?;
    Ok(Json(json!({"success": true, "payments": p.items, "count": p.items.len(), "hasMore": p.has_more, "nextCursor": p.next_cursor})).into_response())
}

pub(super) async fn get_payment(State(s): State<SimState>, Path(id): Path<String>) -> ApiResult {
    let p = s
        .tenant()
        .payments
        .iter()
        .find(|p| p.payment_id == id)
        .ok_or_else(|| ApiError::not_found("Payment"))?;
    Ok(Json(json!({"success": true, "payment": to_value(p)})).into_response())
}
