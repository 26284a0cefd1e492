//! Admin > Notifications in words and rules: a target's kind and state, a delivery's state,
//! the labels of a target's buttons, and the target typed into "Add a target".

use shared::notify::{CreatedTarget, DeliveryState, NewTarget, Target, TargetKind};

/// "Webhook" or "Email".
pub fn kind_in_words(kind: TargetKind) -> &'static str {
    match kind {
        TargetKind::Webhook => "Webhook",
        TargetKind::Email => "Email",
    }
}

/// "Enabled", "Disabled", or "Disabled: " and why (a receiver answered 410 Gone).
pub fn target_state_in_words(target: &Target) -> String {
    if target.enabled {
        "Enabled".to_owned()
    } else {
        match &target.disabled_reason {
            Some(reason) => format!("Disabled: {reason}"),
            None => "Disabled".to_owned(),
        }
    }
}

/// Where a delivery stands, in the delivery log's words.
pub fn delivery_state_in_words(state: DeliveryState) -> &'static str {
    match state {
        DeliveryState::Pending => "Waiting",
        DeliveryState::Delivered => "Delivered",
        DeliveryState::Failed => "Failed (given up)",
        DeliveryState::Dropped => "Dropped (target disabled or removed)",
    }
}

/// The accessible name of a target's "Send a test" button.
pub fn test_label(destination: &str) -> String {
    format!("Send a test to {destination}")
}

/// The accessible name of a target's Remove button.
pub fn remove_label(destination: &str) -> String {
    format!("Remove the target {destination}")
}

/// The target typed into "Add a target", each field trimmed: a webhook's URL and secret (none
/// when left empty: the server makes one), or an email address. The fields of the other kind
/// are not read.
pub fn typed_target(kind: TargetKind, url: &str, secret: &str, address: &str) -> NewTarget {
    match kind {
        TargetKind::Webhook => {
            let secret = secret.trim();
            NewTarget::Webhook {
                url: url.trim().to_owned(),
                secret: (!secret.is_empty()).then(|| secret.to_owned()),
            }
        }
        TargetKind::Email => NewTarget::Email {
            address: address.trim().to_owned(),
        },
    }
}

/// The secret the server made for a new target (none was typed), with the target's
/// destination: shown this once.
pub fn made_secret(created: CreatedTarget) -> Option<(String, String)> {
    Some((created.target.destination, created.secret?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(enabled: bool, reason: Option<&str>) -> Target {
        Target {
            id: 1,
            kind: TargetKind::Webhook,
            destination: "https://hooks.example.com/sms".to_owned(),
            enabled,
            disabled_reason: reason.map(str::to_owned),
            created_at: "2026-12-07T03:53:00Z".parse().unwrap(),
            created_by: "admin".to_owned(),
        }
    }

    #[test]
    fn targets_in_words() {
        assert_eq!(kind_in_words(TargetKind::Webhook), "Webhook");
        assert_eq!(kind_in_words(TargetKind::Email), "Email");
        assert_eq!(
            target_state_in_words(&target(true, Some("ignored"))),
            "Enabled"
        );
        assert_eq!(target_state_in_words(&target(false, None)), "Disabled");
        assert_eq!(
            target_state_in_words(&target(false, Some("410 Gone"))),
            "Disabled: 410 Gone"
        );
        assert_eq!(test_label("ops@x"), "Send a test to ops@x");
        assert_eq!(remove_label("ops@x"), "Remove the target ops@x");
    }

    #[test]
    fn deliveries_in_words() {
        assert_eq!(delivery_state_in_words(DeliveryState::Pending), "Waiting");
        assert_eq!(
            delivery_state_in_words(DeliveryState::Delivered),
            "Delivered"
        );
        assert_eq!(
            delivery_state_in_words(DeliveryState::Failed),
            "Failed (given up)"
        );
        assert_eq!(
            delivery_state_in_words(DeliveryState::Dropped),
            "Dropped (target disabled or removed)"
        );
    }

    #[test]
    fn a_webhook_without_a_secret_leaves_it_to_the_server() {
        assert_eq!(
            typed_target(TargetKind::Webhook, " https://h.example/x ", "  ", "a@b"),
            NewTarget::Webhook {
                url: "https://h.example/x".to_owned(),
                secret: None,
            }
        );
        assert_eq!(
            typed_target(TargetKind::Webhook, "https://h", " whsec_abc ", ""),
            NewTarget::Webhook {
                url: "https://h".to_owned(),
                secret: Some("whsec_abc".to_owned()),
            }
        );
    }

    #[test]
    fn an_email_target_reads_its_address_only() {
        assert_eq!(
            typed_target(
                TargetKind::Email,
                "https://h",
                "whsec_abc",
                " ops@example.com "
            ),
            NewTarget::Email {
                address: "ops@example.com".to_owned(),
            }
        );
    }

    #[test]
    fn a_made_secret_is_shown_with_its_destination() {
        let made = CreatedTarget {
            target: target(true, None),
            secret: Some("whsec_x".to_owned()),
        };
        assert_eq!(
            made_secret(made),
            Some((
                "https://hooks.example.com/sms".to_owned(),
                "whsec_x".to_owned()
            ))
        );
        let typed = CreatedTarget {
            target: target(true, None),
            secret: None,
        };
        assert_eq!(made_secret(typed), None);
    }
}
