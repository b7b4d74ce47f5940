use leptos::prelude::*;

use crate::components::document_table::doc_type_label;
use crate::components::format;
use crate::i18n::*;
use crate::model::LinkGrantView;

/// On every page of a session opened through a portal link: who shared it, what it covers,
/// and until when.
#[component]
pub fn LinkBanner(grant: LinkGrantView) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let shared_by = grant.shared_by.clone();
    let until = format::date(&grant.expires_at, locale);
    view! {
        <aside class="link-banner" aria-label=move || t_string!(i18n, link_banner_label)>
            <p>
                <strong>{grant.label.clone()}</strong>
                " · "
                {t!(i18n, link_banner_shared_by, name = move || shared_by.clone())}
                " · "
                <ScopeText grant=grant.clone() />
                " · "
                {t!(i18n, link_banner_until, date = move || until.clone())}
            </p>
        </aside>
    }
}

/// What a link covers, in words: the whole portal or one order, every type or some.
#[component]
pub fn ScopeText(grant: LinkGrantView) -> impl IntoView {
    let i18n = use_i18n();
    let types = (!grant.types.is_empty()).then(|| {
        grant
            .types
            .iter()
            .map(|t| doc_type_label(i18n, *t))
            .collect::<Vec<_>>()
            .join(", ")
    });
    let place = match grant.order_id {
        Some(order) => t!(i18n, scope_order, order = move || order.clone()).into_any(),
        None => t!(i18n, scope_all).into_any(),
    };
    view! {
        {place}
        {types.map(|types| view! { " (" {types} ")" })}
    }
}
