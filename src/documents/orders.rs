use std::sync::Arc;

use leptos::prelude::*;
use leptos_i18n::I18nContext;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_location;

use crate::base::error::AppError;
use crate::base::who::SignedIn;
use crate::documents::api::list_orders;
use crate::documents::model::{OrderList, OrderSummary};
use crate::documents::table::{date_text, ignored_notice, money_text, status_label, StaleNotice};
use crate::i18n::*;
use crate::ui::error_view::ErrorView;
use crate::ui::pager::{query_href, Pager};

/// `/orders?status=&year=&page=`: all of the customer's orders, newest first. The filters are
/// a GET form, so the state lives in the URL and works without JavaScript.
#[component]
pub fn OrdersPage() -> impl IntoView {
    let i18n = use_i18n();
    // Without a session there is nothing to load: ask to sign in, without a request.
    if expect_context::<SignedIn>().0.is_none() {
        return view! { <ErrorView error=AppError::Unauthorized /> }.into_any();
    }
    let location = use_location();
    let list = Resource::new(move || location.search.get(), list_orders);
    view! {
        <Title text=t_string!(i18n, orders_title).to_string() />
        <Transition fallback=move || {
            view! {
                <h1>{t!(i18n, orders_title)}</h1>
                <p class="loading">{t!(i18n, loading)}</p>
            }
        }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(list) => view! { <OrdersView list /> }.into_any(),
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
fn OrdersView(list: OrderList) -> impl IntoView {
    let i18n = use_i18n();
    let query = list.query.clone();
    let page = query.page;
    let href = |page: u32| query_href("/orders", &query.with_page(page).to_query_pairs());
    let prev = (page > 1).then(|| href(page - 1));
    let next = (page < list.page_count).then(|| href(page + 1));
    let notices = ignored_notice(i18n, &list.notices);
    let status_options = list
        .statuses
        .iter()
        .map(|s| {
            let selected = query.status.as_deref() == Some(s.status.as_str());
            view! {
                <option value=s.status.clone() selected=selected>
                    {format!("{} ({})", status_label(i18n, &s.status), s.count)}
                </option>
            }
        })
        .collect_view();
    let year_options = list
        .years
        .iter()
        .map(|&y| view! { <option value=y.to_string() selected=query.year == Some(y)>{y}</option> })
        .collect_view();
    let table = if list.orders.is_empty() {
        view! { <p class="panel empty">{t!(i18n, orders_none)}</p> }.into_any()
    } else {
        order_table(i18n, &OrderText::of(i18n, &list.orders)).into_any()
    };
    view! {
        <h1>{t!(i18n, orders_title)}</h1>
        <StaleNotice age=list.age.clone() />
        {notices}
        <Form method="GET" action="/orders" attr:class="filters">
            <fieldset>
                <legend class="visually-hidden">{t!(i18n, orders_filter_legend)}</legend>
                <div class="field">
                    <label for="o-status">{t!(i18n, col_status)}</label>
                    <select id="o-status" name="status">
                        <option value="">{t!(i18n, filter_all)}</option>
                        {status_options}
                    </select>
                </div>
                <div class="field">
                    <label for="o-year">{t!(i18n, filter_year)}</label>
                    <select id="o-year" name="year">
                        <option value="">{t!(i18n, filter_all)}</option>
                        {year_options}
                    </select>
                </div>
                <div class="field actions">
                    <button type="submit" class="button">{t!(i18n, filter_apply)}</button>
                    <a href="/orders">{t!(i18n, filter_reset)}</a>
                </div>
            </fieldset>
        </Form>
        <p class="result-count" role="status">
            {list.total}" "{t!(i18n, orders_found)}
        </p>
        {table}
        <Pager prev next page pages=Some(list.page_count) />
    }
}

/// What one row of an [`order_table`] shows, worked out ahead of building the view (see
/// [`view_text`](crate::ui::view_text)).
pub struct OrderText {
    id: Arc<str>,
    href: Arc<str>,
    status: Arc<str>,
    date: Arc<str>,
    total: Arc<str>,
    item_count: u32,
}

impl OrderText {
    pub fn of(i18n: I18nContext<Locale>, orders: &[OrderSummary]) -> Vec<OrderText> {
        orders
            .iter()
            .map(|order| OrderText {
                id: order.id.as_str().into(),
                href: format!("/orders/{}", order.id).into(),
                status: status_label(i18n, &order.status).as_ref().into(),
                date: date_text(i18n, order.created.as_deref()).into(),
                total: money_text(i18n, &order.total).into(),
                item_count: order.item_count,
            })
            .collect()
    }
}

/// Orders as a table: id (a link to the order), status, date, devices, total. The links are
/// plain `<a>`s: the router handles their clicks all the same, and none of them can point at
/// the page they are on, which is all an `<A>` adds.
pub fn order_table(i18n: I18nContext<Locale>, orders: &[OrderText]) -> impl IntoView {
    let rows = orders
        .iter()
        .map(|order| {
            view! {
                <tr>
                    <td>
                        <a href=order.href.clone()>{order.id.clone()}</a>
                    </td>
                    <td>{order.status.clone()}</td>
                    <td>{order.date.clone()}</td>
                    <td class="num">{order.item_count}</td>
                    <td class="num">{order.total.clone()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="orders">
                <thead>
                    <tr>
                        <th scope="col">{t!(i18n, col_order)}</th>
                        <th scope="col">{t!(i18n, col_status)}</th>
                        <th scope="col">{t!(i18n, col_date)}</th>
                        <th scope="col" class="num">{t!(i18n, col_items)}</th>
                        <th scope="col" class="num">{t!(i18n, col_total)}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
