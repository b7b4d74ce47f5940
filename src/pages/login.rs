use leptos::prelude::*;
use leptos_meta::Title;

use crate::i18n::*;

/// `/login`: where customers sign in.
#[component]
pub fn LoginPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Title text=move || t_string!(i18n, login_title).to_string() />
        <section class="panel narrow" aria-labelledby="login-title">
            <h1 id="login-title">{t!(i18n, login_title)}</h1>
            <p>{t!(i18n, login_body)}</p>
        </section>
    }
}
