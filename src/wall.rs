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
    /// The banner text.
    pub fn text(&self) -> String {
        match self {
            WallAlarm::RelayUnreachable => {
                "Relay unreachable — the data on this screen is stale; reconnecting…".to_owned()
            }
            WallAlarm::UpstreamDown(m) => {
                format!("NVFlare unreachable — the data on this screen is stale ({m})")
            }
            WallAlarm::Stale { age_ms } => {
                format!("Data is stale — no update for {} s", age_ms / 1_000)
            }
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

/// Axis ticks: (x, label) at `count + 1` even steps over the window, labelled relative to its
/// end ("-30 min" … "now").
pub fn timeline_ticks(history: &SiteHistory, width: f64, count: usize) -> Vec<(f64, String)> {
    let span = history.until_ms.saturating_sub(history.since_ms);
    let count = count.max(1);
    (0..=count)
        .map(|i| {
            let x = width * i as f64 / count as f64;
            let back_ms = span - span * i as u64 / count as u64;
            let label = if back_ms == 0 {
                "now".to_owned()
            } else if back_ms >= 3_600_000 {
                format!("-{:.1} h", back_ms as f64 / 3_600_000.0)
            } else if back_ms >= 60_000 {
                format!("-{} min", back_ms / 60_000)
            } else if back_ms < 10_000 {
                format!("-{:.1} s", back_ms as f64 / 1_000.0)
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
                (50.0, "-5.0 s".to_owned()),
                (100.0, "now".to_owned())
            ]
        );
    }
}
