//! The HCI layer: JSON command documents (arguments joined by [`crate::args::join_args`]), and the
//! mapping of reply status to the FLARE API error family (`flare_api.py::_do_command`, `api.py::_determine_api_status`).

use flare_model::FlareError;
use serde_json::{Map, Value, json};

pub use crate::args::join_args;

/// Python's `str(datetime.now())` format (UTC here; the server does not read it).
pub(crate) fn timestamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{:06}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_micros()
    )
}

/// The request document for `command`, with the session token once logged in.
pub(crate) fn request_document(
    command: &str,
    token: Option<&str>,
    meta: Map<String, Value>,
) -> String {
    let mut data = vec![json!({"type": "command", "data": command})];
    if let Some(t) = token {
        data.push(json!({"type": "token", "data": t}));
    }
    json!({"time": timestamp(), "data": data, "meta": meta}).to_string()
}

/// A decoded HCI reply document.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct HciReply(pub(crate) Value);

impl HciReply {
    pub(crate) fn items(&self) -> &[Value] {
        self.0
            .get("data")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// `meta`, when present and not empty (Python treats `{}` as no meta).
    pub(crate) fn meta(&self) -> Option<&Map<String, Value>> {
        self.0
            .get("meta")
            .and_then(Value::as_object)
            .filter(|m| !m.is_empty())
    }

    pub(crate) fn meta_field(&self, key: &str) -> Option<&Value> {
        self.meta().and_then(|m| m.get(key))
    }

    fn items_of<'a>(&'a self, ty: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.items()
            .iter()
            .filter(move |i| i.get("type").and_then(Value::as_str) == Some(ty))
    }

    /// The first `dict` item's data (`Session._get_dict_data`), `{}` when none.
    pub(crate) fn dict_data(&self) -> Value {
        self.items_of("dict")
            .next()
            .and_then(|i| i.get("data").cloned())
            .unwrap_or_else(|| json!({}))
    }

    /// The concatenated `string` items.
    pub(crate) fn strings(&self) -> String {
        self.items_of("string")
            .filter_map(|i| i.get("data").and_then(Value::as_str))
            .collect()
    }

    /// The first `token` item.
    pub(crate) fn token(&self) -> Option<&str> {
        self.items_of("token")
            .next()
            .and_then(|i| i.get("data"))
            .and_then(Value::as_str)
    }

    /// The `table` items' rows.
    pub(crate) fn tables(&self) -> impl Iterator<Item = &Vec<Value>> + '_ {
        self.items_of("table")
            .filter_map(|i| i.get("rows").and_then(Value::as_array))
    }
}

fn meta_str(meta: &Map<String, Value>, key: &str) -> Option<String> {
    meta.get(key).and_then(|v| match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    })
}

/// Raises the FLARE API error a reply stands for. `enforce_meta` demands a non-empty `meta`.
pub(crate) fn check_reply(
    reply: &HciReply,
    command: &str,
    enforce_meta: bool,
) -> Result<(), FlareError> {
    if let Some(meta) = reply.meta() {
        let status = meta.get("status").and_then(Value::as_str).unwrap_or("ok");
        let info = meta_str(meta, "info").unwrap_or_default();
        let info_or = |default: &str| {
            if info.is_empty() {
                default.to_owned()
            } else {
                info.clone()
            }
        };
        let err = match status {
            "ok" => None,
            "invalid_job_def" => Some(FlareError::InvalidJobDefinition {
                message: format!("invalid job definition: {info}"),
            }),
            "submit_token_conflict" => Some(FlareError::SubmitTokenConflict {
                message: info_or("submit token was already used for different job content"),
                existing_job_id: meta_str(meta, "job_id"),
            }),
            "submit_token_job_deleted" => Some(FlareError::SubmitTokenJobDeleted {
                message: info_or("submit token refers to a deleted job"),
                job_id: meta_str(meta, "job_id"),
                state: meta_str(meta, "submit_record_state"),
                deleted_time: meta_str(meta, "deleted_time"),
            }),
            "not_authorized" => Some(FlareError::AuthorizationError {
                message: format!("user not authorized for the action '{command}: {info}'"),
            }),
            "not_authenticated" => Some(FlareError::AuthenticationError {
                message: format!("user not authenticated: {info}"),
                auth_code: meta_str(meta, "auth_code"),
            }),
            "syntax_error" => Some(FlareError::InternalError {
                message: format!("syntax error: {info}"),
            }),
            "invalid_job_id" => Some(FlareError::JobNotFound {
                message: format!("no such job: {info}"),
            }),
            "job_running" => Some(FlareError::JobNotDone {
                message: format!("job {info} is still running"),
            }),
            "job_not_running" => Some(FlareError::JobNotRunning {
                message: format!("job {info} is not running"),
            }),
            "clients_running" => Some(FlareError::ClientsStillRunning {
                message: "one or more clients are still running".to_owned(),
            }),
            "no_clients" => Some(FlareError::NoClientsAvailable {
                message: "no clients available".to_owned(),
            }),
            "internal_error" => Some(FlareError::InternalError {
                message: format!("server internal error: {info}"),
            }),
            "invalid_target" if info == "no clients available" => {
                Some(FlareError::NoClientsAvailable {
                    message: info.clone(),
                })
            }
            "invalid_target" => Some(FlareError::InvalidTarget {
                message: info.clone(),
            }),
            "no_reply" => Some(FlareError::NoReply {
                message: info.clone(),
            }),
            other => Some(FlareError::InternalError {
                message: format!("{other}: {info}"),
            }),
        };
        if let Some(e) = err {
            return Err(e);
        }
    }
    check_items(reply, command)?;
    if enforce_meta && reply.meta().is_none() {
        return Err(FlareError::InternalError {
            message: format!("missing meta from the reply to '{command}'"),
        });
    }
    Ok(())
}

/// The keyword fallbacks of `_determine_api_status` for replies without a decisive meta.
fn check_items(reply: &HciReply, command: &str) -> Result<(), FlareError> {
    let items = reply.items();
    if items.is_empty() {
        return Err(FlareError::InternalError {
            message: format!("empty reply to '{command}'"),
        });
    }
    let mut texts = Vec::new();
    for it in items {
        match it.get("type").and_then(Value::as_str) {
            Some("success") => return Ok(()),
            Some("string" | "error") => {
                if let Some(s) = it.get("data").and_then(Value::as_str) {
                    texts.push(s);
                }
            }
            _ => {}
        }
    }
    let text = texts.join("\n");
    if text.contains("session_inactive") {
        Err(FlareError::SessionClosed {
            message: "the session is closed on the server".to_owned(),
        })
    } else if text.contains("wrong server") || text.contains("Failed to communicate") {
        Err(FlareError::NoConnection {
            message: format!("cannot reach the server: {text}"),
        })
    } else if text.contains("invalid client") || text.contains("unknown site") {
        Err(FlareError::InvalidTarget { message: text })
    } else if text.contains("not authorized") {
        Err(FlareError::AuthorizationError {
            message: format!("user not authorized for the action '{command}'"),
        })
    } else {
        Ok(())
    }
}

/// Raises `CommandError` for a study command's in-band error payload.
pub(crate) fn check_study_payload(payload: &Value) -> Result<(), FlareError> {
    let Some(code) = payload
        .get("error_code")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
    else {
        return Ok(());
    };
    Err(FlareError::CommandError {
        error_code: code.to_owned(),
        message: payload
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or(code)
            .to_owned(),
        hint: payload
            .get("hint")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        exit_code: payload
            .get("exit_code")
            .and_then(Value::as_i64)
            .and_then(|c| i32::try_from(c).ok())
            .unwrap_or(1),
    })
}

/// Parses a `_cert_login` reply: the session token, or the rejection.
pub(crate) fn login_result(reply: &HciReply) -> Result<String, FlareError> {
    let text = reply.strings();
    let text = text.trim();
    if text == "REJECT" || text.starts_with("REJECT:") {
        let mut message = "incorrect user name or password".to_owned();
        let mut auth_code = None;
        if let Some(detail) = text
            .strip_prefix("REJECT:")
            .map(str::trim)
            .filter(|d| !d.is_empty())
        {
            match detail.split_once(':') {
                Some((code, reason)) if code.trim().starts_with("AUTH_") => {
                    auth_code = Some(code.trim().to_owned());
                    if !reason.trim().is_empty() {
                        message = reason.trim().to_owned();
                    }
                }
                _ => message = detail.to_owned(),
            }
        }
        return Err(FlareError::AuthenticationError { message, auth_code });
    }
    match reply.token() {
        Some(t) if !t.is_empty() => Ok(t.to_owned()),
        _ => Err(FlareError::AuthenticationError {
            message: format!("login failed: unexpected reply {text:?}"),
            auth_code: None,
        }),
    }
}
