use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::i18n::*;
use crate::links::api::get_link_landing;
use crate::links::banner::scope_words;
use crate::links::model::LinkLanding;
use crate::ui::error_view::ErrorView;
use crate::ui::format;

/// `/s/{token}`: what a portal link grants, who shared it and until when, and the button
/// that opens it. Only that button's `POST` opens anything: a link preview or a mail scanner
/// fetching this page changes nothing and counts nothing.
#[component]
pub fn LinkLandingPage() -> impl IntoView {
    let i18n = use_i18n();
    // The address or the page holds a secret: no Referer carries it away, no cache keeps it.
    crate::base::http_status::keep_private();
    let params = use_params_map();
    let landing = Resource::new(
        move || params.read().get("token").unwrap_or_default(),
        get_link_landing,
    );
    view! {
        <Title text=t_string!(i18n, landing_title).to_string() />
        <Suspense fallback=move || view! { <p class="loading">{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match landing.await {
                    Ok(landing) => view! { <Landing landing /> }.into_any(),
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Landing(landing: LinkLanding) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let grant = landing.grant.clone();
    let shared_by = grant.shared_by.clone();
    let customer = landing.customer_name.clone();
    let until = format::date(&grant.expires_at, locale);
    view! {
        <section class="panel narrow" aria-labelledby="share-title">
            <h1 id="share-title">{grant.label.clone()}</h1>
            <p>
                {t!(
                    i18n, landing_intro, name = move || shared_by.clone(), customer = move || customer.clone()
                )}
            </p>
            <dl class="facts">
                <dt>{t!(i18n, col_scope)}</dt>
                <dd>
                    {scope_words(i18n, grant.order_id.as_deref(), &grant.types)}
                </dd>
                <dt>{t!(i18n, col_expires)}</dt>
                <dd>{until}</dd>
                {landing
                    .opens_left
                    .map(|left| view! { <dt>{t!(i18n, landing_opens_left)}</dt> <dd>{left}</dd> })}
            </dl>
            <p class="muted">{t!(i18n, landing_read_only)}</p>
            // No `action`: the form posts to this page's own address, which holds the token.
            <form method="post">
                <button type="submit" class="button">{t!(i18n, landing_open)}</button>
            </form>
        </section>
    }
}
