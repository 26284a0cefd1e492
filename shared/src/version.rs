//! Product versions, builds and patch levels, with strict parsing.
//!
//! `6.4.0` is a product version, `6.4.0.9203` a build, and a patch level is a number where 0 means
//! "no patch installed". Bad strings are errors, never zeros.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why a version string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    /// The string does not have the expected number of dot-separated parts.
    #[error("`{input}` is not a {what}: expected {expected}")]
    Shape {
        input: String,
        what: &'static str,
        expected: &'static str,
    },
    /// One part is not a plain decimal number (signs, spaces, leading zeros and overflow are refused).
    #[error("`{input}` is not a {what}: `{part}` is not a plain number")]
    Number {
        input: String,
        what: &'static str,
        part: String,
    },
}

/// Parses one decimal component: digits only, no sign, no leading zero, fits in `u32`.
fn parse_component(part: &str) -> Option<u32> {
    let plain = !part.is_empty()
        && part.bytes().all(|b| b.is_ascii_digit())
        && (part == "0" || !part.starts_with('0'));
    if plain { part.parse().ok() } else { None }
}

/// Splits `input` into exactly `N` numeric components.
pub(crate) fn parse_components<const N: usize>(
    input: &str,
    what: &'static str,
    expected: &'static str,
) -> Result<[u32; N], VersionError> {
    let parts: Vec<&str> = input.split('.').collect();
    if parts.len() != N {
        return Err(VersionError::Shape {
            input: input.to_owned(),
            what,
            expected,
        });
    }
    let mut out = [0u32; N];
    for (slot, part) in out.iter_mut().zip(parts) {
        *slot = parse_component(part).ok_or_else(|| VersionError::Number {
            input: input.to_owned(),
            what,
            part: part.to_owned(),
        })?;
    }
    Ok(out)
}

/// A product version `MAJOR.MINOR.MICRO`, e.g. `6.4.0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProductVersion {
    pub major: u32,
    pub minor: u32,
    pub micro: u32,
}

impl ProductVersion {
    /// The version `major.minor.micro`.
    pub const fn new(major: u32, minor: u32, micro: u32) -> Self {
        Self {
            major,
            minor,
            micro,
        }
    }
}

impl FromStr for ProductVersion {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let [major, minor, micro] =
            parse_components::<3>(s, "product version", "MAJOR.MINOR.MICRO, e.g. 6.4.0")?;
        Ok(Self::new(major, minor, micro))
    }
}

impl fmt::Display for ProductVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.micro)
    }
}

/// A build: the product version plus a build number, e.g. `6.4.0.9203`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Build {
    pub version: ProductVersion,
    pub number: u32,
}

impl FromStr for Build {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let [major, minor, micro, number] =
            parse_components::<4>(s, "build", "MAJOR.MINOR.MICRO.BUILD, e.g. 6.4.0.9203")?;
        Ok(Self {
            version: ProductVersion::new(major, minor, micro),
            number,
        })
    }
}

impl fmt::Display for Build {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.version, self.number)
    }
}

/// The installed patch level of a product version; 0 means no patch is installed.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct PatchLevel(pub u32);

impl PatchLevel {
    /// The base version, without any patch.
    pub const NONE: PatchLevel = PatchLevel(0);

    /// Whether this is level 0: no patch installed.
    pub fn is_none(self) -> bool {
        self.0 == 0
    }
}

impl FromStr for PatchLevel {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let [level] = parse_components::<1>(s, "patch level", "a number, 0 for no patch")?;
        Ok(Self(level))
    }
}

impl fmt::Display for PatchLevel {
    /// `Patch 3`, or `no patch` at level 0.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_none() {
            f.write_str("no patch")
        } else {
            write!(f, "Patch {}", self.0)
        }
    }
}

/// Versions travel as strings in JSON (`"6.4.0"`, `"6.4.0.9203"`), parsed strictly on the way in.
macro_rules! serde_as_string {
    ($ty:ty) => {
        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> Result<Self, D::Error> {
                let text = <String as ::serde::Deserialize>::deserialize(deserializer)?;
                text.parse().map_err(::serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use serde_as_string;

serde_as_string!(ProductVersion);
serde_as_string!(Build);

#[cfg(feature = "openapi")]
mod schema {
    use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
    use utoipa::openapi::{RefOr, schema::SchemaFormat};
    use utoipa::{PartialSchema, ToSchema};

    fn string_schema(description: &str, example: &str) -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .format(None::<SchemaFormat>)
            .description(Some(description))
            .examples([example])
            .into()
    }

    impl PartialSchema for super::ProductVersion {
        fn schema() -> RefOr<Schema> {
            string_schema("Product version MAJOR.MINOR.MICRO.", "6.4.0")
        }
    }
    impl ToSchema for super::ProductVersion {}

    impl PartialSchema for super::Build {
        fn schema() -> RefOr<Schema> {
            string_schema("Build MAJOR.MINOR.MICRO.BUILD.", "6.4.0.9203")
        }
    }
    impl ToSchema for super::Build {}

    impl PartialSchema for super::PatchLevel {
        fn schema() -> RefOr<Schema> {
            ObjectBuilder::new()
                .schema_type(SchemaType::Type(Type::Integer))
                .minimum(Some(0))
                .description(Some("Installed patch level; 0 means no patch installed."))
                .into()
        }
    }
    impl ToSchema for super::PatchLevel {}
}

/// A patch level in words for sentences: `Patch 3`, or `level 0 (no patch)`.
pub fn level_in_words(level: PatchLevel) -> String {
    if level.is_none() {
        "level 0 (no patch)".to_owned()
    } else {
        format!("Patch {}", level.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_version_parses_and_displays() {
        let v: ProductVersion = "6.4.0".parse().unwrap();
        assert_eq!(v, ProductVersion::new(6, 4, 0));
        assert_eq!(v.to_string(), "6.4.0");
    }

    #[test]
    fn product_version_rejects_bad_strings() {
        for bad in [
            "",
            "6",
            "6.4",
            "6.4.0.1",
            "6.4.x",
            "6..0",
            "06.4.0",
            "+6.4.0",
            " 6.4.0",
            "6.4.0 ",
            "-1.0.0",
            "99999999999.0.0",
        ] {
            assert!(
                bad.parse::<ProductVersion>().is_err(),
                "{bad:?} was accepted"
            );
        }
    }

    #[test]
    fn product_versions_order_numerically() {
        let a: ProductVersion = "6.4.0".parse().unwrap();
        let b: ProductVersion = "6.10.0".parse().unwrap();
        assert!(a < b);
    }

    #[test]
    fn build_parses_and_displays() {
        let b: Build = "6.4.0.9203".parse().unwrap();
        assert_eq!(b.version, ProductVersion::new(6, 4, 0));
        assert_eq!(b.number, 9203);
        assert_eq!(b.to_string(), "6.4.0.9203");
        assert!("6.4.0".parse::<Build>().is_err());
        assert!("6.4.0.".parse::<Build>().is_err());
    }

    #[test]
    fn patch_level_zero_means_no_patch() {
        assert_eq!("0".parse::<PatchLevel>(), Ok(PatchLevel::NONE));
        assert_eq!(PatchLevel(0).to_string(), "no patch");
        assert_eq!(PatchLevel(3).to_string(), "Patch 3");
        assert!("".parse::<PatchLevel>().is_err());
        assert!("three".parse::<PatchLevel>().is_err());
    }

    #[test]
    fn versions_travel_as_strings_in_json() {
        let v = ProductVersion::new(6, 4, 0);
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"6.4.0\"");
        assert!(serde_json::from_str::<ProductVersion>("\"6.4\"").is_err());
        let b: Build = serde_json::from_str("\"6.4.0.9203\"").unwrap();
        assert_eq!(b.number, 9203);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn product_versions_round_trip(a in any::<u32>(), b in any::<u32>(), c in any::<u32>()) {
                let v = ProductVersion::new(a, b, c);
                prop_assert_eq!(v.to_string(), format!("{a}.{b}.{c}"));
                prop_assert_eq!(v.to_string().parse::<ProductVersion>(), Ok(v));
                let json = serde_json::to_string(&v).unwrap();
                prop_assert_eq!(serde_json::from_str::<ProductVersion>(&json).unwrap(), v);
            }

            #[test]
            fn builds_round_trip(v in any::<(u32, u32, u32)>(), number in any::<u32>()) {
                let b = Build { version: ProductVersion::new(v.0, v.1, v.2), number };
                prop_assert_eq!(b.to_string().parse::<Build>(), Ok(b));
                let json = serde_json::to_string(&b).unwrap();
                prop_assert_eq!(serde_json::from_str::<Build>(&json).unwrap(), b);
            }

            #[test]
            fn patch_levels_round_trip(n in any::<u32>()) {
                let level = PatchLevel(n);
                prop_assert_eq!(n.to_string().parse::<PatchLevel>(), Ok(level));
                prop_assert_eq!(serde_json::to_string(&level).unwrap(), n.to_string());
                let json = serde_json::to_string(&level).unwrap();
                prop_assert_eq!(serde_json::from_str::<PatchLevel>(&json).unwrap(), level);
                let shown = if n == 0 { "no patch".to_owned() } else { format!("Patch {n}") };
                prop_assert_eq!(level.to_string(), shown);
            }

            #[test]
            fn parsed_product_versions_order_like_number_tuples(
                x in any::<(u32, u32, u32)>(), y in any::<(u32, u32, u32)>(),
            ) {
                let parse = |(a, b, c): (u32, u32, u32)| {
                    format!("{a}.{b}.{c}").parse::<ProductVersion>().unwrap()
                };
                prop_assert_eq!(parse(x).cmp(&parse(y)), x.cmp(&y));
            }

            #[test]
            fn parsed_builds_order_like_number_tuples(
                x in any::<(u32, u32, u32, u32)>(), y in any::<(u32, u32, u32, u32)>(),
            ) {
                let parse = |(a, b, c, n): (u32, u32, u32, u32)| {
                    format!("{a}.{b}.{c}.{n}").parse::<Build>().unwrap()
                };
                prop_assert_eq!(parse(x).cmp(&parse(y)), x.cmp(&y));
            }

            #[test]
            fn parsed_patch_levels_order_like_numbers(x in any::<u32>(), y in any::<u32>()) {
                let parse = |n: u32| n.to_string().parse::<PatchLevel>().unwrap();
                prop_assert_eq!(parse(x).cmp(&parse(y)), x.cmp(&y));
            }

            #[test]
            fn the_parsers_never_panic(s in any::<String>()) {
                let _ = s.parse::<ProductVersion>();
                let _ = s.parse::<Build>();
                let _ = s.parse::<PatchLevel>();
            }

            #[test]
            fn the_parsers_accept_only_canonical_forms(s in "[0-9.+ -]{0,20}") {
                // Near misses (signs, spaces, leading zeros, stray dots) never panic, and whatever
                // is accepted displays exactly as it was written.
                if let Ok(v) = s.parse::<ProductVersion>() {
                    prop_assert_eq!(v.to_string(), s.clone());
                }
                if let Ok(b) = s.parse::<Build>() {
                    prop_assert_eq!(b.to_string(), s.clone());
                }
                if let Ok(level) = s.parse::<PatchLevel>() {
                    prop_assert_eq!(level.0.to_string(), s);
                }
            }
        }
    }
}
