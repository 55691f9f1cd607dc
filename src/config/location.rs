//! [`Location`]: where something lives, a local path or an S3 bucket and key, parsed in exactly one place.
//!
//! Every value that names one goes through [`Location::parse`]: `source.repository`, `backfill.archive` and
//! `worker.failed_documents` when `migration.yaml` is loaded, `--repository` and the `restore-state` argument on
//! the command line, and the worker's `BACKFILL_SOURCE_REPOSITORY` and `BACKFILL_FAILED_DOCUMENTS`. The rest of
//! the program matches on the variants; nothing else looks for `s3://`.
//!
//! Accepted forms: `s3://bucket[/key]`, `file:///path` (or `file://relative/path`), or a plain path.
//!
//! Invariants of a parsed value: an S3 bucket is a valid bucket name (3-63 lowercase letters, digits, dots and
//! hyphens, starting and ending with a letter or digit, no `..`); an S3 key has no leading or trailing `/`
//! (empty: the bucket itself); a local path is not blank. [`Display`](std::fmt::Display) writes the form back
//! (`s3://bucket/key`, or the path), and parsing that text gives the same value.

use std::fmt;
use std::path::{Path, PathBuf};

/// A local path, or an object or key prefix in S3.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Location {
    Local(PathBuf),
    S3(S3Location),
}

/// A bucket and a key in it: an object, or a prefix "directory" of objects.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct S3Location {
    pub bucket: String,
    /// Object key or key prefix, without leading or trailing `/`; empty for the whole bucket.
    pub key: String,
}

/// Why a text is not a [`Location`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    #[error("the location is empty")]
    Empty,
    #[error("`{bucket}` is not a valid S3 bucket name")]
    Bucket { bucket: String },
    #[error("`file://` needs a path, e.g. `file:///mnt/snapshots`")]
    FileWithoutPath,
    #[error("unsupported URL `{url}`")]
    Scheme { url: String },
}

impl LocationError {
    /// How to fix it, for configuration errors and messages.
    pub(crate) fn hint(&self) -> &'static str {
        match self {
            LocationError::Bucket { .. } => {
                "bucket names are 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit: `s3://my-bucket/snapshots`"
            }
            LocationError::FileWithoutPath => "write `file:///absolute/path`",
            LocationError::Empty | LocationError::Scheme { .. } => {
                "use `s3://bucket/prefix`, a path or a `file://` URL"
            }
        }
    }
}

impl Location {
    /// Parses `s3://bucket[/key]`, `file://path` or a plain path (see the module documentation).
    pub fn parse(text: &str) -> Result<Location, LocationError> {
        if text.trim().is_empty() {
            return Err(LocationError::Empty);
        }
        if let Some(rest) = text.strip_prefix("s3://") {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            if !valid_bucket(bucket) {
                return Err(LocationError::Bucket {
                    bucket: bucket.to_string(),
                });
            }
            return Ok(Location::S3(S3Location {
                bucket: bucket.to_string(),
                key: key.trim_matches('/').to_string(),
            }));
        }
        if let Some(path) = text.strip_prefix("file://") {
            if path.trim().is_empty() {
                return Err(LocationError::FileWithoutPath);
            }
            return Ok(Location::Local(PathBuf::from(path)));
        }
        if url_scheme(text).is_some() {
            return Err(LocationError::Scheme {
                url: text.to_string(),
            });
        }
        Ok(Location::Local(PathBuf::from(text)))
    }

    pub(crate) fn is_s3(&self) -> bool {
        matches!(self, Location::S3(_))
    }

    /// `name` inside this location: a file in the directory, or an object under the key prefix.
    pub(crate) fn join(&self, name: &str) -> Location {
        match self {
            Location::Local(dir) => Location::Local(dir.join(name)),
            Location::S3(s3) => Location::S3(s3.join(name)),
        }
    }

    /// The last segment of the path or key (`None` for a bucket's root or a path ending in `..`).
    pub(crate) fn file_name(&self) -> Option<&str> {
        match self {
            Location::Local(path) => path.file_name().and_then(|n| n.to_str()),
            Location::S3(s3) => s3.key.rsplit('/').next().filter(|n| !n.is_empty()),
        }
    }

    /// A relative local path taken relative to `dir` (the configuration file's directory); anything else as is.
    pub(crate) fn relative_to(self, dir: &Path) -> Location {
        match self {
            Location::Local(path) => Location::Local(resolve(dir, &path)),
            s3 => s3,
        }
    }
}

impl S3Location {
    /// `name` under this key prefix (`prefix/name`, or `name` at the bucket's root; an empty name is the
    /// prefix itself).
    pub(crate) fn join(&self, name: &str) -> S3Location {
        let name = name.trim_matches('/');
        let key = if name.is_empty() {
            self.key.clone()
        } else {
            format!("{}{name}", self.prefix())
        };
        S3Location {
            bucket: self.bucket.clone(),
            key,
        }
    }

    /// The key as a prefix of keys under it: `key/`, or empty at the bucket's root.
    pub(crate) fn prefix(&self) -> String {
        if self.key.is_empty() {
            String::new()
        } else {
            format!("{}/", self.key)
        }
    }
}

impl std::str::FromStr for Location {
    type Err = LocationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Location::parse(text)
    }
}

impl fmt::Display for S3Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "s3://{}", self.bucket)
        } else {
            write!(f, "s3://{}/{}", self.bucket, self.key)
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::S3(s3) => s3.fmt(f),
            Location::Local(path) => {
                let text = path.display().to_string();
                // A path that reads like a URL keeps its `file://`, so the text parses back to this value.
                if url_scheme(&text).is_some() {
                    write!(f, "file://{text}")
                } else {
                    f.write_str(&text)
                }
            }
        }
    }
}

/// Serialized as the text users write (`s3://bucket/key` or the path).
impl serde::Serialize for Location {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// `path` taken relative to `dir` when it is relative (and `dir` is not empty).
pub(super) fn resolve(dir: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() || dir.as_os_str().is_empty() {
        path.to_path_buf()
    } else {
        dir.join(path)
    }
}

/// The scheme of `scheme://...` (a letter, then letters, digits, `+`, `-`, `.`), if the text starts with one.
fn url_scheme(text: &str) -> Option<&str> {
    let (scheme, _) = text.split_once("://")?;
    let mut chars = scheme.chars();
    let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    (starts_with_letter && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)))
        .then_some(scheme)
}

/// S3's bucket naming rules (general purpose buckets), minus the rarely hit IP-address form.
fn valid_bucket(bucket: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    (3..=63).contains(&bucket.len())
        && bucket
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && edge(bucket.chars().next())
        && edge(bucket.chars().last())
        && !bucket.contains("..")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3(bucket: &str, key: &str) -> Location {
        Location::S3(S3Location {
            bucket: bucket.into(),
            key: key.into(),
        })
    }

    #[test]
    fn s3_urls_name_a_bucket_and_a_key_without_edge_slashes() {
        assert_eq!(
            Location::parse("s3://b-1.x/snaps/prod"),
            Ok(s3("b-1.x", "snaps/prod"))
        );
        assert_eq!(
            Location::parse("s3://bucket/failed/"),
            Ok(s3("bucket", "failed"))
        );
        assert_eq!(
            Location::parse("s3://bucket//a//b/"),
            Ok(s3("bucket", "a//b"))
        );
        assert_eq!(Location::parse("s3://bucket"), Ok(s3("bucket", "")));
        assert_eq!(Location::parse("s3://bucket/"), Ok(s3("bucket", "")));
    }

    #[test]
    fn paths_and_file_urls_are_local() {
        let local = |p: &str| Ok(Location::Local(PathBuf::from(p)));
        assert_eq!(Location::parse("/mnt/snapshots"), local("/mnt/snapshots"));
        assert_eq!(Location::parse("failed/"), local("failed/"));
        assert_eq!(
            Location::parse("file:///mnt/snapshots"),
            local("/mnt/snapshots")
        );
        assert_eq!(Location::parse("file://relative"), local("relative"));
        assert_eq!(
            Location::parse("/snap \"quoted\" ${HOME}"),
            local("/snap \"quoted\" ${HOME}")
        );
        // `://` after a path segment is not a scheme.
        assert_eq!(Location::parse("/tmp/a://b"), local("/tmp/a://b"));
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        let bucket = |b: &str| {
            Err(LocationError::Bucket {
                bucket: b.to_string(),
            })
        };
        assert_eq!(Location::parse(""), Err(LocationError::Empty));
        assert_eq!(Location::parse("  "), Err(LocationError::Empty));
        assert_eq!(Location::parse("s3://"), bucket(""));
        assert_eq!(Location::parse("s3:///key"), bucket(""));
        assert_eq!(Location::parse("s3://Bad_Bucket/x"), bucket("Bad_Bucket"));
        assert_eq!(Location::parse("s3://ab/x"), bucket("ab"));
        assert_eq!(
            Location::parse(&format!("s3://{}", "a".repeat(64))),
            bucket(&"a".repeat(64))
        );
        assert_eq!(Location::parse("s3://-bucket"), bucket("-bucket"));
        assert_eq!(Location::parse("s3://bucket./x"), bucket("bucket."));
        assert_eq!(Location::parse("s3://my..bucket"), bucket("my..bucket"));
        assert_eq!(
            Location::parse("file://"),
            Err(LocationError::FileWithoutPath)
        );
        assert_eq!(
            Location::parse("gs://bucket/x"),
            Err(LocationError::Scheme {
                url: "gs://bucket/x".into()
            })
        );
        assert_eq!(
            Location::parse("S3://bucket/x"),
            Err(LocationError::Scheme {
                url: "S3://bucket/x".into()
            })
        );
        for err in [LocationError::Empty, LocationError::FileWithoutPath] {
            assert!(!err.hint().is_empty());
        }
        assert!(
            LocationError::Bucket { bucket: "B".into() }
                .hint()
                .contains("3-63")
        );
    }

    #[test]
    fn display_writes_text_that_parses_back_to_the_same_value() {
        for text in [
            "s3://bucket/snaps/prod",
            "s3://bucket",
            "/mnt/snapshots",
            "relative/dir",
            "file://s3://not-a-bucket",
            "file:///tmp/x",
        ] {
            let parsed = Location::parse(text).expect("valid");
            let again = Location::parse(&parsed.to_string()).expect("display parses");
            assert_eq!(again, parsed, "{text} -> {parsed}");
        }
        assert_eq!(s3("b", "k/x.json").to_string(), "s3://b/k/x.json");
        assert_eq!(s3("b", "").to_string(), "s3://b");
        assert_eq!(
            serde_json::to_value(s3("b", "k")).expect("json"),
            serde_json::json!("s3://b/k")
        );
    }

    #[test]
    fn names_join_under_a_directory_or_a_prefix() {
        assert_eq!(s3("b", "p").join("x.json"), s3("b", "p/x.json"));
        assert_eq!(s3("b", "").join("x.json"), s3("b", "x.json"));
        assert_eq!(s3("b", "p").join("/dir/"), s3("b", "p/dir"));
        assert_eq!(s3("b", "p").join(""), s3("b", "p"));
        assert_eq!(
            Location::Local("/a".into()).join("x.json"),
            Location::Local("/a/x.json".into())
        );
        let Location::S3(prefix) = s3("b", "failed") else {
            unreachable!()
        };
        assert_eq!(prefix.prefix(), "failed/");
        assert_eq!(
            S3Location {
                bucket: "b".into(),
                key: String::new()
            }
            .prefix(),
            ""
        );
        assert_eq!(s3("b", "k/x.json").file_name(), Some("x.json"));
        assert_eq!(s3("b", "").file_name(), None);
        assert_eq!(
            Location::Local("a/b.json".into()).file_name(),
            Some("b.json")
        );
    }

    #[test]
    fn relative_local_paths_resolve_against_the_config_directory() {
        let dir = Path::new("/etc/backfill");
        assert_eq!(
            Location::Local("failed".into()).relative_to(dir),
            Location::Local("/etc/backfill/failed".into())
        );
        assert_eq!(
            Location::Local("/abs".into()).relative_to(dir),
            Location::Local("/abs".into())
        );
        assert_eq!(s3("b", "k").relative_to(dir), s3("b", "k"));
        assert_eq!(
            Location::Local("x".into()).relative_to(Path::new("")),
            Location::Local("x".into())
        );
    }
}
