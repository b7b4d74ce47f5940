use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_location, use_query_map};

use super::parts::{LinkNotice, LinkTable, StaffOnly};
use crate::base::who::LinkState;
use crate::i18n::*;
use crate::links::banner::state_label;
use crate::staff::api::staff_links;
use crate::staff::model::LinkRegister;
use crate::ui::error_view::ErrorView;
use crate::ui::pager::{query_href, Pager};

/// `/manage/links?customer=&state=&page=`: every portal link with its scope, creator, state,
/// opens and last open; revoke from here, extend on the link's page.
#[component]
pub fn StaffLinksPage() -> impl IntoView {
    view! {
        <StaffOnly>
            <Register />
        </StaffOnly>
    }
}

#[component]
fn Register() -> impl IntoView {
    let i18n = use_i18n();
    let location = use_location();
    let register = Resource::new(move || location.search.get(), staff_links);
    // Read outside the Transition: every action that sets it is a full page load.
    let notice = use_query_map().read_untracked().get("notice");
    view! {
        <Title text=t_string!(i18n, links_title).to_string() />
        <h1>{t!(i18n, links_title)}</h1>
        <Transition fallback=move || view! { <p class="loading">{t!(i18n, loading)}</p> }>
            {move || {
                let notice = notice.clone();
                Suspend::new(async move {
                    match register.await {
                        Ok(register) => view! { <RegisterView register notice /> }.into_any(),
                        Err(error) => view! { <ErrorView error /> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

#[component]
fn RegisterView(register: LinkRegister, notice: Option<String>) -> impl IntoView {
    let i18n = use_i18n();
    let query = register.query.clone();
    let notice = notice.map(|code| view! { <LinkNotice code /> });
    let here = query_href("/manage/links", &query.to_query_pairs());
    let page = register.page;
    let pages = register.page_count;
    let at = |page: u32| {
        let mut q = query.clone();
        q.page = page;
        query_href("/manage/links", &q.to_query_pairs())
    };
    let prev = (page > 1).then(|| at(page - 1));
    let next = (page < pages).then(|| at(page + 1));
    view! {
        {notice}
        <Form method="GET" action="/manage/links" attr:class="filters">
            <fieldset>
                <legend class="visually-hidden">{t!(i18n, filter_legend)}</legend>
                <div class="field">
                    <label for="l-customer">{t!(i18n, filter_customer_id)}</label>
                    <input id="l-customer" name="customer" type="text" maxlength="100" value=query.customer.clone().unwrap_or_default() />
                </div>
                <div class="field">
                    <label for="l-state">{t!(i18n, col_state)}</label>
                    <select id="l-state" name="state">
                        <option value="">{t!(i18n, filter_all)}</option>
                        {LinkState::ALL
                            .iter()
                            .map(|&s| {
                                view! {
                                    <option value=s.as_str() selected=query.state == Some(s)>
                                        {state_label(i18n, s)}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </div>
                <div class="field actions">
                    <button type="submit" class="button">{t!(i18n, filter_apply)}</button>
                    <a href="/manage/links">{t!(i18n, filter_reset)}</a>
                </div>
            </fieldset>
        </Form>
        <p class="result-count" role="status">
            {t!(i18n, links_found)}" "{register.total}
        </p>
        {if register.links.is_empty() {
            view! { <p class="panel empty">{t!(i18n, links_none)}</p> }.into_any()
        } else {
            view! { <LinkTable links=register.links.clone() show_customer=true revoke_back=Some(here) /> }
                .into_any()
        }}
        <Pager prev next page pages=Some(pages) />
    }
}
