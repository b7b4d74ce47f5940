use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::i18n::*;
use crate::signin::api::get_sign_in_link;

/// `/login/verify?token=…` (`/manage/login/verify` for staff): the link from the mail lands here. Only the button's POST spends
/// the token, so a mail scanner that fetches the link changes nothing.
#[component]
pub fn LoginVerifyPage(#[prop(optional)] staff: bool) -> impl IntoView {
    let base = if staff { "/manage" } else { "" };
    let i18n = use_i18n();
    // The address or the page holds a secret: no Referer carries it away, no cache keeps it.
    crate::base::http_status::keep_private();
    let query = use_query_map();
    let token = move || query.read().get("token").filter(|t| !t.trim().is_empty());
    // Whose account the link opens, so that someone sent another person's link sees it
    // before pressing Continue.
    let address = Resource::new(token, move |token| async move {
        match token {
            Some(token) => get_sign_in_link(token, staff).await.ok().flatten(),
            None => None,
        }
    });

    view! {
        <Title text=t_string!(i18n, verify_title).to_string() />
        <section class="panel narrow" aria-labelledby="verify-title">
            <h1 id="verify-title">{t!(i18n, verify_title)}</h1>
            {move || match token() {
                Some(token) => {
                    view! {
                        <Suspense fallback=|| ()>
                            {move || Suspend::new(async move {
                                match address.await {
                                    Some(email) => {
                                        view! {
                                            <p>
                                                {t!(i18n, verify_account, email = move || email.clone())}
                                            </p>
                                        }
                                            .into_any()
                                    }
                                    None => {
                                        view! {
                                            <p class="alert" role="alert">
                                                {t!(i18n, verify_unusable)}
                                            </p>
                                        }
                                            .into_any()
                                    }
                                }
                            })}
                        </Suspense>
                        <p>{t!(i18n, verify_body)}</p>
                        <form method="post" action=format!("{base}/login/verify")>
                            <input type="hidden" name="token" value=token />
                            <button type="submit" class="button">
                                {t!(i18n, verify_submit)}
                            </button>
                        </form>
                    }
                        .into_any()
                }
                None => {
                    view! {
                        <p class="alert" role="alert">
                            {t!(i18n, verify_missing)}
                        </p>
                        <p>
                            <A href=format!("{base}/login")>{t!(i18n, nav_sign_in)}</A>
                        </p>
                    }
                        .into_any()
                }
            }}
        </section>
    }
}
