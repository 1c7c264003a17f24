//! Job status words: how a status string is grouped and coloured.

/// The colour family of a job status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// Submitted, approved, dispatched: waiting to run (grey).
    Pending,
    /// Running (blue).
    Running,
    /// Finished and completed (green).
    Completed,
    /// Aborted or abandoned by someone or something (amber).
    Aborted,
    /// Failed: an exception, abnormal end or a job that could not run (red).
    Failed,
}

impl Tone {
    /// The CSS class suffix: `status-<name>`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tone::Pending => "pending",
            Tone::Running => "running",
            Tone::Completed => "completed",
            Tone::Aborted => "aborted",
            Tone::Failed => "failed",
        }
    }
}

/// Groups an NVFlare run status (`RUNNING`, `FINISHED:COMPLETED`, …) by colour.
pub fn tone(status: &str) -> Tone {
    let s = status.to_ascii_uppercase();
    if s.contains("EXCEPTION")
        || s.contains("ABNORMAL")
        || s.contains("FAIL")
        || s.contains("CAN_NOT")
        || s.contains("CANT")
    {
        Tone::Failed
    } else if s.contains("ABORT") || s.contains("ABANDON") {
        Tone::Aborted
    } else if s.contains("COMPLETED") || s == "FINISHED_OK" || s == "FINISHED" {
        Tone::Completed
    } else if s == "RUNNING" || s == "DISPATCHED" {
        Tone::Running
    } else {
        Tone::Pending
    }
}

/// Statuses offered in the jobs filter: `(value, label)`. A value matches a job whose status equals
/// it or starts with it followed by `:` (so `FINISHED` matches every finished job).
pub const STATUS_FILTERS: &[(&str, &str)] = &[
    ("", "All statuses"),
    ("SUBMITTED", "Submitted"),
    ("DISPATCHED", "Dispatched"),
    ("RUNNING", "Running"),
    ("FINISHED", "Finished (any)"),
    ("FINISHED:COMPLETED", "Completed"),
    ("FINISHED:ABORTED", "Aborted"),
    ("FINISHED:EXECUTION_EXCEPTION", "Execution exception"),
    ("FINISHED:ABNORMAL", "Abnormal"),
];

/// True when `status` passes the status filter `wanted` (see [`STATUS_FILTERS`]).
pub fn status_matches(status: &str, wanted: &str) -> bool {
    wanted.is_empty()
        || status == wanted
        || status
            .strip_prefix(wanted)
            .is_some_and(|rest| rest.starts_with(':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_get_the_documented_colours() {
        let cases = [
            ("SUBMITTED", Tone::Pending),
            ("APPROVED", Tone::Pending),
            ("DISPATCHED", Tone::Running),
            ("RUNNING", Tone::Running),
            ("FINISHED:COMPLETED", Tone::Completed),
            ("FINISHED:ABORTED", Tone::Aborted),
            ("FINISHED:ABANDONED", Tone::Aborted),
            ("FINISHED:EXECUTION_EXCEPTION", Tone::Failed),
            ("FINISHED:ABNORMAL", Tone::Failed),
            ("FINISHED:CAN_NOT_SCHEDULE", Tone::Failed),
            ("FINISHED:FAILED_TO_RUN", Tone::Failed),
        ];
        for (status, want) in cases {
            assert_eq!(tone(status), want, "{status}");
        }
    }

    #[test]
    fn status_filter_matches_exact_or_group() {
        assert!(status_matches("RUNNING", ""));
        assert!(status_matches("RUNNING", "RUNNING"));
        assert!(status_matches("FINISHED:COMPLETED", "FINISHED"));
        assert!(status_matches("FINISHED:COMPLETED", "FINISHED:COMPLETED"));
        assert!(!status_matches("FINISHED:ABORTED", "FINISHED:COMPLETED"));
        assert!(!status_matches("RUNNING", "RUN"));
        assert!(!status_matches("SUBMITTED", "FINISHED"));
    }
}
