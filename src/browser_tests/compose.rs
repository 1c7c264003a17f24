//! The composer's form: objects added through the add form are checked in the page before
//! anything is sent — an executor on the server and a missing server controller are refused with
//! what to do, a field that does not fit its type says so — and JSON is highlighted in spans.

use std::sync::Arc;

use flare_job::Catalog;
use flare_job::compose::Composition;
use leptos::prelude::*;
use leptos::task::tick;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::HtmlElement;

use super::{all, choose, container, one, text, type_into};
use crate::components::compose_editor::ComposeEditor;
use crate::compose::{problems, read_catalog, targets};

const FEDAVG: &str = "nvflare.app_common.workflows.fedavg.FedAvg";
const NP_TRAINER: &str = "nvflare.app_common.np.np_trainer.NPTrainer";

/// A two-class catalog in the relay's format.
fn catalog() -> Catalog {
    let json = serde_json::json!({
        "nvflare_version": "2.9.0",
        "packages": ["nvflare.app_common"],
        "classes": [
            {"path": NP_TRAINER, "kind": "executor", "args": [
                {"name": "sleep_time", "type": "any", "default": 0}
            ]},
            {"path": FEDAVG, "kind": "controller", "args": [
                {"name": "num_rounds", "type": "int", "default": 5},
                {"name": "persistor_id", "type": "str", "default": ""}
            ]}
        ]
    });
    read_catalog(&json.to_string()).expect("catalog")
}

fn add_class(root: &HtmlElement, target: &str, path: &str) {
    choose(root, "#add-target", target);
    type_into(root, "#add-class", path);
    one(root, "#compose-add button[type=submit]")
        .unchecked_into::<HtmlElement>()
        .click();
}

#[wasm_bindgen_test]
async fn an_executor_on_the_server_is_refused_in_the_form_with_what_to_do() {
    let root = container();
    let composition = RwSignal::new(Composition::empty("compose-test", 2));
    let cat = Arc::new(catalog());
    let sites = vec!["site-1".to_owned(), "site-2".to_owned()];
    let list = targets(&sites);
    let found = {
        let cat = cat.clone();
        Memo::new(move |_| composition.with(|c| problems(c, &cat, Some(&sites))))
    };
    let _m = leptos::mount::mount_to(root.clone(), move || {
        view! {
            <ComposeEditor
                composition
                catalog=Signal::derive(move || Some(cat.clone()))
                targets=Signal::derive(move || list.clone())
                problems=found
            />
        }
    });
    tick().await;
    assert!(
        text(&one(&root, "#compose-problems"))
            .contains("No controller on the server: add a workflow such as FedAvg to the server."),
        "{}",
        text(&one(&root, "#compose-problems"))
    );
    let offered: Vec<String> = all(&root, "#add-target option")
        .iter()
        .map(|o| o.get_attribute("value").unwrap_or_default())
        .collect();
    assert_eq!(offered, ["server", "@ALL", "site-1", "site-2"]);

    add_class(&root, "server", NP_TRAINER);
    tick().await;
    let step = one(&root, ".compose-step[data-step='0']");
    assert_eq!(step.get_attribute("data-kind").as_deref(), Some("executor"));
    assert_eq!(
        text(&one(&step, ".step-problems")),
        "NPTrainer is an executor and cannot run on the server: assign it to all clients or a site."
    );
    // Moving it to all clients and adding FedAvg to the server clears every problem.
    choose(&root, "#step-0-target", "@ALL");
    add_class(&root, "server", FEDAVG);
    tick().await;
    assert!(root.query_selector(".step-problems").unwrap().is_none());
    assert!(root.query_selector("#compose-problems").unwrap().is_none());

    // A field that does not fit its type says so and leaves the composition alone.
    type_into(&root, "#step-1-arg-num_rounds", "three");
    tick().await;
    assert_eq!(
        text(&one(&root, ".compose-step[data-step='1'] .field-error")),
        "num_rounds must be a whole number."
    );
    type_into(&root, "#step-1-arg-num_rounds", "3");
    type_into(&root, "#step-1-arg-persistor_id", "nope");
    tick().await;
    let c = composition.get_untracked();
    assert_eq!(
        serde_json::to_value(&c.job.steps[1]).unwrap()["object"]["args"]["num_rounds"],
        3
    );
    assert!(
        text(&one(&root, ".compose-step[data-step='1'] .step-problems")).starts_with(
            "FedAvg refers to persistor_id \"nope\", but the server has no component with that id"
        ),
    );

    // A site that left the study is refused too.
    composition.update(|c| crate::compose::set_target(c, 0, "site-9"));
    tick().await;
    assert!(
        text(&one(&root, ".compose-step[data-step='0'] .step-problems")).contains(
            "Site site-9 is not in this study: pick one of site-1, site-2, or all clients."
        )
    );
}

#[wasm_bindgen_test]
fn json_highlighting_keeps_the_text() {
    let text_in = "{\n    \"a\": [1, true]\n}";
    let toks = crate::highlight::tokens(text_in);
    assert_eq!(toks.iter().map(|(_, s)| *s).collect::<String>(), text_in);
    assert!(
        toks.iter()
            .any(|(t, s)| *t == crate::highlight::Token::Key && *s == "\"a\"")
    );
}
