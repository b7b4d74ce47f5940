use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::app::SignedIn;
use crate::i18n::*;
use crate::model::SiteInfo;

/// `/`: the overview. Until someone signs in it explains what the portal is for.
#[component]
pub fn HomePage() -> impl IntoView {
    let i18n = use_i18n();
    let brand = expect_context::<SiteInfo>().brand_name;
    if let SignedIn(Some(user)) = expect_context::<SignedIn>() {
        let name = user.name.clone();
        return view! {
            <Title text="" />
            <section class="hero" aria-labelledby="home-title">
                <h1 id="home-title">{t!(i18n, home_welcome, name = move || name.clone())}</h1>
                <p class="lead">{t!(i18n, home_signed_in_intro, brand = move || brand.clone())}</p>
                <form method="post" action="/logout/everywhere">
                    <button type="submit" class="link-button">
                        {t!(i18n, sign_out_everywhere)}
                    </button>
                </form>
            </section>
        }
        .into_any();
    }
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
    .into_any()
}
