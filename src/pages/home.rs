use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::api::documents::get_overview;
use crate::app::SignedIn;
use crate::components::document_table::{
    date_text, doc_type_label, money_text, status_label, DocumentTable, StaleNotice,
};
use crate::components::error_view::ErrorView;
use crate::i18n::*;
use crate::model::{Overview, Role, SiteInfo};

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
                        {t!(i18n, manage_title)}
                    </A>
                </p>
            </section>
        }
        .into_any();
    }
    if let Some(user) = signed_in {
        let name = user.name.clone();
        let overview = Resource::new(|| (), |_| get_overview());
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
                {move || Suspend::new(async move {
                    match overview.await {
                        Ok(overview) => view! { <OverviewView overview /> }.into_any(),
                        Err(error) => view! { <ErrorView error /> }.into_any(),
                    }
                })}
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

#[component]
fn OverviewView(overview: Overview) -> impl IntoView {
    let i18n = use_i18n();
    if overview.orders.is_empty() {
        return view! {
            <StaleNotice stale=overview.stale />
            <p class="panel empty">{t!(i18n, overview_no_orders)}</p>
        }
        .into_any();
    }
    let orders = overview.orders.clone();
    let type_counts = overview.type_counts.clone();
    view! {
        <StaleNotice stale=overview.stale />
        <section aria-labelledby="orders-title">
            <h2 id="orders-title">{t!(i18n, overview_orders)}</h2>
            <div class="table-wrap">
                <table>
                    <thead>
                        <tr>
                            <th scope="col">{t!(i18n, col_order)}</th>
                            <th scope="col">{t!(i18n, col_status)}</th>
                            <th scope="col">{t!(i18n, col_date)}</th>
                            <th scope="col" class="num">{t!(i18n, col_items)}</th>
                            <th scope="col" class="num">{t!(i18n, col_total)}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {orders
                            .into_iter()
                            .map(|order| {
                                view! {
                                    <tr>
                                        <td>
                                            <A href=format!("/orders/{}", order.id)>{order.id.clone()}</A>
                                        </td>
                                        <td>{status_label(i18n, &order.status)}</td>
                                        <td>{date_text(i18n, order.created.as_deref())}</td>
                                        <td class="num">{order.item_count}</td>
                                        <td class="num">{money_text(i18n, &order.total)}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
        <section aria-labelledby="types-title">
            <h2 id="types-title">{t!(i18n, overview_by_type)}</h2>
            <ul class="type-counts">
                {type_counts
                    .into_iter()
                    .map(|tc| {
                        let href = format!("/documents?type={}", tc.doc_type.as_str());
                        view! {
                            <li>
                                <A href=href>
                                    <span class="count">{tc.count}</span>
                                    " "
                                    {doc_type_label(i18n, tc.doc_type)}
                                </A>
                            </li>
                        }
                    })
                    .collect_view()}
                <li>
                    <A href="/documents">
                        <span class="count">{overview.total_documents}</span>
                        " "
                        {t!(i18n, overview_all_documents)}
                    </A>
                </li>
            </ul>
        </section>
        <section aria-labelledby="latest-title">
            <h2 id="latest-title">{t!(i18n, overview_latest)}</h2>
            {if overview.latest.is_empty() {
                view! { <p>{t!(i18n, overview_no_documents)}</p> }.into_any()
            } else {
                view! { <DocumentTable rows=overview.latest.clone() show_order=true /> }.into_any()
            }}
        </section>
    }
    .into_any()
}
