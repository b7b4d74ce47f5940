use std::sync::Arc;

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::base::who::{Role, SignedIn, SiteInfo};
use crate::documents::api::get_overview;
use crate::documents::model::Overview;
use crate::documents::orders::{order_table, OrderText};
use crate::documents::table::{doc_type_label, document_table, RowText, StaleNotice};
use crate::i18n::*;
use crate::ui::error_view::ErrorView;
use crate::ui::view_text::TextCache;

/// `/`: for a signed-in customer the overview of orders and documents; for anyone else what
/// the portal is for.
#[component]
pub fn HomePage() -> impl IntoView {
    let i18n = use_i18n();
    let brand = expect_context::<SiteInfo>().brand_name;
    let signed_in = expect_context::<SignedIn>().0;
    if signed_in.as_ref().is_some_and(|u| u.role == Role::Staff) {
        // Staff see customers only through the staff screens.
        return view! {
            <Title text="" />
            <section class="hero compact" aria-labelledby="home-title">
                <h1 id="home-title">{t!(i18n, home_staff_title)}</h1>
                <p>
                    <A href="/manage" attr:class="button">
                        {t!(i18n, staff_title)}
                    </A>
                </p>
            </section>
        }
        .into_any();
    }
    if let Some(user) = signed_in {
        let name = user.name.clone();
        // Shared, and its text kept, because the view is built more than once while the
        // server renders the page (see `view_text`).
        let overview = Resource::new(|| (), |_| async { get_overview().await.map(Arc::new) });
        let text = TextCache::default();
        let heading = if matches!(user.role, Role::Link(_)) {
            // A link session has no person behind it: the link's label names it.
            view! { <h1 id="home-title">{name}</h1> }.into_any()
        } else {
            view! { <h1 id="home-title">{t!(i18n, home_welcome, name = move || name.clone())}</h1> }
                .into_any()
        };
        return view! {
            <Title text="" />
            <section class="hero compact" aria-labelledby="home-title">
                {heading}
                {match user.role.clone() {
                    Role::Link(grant) => {
                        let name = grant.shared_by.clone();
                        view! {
                            <p class="lead">
                                {t!(i18n, link_home_intro, name = move || name.clone(), brand = move || brand.clone())}
                            </p>
                        }
                            .into_any()
                    }
                    _ => view! { <p class="lead">{t!(i18n, home_signed_in_intro, brand = move || brand.clone())}</p> }.into_any(),
                }}
            </section>
            <Suspense fallback=move || view! { <p class="loading">{t!(i18n, loading)}</p> }>
                // `Either` rather than `into_any()`, which would copy every static text and
                // attribute of the overview into owned strings, on each of those builds.
                {move || {
                    let text = text.clone();
                    Suspend::new(async move {
                        match overview.await {
                            Ok(overview) => Either::Left(view! { <OverviewView overview text /> }),
                            Err(error) => Either::Right(view! { <ErrorView error /> }),
                        }
                    })
                }}
            </Suspense>
            {(user.role == Role::Customer)
                .then(|| {
                    view! {
                        <form method="post" action="/logout/everywhere" class="sign-out-everywhere">
                            <button type="submit" class="link-button">
                                {t!(i18n, sign_out_everywhere)}
                            </button>
                        </form>
                    }
                })}
        }
        .into_any();
    }
    view! {
        <Title text="" />
        <section class="hero" aria-labelledby="home-title">
            <h1 id="home-title">{t!(i18n, home_title)}</h1>
            <p class="lead">{t!(i18n, home_intro, brand = move || brand.clone())}</p>
            <p>
                <A href="/login" attr:class="button">
                    {t!(i18n, home_sign_in_cta)}
                </A>
            </p>
        </section>
    }
    .into_any()
}

/// The text of an [`OverviewView`] that takes formatting: the orders and the latest documents.
struct OverviewText {
    orders: Vec<OrderText>,
    latest: Vec<RowText>,
}

/// The links in these lists are plain `<a>`s: the router handles their clicks all the same,
/// and none of them can point at the page they are on, which is all an `<A>` adds.
#[component]
fn OverviewView(overview: Arc<Overview>, text: TextCache<Overview, OverviewText>) -> impl IntoView {
    let i18n = use_i18n();
    if overview.orders.is_empty() {
        return Either::Left(view! {
            <StaleNotice age=overview.age.clone() />
            <p class="panel empty">{t!(i18n, overview_no_orders)}</p>
        });
    }
    let text = text.get(&overview, i18n.get_locale_untracked(), || OverviewText {
        orders: OrderText::of(i18n, &overview.orders),
        latest: RowText::of(i18n, &overview.latest, true, None),
    });
    let all_orders = (overview.order_count > overview.orders.len()).then(|| {
        let text = t_string!(i18n, overview_all_orders)
            .replace("%count%", &overview.order_count.to_string());
        view! {
            <p class="more">
                <a href="/orders">{text}</a>
            </p>
        }
    });
    let type_counts = overview
        .type_counts
        .iter()
        .map(|tc| {
            let href = format!("/documents?type={}", tc.doc_type.as_str());
            view! {
                <li>
                    <a href=href>
                        <span class="count">{tc.count}</span>
                        " "
                        {doc_type_label(i18n, tc.doc_type)}
                    </a>
                </li>
            }
        })
        .collect_view();
    let latest = if overview.latest.is_empty() {
        Either::Left(view! { <p>{t!(i18n, overview_no_documents)}</p> })
    } else {
        Either::Right(document_table(i18n, &text.latest, true, None))
    };
    Either::Right(view! {
        <StaleNotice age=overview.age.clone() />
        <section aria-labelledby="orders-title">
            <h2 id="orders-title">{t!(i18n, overview_orders)}</h2>
            {order_table(i18n, &text.orders)}
            {all_orders}
        </section>
        <section aria-labelledby="types-title">
            <h2 id="types-title">{t!(i18n, overview_by_type)}</h2>
            <ul class="type-counts">
                {type_counts}
                <li>
                    <a href="/documents">
                        <span class="count">{overview.total_documents}</span>
                        " "
                        {t!(i18n, overview_all_documents)}
                    </a>
                </li>
            </ul>
        </section>
        <section aria-labelledby="latest-title">
            <h2 id="latest-title">{t!(i18n, overview_latest)}</h2>
            {latest}
        </section>
    })
}
