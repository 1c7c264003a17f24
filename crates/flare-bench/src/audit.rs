//! NVFlare's server audit log (`<server workspace>/audit.log`) as an outside count of the admin
//! commands a client sends: the server writes one line per command,
//! `[E:<event id>][T:<time>][U:<user>][A:<command and arguments>]`.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Counts the audit lines appended after a mark.
#[derive(Clone, Debug)]
pub struct AuditLog {
    path: PathBuf,
}

/// A position in the audit log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark(u64);

impl AuditLog {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        AuditLog { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The current end of the log (0 when it does not exist yet).
    pub fn mark(&self) -> Mark {
        Mark(std::fs::metadata(&self.path).map_or(0, |m| m.len()))
    }

    /// The commands of `user` appended since `mark`, by command name (the first word of `A:`).
    /// A log that shrank (rotated) is read from its start.
    pub fn commands_since(&self, mark: Mark, user: &str) -> std::io::Result<BTreeMap<String, u64>> {
        let mut file = std::fs::File::open(&self.path)?;
        let len = file.metadata()?.len();
        let from = if len < mark.0 { 0 } else { mark.0 };
        file.seek(SeekFrom::Start(from))?;
        let mut text = String::new();
        file.take(len - from).read_to_string(&mut text)?;
        Ok(count_commands(&text, user))
    }
}

/// Counts the complete audit lines of `user` in `text` by command name.
pub fn count_commands(text: &str, user: &str) -> BTreeMap<String, u64> {
    let tag = format!("[U:{user}][A:");
    let mut counts = BTreeMap::new();
    for line in text.lines() {
        let Some(at) = line.find(&tag) else {
            continue;
        };
        let action = &line[at + tag.len()..];
        let name = action
            .split(|c: char| c.is_whitespace() || c == ']')
            .next()
            .unwrap_or_default();
        *counts.entry(name.to_owned()).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINES: &str = "\
[E:1][T:2026-11-22 05:27:59.03][U:lead@nvidia.com][A:check_status server]
[E:2][T:2026-11-22 05:27:59.17][U:admin@nvidia.com][A:get_job_meta cd94418a]
[E:3][T:2026-11-22 05:28:00.03][U:lead@nvidia.com][A:list_jobs]
[E:4][T:2026-11-22 05:28:00.05][U:?][A:_cert_login lead@nvidia.com]
[E:5][T:2026-11-22 05:28:01.03][U:lead@nvidia.com][A:check_status server]
";

    #[test]
    fn commands_are_counted_per_user_by_name() {
        let counts = count_commands(LINES, "lead@nvidia.com");
        assert_eq!(counts.get("check_status"), Some(&2));
        assert_eq!(counts.get("list_jobs"), Some(&1));
        assert_eq!(counts.values().sum::<u64>(), 3);
        assert_eq!(
            count_commands(LINES, "admin@nvidia.com")
                .values()
                .sum::<u64>(),
            1
        );
    }

    #[test]
    fn only_lines_appended_after_the_mark_count() {
        let dir = std::env::temp_dir().join(format!("flare-bench-audit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("audit.log");
        std::fs::write(&path, LINES).unwrap();
        let log = AuditLog::new(&path);
        let mark = log.mark();
        let mut more = String::from(LINES);
        more.push_str("[E:6][T:2026-11-22 05:28:02.03][U:lead@nvidia.com][A:list_jobs]\n");
        std::fs::write(&path, more).unwrap();
        let counts = log.commands_since(mark, "lead@nvidia.com").unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(counts.get("list_jobs"), Some(&1));
        assert_eq!(counts.values().sum::<u64>(), 1);
    }
}
