use leptos::prelude::*;

use crate::i18n::*;

/// "Previous page · Page 2 of 5 · Next page". Plain links, so paging works without
/// JavaScript and every page has an address. `pages` is left out where the total is unknown.
#[component]
pub fn Pager(
    prev: Option<String>,
    next: Option<String>,
    page: u32,
    #[prop(default = None)] pages: Option<u32>,
) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <nav class="pager" aria-label=move || t_string!(i18n, pagination_label)>
            {prev.map(|href| view! { <a href=href rel="prev">{t!(i18n, page_prev)}</a> })}
            <span>
                {t!(i18n, page_label)}" "{page}
                {pages.map(|pages| view! { " "{t!(i18n, page_of)}" "{pages} })}
            </span>
            {next.map(|href| view! { <a href=href rel="next">{t!(i18n, page_next)}</a> })}
        </nav>
    }
}

/// `path?k=v&…` with the values percent-encoded.
pub fn query_href(path: &str, pairs: &[(&'static str, String)]) -> String {
    if pairs.is_empty() {
        return path.to_owned();
    }
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encoded(v)))
        .collect();
    format!("{path}?{}", query.join("&"))
}

/// `value` percent-encoded for a URL's path segment or query value: everything but letters,
/// digits and `-_.~`. An id from FlexPortal is opaque and may hold `/`, `?` or `#`.
pub fn encoded(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
