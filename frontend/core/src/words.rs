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

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

/// Disk space in binary units, rounded down: "640 MiB" under a GiB, "12.3 GiB" from one GiB
/// up, "less than 1 MiB" for anything but nothing under a MiB (never "0 MiB" or "0.0 GiB" for
/// space there is). Rounded down so that a figure under a threshold never reads as the
/// threshold itself ("1.9 GiB free", not "2.0", when the server warns below 2 GiB).
pub fn space_in_words(bytes: u64) -> String {
    if bytes == 0 {
        "0 MiB".to_owned()
    } else if bytes < MIB {
        "less than 1 MiB".to_owned()
    } else if bytes < GIB {
        format!("{} MiB", bytes / MIB)
    } else {
        // Whole GiB and the tenths of the rest, apart: `bytes * 10` would overflow.
        format!("{} GiB", tenths(bytes / GIB * 10 + bytes % GIB * 10 / GIB))
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
    use super::{GIB, MIB, duration_in_words, size_in_mb, space_in_words, tenths};

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
    fn disk_space_is_shown_in_mib_under_a_gib_and_in_tenths_of_a_gib_above() {
        assert_eq!(space_in_words(0), "0 MiB");
        assert_eq!(space_in_words(1), "less than 1 MiB");
        assert_eq!(space_in_words(MIB - 1), "less than 1 MiB");
        assert_eq!(space_in_words(MIB), "1 MiB");
        assert_eq!(space_in_words(640 * MIB), "640 MiB");
        assert_eq!(space_in_words(640 * MIB + MIB - 1), "640 MiB");
        // Just under a GiB is never "0.0 GiB", nor rounded up to a GiB.
        assert_eq!(space_in_words(GIB - 1), "1023 MiB");
        assert_eq!(space_in_words(GIB), "1.0 GiB");
        assert_eq!(space_in_words(2 * GIB), "2.0 GiB");
        assert_eq!(space_in_words(2 * GIB - 1), "1.9 GiB");
        assert_eq!(space_in_words(12 * GIB + 3 * GIB / 10 + 1), "12.3 GiB");
        assert_eq!(space_in_words(50 * GIB), "50.0 GiB");
        assert_eq!(space_in_words(4096 * GIB + GIB / 2), "4096.5 GiB");
        // The largest figures do not overflow.
        assert_eq!(space_in_words(u64::MAX), "17179869183.9 GiB");
        assert_eq!(space_in_words(u64::MAX / 2), "8589934591.9 GiB");
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
