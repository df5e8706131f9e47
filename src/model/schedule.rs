//! Backup schedules: how often a `cron(...)` or `rate(...)` expression runs.
//! Live collection and Terraform plans both turn a schedule into the
//! `frequency_hours` of a backup rule, so the reading lives here, once.

/// The longest gap between two runs of a schedule, in hours rounded up:
/// `rate(N unit)` or a six-field `cron(...)` (minutes hours day-of-month
/// month day-of-week year). `None` for what it cannot read (`L`, `W`, `#`,
/// a year list, ...). Months count as 31 days, so a schedule that skips
/// months gets an upper bound.
pub fn frequency_hours(expression: &str) -> Option<i64> {
    let expression = expression.trim();
    let minutes = if let Some(rate) = inside(expression, "rate") {
        let (n, unit) = rate.trim().split_once(' ')?;
        let n: i64 = n.trim().parse().ok().filter(|n| *n > 0)?;
        match unit.trim().trim_end_matches('s') {
            "minute" => n,
            // A schedule too long to count in minutes is not one to read.
            "hour" => n.checked_mul(60)?,
            "day" => n.checked_mul(24 * 60)?,
            _ => return None,
        }
    } else {
        cron_gap_minutes(inside(expression, "cron")?)?
    };
    Some(minutes.checked_add(59)? / 60)
}

/// The text between `name(` and the closing `)`.
fn inside<'a>(expression: &'a str, name: &str) -> Option<&'a str> {
    expression
        .strip_prefix(name)?
        .trim_start()
        .strip_prefix('(')?
        .strip_suffix(')')
}

const DAY: i64 = 24 * 60;
const WEEKDAYS: &[&str] = &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const MONTHS: &[&str] = &[
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];

fn cron_gap_minutes(cron: &str) -> Option<i64> {
    let fields: Vec<&str> = cron.split_whitespace().collect();
    let [minute, hour, day_of_month, month, day_of_week, year] = fields[..] else {
        return None;
    };
    if !matches!(year, "*" | "?") {
        return None;
    }
    let minutes = cron_field(minute, 0, 59, &[])?;
    let hours = cron_field(hour, 0, 23, &[])?;
    let times: Vec<i64> = hours
        .iter()
        .flat_map(|h| minutes.iter().map(move |m| h * 60 + m))
        .collect();
    let (first, last) = (*times.first()?, *times.last()?);
    let within_day = times.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
    let any = |f: &str| matches!(f, "*" | "?");
    // The longest gap in days between two days that run.
    let day_gap = match (any(day_of_month), any(day_of_week)) {
        (true, true) => 1,
        (false, true) => {
            let days = cron_field(day_of_month, 1, 31, &[])?;
            // Days past the 28th are skipped in short months.
            if *days.last()? > 28 {
                return None;
            }
            circular_gap(&days, 31)
        }
        (true, false) => circular_gap(&cron_field(day_of_week, 1, 7, WEEKDAYS)?, 7),
        (false, false) => return None,
    };
    let mut gap = within_day.max(day_gap * DAY - last + first);
    if !any(month) {
        let months = cron_field(month, 1, 12, MONTHS)?;
        gap = gap.max(circular_gap(&months, 12) * 31 * DAY);
    }
    Some(gap)
}

/// The longest distance between consecutive values, wrapping at `period`.
fn circular_gap(values: &[i64], period: i64) -> i64 {
    let (Some(first), Some(last)) = (values.first(), values.last()) else {
        return period;
    };
    let inner = values.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
    inner.max(period - last + first)
}

/// The sorted values one cron field selects: `*`, `N`, `A-B`, `X/STEP`
/// (X one of those), comma lists; `names` spell the values from `min` up.
fn cron_field(field: &str, min: i64, max: i64, names: &[&str]) -> Option<Vec<i64>> {
    let value = |text: &str| -> Option<i64> {
        let n = match names.iter().position(|n| n.eq_ignore_ascii_case(text)) {
            Some(i) => min + i as i64,
            None => text.parse().ok()?,
        };
        (min..=max).contains(&n).then_some(n)
    };
    let mut values = Vec::new();
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => (range, step.parse::<i64>().ok().filter(|s| *s > 0)?),
            None => (part, 1),
        };
        let (from, to) = match range {
            "*" | "?" => (min, max),
            _ => match range.split_once('-') {
                Some((a, b)) => (value(a)?, value(b)?),
                // `N/STEP` runs from N to the end.
                None if part.contains('/') => (value(range)?, max),
                None => (value(range)?, value(range)?),
            },
        };
        if from > to {
            return None;
        }
        values.extend((from..=to).step_by(step as usize));
    }
    values.sort_unstable();
    values.dedup();
    (!values.is_empty()).then_some(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_have_frequencies() {
        for (expression, hours) in [
            ("cron(0 5 ? * * *)", Some(24)),
            ("cron(0 5,17 ? * * *)", Some(12)),
            ("cron(0 0/4 ? * * *)", Some(4)),
            ("cron(0 * ? * * *)", Some(1)),
            ("cron(30 1-3 ? * * *)", Some(22)),
            ("cron(0 5 ? * MON-FRI *)", Some(72)),
            ("cron(0 5 ? * 1 *)", Some(168)),
            ("cron(0 5 1 * ? *)", Some(31 * 24)),
            ("cron(0 5 1 1/3 ? *)", Some(3 * 31 * 24)),
            ("rate(12 hours)", Some(12)),
            ("rate(1 day)", Some(24)),
            ("rate(90 minutes)", Some(2)),
            ("cron(0 5 L * ? *)", None),
            ("cron(0 5 ? * 2#1 *)", None),
            ("cron(0 5 30 * ? *)", None),
            ("cron(0 5 * * *)", None),
            ("cron(0 5 ? * * 2027)", None),
            ("at(2026-01-01T00:00:00)", None),
        ] {
            assert_eq!(frequency_hours(expression), hours, "{expression}");
        }
    }
}
