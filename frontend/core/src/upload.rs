//! A patch file's upload: how much of it has been sent, and whether its name can travel in a
//! header.

/// How much of an upload has been sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UploadProgress {
    /// Bytes sent so far.
    pub sent: u64,
    /// Bytes to send in all.
    pub total: u64,
}

impl UploadProgress {
    /// Whole percent sent, 0 to 100.
    pub fn percent(self) -> u8 {
        if self.total == 0 {
            return 0;
        }
        let percent = self.sent.min(self.total).saturating_mul(100) / self.total;
        u8::try_from(percent).unwrap_or(100)
    }

    /// Whether every byte has been sent (the server is finishing its checks).
    pub fn is_complete(self) -> bool {
        self.total > 0 && self.sent >= self.total
    }
}

/// Whether a file name can travel in an HTTP header as it is (printable ASCII).
pub fn is_printable_ascii(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| (0x20..=0x7e).contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_percent_is_whole_and_capped() {
        let progress = |sent, total| UploadProgress { sent, total }.percent();
        assert_eq!(progress(0, 0), 0);
        assert_eq!(progress(1, 3), 33);
        assert_eq!(progress(3, 3), 100);
        assert_eq!(progress(5, 3), 100);
        assert!(UploadProgress { sent: 3, total: 3 }.is_complete());
        assert!(!UploadProgress { sent: 0, total: 0 }.is_complete());
    }

    #[test]
    fn only_printable_ascii_names_are_sent_in_the_header() {
        assert!(is_printable_ascii("sms-6.4.0.3.pkg"));
        assert!(is_printable_ascii("patch 3 (copy).pkg"));
        assert!(!is_printable_ascii(""));
        assert!(!is_printable_ascii("patch\n.pkg"));
        assert!(!is_printable_ascii("mise-à-jour.pkg"));
    }
}
