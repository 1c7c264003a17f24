//! NVFlare's own rules for the ids, names, targets and prefixes a command carries, checked before
//! anything is sent, and the quoting that makes the server's tokenizer receive each argument
//! exactly as given.
//!
//! The server splits a command line with `nvflare.fuel.hci.cmd_arg_utils.split_to_args`: a line
//! without `"` or `'` is split on spaces (runs collapsed), a line with either goes through
//! `shlex.split` (POSIX, no comments) and, when that fails on unbalanced quotes, falls back to the
//! space split. NVFlare's `join_args` quotes only whitespace, `"` and `\`, so an argument with a
//! lone `'` throws the whole line into the fallback; ours also quotes `'`, `#` (the admin CLI's
//! `parse_command_line` starts command props at `#`) and the empty argument.

use flare_model::{Command, FlareError, MutateCommand, ReadCommand, SiteSelection, TargetType};

/// Whether `arg` must be double-quoted to survive `split_to_args` intact.
fn needs_quotes(arg: &str) -> bool {
    arg.is_empty()
        || arg
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '\\' | '#'))
}

/// Joins command arguments so that `split_to_args` gives them back exactly: an argument that is
/// empty or holds whitespace, `"`, `'`, `\` or `#` is double-quoted, with `\` and `"` escaped
/// (inside POSIX double quotes `shlex` unescapes exactly those two). Any quote in the line sends
/// the whole line through `shlex`, so the arguments left bare hold none of its special characters.
pub fn join_args<S: AsRef<str>>(parts: &[S]) -> String {
    parts
        .iter()
        .map(|a| {
            let a = a.as_ref();
            if needs_quotes(a) {
                format!("\"{}\"", a.replace('\\', "\\\\").replace('"', "\\\""))
            } else {
                a.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `value` as the next argument of an argparse-parsed command: after `--` when it starts with
/// `-`, so that argparse does not take it for an option.
pub(crate) fn push_positional(parts: &mut Vec<String>, value: &str) {
    if value.starts_with('-') {
        parts.push("--".to_owned());
    }
    parts.push(value.to_owned());
}

/// `--flag value` of an argparse-parsed command, as `--flag=value` when the value starts with `-`.
pub(crate) fn push_option(parts: &mut Vec<String>, flag: &str, value: &str) {
    if value.starts_with('-') {
        parts.push(format!("{flag}={value}"));
    } else {
        parts.extend([flag.to_owned(), value.to_owned()]);
    }
}

fn invalid(message: String) -> FlareError {
    FlareError::InvalidArgument { message }
}

fn all_chars(value: &str, ok: impl Fn(char) -> bool) -> bool {
    value.chars().all(ok)
}

fn alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

/// The empty job id keeps Python's `JobNotFound("job_id is required but not specified")`.
fn job_id_required() -> FlareError {
    FlareError::JobNotFound {
        message: "job_id is required but not specified".to_owned(),
    }
}

/// `nvflare.apis.job_def.is_valid_job_id`: lowercased, the hyphens dropped, 32 hex digits that
/// form a version-4 UUID (version nibble `4`, variant `8`–`b`). A malformed id is `JobNotFound`,
/// as `flare_api._validate_job_id` and the server's `INVALID_JOB_ID` report it.
pub(crate) fn job_id(value: &str) -> Result<(), FlareError> {
    if value.is_empty() {
        return Err(job_id_required());
    }
    let hex: Vec<char> = value
        .chars()
        .filter(|c| *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let ok = hex.len() == 32
        && hex.iter().all(char::is_ascii_hexdigit)
        && hex[12] == '4'
        && matches!(hex[16], '8' | '9' | 'a' | 'b');
    if !ok {
        return Err(FlareError::JobNotFound {
            message: format!(
                "job id must be a uuid4 like 0e8a47b4-1c1f-4b4e-9a6f-3f6f1f1d2c3b \
                 (nvflare's is_valid_job_id): {value:?}"
            ),
        });
    }
    Ok(())
}

/// `list_jobs [job_id_prefix]`: the server keeps the jobs whose id starts with the lowercased
/// prefix (`job_cmds._job_match`), and ids are `str(uuid4())`; a leading `-` would be read as an
/// option by the command's argparse.
pub(crate) fn job_id_prefix(value: &str) -> Result<(), FlareError> {
    if value.len() > 36
        || value.starts_with('-')
        || !all_chars(value, |c| c.is_ascii_hexdigit() || c == '-')
    {
        return Err(invalid(format!(
            "job id prefix {value:?} may only contain hex digits and '-', not first, at most 36 \
             characters (job ids are uuid4 strings)"
        )));
    }
    Ok(())
}

/// `list_jobs -n <name_prefix>`: job names follow `JOB_NAME_PATTERN`
/// `^[A-Za-z0-9][A-Za-z0-9._-]*$` (`validation_utils.check_job_name`), and so does every prefix
/// of one.
pub(crate) fn job_name_prefix(value: &str) -> Result<(), FlareError> {
    let mut chars = value.chars();
    let ok =
        chars.next().is_some_and(alnum) && chars.all(|c| alnum(c) || matches!(c, '.' | '_' | '-'));
    if !ok {
        return Err(invalid(format!(
            "job name prefix {value:?} must start with a letter or digit and may only contain \
             letters, digits, '.', '_' and '-' (nvflare's JOB_NAME_PATTERN)"
        )));
    }
    Ok(())
}

/// `--submit-token`: `SUBMIT_TOKEN_PATTERN` `^[A-Za-z0-9._:-]{1,128}$`
/// (`apis/utils/job_submit_token.py`).
pub(crate) fn submit_token(value: &str) -> Result<(), FlareError> {
    if value.is_empty()
        || value.len() > 128
        || !all_chars(value, |c| alnum(c) || matches!(c, '.' | '_' | ':' | '-'))
    {
        return Err(invalid(format!(
            "submit token {value:?} must be 1 to 128 letters, digits, '.', '_', ':' or '-' \
             (nvflare's SUBMIT_TOKEN_PATTERN)"
        )));
    }
    Ok(())
}

/// A site (client) name: `format_check` types `client` / `site` `^[A-Za-z0-9-_]+$`, what
/// provisioning (`lighter/entity.py`) and the study commands (`_validate_site_names`) enforce.
pub(crate) fn site_name(what: &str, value: &str) -> Result<(), FlareError> {
    if value.is_empty() || !all_chars(value, |c| alnum(c) || matches!(c, '-' | '_')) {
        return Err(invalid(format!(
            "{what} {value:?} may only contain letters, digits, '-' and '_' (nvflare's site \
             name rule)"
        )));
    }
    Ok(())
}

fn site_names(what: &str, values: &[String]) -> Result<(), FlareError> {
    values.iter().try_for_each(|v| site_name(what, v))
}

/// An org: `format_check` type `org` `^[A-Za-z0-9_]+$`.
fn org_name(value: &str) -> Result<(), FlareError> {
    if value.is_empty() || !all_chars(value, |c| alnum(c) || c == '_') {
        return Err(invalid(format!(
            "org {value:?} may only contain letters, digits and '_' (nvflare's org name rule)"
        )));
    }
    Ok(())
}

/// A study: `format_check` type `study` `^[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?$`, and not the
/// reserved `default` (`study_cmds._validate_study_name`; Python's `re.match` would also let a
/// trailing newline through, this does not).
pub(crate) fn study_name(value: &str) -> Result<(), FlareError> {
    if value.is_empty() {
        return Err(invalid("study is required but not specified".to_owned()));
    }
    let lower = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let b = value.as_bytes();
    let ok = value.len() <= 63
        && lower(char::from(b[0]))
        && lower(char::from(b[b.len() - 1]))
        && all_chars(value, |c| lower(c) || matches!(c, '_' | '-'));
    if !ok {
        return Err(invalid(format!(
            "study name {value:?} must be 1 to 63 lowercase letters, digits, '_' or '-', starting \
             and ending with a letter or digit (nvflare's study name rule)"
        )));
    }
    if value == "default" {
        return Err(invalid(
            "study name \"default\" is reserved (nvflare's _validate_study_name)".to_owned(),
        ));
    }
    Ok(())
}

/// A study user is an admin participant: `format_check` type `admin`
/// `^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Z|a-z]{2,}$` (the `|` in the last class is NVFlare's).
pub(crate) fn admin_name(value: &str) -> Result<(), FlareError> {
    if value.is_empty() {
        return Err(invalid("user is required but not specified".to_owned()));
    }
    let ok = value.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && all_chars(local, |c| {
                alnum(c) || matches!(c, '.' | '_' | '%' | '+' | '-')
            })
            && domain.rsplit_once('.').is_some_and(|(host, tld)| {
                !host.is_empty()
                    && all_chars(host, |c| alnum(c) || matches!(c, '.' | '-'))
                    && tld.len() >= 2
                    && all_chars(tld, |c| c.is_ascii_alphabetic() || c == '|')
            })
    });
    // The top-level part has no dot, so the regex's last `\.` is the domain's last dot.
    if !ok {
        return Err(invalid(format!(
            "user {value:?} must be an admin name like name@example.com (nvflare's admin name \
             rule)"
        )));
    }
    Ok(())
}

/// A `--site-org` item `org:site1,site2` (`study_cmds._parse_site_orgs`).
fn site_org(item: &str) -> Result<(), FlareError> {
    let Some((org, sites)) = item.split_once(':') else {
        return Err(invalid(format!(
            "site org {item:?} must be org:site1,site2 (nvflare's --site-org)"
        )));
    };
    org_name(org)?;
    sites.split(',').try_for_each(|s| site_name("site name", s))
}

fn site_selection(sites: &SiteSelection) -> Result<(), FlareError> {
    match sites {
        SiteSelection::Sites(items) => site_names("site name", items),
        SiteSelection::SiteOrgs(items) => items.iter().try_for_each(|i| site_org(i)),
    }
}

/// Targets after a target type: site names, only for `client` (the others send none).
fn targets(target_type: TargetType, names: &[String]) -> Result<(), FlareError> {
    if target_type == TargetType::Client {
        site_names("target site name", names)?;
    }
    Ok(())
}

/// `get_job_log job_id [server|all|client_name]`: `server`, `all` or `@ALL` (any case), else a
/// site name.
fn job_log_target(value: &str) -> Result<(), FlareError> {
    if ["server", "all", "@all"].contains(&value.to_ascii_lowercase().as_str()) {
        return Ok(());
    }
    site_name("log target site name", value)
}

/// `get_job_log`'s file: `log.txt` or `log.json`; the server reads `log.txt` for any other name
/// (`job_cmds._normalize_log_file_name`).
fn job_log_file(value: &str) -> Result<(), FlareError> {
    if !value.is_empty() && !matches!(value, "log.txt" | "log.json") {
        return Err(invalid(format!(
            "log file name {value:?} must be log.txt or log.json (nvflare's get_job_log)"
        )));
    }
    Ok(())
}

/// `configure_job_log` / `configure_site_log` targets: the keywords, else a site name.
fn log_config_target(value: &str, keywords: &[&str]) -> Result<(), FlareError> {
    if keywords.contains(&value) {
        return Ok(());
    }
    site_name("log target site name", value)
}

/// Shell commands' target: `cmd_arg_utils.validate_required_target_string`
/// `^[A-Za-z0-9._-]*$`, non-empty (`server` or a site).
pub(crate) fn shell_target(value: &str) -> Result<(), FlareError> {
    if value.is_empty() {
        return Err(invalid("target is required but not specified".to_owned()));
    }
    if !all_chars(value, |c| alnum(c) || matches!(c, '.' | '_' | '-')) {
        return Err(invalid(format!(
            "target {value:?} may only contain letters, digits, '.', '_' and '-' (nvflare's \
             validate_required_target_string)"
        )));
    }
    Ok(())
}

/// Shell commands' options: `validate_options_string` `^[A-Za-z0-9- ]*$`.
pub(crate) fn shell_options(value: &str) -> Result<(), FlareError> {
    if !all_chars(value, |c| alnum(c) || matches!(c, '-' | ' ')) {
        return Err(invalid(format!(
            "options {value:?} may only contain letters, digits, '-' and spaces (nvflare's \
             validate_options_string)"
        )));
    }
    Ok(())
}

/// Shell commands' path: `validate_path_string` — `^[A-Za-z0-9-._/]*$`, relative, no `..`.
pub(crate) fn shell_path(value: &str) -> Result<(), FlareError> {
    if !all_chars(value, |c| alnum(c) || matches!(c, '-' | '.' | '_' | '/')) {
        return Err(invalid(format!(
            "path {value:?} may only contain letters, digits, '-', '.', '_' and '/' (nvflare's \
             validate_path_string)"
        )));
    }
    if value.starts_with('/') {
        return Err(invalid(format!("path {value:?} must be relative")));
    }
    if value.split('/').any(|p| p == "..") {
        return Err(invalid(format!(
            "path {value:?} must not contain '..' as a component"
        )));
    }
    Ok(())
}

/// Shell commands' file: a path whose extension (a numeric last part such as `.1` skipped, as
/// `get_file_extension` does) is one of `validate_text_file_name`'s.
pub(crate) fn shell_file(value: &str) -> Result<(), FlareError> {
    if value.is_empty() {
        return Err(invalid("file is required but not specified".to_owned()));
    }
    shell_path(value)?;
    let mut parts: Vec<&str> = value.split('.').collect();
    if parts.len() > 1
        && parts
            .last()
            .is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    {
        parts.pop();
    }
    let name = parts.join(".");
    let base = name.rsplit('/').next().unwrap_or_default();
    // `os.path.splitext`: leading dots of the base name do not start an extension.
    let ext = base
        .trim_start_matches('.')
        .rsplit_once('.')
        .map(|(_, e)| e)
        .unwrap_or_default();
    if !matches!(ext, "txt" | "log" | "json" | "csv" | "sh" | "config" | "py") {
        return Err(invalid(format!(
            "file {value:?} must end in .txt, .log, .json, .csv, .sh, .config or .py (nvflare's \
             validate_text_file_name)"
        )));
    }
    Ok(())
}

/// Checks every id, name, target and prefix of `command` with NVFlare's rules, before anything is
/// sent. Checks of other kinds (a missing grep pattern, timeouts, log configs) stay where the
/// command line is built.
pub(crate) fn check(command: &Command) -> Result<(), FlareError> {
    match command {
        Command::Read(c) => check_read(c),
        Command::Mutate(c) => check_mutate(c),
    }
}

fn opt(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

fn check_read(c: &ReadCommand) -> Result<(), FlareError> {
    use ReadCommand as R;
    match c {
        R::CheckStatus {
            target_type,
            targets: names,
        }
        | R::ReportResources {
            target_type,
            targets: names,
        }
        | R::ReportVersion {
            target_type,
            targets: names,
        } => targets(*target_type, names),
        R::GetClientJobStatus { client_names } | R::GetClientEnv { client_names } => {
            site_names("client name", client_names)
        }
        R::ListJobs(f) => {
            opt(&f.name_prefix).map_or(Ok(()), job_name_prefix)?;
            opt(&f.id_prefix).map_or(Ok(()), job_id_prefix)?;
            opt(&f.submit_token).map_or(Ok(()), submit_token)
        }
        R::GetJobMeta { job_id: id }
        | R::GetJobStatus { job_id: id }
        | R::ListJobComponents { job_id: id }
        | R::DownloadJobResult { job_id: id }
        | R::DownloadJobComponents { job_id: id }
        | R::WaitForJob { job_id: id, .. }
        | R::MonitorJob { job_id: id, .. } => job_id(id),
        R::GetJobLogs {
            job_id: id,
            target,
            log_file_name,
            ..
        } => {
            job_id(id)?;
            job_log_target(target)?;
            opt(log_file_name).map_or(Ok(()), job_log_file)
        }
        R::ShowStats {
            job_id: id,
            target_type,
            targets: names,
        }
        | R::ShowErrors {
            job_id: id,
            target_type,
            targets: names,
        } => {
            job_id(id)?;
            targets(*target_type, names)
        }
        R::LsTarget {
            target,
            options,
            path,
        } => {
            shell_target(target)?;
            opt(options).map_or(Ok(()), shell_options)?;
            opt(path).map_or(Ok(()), shell_path)
        }
        R::CatTarget {
            target,
            options,
            file,
        }
        | R::HeadTarget {
            target,
            options,
            file,
        }
        | R::TailTarget {
            target,
            options,
            file,
        }
        | R::GrepTarget {
            target,
            options,
            file,
            ..
        } => {
            shell_target(target)?;
            opt(options).map_or(Ok(()), shell_options)?;
            shell_file(file)
        }
        R::HeadTargetLog { target, options } | R::TailTargetLog { target, options } => {
            shell_target(target)?;
            opt(options).map_or(Ok(()), shell_options)
        }
        R::GetWorkingDirectory { target } => shell_target(target),
        R::ShowStudy { study } => study_name(study),
        R::GetSystemInfo
        | R::GetConnectedClientList
        | R::GetAvailableAppsToUpload
        | R::ListStudies => Ok(()),
    }
}

fn check_mutate(c: &MutateCommand) -> Result<(), FlareError> {
    use MutateCommand as M;
    match c {
        M::SubmitJob {
            submit_token: token,
            ..
        } => opt(token).map_or(Ok(()), submit_token),
        M::CloneJob { job_id: id }
        | M::AbortJob { job_id: id }
        | M::DeleteJob { job_id: id }
        | M::ResetErrors { job_id: id }
        | M::DoAppCommand { job_id: id, .. } => job_id(id),
        M::ConfigureJobLog {
            job_id: id, target, ..
        } => {
            job_id(id)?;
            log_config_target(target, &["all", "server"])
        }
        M::ConfigureSiteLog { target, .. } => {
            log_config_target(target, &["all", "server", "client"])
        }
        M::Restart {
            target_type,
            client_names,
            ..
        }
        | M::Shutdown {
            target_type,
            client_names,
            ..
        } => targets(*target_type, client_names),
        M::RemoveClient { client_name }
        | M::DisableClient { client_name }
        | M::EnableClient { client_name } => site_name("client name", client_name),
        M::RegisterStudy { study, sites }
        | M::AddStudySite { study, sites }
        | M::RemoveStudySite { study, sites } => {
            study_name(study)?;
            site_selection(sites)
        }
        M::RemoveStudy { study } => study_name(study),
        M::AddStudyUser { study, user } | M::RemoveStudyUser { study, user } => {
            study_name(study)?;
            admin_name(user)
        }
        // A raw command line is the caller's own; timeouts carry no names.
        M::DoCommand { .. } | M::SetTimeout { .. } | M::UnsetTimeout | M::ShutdownSystem => Ok(()),
    }
}
