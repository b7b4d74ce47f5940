//! The document shell (server only) and the application root with its routes.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Style, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

use crate::base::who::{Role, SignedIn, SiteInfo, UserView};
use crate::documents::archives::ArchivesPage;
use crate::documents::invoices::InvoicesPage;
use crate::documents::list::DocumentsPage;
use crate::documents::order::OrderPage;
use crate::documents::orders::OrdersPage;
use crate::documents::overview::HomePage;
use crate::i18n::*;
use crate::links::access::AccessPage;
use crate::links::banner::LinkBanner;
use crate::links::ended::LinkEndedPage;
use crate::links::landing::LinkLandingPage;
use crate::signin::check::LoginCheckPage;
use crate::signin::login::LoginPage;
use crate::signin::outbox::OutboxPage;
use crate::signin::verify::LoginVerifyPage;
use crate::staff::archives::StaffArchivesPage;
use crate::staff::audit::StaffAuditPage;
use crate::staff::customer::StaffCustomerPage;
use crate::staff::home::StaffHomePage;
use crate::staff::link::StaffLinkPage;
use crate::staff::links::StaffLinksPage;
use crate::staff::new_link::NewLinkPage;
use crate::ui::demo_banner::DemoBanner;
use crate::ui::not_found::NotFound;
use crate::ui::site_footer::SiteFooter;
use crate::ui::site_header::SiteHeader;

/// The HTML document around the application. Runs only on the server, once per page request.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::base::server::security::apply_page_csp();
    view! {
        <!DOCTYPE html>
        <html>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <Stylesheet options=options.clone() />
                <Hydration options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The names of the built CSS, JS and WebAssembly files, worked out once per process: with
/// hashed file names they come from `hash.txt` beside the executable, which cannot change
/// while it runs. (`HashedStylesheet` and `HydrationScripts` read it again on every page.)
struct Assets {
    css: String,
    /// The module script that loads the JS and WebAssembly files and hydrates the page.
    hydration: String,
}

impl Assets {
    fn of(options: &LeptosOptions) -> &'static Assets {
        static ASSETS: std::sync::OnceLock<Assets> = std::sync::OnceLock::new();
        ASSETS.get_or_init(|| {
            let hashes = if options.hash_files {
                std::env::current_exe()
                    .ok()
                    .and_then(|exe| exe.parent().map(|dir| dir.join(options.hash_file.as_ref())))
                    .and_then(|path| std::fs::read_to_string(path).ok())
                    .unwrap_or_default()
            } else {
                String::new()
            };
            let name = |kind: &str| {
                let hash = hashes
                    .lines()
                    .filter_map(|line| line.trim().split_once(':'))
                    .find(|(file, _)| *file == kind)
                    .map(|(_, hash)| format!(".{}", hash.trim()))
                    .unwrap_or_default();
                format!(
                    "/{}/{}{hash}.{kind}",
                    options.site_pkg_dir, options.output_name
                )
            };
            Assets {
                css: name("css"),
                hydration: format!(
                    "(() => {{ const start = () => import({js:?}).then((m) => m.default({{ module_or_path: {wasm:?} }}).then(() => m.hydrate())); \
                     if ('requestIdleCallback' in window) {{ requestIdleCallback(start, {{ timeout: 2000 }}); }} else {{ setTimeout(start, 1); }} }})();",
                    js = name("js"),
                    wasm = name("wasm"),
                ),
            }
        })
    }
}

/// What `leptos_meta`'s `HashedStylesheet` renders, `<link id="leptos" rel="stylesheet">`.
#[component]
fn Stylesheet(options: LeptosOptions) -> impl IntoView {
    view! { <link id="leptos" rel="stylesheet" href=Assets::of(&options).css.as_str() /> }
}

/// Loads the bundle and hydrates the page once the browser is idle, as `HydrationScripts`
/// with `defer` does, but without its preload hints. Every page works without JavaScript, so
/// nothing waits for the bundle; fetched during the first paint, even at low priority, its
/// 420 KB competed with the page's own HTML and CSS on a slow connection (Lighthouse's
/// largest contentful paint, bench/FINDINGS.md).
#[component]
fn Hydration(options: LeptosOptions) -> impl IntoView {
    let script = Assets::of(&options).hydration.as_str();
    view! { <script type="module" nonce=leptos::nonce::use_nonce()>{script}</script> }
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
                    <Route path=path!("/orders") view=OrdersPage ssr=SsrMode::Async />
                    <Route path=path!("/orders/:id") view=OrderPage ssr=SsrMode::Async />
                    <Route path=path!("/invoices") view=InvoicesPage ssr=SsrMode::Async />
                    <Route path=path!("/archives") view=ArchivesPage ssr=SsrMode::Async />
                    // Pages that load data render it in order, so browsers without
                    // JavaScript get it in the HTML.
                    <Route path=path!("/login") view=|| view! { <LoginPage /> } ssr=SsrMode::InOrder />
                    <Route
                        path=path!("/login/check")
                        view=|| view! { <LoginCheckPage /> }
                        ssr=SsrMode::InOrder
                    />
                    <Route
                        path=path!("/login/verify")
                        view=|| view! { <LoginVerifyPage /> }
                        ssr=SsrMode::InOrder
                    />
                    <Route path=path!("/dev/outbox") view=OutboxPage ssr=SsrMode::InOrder />
                    <Route path=path!("/access") view=AccessPage ssr=SsrMode::Async />
                    <Route path=path!("/s/:token") view=LinkLandingPage ssr=SsrMode::Async />
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
                        ssr=SsrMode::InOrder
                    />
                    <Route path=path!("/manage") view=StaffHomePage ssr=SsrMode::Async />
                    <Route
                        path=path!("/manage/customers/:id")
                        view=StaffCustomerPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/manage/customers/:id/share")
                        view=NewLinkPage
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("/manage/links") view=StaffLinksPage ssr=SsrMode::Async />
                    <Route path=path!("/manage/links/:id") view=StaffLinkPage ssr=SsrMode::Async />
                    <Route path=path!("/manage/audit") view=StaffAuditPage ssr=SsrMode::Async />
                    <Route
                        path=path!("/manage/archives")
                        view=StaffArchivesPage
                        ssr=SsrMode::Async
                    />
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
        use_context::<crate::base::server::state::AppState>()
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
        crate::base::server::principal::current_principal().map(|p| p.view())
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}
