//! Every response carries the security headers: the console's index (with a policy that allows
//! its inline loader by hash), a static asset, and `/api/*` replies; HSTS only under TLS.

use flare_relay::config::TlsConfig;
use flare_relay::headers::{HSTS, POLICY};
use reqwest::header::HeaderMap;

use super::support::{OPERATOR, TestRelay};

/// An index as trunk writes it: an inline module script that loads the wasm.
const INDEX: &str = "<!doctype html><html><head><title>Flare Console</title>\n\
<script type=\"module\">\nimport init, * as bindings from '/app-0123456789abcdef.js';\n\
const wasm = await init({ module_or_path: '/app-0123456789abcdef_bg.wasm' });\n</script>\n\
</head><body></body></html>";

/// `echo -n "$script" | openssl dgst -sha256 -binary | base64` of INDEX's inline script.
const LOADER_HASH: &str = "'sha256-qOIJsJ5HTd1wMLeJ4VOAlrdqL5VNvAfwZkHVC83v3lo='";

async fn headers_of(relay: &TestRelay, path: &str, cookie: Option<&str>) -> (u16, HeaderMap) {
    let mut request = reqwest::Client::new().get(relay.url(path));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.expect("request");
    (response.status().as_u16(), response.headers().clone())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The headers every response has, whatever it is.
fn assert_common(what: &str, headers: &HeaderMap) {
    assert_eq!(
        header(headers, "x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(
        header(headers, "referrer-policy"),
        Some("no-referrer"),
        "{what}"
    );
    assert_eq!(header(headers, "x-frame-options"), Some("DENY"), "{what}");
    let policy = header(headers, "content-security-policy").unwrap_or_default();
    for directive in [
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(
            policy.contains(directive),
            "{what}: {directive} in {policy:?}"
        );
    }
    assert!(!policy.contains("unsafe-inline"), "{what}: {policy}");
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let relay = TestRelay::start().await;
    std::fs::write(relay.dir.path().join("dist").join("index.html"), INDEX).expect("index");
    let cookie = relay.login(OPERATOR).await;

    for path in ["/", "/index.html", "/jobs/abc"] {
        let (status, headers) = headers_of(&relay, path, None).await;
        assert_eq!(status, 200, "{path}");
        assert_common(path, &headers);
        let policy = header(&headers, "content-security-policy").unwrap_or_default();
        assert!(
            policy.starts_with(&format!(
                "script-src 'self' 'wasm-unsafe-eval' {LOADER_HASH};"
            )),
            "{path}: {policy}"
        );
        assert_eq!(
            header(&headers, "strict-transport-security"),
            None,
            "{path}"
        );
    }
    for (path, cookie, want) in [
        ("/app-0123456789abcdef.js", None, 200),
        ("/missing-0123456789abcdef.js", None, 404),
        ("/api/session", Some(cookie.as_str()), 200),
        ("/api/session", None, 401),
        ("/api/nope", None, 404),
    ] {
        let (status, headers) = headers_of(&relay, path, cookie).await;
        assert_eq!(status, want, "{path}");
        assert_common(path, &headers);
        assert_eq!(
            header(&headers, "content-security-policy"),
            Some(POLICY),
            "{path}"
        );
        assert_eq!(
            header(&headers, "strict-transport-security"),
            None,
            "{path}"
        );
    }
}

#[tokio::test]
async fn hsts_is_sent_under_tls() {
    // The in-process server speaks plain HTTP; the relay's state is that of a TLS relay.
    let relay = TestRelay::start_with(|config| {
        config.tls = Some(TlsConfig {
            cert: "cert.pem".into(),
            key: "key.pem".into(),
        });
    })
    .await;
    for path in ["/", "/app-0123456789abcdef.js", "/api/session"] {
        let (_, headers) = headers_of(&relay, path, None).await;
        assert_eq!(
            header(&headers, "strict-transport-security"),
            Some(HSTS),
            "{path}"
        );
        assert_common(path, &headers);
    }
}
