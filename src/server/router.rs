//! The HTTP router: plain routes, static assets, Leptos pages and server functions, and the
//! middleware around all of them. A plain function, so tests drive it without opening a port.

use axum::http::{header, HeaderValue, Request};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{middleware, Router};
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower::ServiceBuilder;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use tracing::Level;

use crate::app::{shell, App};
use crate::base::server::answers::not_found;
use crate::base::server::session::SqlSessionStore;
use crate::base::server::state::AppState;
use crate::base::server::{health, hooks, locale, security, telemetry};
use crate::documents::server::{background, exports, files, lists};
use crate::links::server as links;
use crate::signin::server as signin;
use crate::staff::server::actions;
use crate::staff::server::exports as staff_exports;

pub fn router(state: AppState) -> Router {
    let options = state.leptos_options.clone();
    let policy = security::SecurityPolicy::new(&state.config);
    let routes = generate_route_list(App);

    // Hashed file names change with their content, so browsers may keep them for a year.
    // Without hashing (a plain `cargo leptos build` during development) they must revalidate.
    let pkg_cache = HeaderValue::from_static(if options.hash_files {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    });
    let pkg_dir = format!("{}/{}", options.site_root, options.site_pkg_dir);
    let pkg = ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            pkg_cache,
        ))
        .service(
            ServeDir::new(pkg_dir)
                .precompressed_br()
                .precompressed_gzip(),
        );

    let favicon = ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=86400"),
        ))
        .service(ServeFile::new(format!("{}/favicon.svg", options.site_root)));

    // Sessions live in Folio's database; the cookie carries only the id. Over https the name
    // has the `__Host-` prefix: browsers then take the cookie only from this very host, sent
    // securely, for the whole site, so no neighbour on a parent domain can plant one.
    let sessions = SessionManagerLayer::new(SqlSessionStore::new(
        state.store.clone(),
        state.clock.clone(),
    ))
    .with_name(session_cookie_name(state.config.public_url.https))
    .with_path("/")
    .with_http_only(true)
    .with_same_site(SameSite::Lax)
    .with_secure(state.config.public_url.https)
    .with_expiry(Expiry::OnInactivity(time::Duration::minutes(i64::from(
        state.config.auth.idle_minutes,
    ))));

    // Everything a person uses: pages, server functions and form posts, with their session.
    let app_routes = Router::new()
        .route("/locale", post(locale::set_locale))
        .route("/login", post(signin::request_sign_in))
        .route("/login/code", post(signin::verify_code))
        .route("/login/verify", post(signin::verify_link))
        .route("/logout", post(signin::sign_out))
        .route("/logout/everywhere", post(signin::sign_out_everywhere))
        .route("/files/{id}/view", get(files::view))
        .route("/files/{id}/download", get(files::download))
        .route(
            "/documents.zip",
            get(exports::documents_zip).post(exports::selected_zip),
        )
        .route("/documents.csv", get(lists::documents_csv))
        .route("/invoices.csv", get(lists::invoices_csv))
        .route("/archives/{id}/download", get(background::download))
        .route("/archives/{id}/delete", post(background::delete))
        .route("/s/{token}", post(links::open))
        .route("/manage/login", post(signin::request_sign_in))
        .route("/manage/login/code", post(signin::verify_code))
        .route("/manage/login/verify", post(signin::verify_link))
        .route("/manage/customers/{id}/share", post(actions::create))
        .route("/manage/links/{id}/revoke", post(actions::revoke))
        .route("/manage/links/{id}/extend", post(actions::extend))
        .route(
            "/manage/customers/{id}/documents.zip",
            get(staff_exports::documents_zip).post(staff_exports::selected_zip),
        )
        .route(
            "/manage/customers/{id}/documents.csv",
            get(staff_exports::documents_csv),
        )
        .route(
            "/manage/customers/{id}/invoices.csv",
            get(staff_exports::invoices_csv),
        )
        .route(
            "/manage/customers/{customer}/files/{id}/view",
            get(files::staff_view),
        )
        .route(
            "/manage/customers/{customer}/files/{id}/download",
            get(files::staff_download),
        )
        .leptos_routes_with_context(&state, routes, || (), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        // A known path with the wrong method is as unknown as any other: a 405 would tell
        // that a staff route exists.
        .method_not_allowed_fallback(|| async { not_found() })
        .with_state(state.clone());
    // The layers wrap each router once, as a whole. `Router::layer` would wrap every route
    // (and every method of it) on its own, and a router clones the matched route's whole
    // stack on every request: measured, that was a third of the cost of serving a kept page.
    let app = ServiceBuilder::new()
        // Everything behind a session may show a customer's or staff member's data: no
        // browser or proxy cache may keep it, nor show it again after sign-out.
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        ))
        .layer(sessions)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            super::principal::load_principal,
        ))
        // Inside the principal's layer: a kept page is only served to a session checked
        // just now.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            serve_kept_pages,
        ))
        // A page render, once started, runs to its end even when the browser goes away.
        .layer(middleware::from_fn(finish_what_was_started))
        .service(app_routes);

    // Probes, metrics and static files need no session.
    let site = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        // FlexPortal's webhooks: server to server, no session. Any other method answers 404,
        // like an unknown path: a 405 would tell that the endpoint exists.
        .route(
            "/hooks/flexportal",
            post(hooks::receive).fallback(|| async { not_found() }),
        )
        .route(
            "/hooks/flexportal/{secret}",
            post(hooks::receive_in_path).fallback(|| async { not_found() }),
        )
        .nest_service(&format!("/{}", options.site_pkg_dir), pkg)
        .route_service("/favicon.svg", favicon)
        .fallback_service(app)
        .with_state(state);

    Router::new().fallback_service(
        ServiceBuilder::new()
            // Every request gets an id of Folio's own: one a client sent could name another
            // request in the logs, or carry text into them.
            .layer(tower::layer::layer_fn(|inner| {
                tower::util::MapRequest::new(inner, drop_request_id)
            }))
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(request_span)
                    .on_response(DefaultOnResponse::new().level(Level::INFO)),
            )
            .layer(PropagateRequestIdLayer::x_request_id())
            // Responses compress as they stream, at a moderate quality: brotli's default (11)
            // costs more CPU per response than rendering the page. The WebAssembly bundle is
            // left alone: the release build ships it precompressed (`--precompress`), and
            // compressing megabytes per request would only stall the first page load.
            .layer(
                CompressionLayer::new()
                    .quality(CompressionLevel::Precise(4))
                    .compress_when(
                        DefaultPredicate::new()
                            .and(NotForContentType::const_new("application/wasm"))
                            // Archives of PDFs: stored, and would not shrink.
                            .and(NotForContentType::const_new("application/zip")),
                    ),
            )
            .layer(middleware::from_fn_with_state(
                policy.clone(),
                security::security_headers,
            ))
            // Also refuses bodies over the limit, with a page that says so.
            .layer(middleware::from_fn_with_state(
                policy,
                security::same_origin_only,
            ))
            .service(site),
    )
}

/// Runs the request to its end in a task of its own, body included, so that a browser that
/// goes away (a closed tab, a client's timeout) does not drop a Leptos render midway. (Kept
/// pages, served from memory in the layer outside, need no such task.) A render
/// dropped midway never cleans up: its resources and effects stay alive, each with a task that
/// waits for good (tests/it/panics.rs). Run to its end, the render is torn down as always, and the
/// session is saved as it would have been. The body is at most a page: pages with customer data
/// render whole before they answer anyway, and kept pages are held whole too.
async fn finish_what_was_started(
    request: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    use futures::StreamExt;
    use tracing::Instrument;
    let run = async move {
        let (parts, body) = next.run(request).await.into_parts();
        let mut chunks = Vec::new();
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(chunk) => chunks.push(Ok(chunk)),
                // A body that broke off breaks off for the browser too, where it broke.
                Err(e) => {
                    chunks.push(Err(e));
                    break;
                }
            }
        }
        let body = if chunks.len() == 1 && chunks[0].is_ok() {
            axum::body::Body::from(chunks.pop().and_then(Result::ok).unwrap_or_default())
        } else {
            axum::body::Body::from_stream(futures::stream::iter(chunks))
        };
        axum::response::Response::from_parts(parts, body)
    };
    match tokio::spawn(run.instrument(tracing::Span::current())).await {
        Ok(response) => response,
        Err(e) => {
            tracing::error!(error = %e, "the request's task failed");
            axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The page cache, for the customer's document pages (the documents feature says which).
async fn serve_kept_pages(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    state
        .pages
        .serve(
            &state.upstream.client,
            crate::documents::pages::is_customer_page,
            request,
            next,
        )
        .await
}

/// The session cookie's name: `__Host-folio_session` over https, `folio_session` over plain
/// http (where browsers refuse the prefix).
pub fn session_cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-folio_session"
    } else {
        "folio_session"
    }
}

fn drop_request_id<B>(mut request: Request<B>) -> Request<B> {
    request.headers_mut().remove("x-request-id");
    request
}

/// One span per request, named by its id. Only the path is recorded, and of a portal link's
/// path not the token: query strings carry sign-in tokens and `/s/…` paths link tokens, which
/// must never reach a log.
fn request_span<B>(request: &Request<B>) -> tracing::Span {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        id = %id,
        method = %request.method(),
        path = %telemetry::loggable_path(request.uri().path()),
    )
}
