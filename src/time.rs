//! Dates without a calendar crate: RFC 3339 for commit dates in reports,
//! and the `--since` argument (`YYYY-MM-DD`, RFC 3339, or Unix seconds).

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `seconds` since the epoch shown in the time zone `offset_minutes` east of UTC.
pub fn rfc3339(seconds: i64, offset_minutes: i32) -> String {
    let local = seconds + i64::from(offset_minutes) * 60;
    let (y, mo, d) = civil_from_days(local.div_euclid(86_400));
    let secs = local.rem_euclid(86_400);
    let zone = if offset_minutes == 0 {
        "Z".to_string()
    } else {
        let sign = if offset_minutes < 0 { '-' } else { '+' };
        let m = offset_minutes.abs();
        format!("{sign}{:02}:{:02}", m / 60, m % 60)
    };
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}{zone}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Parses `YYYY-MM-DD` (midnight UTC), `YYYY-MM-DDTHH:MM:SS` with `Z` or an
/// offset, or a number of seconds since the epoch.
pub fn parse_since(text: &str) -> Result<i64, String> {
    let t = text.trim();
    if let Ok(n) = t.parse::<i64>() {
        return Ok(n);
    }
    let bad =
        || format!("`{text}` is not a date: use YYYY-MM-DD, 2024-05-01T12:00:00Z or Unix seconds");
    let num = |s: &str| s.parse::<i64>().map_err(|_| bad());
    let (date, time) = match t.split_once(['T', ' ']) {
        Some((d, tm)) => (d, Some(tm)),
        None => (t, None),
    };
    let parts: Vec<&str> = date.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(bad());
    };
    let (y, m, d) = (num(y)?, num(m)?, num(d)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    let mut seconds = days_from_civil(y, m, d) * 86_400;
    if let Some(time) = time {
        let (clock, offset) = if let Some(c) = time.strip_suffix('Z') {
            (c, 0)
        } else if let Some(i) = time.rfind(['+', '-']) {
            let (c, z) = time.split_at(i);
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let (h, mi) = z[1..].split_once(':').ok_or_else(bad)?;
            (c, sign * (num(h)? * 3600 + num(mi)? * 60))
        } else {
            (time, 0)
        };
        let hms: Vec<&str> = clock.split(':').collect();
        let (h, mi, s) = match hms.as_slice() {
            [h, mi] => (num(h)?, num(mi)?, 0),
            [h, mi, s] => (num(h)?, num(mi)?, num(s.split('.').next().unwrap_or("0"))?),
            _ => return Err(bad()),
        };
        seconds += h * 3600 + mi * 60 + s - offset;
    }
    Ok(seconds)
}

/// Now, in seconds since the epoch (0 if the clock is before 1970).
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Parses an RFC 3339 date-time such as a server sends
/// (`2025-03-01T12:00:00Z`, `2025-03-01T12:00:00.123+02:00`); `None` for
/// anything else, Unix seconds included.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let t = text.trim();
    if !t.contains('T') && !t.contains(' ') {
        return None;
    }
    parse_since(t).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_dates_in_their_zone() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_600_000_000, 0), "2020-09-13T12:26:40Z");
        assert_eq!(rfc3339(1_600_000_000, 120), "2020-09-13T14:26:40+02:00");
        assert_eq!(rfc3339(1_600_000_000, -330), "2020-09-13T06:56:40-05:30");
    }

    #[test]
    fn parses_since_forms() {
        assert_eq!(parse_since("2020-09-13").unwrap(), 1_599_955_200);
        assert_eq!(parse_since("2020-09-13T12:26:40Z").unwrap(), 1_600_000_000);
        assert_eq!(
            parse_since("2020-09-13T14:26:40+02:00").unwrap(),
            1_600_000_000
        );
        assert_eq!(parse_since("1600000000").unwrap(), 1_600_000_000);
        assert!(parse_since("yesterday").is_err());
        assert!(parse_since("2020-13-01").is_err());
    }

    #[test]
    fn parses_server_dates() {
        assert_eq!(parse_rfc3339("2020-09-13T12:26:40Z"), Some(1_600_000_000));
        assert_eq!(
            parse_rfc3339("2020-09-13T12:26:40.250Z"),
            Some(1_600_000_000)
        );
        assert_eq!(
            parse_rfc3339("2020-09-13T14:26:40+02:00"),
            Some(1_600_000_000)
        );
        assert_eq!(parse_rfc3339("1600000000"), None);
        assert_eq!(parse_rfc3339("soon"), None);
        assert_eq!(parse_rfc3339("2020-09-13Tnoon"), None);
    }
}
