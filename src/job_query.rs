//! The jobs list view: filtering and sorting job summaries, as plain functions.

use std::cmp::Ordering;

use flare_model::JobSummary;
use leptos::prelude::RwSignal;

use crate::status::status_matches;

/// The jobs list filters as the user typed them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobFilter {
    /// Case-insensitive substring of the job name.
    pub name: String,
    /// Case-insensitive prefix of the job id.
    pub id_prefix: String,
    /// A value of [`crate::status::STATUS_FILTERS`]; empty for all.
    pub status: String,
}

impl JobFilter {
    /// True when `job` passes every filter.
    pub fn matches(&self, job: &JobSummary) -> bool {
        let name = self.name.trim().to_lowercase();
        let id = self.id_prefix.trim().to_lowercase();
        (name.is_empty() || job.job_name.to_lowercase().contains(&name))
            && (id.is_empty() || job.job_id.to_lowercase().starts_with(&id))
            && status_matches(&job.status, &self.status)
    }
}

/// The jobs list's filter and sort, kept for the session so they survive a visit to a job.
#[derive(Clone, Copy, Debug)]
pub struct JobsView {
    pub filter: RwSignal<JobFilter>,
    pub sort: RwSignal<Sort>,
}

impl Default for JobsView {
    fn default() -> Self {
        JobsView {
            filter: RwSignal::new(JobFilter::default()),
            sort: RwSignal::new(Sort::default()),
        }
    }
}

/// A sortable column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    Submitted,
    Name,
    Status,
}

/// Sort column and direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

impl Default for Sort {
    /// Newest first.
    fn default() -> Self {
        Sort {
            key: SortKey::Submitted,
            descending: true,
        }
    }
}

impl Sort {
    /// The sort after clicking `key`'s header: the same column flips, another column starts
    /// ascending (newest first for submit time).
    pub fn clicked(self, key: SortKey) -> Sort {
        if self.key == key {
            Sort {
                key,
                descending: !self.descending,
            }
        } else {
            Sort {
                key,
                descending: key == SortKey::Submitted,
            }
        }
    }
}

fn compare(a: &JobSummary, b: &JobSummary, key: SortKey) -> Ordering {
    let primary = match key {
        SortKey::Submitted => a.submit_time.cmp(&b.submit_time),
        SortKey::Name => a.job_name.to_lowercase().cmp(&b.job_name.to_lowercase()),
        SortKey::Status => a.status.cmp(&b.status),
    };
    // Ties keep a stable, meaningful order: by submit time, then id.
    primary
        .then_with(|| a.submit_time.cmp(&b.submit_time))
        .then_with(|| a.job_id.cmp(&b.job_id))
}

/// The rows to show: `jobs` filtered by `filter`, sorted by `sort`.
pub fn visible_jobs<'a>(
    jobs: impl IntoIterator<Item = &'a JobSummary>,
    filter: &JobFilter,
    sort: Sort,
) -> Vec<JobSummary> {
    let mut rows: Vec<JobSummary> = jobs
        .into_iter()
        .filter(|job| filter.matches(job))
        .cloned()
        .collect();
    rows.sort_by(|a, b| {
        let ord = compare(a, b, sort.key);
        if sort.descending { ord.reverse() } else { ord }
    });
    rows
}

/// A server duration without its microseconds: `"0:00:11.261804"` → `"0:00:11"`.
pub fn tidy_duration(duration: &str) -> &str {
    match duration.split_once('.') {
        Some((whole, frac)) if frac.chars().all(|c| c.is_ascii_digit()) => whole,
        _ => duration,
    }
}

/// The first block of a UUID job id, enough to tell jobs apart on screen; other ids whole.
pub fn short_id(job_id: &str) -> &str {
    let is_uuid = job_id.len() == 36
        && job_id.split('-').map(str::len).eq([8, 4, 4, 4, 12])
        && job_id.chars().all(|c| c == '-' || c.is_ascii_hexdigit());
    if is_uuid { &job_id[..8] } else { job_id }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A job of study `default` that ran 12 s; also used by the browser tests.
    pub(crate) fn job(id: &str, name: &str, status: &str, submitted: &str) -> JobSummary {
        JobSummary {
            job_id: id.to_owned(),
            job_name: name.to_owned(),
            status: status.to_owned(),
            submit_time: submitted.to_owned(),
            duration: "0:00:12".to_owned(),
            study: "default".to_owned(),
        }
    }

    fn sample() -> Vec<JobSummary> {
        vec![
            job("a1-x", "hello-numpy", "RUNNING", "2026-11-22T04:00:02"),
            job("b2-y", "Alpha", "FINISHED:COMPLETED", "2026-11-22T04:00:01"),
            job("a3-z", "zeta", "FINISHED:ABORTED", "2026-11-22T04:00:03"),
        ]
    }

    fn ids(rows: &[JobSummary]) -> Vec<&str> {
        rows.iter().map(|j| j.job_id.as_str()).collect()
    }

    #[test]
    fn default_sort_is_newest_first() {
        let rows = visible_jobs(&sample(), &JobFilter::default(), Sort::default());
        assert_eq!(ids(&rows), ["a3-z", "a1-x", "b2-y"]);
    }

    #[test]
    fn clicking_headers_sorts_and_flips() {
        let jobs = sample();
        let by_name = Sort::default().clicked(SortKey::Name);
        assert_eq!(
            ids(&visible_jobs(&jobs, &JobFilter::default(), by_name)),
            ["b2-y", "a1-x", "a3-z"]
        );
        let by_name_desc = by_name.clicked(SortKey::Name);
        assert_eq!(
            ids(&visible_jobs(&jobs, &JobFilter::default(), by_name_desc)),
            ["a3-z", "a1-x", "b2-y"]
        );
        let by_status = by_name_desc.clicked(SortKey::Status);
        assert_eq!(
            ids(&visible_jobs(&jobs, &JobFilter::default(), by_status)),
            ["a3-z", "b2-y", "a1-x"]
        );
    }

    #[test]
    fn filters_combine() {
        let jobs = sample();
        let f = |name: &str, id: &str, status: &str| JobFilter {
            name: name.to_owned(),
            id_prefix: id.to_owned(),
            status: status.to_owned(),
        };
        let run = |filter: JobFilter| ids(&visible_jobs(&jobs, &filter, Sort::default())).join(",");
        assert_eq!(run(f("NUMPY", "", "")), "a1-x");
        assert_eq!(run(f("", "A", "")), "a3-z,a1-x");
        assert_eq!(run(f("", "a", "FINISHED")), "a3-z");
        assert_eq!(run(f("", "", "FINISHED:COMPLETED")), "b2-y");
        assert_eq!(run(f("nothing", "", "")), "");
    }

    #[test]
    fn durations_drop_microseconds() {
        assert_eq!(tidy_duration("0:00:11.261804"), "0:00:11");
        assert_eq!(tidy_duration("N/A"), "N/A");
        assert_eq!(tidy_duration(""), "");
    }

    #[test]
    fn short_id_is_the_first_uuid_block() {
        assert_eq!(short_id("3f2c1a9e-1111-2222-3333-444455556666"), "3f2c1a9e");
        assert_eq!(short_id("9c6ffa0b-f0f2-4c13-8758-501cfc767895"), "9c6ffa0b");
        assert_eq!(short_id("plain"), "plain");
        assert_eq!(short_id("does-not-exist"), "does-not-exist");
    }
}
