//! Sizes and durations in the words the pages show them in.

/// "12.3 MB" (decimal megabytes), "0.1 MB" at least for anything but an empty file.
pub fn size_in_mb(bytes: u64) -> String {
    // In whole numbers: formatting floats would bring a float printer into the wasm.
    if bytes == 0 {
        "0 MB".to_owned()
    } else if bytes < 100_000 {
        "less than 0.1 MB".to_owned()
    } else if bytes < 100_000_000 {
        format!("{} MB", tenths((bytes + 50_000) / 100_000))
    } else {
        format!("{} MB", (bytes + 500_000) / 1_000_000)
    }
}

/// `123` tenths as `12.3`.
pub fn tenths(tenths: u64) -> String {
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// "45 minutes", "2 hours", "1 hour 30 minutes", "1 day 2 hours".
pub fn duration_in_words(minutes: u32) -> String {
    let plural = |n: u32, unit: &str| {
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    let (days, hours, rest) = (minutes / 1440, minutes % 1440 / 60, minutes % 60);
    let parts: Vec<String> = [(days, "day"), (hours, "hour"), (rest, "minute")]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| plural(n, unit))
        .collect();
    if parts.is_empty() {
        "0 minutes".to_owned()
    } else {
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::{duration_in_words, size_in_mb, tenths};

    #[test]
    fn sizes_are_shown_in_megabytes() {
        assert_eq!(size_in_mb(0), "0 MB");
        assert_eq!(size_in_mb(4_096), "less than 0.1 MB");
        assert_eq!(size_in_mb(262_144), "0.3 MB");
        assert_eq!(size_in_mb(48_200_000), "48.2 MB");
        assert_eq!(size_in_mb(1_234_000_000), "1234 MB");
        assert_eq!(size_in_mb(150_000), "0.2 MB");
        assert_eq!(size_in_mb(149_999), "0.1 MB");
        assert_eq!(size_in_mb(99_960_000), "100.0 MB");
        assert_eq!(size_in_mb(100_000_000), "100 MB");
        assert_eq!(size_in_mb(100_499_999), "100 MB");
        assert_eq!(size_in_mb(100_500_000), "101 MB");
        assert_eq!(tenths(5), "0.5");
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration_in_words(45), "45 minutes");
        assert_eq!(duration_in_words(60), "1 hour");
        assert_eq!(duration_in_words(90), "1 hour 30 minutes");
        assert_eq!(duration_in_words(120), "2 hours");
        assert_eq!(duration_in_words(1560), "1 day 2 hours");
        assert_eq!(duration_in_words(10080), "7 days");
        assert_eq!(duration_in_words(0), "0 minutes");
    }
}
