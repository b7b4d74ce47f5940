use leptos::prelude::*;
use leptos_router::components::A;

use crate::base::who::{Role, SignedIn, SiteInfo};
use crate::i18n::*;
use crate::ui::locale_switch::LocaleSwitch;

/// The tenant's brand, the main navigation, the account and the language switch.
#[component]
pub fn SiteHeader() -> impl IntoView {
    let i18n = use_i18n();
    let site = expect_context::<SiteInfo>();
    let SignedIn(user) = expect_context::<SignedIn>();
    let logo = site.brand_logo.clone().map(|src| {
        view! { <img class="brand-logo" src=src alt="" width="32" height="32" /> }
    });

    let role = user.as_ref().map(|u| u.role.clone());
    let nav = match role {
        Some(Role::Staff) => view! {
            <li>
                <A href="/manage" exact=true>
                    {t!(i18n, nav_customers)}
                </A>
            </li>
            <li>
                <A href="/manage/links">{t!(i18n, nav_links)}</A>
            </li>
            <li>
                <A href="/manage/audit">{t!(i18n, nav_audit)}</A>
            </li>
            <li>
                <A href="/manage/archives">{t!(i18n, nav_archives)}</A>
            </li>
        }
        .into_any(),
        other => {
            let customer = other == Some(Role::Customer);
            let anonymous = other.is_none();
            view! {
                <li>
                    <A href="/" exact=true>
                        {t!(i18n, nav_overview)}
                    </A>
                </li>
                <li>
                    <A href="/orders">{t!(i18n, nav_orders)}</A>
                </li>
                <li>
                    <A href="/documents">{t!(i18n, nav_documents)}</A>
                </li>
                <li>
                    <A href="/invoices">{t!(i18n, nav_invoices)}</A>
                </li>
                {customer
                    .then(|| {
                        view! {
                            <li>
                                <A href="/access">{t!(i18n, nav_access)}</A>
                            </li>
                        }
                    })}
                {anonymous
                    .then(|| {
                        view! {
                            <li>
                                <A href="/login" attr:class="nav-sign-in">
                                    {t!(i18n, nav_sign_in)}
                                </A>
                            </li>
                        }
                    })}
            }
            .into_any()
        }
    };
    let home = if user.as_ref().is_some_and(|u| u.role == Role::Staff) {
        "/manage"
    } else {
        "/"
    };

    view! {
        <header class="site-header">
            <A href=home attr:class="brand">
                {logo}
                <span class="brand-name">{site.brand_name.clone()}</span>
            </A>
            // On a phone the navigation folds into a menu: a `<details>`, so it opens
            // without JavaScript. On wider screens it is always open (see the style sheet).
            <details class="site-menu">
                <summary>{t!(i18n, nav_menu)}</summary>
                <div class="site-menu-body">
                    <nav class="site-nav" aria-label=move || t_string!(i18n, nav_label)>
                        <ul>{nav}</ul>
                    </nav>
                    {user
                        .map(|user| {
                            let link = matches!(user.role, Role::Link(_));
                            let name = user.name.clone();
                            view! {
                                <div class="account">
                                    {if link {
                                        view! { <span class="account-name">{t!(i18n, shared_access)}</span> }
                                            .into_any()
                                    } else {
                                        view! {
                                            <span class="account-name" title=user.email.clone()>
                                                {t!(i18n, signed_in_as, name = move || name.clone())}
                                            </span>
                                        }
                                            .into_any()
                                    }}
                                    <form method="post" action="/logout">
                                        <button type="submit" class="link-button">
                                            {if link {
                                                t!(i18n, leave_shared).into_any()
                                            } else {
                                                t!(i18n, nav_sign_out).into_any()
                                            }}
                                        </button>
                                    </form>
                                </div>
                            }
                        })}
                    <LocaleSwitch />
                </div>
            </details>
        </header>
    }
}
