//! The console files: deep links, assets, caching, and JSON 404s under /api.

use super::support::TestRelay;

#[tokio::test]
async fn a_deep_link_serves_index_html_revalidated() {
    let relay = TestRelay::start().await;
    for path in ["/", "/jobs/abc", "/sites"] {
        let response = reqwest::get(relay.url(path)).await.expect("get");
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["cache-control"], "no-cache", "{path}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .expect("ascii")
                .starts_with("text/html")
        );
        assert!(
            response
                .text()
                .await
                .expect("body")
                .contains("Flare Console"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_missing_files_are_404() {
    let relay = TestRelay::start().await;
    let asset = reqwest::get(relay.url("/app-0123456789abcdef.js"))
        .await
        .expect("get");
    assert_eq!(asset.status(), 200);
    assert!(
        asset.headers()["cache-control"]
            .to_str()
            .expect("ascii")
            .contains("immutable")
    );
    assert_eq!(asset.headers()["x-content-type-options"], "nosniff");

    let missing = reqwest::get(relay.url("/app-missing.js"))
        .await
        .expect("get");
    assert_eq!(missing.status(), 404);

    let api = reqwest::get(relay.url("/api/nothing/here"))
        .await
        .expect("get");
    assert_eq!(api.status(), 404);
    let body: serde_json::Value = api.json().await.expect("json");
    assert_eq!(body["error"], "no such endpoint");
}
