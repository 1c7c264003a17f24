//! The logs page: filtering, highlighting, truncation notes and the two layouts.

use leptos::prelude::*;
use leptos::task::tick;
use wasm_bindgen_test::wasm_bindgen_test;

use flare_model::LogsReply;

use super::{all, button, container, one, text};
use crate::components::log_view::{Layout, LogView};

fn two_logs() -> LogsReply {
    let mut l = LogsReply::default();
    l.logs.insert(
        "server".to_owned(),
        "Round 0 started.\nsaving model\nRound 1 started.\n".to_owned(),
    );
    l.logs.insert(
        "site-1".to_owned(),
        "... output truncated to last 5242880 bytes ...\ntraining round 1\nERROR boom\n".to_owned(),
    );
    l.unavailable
        .insert("site-2".to_owned(), "no log streamed".to_owned());
    l
}

#[wasm_bindgen_test]
async fn logs_filter_highlights_and_lays_sites_side_by_side() {
    let root = container();
    let filter = RwSignal::new(String::new());
    let layout = RwSignal::new(Layout::SideBySide);
    let _m = leptos::mount::mount_to(root.clone(), move || {
        view! { <LogView logs=two_logs() filter layout /> }
    });
    tick().await;
    let panes = one(&root, "#log-panes");
    assert!(panes.class_list().contains("side-by-side"));
    let sites: Vec<_> = all(&root, ".log-pane")
        .iter()
        .filter_map(|p| p.get_attribute("data-site"))
        .collect();
    assert_eq!(sites, ["server", "site-1"]);
    assert!(
        text(&one(&root, "#logs-unavailable li[data-site='site-2']")).contains("no log streamed")
    );
    assert!(text(&one(&root, ".log-pane[data-site='site-1'] .log-truncated")).contains("5 MB"));
    assert!(
        root.query_selector(".log-pane[data-site='server'] .log-truncated")
            .unwrap()
            .is_none()
    );

    filter.set("ROUND".to_owned());
    tick().await;
    let server_lines = all(&root, ".log-pane[data-site='server'] .log-line");
    assert_eq!(server_lines.len(), 2);
    let marks: Vec<String> = all(&root, ".log-pane[data-site='server'] mark")
        .iter()
        .map(text)
        .collect();
    assert_eq!(marks, ["Round", "Round"]);
    assert_eq!(
        all(&root, ".log-pane[data-site='site-1'] .log-line").len(),
        1
    );

    filter.set("/round [01] st/".to_owned());
    tick().await;
    assert_eq!(
        all(&root, ".log-pane[data-site='server'] .log-line").len(),
        2
    );
    assert_eq!(
        all(&root, ".log-pane[data-site='site-1'] .log-line").len(),
        0
    );

    filter.set("/(/".to_owned());
    tick().await;
    assert!(text(&one(&root, "[role=alert]")).starts_with("Not a valid regular expression"));

    filter.set(String::new());
    layout.set(Layout::OneAtATime);
    tick().await;
    assert_eq!(all(&root, ".log-pane").len(), 1);
    button(&root, "site-1").click();
    tick().await;
    let shown: Vec<_> = all(&root, ".log-pane")
        .iter()
        .filter_map(|p| p.get_attribute("data-site"))
        .collect();
    assert_eq!(shown, ["site-1"]);
}
