use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::i18n::*;
use crate::model::SiteInfo;

/// `/`: the overview. Until someone signs in it explains what the portal is for.
#[component]
pub fn HomePage() -> impl IntoView {
    let i18n = use_i18n();
    let brand = expect_context::<SiteInfo>().brand_name;
    view! {
        <Title text="" />
        <section class="hero" aria-labelledby="home-title">
            <h1 id="home-title">{t!(i18n, home_title)}</h1>
            <p class="lead">{t!(i18n, home_intro, brand = move || brand.clone())}</p>
            <p>
                <A href="/login" attr:class="button">
                    {t!(i18n, home_sign_in_cta)}
                </A>
            </p>
        </section>
    }
}
