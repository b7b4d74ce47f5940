use leptos::prelude::*;
use leptos_meta::Title;

use crate::i18n::*;
use crate::links::api::get_access;
use crate::links::banner::{scope_text, state_label};
use crate::links::model::AccessLog;
use crate::ui::error_view::ErrorView;
use crate::ui::format;

/// `/access`: "Access to your documents": the portal links your account manager created to
/// your documents, and every time one was opened.
#[component]
pub fn AccessPage() -> impl IntoView {
    let i18n = use_i18n();
    let log = Resource::new(|| (), |_| get_access());
    view! {
        <Title text=t_string!(i18n, access_title).to_string() />
        <h1>{t!(i18n, access_title)}</h1>
        <Suspense fallback=move || view! { <p class="loading">{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match log.await {
                    Ok(log) => view! { <AccessView log /> }.into_any(),
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AccessView(log: AccessLog) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    if log.links.is_empty() {
        return view! { <p class="panel empty">{t!(i18n, access_none)}</p> }.into_any();
    }
    view! {
        <p>{t!(i18n, access_intro)}</p>
        <section aria-labelledby="access-links-title">
            <h2 id="access-links-title">{t!(i18n, access_links)}</h2>
            <div class="table-wrap">
                <table>
                    <thead>
                        <tr>
                            <th scope="col">{t!(i18n, col_label)}</th>
                            <th scope="col">{t!(i18n, col_scope)}</th>
                            <th scope="col">{t!(i18n, col_created_by)}</th>
                            <th scope="col">{t!(i18n, col_state)}</th>
                            <th scope="col">{t!(i18n, col_expires)}</th>
                            <th scope="col" class="num">{t!(i18n, col_opens)}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {log
                            .links
                            .iter()
                            .map(|link| {
                                view! {
                                    <tr>
                                        <td>{link.label.clone()}</td>
                                        <td>{scope_text(i18n, link)}</td>
                                        <td>{link.created_by.clone()}</td>
                                        <td>{state_label(i18n, link.state)}</td>
                                        <td>{format::date(&link.expires_at, locale)}</td>
                                        <td class="num">{link.opens}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
        <section aria-labelledby="access-opens-title">
            <h2 id="access-opens-title">{t!(i18n, access_opens)}</h2>
            {if log.opens.is_empty() {
                view! { <p>{t!(i18n, access_no_opens)}</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="access-opens">
                            <thead>
                                <tr>
                                    <th scope="col">{t!(i18n, col_time)}</th>
                                    <th scope="col">{t!(i18n, col_label)}</th>
                                    <th scope="col">{t!(i18n, col_created_by)}</th>
                                    <th scope="col">{t!(i18n, col_ip)}</th>
                                </tr>
                            </thead>
                            <tbody>
                                {log
                                    .opens
                                    .iter()
                                    .map(|open| {
                                        view! {
                                            <tr>
                                                <td>{format::date_time(&open.at, locale)}</td>
                                                <td>{open.link_label.clone()}</td>
                                                <td>{open.shared_by.clone()}</td>
                                                <td>{open.ip.clone().unwrap_or_default()}</td>
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
