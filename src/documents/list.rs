use std::sync::Arc;

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_location;

use crate::base::error::AppError;
use crate::base::who::{DocType, SignedIn};
use crate::documents::api::list_documents;
use crate::documents::model::{DocumentList, Sort, ARCHIVES_PAGE, STAFF_ARCHIVES_PAGE};
use crate::documents::table::{
    doc_type_label, document_table, ignored_notice, RowText, StaleNotice,
};
use crate::documents::zip_button::ZipButton;
use crate::i18n::*;
use crate::ui::error_view::ErrorView;
use crate::ui::pager::{query_href, Pager};
use crate::ui::view_text::{cached, TextCache};

/// `/documents?type=&order=&year=&q=&sort=&page=`: every document the customer may see. The
/// filters are a GET form, so the state lives in the URL; with JavaScript the list updates
/// without a full reload and the URL follows.
#[component]
pub fn DocumentsPage() -> impl IntoView {
    let i18n = use_i18n();
    // Without a session there is nothing to load: ask to sign in, without a request.
    if expect_context::<SignedIn>().0.is_none() {
        return view! { <ErrorView error=AppError::Unauthorized /> }.into_any();
    }
    let location = use_location();
    // Shared, and its text kept, because the view is built more than once while the server
    // renders the page (see `view_text`); each build takes the value out of the resource.
    let list = Resource::new(
        move || location.search.get(),
        |query| async move { list_documents(query).await.map(Arc::new) },
    );
    let text = TextCache::default();
    view! {
        <Title text=t_string!(i18n, documents_title).to_string() />
        <Transition fallback=move || {
            view! {
                <h1>{t!(i18n, documents_title)}</h1>
                <p class="loading">{t!(i18n, loading)}</p>
            }
        }>
            // `Either` rather than `into_any()`, which would copy every static text and
            // attribute of the page into owned strings, on each of those builds.
            {move || {
                let text = text.clone();
                Suspend::new(async move {
                    match list.await {
                        Ok(list) => Either::Left(view! { <DocumentsView list text /> }),
                        Err(error) => Either::Right(view! { <ErrorView error /> }),
                    }
                })
            }}
        </Transition>
    }
    .into_any()
}

/// The form the rows' checkboxes belong to.
const PICK_FORM: &str = "pick-files";

/// The text of a [`DocumentsView`] that takes formatting: the rows, and the orders to filter by.
pub struct DocumentsText {
    rows: Vec<RowText>,
    orders: Vec<Arc<str>>,
}

/// The filters, the list and the pager. Also the documents part of a staff member's view of a
/// customer, where `staff_base` is that page's path. `text` keeps the formatted text between
/// builds of the view.
#[component]
pub fn DocumentsView(
    #[prop(into)] list: Arc<DocumentList>,
    #[prop(default = None)] staff_base: Option<String>,
    #[prop(optional)] text: Option<TextCache<DocumentList, DocumentsText>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let text = cached(text.as_ref(), &list, i18n.get_locale_untracked(), || {
        DocumentsText {
            rows: RowText::of(i18n, &list.rows, true, staff_base.as_deref()),
            orders: list
                .facets
                .orders
                .iter()
                .map(|o| o.as_str().into())
                .collect(),
        }
    });
    let query = list.query.clone();
    let path = staff_base
        .clone()
        .unwrap_or_else(|| "/documents".to_owned());
    let heading = if staff_base.is_some() {
        Either::Left(view! { <h2 id="documents-title">{t!(i18n, documents_title)}</h2> })
    } else {
        Either::Right(view! { <h1>{t!(i18n, documents_title)}</h1> })
    };
    let sort_label = move |sort: Sort| match sort {
        Sort::DateDesc => t_string!(i18n, sort_date_desc),
        Sort::DateAsc => t_string!(i18n, sort_date_asc),
        Sort::NameAsc => t_string!(i18n, sort_name_asc),
        Sort::NameDesc => t_string!(i18n, sort_name_desc),
        Sort::SizeDesc => t_string!(i18n, sort_size_desc),
        Sort::SizeAsc => t_string!(i18n, sort_size_asc),
    };
    let notices = ignored_notice(i18n, &list.notices);
    let page = list.page;
    let pages = list.page_count.max(1);
    let prev = (page > 1).then(|| query_href(&path, &query.with_page(page - 1).to_query_pairs()));
    let next =
        (page < pages).then(|| query_href(&path, &query.with_page(page + 1).to_query_pairs()));

    // Built here, so that the form's children borrow nothing from `list`.
    let type_options = DocType::ALL
        .iter()
        .map(|&t| {
            let count = list
                .facets
                .types
                .iter()
                .find(|c| c.doc_type == t)
                .map(|c| c.count)
                .unwrap_or(0);
            view! {
                <option value=t.as_str() selected=query.doc_type == Some(t)>
                    {format!("{} ({count})", doc_type_label(i18n, t))}
                </option>
            }
        })
        .collect_view();
    let order_options = text
        .orders
        .iter()
        .map(|o| {
            view! {
                <option value=o.clone() selected=query.order.as_deref() == Some(&**o)>
                    {o.clone()}
                </option>
            }
        })
        .collect_view();
    let year_options = list
        .facets
        .years
        .iter()
        .map(|&y| {
            view! {
                <option value=y.to_string() selected=query.year == Some(y)>
                    {y}
                </option>
            }
        })
        .collect_view();
    let (total, age) = (list.total, list.age.clone());
    // The documents go along: the picked ones, all that match, or the list. On a staff
    // screen the same exports live under the screen's path, and payments go too.
    let table = if list.rows.is_empty() {
        Either::Left(view! { <p class="panel empty">{t!(i18n, documents_none)}</p> })
    } else {
        Either::Right(document_table(i18n, &text.rows, true, Some(PICK_FORM)))
    };
    let exports = (total > 0).then(|| {
        let base = staff_base.clone().unwrap_or_default();
        let filters = query.with_page(1).to_query_pairs();
        let all = t_string!(i18n, documents_download_all).replace("%count%", &total.to_string());
        let csv = query_href(&format!("{base}/documents.csv"), &filters);
        let archives = if staff_base.is_some() {
            STAFF_ARCHIVES_PAGE
        } else {
            ARCHIVES_PAGE
        };
        // A staff member takes the customer's payments too: of the year in view, or else of
        // the newest year that has any (the server knows which).
        let payments = staff_base.as_ref().map(|_| {
            let (href, label) = match query.year {
                Some(year) => (
                    format!("{base}/invoices.csv?year={year}"),
                    t_string!(i18n, staff_export_payments).replace("%year%", &year.to_string()),
                ),
                None => (
                    format!("{base}/invoices.csv"),
                    t_string!(i18n, staff_export_payments_latest).to_owned(),
                ),
            };
            view! {
                <a href=href rel="external" download="">
                    {label}
                </a>
            }
        });
        view! {
            <div class="exports">
                // The rows' checkboxes belong to this form (their `form` attribute).
                <form id=PICK_FORM method="post" action=format!("{base}/documents.zip")>
                    <button type="submit" class="button secondary">
                        {t!(i18n, documents_download_selected)}
                    </button>
                </form>
                <ZipButton filters count=total label=all base />
                // A file, not a page of the app: the router must leave it to the browser.
                <a href=csv rel="external" download="">
                    {t!(i18n, documents_export_csv)}
                </a>
                {payments}
                <a href=archives>{t!(i18n, documents_archives)}</a>
            </div>
        }
    });

    view! {
        {heading}
        <StaleNotice age />
        {notices}
        <Form method="GET" action=path.clone() attr:class="filters">
            <fieldset>
                <legend class="visually-hidden">{t!(i18n, filter_legend)}</legend>
                <div class="field">
                    <label for="f-type">{t!(i18n, filter_type)}</label>
                    <select id="f-type" name="type">
                        <option value="">{t!(i18n, filter_all)}</option>
                        {type_options}
                    </select>
                </div>
                <div class="field">
                    <label for="f-order">{t!(i18n, filter_order)}</label>
                    <select id="f-order" name="order">
                        <option value="">{t!(i18n, filter_all)}</option>
                        {order_options}
                    </select>
                </div>
                <div class="field">
                    <label for="f-year">{t!(i18n, filter_year)}</label>
                    <select id="f-year" name="year">
                        <option value="">{t!(i18n, filter_all)}</option>
                        {year_options}
                    </select>
                </div>
                <div class="field grow">
                    <label for="f-q">{t!(i18n, filter_search)}</label>
                    <input id="f-q" name="q" type="search" maxlength="100" value=query.q.clone().unwrap_or_default() />
                </div>
                <div class="field">
                    <label for="f-sort">{t!(i18n, filter_sort)}</label>
                    <select id="f-sort" name="sort">
                        {Sort::ALL
                            .iter()
                            .map(|&s| {
                                view! {
                                    <option value=s.as_str() selected=query.sort == s>
                                        {sort_label(s)}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </div>
                <div class="field actions">
                    <button type="submit" class="button">{t!(i18n, filter_apply)}</button>
                    <a href=path.clone()>{t!(i18n, filter_reset)}</a>
                </div>
            </fieldset>
        </Form>
        <p class="result-count" role="status">
            {total}" "{t!(i18n, documents_found)}
        </p>
        {table}
        {exports}
        <Pager prev next page pages=Some(pages) />
    }
}
