use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_location, use_params_map, use_query_map};

use super::parts::{LinkNotice, LinkTable, StaffOnly};
use crate::documents::list::DocumentsView;
use crate::documents::table::{date_text, money_text, status_label};
use crate::i18n::*;
use crate::staff::api::staff_customer;
use crate::staff::model::StaffCustomerView;
use crate::ui::error_view::ErrorView;
use crate::ui::pager::{encoded, query_href};

/// `/manage/customers/{id}`: a customer's orders and documents exactly as the customer sees
/// them (the same functions, the same scope), and the portal links to them.
#[component]
pub fn StaffCustomerPage() -> impl IntoView {
    view! {
        <StaffOnly>
            <CustomerScreen />
        </StaffOnly>
    }
}

#[component]
fn CustomerScreen() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let location = use_location();
    let view = Resource::new(
        move || {
            (
                params.read().get("id").unwrap_or_default(),
                location.search.get(),
            )
        },
        |(id, query)| staff_customer(id, query),
    );
    // Read outside the Transition: revoking or extending from here is a full page load.
    let notice = use_query_map().read_untracked().get("notice");
    view! {
        <Transition fallback=move || view! { <p class="loading">{t!(i18n, loading)}</p> }>
            {move || {
                let notice = notice.clone();
                Suspend::new(async move {
                    match view.await {
                        Ok(view) => view! { <CustomerView view notice /> }.into_any(),
                        Err(error) => view! { <ErrorView error /> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

#[component]
fn CustomerView(view: StaffCustomerView, notice: Option<String>) -> impl IntoView {
    let i18n = use_i18n();
    let notice = notice.map(|code| view! { <LinkNotice code /> });
    let customer = view.customer.clone();
    let base = format!("/manage/customers/{}", encoded(&customer.id));
    let new_link = format!("{base}/share");
    let title = customer.name.clone();
    let orders = view.overview.orders.clone();
    // A handful, as on the customer's overview; every order is in the documents' filter.
    let handful = (view.overview.order_count > orders.len()).then(|| {
        let text = t_string!(i18n, staff_orders_handful)
            .replace("%shown%", &orders.len().to_string())
            .replace("%count%", &view.overview.order_count.to_string());
        view! { <p class="muted">{text}</p> }
    });
    let links = view.links.clone();
    view! {
        <Title text=title />
        <p class="breadcrumb">
            <A href="/manage">{t!(i18n, staff_title)}</A>
        </p>
        {notice}
        <section class="customer-head" aria-labelledby="customer-title">
            <h1 id="customer-title">{customer.name.clone()}</h1>
            <p class="muted">
                {customer.email.clone()}
                {customer.company.clone().map(|c| format!(" · {c}"))}
                " · "
                {customer.id.clone()}
            </p>
            {(!customer.active)
                .then(|| view! { <p class="notice" role="status">{t!(i18n, customer_inactive_notice)}</p> })}
            <p>
                <A href=new_link.clone() attr:class="button">
                    {t!(i18n, link_create)}
                </A>
            </p>
        </section>
        <section aria-labelledby="orders-title">
            <h2 id="orders-title">{t!(i18n, nav_orders)}</h2>
            {handful}
            {if orders.is_empty() {
                view! { <p class="panel empty">{t!(i18n, overview_no_orders)}</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table>
                            <thead>
                                <tr>
                                    <th scope="col">{t!(i18n, col_order)}</th>
                                    <th scope="col">{t!(i18n, col_status)}</th>
                                    <th scope="col">{t!(i18n, col_date)}</th>
                                    <th scope="col" class="num">{t!(i18n, col_total)}</th>
                                    <th scope="col">{t!(i18n, col_actions)}</th>
                                </tr>
                            </thead>
                            <tbody>
                                {orders
                                    .into_iter()
                                    .map(|order| {
                                        let filter = query_href(&base, &[("order", order.id.clone())]);
                                        let link_for_order = query_href(&new_link, &[("order", order.id.clone())]);
                                        let id = order.id.clone();
                                        view! {
                                            <tr>
                                                <td>
                                                    <A href=filter>{order.id.clone()}</A>
                                                </td>
                                                <td>{status_label(i18n, &order.status)}</td>
                                                <td>{date_text(i18n, order.created.as_deref())}</td>
                                                <td class="num">{money_text(i18n, &order.total)}</td>
                                                <td class="actions">
                                                    <A href=link_for_order>
                                                        {t!(i18n, link_for_order)}
                                                        <span class="visually-hidden">" "{id}</span>
                                                    </A>
                                                </td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                    .into_any()
            }}
        </section>
        <section aria-labelledby="documents-title">
            <DocumentsView list=view.documents.clone() staff_base=Some(base.clone()) />
        </section>
        <section aria-labelledby="links-title">
            <h2 id="links-title">{t!(i18n, customer_links)}</h2>
            {if links.is_empty() {
                view! { <p class="panel empty">{t!(i18n, links_none)}</p> }.into_any()
            } else {
                view! { <LinkTable links revoke_back=Some(base.clone()) /> }.into_any()
            }}
        </section>
    }
}
