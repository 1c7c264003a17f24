//! Site connectivity history: what each hub saw of its sites over the last `keep_hours`, as spans
//! of connected / not connected time (`GET /api/site-history`).
//!
//! A sample is the set of sites in `get_system_info`'s client list at one instant. Equal
//! consecutive samples extend the last span; a change closes it at the sample's time and opens
//! a new one, so a site's spans are contiguous. A site missing from a sample is disconnected; a
//! site never seen again keeps one growing disconnected span. Spans that ended before the window
//! are dropped, the first kept span is clipped to it, and each site keeps at most
//! [`MAX_SPANS_PER_SITE`] spans (a flapping site under fast polling cannot grow it without bound).

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use flare_model::{SiteHistory, SiteSpan, SiteTimeline};

/// Spans kept per site at most, oldest dropped first.
pub const MAX_SPANS_PER_SITE: usize = 2048;

/// One hub's history.
#[derive(Debug)]
pub struct SiteHistoryBook {
    keep_ms: u64,
    sample_every_ms: u64,
    first_ms: Option<u64>,
    last_ms: u64,
    sites: BTreeMap<String, Vec<SiteSpan>>,
}

impl SiteHistoryBook {
    pub fn new(keep: Duration, sample_every: Duration) -> Self {
        SiteHistoryBook {
            keep_ms: keep.as_millis() as u64,
            sample_every_ms: sample_every.as_millis() as u64,
            first_ms: None,
            last_ms: 0,
            sites: BTreeMap::new(),
        }
    }

    /// Records that exactly `connected` were connected at `at_ms`. Samples older than the last
    /// one are ignored (two pollers may finish out of order).
    pub fn record<'a>(&mut self, at_ms: u64, connected: impl IntoIterator<Item = &'a str>) {
        if self.first_ms.is_some() && at_ms < self.last_ms {
            return;
        }
        let connected: HashSet<&str> = connected.into_iter().collect();
        for (site, spans) in &mut self.sites {
            push(spans, at_ms, connected.contains(site.as_str()));
        }
        for site in connected {
            if !self.sites.contains_key(site) {
                self.sites.insert(
                    site.to_owned(),
                    vec![SiteSpan {
                        from_ms: at_ms,
                        to_ms: at_ms,
                        connected: true,
                    }],
                );
            }
        }
        self.first_ms.get_or_insert(at_ms);
        self.last_ms = at_ms;
        self.prune();
    }

    fn prune(&mut self) {
        let cutoff = self.last_ms.saturating_sub(self.keep_ms);
        if let Some(first) = &mut self.first_ms {
            *first = (*first).max(cutoff);
        }
        self.sites.retain(|_, spans| {
            spans.retain(|s| s.to_ms >= cutoff);
            if spans.len() > MAX_SPANS_PER_SITE {
                let excess = spans.len() - MAX_SPANS_PER_SITE;
                spans.drain(..excess);
            }
            if let Some(first) = spans.first_mut() {
                first.from_ms = first.from_ms.max(cutoff);
            }
            !spans.is_empty()
        });
    }

    /// The history as the endpoint answers it.
    pub fn snapshot(&self) -> SiteHistory {
        SiteHistory {
            since_ms: self.first_ms.unwrap_or(0),
            until_ms: self.last_ms,
            sample_every_ms: self.sample_every_ms,
            sites: self
                .sites
                .iter()
                .map(|(site, spans)| SiteTimeline {
                    site: site.clone(),
                    spans: spans.clone(),
                })
                .collect(),
        }
    }
}

fn push(spans: &mut Vec<SiteSpan>, at_ms: u64, connected: bool) {
    match spans.last_mut() {
        Some(last) if last.connected == connected => last.to_ms = at_ms,
        Some(last) => {
            last.to_ms = at_ms;
            spans.push(SiteSpan {
                from_ms: at_ms,
                to_ms: at_ms,
                connected,
            });
        }
        None => spans.push(SiteSpan {
            from_ms: at_ms,
            to_ms: at_ms,
            connected,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(from_ms: u64, to_ms: u64, connected: bool) -> SiteSpan {
        SiteSpan {
            from_ms,
            to_ms,
            connected,
        }
    }

    fn book(keep_ms: u64) -> SiteHistoryBook {
        SiteHistoryBook::new(Duration::from_millis(keep_ms), Duration::from_secs(30))
    }

    #[test]
    fn equal_samples_merge_and_changes_open_spans() {
        let mut h = book(1_000_000);
        h.record(1000, ["site-1", "site-2"]);
        h.record(2000, ["site-1", "site-2"]);
        h.record(3000, ["site-2"]);
        h.record(4000, ["site-2"]);
        h.record(5000, ["site-1", "site-2"]);
        let s = h.snapshot();
        assert_eq!(
            (s.since_ms, s.until_ms, s.sample_every_ms),
            (1000, 5000, 30_000)
        );
        assert_eq!(s.sites[0].site, "site-1");
        assert_eq!(
            s.sites[0].spans,
            vec![
                span(1000, 3000, true),
                span(3000, 5000, false),
                span(5000, 5000, true)
            ]
        );
        assert_eq!(s.sites[1].spans, vec![span(1000, 5000, true)]);
    }

    #[test]
    fn a_site_never_seen_again_stays_disconnected_and_old_spans_go() {
        let mut h = book(10_000);
        h.record(0, ["a", "b"]);
        h.record(1000, ["b"]);
        for t in (2000..=30_000).step_by(1000) {
            h.record(t, ["b"]);
        }
        let s = h.snapshot();
        assert_eq!(s.since_ms, 20_000);
        assert_eq!(s.sites[0].spans, vec![span(20_000, 30_000, false)]);
        assert_eq!(s.sites[1].spans, vec![span(20_000, 30_000, true)]);
        // Out-of-order samples are ignored.
        h.record(500, ["a"]);
        assert_eq!(h.snapshot(), s);
    }

    #[test]
    fn flapping_is_bounded_per_site() {
        let mut h = book(u64::MAX / 4);
        for t in 0..(MAX_SPANS_PER_SITE as u64 * 3) {
            if t % 2 == 0 {
                h.record(t, ["a"]);
            } else {
                h.record(t, []);
            }
        }
        assert_eq!(h.snapshot().sites[0].spans.len(), MAX_SPANS_PER_SITE);
    }
}
