//! The customer's orders as lists: the handful the overview shows and the pages of `/orders`.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use flexportal::Client;

use super::derived::{AnswerId, Held};
use super::ownership::{owned_orders, OwnedOrders, SUMMARIES};
use super::rows::order_summary;
use crate::base::error::AppError;
use crate::base::server::principal::Scope;
use crate::documents::model::{
    DataAge, OrderList, OrderQuery, OrderSummary, QueryNotice, StatusCount,
};

/// Orders on the overview.
pub(super) const OVERVIEW_ORDERS: usize = 5;

/// The owned orders as lists show them, newest first (the order `owned_orders` keeps them
/// in); shared while FlexPortal's answers are the same.
pub(super) fn summaries(
    client: &Client,
    scope: &Scope,
    owned: &OwnedOrders,
) -> Arc<Vec<OrderSummary>> {
    let answers = [AnswerId::of(&owned.orders, owned.orders.is_empty())];
    SUMMARIES
        .find(client.tenant_id(), scope, &[], &answers)
        .unwrap_or_else(|| {
            let summaries: Arc<Vec<OrderSummary>> =
                Arc::new(owned.orders.iter().map(order_summary).collect());
            let held = vec![Held::of(&owned.orders)];
            SUMMARIES.keep(
                client.tenant_id(),
                scope,
                Vec::new(),
                answers.to_vec(),
                held,
                Arc::clone(&summaries),
            );
            summaries
        })
}

/// `/orders`: a page of the scope's orders, filtered by status and year.
pub async fn orders(
    client: &Client,
    scope: &Scope,
    query: OrderQuery,
    notices: Vec<QueryNotice>,
) -> Result<OrderList, AppError> {
    let owned = owned_orders(client, scope).await?;
    let all = summaries(client, scope, &owned);
    Ok(order_page(&all, query, notices, owned.age))
}

/// Whether an order still needs something from someone: neither delivered nor cancelled.
fn is_open(status: &str) -> bool {
    matches!(status, "pending" | "confirmed" | "partial" | "processing")
}

/// What the overview shows of many orders: the open ones, newest first, then the newest of
/// the rest, [`OVERVIEW_ORDERS`] in all, in date order.
pub(super) fn recent_and_open(all: &[OrderSummary]) -> Vec<OrderSummary> {
    let open = all.iter().filter(|o| is_open(&o.status));
    let rest = all.iter().filter(|o| !is_open(&o.status));
    let picked: Vec<&OrderSummary> = open.chain(rest).take(OVERVIEW_ORDERS).collect();
    // Back in the list's (newest first) order.
    all.iter()
        .filter(|o| picked.iter().any(|p| std::ptr::eq(*p, *o)))
        .cloned()
        .collect()
}

fn year_of(order: &OrderSummary) -> Option<i32> {
    order.created.as_deref()?.get(..4)?.parse().ok()
}

/// One page of `all` (newest first) as `query` asks; the facets count all of them.
pub(super) fn order_page(
    all: &[OrderSummary],
    mut query: OrderQuery,
    notices: Vec<QueryNotice>,
    age: DataAge,
) -> OrderList {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    let mut years = BTreeSet::new();
    for order in all {
        *counts.entry(order.status.as_str()).or_default() += 1;
        years.extend(year_of(order));
    }
    let mut statuses: Vec<StatusCount> = counts
        .into_iter()
        .map(|(status, count)| StatusCount {
            status: status.to_owned(),
            count,
        })
        .collect();
    statuses.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.status.cmp(&b.status)));

    let matching: Vec<&OrderSummary> = all
        .iter()
        .filter(|o| query.status.as_ref().is_none_or(|s| *s == o.status))
        .filter(|o| query.year.is_none_or(|y| year_of(o) == Some(y)))
        .collect();
    let per_page = OrderQuery::PER_PAGE as usize;
    let page_count = matching.len().div_ceil(per_page).max(1) as u32;
    query.page = query.page.clamp(1, page_count);
    let start = (query.page as usize - 1) * per_page;
    OrderList {
        orders: matching
            .iter()
            .skip(start)
            .take(per_page)
            .map(|o| (*o).clone())
            .collect(),
        statuses,
        years: years.into_iter().rev().collect(),
        query,
        page_count,
        total: matching.len(),
        notices,
        age,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::model::Money;

    fn order(id: &str, status: &str, created: Option<&str>) -> OrderSummary {
        OrderSummary {
            id: id.to_owned(),
            status: status.to_owned(),
            created: created.map(str::to_owned),
            total: Money {
                amount: "10.00".to_owned(),
                currency: "EUR".to_owned(),
            },
            item_count: 1,
        }
    }

    /// 44 orders like the business demo customer's: two a month back from December 2026,
    /// the newest three still open.
    fn many() -> Vec<OrderSummary> {
        let mut all: Vec<OrderSummary> = (0..44)
            .map(|i| {
                let month = 12 - (i / 2) % 12;
                let year = 2026 - i / 24;
                let status = if i < 3 {
                    "confirmed"
                } else if i % 7 == 0 {
                    "cancelled"
                } else {
                    "fulfilled"
                };
                order(
                    &format!("ord_{i:02}"),
                    status,
                    Some(&format!("{year}-{month:02}-1{}T09:00:00Z", 5 - i % 2)),
                )
            })
            .collect();
        // As `owned_orders` gives them: newest first.
        all.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
        all
    }

    #[test]
    fn the_overview_shows_the_open_orders_then_the_newest() {
        let mut all = many();
        // An old order still open comes before newer delivered ones.
        all[40].status = "partial".to_owned();
        let shown = recent_and_open(&all);
        let ids: Vec<&str> = shown.iter().map(|o| o.id.as_str()).collect();
        assert_eq!(
            ids,
            ["ord_00", "ord_01", "ord_02", "ord_03", all[40].id.as_str()]
        );
    }

    #[test]
    fn a_few_orders_are_all_shown() {
        let all = vec![
            order("b", "fulfilled", Some("2026-02-01T00:00:00Z")),
            order("a", "pending", None),
        ];
        assert_eq!(recent_and_open(&all), all);
    }

    #[test]
    fn pages_filter_by_status_and_year_and_count_everything() {
        let all = many();
        let page = order_page(&all, OrderQuery::default(), Vec::new(), DataAge::default());
        assert_eq!(
            (page.total, page.page_count, page.orders.len()),
            (44, 3, 20)
        );
        assert_eq!(page.years, [2026, 2025]);
        assert_eq!(page.statuses.iter().map(|s| s.count).sum::<usize>(), 44);
        assert_eq!(page.statuses[0].status, "fulfilled");

        let (query, notices) =
            OrderQuery::from_query_pairs([("status", "cancelled"), ("year", "2025")]);
        assert!(notices.is_empty());
        let page = order_page(&all, query, Vec::new(), DataAge::default());
        // ord_28, ord_35 and ord_42: cancelled, and placed in 2025.
        assert_eq!(page.total, 3);
        assert!(page
            .orders
            .iter()
            .all(|o| o.status == "cancelled" && o.created.as_deref().unwrap().starts_with("2025")));
    }

    #[test]
    fn a_page_past_the_end_shows_the_last() {
        let (query, _) = OrderQuery::from_query_pairs([("page", "99")]);
        let page = order_page(&many(), query, Vec::new(), DataAge::default());
        assert_eq!((page.query.page, page.orders.len()), (3, 4));
    }

    #[test]
    fn malformed_filters_are_ignored_and_reported() {
        let (query, notices) = OrderQuery::from_query_pairs([
            ("status", "<script>"),
            ("year", "20x6"),
            ("page", "-1"),
            ("other", "x"),
        ]);
        assert_eq!(query, OrderQuery::default());
        let params: Vec<&str> = notices.iter().map(|n| n.param.as_str()).collect();
        assert_eq!(params, ["status", "year", "page"]);
        // The last value of a repeated parameter counts, and replaces an earlier notice.
        let (query, notices) = OrderQuery::from_query_pairs([("year", "x"), ("year", "2026")]);
        assert_eq!((query.year, notices.len()), (Some(2026), 0));
        assert_eq!(query.to_query_pairs(), [("year", "2026".to_owned())]);
    }
}
