use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::base::who::SiteInfo;
use crate::i18n::*;
use crate::signin::api::get_pending_sign_in;

/// `/login/check` (`/manage/login/check` for staff): "check your email", and where the code
/// from the mail is typed.
#[component]
pub fn LoginCheckPage(#[prop(optional)] staff: bool) -> impl IntoView {
    let base = if staff { "/manage" } else { "" };
    let i18n = use_i18n();
    let demo = expect_context::<SiteInfo>().demo;
    let query = use_query_map();
    let error = move || {
        query.read().get("error").map(|code| {
            let text = match code.as_str() {
                "tries" => t_string!(i18n, check_error_tries),
                "expired" => t_string!(i18n, login_error_expired),
                "busy" => t_string!(i18n, login_error_busy),
                _ => t_string!(i18n, check_error_code),
            };
            view! {
                <p class="alert" role="alert">
                    {text}
                </p>
            }
        })
    };
    let pending = Resource::new(|| (), |_| get_pending_sign_in());

    view! {
        <Title text=t_string!(i18n, check_title).to_string() />
        <section class="panel narrow" aria-labelledby="check-title">
            <h1 id="check-title">{t!(i18n, check_title)}</h1>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match pending.await.ok().flatten() {
                        Some(email) => {
                            view! { <p>{t!(i18n, check_body, email = move || email.clone())}</p> }.into_any()
                        }
                        None => view! { <p>{t!(i18n, check_body_generic)}</p> }.into_any(),
                    }
                })}
            </Suspense>
            {error}
            <form class="stack" method="post" action=format!("{base}/login/code")>
                <label for="code">{t!(i18n, check_code_label)}</label>
                <input
                    id="code"
                    name="code"
                    type="text"
                    inputmode="numeric"
                    autocomplete="one-time-code"
                    pattern="[0-9 ]{6,7}"
                    maxlength="7"
                    aria-describedby="code-hint"
                    required
                />
                <p id="code-hint" class="muted">{t!(i18n, check_code_hint)}</p>
                <button type="submit" class="button">
                    {t!(i18n, check_submit)}
                </button>
            </form>
            <p>
                <A href=format!("{base}/login")>{t!(i18n, check_other_address)}</A>
            </p>
            {demo
                .then(|| {
                    view! {
                        <p>
                            <a href="/dev/outbox">{t!(i18n, check_outbox)}</a>
                        </p>
                    }
                })}
        </section>
    }
}
