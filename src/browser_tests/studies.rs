//! The studies pages: the new-study form's checks and site choice, and removing a study.

use leptos::prelude::*;
use leptos::task::tick;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::{HtmlElement, HtmlInputElement};

use flare_model::SiteSelection;
use std::collections::BTreeMap;

use super::{all, click, container, disabled, one, text, type_into};
use crate::components::new_study_form::{FormError, NewStudyForm};
use crate::components::remove_study::RemoveStudy;
use crate::studies::StudyRole;

type Sent = RwSignal<Vec<(String, SiteSelection)>>;

fn mount_study_form(
    role: StudyRole,
    connected: &[&str],
    seen: &[&str],
    orgs: &[(&str, &str)],
) -> (HtmlElement, Sent, impl Drop) {
    let root = container();
    let sent: Sent = RwSignal::new(Vec::new());
    let connected: Vec<String> = connected.iter().map(|s| (*s).to_owned()).collect();
    let seen: Vec<String> = seen.iter().map(|s| (*s).to_owned()).collect();
    let orgs: BTreeMap<String, String> = orgs
        .iter()
        .map(|(s, o)| ((*s).to_owned(), (*o).to_owned()))
        .collect();
    let mounted = leptos::mount::mount_to(root.clone(), move || {
        view! {
            <NewStudyForm
                role=role
                own_org="nvidia".to_owned()
                connected=connected.clone()
                seen=seen.clone()
                orgs=orgs.clone()
                busy=false
                server_error={None::<FormError>}
                on_submit=Callback::new(move |s| sent.update(|v| v.push(s)))
            />
        }
    });
    (root, sent, mounted)
}

#[wasm_bindgen_test]
async fn a_bad_study_name_is_refused_next_to_the_field_without_a_request() {
    let (root, sent, _m) = mount_study_form(StudyRole::ProjectAdmin, &["site-1"], &[], &[]);
    tick().await;
    click(&root, "#site-site-1");
    for bad in ["Bad Name", "default", ""] {
        type_into(&root, "#study-name", bad);
        click(&root, "#create-study");
        tick().await;
        assert!(sent.get_untracked().is_empty(), "nothing sent for {bad:?}");
        let error = one(&root, "#study-name-error");
        assert!(!text(&error).is_empty(), "an error for {bad:?}");
        let input = one(&root, "#study-name");
        assert_eq!(input.get_attribute("aria-invalid").as_deref(), Some("true"));
        assert!(
            input
                .get_attribute("aria-describedby")
                .unwrap_or_default()
                .contains("study-name-error")
        );
    }
    type_into(&root, "#study-name", "cancer-2");
    click(&root, "#create-study");
    tick().await;
    assert_eq!(
        sent.get_untracked(),
        [(
            "cancer-2".to_owned(),
            SiteSelection::SiteOrgs(vec!["nvidia:site-1".to_owned()])
        )]
    );
    // What was typed stays in the form.
    let input: HtmlInputElement = one(&root, "#study-name").unchecked_into();
    assert_eq!(input.value(), "cancer-2");
}

#[wasm_bindgen_test]
async fn an_org_admin_is_offered_only_its_own_orgs_sites() {
    let (root, sent, _m) = mount_study_form(
        StudyRole::OrgAdmin,
        &["site-1", "site-3"],
        &["site-2"],
        &[("site-3", "acme")],
    );
    tick().await;
    let offered: Vec<String> = all(&root, ".site-pick")
        .iter()
        .filter_map(|li| li.get_attribute("data-site"))
        .collect();
    assert_eq!(offered, ["site-1", "site-2"]);
    assert!(all(&root, ".org-group[data-org='acme']").is_empty());
    assert!(all(&root, ".org-input").is_empty(), "no org to choose");
    // site-2 was seen but is not connected: offered disabled, marked offline.
    assert!(disabled(&one(&root, "#site-site-2")));
    assert!(text(&one(&root, ".site-pick[data-site='site-2']")).contains("offline"));
    type_into(&root, "#study-name", "org-study");
    click(&root, "#site-site-1");
    click(&root, "#create-study");
    tick().await;
    assert_eq!(
        sent.get_untracked(),
        [(
            "org-study".to_owned(),
            SiteSelection::Sites(vec!["site-1".to_owned()])
        )]
    );
}

#[wasm_bindgen_test]
async fn remove_study_is_enabled_only_once_its_name_is_typed() {
    let root = container();
    let removed = RwSignal::new(0);
    let _m = leptos::mount::mount_to(root.clone(), move || {
        view! {
            <RemoveStudy
                study="trial-7"
                busy=false
                on_remove=Callback::new(move |()| removed.update(|n| *n += 1))
            />
        }
    });
    tick().await;
    let button = one(&root, "#remove-study");
    assert_eq!(text(&button), "Remove study");
    assert!(disabled(&button));
    let label = one(&root, "label[for='remove-study-confirm']");
    assert_eq!(text(&label), "Type the study name to confirm");
    type_into(&root, "#remove-study-confirm", "trial-");
    tick().await;
    assert!(disabled(&button));
    click(&root, "#remove-study");
    tick().await;
    assert_eq!(removed.get_untracked(), 0);
    type_into(&root, "#remove-study-confirm", "trial-7");
    tick().await;
    assert!(!disabled(&button));
    click(&root, "#remove-study");
    tick().await;
    assert_eq!(removed.get_untracked(), 1);
}
