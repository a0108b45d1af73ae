//! Kubernetes resource quantities (`100m`, `0.5`, `256Mi`, `1e3`), parsed to
//! compare requests with limits before the apiserver would refuse them.

/// The quantity in thousandths of a unit (milli-units), or `None` if it is not a valid quantity.
pub fn parse_milli(q: &str) -> Option<u128> {
    let (number, suffix) = split_number(q)?;
    let (int_part, frac_part) = match number.split_once('.') {
        Some((i, f)) => (i, f),
        None => (number, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int_part) || !digits(frac_part) {
        return None;
    }
    // value = (int_part.frac_part) * multiplier, multiplier as (numerator, denominator) in milli-units.
    let (mul, div): (u128, u128) = match suffix {
        "" => (1000, 1),
        "m" => (1, 1),
        "u" => (1, 1000),
        "n" => (1, 1_000_000),
        "k" => (1_000_000, 1),
        "M" => (1_000_000_000, 1),
        "G" => (1_000_000_000_000, 1),
        "T" => (1_000_000_000_000_000, 1),
        "P" => (1_000_000_000_000_000_000, 1),
        "E" => (1_000_000_000_000_000_000_000, 1),
        "Ki" => (1000 << 10, 1),
        "Mi" => (1000 << 20, 1),
        "Gi" => (1000 << 30, 1),
        "Ti" => (1000 << 40, 1),
        "Pi" => (1000 << 50, 1),
        "Ei" => (1000 << 60, 1),
        s if s.starts_with(['e', 'E']) => {
            let exp: u32 = s[1..].parse().ok()?;
            (1000u128.checked_mul(10u128.checked_pow(exp)?)?, 1)
        }
        _ => return None,
    };
    let scale = 10u128.checked_pow(u32::try_from(frac_part.len()).ok()?)?;
    let whole: u128 = format!("{int_part}{frac_part}")
        .trim_start_matches('0')
        .parse()
        .unwrap_or(0);
    Some(whole.checked_mul(mul)? / scale / div)
}

fn split_number(q: &str) -> Option<(&str, &str)> {
    let end = q
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
        .map_or(q.len(), |(i, _)| i);
    if end == 0 {
        return None;
    }
    Some((&q[..end], &q[end..]))
}

#[cfg(test)]
mod tests {
    use super::parse_milli;

    #[test]
    fn parses_the_usual_forms() {
        assert_eq!(parse_milli("100m"), Some(100));
        assert_eq!(parse_milli("0.5"), Some(500));
        assert_eq!(parse_milli("1"), Some(1000));
        assert_eq!(parse_milli("256Mi"), Some(256 * 1024 * 1024 * 1000));
        assert_eq!(parse_milli("1G"), Some(1_000_000_000_000));
        assert_eq!(parse_milli("1e3"), Some(1_000_000));
        assert_eq!(parse_milli(".5"), Some(500));
        for bad in ["", "abc", "1.2.3", "10 Mi", "-1", "1Xi", "Mi"] {
            assert_eq!(parse_milli(bad), None, "{bad}");
        }
    }
}
