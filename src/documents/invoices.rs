use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::base::error::AppError;
use crate::base::who::SignedIn;
use crate::documents::api::get_invoices;
use crate::documents::model::InvoiceHistory;
use crate::documents::table::{date_text, money_text, status_label, DocumentTable, StaleNotice};
use crate::i18n::*;
use crate::ui::error_view::ErrorView;
use crate::ui::format;

/// `/invoices?year=`: a year's invoice documents, newest first, and the billing payments
/// behind them. A malformed year is ignored (the newest year is shown).
#[component]
pub fn InvoicesPage() -> impl IntoView {
    let i18n = use_i18n();
    // Without a session there is nothing to load: ask to sign in, without a request.
    if expect_context::<SignedIn>().0.is_none() {
        return view! { <ErrorView error=AppError::Unauthorized /> }.into_any();
    }
    let query = use_query_map();
    let year = move || {
        query
            .read()
            .get("year")
            .and_then(|y| y.trim().parse::<i32>().ok())
    };
    let history = Resource::new(year, get_invoices);
    view! {
        <Title text=t_string!(i18n, invoices_title).to_string() />
        <Transition fallback=move || {
            view! {
                <h1>{t!(i18n, invoices_title)}</h1>
                <p class="loading">{t!(i18n, loading)}</p>
            }
        }>
            {move || Suspend::new(async move {
                match history.await {
                    Ok(history) => view! { <InvoicesView history /> }.into_any(),
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
fn InvoicesView(history: InvoiceHistory) -> impl IntoView {
    let i18n = use_i18n();
    let Some(selected) = history.year else {
        return view! {
            <h1>{t!(i18n, invoices_title)}</h1>
            <p class="panel empty">{t!(i18n, invoices_empty)}</p>
        }
        .into_any();
    };
    let locale = i18n.get_locale_untracked();
    view! {
        <h1>{t!(i18n, invoices_title)}</h1>
        <StaleNotice age=history.age.clone() />
        <nav class="years" aria-label=move || t_string!(i18n, invoices_year_label)>
            <ul>
                {history
                    .years
                    .iter()
                    .map(|&y| {
                        view! {
                            <li>
                                <A
                                    href=format!("/invoices?year={y}")
                                    attr:aria-current=(y == selected).then_some("page")
                                >
                                    {y}
                                </A>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </nav>
        <section aria-labelledby="invoice-docs-title">
            <h2 id="invoice-docs-title">{t!(i18n, invoices_documents)}" "{selected}</h2>
            {if history.invoices.is_empty() {
                view! { <p>{t!(i18n, invoices_none)}</p> }.into_any()
            } else {
                view! { <DocumentTable rows=history.invoices.clone() show_order=true /> }.into_any()
            }}
        </section>
        <section aria-labelledby="payments-title">
            <h2 id="payments-title">{t!(i18n, payments_title)}" "{selected}</h2>
            {if history.payments.is_empty() {
                view! { <p>{t!(i18n, payments_none)}</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table>
                            <thead>
                                <tr>
                                    <th scope="col">{t!(i18n, col_period)}</th>
                                    <th scope="col" class="num">{t!(i18n, col_amount)}</th>
                                    <th scope="col">{t!(i18n, col_status)}</th>
                                    <th scope="col">{t!(i18n, col_due)}</th>
                                </tr>
                            </thead>
                            <tbody>
                                {history
                                    .payments
                                    .iter()
                                    .map(|p| {
                                        view! {
                                            <tr>
                                                <td>{p.billing_period.as_deref().map(|b| format::period(b, locale))}</td>
                                                <td class="num">{p.amount.as_ref().map(|m| money_text(i18n, m))}</td>
                                                <td>{status_label(i18n, &p.status)}</td>
                                                <td>{date_text(i18n, p.due_date.as_deref())}</td>
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
    }
    .into_any()
}
