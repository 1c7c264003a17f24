//! One job: its meta fields and the timeline of its status changes.

use flare_model::{JobDetail, JobMeta};
use leptos::prelude::*;
use serde_json::Value;

use crate::components::status_badge::StatusBadge;
use crate::job_query::tidy_duration;
use crate::state::ago;
use crate::time::{display_iso, local_datetime, use_clock};

/// The submitter as "name (org, role)".
fn submitter(meta: &JobMeta) -> String {
    let name = meta
        .submitter_name
        .clone()
        .unwrap_or_else(|| "—".to_owned());
    let rest: Vec<&str> = [
        meta.submitter_org.as_deref(),
        meta.submitter_role.as_deref(),
    ]
    .into_iter()
    .flatten()
    .filter(|s| !s.is_empty())
    .collect();
    if rest.is_empty() {
        name
    } else {
        format!("{name} ({})", rest.join(", "))
    }
}

/// The submit time, local.
fn submitted(meta: &JobMeta) -> String {
    match (&meta.submit_time_iso, meta.submit_time) {
        (Some(iso), _) if !iso.is_empty() => display_iso(iso),
        (_, Some(secs)) => local_datetime(secs * 1_000.0),
        _ => "—".to_owned(),
    }
}

/// The start time (Unix seconds or the server's text), local.
fn started(meta: &JobMeta) -> Option<String> {
    match meta.start_time.as_ref()? {
        Value::Number(n) => n.as_f64().map(|secs| local_datetime(secs * 1_000.0)),
        Value::String(s) if !s.is_empty() => Some(display_iso(s)),
        _ => None,
    }
}

/// `{"app": ["site-1", "site-2"]}` as "app → site-1, site-2".
fn deployment(meta: &JobMeta) -> Option<String> {
    let map = meta.deploy_map.as_ref()?.as_object()?;
    let parts: Vec<String> = map
        .iter()
        .map(|(app, sites)| {
            let sites = match sites {
                Value::Array(list) => list
                    .iter()
                    .map(|s| match s {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.to_string(),
            };
            format!("{app} → {sites}")
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// Meta list and status timeline of `detail`.
#[component]
pub fn JobDetailView(#[prop(into)] detail: Signal<JobDetail>) -> impl IntoView {
    let clock = use_clock();
    let meta = Memo::new(move |_| detail.read().meta.clone());
    let status = Signal::derive(move || meta.read().status.clone());
    let row = |term: &'static str, value: String| {
        view! {
            <dt>{term}</dt>
            <dd>{value}</dd>
        }
    };
    view! {
        <div class="job-detail">
            <dl id="job-meta" class="meta">
                <dt>"Job ID"</dt>
                <dd>
                    <code>{move || meta.read().job_id.clone()}</code>
                </dd>
                <dt>"Name"</dt>
                <dd>{move || meta.read().name.clone()}</dd>
                <dt>"Status"</dt>
                <dd>
                    <StatusBadge status />
                </dd>
                <dt>"Study"</dt>
                <dd>{move || meta.read().study.clone().unwrap_or_else(|| "default".to_owned())}</dd>
                <dt>"Submitter"</dt>
                <dd>{move || submitter(&meta.read())}</dd>
                <dt>"Submitted"</dt>
                <dd>{move || submitted(&meta.read())}</dd>
                {move || {
                    let m = meta.read();
                    let mut extra = Vec::new();
                    if let Some(s) = started(&m) {
                        extra.push(row("Started", s));
                    }
                    if let Some(d) = m.duration.clone().filter(|d| !d.is_empty()) {
                        extra.push(row("Duration", tidy_duration(&d).to_owned()));
                    }
                    if let Some(n) = m.min_sites {
                        extra.push(row("Minimum sites", n.to_string()));
                    }
                    if let Some(list) = m.mandatory_clients.as_ref().filter(|l| !l.is_empty()) {
                        extra.push(row("Mandatory sites", list.join(", ")));
                    }
                    if let Some(d) = deployment(&m) {
                        extra.push(row("Deployment", d));
                    }
                    extra.collect_view()
                }}
            </dl>
            <section class="timeline-wrap" aria-labelledby="timeline-heading">
                <h3 id="timeline-heading">"Status timeline"</h3>
                <ol id="job-timeline" class="timeline">
                    {move || {
                        detail
                            .read()
                            .timeline
                            .iter()
                            .map(|change| {
                                let at = change.at_ms;
                                view! {
                                    <li>
                                        <StatusBadge status=change.status.clone() />
                                        " "
                                        <time datetime=at.to_string()>
                                            {local_datetime(at as f64)}
                                        </time>
                                        " "
                                        <span class="muted">
                                            {move || ago(clock.now().saturating_sub(at))}
                                        </span>
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ol>
                {move || {
                    detail
                        .read()
                        .timeline
                        .is_empty()
                        .then(|| {
                            view! {
                                <p class="empty muted">"No status change seen yet."</p>
                            }
                        })
                }}
            </section>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn submitter_and_deployment_read_well() {
        let meta = JobMeta {
            submitter_name: Some("admin@nvidia.com".to_owned()),
            submitter_org: Some("nvidia".to_owned()),
            submitter_role: Some("project_admin".to_owned()),
            deploy_map: Some(serde_json::json!({"app": ["@ALL"]})),
            ..JobMeta::default()
        };
        assert_eq!(submitter(&meta), "admin@nvidia.com (nvidia, project_admin)");
        assert_eq!(deployment(&meta).as_deref(), Some("app → @ALL"));
        assert_eq!(submitter(&JobMeta::default()), "—");
    }
}
