use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::error_view::ErrorView;
use crate::error::AppError;
use crate::i18n::*;

/// `/invoices`: the customer's invoice history; anonymous visitors are asked to sign in.
#[component]
pub fn InvoicesPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Title text=move || t_string!(i18n, invoices_title).to_string() />
        <ErrorView error=AppError::Unauthorized />
    }
}
