//! Patches: their identity (`6.4.0.3`), their display name, whether one can be installed here, and
//! which of the available patches the admin is offered.
//!
//! Patches are cumulative: patch N of a product version contains every earlier patch of that
//! version, so installing N on level k < N goes straight to N, and the highest applicable patch is
//! the one to recommend. A patch at or below the installed level is never installed; rollback is
//! the way back.

use std::cmp::Reverse;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::version::{parse_components, serde_as_string};
use crate::{Build, PatchLevel, ProductVersion, VersionError};

/// Why a patch identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchIdError {
    /// The string is not four plain numbers separated by dots.
    #[error(transparent)]
    Invalid(#[from] VersionError),
    /// Patch number 0 was given: patches are numbered from 1.
    #[error(
        "`{product_version}.0` is not a patch: patches are numbered from 1 \
         (patch level 0 means no patch is installed)"
    )]
    ZeroPatch {
        /// The product version the identifier named.
        product_version: ProductVersion,
    },
}

/// One patch: a product version and a patch number from 1, shown as `6.4.0.3`.
///
/// Ordered by product version, then patch number. The fields are private so that a patch number 0
/// cannot be built; use [`PatchId::new`] or parse a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PatchId {
    product_version: ProductVersion,
    patch: u32,
}

impl PatchId {
    /// Patch `patch` of `product_version`; refuses patch number 0.
    pub const fn new(product_version: ProductVersion, patch: u32) -> Result<Self, PatchIdError> {
        if patch == 0 {
            Err(PatchIdError::ZeroPatch { product_version })
        } else {
            Ok(Self {
                product_version,
                patch,
            })
        }
    }

    /// The product version this patch belongs to.
    pub const fn product_version(self) -> ProductVersion {
        self.product_version
    }

    /// The patch number, at least 1.
    pub const fn patch(self) -> u32 {
        self.patch
    }

    /// The patch level the server is at once this patch is installed.
    pub const fn level(self) -> PatchLevel {
        PatchLevel(self.patch)
    }

    /// The full name, e.g. `SMS 6.4.0 Patch 3 (build 6.4.0.9203)`; see [`display_name`].
    pub fn display_name(self, build: &Build) -> String {
        display_name(self.product_version, self.patch, build)
    }
}

impl FromStr for PatchId {
    type Err = PatchIdError;

    /// Parses the short form `MAJOR.MINOR.MICRO.PATCH`, strictly: four plain numbers, patch >= 1.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let [major, minor, micro, patch] =
            parse_components::<4>(s, "patch", "MAJOR.MINOR.MICRO.PATCH, e.g. 6.4.0.3")?;
        Self::new(ProductVersion::new(major, minor, micro), patch)
    }
}

impl fmt::Display for PatchId {
    /// The short form, e.g. `6.4.0.3`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.product_version, self.patch)
    }
}

serde_as_string!(PatchId);

/// The name shown to people: `SMS 6.4.0 Patch 3 (build 6.4.0.9203)`.
///
/// Patch 0 names the base version without a patch: `SMS 6.4.0 (build 6.4.0.9100)`.
pub fn display_name(product_version: ProductVersion, patch: u32, build: &Build) -> String {
    if patch == 0 {
        format!("SMS {product_version} (build {build})")
    } else {
        format!("SMS {product_version} Patch {patch} (build {build})")
    }
}

/// Whether a patch can be installed on a server, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Applicability {
    /// The patch can be installed; it takes the server straight to its level.
    Applicable,
    /// The patch belongs to another product version than the installed one.
    WrongProductVersion {
        /// The product version the patch is for.
        patch_for: ProductVersion,
        /// The product version the server runs.
        installed: ProductVersion,
    },
    /// The patch is the one installed.
    AlreadyInstalled,
    /// A newer patch is installed, and it already contains this one.
    OlderThanInstalled {
        /// The installed patch level.
        installed: PatchLevel,
    },
}

impl Applicability {
    /// Whether the patch can be installed.
    pub fn is_applicable(self) -> bool {
        self == Applicability::Applicable
    }

    /// The stable `snake_case` code, the same as the API's error code for refusing the install.
    pub fn code(self) -> &'static str {
        match self {
            Applicability::Applicable => "applicable",
            Applicability::WrongProductVersion { .. } => "wrong_product_version",
            Applicability::AlreadyInstalled => "already_installed",
            Applicability::OlderThanInstalled { .. } => "older_than_installed",
        }
    }

    /// Human text: what this means and what to do.
    pub fn message(self) -> String {
        match self {
            Applicability::Applicable => {
                "This patch can be installed; it contains every earlier patch of its version."
                    .to_owned()
            }
            Applicability::WrongProductVersion {
                patch_for,
                installed,
            } => format!(
                "This patch is for SMS {patch_for}, but this server runs SMS {installed}: \
                 choose a patch for SMS {installed}."
            ),
            Applicability::AlreadyInstalled => {
                "This patch is already installed: there is nothing to do. To remove it, roll back."
                    .to_owned()
            }
            Applicability::OlderThanInstalled { installed } => format!(
                "{installed} is installed and already contains this older patch. \
                 To go back, roll back: rollback removes the installed patch and returns \
                 the server to the base version."
            ),
        }
    }
}

impl fmt::Display for Applicability {
    /// The same text as [`Applicability::message`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// Whether `patch` can be installed on a server at `installed_version`, `installed_level`.
///
/// A patch for another product version is not applicable; the installed patch is already
/// installed; a lower one is older than the installed one; a higher one is applicable (patches are
/// cumulative, so it goes straight from the installed level to its own).
pub fn applicability(
    installed_version: ProductVersion,
    installed_level: PatchLevel,
    patch: PatchId,
) -> Applicability {
    if patch.product_version != installed_version {
        return Applicability::WrongProductVersion {
            patch_for: patch.product_version,
            installed: installed_version,
        };
    }
    match patch.level().cmp(&installed_level) {
        std::cmp::Ordering::Equal => Applicability::AlreadyInstalled,
        std::cmp::Ordering::Less => Applicability::OlderThanInstalled {
            installed: installed_level,
        },
        std::cmp::Ordering::Greater => Applicability::Applicable,
    }
}

/// How an available patch is offered to the admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "state", content = "detail", rename_all = "snake_case")]
pub enum OfferState {
    /// The highest applicable patch: the one to install.
    Recommended,
    /// Applicable, but the recommended patch (this patch number) contains it.
    SupersededBy(u32),
    /// Cannot be installed, for this reason.
    NotApplicable(Applicability),
}

impl OfferState {
    /// Whether this is the recommended patch.
    pub fn is_recommended(self) -> bool {
        self == OfferState::Recommended
    }
}

/// The available patches as offered to a server at `installed_version`, `installed_level`.
///
/// Newest first, each patch once. Of the applicable patches the highest is recommended and the
/// others are superseded by it; the rest are not applicable, with the reason.
pub fn offers(
    installed_version: ProductVersion,
    installed_level: PatchLevel,
    available: &[PatchId],
) -> Vec<(PatchId, OfferState)> {
    let mut patches = available.to_vec();
    patches.sort_unstable_by_key(|&patch| Reverse(patch));
    patches.dedup();

    let mut recommended: Option<u32> = None;
    patches
        .into_iter()
        .map(|patch| {
            let state = match applicability(installed_version, installed_level, patch) {
                // Newest first, so the first applicable patch is the highest one.
                Applicability::Applicable => match recommended {
                    Some(highest) => OfferState::SupersededBy(highest),
                    None => {
                        recommended = Some(patch.patch);
                        OfferState::Recommended
                    }
                },
                reason => OfferState::NotApplicable(reason),
            };
            (patch, state)
        })
        .collect()
}

#[cfg(feature = "openapi")]
mod schema {
    use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
    use utoipa::openapi::{RefOr, schema::SchemaFormat};
    use utoipa::{PartialSchema, ToSchema};

    impl PartialSchema for super::PatchId {
        fn schema() -> RefOr<Schema> {
            ObjectBuilder::new()
                .schema_type(SchemaType::Type(Type::String))
                .format(None::<SchemaFormat>)
                .description(Some(
                    "Patch MAJOR.MINOR.MICRO.PATCH: the product version and the patch number (from 1).",
                ))
                // Plain decimal numbers without leading zeros, up to 9 digits (always a u32).
                .pattern(Some(
                    r"^(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.[1-9][0-9]{0,8}$",
                ))
                .examples(["6.4.0.3"])
                .into()
        }
    }
    impl ToSchema for super::PatchId {}
}

#[cfg(test)]
mod tests {
    use super::*;

    const V640: ProductVersion = ProductVersion::new(6, 4, 0);

    fn id(s: &str) -> PatchId {
        s.parse().unwrap()
    }

    #[test]
    fn patch_id_parses_and_displays_the_short_form() {
        let p = id("6.4.0.3");
        assert_eq!(p.product_version(), V640);
        assert_eq!(p.patch(), 3);
        assert_eq!(p.level(), PatchLevel(3));
        assert_eq!(p.to_string(), "6.4.0.3");
    }

    #[test]
    fn patch_id_rejects_bad_strings() {
        for bad in [
            "",
            "6.4.0",
            "6.4.0.3.1",
            "6.4.0.",
            ".6.4.0.3",
            "6.4.0.x",
            "6.4.0.03",
            "06.4.0.3",
            "6.4.0.+3",
            "6.4.0.-3",
            " 6.4.0.3",
            "6.4.0.3 ",
            "6.4.0. 3",
            "6.4.0.99999999999",
            "6,4,0,3",
        ] {
            assert!(
                matches!(bad.parse::<PatchId>(), Err(PatchIdError::Invalid(_))),
                "{bad:?} was not refused as invalid"
            );
        }
    }

    #[test]
    fn patch_zero_is_refused_with_its_own_error() {
        let err = "6.4.0.0".parse::<PatchId>().unwrap_err();
        assert_eq!(
            err,
            PatchIdError::ZeroPatch {
                product_version: V640
            }
        );
        assert!(err.to_string().contains("numbered from 1"), "{err}");
        assert_eq!(PatchId::new(V640, 0), Err(err));
        assert!(PatchId::new(V640, 1).is_ok());
    }

    #[test]
    fn invalid_patch_ids_say_what_was_expected() {
        let err = "6.4.0".parse::<PatchId>().unwrap_err().to_string();
        assert!(err.contains("`6.4.0` is not a patch"), "{err}");
        assert!(err.contains("MAJOR.MINOR.MICRO.PATCH"), "{err}");
    }

    #[test]
    fn patch_ids_order_by_product_version_then_number() {
        assert!(id("6.4.0.2") < id("6.4.0.10"));
        assert!(id("6.4.0.10") < id("6.5.0.1"));
        assert!(id("6.3.9.99") < id("6.4.0.1"));
    }

    #[test]
    fn patch_ids_travel_as_strings_in_json() {
        assert_eq!(
            serde_json::to_string(&id("6.4.0.3")).unwrap(),
            "\"6.4.0.3\""
        );
        assert_eq!(
            serde_json::from_str::<PatchId>("\"6.4.0.3\"").unwrap(),
            id("6.4.0.3")
        );
        assert!(serde_json::from_str::<PatchId>("\"6.4.0.0\"").is_err());
        assert!(serde_json::from_str::<PatchId>("\"6.4.0\"").is_err());
        assert!(serde_json::from_str::<PatchId>("3").is_err());
    }

    #[test]
    fn display_name_names_version_patch_and_build() {
        let build: Build = "6.4.0.9203".parse().unwrap();
        assert_eq!(
            display_name(V640, 3, &build),
            "SMS 6.4.0 Patch 3 (build 6.4.0.9203)"
        );
        assert_eq!(
            id("6.4.0.3").display_name(&build),
            "SMS 6.4.0 Patch 3 (build 6.4.0.9203)"
        );
        let base: Build = "6.4.0.9100".parse().unwrap();
        assert_eq!(display_name(V640, 0, &base), "SMS 6.4.0 (build 6.4.0.9100)");
    }

    #[test]
    fn a_patch_for_another_product_version_is_not_applicable() {
        let a = applicability(V640, PatchLevel(0), id("6.3.0.5"));
        assert_eq!(
            a,
            Applicability::WrongProductVersion {
                patch_for: ProductVersion::new(6, 3, 0),
                installed: V640,
            }
        );
        assert_eq!(a.code(), "wrong_product_version");
        assert!(a.message().contains("SMS 6.3.0"), "{}", a.message());
        assert!(
            !applicability(V640, PatchLevel(0), id("6.5.0.1")).is_applicable(),
            "a newer product version is not a patch"
        );
    }

    #[test]
    fn the_installed_patch_is_already_installed() {
        let a = applicability(V640, PatchLevel(3), id("6.4.0.3"));
        assert_eq!(a, Applicability::AlreadyInstalled);
        assert_eq!(a.code(), "already_installed");
    }

    #[test]
    fn an_older_patch_is_refused_and_rollback_is_named() {
        let a = applicability(V640, PatchLevel(3), id("6.4.0.2"));
        assert_eq!(
            a,
            Applicability::OlderThanInstalled {
                installed: PatchLevel(3)
            }
        );
        assert_eq!(a.code(), "older_than_installed");
        assert!(
            a.message().contains("Patch 3 is installed"),
            "{}",
            a.message()
        );
        assert!(
            a.message().contains("rollback removes the installed patch"),
            "{}",
            a.message()
        );
    }

    #[test]
    fn a_newer_patch_is_applicable_even_across_several_levels() {
        assert!(applicability(V640, PatchLevel(0), id("6.4.0.1")).is_applicable());
        assert!(applicability(V640, PatchLevel(1), id("6.4.0.5")).is_applicable());
        assert_eq!(Applicability::Applicable.code(), "applicable");
    }

    #[test]
    fn applicability_is_tagged_by_its_code_in_json() {
        let json = serde_json::to_value(Applicability::OlderThanInstalled {
            installed: PatchLevel(3),
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": "older_than_installed", "installed": 3})
        );
        let json = serde_json::to_value(Applicability::WrongProductVersion {
            patch_for: ProductVersion::new(6, 3, 0),
            installed: V640,
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": "wrong_product_version", "patch_for": "6.3.0", "installed": "6.4.0"})
        );
        assert_eq!(
            serde_json::to_value(Applicability::AlreadyInstalled).unwrap(),
            serde_json::json!({"code": "already_installed"})
        );
    }

    #[test]
    fn offers_recommend_the_highest_and_supersede_the_rest_newest_first() {
        let available = [
            id("6.4.0.2"),
            id("6.4.0.5"),
            id("6.3.0.7"),
            id("6.4.0.1"),
            id("6.4.0.4"),
            id("6.4.0.5"),
        ];
        let got = offers(V640, PatchLevel(2), &available);
        let expected = vec![
            (id("6.4.0.5"), OfferState::Recommended),
            (id("6.4.0.4"), OfferState::SupersededBy(5)),
            (
                id("6.4.0.2"),
                OfferState::NotApplicable(Applicability::AlreadyInstalled),
            ),
            (
                id("6.4.0.1"),
                OfferState::NotApplicable(Applicability::OlderThanInstalled {
                    installed: PatchLevel(2),
                }),
            ),
            (
                id("6.3.0.7"),
                OfferState::NotApplicable(Applicability::WrongProductVersion {
                    patch_for: ProductVersion::new(6, 3, 0),
                    installed: V640,
                }),
            ),
        ];
        assert_eq!(got, expected);
    }

    #[test]
    fn offers_without_applicable_patches_recommend_nothing() {
        assert!(offers(V640, PatchLevel(0), &[]).is_empty());
        let got = offers(V640, PatchLevel(4), &[id("6.4.0.4"), id("6.4.0.3")]);
        assert!(got.iter().all(|(_, state)| !state.is_recommended()));
    }

    #[test]
    fn offer_states_are_tagged_in_json() {
        assert_eq!(
            serde_json::to_value(OfferState::Recommended).unwrap(),
            serde_json::json!({"state": "recommended"})
        );
        assert_eq!(
            serde_json::to_value(OfferState::SupersededBy(5)).unwrap(),
            serde_json::json!({"state": "superseded_by", "detail": 5})
        );
        let state = OfferState::NotApplicable(Applicability::AlreadyInstalled);
        let json = serde_json::to_value(state).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"state": "not_applicable", "detail": {"code": "already_installed"}})
        );
        assert_eq!(serde_json::from_value::<OfferState>(json).unwrap(), state);
    }

    #[cfg(feature = "openapi")]
    #[test]
    fn openapi_schemas_describe_the_json_shapes() {
        use utoipa::PartialSchema;
        let id = serde_json::to_value(PatchId::schema()).unwrap();
        assert_eq!(id["type"], "string");
        let applicability = serde_json::to_string(&Applicability::schema()).unwrap();
        for code in [
            "applicable",
            "wrong_product_version",
            "already_installed",
            "older_than_installed",
        ] {
            assert!(
                applicability.contains(code),
                "{code} missing in {applicability}"
            );
        }
        let state = serde_json::to_string(&OfferState::schema()).unwrap();
        for word in [
            "state",
            "detail",
            "recommended",
            "superseded_by",
            "not_applicable",
        ] {
            assert!(state.contains(word), "{word} missing in {state}");
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn product_version() -> impl Strategy<Value = ProductVersion> {
            // Few values, so that equal versions and collisions come up often.
            (0u32..3, 0u32..3, 0u32..2).prop_map(|(a, b, c)| ProductVersion::new(a, b, c))
        }

        fn patch_id() -> impl Strategy<Value = PatchId> {
            (product_version(), 1u32..8).prop_map(|(v, n)| PatchId::new(v, n).unwrap())
        }

        proptest! {
            #[test]
            fn patch_ids_round_trip_through_their_short_form(
                a in any::<u32>(), b in any::<u32>(), c in any::<u32>(), n in 1u32..,
            ) {
                let p = PatchId::new(ProductVersion::new(a, b, c), n).unwrap();
                let text = p.to_string();
                prop_assert_eq!(&text, &format!("{a}.{b}.{c}.{n}"));
                prop_assert_eq!(text.parse::<PatchId>(), Ok(p));
                let json = serde_json::to_string(&p).unwrap();
                prop_assert_eq!(serde_json::from_str::<PatchId>(&json).unwrap(), p);
            }

            #[test]
            fn parsed_patch_ids_order_like_number_tuples(
                x in any::<(u32, u32, u32, u32)>(), y in any::<(u32, u32, u32, u32)>(),
            ) {
                let parse = |(a, b, c, n): (u32, u32, u32, u32)| {
                    format!("{a}.{b}.{c}.{}", n.max(1)).parse::<PatchId>().unwrap()
                };
                let (tx, ty) = ((x.0, x.1, x.2, x.3.max(1)), (y.0, y.1, y.2, y.3.max(1)));
                prop_assert_eq!(parse(x).cmp(&parse(y)), tx.cmp(&ty));
            }

            #[test]
            fn the_patch_id_parser_never_panics(s in any::<String>()) {
                let _ = s.parse::<PatchId>();
            }

            #[test]
            fn the_patch_id_parser_never_panics_on_near_misses(s in "[0-9.+ -]{0,24}") {
                if let Ok(p) = s.parse::<PatchId>() {
                    // Whatever it accepts is exactly the canonical form.
                    prop_assert_eq!(p.to_string(), s);
                }
            }

            #[test]
            fn offers_recommend_at_most_one_patch_and_it_is_the_highest_applicable(
                installed in product_version(),
                level in 0u32..8,
                available in proptest::collection::vec(patch_id(), 0..12),
            ) {
                let level = PatchLevel(level);
                let got = offers(installed, level, &available);

                let recommended: Vec<PatchId> = got
                    .iter()
                    .filter(|(_, state)| state.is_recommended())
                    .map(|&(p, _)| p)
                    .collect();
                prop_assert!(recommended.len() <= 1);
                let highest_applicable = available
                    .iter()
                    .copied()
                    .filter(|&p| applicability(installed, level, p).is_applicable())
                    .max();
                prop_assert_eq!(recommended.first().copied(), highest_applicable);

                // Newest first, each patch once, and every available patch is there.
                prop_assert!(got.windows(2).all(|w| w[0].0 > w[1].0));
                prop_assert!(available.iter().all(|p| got.iter().any(|(q, _)| q == p)));

                for &(p, state) in &got {
                    let reason = applicability(installed, level, p);
                    match state {
                        OfferState::Recommended => prop_assert!(reason.is_applicable()),
                        OfferState::SupersededBy(n) => {
                            prop_assert!(reason.is_applicable());
                            prop_assert_eq!(Some(n), highest_applicable.map(PatchId::patch));
                            prop_assert!(p.patch() < n);
                        }
                        OfferState::NotApplicable(r) => {
                            prop_assert_eq!(r, reason);
                            prop_assert!(!r.is_applicable());
                        }
                    }
                }
            }

            #[test]
            fn only_a_higher_patch_of_the_installed_version_is_applicable(
                installed in product_version(), level in 0u32..8, p in patch_id(),
            ) {
                let a = applicability(installed, PatchLevel(level), p);
                prop_assert_eq!(
                    a.is_applicable(),
                    p.product_version() == installed && p.patch() > level
                );
            }
        }
    }
}
