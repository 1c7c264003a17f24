//! Wall screen and site timeline logic, pure so it is unit-tested natively: when the whole screen
//! must say its data is stale, site staleness, elapsed times, and the timeline's SVG geometry.

use flare_model::{LinkState, SiteHistory};

/// Why the wall shows its big banner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WallAlarm {
    /// The socket to the relay is down.
    RelayUnreachable,
    /// The relay cannot reach NVFlare (its message).
    UpstreamDown(String),
    /// No event for more than three poll intervals.
    Stale { age_ms: u64 },
}

impl WallAlarm {
    /// The banner's headline, short enough to read across a room.
    pub fn text(&self) -> String {
        match self {
            WallAlarm::RelayUnreachable => {
                "Relay unreachable — the data on this screen is stale; reconnecting…".to_owned()
            }
            WallAlarm::UpstreamDown(_) => {
                "NVFlare unreachable — the data on this screen is stale".to_owned()
            }
            WallAlarm::Stale { age_ms } => {
                format!("Data is stale — no update for {} s", age_ms / 1_000)
            }
        }
    }

    /// The technical detail under the headline (what the relay's login to NVFlare said).
    pub fn detail(&self) -> Option<&str> {
        match self {
            WallAlarm::UpstreamDown(m) if !m.is_empty() => Some(m),
            _ => None,
        }
    }
}

/// The wall's alarm, if any: the socket is down, the upstream link is down, or the newest event
/// (`last_event_ms`, browser time) is older than three poll intervals (plus a second of slack).
pub fn wall_alarm(
    now_ms: u64,
    socket_open: bool,
    upstream: Option<(LinkState, Option<String>)>,
    last_event_ms: Option<u64>,
    interval_ms: u64,
) -> Option<WallAlarm> {
    if !socket_open {
        return Some(WallAlarm::RelayUnreachable);
    }
    if let Some((LinkState::Down | LinkState::Reconnecting, message)) = upstream {
        return Some(WallAlarm::UpstreamDown(
            message.unwrap_or_else(|| "the relay lost its link".to_owned()),
        ));
    }
    let last = last_event_ms?;
    let age_ms = now_ms.saturating_sub(last);
    (age_ms > 3 * interval_ms.max(500) + 1_000).then_some(WallAlarm::Stale { age_ms })
}

/// A site whose last connection is older than this is marked stale on the wall.
pub const SITE_STALE_MS: u64 = 120_000;

/// "1:02:03" or "4:05" for an elapsed time.
pub fn elapsed_text(ms: u64) -> String {
    let s = ms / 1_000;
    let (h, m, s) = (s / 3_600, (s / 60) % 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// Milliseconds in NVFlare's job duration text, Python's `timedelta` form: "0:00:38.123456",
/// "1 day, 2:03:04". `None` for anything else ("N/A", empty).
pub fn duration_ms(text: &str) -> Option<u64> {
    let text = text.trim();
    let (days, clock) = match text.split_once(',') {
        Some((days, clock)) => {
            let days = days.split_whitespace().next()?.parse::<u64>().ok()?;
            (days, clock.trim())
        }
        None => (0, text),
    };
    let mut parts = clock.split(':');
    let (h, m, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let secs: f64 = s
        .parse()
        .ok()
        .filter(|s: &f64| s.is_finite() && *s >= 0.0)?;
    let whole = days * 86_400 + h.parse::<u64>().ok()? * 3_600 + m.parse::<u64>().ok()? * 60;
    Some(whole * 1_000 + (secs * 1_000.0) as u64)
}

/// How long a running job has run at `now_ms`: the server's duration as listed at `listed_at_ms`
/// plus the time since, or the time since the relay saw it RUNNING, whichever is longer (the
/// relay may have first looked long after the job started).
pub fn running_elapsed_ms(
    now_ms: u64,
    listed: Option<(&str, u64)>,
    running_seen_ms: Option<u64>,
) -> Option<u64> {
    let by_server = listed
        .and_then(|(duration, at)| duration_ms(duration).map(|d| d + now_ms.saturating_sub(at)));
    let by_relay = running_seen_ms.map(|seen| now_ms.saturating_sub(seen));
    by_server.max(by_relay)
}

/// "error" for one, "errors" otherwise.
pub fn error_noun(count: usize) -> &'static str {
    if count == 1 { "error" } else { "errors" }
}

/// "1 error", "3 errors".
pub fn errors_text(count: usize) -> String {
    format!("{count} {}", error_noun(count))
}

/// One coloured bar of the timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub lane: usize,
    pub site: String,
    pub x: f64,
    pub width: f64,
    pub connected: bool,
    pub from_ms: u64,
    pub to_ms: u64,
}

/// Bars for `history` in a plot `width` units wide (x = 0 at `since_ms`); spans are clipped to
/// the window and at least half a unit wide so short drops stay visible.
pub fn timeline_bars(history: &SiteHistory, width: f64) -> Vec<Bar> {
    let since = history.since_ms;
    let until = history.until_ms.max(since + 1);
    let scale = width / (until - since) as f64;
    let mut out = Vec::new();
    for (lane, site) in history.sites.iter().enumerate() {
        for span in &site.spans {
            let from = span.from_ms.clamp(since, until);
            let to = span.to_ms.clamp(since, until);
            if to < from {
                continue;
            }
            out.push(Bar {
                lane,
                site: site.site.clone(),
                x: (from - since) as f64 * scale,
                width: ((to - from) as f64 * scale).max(0.5),
                connected: span.connected,
                from_ms: span.from_ms,
                to_ms: span.to_ms,
            });
        }
    }
    out
}

/// Round steps for the timeline's axis, in milliseconds.
const TICK_STEPS_MS: [u64; 15] = [
    1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000,
    1_800_000, 3_600_000, 7_200_000, 10_800_000,
];

/// Axis ticks for a plot `width` wide: at most `max_ticks` steps back from "now", each a round
/// step (10 s, 30 s, 1 min, 5 min, 1 h …) so that no two labels read the same; `(x, label)`.
pub fn timeline_ticks(history: &SiteHistory, width: f64, max_ticks: usize) -> Vec<(f64, String)> {
    let span = history.until_ms.saturating_sub(history.since_ms);
    if span == 0 {
        return vec![(width, "now".to_owned())];
    }
    let max_ticks = max_ticks.max(1) as u64;
    let step = TICK_STEPS_MS
        .into_iter()
        .find(|step| span / step <= max_ticks)
        .unwrap_or_else(|| span.div_ceil(max_ticks).div_ceil(3_600_000) * 3_600_000);
    (0..=span / step)
        .rev()
        .map(|i| {
            let back_ms = i * step;
            let x = width - width * back_ms as f64 / span as f64;
            let label = if back_ms == 0 {
                "now".to_owned()
            } else if step % 3_600_000 == 0 {
                format!("-{} h", back_ms / 3_600_000)
            } else if step % 60_000 == 0 {
                format!("-{} min", back_ms / 60_000)
            } else {
                format!("-{} s", back_ms / 1_000)
            };
            (x, label)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use flare_model::{SiteSpan, SiteTimeline};

    #[test]
    fn alarm_when_socket_down_upstream_down_or_events_stop() {
        assert_eq!(
            wall_alarm(10_000, false, None, Some(9_000), 2_000),
            Some(WallAlarm::RelayUnreachable)
        );
        assert!(matches!(
            wall_alarm(
                10_000,
                true,
                Some((LinkState::Down, Some("refused".to_owned()))),
                Some(9_000),
                2_000
            ),
            Some(WallAlarm::UpstreamDown(m)) if m == "refused"
        ));
        let down =
            WallAlarm::UpstreamDown("login to NVFlare failed: connection refused".to_owned());
        assert!(!down.text().contains("refused"), "the headline stays short");
        assert_eq!(
            down.detail(),
            Some("login to NVFlare failed: connection refused")
        );
        assert_eq!(WallAlarm::RelayUnreachable.detail(), None);
        let up = Some((LinkState::Connected, None));
        assert_eq!(
            wall_alarm(10_000, true, up.clone(), Some(9_000), 2_000),
            None
        );
        // 3 intervals of 2 s + 1 s slack = 7 s.
        assert_eq!(
            wall_alarm(16_000, true, up.clone(), Some(9_000), 2_000),
            None
        );
        assert_eq!(
            wall_alarm(16_001, true, up.clone(), Some(9_000), 2_000),
            Some(WallAlarm::Stale { age_ms: 7_001 })
        );
        // Nothing yet: the panels say "waiting", no alarm.
        assert_eq!(wall_alarm(16_001, true, up, None, 2_000), None);
    }

    #[test]
    fn elapsed_reads_as_a_clock() {
        assert_eq!(elapsed_text(5_000), "0:05");
        assert_eq!(elapsed_text(65_000), "1:05");
        assert_eq!(elapsed_text(3_723_000), "1:02:03");
    }

    #[test]
    fn error_counts_agree_in_number() {
        assert_eq!(errors_text(1), "1 error");
        assert_eq!(errors_text(0), "0 errors");
        assert_eq!(errors_text(7), "7 errors");
    }

    #[test]
    fn nvflare_durations_parse_as_python_timedeltas() {
        assert_eq!(duration_ms("0:00:38.123456"), Some(38_123));
        assert_eq!(duration_ms("1:02:03"), Some(3_723_000));
        assert_eq!(
            duration_ms("2 days, 0:00:01.5"),
            Some(2 * 86_400_000 + 1_500)
        );
        assert_eq!(duration_ms("1 day, 1:00:00"), Some(90_000_000));
        for bad in ["N/A", "", "1:2", "a:b:c", "1:00:00:00", "0:00:-1"] {
            assert_eq!(duration_ms(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn running_elapsed_counts_from_the_real_start_not_from_when_the_relay_looked() {
        // Listed at 10 s with 38 s behind it; the relay only saw it RUNNING at 9 s.
        assert_eq!(
            running_elapsed_ms(15_000, Some(("0:00:38", 10_000)), Some(9_000)),
            Some(43_000)
        );
        // Without a usable duration the relay's own observation is all there is.
        assert_eq!(
            running_elapsed_ms(15_000, Some(("N/A", 10_000)), Some(9_000)),
            Some(6_000)
        );
        assert_eq!(running_elapsed_ms(15_000, None, None), None);
    }

    fn history() -> SiteHistory {
        SiteHistory {
            since_ms: 1_000,
            until_ms: 11_000,
            sample_every_ms: 1_000,
            sites: vec![
                SiteTimeline {
                    site: "site-1".to_owned(),
                    spans: vec![SiteSpan {
                        from_ms: 1_000,
                        to_ms: 11_000,
                        connected: true,
                    }],
                },
                SiteTimeline {
                    site: "site-2".to_owned(),
                    spans: vec![
                        SiteSpan {
                            from_ms: 0,
                            to_ms: 6_000,
                            connected: true,
                        },
                        SiteSpan {
                            from_ms: 6_000,
                            to_ms: 11_000,
                            connected: false,
                        },
                    ],
                },
            ],
        }
    }

    #[test]
    fn bars_scale_spans_into_lanes() {
        let bars = timeline_bars(&history(), 100.0);
        let got: Vec<_> = bars
            .iter()
            .map(|b| (b.lane, b.x, b.width, b.connected))
            .collect();
        assert_eq!(
            got,
            [
                (0, 0.0, 100.0, true),
                (1, 0.0, 50.0, true),
                (1, 50.0, 50.0, false)
            ]
        );
        let ticks = timeline_ticks(&history(), 100.0, 2);
        assert_eq!(
            ticks,
            [
                (0.0, "-10 s".to_owned()),
                (50.0, "-5 s".to_owned()),
                (100.0, "now".to_owned())
            ]
        );
    }

    fn window(span_ms: u64) -> SiteHistory {
        SiteHistory {
            since_ms: 1_000,
            until_ms: 1_000 + span_ms,
            ..SiteHistory::default()
        }
    }

    #[test]
    fn ticks_fall_on_round_steps_with_distinct_labels() {
        let labels = |span_ms, max| -> Vec<String> {
            timeline_ticks(&window(span_ms), 600.0, max)
                .into_iter()
                .map(|(_, label)| label)
                .collect()
        };
        // 2.5 minutes in at most 6 ticks: every 30 s, not "-2 min, -2 min, -1 min …".
        assert_eq!(
            labels(150_000, 6),
            ["-150 s", "-120 s", "-90 s", "-60 s", "-30 s", "now"]
        );
        assert_eq!(
            labels(6 * 3_600_000, 6),
            ["-6 h", "-5 h", "-4 h", "-3 h", "-2 h", "-1 h", "now"]
        );
        assert_eq!(
            labels(25 * 60_000, 6),
            ["-25 min", "-20 min", "-15 min", "-10 min", "-5 min", "now"]
        );
        assert_eq!(labels(0, 6), ["now"]);
        // A tick at x = width is now; the others sit where their time is.
        let ticks = timeline_ticks(&window(150_000), 600.0, 6);
        assert_eq!(ticks.last().map(|t| t.0), Some(600.0));
        assert_eq!(ticks.first().map(|t| t.0), Some(0.0));
        for labels in [labels(7_000, 6), labels(40 * 3_600_000, 6)] {
            let mut unique = labels.clone();
            unique.dedup();
            assert_eq!(unique, labels);
            assert!(labels.len() <= 7, "{labels:?}");
        }
    }
}
