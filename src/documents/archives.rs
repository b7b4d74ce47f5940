use leptos::prelude::*;
use leptos_meta::{Meta, Title};

use crate::base::error::AppError;
use crate::base::who::{Role, SignedIn};
use crate::documents::api::list_archives;
use crate::documents::model::{
    ArchiveList, ArchiveState, ArchiveView, ARCHIVES_PAGE, STAFF_ARCHIVES_PAGE,
};
use crate::i18n::*;
use crate::ui::error_view::ErrorView;
use crate::ui::format;

/// `/archives`: the ZIP downloads made in the background, with their progress. While one is
/// in the making the page reloads itself every few seconds (a `<meta>` refresh, which needs
/// no JavaScript).
#[component]
pub fn ArchivesPage() -> impl IntoView {
    // A staff member's archives have their own page, under `/manage`.
    if matches!(expect_context::<SignedIn>().0, Some(ref user) if user.role == Role::Staff) {
        return view! { <ErrorView error=AppError::NotFound /> }.into_any();
    }
    view! { <Archives staff=false /> }.into_any()
}

/// The caller's background archives; with `staff`, a staff member's own, for
/// `/manage/archives`.
#[component]
pub fn Archives(staff: bool) -> impl IntoView {
    let i18n = use_i18n();
    if expect_context::<SignedIn>().0.is_none() {
        return view! { <ErrorView error=AppError::Unauthorized /> }.into_any();
    }
    let list = Resource::new(|| (), |_| list_archives());
    view! {
        <Title text=t_string!(i18n, archives_title).to_string() />
        <Transition fallback=move || {
            view! {
                <h1>{t!(i18n, archives_title)}</h1>
                <p class="loading">{t!(i18n, loading)}</p>
            }
        }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(list) => view! { <ArchivesView list staff /> }.into_any(),
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
fn ArchivesView(list: ArchiveList, staff: bool) -> impl IntoView {
    let i18n = use_i18n();
    let (page, back) = if staff {
        let back = t_string!(i18n, archives_back_customers);
        (STAFF_ARCHIVES_PAGE, ("/manage", back))
    } else {
        (ARCHIVES_PAGE, ("/documents", t_string!(i18n, archive_back)))
    };
    let running = list
        .archives
        .iter()
        .any(|a| a.state == ArchiveState::Running);
    let limits = t_string!(i18n, archives_limits)
        .replace("%max%", &list.max_files.to_string())
        .replace("%at_once%", &list.at_once.to_string())
        .replace("%hours%", &list.keep_hours.to_string());
    let items = if list.archives.is_empty() {
        let none = if staff {
            t_string!(i18n, archives_none_staff)
        } else {
            t_string!(i18n, archives_none)
        };
        view! { <p class="panel empty">{none}</p> }.into_any()
    } else {
        view! {
            <ul class="archives">
                {list
                    .archives
                    .into_iter()
                    .map(|archive| view! { <ArchiveItem archive /> })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        // To the page's own address without a fragment: a refresh to `/archives#archive-…`
        // would only scroll, not reload.
        {running.then(|| view! { <Meta http_equiv="refresh" content=format!("5; url={page}") /> })}
        <h1>{t!(i18n, archives_title)}</h1>
        <p class="lead">{limits}</p>
        {items}
        <p>
            <a href=back.0>{back.1}</a>
        </p>
    }
}

#[component]
fn ArchiveItem(archive: ArchiveView) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let progress = t_string!(i18n, archives_progress)
        .replace("%done%", &archive.files_done.to_string())
        .replace("%total%", &archive.files_total.to_string());
    let state = match archive.state {
        ArchiveState::Ready => t_string!(i18n, archives_ready),
        ArchiveState::Running => t_string!(i18n, archives_running),
        ArchiveState::Failed => t_string!(i18n, archives_failed),
    };
    let made = t_string!(i18n, archives_made)
        .replace("%when%", &format::date_time(&archive.created, locale));
    let kept = t_string!(i18n, archives_kept_until)
        .replace("%when%", &format::date_time(&archive.expires, locale));
    let missing = (archive.missing > 0).then(|| {
        let text =
            t_string!(i18n, archives_missing).replace("%count%", &archive.missing.to_string());
        view! { <p class="notice">{text}</p> }
    });
    let id = format!("archive-{}", archive.id);
    let title_id = format!("archive-title-{}", archive.id);
    let actions = match archive.state {
        ArchiveState::Ready => Some(
            view! {
                <a
                    class="button"
                    href=format!("/archives/{}/download", archive.id)
                    rel="external"
                    download=""
                >
                    {t!(i18n, action_download)}
                    <span class="visually-hidden">" "{archive.name.clone()}</span>
                </a>
            }
            .into_any(),
        ),
        ArchiveState::Running => Some(
            view! {
                <progress value=archive.files_done max=archive.files_total.max(1)>
                    {progress.clone()}
                </progress>
            }
            .into_any(),
        ),
        ArchiveState::Failed => None,
    };
    let remove = if archive.state == ArchiveState::Running {
        t_string!(i18n, archives_stop)
    } else {
        t_string!(i18n, archives_delete)
    };
    view! {
        <li id=id class="panel archive">
            <h2 id=title_id>{archive.name.clone()}</h2>
            <p>
                <strong>{state}</strong>
                " · "
                {progress}
                {(archive.bytes > 0).then(|| format!(" · {}", format::size(archive.bytes, locale)))}
            </p>
            {missing}
            <p class="muted">{made}" · "{kept}</p>
            <div class="archive-actions">
                {actions}
                <form method="post" action=format!("/archives/{}/delete", archive.id)>
                    <button type="submit" class="link-button">
                        {remove}
                        <span class="visually-hidden">" "{archive.name}</span>
                    </button>
                </form>
            </div>
        </li>
    }
}
