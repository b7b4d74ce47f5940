use leptos::prelude::*;

use crate::base::who::SiteInfo;
use crate::i18n::*;

#[component]
pub fn SiteFooter() -> impl IntoView {
    let i18n = use_i18n();
    let site = expect_context::<SiteInfo>();
    view! {
        <footer class="site-footer">
            <p>{t!(i18n, footer_help)}</p>
            <p class="muted">{site.brand_name}" · "{t!(i18n, footer_powered_by)}</p>
        </footer>
    }
}
