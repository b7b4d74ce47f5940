//! The document shell (server only) and the application root with its routes.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Style, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use crate::components::link_banner::LinkBanner;
use crate::components::{
    demo_banner::DemoBanner, site_footer::SiteFooter, site_header::SiteHeader,
};
use crate::i18n::*;
use crate::model::Role;
use crate::model::{SiteInfo, UserView};
use crate::pages::manage::{
    audit::ManageAuditPage, customer::ManageCustomerPage, home::ManageHomePage,
    link::ManageLinkPage, links::ManageLinksPage, share::ManageSharePage,
};
use crate::pages::{
    access::AccessPage, documents::DocumentsPage, home::HomePage, invoices::InvoicesPage,
    link_ended::LinkEndedPage, login::LoginPage, login_check::LoginCheckPage,
    login_verify::LoginVerifyPage, not_found::NotFound, order::OrderPage, outbox::OutboxPage,
    share::ShareLandingPage,
};

/// The signed-in person, if any. Signing in and out are full page loads, so this is read once
/// per page load on the server and carried to the browser inside the page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedIn(pub Option<UserView>);

/// The HTML document around the application. Runs only on the server, once per page request.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server::security::apply_page_csp();
    view! {
        <!DOCTYPE html>
        <html>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <Stylesheet options=options.clone() />
                // Every page works without JavaScript, so the bundle loads when the browser is
                // idle, at low priority: it no longer competes with the page's own HTML and CSS
                // for the first paint on a slow connection (see bench/FINDINGS.md).
                <HydrationScripts options defer=true />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// What `leptos_meta`'s `HashedStylesheet` renders, `<link id="leptos" rel="stylesheet">`
/// to the (hashed) stylesheet, with the file name worked out once per process:
/// `HashedStylesheet` looks up the executable and reads `hash.txt` beside it on every page.
/// The name cannot change while the process runs: the file belongs to the executable.
#[component]
fn Stylesheet(options: LeptosOptions) -> impl IntoView {
    static HREF: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let href = HREF.get_or_init(|| {
        let mut name = options.output_name.to_string();
        if options.hash_files {
            let hashes = std::env::current_exe()
                .ok()
                .and_then(|exe| exe.parent().map(|dir| dir.join(options.hash_file.as_ref())))
                .and_then(|path| std::fs::read_to_string(path).ok())
                .unwrap_or_default();
            let css = hashes
                .lines()
                .filter_map(|line| line.trim().split_once(':'))
                .find(|(file, _)| *file == "css");
            if let Some((_, hash)) = css {
                name.push('.');
                name.push_str(hash.trim());
            }
        }
        format!("/{}/{name}.css", options.site_pkg_dir)
    });
    view! { <link id="leptos" rel="stylesheet" href=href.as_str() /> }
}

/// The application root: brand, translations, layout and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Read once on the server and carried to the browser inside the page, so hydration needs no
    // extra request to know the tenant's brand.
    let site = SharedValue::new(site_info).into_inner();
    provide_context(site);
    let user = SharedValue::new(signed_in_user).into_inner();
    provide_context(SignedIn(user));

    // The language cookie belongs to the whole site, not to the folder of the page where the
    // language was switched (the browser's default path).
    let cookie_options = leptos_use::UseCookieOptions::default()
        .path("/")
        .same_site(leptos_use::SameSite::Lax);
    view! {
        <I18nContextProvider cookie_options>
            <Layout />
        </I18nContextProvider>
    }
}

#[component]
fn Layout() -> impl IntoView {
    let i18n = use_i18n();
    let site = expect_context::<SiteInfo>();
    let brand_name = site.brand_name.clone();
    let grant = match expect_context::<SignedIn>().0 {
        Some(UserView {
            role: Role::Link(grant),
            ..
        }) => Some(grant),
        _ => None,
    };

    // Effects run only in the browser, after hydration: the attribute tells tests (and curious
    // people) that the page is interactive.
    Effect::new(move |_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Style>{format!(":root {{ --brand: {}; }}", site.brand_color)}</Style>
        <Title formatter=move |page: String| {
            if page.is_empty() { brand_name.clone() } else { format!("{page} · {brand_name}") }
        } />
        <Router>
            <a class="skip-link" href="#main">
                {t!(i18n, skip_to_content)}
            </a>
            {site.demo.then(|| view! { <DemoBanner /> })}
            <SiteHeader />
            {grant.map(|grant| view! { <LinkBanner grant /> })}
            <main id="main" tabindex="-1">
                <Routes fallback=|| view! { <NotFound /> }>
                    // Pages with customer data render whole before answering, so that their
                    // status (404 for someone else's order, 503 when FlexPortal is down) is
                    // the real one; browsers without JavaScript get the complete HTML.
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async />
                    <Route path=path!("/documents") view=DocumentsPage ssr=SsrMode::Async />
                    <Route path=path!("/orders/:id") view=OrderPage ssr=SsrMode::Async />
                    <Route path=path!("/invoices") view=InvoicesPage ssr=SsrMode::Async />
                    // Pages that load data render it in order, so browsers without
                    // JavaScript get it in the HTML.
                    <Route path=path!("/login") view=|| view! { <LoginPage /> } ssr=SsrMode::InOrder />
                    <Route
                        path=path!("/login/check")
                        view=|| view! { <LoginCheckPage /> }
                        ssr=SsrMode::InOrder
                    />
                    <Route path=path!("/login/verify") view=|| view! { <LoginVerifyPage /> } />
                    <Route path=path!("/dev/outbox") view=OutboxPage ssr=SsrMode::InOrder />
                    <Route path=path!("/access") view=AccessPage ssr=SsrMode::Async />
                    <Route path=path!("/s/:token") view=ShareLandingPage ssr=SsrMode::Async />
                    <Route path=path!("/shared/ended") view=LinkEndedPage />
                    // Account managers.
                    <Route
                        path=path!("/manage/login")
                        view=|| view! { <LoginPage staff=true /> }
                        ssr=SsrMode::InOrder
                    />
                    <Route
                        path=path!("/manage/login/check")
                        view=|| view! { <LoginCheckPage staff=true /> }
                        ssr=SsrMode::InOrder
                    />
                    <Route
                        path=path!("/manage/login/verify")
                        view=|| view! { <LoginVerifyPage staff=true /> }
                    />
                    <Route path=path!("/manage") view=ManageHomePage ssr=SsrMode::Async />
                    <Route
                        path=path!("/manage/customers/:id")
                        view=ManageCustomerPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/manage/customers/:id/share")
                        view=ManageSharePage
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("/manage/links") view=ManageLinksPage ssr=SsrMode::Async />
                    <Route path=path!("/manage/links/:id") view=ManageLinkPage ssr=SsrMode::Async />
                    <Route path=path!("/manage/audit") view=ManageAuditPage ssr=SsrMode::Async />
                </Routes>
            </main>
            <SiteFooter />
        </Router>
    }
}

/// The portal's brand and mode. On the server it comes from the configuration; in the browser
/// [`SharedValue`] reads the server's answer from the page, so this body never runs there.
fn site_info() -> SiteInfo {
    #[cfg(feature = "ssr")]
    {
        use_context::<crate::server::state::AppState>()
            .map(|state| state.site_info())
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        SiteInfo::default()
    }
}

/// The signed-in person, read on the server from the request's principal.
fn signed_in_user() -> Option<UserView> {
    #[cfg(feature = "ssr")]
    {
        crate::server::auth::current_principal().map(|p| p.view())
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}
