//! Durations in rule files: `90s`, `15m`, `1h`, `26h`, `30d`, `2w`, `1h30m`.

use jiff::SignedDuration;

pub fn parse(text: &str) -> Result<SignedDuration, String> {
    let bad = || {
        format!(
            "invalid duration {text:?}: expected a number and a unit (s, m, h, d, w), e.g. `26h` or `30d`"
        )
    };
    let mut total: i64 = 0;
    let mut digits = String::new();
    let mut any = false;
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit: i64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(bad()),
        };
        let n: i64 = digits.parse().map_err(|_| bad())?;
        total = n
            .checked_mul(unit)
            .and_then(|s| total.checked_add(s))
            .ok_or_else(bad)?;
        digits.clear();
        any = true;
    }
    if !digits.is_empty() || !any {
        return Err(bad());
    }
    Ok(SignedDuration::from_secs(total))
}

/// The inverse of [`parse`] for messages: the largest whole unit.
pub fn format(d: SignedDuration) -> String {
    let secs = d.as_secs();
    for (unit, size) in [("w", 604_800), ("d", 86_400), ("h", 3600), ("m", 60)] {
        if secs != 0 && secs % size == 0 {
            return format!("{}{unit}", secs / size);
        }
    }
    format!("{secs}s")
}

/// An age for humans: `3h 5m`, `2d 4h`.
pub fn age(d: SignedDuration) -> String {
    let secs = d.as_secs();
    let (sign, secs) = if secs < 0 { ("-", -secs) } else { ("", secs) };
    let (days, hours, minutes) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    if days > 0 {
        format!("{sign}{days}d {hours}h")
    } else if hours > 0 {
        format!("{sign}{hours}h {minutes}m")
    } else {
        format!("{sign}{minutes}m {}s", secs % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_compounds() {
        assert_eq!(parse("1h").unwrap().as_secs(), 3600);
        assert_eq!(parse("26h").unwrap().as_secs(), 26 * 3600);
        assert_eq!(parse("30d").unwrap().as_secs(), 30 * 86_400);
        assert_eq!(parse("1h30m").unwrap().as_secs(), 5400);
        assert_eq!(parse("2w").unwrap().as_secs(), 14 * 86_400);
        for bad in ["", "h", "10", "1x", "1.5h", "-1h", "99999999999999999999w"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn formats_back() {
        assert_eq!(format(parse("26h").unwrap()), "26h");
        assert_eq!(format(parse("30d").unwrap()), "30d");
        assert_eq!(format(parse("90s").unwrap()), "90s");
        assert_eq!(age(SignedDuration::from_secs(3 * 3600 + 300)), "3h 5m");
    }
}
