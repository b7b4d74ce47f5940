use leptos::prelude::*;

use crate::base::who::SiteInfo;
use crate::i18n::*;
use crate::ui::pager::query_href;

/// "Download all (ZIP)" for the documents that `filters` (the filters of `/documents`) select,
/// `count` of them. Few enough to fetch while the reader waits: a link that streams the
/// archive. More: a form that has it made in the background (a POST, so that no link or
/// crawler starts one), whose progress `/archives` shows. On a staff screen, `base` is the
/// screen's path, under which its exports live.
#[component]
pub fn ZipButton(
    filters: Vec<(&'static str, String)>,
    count: usize,
    label: String,
    #[prop(default = String::new())] base: String,
) -> impl IntoView {
    let i18n = use_i18n();
    let stream_files = expect_context::<SiteInfo>().zip_stream_files as usize;
    if count <= stream_files {
        // A file, not a page of the app: the router must leave it to the browser.
        return view! {
            <a class="button" href=query_href(&format!("{base}/documents.zip"), &filters) rel="external" download="">
                {label}
            </a>
        }
        .into_any();
    }
    view! {
        <form method="post" action=format!("{base}/documents.zip")>
            {filters
                .into_iter()
                .map(|(name, value)| view! { <input type="hidden" name=name value=value /> })
                .collect_view()}
            <button type="submit" class="button">
                {label}
            </button>
            <span class="muted">{t!(i18n, zip_background_hint)}</span>
        </form>
    }
    .into_any()
}
