use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_location;

use super::link::{event_label, AuditTable};
use super::parts::StaffOnly;
use crate::i18n::*;
use crate::staff::api::staff_audit;
use crate::staff::model::{AuditPage, AuditQuery};
use crate::ui::error_view::ErrorView;
use crate::ui::pager::{query_href, Pager};

/// `/manage/audit?customer=&link=&staff=&kind=&from=&to=&page=`: who did what, when, from
/// where; newest first.
#[component]
pub fn StaffAuditPage() -> impl IntoView {
    view! {
        <StaffOnly>
            <AuditLog />
        </StaffOnly>
    }
}

#[component]
fn AuditLog() -> impl IntoView {
    let i18n = use_i18n();
    let location = use_location();
    let page = Resource::new(move || location.search.get(), staff_audit);
    view! {
        <Title text=t_string!(i18n, audit_title).to_string() />
        <h1>{t!(i18n, audit_title)}</h1>
        <Transition fallback=move || view! { <p class="loading">{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => view! { <AuditView page /> }.into_any(),
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn AuditView(page: AuditPage) -> impl IntoView {
    let i18n = use_i18n();
    let query = page.query.clone();
    let at = |n: u32| {
        let mut q = query.clone();
        q.page = n;
        query_href("/manage/audit", &q.to_query_pairs())
    };
    let prev = (page.page > 1).then(|| at(page.page - 1));
    let next = page.has_more.then(|| at(page.page + 1));
    let notices = (!page.notices.is_empty()).then(|| {
        let text = page
            .notices
            .iter()
            .map(|n| format!("{}={}", n.param, n.value))
            .collect::<Vec<_>>()
            .join(", ");
        view! { <p class="notice" role="status">{t!(i18n, notice_ignored)}" "{text}</p> }
    });
    let text_field = |id: &'static str, name: &'static str, value: Option<String>| {
        view! { <input id=id name=name type="text" maxlength="100" value=value.unwrap_or_default() /> }
    };
    view! {
        {notices}
        <Form method="GET" action="/manage/audit" attr:class="filters">
            <fieldset>
                <legend class="visually-hidden">{t!(i18n, filter_legend)}</legend>
                <div class="field">
                    <label for="a-customer">{t!(i18n, filter_customer_id)}</label>
                    {text_field("a-customer", "customer", query.customer.clone())}
                </div>
                <div class="field">
                    <label for="a-link">{t!(i18n, filter_link_id)}</label>
                    {text_field("a-link", "link", query.link.clone())}
                </div>
                <div class="field">
                    <label for="a-staff">{t!(i18n, filter_staff)}</label>
                    {text_field("a-staff", "staff", query.staff.clone())}
                </div>
                <div class="field">
                    <label for="a-kind">{t!(i18n, col_event)}</label>
                    <select id="a-kind" name="kind">
                        <option value="">{t!(i18n, filter_all)}</option>
                        {AuditQuery::KINDS
                            .iter()
                            .map(|&k| {
                                view! {
                                    <option value=k selected=query.kind.as_deref() == Some(k)>
                                        {event_label(i18n, k)}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="a-from">{t!(i18n, filter_from)}</label>
                    <input id="a-from" name="from" type="date" value=query.from.clone().unwrap_or_default() />
                </div>
                <div class="field">
                    <label for="a-to">{t!(i18n, filter_to)}</label>
                    <input id="a-to" name="to" type="date" value=query.to.clone().unwrap_or_default() />
                </div>
                <div class="field actions">
                    <button type="submit" class="button">{t!(i18n, filter_apply)}</button>
                    <a href="/manage/audit">{t!(i18n, filter_reset)}</a>
                </div>
            </fieldset>
        </Form>
        <AuditTable rows=page.rows.clone() />
        <Pager prev next page=page.page />
    }
}
