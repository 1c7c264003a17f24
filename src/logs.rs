//! Job log text: the grep-like line filter (case-insensitive substring or `/regex/`), match
//! highlighting, and spotting a log the server cut at its 5 MB limit.

use wasm_bindgen::JsCast;

/// The server's per-site limit for `get_job_log` (`MAX_RETURNED_JOB_LOG_BYTES`).
pub const SERVER_LOG_LIMIT: usize = 5 * 1024 * 1024;

/// At most this many matching lines are drawn (the last ones: a tail is what matters).
pub const MAX_SHOWN_LINES: usize = 3_000;

/// What the filter input asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FilterSpec {
    /// Empty input: every line.
    All,
    /// A case-insensitive substring.
    Text(String),
    /// `/pattern/`: a case-insensitive regular expression (the browser's engine).
    Regex(String),
}

/// Reads the filter input.
pub fn parse_filter(input: &str) -> FilterSpec {
    let t = input.trim();
    if t.is_empty() {
        FilterSpec::All
    } else if t.len() >= 3 && t.starts_with('/') && t.ends_with('/') {
        FilterSpec::Regex(t[1..t.len() - 1].to_owned())
    } else {
        FilterSpec::Text(t.to_owned())
    }
}

/// A compiled filter.
#[derive(Clone, Debug)]
pub enum Matcher {
    All,
    /// ASCII-lowercased needle (byte offsets stay valid in the original line).
    Text(String),
    Regex(js_sys::RegExp),
}

impl Matcher {
    /// Compiles `spec`; a bad regular expression gives the browser's message.
    pub fn new(spec: &FilterSpec) -> Result<Matcher, String> {
        match spec {
            FilterSpec::All => Ok(Matcher::All),
            FilterSpec::Text(t) => Ok(Matcher::Text(t.to_ascii_lowercase())),
            FilterSpec::Regex(p) => {
                let ctor: js_sys::Function =
                    js_sys::Reflect::get(&js_sys::global(), &"RegExp".into())
                        .map_err(|_| "this browser has no RegExp".to_owned())?
                        .unchecked_into();
                let args = js_sys::Array::of2(&p.into(), &"gi".into());
                js_sys::Reflect::construct(&ctor, &args)
                    .map(|re| Matcher::Regex(re.unchecked_into()))
                    .map_err(|e| {
                        let msg = js_sys::Reflect::get(&e, &"message".into())
                            .ok()
                            .and_then(|m| m.as_string())
                            .unwrap_or_else(|| "invalid regular expression".to_owned());
                        format!("Not a valid regular expression: {msg}")
                    })
            }
        }
    }

    /// Byte ranges of the matches in `line` (empty when none; `All` matches without ranges).
    pub fn ranges(&self, line: &str) -> Vec<(usize, usize)> {
        match self {
            Matcher::All => Vec::new(),
            Matcher::Text(needle) => {
                if needle.is_empty() {
                    return Vec::new();
                }
                line.to_ascii_lowercase()
                    .match_indices(needle.as_str())
                    .map(|(i, m)| (i, i + m.len()))
                    .collect()
            }
            Matcher::Regex(re) => {
                let mut out = Vec::new();
                re.set_last_index(0);
                while let Some(found) = re.exec(line) {
                    let start = js_sys::Reflect::get(&found, &"index".into())
                        .ok()
                        .and_then(|v| v.as_f64())
                        .unwrap_or(0.0) as u32;
                    let len16 = found
                        .get(0)
                        .as_string()
                        .map(|s| s.encode_utf16().count())
                        .unwrap_or(0) as u32;
                    if len16 == 0 {
                        re.set_last_index(start + 1);
                        if start as usize >= line.encode_utf16().count() {
                            break;
                        }
                        continue;
                    }
                    out.push((
                        utf16_to_byte(line, start as usize),
                        utf16_to_byte(line, (start + len16) as usize),
                    ));
                    if out.len() > 1_000 {
                        break;
                    }
                }
                out
            }
        }
    }

    /// True when `line` passes the filter.
    pub fn matches(&self, line: &str) -> bool {
        match self {
            Matcher::All => true,
            Matcher::Text(n) => line.to_ascii_lowercase().contains(n.as_str()),
            Matcher::Regex(re) => {
                re.set_last_index(0);
                re.test(line)
            }
        }
    }
}

/// The byte offset of UTF-16 offset `idx` in `s`.
fn utf16_to_byte(s: &str, idx: usize) -> usize {
    let mut units = 0;
    for (byte, c) in s.char_indices() {
        if units >= idx {
            return byte;
        }
        units += c.len_utf16();
    }
    s.len()
}

/// `line` cut into (is_match, text) pieces along `ranges`.
pub fn segments<'a>(line: &'a str, ranges: &[(usize, usize)]) -> Vec<(bool, &'a str)> {
    let mut out = Vec::new();
    let mut at = 0;
    for &(start, end) in ranges {
        if start < at || end > line.len() || start >= end {
            continue;
        }
        if start > at {
            out.push((false, &line[at..start]));
        }
        out.push((true, &line[start..end]));
        at = end;
    }
    if at < line.len() {
        out.push((false, &line[at..]));
    }
    out
}

/// The lines of `text` that pass `matcher`, the last [`MAX_SHOWN_LINES`] of them, and how many
/// matched in all.
pub fn filtered<'a>(text: &'a str, matcher: &Matcher) -> (Vec<&'a str>, usize) {
    let all: Vec<&str> = text.lines().filter(|l| matcher.matches(l)).collect();
    let total = all.len();
    let skip = total.saturating_sub(MAX_SHOWN_LINES);
    (all.into_iter().skip(skip).collect(), total)
}

/// Why a log is not whole, when it was cut: the server's own banner (NVFlare 2.9 writes
/// `... output truncated to last 5242880 bytes ...` on the first line), else a size at the limit.
pub fn truncation_notice(text: &str) -> Option<String> {
    let banner = text.lines().take(3).find(|l| {
        let l = l.to_ascii_lowercase();
        l.contains("truncated") || (l.contains("cut") && l.contains("bytes"))
    });
    if let Some(line) = banner {
        return Some(format!(
            "The server cut this log at its 5 MB limit; showing the last 5 MB. ({})",
            line.trim().trim_matches('.').trim()
        ));
    }
    (text.len() >= SERVER_LOG_LIMIT).then(|| {
        format!(
            "This log is {} — showing the last 5 MB; older lines are not shown.",
            human_bytes(text.len() as f64)
        )
    })
}

/// "1.2 MB", "512 B".
pub fn human_bytes(n: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = n.max(0.0);
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{v:.0} {}", UNITS[0])
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_input_is_text_or_slash_regex() {
        assert_eq!(parse_filter("  "), FilterSpec::All);
        assert_eq!(parse_filter("Round"), FilterSpec::Text("Round".to_owned()));
        assert_eq!(
            parse_filter("/round \\d+/"),
            FilterSpec::Regex("round \\d+".to_owned())
        );
        assert_eq!(parse_filter("/"), FilterSpec::Text("/".to_owned()));
    }

    #[test]
    fn text_filter_is_case_insensitive_and_highlights() {
        let m = Matcher::new(&parse_filter("round")).unwrap();
        let line = "Round 1 started; round 2 next";
        assert!(m.matches(line));
        let r = m.ranges(line);
        assert_eq!(r, [(0, 5), (17, 22)]);
        assert_eq!(
            segments(line, &r),
            [
                (true, "Round"),
                (false, " 1 started; "),
                (true, "round"),
                (false, " 2 next")
            ]
        );
        let (lines, total) = filtered("a ROUND\nb\nc round\n", &m);
        assert_eq!((lines, total), (vec!["a ROUND", "c round"], 2));
    }

    #[test]
    fn truncated_logs_are_spotted() {
        let text = "... output truncated to last 5242880 bytes ...\nline\n";
        let n = truncation_notice(text).unwrap();
        assert!(n.contains("5 MB limit"), "{n}");
        assert_eq!(truncation_notice("short log\n"), None);
        let big = "x".repeat(SERVER_LOG_LIMIT);
        assert!(truncation_notice(&big).unwrap().contains("5.0 MB"));
        assert_eq!(human_bytes(512.0), "512 B");
        assert_eq!(human_bytes(1536.0), "1.5 KB");
    }

    #[test]
    fn utf16_offsets_map_to_bytes() {
        assert_eq!(utf16_to_byte("aé😀b", 2), 3);
        assert_eq!(utf16_to_byte("aé😀b", 4), 7);
        assert_eq!(utf16_to_byte("ab", 9), 2);
    }
}
