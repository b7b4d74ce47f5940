use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::base::error::AppError;
use crate::base::who::SignedIn;
use crate::documents::api::get_invoices;
use crate::documents::model::{InvoiceHistory, InvoiceMonth, PaymentRow};
use crate::documents::table::{date_text, money_text, status_label, DocumentTable, StaleNotice};
use crate::documents::zip_button::ZipButton;
use crate::i18n::*;
use crate::ui::error_view::ErrorView;
use crate::ui::format;
use crate::ui::pager::{query_href, Pager};

/// `/invoices?year=&page=`: a year's invoices by month, newest first, each month with its
/// invoice documents, its payments and what they add up to; a quarter per page. A malformed
/// year or page is ignored (the newest year, the first page).
#[component]
pub fn InvoicesPage() -> impl IntoView {
    let i18n = use_i18n();
    // Without a session there is nothing to load: ask to sign in, without a request.
    if expect_context::<SignedIn>().0.is_none() {
        return view! { <ErrorView error=AppError::Unauthorized /> }.into_any();
    }
    let query = use_query_map();
    let key = move || {
        let query = query.read();
        let year = query.get("year").and_then(|y| y.trim().parse::<i32>().ok());
        let page = query.get("page").and_then(|p| p.trim().parse::<u32>().ok());
        (year, page)
    };
    let history = Resource::new(key, |(year, page)| get_invoices(year, page));
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
    let summary = t_string!(i18n, invoices_year_summary)
        .replace("%invoices%", &history.invoice_count.to_string())
        .replace("%payments%", &history.payment_count.to_string())
        .replace("%year%", &selected.to_string());
    let page_href = move |page: u32| {
        query_href(
            "/invoices",
            &[("year", selected.to_string()), ("page", page.to_string())],
        )
    };
    let prev = (history.page > 1).then(|| page_href(history.page - 1));
    let next = (history.page < history.page_count).then(|| page_href(history.page + 1));
    view! {
        <h1>{t!(i18n, invoices_title)}</h1>
        <StaleNotice age=history.age.clone() />
        <YearNav years=history.years.clone() selected />
        <p class="summary">{summary}</p>
        <div class="exports">
            {(history.invoice_count > 0)
                .then(|| {
                    let filters = vec![("type", "invoice".to_owned()), ("year", selected.to_string())];
                    let label = t_string!(i18n, invoices_download_zip).to_owned();
                    view! { <ZipButton filters count=history.invoice_count label /> }
                })}
            // A file, not a page of the app: the router must leave it to the browser.
            {(history.payment_count > 0)
                .then(|| {
                    view! {
                        <a href=format!("/invoices.csv?year={selected}") rel="external" download="">
                            {t!(i18n, invoices_export_csv)}
                        </a>
                    }
                })}
        </div>
        {history
            .months
            .into_iter()
            .map(|month| view! { <MonthSection month /> })
            .collect_view()}
        {(history.page_count > 1)
            .then(|| {
                view! { <Pager prev next page=history.page pages=Some(history.page_count) /> }
            })}
    }
    .into_any()
}

/// The years there are, the shown one marked. Plain links with an explicit `aria-current`:
/// the router's active-link check ignores the query, so it would mark every year current.
#[component]
fn YearNav(years: Vec<i32>, selected: i32) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <nav class="years" aria-label=move || t_string!(i18n, invoices_year_label)>
            <ul>
                {years
                    .into_iter()
                    .map(|y| {
                        view! {
                            <li>
                                <a
                                    href=format!("/invoices?year={y}")
                                    aria-current=(y == selected).then_some("page")
                                >
                                    {y}
                                </a>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </nav>
    }
}

/// One month: a heading with its counts and totals, its invoice documents, its payments.
#[component]
fn MonthSection(month: InvoiceMonth) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let id = format!("month-{}", month.month);
    let counts = t_string!(i18n, invoices_month_summary)
        .replace("%invoices%", &month.invoices.len().to_string())
        .replace("%payments%", &month.payments.len().to_string());
    let totals = month
        .totals
        .iter()
        .map(|total| {
            format!(
                "{} {}",
                money_text(i18n, &total.amount),
                status_label(i18n, &total.status).to_lowercase()
            )
        })
        .collect::<Vec<_>>()
        .join(" · ");
    view! {
        <section class="month" aria-labelledby=id.clone()>
            <h2 id=id.clone()>{format::month(&month.month, locale)}</h2>
            <p class="month-summary">
                {counts}
                {(!totals.is_empty()).then(|| view! { <br /><span class="totals">{totals}</span> })}
            </p>
            {if month.invoices.is_empty() {
                view! { <p class="muted">{t!(i18n, invoices_month_none)}</p> }.into_any()
            } else {
                view! { <DocumentTable rows=month.invoices show_order=true /> }.into_any()
            }}
            {(!month.payments.is_empty()).then(|| view! { <PaymentTable payments=month.payments /> })}
        </section>
    }
}

#[component]
fn PaymentTable(payments: Vec<PaymentRow>) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let (due, paid) = (t_string!(i18n, col_due), t_string!(i18n, col_paid));
    view! {
        <div class="table-wrap">
            <table class="payments">
                <caption>{t!(i18n, payments_title)}</caption>
                <thead>
                    <tr>
                        <th scope="col">{t!(i18n, col_period)}</th>
                        <th scope="col" class="num">{t!(i18n, col_amount)}</th>
                        <th scope="col">{t!(i18n, col_status)}</th>
                        <th scope="col">{t!(i18n, col_due)}</th>
                        <th scope="col">{t!(i18n, col_paid)}</th>
                        <th scope="col">{t!(i18n, col_invoice)}</th>
                    </tr>
                </thead>
                <tbody>
                    {payments
                        .into_iter()
                        .map(|p| {
                            view! {
                                <tr>
                                    <td>{p.billing_period.as_deref().map(|b| format::period(b, locale))}</td>
                                    <td class="num">{p.amount.as_ref().map(|m| money_text(i18n, m))}</td>
                                    <td>{status_label(i18n, &p.status)}</td>
                                    // Labelled for phones, where a row shows without its head.
                                    <td data-label=due>{date_text(i18n, p.due_date.as_deref())}</td>
                                    <td data-label=paid>{date_text(i18n, p.paid_date.as_deref())}</td>
                                    <td>
                                        {p.invoice.map(|invoice| {
                                            view! {
                                                <a href=format!("/files/{}/view", invoice.id) rel="external">
                                                    {invoice.name}
                                                </a>
                                            }
                                        })}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
