use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Form, hooks::use_location};

use crate::api::documents::list_documents;
use crate::app::SignedIn;
use crate::components::document_table::{doc_type_label, query_href, DocumentTable, StaleNotice};
use crate::components::error_view::ErrorView;
use crate::components::pager::Pager;
use crate::error::AppError;
use crate::i18n::*;
use crate::model::{DocType, DocumentList, Sort};

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
    let list = Resource::new(move || location.search.get(), list_documents);
    view! {
        <Title text=t_string!(i18n, documents_title).to_string() />
        <Transition fallback=move || {
            view! {
                <h1>{t!(i18n, documents_title)}</h1>
                <p class="loading">{t!(i18n, loading)}</p>
            }
        }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(list) => view! { <DocumentsView list /> }.into_any(),
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

/// The filters, the list and the pager. Also the documents part of a staff member's view of a
/// customer, where `staff_base` is that page's path.
#[component]
pub fn DocumentsView(
    list: DocumentList,
    #[prop(default = None)] staff_base: Option<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    let query = list.query.clone();
    let path = staff_base
        .clone()
        .unwrap_or_else(|| "/documents".to_owned());
    let heading = if staff_base.is_some() {
        view! { <h2 id="documents-title">{t!(i18n, documents_title)}</h2> }.into_any()
    } else {
        view! { <h1>{t!(i18n, documents_title)}</h1> }.into_any()
    };
    let sort_label = move |sort: Sort| match sort {
        Sort::DateDesc => t_string!(i18n, sort_date_desc),
        Sort::DateAsc => t_string!(i18n, sort_date_asc),
        Sort::NameAsc => t_string!(i18n, sort_name_asc),
        Sort::NameDesc => t_string!(i18n, sort_name_desc),
        Sort::SizeDesc => t_string!(i18n, sort_size_desc),
        Sort::SizeAsc => t_string!(i18n, sort_size_asc),
    };
    let notices = (!list.notices.is_empty()).then(|| {
        let text = list
            .notices
            .iter()
            .map(|n| format!("{}={}", n.param, n.value))
            .collect::<Vec<_>>()
            .join(", ");
        view! {
            <p class="notice" role="status">
                {t!(i18n, notice_ignored)}" "{text}
            </p>
        }
    });
    let page = list.page;
    let pages = list.page_count.max(1);
    let prev = (page > 1).then(|| query_href(&path, &query.with_page(page - 1).to_query_pairs()));
    let next =
        (page < pages).then(|| query_href(&path, &query.with_page(page + 1).to_query_pairs()));

    view! {
        {heading}
        <StaleNotice stale=list.stale />
        {notices}
        <Form method="GET" action=path.clone() attr:class="filters">
            <fieldset>
                <legend class="visually-hidden">{t!(i18n, filter_legend)}</legend>
                <div class="field">
                    <label for="f-type">{t!(i18n, filter_type)}</label>
                    <select id="f-type" name="type">
                        <option value="">{t!(i18n, filter_all)}</option>
                        {DocType::ALL
                            .iter()
                            .map(|&t| {
                                let count = list.facets.types.iter().find(|c| c.doc_type == t).map(|c| c.count).unwrap_or(0);
                                view! {
                                    <option value=t.as_str() selected=query.doc_type == Some(t)>
                                        {format!("{} ({count})", doc_type_label(i18n, t))}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="f-order">{t!(i18n, filter_order)}</label>
                    <select id="f-order" name="order">
                        <option value="">{t!(i18n, filter_all)}</option>
                        {list
                            .facets
                            .orders
                            .iter()
                            .map(|o| {
                                view! {
                                    <option value=o.clone() selected=query.order.as_deref() == Some(o.as_str())>
                                        {o.clone()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="f-year">{t!(i18n, filter_year)}</label>
                    <select id="f-year" name="year">
                        <option value="">{t!(i18n, filter_all)}</option>
                        {list
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
                            .collect_view()}
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
            {list.total}" "{t!(i18n, documents_found)}
        </p>
        {if list.rows.is_empty() {
            view! { <p class="panel empty">{t!(i18n, documents_none)}</p> }.into_any()
        } else {
            view! { <DocumentTable rows=list.rows.clone() show_order=true staff_base=staff_base.clone() /> }.into_any()
        }}
        <Pager prev next page pages=Some(pages) />
    }
}
