//! Durations in the forms people write them: `500ms`, `10s`, `1m30s`, `2h`, `1d`.

/// Parses a duration into milliseconds. A bare number means seconds.
pub fn parse_duration_ms(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration".into());
    }
    if let Ok(secs) = text.parse::<i64>() {
        return secs
            .checked_mul(1000)
            .filter(|v| *v >= 0)
            .ok_or_else(|| format!("duration {text:?} out of range"));
    }
    let mut total: i64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!("bad duration {text:?}: expected a number"));
        }
        let n: i64 = rest[..digits]
            .parse()
            .map_err(|_| format!("duration {text:?} out of range"))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let factor = match unit {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "" => return Err(format!("bad duration {text:?}: missing unit")),
            other => return Err(format!("bad duration {text:?}: unknown unit {other:?}")),
        };
        total = n
            .checked_mul(factor)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("duration {text:?} out of range"))?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_sums() {
        assert_eq!(parse_duration_ms("500ms"), Ok(500));
        assert_eq!(parse_duration_ms("10s"), Ok(10_000));
        assert_eq!(parse_duration_ms("1m30s"), Ok(90_000));
        assert_eq!(parse_duration_ms("2h"), Ok(7_200_000));
        assert_eq!(parse_duration_ms("1d"), Ok(86_400_000));
        assert_eq!(parse_duration_ms("7"), Ok(7_000));
        assert!(parse_duration_ms("").is_err());
        assert!(parse_duration_ms("5x").is_err());
        assert!(parse_duration_ms("s").is_err());
        assert!(parse_duration_ms("-5s").is_err());
    }
}
