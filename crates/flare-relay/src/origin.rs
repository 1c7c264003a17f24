//! The `Origin` check: exact match against the allowlist, required on the WebSocket upgrade and
//! enforced on API posts whenever a browser sends one.

use axum::http::HeaderMap;
use axum::http::header::ORIGIN;

/// Why a request's origin is refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum OriginError {
    #[error("the request has no Origin header")]
    Missing,
    #[error("origin {0:?} is not allowed")]
    NotAllowed(String),
}

/// The WebSocket rule: an `Origin` header is required and must be on the list exactly.
pub fn check_required(headers: &HeaderMap, allowed: &[String]) -> Result<(), OriginError> {
    match headers.get(ORIGIN) {
        None => Err(OriginError::Missing),
        Some(value) => check_value(value.to_str().unwrap_or(""), allowed),
    }
}

/// The API rule: non-browser clients send no `Origin`; a present one must be on the list exactly.
pub fn check_if_present(headers: &HeaderMap, allowed: &[String]) -> Result<(), OriginError> {
    match headers.get(ORIGIN) {
        None => Ok(()),
        Some(value) => check_value(value.to_str().unwrap_or(""), allowed),
    }
}

fn check_value(origin: &str, allowed: &[String]) -> Result<(), OriginError> {
    if allowed.iter().any(|a| a == origin) {
        Ok(())
    } else {
        Err(OriginError::NotAllowed(origin.chars().take(200).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn only_exact_origins_pass() {
        let allowed = vec!["http://127.0.0.1:8080".to_owned()];
        let mut headers = HeaderMap::new();
        assert_eq!(
            check_required(&headers, &allowed),
            Err(OriginError::Missing)
        );
        assert_eq!(check_if_present(&headers, &allowed), Ok(()));
        for bad in [
            "http://127.0.0.1:8080/",
            "http://127.0.0.1:80",
            "https://127.0.0.1:8080",
            "null",
        ] {
            headers.insert(ORIGIN, HeaderValue::from_static(bad));
            assert!(check_required(&headers, &allowed).is_err(), "{bad}");
            assert!(check_if_present(&headers, &allowed).is_err(), "{bad}");
        }
        headers.insert(ORIGIN, HeaderValue::from_static("http://127.0.0.1:8080"));
        assert_eq!(check_required(&headers, &allowed), Ok(()));
    }
}
