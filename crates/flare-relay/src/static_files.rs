//! The built console: files from `console_dir`, `index.html` for `/` and deep links (with the
//! Content-Security-Policy that allows its inline loader, see [`crate::headers`]), and cache
//! headers (hashed trunk assets are immutable; everything else is revalidated).

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY};
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use tower_http::services::ServeDir;

/// The service that serves the console folder.
pub fn router(dir: PathBuf) -> Router {
    let index = Arc::new(dir.join("index.html"));
    let deep_link = get(deep_link).with_state(index.clone());
    let files = ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(deep_link);
    Router::new()
        .route("/", get(index_html))
        .route("/index.html", get(index_html))
        .with_state(index)
        .fallback_service(files)
        .layer(middleware::from_fn(cache_control))
}

/// Answers a path that is no file with `index.html`, so the console's router shows it; a missing
/// file with an extension stays a 404.
async fn deep_link(index: State<Arc<PathBuf>>, uri: Uri) -> Response {
    let last = uri.path().rsplit('/').next().unwrap_or("");
    if last.contains('.') {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    index_html(index).await
}

/// `index.html`, with a policy that allows its inline scripts by hash.
async fn index_html(State(index): State<Arc<PathBuf>>) -> Response {
    match tokio::fs::read_to_string(index.as_path()).await {
        Ok(html) => {
            let policy = crate::headers::policy_for_index(&html);
            let mut response = Html(html).into_response();
            if let Ok(value) = HeaderValue::from_str(&policy) {
                response
                    .headers_mut()
                    .insert(CONTENT_SECURITY_POLICY, value);
            }
            response
        }
        Err(e) => {
            tracing::error!("cannot read the console's index.html: {e}");
            (
                StatusCode::NOT_FOUND,
                "the console is not built: index.html is missing from console_dir",
            )
                .into_response()
        }
    }
}

async fn cache_control(request: Request, next: Next) -> Response {
    let immutable = is_hashed_asset(request.uri().path());
    let mut response = next.run(request).await;
    let status = response.status();
    if status.is_success() || status == StatusCode::NOT_MODIFIED {
        let value = if immutable {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static(value));
    }
    response
}

/// True for trunk's content-hashed file names, e.g. `app-0123456789abcdef_bg.wasm`.
pub fn is_hashed_asset(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or("");
    let Some((stem, _ext)) = name.split_once('.') else {
        return false;
    };
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    let Some((_, hash)) = stem.rsplit_once('-') else {
        return false;
    };
    hash.len() >= 16 && hash.chars().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_assets_are_recognized() {
        assert!(is_hashed_asset("/flare-console-0123456789abcdef_bg.wasm"));
        assert!(is_hashed_asset("/flare-console-0123456789abcdef.js"));
        assert!(is_hashed_asset("/style-0123456789abcdef0123.css"));
        assert!(!is_hashed_asset("/index.html"));
        assert!(!is_hashed_asset("/jobs/abc"));
        assert!(!is_hashed_asset("/favicon-small.png"));
    }
}
