use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::base::error::AppError;
use crate::base::who::LinkState;
use crate::i18n::*;
use crate::ui::error_view::ErrorView;

/// `/shared/ended?why=`: where a session opened through a portal link lands once the link is
/// revoked or has expired. It answers 410 Gone.
#[component]
pub fn LinkEndedPage() -> impl IntoView {
    let i18n = use_i18n();
    let why = use_query_map()
        .read_untracked()
        .get("why")
        .and_then(|w| LinkState::parse(&w))
        .filter(|s| *s != LinkState::Active)
        .unwrap_or(LinkState::Expired);
    view! {
        <Title text=t_string!(i18n, gone_title).to_string() />
        <ErrorView error=AppError::Gone(why) />
    }
}
