use leptos::prelude::*;
use leptos_meta::Title;

use crate::base::error::AppError;
use crate::i18n::*;
use crate::ui::error_view::ErrorView;

/// Every path that matches no route: the not-found page, with status 404.
#[component]
pub fn NotFound() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Title text=t_string!(i18n, not_found_title).to_string() />
        <ErrorView error=AppError::NotFound />
    }
}
