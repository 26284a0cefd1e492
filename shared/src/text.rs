//! Small rules for the product's own English text, shared by the server and the web client.

/// `text` with its first letter in capitals, e.g. "Updates the server" from "updates the
/// server". Only an ASCII letter is changed: the product's texts are English, and Unicode's
/// case tables would weigh 14 KB in the web client for nothing.
pub fn capitalized(text: &str) -> String {
    let mut capitalized = text.to_owned();
    if let Some(first) = capitalized.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    capitalized
}

#[cfg(test)]
mod tests {
    use super::capitalized;

    #[test]
    fn the_first_letter_is_made_a_capital() {
        assert_eq!(capitalized("updates the server"), "Updates the server");
        assert_eq!(capitalized("Already"), "Already");
        assert_eq!(capitalized("4 stages"), "4 stages");
        assert_eq!(capitalized(""), "");
        // A first character beyond ASCII is left as it is (and not cut in half).
        assert_eq!(capitalized("éclair"), "éclair");
    }
}
