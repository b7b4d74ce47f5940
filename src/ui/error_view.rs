use leptos::prelude::*;
use leptos_router::components::A;

use crate::base::error::AppError;
use crate::base::http_status::set_http_status;
use crate::base::who::LinkState;
use crate::i18n::*;

/// The one view of an error: a message in the user's language, the right HTTP status during
/// server rendering, and for internal errors the reference under which the cause was logged.
#[component]
pub fn ErrorView(error: AppError) -> impl IntoView {
    set_http_status(error.status_code());
    let i18n = use_i18n();
    match error {
        AppError::NotFound => view! {
            <section class="panel notice" aria-labelledby="error-title">
                <h1 id="error-title">{t!(i18n, not_found_title)}</h1>
                <p>{t!(i18n, not_found_body)}</p>
                <p>
                    <A href="/">{t!(i18n, back_home)}</A>
                </p>
            </section>
        }
        .into_any(),
        AppError::Gone(state) => {
            let body = match state {
                LinkState::Revoked => t_string!(i18n, gone_revoked),
                LinkState::UsedUp => t_string!(i18n, gone_used_up),
                _ => t_string!(i18n, gone_expired),
            };
            view! {
                <section class="panel notice" aria-labelledby="error-title">
                    <h1 id="error-title">{t!(i18n, gone_title)}</h1>
                    <p>{body}</p>
                    <p>{t!(i18n, gone_ask)}</p>
                </section>
            }
            .into_any()
        }
        AppError::Unauthorized => view! {
            <section class="panel notice" aria-labelledby="error-title">
                <h1 id="error-title">{t!(i18n, signin_required_title)}</h1>
                <p>{t!(i18n, signin_required_body)}</p>
                <p>
                    <A href="/login" attr:class="button">
                        {t!(i18n, nav_sign_in)}
                    </A>
                </p>
            </section>
        }
        .into_any(),
        AppError::Unavailable => view! {
            <section class="panel notice" aria-labelledby="error-title">
                <h1 id="error-title">{t!(i18n, error_unavailable_title)}</h1>
                <p>{t!(i18n, error_unavailable_body)}</p>
                <p>
                    <a class="button" href="">
                        {t!(i18n, try_again)}
                    </a>
                </p>
            </section>
        }
        .into_any(),
        AppError::BadRequest(_) | AppError::Internal { .. } => {
            let reference = match &error {
                AppError::Internal { request_id } if !request_id.is_empty() => {
                    Some(request_id.clone())
                }
                _ => current_request_id(),
            };
            view! {
                <section class="panel notice" aria-labelledby="error-title">
                    <h1 id="error-title">{t!(i18n, error_title)}</h1>
                    <p>{t!(i18n, error_body)}</p>
                    {reference
                        .map(|id| {
                            view! {
                                <p class="muted">
                                    {t!(i18n, error_reference, id = move || id.clone())}
                                </p>
                            }
                        })}
                </section>
            }
            .into_any()
        }
    }
}

/// The id of the request being rendered, as set by the server's request-id layer.
fn current_request_id() -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        crate::base::server::principal::current_request_id()
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}
