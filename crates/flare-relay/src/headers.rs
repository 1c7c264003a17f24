//! The security headers every response carries: a Content-Security-Policy fit for the wasm
//! console, `nosniff`, no referrer, no framing, and HSTS when the relay serves HTTPS.
//!
//! Trunk writes the console's loader as an inline `<script type="module">` in `index.html`; the
//! index is served with a policy that allows exactly that script by its SHA-256
//! ([`policy_for_index`]), every other response with the [`POLICY`] that allows no inline script.

use axum::extract::{Request, State};
use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};

/// `script-src` without inline scripts: the console's own files, and WebAssembly compilation.
const SCRIPT_SRC: &str = "script-src 'self' 'wasm-unsafe-eval'";

/// The rest of the policy. Same-origin `ws:`/`wss:` is covered by `'self'` in `connect-src`; the
/// favicon is a `data:` image; the console sets no inline styles.
const REST: &str = "default-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// The policy of every response but the console's index.
pub const POLICY: &str = "script-src 'self' 'wasm-unsafe-eval'; default-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// HSTS under TLS: a year, this host only.
pub const HSTS: &str = "max-age=31536000";

/// The policy for an `index.html`: [`POLICY`] plus the SHA-256 of each inline script in it.
pub fn policy_for_index(html: &str) -> String {
    let hashes: String = inline_scripts(html)
        .map(|script| format!(" 'sha256-{}'", base64(&Sha256::digest(script.as_bytes()))))
        .collect();
    format!("{SCRIPT_SRC}{hashes}; {REST}")
}

/// The bodies of the `<script>` elements without a `src` attribute, exactly as written.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    let mut rest = html;
    std::iter::from_fn(move || {
        loop {
            let start = find_ascii_ci(rest, "<script")?;
            let after = &rest[start + "<script".len()..];
            let tag_end = after.find('>')?;
            let attributes = &after[..tag_end];
            let body = &after[tag_end + 1..];
            let end = find_ascii_ci(body, "</script").unwrap_or(body.len());
            rest = &body[end..];
            let is_element = attributes.is_empty() || attributes.starts_with(char::is_whitespace);
            if is_element && !has_src(attributes) {
                return Some(&body[..end]);
            }
        }
    })
}

/// True when a tag's attributes include `src`.
fn has_src(attributes: &str) -> bool {
    attributes
        .to_ascii_lowercase()
        .split(|c: char| c.is_whitespace() || c == '/')
        .any(|a| a == "src" || a.starts_with("src="))
}

/// The byte offset of `needle` (ASCII) in `haystack`, ignoring ASCII case.
fn find_ascii_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Standard base64 with padding, as CSP hash sources are written.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Adds the security headers a response lacks (the index's own policy stays); `tls` adds HSTS.
pub async fn security_headers(State(tls): State<bool>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    add_missing(response.headers_mut(), tls);
    response
}

fn add_missing(headers: &mut HeaderMap, tls: bool) {
    let mut add = |name, value: &'static str| {
        headers
            .entry(name)
            .or_insert_with(|| HeaderValue::from_static(value));
    };
    add(CONTENT_SECURITY_POLICY, POLICY);
    add(X_CONTENT_TYPE_OPTIONS, "nosniff");
    add(REFERRER_POLICY, "no-referrer");
    add(X_FRAME_OPTIONS, "DENY");
    if tls {
        add(STRICT_TRANSPORT_SECURITY, HSTS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet_and_padding() {
        for (input, want) in [
            (&b""[..], ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg=="),
            (b"\xfb\xff", "+/8="),
        ] {
            assert_eq!(base64(input), want);
        }
    }

    #[test]
    fn the_index_policy_allows_its_inline_scripts_by_hash_only() {
        let html = "<html><head><script type=\"module\">\nimport init from '/a.js';\n</script>\
             <SCRIPT src=\"/x.js\"></SCRIPT><script\nsrc='/y.js'></script><scripts>\
             </scripts><script>alert(1)</script></head></html>";
        let scripts: Vec<_> = inline_scripts(html).collect();
        assert_eq!(scripts, ["\nimport init from '/a.js';\n", "alert(1)"]);
        let policy = policy_for_index(html);
        // echo -n 'alert(1)' | openssl dgst -sha256 -binary | base64
        assert!(
            policy.contains("'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"),
            "{policy}"
        );
        assert_eq!(policy.matches("'sha256-").count(), 2, "{policy}");
        assert!(policy.starts_with(SCRIPT_SRC), "{policy}");
        assert_eq!(policy_for_index("<p>no scripts</p>"), POLICY);
    }

    #[test]
    fn hsts_only_under_tls() {
        let mut headers = HeaderMap::new();
        add_missing(&mut headers, false);
        assert!(!headers.contains_key(STRICT_TRANSPORT_SECURITY));
        assert_eq!(headers[X_FRAME_OPTIONS], "DENY");
        add_missing(&mut headers, true);
        assert_eq!(headers[STRICT_TRANSPORT_SECURITY], HSTS);
    }
}
