use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::base::error::AppError;
use crate::base::who::SignedIn;
use crate::documents::api::get_order;
use crate::documents::model::OrderDetail;
use crate::documents::table::{
    date_text, doc_type_label, money_text, status_label, DocumentTable, StaleNotice,
};
use crate::i18n::*;
use crate::ui::error_view::ErrorView;

/// `/orders/{id}`: one order with its items, totals and documents grouped by type. Another
/// customer's order answers exactly like a missing one.
#[component]
pub fn OrderPage() -> impl IntoView {
    let i18n = use_i18n();
    // Without a session there is nothing to load: ask to sign in, without a request.
    if expect_context::<SignedIn>().0.is_none() {
        return view! { <ErrorView error=AppError::Unauthorized /> }.into_any();
    }
    let params = use_params_map();
    let order_id = move || params.read().get("id").unwrap_or_default();
    let order = Resource::new(order_id, get_order);
    view! {
        <Suspense fallback=move || view! { <p class="loading">{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match order.await {
                    Ok(order) => view! { <OrderView order /> }.into_any(),
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

#[component]
fn OrderView(order: OrderDetail) -> impl IntoView {
    let i18n = use_i18n();
    let title = format!("{} {}", t_string!(i18n, order_title), order.id);
    view! {
        <Title text=title.clone() />
        <h1>{title}</h1>
        <StaleNotice age=order.age.clone() />
        <section class="panel" aria-labelledby="details-title">
            <h2 id="details-title">{t!(i18n, order_details)}</h2>
            <dl class="facts">
                <dt>{t!(i18n, col_status)}</dt>
                <dd>{status_label(i18n, &order.status)}</dd>
                <dt>{t!(i18n, order_created)}</dt>
                <dd>{date_text(i18n, order.created.as_deref())}</dd>
                {order
                    .shipped
                    .clone()
                    .map(|d| {
                        view! {
                            <dt>{t!(i18n, order_shipped)}</dt>
                            <dd>{date_text(i18n, Some(&d))}</dd>
                        }
                    })}
                {order
                    .tracking_number
                    .clone()
                    .map(|n| {
                        view! {
                            <dt>{t!(i18n, order_tracking)}</dt>
                            <dd>{n}</dd>
                        }
                    })}
            </dl>
        </section>
        <section aria-labelledby="items-title">
            <h2 id="items-title">{t!(i18n, order_items)}</h2>
            <div class="table-wrap">
                <table>
                    <thead>
                        <tr>
                            <th scope="col">{t!(i18n, col_product)}</th>
                            <th scope="col" class="num">{t!(i18n, col_quantity)}</th>
                            <th scope="col" class="num">{t!(i18n, col_monthly)}</th>
                            <th scope="col" class="num">{t!(i18n, col_contract)}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {order
                            .items
                            .iter()
                            .map(|item| {
                                view! {
                                    <tr>
                                        <td>{item.product.clone()}</td>
                                        // Labelled for phones, where a row shows without its head.
                                        <td class="num" data-label=t_string!(i18n, col_quantity)>{item.quantity}</td>
                                        <td class="num" data-label=t_string!(i18n, col_monthly)>
                                            {money_text(i18n, &item.monthly_unit_price)}
                                        </td>
                                        <td class="num" data-label=t_string!(i18n, col_contract)>
                                            {item.contract_months.map(|m| format!("{m} {}", t_string!(i18n, months)))}
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                    <tfoot>
                        <tr>
                            <th scope="row" colspan="3">{t!(i18n, subtotal)}</th>
                            <td class="num">{money_text(i18n, &order.subtotal)}</td>
                        </tr>
                        <tr>
                            <th scope="row" colspan="3">{t!(i18n, tax)}</th>
                            <td class="num">{money_text(i18n, &order.tax)}</td>
                        </tr>
                        <tr>
                            <th scope="row" colspan="3">{t!(i18n, total)}</th>
                            <td class="num strong">{money_text(i18n, &order.total)}</td>
                        </tr>
                    </tfoot>
                </table>
            </div>
        </section>
        <section aria-labelledby="docs-title">
            <h2 id="docs-title">{t!(i18n, order_documents)}</h2>
            {if order.documents.is_empty() {
                view! { <p>{t!(i18n, order_no_documents)}</p> }.into_any()
            } else {
                order
                    .documents
                    .iter()
                    .map(|group| {
                        let id = format!("group-{}", group.doc_type.as_str());
                        let labelled_by = id.clone();
                        view! {
                            <section class="doc-group" aria-labelledby=labelled_by>
                                <h3 id=id>{doc_type_label(i18n, group.doc_type)}" ("{group.documents.len()}")"</h3>
                                <DocumentTable rows=group.documents.clone() />
                            </section>
                        }
                    })
                    .collect_view()
                    .into_any()
            }}
        </section>
    }
}
