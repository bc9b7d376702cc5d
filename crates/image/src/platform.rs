//! Platforms (`os/arch[/variant]`): parsing, the host's own, and the matching
//! rule used to pick an entry from an image index or manifest list.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An OCI platform, normalized (`x86_64` -> `amd64`, `aarch64` -> `arm64`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Platform {
    /// Operating system, e.g. `linux`.
    pub os: String,
    /// CPU architecture, e.g. `amd64`.
    #[serde(rename = "architecture")]
    pub arch: String,
    /// Variant, e.g. `v8` for arm64 or `v7` for arm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl Platform {
    /// The platform this process runs on.
    pub fn host() -> Platform {
        let arch = normalize_arch(std::env::consts::ARCH);
        Platform {
            os: std::env::consts::OS.to_string(),
            variant: default_variant(&arch).map(str::to_string),
            arch,
        }
    }

    /// Parses `os/arch[/variant]` (Docker's `--platform` syntax); `arch`
    /// alone means `linux/arch`.
    pub fn parse(s: &str) -> Result<Platform, String> {
        let parts: Vec<&str> = s.split('/').collect();
        let bad = || format!("\"{s}\": unknown operating system or architecture: invalid argument");
        if parts
            .iter()
            .any(|p| p.is_empty() || p.chars().any(char::is_whitespace))
        {
            return Err(bad());
        }
        let (os, arch, variant) = match parts.as_slice() {
            [arch] => ("linux", *arch, None),
            [os, arch] => (*os, *arch, None),
            [os, arch, variant] => (*os, *arch, Some(*variant)),
            _ => return Err(bad()),
        };
        let arch = normalize_arch(&arch.to_ascii_lowercase());
        let variant = variant
            .map(str::to_ascii_lowercase)
            .or_else(|| default_variant(&arch).map(str::to_string));
        Ok(Platform {
            os: os.to_ascii_lowercase(),
            arch,
            variant,
        })
    }

    /// Builds a platform from an index entry's (or config's) raw fields,
    /// normalizing them.
    pub fn from_parts(os: &str, arch: &str, variant: Option<&str>) -> Platform {
        let arch = normalize_arch(arch);
        let variant = variant
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .or_else(|| default_variant(&arch).map(str::to_string));
        Platform {
            os: os.to_string(),
            arch,
            variant,
        }
    }

    /// Whether an image built for `candidate` runs as `self` asks: same OS
    /// and architecture, and the same variant when both name one.
    pub fn matches(&self, candidate: &Platform) -> bool {
        self.os == candidate.os
            && self.arch == candidate.arch
            && match (&self.variant, &candidate.variant) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.arch)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

fn normalize_arch(arch: &str) -> String {
    match arch {
        "x86_64" | "x86-64" => "amd64",
        "aarch64" => "arm64",
        "i386" | "i686" | "x86" => "386",
        other => other,
    }
    .to_string()
}

/// The variant an architecture has when none is written, as containerd's
/// platform normalization assumes.
fn default_variant(arch: &str) -> Option<&'static str> {
    match arch {
        "arm64" => Some("v8"),
        "arm" => Some("v7"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalizes() {
        let p = Platform::parse("linux/arm64").unwrap();
        assert_eq!(p.to_string(), "linux/arm64/v8");
        assert_eq!(Platform::parse("amd64").unwrap().to_string(), "linux/amd64");
        assert_eq!(Platform::parse("linux/x86_64").unwrap().arch, "amd64");
        assert!(Platform::parse("linux//v7").is_err());
        assert!(Platform::parse("a/b/c/d").is_err());
    }

    #[test]
    fn matching_ignores_a_missing_variant() {
        let want = Platform::parse("linux/arm64/v8").unwrap();
        assert!(want.matches(&Platform::from_parts("linux", "arm64", None)));
        assert!(!want.matches(&Platform::from_parts("linux", "arm", Some("v7"))));
        assert!(!want.matches(&Platform::from_parts("windows", "arm64", None)));
        let arm7 = Platform::parse("linux/arm/v7").unwrap();
        assert!(!arm7.matches(&Platform::from_parts("linux", "arm", Some("v6"))));
    }

    #[test]
    fn the_host_is_normalized() {
        let host = Platform::host();
        assert_eq!(host.os, "linux");
        assert_ne!(host.arch, "x86_64");
    }
}
