//! Setting the HTTP status of a server-rendered page from inside a component.

/// Sets the status of the response being rendered. In the browser there is no response, and this
/// does nothing.
pub fn set_http_status(code: u16) {
    #[cfg(feature = "ssr")]
    if let (Some(options), Ok(status)) = (
        leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
        http::StatusCode::from_u16(code),
    ) {
        options.set_status(status);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = code;
}

/// For pages whose address or content holds a secret (a sign-in token, a portal link): no
/// other site may learn the address from a `Referer`, and no cache may keep the page.
pub fn keep_private() {
    #[cfg(feature = "ssr")]
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(
            http::header::REFERRER_POLICY,
            http::HeaderValue::from_static("no-referrer"),
        );
        response.insert_header(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
    }
}
