use std::borrow::Cow;
use std::sync::Arc;

use leptos::prelude::*;
use leptos_i18n::I18nContext;

use crate::base::who::DocType;
use crate::documents::model::{DataAge, DocumentRow, Money, QueryNotice};
use crate::i18n::*;
use crate::ui::format;
use crate::ui::pager::query_href;

/// The translated name of a document type.
pub fn doc_type_label(i18n: I18nContext<Locale>, doc_type: DocType) -> &'static str {
    match doc_type {
        DocType::Contract => t_string!(i18n, doc_type_contract),
        DocType::Invoice => t_string!(i18n, doc_type_invoice),
        DocType::Document => t_string!(i18n, doc_type_document),
        DocType::Attachment => t_string!(i18n, doc_type_attachment),
        DocType::Other => t_string!(i18n, doc_type_other),
    }
}

/// The translated name of an order or payment status; unknown ones as they came.
pub fn status_label(i18n: I18nContext<Locale>, status: &str) -> Cow<'static, str> {
    Cow::Borrowed(match status {
        "pending" => t_string!(i18n, order_status_pending),
        "confirmed" => t_string!(i18n, order_status_confirmed),
        "partial" => t_string!(i18n, order_status_partial),
        "fulfilled" => t_string!(i18n, order_status_fulfilled),
        "cancelled" => t_string!(i18n, order_status_cancelled),
        "processing" => t_string!(i18n, payment_status_processing),
        "paid" => t_string!(i18n, payment_status_paid),
        "failed" => t_string!(i18n, payment_status_failed),
        other => return Cow::Owned(other.replace('_', " ")),
    })
}

pub fn money_text(i18n: I18nContext<Locale>, money: &Money) -> String {
    format::money(&money.amount, &money.currency, i18n.get_locale_untracked())
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
    let rows = RowText::of(i18n, &rows, show_order, staff_base.as_deref());
    document_table(i18n, &rows, show_order, None)
}

/// What one row of a [`DocumentTable`] shows, worked out ahead of building the view, so that
/// a page can make it once and build its view several times (see
/// [`view_text`](crate::ui::view_text)).
#[derive(Clone, Debug)]
pub struct RowText {
    id: Arc<str>,
    name: Arc<str>,
    doc_type: &'static str,
    /// The order's id and where it links to, when the table has an order column.
    order: Option<(Arc<str>, Arc<str>)>,
    date: Arc<str>,
    size: Arc<str>,
    view_href: Arc<str>,
    download_href: Arc<str>,
}

impl RowText {
    /// The rows in the reader's language; `show_order` and `staff_base` as for
    /// [`DocumentTable`].
    pub fn of(
        i18n: I18nContext<Locale>,
        rows: &[DocumentRow],
        show_order: bool,
        staff_base: Option<&str>,
    ) -> Vec<RowText> {
        let locale = i18n.get_locale_untracked();
        let files = staff_base.map_or(Cow::Borrowed("/files"), |base| {
            Cow::Owned(format!("{base}/files"))
        });
        rows.iter()
            .map(|row| RowText {
                id: row.id.as_str().into(),
                name: row.name.as_str().into(),
                doc_type: doc_type_label(i18n, row.doc_type),
                order: show_order.then(|| {
                    let href = match staff_base {
                        Some(base) => query_href(base, &[("order", row.order_id.clone())]),
                        None => format!("/orders/{}", row.order_id),
                    };
                    (row.order_id.as_str().into(), href.into())
                }),
                date: row
                    .created
                    .as_deref()
                    .map(|d| format::date(d, locale))
                    .unwrap_or_default()
                    .into(),
                size: row
                    .size
                    .map(|s| format::size(s, locale))
                    .unwrap_or_default()
                    .into(),
                view_href: format!("{files}/{}/view", row.id).into(),
                download_href: format!("{files}/{}/download", row.id).into(),
            })
            .collect()
    }
}

/// The [`DocumentTable`] of rows whose text is made already. With `pick`, the id of a form
/// elsewhere on the page, each row has a checkbox that adds its file to that form (the
/// `form` attribute: no JavaScript, and no form around the table).
///
/// The order links are plain `<a>`s: the router handles their clicks all the same, and an
/// `<A>` per row (a memo and an active-link check each) would cost more than the rest of the
/// row, for an `aria-current` that an order link in a list never gets.
pub fn document_table(
    i18n: I18nContext<Locale>,
    rows: &[RowText],
    show_order: bool,
    pick: Option<&'static str>,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="documents">
                <thead>
                    <tr>
                        {pick
                            .map(|_| {
                                view! {
                                    <th scope="col" class="pick">
                                        <span class="visually-hidden">{t!(i18n, col_pick)}</span>
                                    </th>
                                }
                            })}
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
                        .iter()
                        .map(|row| {
                            let name = row.name.clone();
                            view! {
                                <tr>
                                    {pick
                                        .map(|form| {
                                            view! {
                                                <td class="pick">
                                                    <label>
                                                        <input
                                                            type="checkbox"
                                                            name="file"
                                                            value=row.id.clone()
                                                            form=form
                                                        />
                                                        <span class="visually-hidden">
                                                            {t!(i18n, action_pick)}" "{name.clone()}
                                                        </span>
                                                    </label>
                                                </td>
                                            }
                                        })}
                                    <td class="name">{name.clone()}</td>
                                    <td>{row.doc_type}</td>
                                    {row
                                        .order
                                        .clone()
                                        .map(|(order_id, href)| {
                                            view! {
                                                <td>
                                                    <a href=href>{order_id}</a>
                                                </td>
                                            }
                                        })}
                                    <td>{row.date.clone()}</td>
                                    <td class="num">{row.size.clone()}</td>
                                    <td class="actions">
                                        // Plain links: the file routes answer with a redirect,
                                        // which the client-side router must not intercept.
                                        <a href=row.view_href.clone() rel="external">
                                            {t!(i18n, action_view)}
                                            <span class="visually-hidden">" "{name.clone()}</span>
                                        </a>
                                        <a href=row.download_href.clone() rel="external" download="">
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

/// Says which parameters of the address were left out, and why nothing else changed.
pub fn ignored_notice(
    i18n: I18nContext<Locale>,
    notices: &[QueryNotice],
) -> Option<impl IntoView + use<>> {
    (!notices.is_empty()).then(|| {
        let text = notices
            .iter()
            .map(|n| format!("{}={}", n.param, n.value))
            .collect::<Vec<_>>()
            .join(", ");
        view! {
            <p class="notice" role="status">
                {t!(i18n, notice_ignored)}" "{text}
            </p>
        }
    })
}

/// Says how current the page's data is, when it is not: the last good data because FlexPortal
/// failed just now, or data past its freshness, with when it was fetched, while a refresh runs.
#[component]
pub fn StaleNotice(age: DataAge) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    if age.stale {
        return Some(
            view! {
                <p class="notice-stale" role="status">
                    {t!(i18n, stale_notice)}
                </p>
            }
            .into_any(),
        );
    }
    let when = format::date_time(age.updated.as_deref()?, locale);
    Some(
        view! {
            <p class="notice-updated" role="status">
                {t!(i18n, updated_notice, when = move || when.clone())}
            </p>
        }
        .into_any(),
    )
}
