//! Dates, sizes and money as people of each language expect them. Plain functions so both
//! builds render the same text, which hydration requires.

use crate::i18n::Locale;

const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const MONTHS_EN_LONG: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MONTHS_DE_LONG: [&str; 12] = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
];

/// `2025-01-15…` as `15 Jan 2025` (English) or `15.01.2025` (German). Anything unreadable is
/// shown as it came.
pub fn date(iso: &str, locale: Locale) -> String {
    let parts: Option<(i32, usize, u32)> = (|| {
        let year = iso.get(0..4)?.parse().ok()?;
        let month: usize = iso.get(5..7)?.parse().ok()?;
        let day = iso.get(8..10)?.parse().ok()?;
        (1..=12).contains(&month).then_some((year, month, day))
    })();
    match (parts, locale) {
        (Some((y, m, d)), Locale::de) => format!("{d:02}.{m:02}.{y}"),
        (Some((y, m, d)), Locale::en) => format!("{d} {} {y}", MONTHS_EN[m - 1]),
        (None, _) => iso.to_owned(),
    }
}

/// `2025-01-15T09:30:00Z` as `15 Jan 2025, 09:30 UTC` or `15.01.2025, 09:30 UTC`: audit times
/// are shown in UTC, the same for every reader and every instance.
pub fn date_time(iso: &str, locale: Locale) -> String {
    match iso
        .get(11..16)
        .filter(|t| t.as_bytes().get(2) == Some(&b':'))
    {
        Some(clock) => format!("{}, {clock} UTC", date(iso, locale)),
        None => date(iso, locale),
    }
}

/// `2025-01` as `Jan 2025` or `01/2025`.
pub fn period(text: &str, locale: Locale) -> String {
    match (year_month(text), locale) {
        (Some((y, m)), Locale::de) => format!("{m:02}/{y}"),
        (Some((y, m)), Locale::en) => format!("{} {y}", MONTHS_EN[m - 1]),
        (None, _) => text.to_owned(),
    }
}

/// `2025-01` as a heading: `January 2025` or `Januar 2025`.
pub fn month(text: &str, locale: Locale) -> String {
    match (year_month(text), locale) {
        (Some((y, m)), Locale::de) => format!("{} {y}", MONTHS_DE_LONG[m - 1]),
        (Some((y, m)), Locale::en) => format!("{} {y}", MONTHS_EN_LONG[m - 1]),
        (None, _) => text.to_owned(),
    }
}

/// The year and the month (1 to 12) of a `YYYY-MM…` text.
fn year_month(text: &str) -> Option<(i32, usize)> {
    text.get(0..4)
        .and_then(|y| y.parse::<i32>().ok())
        .zip(text.get(5..7).and_then(|m| m.parse::<usize>().ok()))
        .filter(|(_, m)| (1..=12).contains(m))
}

/// Bytes as `845 B`, `12.3 KB`, `1.2 MB` (German with a decimal comma).
pub fn size(bytes: u64, locale: Locale) -> String {
    let (value, unit) = match bytes {
        b if b < 1_000 => return format!("{b} B"),
        b if b < 1_000_000 => (b as f64 / 1_000.0, "KB"),
        b if b < 1_000_000_000 => (b as f64 / 1_000_000.0, "MB"),
        b => (b as f64 / 1_000_000_000.0, "GB"),
    };
    let text = format!("{value:.1} {unit}");
    match locale {
        Locale::de => text.replace('.', ","),
        Locale::en => text,
    }
}

/// `89.00 EUR` as `€89.00` (English) or `89,00 €` (German), with thousands grouped.
pub fn money(amount: &str, currency: &str, locale: Locale) -> String {
    let (int, frac) = amount.split_once('.').unwrap_or((amount, "00"));
    let (sign, int) = int.strip_prefix('-').map_or(("", int), |rest| ("-", rest));
    let sep = if locale == Locale::de { '.' } else { ',' };
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(sep);
        }
        grouped.push(c);
    }
    let symbol = match currency {
        "EUR" => "€",
        "USD" => "$",
        "GBP" => "£",
        "CHF" => "CHF ",
        "QAR" => "QAR ",
        other => other,
    };
    match locale {
        Locale::de => format!("{sign}{grouped},{frac} {}", symbol.trim()),
        Locale::en => format!("{sign}{symbol}{grouped}.{frac}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_per_language() {
        assert_eq!(date("2025-01-15T10:30:00Z", Locale::en), "15 Jan 2025");
        assert_eq!(date("2025-01-15", Locale::de), "15.01.2025");
        assert_eq!(date("soon", Locale::en), "soon");
        assert_eq!(period("2025-03", Locale::en), "Mar 2025");
        assert_eq!(period("2025-03", Locale::de), "03/2025");
        assert_eq!(month("2025-03", Locale::en), "March 2025");
        assert_eq!(month("2025-03", Locale::de), "März 2025");
        assert_eq!(month("2025-13", Locale::de), "2025-13");
    }

    #[test]
    fn sizes_per_language() {
        assert_eq!(size(845, Locale::en), "845 B");
        assert_eq!(size(12_345, Locale::en), "12.3 KB");
        assert_eq!(size(1_234_567, Locale::de), "1,2 MB");
    }

    #[test]
    fn money_per_language() {
        assert_eq!(money("1234.50", "EUR", Locale::en), "€1,234.50");
        assert_eq!(money("1234.50", "EUR", Locale::de), "1.234,50 €");
        assert_eq!(money("89.00", "EUR", Locale::de), "89,00 €");
        assert_eq!(money("-5.00", "USD", Locale::en), "-$5.00");
    }
}
