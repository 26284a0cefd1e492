//! The words of an import's refusal: the server's message as a sentence, and what to do about
//! it.

use crate::codes::{NETWORK_ERROR, UNEXPECTED_RESPONSE};

/// The server's message with a capital first letter and a full stop.
pub fn as_sentence(message: &str) -> String {
    let mut sentence = shared::text::capitalized(message.trim());
    if !sentence.is_empty() && !sentence.ends_with(['.', '!', '?']) {
        sentence.push('.');
    }
    sentence
}

/// The next step for each kind of rejection.
pub fn what_to_do(code: &str) -> &'static str {
    match code {
        "not_a_package" => {
            "Check that you chose the patch file (.pkg) from the vendor and not another file. If \
             it is the right file, get a fresh copy from the vendor."
        }
        "signature_invalid" | "checksum_mismatch" | "truncated" | "size_mismatch"
        | "manifest_invalid" | "missing_entry" | "unexpected_entry" | "duplicate_entry"
        | "path_traversal" | "link_entry" => {
            "Do not install this file. Get a fresh copy of the file from the vendor and import it \
             again."
        }
        "unknown_key" => {
            "The file is signed with a key this server does not trust. Get the patch from the \
             vendor's update service (TMC); if it is genuine, ask whoever runs this server to \
             add the vendor's key."
        }
        "too_large" => "Check that you chose the right file; a patch file is never this large.",
        "wrong_product_version" => {
            "Get the patch for the version this server runs (shown at the top of the page)."
        }
        "older_than_installed" | "already_installed" => {
            "Nothing to do: this server already runs this patch or a newer one."
        }
        "already_in_repository" => {
            "Nothing to do: this patch is already in the server's patch repository."
        }
        "admin_required" => "Log in as an admin to import patch files.",
        "upload_interrupted" | NETWORK_ERROR | UNEXPECTED_RESPONSE => {
            "Choose the file again and press Upload and verify."
        }
        _ => "Check the file and try again; if it keeps happening, check the server's log.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_become_sentences() {
        assert_eq!(
            as_sentence("the package ends early: the file is incomplete"),
            "The package ends early: the file is incomplete."
        );
        assert_eq!(as_sentence("Already there."), "Already there.");
        assert_eq!(as_sentence("  "), "");
    }

    #[test]
    fn every_damaged_file_says_get_a_fresh_copy() {
        for code in ["checksum_mismatch", "signature_invalid", "truncated"] {
            assert!(what_to_do(code).contains("fresh copy"), "{code}");
        }
    }
}
