use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::base::who::SiteInfo;
use crate::i18n::*;
use crate::signin::api::get_demo_accounts;

/// `/login` (and, with `staff`, `/manage/login`): one email field. The form posts to the
/// page's own address, which answers the same whatever the address typed. In demo mode the
/// invented customers (or the demo account manager) are listed, each one click away.
#[component]
pub fn LoginPage(#[prop(optional)] staff: bool) -> impl IntoView {
    let i18n = use_i18n();
    let brand = expect_context::<SiteInfo>().brand_name;
    let action = if staff { "/manage/login" } else { "/login" };
    let title = move || {
        if staff {
            t_string!(i18n, staff_login_title)
        } else {
            t_string!(i18n, login_title)
        }
    };
    let query = use_query_map();
    let error = move || {
        query.read().get("error").map(|code| {
            let text = match code.as_str() {
                "link" => t_string!(i18n, login_error_link),
                "expired" => t_string!(i18n, login_error_expired),
                "busy" => t_string!(i18n, login_error_busy),
                "later" => t_string!(i18n, login_error_later),
                _ => t_string!(i18n, login_error_email),
            };
            view! {
                <p class="alert" role="alert">
                    {text}
                </p>
            }
        })
    };
    let accounts = Resource::new(|| (), move |_| get_demo_accounts(staff));

    view! {
        <Title text=title().to_string() />
        <section class="panel narrow" aria-labelledby="login-title">
            <h1 id="login-title">{title}</h1>
            {if staff {
                view! { <p>{t!(i18n, staff_login_intro)}</p> }.into_any()
            } else {
                view! { <p>{t!(i18n, login_intro, brand = move || brand.clone())}</p> }.into_any()
            }}
            {error}
            <form class="stack" method="post" action=action>
                <label for="email">{t!(i18n, login_email_label)}</label>
                <input
                    id="email"
                    name="email"
                    type="email"
                    autocomplete="email"
                    inputmode="email"
                    maxlength="254"
                    required
                />
                <button type="submit" class="button">
                    {t!(i18n, login_submit)}
                </button>
            </form>
        </section>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let accounts = accounts.await.unwrap_or_default();
                (!accounts.is_empty())
                    .then(|| {
                        view! {
                            <section class="panel narrow demo-accounts" aria-labelledby="demo-title">
                                <h2 id="demo-title">{t!(i18n, login_demo_title)}</h2>
                                <p>{t!(i18n, login_demo_intro)}</p>
                                <ul>
                                    {accounts
                                        .into_iter()
                                        .map(|account| {
                                            let name = account.name.clone();
                                            view! {
                                                <li>
                                                    <form method="post" action=action>
                                                        <input type="hidden" name="email" value=account.email.clone() />
                                                        <button type="submit" class="link-button">
                                                            {t!(i18n, login_demo_button, name = move || name.clone())}
                                                        </button>
                                                    </form>
                                                    <span class="muted">
                                                        {account.email}" · "{account.description}
                                                    </span>
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            </section>
                        }
                    })
            })}
        </Suspense>
    }
}
