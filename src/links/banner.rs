//! How a portal link reads: the banner a link session shows, and the words for a link's
//! scope and state that the staff's tables and the customer's access page use too.

use leptos::prelude::*;
use leptos_i18n::I18nContext;

use crate::base::who::{DocType, LinkGrantView, LinkState};
use crate::documents::table::doc_type_label;
use crate::i18n::*;
use crate::links::model::LinkView;
use crate::ui::format;

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
                {scope_words(i18n, grant.order_id.as_deref(), &grant.types)}
                " · "
                {t!(i18n, link_banner_until, date = move || until.clone())}
            </p>
        </aside>
    }
}

/// What a link covers, in words: the whole portal or one order, every type or some. One
/// wording for the banner, the landing page, the staff screens and the access page.
pub fn scope_words(
    i18n: leptos_i18n::I18nContext<Locale>,
    order_id: Option<&str>,
    types: &[DocType],
) -> String {
    let place = match order_id {
        Some(order) => format!("{} {order}", t_string!(i18n, col_order)),
        None => t_string!(i18n, scope_all).to_string(),
    };
    if types.is_empty() {
        place
    } else {
        let types: Vec<&str> = types.iter().map(|t| doc_type_label(i18n, *t)).collect();
        format!("{place} ({})", types.join(", "))
    }
}

pub fn state_label(i18n: I18nContext<Locale>, state: LinkState) -> String {
    match state {
        LinkState::Active => t_string!(i18n, link_state_active),
        LinkState::Expired => t_string!(i18n, link_state_expired),
        LinkState::Revoked => t_string!(i18n, link_state_revoked),
        LinkState::UsedUp => t_string!(i18n, link_state_used_up),
    }
    .to_string()
}

/// What a link covers, in words.
pub fn scope_text(i18n: I18nContext<Locale>, link: &LinkView) -> String {
    scope_words(i18n, link.order_id.as_deref(), &link.types)
}
