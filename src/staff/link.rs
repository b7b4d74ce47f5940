use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::parts::{LinkNotice, StaffOnly};
use crate::base::who::LinkState;
use crate::i18n::*;
use crate::links::banner::{scope_text, state_label};
use crate::staff::api::staff_link;
use crate::staff::model::{AuditRow, LinkDetail};
use crate::ui::copy_button::CopyButton;
use crate::ui::error_view::ErrorView;
use crate::ui::format;

/// `/manage/links/{id}`: one link, its history, and revoke and extend. Right after creation
/// it shows the link's address, once: only its hash is kept.
#[component]
pub fn StaffLinkPage() -> impl IntoView {
    view! {
        <StaffOnly>
            <LinkScreen />
        </StaffOnly>
    }
}

#[component]
fn LinkScreen() -> impl IntoView {
    let i18n = use_i18n();
    // The address or the page holds a secret: no Referer carries it away, no cache keeps it.
    crate::base::http_status::keep_private();
    let params = use_params_map();
    let detail = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        staff_link,
    );
    // Read outside the Suspense: every action that sets it is a full page load.
    let notice = use_query_map().read_untracked().get("notice");
    view! {
        <Suspense fallback=move || view! { <p class="loading">{t!(i18n, loading)}</p> }>
            {move || {
                let notice = notice.clone();
                Suspend::new(async move {
                match detail.await {
                    Ok(detail) => view! { <LinkView detail notice /> }.into_any(),
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                }
            })
            }}
        </Suspense>
    }
}

#[component]
fn LinkView(detail: LinkDetail, notice: Option<String>) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let link = detail.link.clone();
    let notice = notice.map(|code| view! { <LinkNotice code /> });
    let fresh = detail.url.clone().map(|url| {
        let sent_to = detail.sent_to.clone();
        view! {
            <section class="panel created" aria-labelledby="created-title">
                <h2 id="created-title">{t!(i18n, link_created_title)}</h2>
                <p>{t!(i18n, link_created_once)}</p>
                <div class="copy-row">
                    <label for="link-url" class="visually-hidden">{t!(i18n, link_url)}</label>
                    <input id="link-url" class="link-url" type="text" readonly value=url.clone() />
                    <CopyButton text=url />
                </div>
                {sent_to
                    .map(|to| view! { <p>{t!(i18n, link_sent_to, email = move || to.clone())}</p> })}
            </section>
        }
    });
    let opens = match link.max_opens {
        Some(max) => format!("{} / {max}", link.opens),
        None => link.opens.to_string(),
    };
    let active = link.state != LinkState::Revoked;
    let id = link.id.clone();
    let max_days = detail.max_days;
    let customer_href = format!("/manage/customers/{}", link.customer_id);
    let customer_name = link.customer_name.clone();
    let scope = scope_text(i18n, &link);
    view! {
        <Title text=link.label.clone() />
        <p class="breadcrumb">
            <A href="/manage/links">{t!(i18n, nav_links)}</A>
        </p>
        <h1>{link.label.clone()}</h1>
        {notice}
        {fresh}
        <dl class="facts">
            <dt>{t!(i18n, col_customer)}</dt>
            <dd>
                <A href=customer_href>{customer_name}</A>
            </dd>
            <dt>{t!(i18n, col_scope)}</dt>
            <dd>{scope}</dd>
            <dt>{t!(i18n, col_state)}</dt>
            <dd>
                <span class=format!("state state-{}", link.state.as_str())>{state_label(i18n, link.state)}</span>
            </dd>
            <dt>{t!(i18n, col_created_by)}</dt>
            <dd>{link.created_by.clone()}", "{format::date_time(&link.created_at, locale)}</dd>
            <dt>{t!(i18n, col_expires)}</dt>
            <dd>{format::date_time(&link.expires_at, locale)}</dd>
            <dt>{t!(i18n, col_opens)}</dt>
            <dd class="opens">{opens}</dd>
            {link
                .recipient
                .clone()
                .map(|r| view! { <dt>{t!(i18n, link_form_recipient)}</dt> <dd>{r}</dd> })}
            {link
                .revoked_at
                .clone()
                .map(|t| view! { <dt>{t!(i18n, link_revoked_at)}</dt> <dd>{format::date_time(&t, locale)}</dd> })}
        </dl>
        {active
            .then(|| {
                view! {
                    <section class="panel actions-panel" aria-labelledby="actions-title">
                        <h2 id="actions-title">{t!(i18n, link_actions)}</h2>
                        <form class="inline" method="post" action=format!("/manage/links/{id}/extend")>
                            <label for="extend-days">{t!(i18n, link_extend_days)}</label>
                            <input id="extend-days" name="days" type="number" min="1" max=max_days.to_string() value="7" required />
                            <button type="submit" class="button secondary">{t!(i18n, link_extend)}</button>
                        </form>
                        <form class="inline" method="post" action=format!("/manage/links/{id}/revoke")>
                            <button type="submit" class="button danger">{t!(i18n, link_revoke)}</button>
                        </form>
                    </section>
                }
            })}
        <section aria-labelledby="events-title">
            <h2 id="events-title">{t!(i18n, link_history)}</h2>
            <AuditTable rows=detail.events.clone() />
        </section>
    }
}

/// Audit events as a table, newest first.
#[component]
pub fn AuditTable(rows: Vec<AuditRow>) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    if rows.is_empty() {
        return view! { <p class="panel empty">{t!(i18n, audit_none)}</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="audit">
                <thead>
                    <tr>
                        <th scope="col">{t!(i18n, col_time)}</th>
                        <th scope="col">{t!(i18n, col_event)}</th>
                        <th scope="col">{t!(i18n, col_actor)}</th>
                        <th scope="col">{t!(i18n, col_customer)}</th>
                        <th scope="col">{t!(i18n, col_link)}</th>
                        <th scope="col">{t!(i18n, col_detail)}</th>
                        <th scope="col">{t!(i18n, col_ip)}</th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|row| {
                            view! {
                                <tr data-kind=row.kind.clone()>
                                    <td>{format::date_time(&row.at, locale)}</td>
                                    <td>{event_label(i18n, &row.kind)}</td>
                                    <td>{row.actor.clone().unwrap_or_default()}</td>
                                    <td>
                                        {row
                                            .customer_id
                                            .clone()
                                            .map(|c| view! { <A href=format!("/manage/customers/{c}")>{c.clone()}</A> })}
                                    </td>
                                    <td>
                                        {row
                                            .link_id
                                            .clone()
                                            .map(|l| view! { <A href=format!("/manage/links/{l}")>{l.clone()}</A> })}
                                    </td>
                                    <td>{row.subject.clone().unwrap_or_default()}</td>
                                    <td>{row.ip.clone().unwrap_or_default()}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// The translated name of an audit event kind; unknown kinds as they are.
pub fn event_label(i18n: leptos_i18n::I18nContext<Locale>, kind: &str) -> String {
    match kind {
        "sign_in_requested" => t_string!(i18n, event_sign_in_requested),
        "sign_in_succeeded" => t_string!(i18n, event_sign_in_succeeded),
        "sign_in_failed" => t_string!(i18n, event_sign_in_failed),
        "signed_out" => t_string!(i18n, event_signed_out),
        "signed_out_everywhere" => t_string!(i18n, event_signed_out_everywhere),
        "link_created" => t_string!(i18n, event_link_created),
        "link_sent" => t_string!(i18n, event_link_sent),
        "link_opened" => t_string!(i18n, event_link_opened),
        "link_revoked" => t_string!(i18n, event_link_revoked),
        "link_extended" => t_string!(i18n, event_link_extended),
        "file_viewed" => t_string!(i18n, event_file_viewed),
        "file_downloaded" => t_string!(i18n, event_file_downloaded),
        other => return other.to_owned(),
    }
    .to_string()
}
