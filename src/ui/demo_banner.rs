use leptos::prelude::*;

use crate::i18n::*;

/// A banner on every page in demo mode, so nobody mistakes invented data for real documents.
#[component]
pub fn DemoBanner() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <aside class="demo-banner" aria-label=move || t_string!(i18n, demo_label)>
            <p>{t!(i18n, demo_banner)}</p>
        </aside>
    }
}
