//! "Copy as CLI" / "Copy as Python": the `nvflare job …` command line (NVFlare 2.9 CLI,
//! `nvflare/tool/job/job_cli.py`) and the FLARE API (`flare_api.Session`) code equivalent to an
//! action in the console.

use crate::policy::JobAction;

/// What the copy texts need to know besides the action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopyContext {
    /// The job id; for `Submit`, the job folder name.
    pub target: String,
    /// The session's study.
    pub study: String,
    /// The NVFlare identity (admin user name), for `new_secure_session`.
    pub identity: String,
    /// For `Submit`: the retry-safe token, when one was minted.
    pub submit_token: Option<String>,
    /// For `Logs`: `server`, `all` or a site.
    pub log_target: Option<String>,
}

impl CopyContext {
    /// A context for `target` (a job id or a job folder) in `study` as `identity`.
    pub fn new(target: &str, study: &str, identity: &str) -> Self {
        CopyContext {
            target: target.to_owned(),
            study: study.to_owned(),
            identity: identity.to_owned(),
            submit_token: None,
            log_target: None,
        }
    }
}

/// Single-quotes `s` for a POSIX shell when it holds anything but safe characters.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// A Python string literal for `s`.
pub fn py_str(s: &str) -> String {
    // JSON string syntax is valid Python for every string (escapes included).
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

/// The `--study` flag, omitted for the default study.
fn study_flag(study: &str) -> String {
    if study.is_empty() || study == "default" {
        String::new()
    } else {
        format!(" --study {}", shell_quote(study))
    }
}

/// The command line for `action`. Actions without a `nvflare job` subcommand get the admin
/// console (`fl_admin.sh`) command, with a comment saying so.
pub fn cli_text(action: JobAction, ctx: &CopyContext) -> String {
    let id = shell_quote(&ctx.target);
    let study = study_flag(&ctx.study);
    match action {
        JobAction::Submit => {
            let token = ctx
                .submit_token
                .as_deref()
                .map(|t| format!(" --submit-token {}", shell_quote(t)))
                .unwrap_or_default();
            format!("nvflare job submit -j {id}{study}{token}")
        }
        JobAction::Abort => format!("nvflare job abort {id}{study}"),
        JobAction::Delete => format!("nvflare job delete {id}{study}"),
        JobAction::Clone => format!("nvflare job clone {id}{study}"),
        JobAction::DownloadResult => {
            let dir = shell_quote(&format!("./{}", ctx.target));
            format!("nvflare job download {id} -o {dir}{study}")
        }
        JobAction::Logs => {
            let site = ctx.log_target.as_deref().unwrap_or("server");
            format!("nvflare job logs {id} --site {}{study}", shell_quote(site))
        }
        JobAction::DownloadComponents => format!(
            "# no `nvflare job` subcommand; in the admin console (fl_admin.sh):\n\
             download_job_components {id}"
        ),
        JobAction::ResetErrors => format!(
            "# no `nvflare job` subcommand; in the admin console (fl_admin.sh):\n\
             reset_errors {id} all"
        ),
    }
}

/// The FLARE API call for `action`, as a small runnable script.
pub fn python_text(action: JobAction, ctx: &CopyContext) -> String {
    let id = py_str(&ctx.target);
    let call = match action {
        JobAction::Submit => match &ctx.submit_token {
            Some(t) => format!(
                "job_id = sess.submit_job({id}, submit_token={})\nprint(job_id)",
                py_str(t)
            ),
            None => format!("job_id = sess.submit_job({id})\nprint(job_id)"),
        },
        JobAction::Abort => format!("print(sess.abort_job({id}))"),
        JobAction::Delete => format!("print(sess.delete_job({id}))"),
        JobAction::Clone => format!("print(sess.clone_job({id}))"),
        JobAction::DownloadResult => format!("print(sess.download_job_result({id}))"),
        JobAction::DownloadComponents => format!("print(sess.download_job_components({id}))"),
        JobAction::ResetErrors => format!("sess.reset_errors({id})"),
        JobAction::Logs => format!(
            "print(sess.get_job_logs({id}, target={}))",
            py_str(ctx.log_target.as_deref().unwrap_or("server"))
        ),
    };
    let study = if ctx.study.is_empty() {
        "default"
    } else {
        &ctx.study
    };
    format!(
        "from nvflare.fuel.flare_api.flare_api import new_secure_session\n\n\
         sess = new_secure_session({}, \"/path/to/startup_kit\", study={})\n\
         try:\n{}\nfinally:\n    sess.close()\n",
        py_str(&ctx.identity),
        py_str(study),
        call.lines()
            .map(|l| format!("    {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(target: &str, study: &str) -> CopyContext {
        CopyContext::new(target, study, "admin@nvidia.com")
    }

    #[test]
    fn cli_lines_follow_the_2_9_job_cli() {
        let c = ctx("1c2d", "default");
        let cases = [
            (JobAction::Abort, "nvflare job abort 1c2d"),
            (JobAction::Delete, "nvflare job delete 1c2d"),
            (JobAction::Clone, "nvflare job clone 1c2d"),
            (
                JobAction::DownloadResult,
                "nvflare job download 1c2d -o ./1c2d",
            ),
            (JobAction::Logs, "nvflare job logs 1c2d --site server"),
        ];
        for (action, want) in cases {
            assert_eq!(cli_text(action, &c), want, "{action:?}");
        }
        let mut s = ctx("hello-numpy", "cancer");
        s.submit_token = Some("console-ab12".to_owned());
        assert_eq!(
            cli_text(JobAction::Submit, &s),
            "nvflare job submit -j hello-numpy --study cancer --submit-token console-ab12"
        );
        assert_eq!(
            cli_text(JobAction::Abort, &ctx("1c2d", "cancer")),
            "nvflare job abort 1c2d --study cancer"
        );
        assert!(cli_text(JobAction::ResetErrors, &c).ends_with("reset_errors 1c2d all"));
        let mut l = c.clone();
        l.log_target = Some("all".to_owned());
        assert_eq!(
            cli_text(JobAction::Logs, &l),
            "nvflare job logs 1c2d --site all"
        );
    }

    #[test]
    fn python_uses_the_flare_api_session() {
        let text = python_text(JobAction::Abort, &ctx("1c2d", "default"));
        assert_eq!(
            text,
            "from nvflare.fuel.flare_api.flare_api import new_secure_session\n\n\
             sess = new_secure_session(\"admin@nvidia.com\", \"/path/to/startup_kit\", \
             study=\"default\")\n\
             try:\n    print(sess.abort_job(\"1c2d\"))\nfinally:\n    sess.close()\n"
        );
        let mut s = ctx("hello-numpy", "default");
        s.submit_token = Some("console-ab12".to_owned());
        assert!(python_text(JobAction::Submit, &s).contains(
            "    job_id = sess.submit_job(\"hello-numpy\", submit_token=\"console-ab12\")\n    print(job_id)"
        ));
        assert!(
            python_text(JobAction::ResetErrors, &ctx("x", "default"))
                .contains("    sess.reset_errors(\"x\")")
        );
        assert!(
            python_text(JobAction::DownloadComponents, &ctx("x", "default"))
                .contains("sess.download_job_components(\"x\")")
        );
    }

    #[test]
    fn odd_characters_are_quoted() {
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(py_str("a\"b"), r#""a\"b""#);
    }
}
