use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::format;
use crate::i18n::*;
use crate::model::{DocType, DocumentRow, Money};
use leptos_i18n::I18nContext;

/// The translated name of a document type.
pub fn doc_type_label(i18n: I18nContext<Locale>, doc_type: DocType) -> String {
    match doc_type {
        DocType::Contract => t_string!(i18n, doc_type_contract),
        DocType::Invoice => t_string!(i18n, doc_type_invoice),
        DocType::Document => t_string!(i18n, doc_type_document),
        DocType::Attachment => t_string!(i18n, doc_type_attachment),
        DocType::Other => t_string!(i18n, doc_type_other),
    }
    .to_string()
}

/// The translated name of an order or payment status; unknown ones as they came.
pub fn status_label(i18n: I18nContext<Locale>, status: &str) -> String {
    match status {
        "pending" => t_string!(i18n, order_status_pending).to_string(),
        "confirmed" => t_string!(i18n, order_status_confirmed).to_string(),
        "partial" => t_string!(i18n, order_status_partial).to_string(),
        "fulfilled" => t_string!(i18n, order_status_fulfilled).to_string(),
        "cancelled" => t_string!(i18n, order_status_cancelled).to_string(),
        "processing" => t_string!(i18n, payment_status_processing).to_string(),
        "paid" => t_string!(i18n, payment_status_paid).to_string(),
        "failed" => t_string!(i18n, payment_status_failed).to_string(),
        other => other.replace('_', " "),
    }
}

pub fn money_text(i18n: I18nContext<Locale>, money: &Money) -> String {
    format::money(money, i18n.get_locale_untracked())
}

pub fn date_text(i18n: I18nContext<Locale>, iso: Option<&str>) -> String {
    iso.map(|d| format::date(d, i18n.get_locale_untracked()))
        .unwrap_or_default()
}

/// Documents as a table: name, type, order, date, size, and the view and download actions.
/// The file routes check ownership again on every click. On a staff screen, `staff_base` is
/// the customer's page (`/manage/customers/{id}`): files open through the staff file routes
/// and orders filter that page.
#[component]
pub fn DocumentTable(
    rows: Vec<DocumentRow>,
    #[prop(optional)] show_order: bool,
    #[prop(default = None)] staff_base: Option<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    view! {
        <div class="table-wrap">
            <table class="documents">
                <thead>
                    <tr>
                        <th scope="col">{t!(i18n, col_name)}</th>
                        <th scope="col">{t!(i18n, col_type)}</th>
                        {show_order.then(|| view! { <th scope="col">{t!(i18n, col_order)}</th> })}
                        <th scope="col">{t!(i18n, col_date)}</th>
                        <th scope="col" class="num">{t!(i18n, col_size)}</th>
                        <th scope="col">{t!(i18n, col_actions)}</th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|row| {
                            let (files, order_href) = match &staff_base {
                                Some(base) => (
                                    format!("{base}/files"),
                                    query_href(base, &[("order", row.order_id.clone())]),
                                ),
                                None => ("/files".to_owned(), format!("/orders/{}", row.order_id)),
                            };
                            let view_href = format!("{files}/{}/view", row.id);
                            let download_href = format!("{files}/{}/download", row.id);
                            let name = row.name.clone();
                            view! {
                                <tr>
                                    <td class="name">{row.name.clone()}</td>
                                    <td>{doc_type_label(i18n, row.doc_type)}</td>
                                    {show_order
                                        .then(|| {
                                            view! {
                                                <td>
                                                    <A href=order_href>{row.order_id.clone()}</A>
                                                </td>
                                            }
                                        })}
                                    <td>
                                        {row.created.as_deref().map(|d| format::date(d, locale)).unwrap_or_default()}
                                    </td>
                                    <td class="num">{row.size.map(|s| format::size(s, locale)).unwrap_or_default()}</td>
                                    <td class="actions">
                                        // Plain links: the file routes answer with a redirect,
                                        // which the client-side router must not intercept.
                                        <a href=view_href rel="external">
                                            {t!(i18n, action_view)}
                                            <span class="visually-hidden">" "{name.clone()}</span>
                                        </a>
                                        <a href=download_href rel="external" download="">
                                            {t!(i18n, action_download)}
                                            <span class="visually-hidden">" "{name}</span>
                                        </a>
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

/// Says that the page shows the last good data because FlexPortal failed just now.
#[component]
pub fn StaleNotice(stale: bool) -> impl IntoView {
    let i18n = use_i18n();
    stale.then(|| {
        view! {
            <p class="notice-stale" role="status">
                {t!(i18n, stale_notice)}
            </p>
        }
    })
}

/// `path?k=v&…` with the values percent-encoded.
pub fn query_href(path: &str, pairs: &[(&'static str, String)]) -> String {
    if pairs.is_empty() {
        return path.to_owned();
    }
    let encode = |value: &str| {
        let mut out = String::new();
        for byte in value.bytes() {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
                out.push(byte as char);
            } else {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
        out
    };
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    format!("{path}?{}", query.join("&"))
}
