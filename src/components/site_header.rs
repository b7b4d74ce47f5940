use leptos::prelude::*;
use leptos_router::components::A;

use crate::app::SignedIn;
use crate::components::locale_switch::LocaleSwitch;
use crate::i18n::*;
use crate::model::SiteInfo;

/// The tenant's brand, the main navigation and the language switch.
#[component]
pub fn SiteHeader() -> impl IntoView {
    let i18n = use_i18n();
    let site = expect_context::<SiteInfo>();
    let SignedIn(user) = expect_context::<SignedIn>();
    let logo = site.brand_logo.clone().map(|src| {
        view! { <img class="brand-logo" src=src alt="" width="32" height="32" /> }
    });

    view! {
        <header class="site-header">
            <A href="/" attr:class="brand">
                {logo}
                <span class="brand-name">{site.brand_name.clone()}</span>
            </A>
            <nav class="site-nav" aria-label=move || t_string!(i18n, nav_label)>
                <ul>
                    <li>
                        <A href="/" exact=true>
                            {t!(i18n, nav_overview)}
                        </A>
                    </li>
                    <li>
                        <A href="/documents">{t!(i18n, nav_documents)}</A>
                    </li>
                    <li>
                        <A href="/invoices">{t!(i18n, nav_invoices)}</A>
                    </li>
                    {user
                        .is_none()
                        .then(|| {
                            view! {
                                <li>
                                    <A href="/login" attr:class="nav-sign-in">
                                        {t!(i18n, nav_sign_in)}
                                    </A>
                                </li>
                            }
                        })}
                </ul>
            </nav>
            {user
                .map(|user| {
                    let name = user.name.clone();
                    view! {
                        <div class="account">
                            <span class="account-name" title=user.email>
                                {t!(i18n, signed_in_as, name = move || name.clone())}
                            </span>
                            <form method="post" action="/logout">
                                <button type="submit" class="link-button">
                                    {t!(i18n, nav_sign_out)}
                                </button>
                            </form>
                        </div>
                    }
                })}
            <LocaleSwitch />
        </header>
    }
}
