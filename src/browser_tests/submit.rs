//! Submitting and copying: the CLI / Python texts, submit tokens and the retry-safe lookup.

use wasm_bindgen_test::wasm_bindgen_test;

use crate::copy_as::{CopyContext, cli_text, python_text};
use crate::policy::JobAction;

#[wasm_bindgen_test]
fn copy_texts_and_submit_tokens_work_in_the_browser_too() {
    let ctx = CopyContext::new("job-42", "default", "admin@nvidia.com");
    assert_eq!(cli_text(JobAction::Abort, &ctx), "nvflare job abort job-42");
    assert!(python_text(JobAction::Abort, &ctx).contains("sess.abort_job(\"job-42\")"));
    let token = crate::submission::token_from_bytes(&crate::browser::random_bytes());
    assert!(
        token.starts_with("console-") && token.len() == 40,
        "{token}"
    );
    assert_ne!(
        token,
        crate::submission::token_from_bytes(&crate::browser::random_bytes())
    );
    use crate::submission::{Step, after_lookup};
    assert_eq!(
        after_lookup(Ok(flare_model::Reply::Jobs(vec![]))),
        Step::Submit
    );
}
