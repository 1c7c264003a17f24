//! Clock and date formatting: the ticking "now" the stamps count from, and local date display.

use leptos::prelude::*;

/// Browser time in Unix milliseconds (system time when compiled natively).
pub fn now_ms() -> u64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Date::now() as u64
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }
}

/// The ticking clock every "… ago" text reads: updated once a second by [`Clock::start`].
#[derive(Clone, Copy, Debug)]
pub struct Clock(pub RwSignal<u64>);

impl Clock {
    /// A clock standing at `now_ms` (tests set it by hand).
    pub fn at(now_ms: u64) -> Self {
        Clock(RwSignal::new(now_ms))
    }

    /// A clock at the current time that ticks every second for as long as the app runs.
    pub fn start() -> Self {
        let clock = Clock::at(now_ms());
        let signal = clock.0;
        set_interval(
            move || signal.set(now_ms()),
            std::time::Duration::from_secs(1),
        );
        clock
    }

    /// The current time in ms, tracked.
    pub fn now(self) -> u64 {
        self.0.get()
    }
}

/// The clock from context, or one standing at the current time when none was provided.
pub fn use_clock() -> Clock {
    use_context::<Clock>().unwrap_or_else(|| Clock::at(now_ms()))
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `unix_ms` as `YYYY-MM-DD HH:MM:SS`, shifted east of UTC by `offset_min` minutes.
pub fn format_datetime(unix_ms: f64, offset_min: i64) -> String {
    let secs = (unix_ms / 1_000.0).floor() as i64 + offset_min * 60;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        s / 3_600,
        s % 3_600 / 60,
        s % 60
    )
}

/// The browser's offset east of UTC in minutes (0 natively).
fn local_offset_min(unix_ms: f64) -> i64 {
    #[cfg(target_arch = "wasm32")]
    {
        -(js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(unix_ms)).get_timezone_offset() as i64)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = unix_ms;
        0
    }
}

/// `unix_ms` in the browser's local time.
pub fn local_datetime(unix_ms: f64) -> String {
    format_datetime(unix_ms, local_offset_min(unix_ms))
}

/// An ISO 8601 time from the server (`2026-11-22T02:54:56.837240+00:00`) in local time; the text as
/// sent, tidied, when it does not parse.
pub fn display_iso(iso: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        let ms = js_sys::Date::parse(iso);
        if ms.is_finite() {
            return local_datetime(ms);
        }
    }
    let tidy = iso.replacen('T', " ", 1);
    tidy.split('.').next().unwrap_or(&tidy).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_unix_ms_as_calendar_time() {
        assert_eq!(format_datetime(0.0, 0), "1970-01-01 00:00:00");
        // 2026-11-22T02:54:56Z
        assert_eq!(
            format_datetime(1_795_316_096_837.0, 0),
            "2026-11-22 02:54:56"
        );
        assert_eq!(
            format_datetime(1_795_316_096_837.0, 60),
            "2026-11-22 03:54:56"
        );
        assert_eq!(
            format_datetime(1_795_316_096_837.0, -180),
            "2026-11-21 23:54:56"
        );
        // Leap day.
        assert_eq!(format_datetime(951_782_400_000.0, 0), "2000-02-29 00:00:00");
    }

    #[test]
    fn unparsed_iso_is_tidied() {
        assert_eq!(
            display_iso("2026-11-22T02:54:56.837240+00:00"),
            "2026-11-22 02:54:56"
        );
    }
}
