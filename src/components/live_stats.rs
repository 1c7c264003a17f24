//! A running job's live stats: round progress bar, phase, and which sites hold which task.
//!
//! NVFlare numbers rounds from 0 (`Round 0 started.` in its log): the text names the round in
//! progress counting from 1 ("Round 3 of 20" while `current_round` is 2) and the bar shows the
//! rounds done (`value=current_round max=num_rounds`).

use flare_model::JobLive;
use leptos::prelude::*;

/// "Round 3 of 20" (rounds count from 0 in NVFlare: round 2 running is the third).
pub fn round_text(current: Option<u64>, total: Option<u64>) -> String {
    match (current, total) {
        (Some(c), Some(n)) => format!("Round {} of {n}", (c + 1).min(n.max(1))),
        (Some(c), None) => format!("Round {}", c + 1),
        (None, Some(n)) => format!("Starting ({n} rounds)"),
        (None, None) => "No round yet".to_owned(),
    }
}

/// The stats panel; `running` is false when the job is not RUNNING.
#[component]
pub fn LiveStats(
    #[prop(into)] live: Signal<Option<JobLive>>,
    #[prop(into)] running: Signal<bool>,
) -> impl IntoView {
    let progress = Memo::new(move |_| live.read().as_ref().and_then(JobLive::round_progress));
    move || {
        if !running.get() {
            return view! {
                <p id="live-idle" class="empty muted">
                    "Not running — live stats appear while the job runs."
                </p>
            }
            .into_any();
        }
        if live.read().is_none() {
            return view! {
                <p id="live-idle" class="empty muted">"Waiting for the job's first stats…"</p>
            }
            .into_any();
        }
        match progress.get() {
            None => view! {
                <p class="empty muted">
                    "The job runs, but its workflow reports no rounds. Other stats: see the errors panel and logs."
                </p>
            }
            .into_any(),
            Some(p) => {
                let text = round_text(p.current_round, p.num_rounds);
                // The bar counts finished rounds: NVFlare's 0-based `current_round` is the round
                // in progress, so `current_round` rounds are done.
                let value = p.current_round.unwrap_or(0);
                let max = p.num_rounds.unwrap_or(0).max(value).max(1);
                let title = format!(
                    "{value} of {max} rounds done (NVFlare round index {})",
                    p.current_round.map(|c| c.to_string()).unwrap_or_else(|| "—".to_owned())
                );
                let tasks = p.tasks.clone();
                view! {
                    <div class="live-stats">
                        <div class="round">
                            <label for="round-progress" id="round-text">
                                {text}
                            </label>
                            <progress id="round-progress" value=value max=max title=title></progress>
                        </div>
                        <dl class="meta">
                            <dt>"Workflow"</dt>
                            <dd>{p.workflow.clone()}</dd>
                            <dt>"Phase"</dt>
                            <dd id="live-phase">{p.phase.clone().unwrap_or_else(|| "—".to_owned())}</dd>
                        </dl>
                        <h3>"Tasks"</h3>
                        {if tasks.is_empty() {
                            view! { <p class="muted">"No task is out at the moment."</p> }.into_any()
                        } else {
                            view! {
                                <table id="live-tasks" class="table">
                                    <thead>
                                        <tr>
                                            <th scope="col">"Task"</th>
                                            <th scope="col">"Sites holding it"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {tasks
                                            .into_iter()
                                            .map(|(task, sites)| {
                                                let key = task.clone();
                                                let sites = if sites.is_empty() {
                                                    "—".to_owned()
                                                } else {
                                                    sites.join(", ")
                                                };
                                                view! {
                                                    <tr data-task=key>
                                                        <td>
                                                            <code>{task}</code>
                                                        </td>
                                                        <td>{sites}</td>
                                                    </tr>
                                                }
                                            })
                                            .collect_view()}
                                    </tbody>
                                </table>
                            }
                                .into_any()
                        }}
                    </div>
                }
                .into_any()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_read_from_one() {
        assert_eq!(round_text(Some(2), Some(20)), "Round 3 of 20");
        assert_eq!(round_text(Some(20), Some(20)), "Round 20 of 20");
        assert_eq!(round_text(None, Some(5)), "Starting (5 rounds)");
    }
}
