//! The data dir's free space in the words of the SMS Patches panel: the figure, and the warning
//! when the server says it is low (the server decides that; nothing here compares figures).

use shared::panel::StorageStatus;

use crate::words::space_in_words;

/// "Data dir /var/lib/sms: 12.3 GiB free of 50.0 GiB".
pub fn free_space_in_words(storage: &StorageStatus) -> String {
    format!(
        "Data dir {}: {} free of {}",
        storage.data_dir,
        space_in_words(storage.free_bytes),
        space_in_words(storage.total_bytes)
    )
}

/// What the low-space warning says: what is free where, the server's threshold, what it means
/// and what to do. Shown only when the server's `low` says so.
pub fn low_space_warning(storage: &StorageStatus) -> String {
    format!(
        "Only {} free in the data dir {} (the server warns below {}). Downloads, imports and \
         installs are refused once they do not fit: free space on the server.",
        space_in_words(storage.free_bytes),
        storage.data_dir,
        space_in_words(storage.warn_below_bytes)
    )
}

#[cfg(test)]
mod tests {
    use shared::panel::StorageStatus;

    use super::{free_space_in_words, low_space_warning};

    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;

    fn storage(free_bytes: u64, total_bytes: u64, warn_below_bytes: u64) -> StorageStatus {
        StorageStatus {
            data_dir: "/var/lib/sms".to_owned(),
            free_bytes,
            total_bytes,
            warn_below_bytes,
            low: free_bytes < warn_below_bytes,
        }
    }

    #[test]
    fn the_free_space_line_names_the_data_dir_and_both_figures() {
        let plenty = storage(12 * GIB + 350 * MIB, 50 * GIB, 2 * GIB);
        assert_eq!(
            free_space_in_words(&plenty),
            "Data dir /var/lib/sms: 12.3 GiB free of 50.0 GiB"
        );
        let small = storage(640 * MIB, 900 * MIB, 64 * MIB);
        assert_eq!(
            free_space_in_words(&small),
            "Data dir /var/lib/sms: 640 MiB free of 900 MiB"
        );
    }

    #[test]
    fn the_warning_says_what_is_free_the_threshold_and_what_to_do() {
        let low = storage(640 * MIB, 50 * GIB, 2 * GIB);
        assert_eq!(
            low_space_warning(&low),
            "Only 640 MiB free in the data dir /var/lib/sms (the server warns below 2.0 GiB). \
             Downloads, imports and installs are refused once they do not fit: free space on \
             the server."
        );
        // Just under the threshold reads as under it, not as the threshold.
        let just_under = storage(2 * GIB - 1, 50 * GIB, 2 * GIB);
        assert!(
            low_space_warning(&just_under).starts_with("Only 1.9 GiB free"),
            "{}",
            low_space_warning(&just_under)
        );
    }
}
