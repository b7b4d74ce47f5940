use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::error_view::ErrorView;
use crate::error::AppError;
use crate::i18n::*;

/// `/documents`: the customer's documents. Only a signed-in customer has any, so an anonymous
/// visitor is asked to sign in (status 401).
#[component]
pub fn DocumentsPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Title text=move || t_string!(i18n, documents_title).to_string() />
        <ErrorView error=AppError::Unauthorized />
    }
}
