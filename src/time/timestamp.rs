//! [`Timestamp`]: a wall-clock instant, and its conversions and formats.
//!
//! The working state stores epoch seconds (as the upstream workers write them), the worker's deadlines and
//! metrics need milliseconds, the target reports whole seconds: one type at millisecond resolution covers all
//! three, and the conversions happen only through the named methods here. Calendar arithmetic is `humantime`'s;
//! instants it cannot format (before 1970, after 9999) are clamped to that range rather than panicking, since
//! timestamps also come from documents on the target.

use std::fmt;
use std::ops::{Add, Sub};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The last second `humantime` formats (9999-12-31T23:59:59Z).
const LAST_FORMATTABLE_SECOND: i64 = 253_402_300_799;

/// A wall-clock instant: milliseconds since the Unix epoch (UTC), negative before it. Arithmetic saturates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

fn millis_of(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Timestamp {
    /// 1970-01-01T00:00:00Z.
    pub(crate) const UNIX_EPOCH: Timestamp = Timestamp(0);

    pub(crate) const fn from_epoch_millis(millis: i64) -> Self {
        Timestamp(millis)
    }

    pub const fn from_epoch_seconds(seconds: i64) -> Self {
        Timestamp(seconds.saturating_mul(1000))
    }

    pub(crate) fn from_system_time(time: SystemTime) -> Self {
        match time.duration_since(UNIX_EPOCH) {
            Ok(after) => Timestamp(millis_of(after)),
            Err(before) => Timestamp(millis_of(before.duration()).saturating_neg()),
        }
    }

    pub(crate) const fn epoch_millis(self) -> i64 {
        self.0
    }

    /// Whole epoch seconds, rounded down (what the working state stores).
    pub const fn epoch_seconds(self) -> i64 {
        self.0.div_euclid(1000)
    }

    #[cfg(test)]
    pub(crate) fn to_system_time(self) -> SystemTime {
        let magnitude = Duration::from_millis(self.0.unsigned_abs());
        if self.0 >= 0 {
            UNIX_EPOCH.checked_add(magnitude)
        } else {
            UNIX_EPOCH.checked_sub(magnitude)
        }
        .unwrap_or(UNIX_EPOCH)
    }

    /// How long after `earlier` this is; zero when `earlier` is later.
    pub(crate) fn saturating_duration_since(self, earlier: Timestamp) -> Duration {
        u64::try_from(self.0.saturating_sub(earlier.0))
            .map(Duration::from_millis)
            .unwrap_or(Duration::ZERO)
    }

    /// RFC 3339 in UTC to the second: `2026-07-21T14:02:11Z`.
    pub(crate) fn rfc3339(self) -> String {
        let seconds = self.epoch_seconds().clamp(0, LAST_FORMATTABLE_SECOND);
        let time = UNIX_EPOCH + Duration::from_secs(seconds.unsigned_abs());
        humantime::format_rfc3339_seconds(time).to_string()
    }

    /// The archives' compact UTC form `YYYYmmddHHMMSS` (`working_state_backup_20260721140211.json`, as the
    /// migration console names its backups).
    pub(crate) fn compact(self) -> String {
        self.rfc3339()
            .chars()
            .filter(char::is_ascii_digit)
            .collect()
    }

    /// The migration console's start-time form: `2026-07-21 14:02:11+00:00`.
    pub(crate) fn console(self) -> String {
        let rfc3339 = self.rfc3339();
        let date_time = rfc3339.trim_end_matches('Z').replacen('T', " ", 1);
        format!("{date_time}+00:00")
    }
}

impl Add<Duration> for Timestamp {
    type Output = Timestamp;
    fn add(self, d: Duration) -> Timestamp {
        Timestamp(self.0.saturating_add(millis_of(d)))
    }
}

impl Sub<Duration> for Timestamp {
    type Output = Timestamp;
    fn sub(self, d: Duration) -> Timestamp {
        Timestamp(self.0.saturating_sub(millis_of(d)))
    }
}

/// RFC 3339 to the second.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

/// `#[serde(with = "crate::time::epoch_seconds")]`: a [`Timestamp`] as an integer of epoch seconds, the form
/// of the working state and of the JSON views.
pub mod epoch_seconds {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::Timestamp;

    pub(crate) fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(t.epoch_seconds())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        i64::deserialize(d).map(Timestamp::from_epoch_seconds)
    }
}

/// [`epoch_seconds`] for an `Option<Timestamp>` (`null` when absent).
pub mod option_epoch_seconds {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::Timestamp;

    pub(crate) fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_some(&t.epoch_seconds()),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Timestamp>, D::Error> {
        Ok(Option::<i64>::deserialize(d)?.map(Timestamp::from_epoch_seconds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_and_millis_convert_both_ways_rounding_down() {
        let t = Timestamp::from_epoch_millis(1_700_000_000_999);
        assert_eq!(t.epoch_seconds(), 1_700_000_000);
        assert_eq!(
            Timestamp::from_epoch_seconds(1_700_000_000).epoch_millis(),
            1_700_000_000_000
        );
        // Before the epoch, seconds round towards the past, as the instant lies in that second.
        assert_eq!(Timestamp::from_epoch_millis(-1).epoch_seconds(), -1);
        assert_eq!(
            Timestamp::from_epoch_seconds(i64::MAX).epoch_millis(),
            i64::MAX
        );
    }

    #[test]
    fn system_times_round_trip_on_both_sides_of_the_epoch() {
        for millis in [0, 1, 1_784_642_531_250, -86_400_000] {
            let t = Timestamp::from_epoch_millis(millis);
            assert_eq!(Timestamp::from_system_time(t.to_system_time()), t);
        }
        assert_eq!(
            Timestamp::from_system_time(UNIX_EPOCH),
            Timestamp::UNIX_EPOCH
        );
    }

    #[test]
    fn arithmetic_saturates_and_durations_are_never_negative() {
        let t = Timestamp::from_epoch_seconds(100);
        assert_eq!(
            t + Duration::from_millis(1_500),
            Timestamp::from_epoch_millis(101_500)
        );
        assert_eq!(
            t - Duration::from_secs(200),
            Timestamp::from_epoch_seconds(-100)
        );
        assert_eq!(
            Timestamp::from_epoch_millis(i64::MAX) + Duration::from_secs(1),
            Timestamp::from_epoch_millis(i64::MAX)
        );
        assert_eq!(
            Timestamp::from_epoch_millis(i64::MIN) - Duration::MAX,
            Timestamp::from_epoch_millis(i64::MIN)
        );
        let later = t + Duration::from_secs(61);
        assert_eq!(later.saturating_duration_since(t), Duration::from_secs(61));
        assert_eq!(t.saturating_duration_since(later), Duration::ZERO);
    }

    #[test]
    fn formats_rfc3339_the_console_form_and_the_archive_form() {
        let t = Timestamp::from_epoch_seconds(1_784_642_531);
        assert_eq!(t.rfc3339(), "2026-07-21T14:02:11Z");
        assert_eq!(t.to_string(), "2026-07-21T14:02:11Z");
        assert_eq!(t.compact(), "20260721140211");
        assert_eq!(t.console(), "2026-07-21 14:02:11+00:00");
        // Milliseconds are dropped, not rounded.
        assert_eq!(
            (t + Duration::from_millis(999)).rfc3339(),
            "2026-07-21T14:02:11Z"
        );
        assert_eq!(Timestamp::UNIX_EPOCH.console(), "1970-01-01 00:00:00+00:00");
        assert_eq!(Timestamp::UNIX_EPOCH.compact(), "19700101000000");
        // A leap day.
        assert_eq!(
            Timestamp::from_epoch_seconds(951_782_400).rfc3339(),
            "2000-02-29T00:00:00Z"
        );
    }

    #[test]
    fn instants_humantime_cannot_format_are_clamped_instead_of_panicking() {
        assert_eq!(
            Timestamp::from_epoch_seconds(-5).rfc3339(),
            "1970-01-01T00:00:00Z"
        );
        assert_eq!(
            Timestamp::from_epoch_millis(i64::MAX).rfc3339(),
            "9999-12-31T23:59:59Z"
        );
        assert_eq!(
            Timestamp::from_epoch_millis(i64::MIN).compact(),
            "19700101000000"
        );
    }

    #[test]
    fn serde_helpers_write_epoch_seconds() {
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct Doc {
            #[serde(with = "epoch_seconds")]
            at: Timestamp,
            #[serde(with = "option_epoch_seconds")]
            since: Option<Timestamp>,
        }
        let doc = Doc {
            at: Timestamp::from_epoch_millis(1_700_000_000_900),
            since: None,
        };
        let json = serde_json::to_value(&doc).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"at": 1_700_000_000, "since": null})
        );
        let back: Doc = serde_json::from_value(serde_json::json!({"at": 5, "since": 7})).unwrap();
        assert_eq!(
            back,
            Doc {
                at: Timestamp::from_epoch_seconds(5),
                since: Some(Timestamp::from_epoch_seconds(7)),
            }
        );
    }
}
