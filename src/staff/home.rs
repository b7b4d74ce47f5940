use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Form, A};
use leptos_router::hooks::use_query_map;

use super::parts::StaffOnly;
use crate::i18n::*;
use crate::staff::api::staff_find_customers;
use crate::staff::model::CustomerSearch;
use crate::ui::error_view::ErrorView;

/// `/manage?q=`: find a customer by email, order id or customer id.
#[component]
pub fn StaffHomePage() -> impl IntoView {
    view! {
        <StaffOnly>
            <Lookup />
        </StaffOnly>
    }
}

#[component]
fn Lookup() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let q = move || query.read().get("q").unwrap_or_default();
    let search = Resource::new(q, staff_find_customers);
    view! {
        <Title text=t_string!(i18n, staff_title).to_string() />
        <h1>{t!(i18n, staff_title)}</h1>
        <Form method="GET" action="/manage" attr:class="filters lookup">
            <div class="field grow">
                <label for="lookup-q">{t!(i18n, lookup_label)}</label>
                <input
                    id="lookup-q"
                    name="q"
                    type="search"
                    maxlength="254"
                    value=q
                    aria-describedby="lookup-hint"
                />
                <p id="lookup-hint" class="muted">{t!(i18n, lookup_hint)}</p>
            </div>
            <div class="field actions">
                <button type="submit" class="button">{t!(i18n, lookup_submit)}</button>
            </div>
        </Form>
        <Transition fallback=move || view! { <p class="loading">{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match search.await {
                    Ok(search) => view! { <Results search /> }.into_any(),
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Results(search: CustomerSearch) -> impl IntoView {
    let i18n = use_i18n();
    if search.query.is_empty() {
        return view! {
            <p>
                <A href="/manage/links">{t!(i18n, nav_links)}</A>
                " · "
                <A href="/manage/audit">{t!(i18n, nav_audit)}</A>
            </p>
        }
        .into_any();
    }
    if search.hits.is_empty() {
        return view! {
            <p class="panel empty" role="status">
                {t!(i18n, lookup_none)}
            </p>
        }
        .into_any();
    }
    view! {
        <section aria-labelledby="results-title">
            <h2 id="results-title">{t!(i18n, lookup_results)}</h2>
            <ul class="customer-hits">
                {search
                    .hits
                    .into_iter()
                    .map(|hit| {
                        view! {
                            <li>
                                <A href=format!("/manage/customers/{}", hit.id)>{hit.name.clone()}</A>
                                <span class="muted">
                                    " · "{hit.email.clone()}
                                    {hit.company.clone().map(|c| format!(" · {c}"))}
                                    " · "{hit.id.clone()}
                                </span>
                                {(!hit.active)
                                    .then(|| view! { " " <span class="state state-expired">{t!(i18n, customer_inactive)}</span> })}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
    .into_any()
}
