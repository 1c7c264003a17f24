//! flare-relay: serves the Flare Console, authenticates its users, and connects their browser tabs
//! to NVFlare through one shared upstream session and poller per (identity, study).
//!
//! The binary (`main.rs`) only parses flags and wires these modules; tests build the same router
//! with [`app`] and a fake upstream (the `fake` feature).

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::HeaderValue;
use axum::http::header::CACHE_CONTROL;
use axum::middleware;
use axum::routing::{any, delete, get, post};
use tokio::net::TcpListener;
use tower_http::set_header::SetResponseHeaderLayer;

pub mod audit;
pub mod auth;
pub mod clock;
pub mod config;
#[cfg(any(test, feature = "fake"))]
pub mod fake;
#[doc(hidden)]
pub mod fuzzing;
pub mod headers;
pub mod history;
pub mod hub;
pub mod kiosk;
pub mod listener;
pub mod origin;
pub mod ratelimit;
pub mod routes;
pub mod session;
pub mod state;
pub mod static_files;
pub mod study;
mod sync;
pub mod transfers;
pub mod upload;
pub mod upstream;
pub mod ws;

pub use state::AppState;

/// The relay's router: the API, the WebSocket and the console files.
pub fn app(state: AppState) -> Router {
    // A composition carries its files (base64): it may be as big as an upload.
    let compose_limit = DefaultBodyLimit::max(
        usize::try_from(state.transfers.max_upload_bytes).unwrap_or(usize::MAX),
    );
    let api = Router::new()
        .route("/api/login", post(routes::login::handler))
        .route("/api/logout", post(routes::logout::handler))
        .route("/api/session", get(routes::session::handler))
        .route("/api/upload", post(routes::upload::handler))
        .route("/api/download/{id}", get(routes::download::handler))
        .route(
            "/api/kiosk-tokens",
            get(routes::kiosk_tokens::list).post(routes::kiosk_tokens::create),
        )
        .route(
            "/api/kiosk-tokens/{id}",
            delete(routes::kiosk_token::revoke),
        )
        .route("/api/kiosk-login", post(routes::kiosk_login::handler))
        .route("/api/site-history", get(routes::site_history::handler))
        .route("/api/job-catalog", get(routes::job_catalog::handler))
        .route("/api/compose/starts", get(routes::compose_starts::handler))
        .route("/api/compose/import", get(routes::compose_import::handler))
        .route(
            "/api/compose/preview",
            post(routes::compose_preview::handler).layer(compose_limit),
        )
        .route(
            "/api/compose/zip",
            post(routes::compose_zip::handler).layer(compose_limit),
        )
        .route(
            "/api/compose",
            post(routes::compose::handler).layer(compose_limit),
        )
        .route("/api/{*rest}", any(routes::api_not_found))
        .layer(DefaultBodyLimit::max(16 * 1024))
        .layer(SetResponseHeaderLayer::overriding(
            CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    Router::new()
        .merge(api)
        .route("/ws", get(routes::ws::handler))
        .fallback_service(static_files::router(state.console_dir.clone()))
        .layer(middleware::from_fn_with_state(
            state.secure_cookies,
            headers::security_headers,
        ))
        .with_state(state)
}

/// Serves plain HTTP on a bound listener until the process ends, with the listener's limits (see
/// [`listener`]).
pub async fn serve(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    listener::serve(listener, state, None).await
}
