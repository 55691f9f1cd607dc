//! `migration.yaml`: the declared migration. Strict loading (unknown keys are errors with a suggestion),
//! every error with file, line, column and key path, defaults, and cross-field rules. This module is the only
//! reader of environment variables (through [`Env`]).
//!
//! Flow: text → [`tree::parse`] (positions) → `schema` (types, ranges, defaults) → `rules` (cross-field).
//! Nothing is returned unless the whole file is valid, so no command acts on half a configuration.

mod env;
mod error;
mod location;
mod reader;
mod rules;
mod schema;
mod schema_type_mappings;
mod transforms;
mod tree;
mod type_mappings;
mod types;

use std::path::Path;

pub use env::{Env, MapEnv, ProcessEnv, interpolate};
pub use error::{ConfigError, ConfigErrors};
pub use location::{Location, LocationError, S3Location};
pub use rules::{LoadOptions, fargate_size_ok};
pub use schema::{DEFAULT_DASHBOARD_NAME, MAX_WORKERS, RETENTION_DAYS};
pub use type_mappings::{
    DEFAULT_TYPE, RegexRoute, RegexRouteError, Route, RouteRule, TypeMappings,
};
pub use types::*;

use reader::Walk;
use tree::Pos;

/// Reads and validates a migration file.
pub fn load(path: &Path, env: &dyn Env, options: LoadOptions) -> Result<Migration, ConfigErrors> {
    let text = std::fs::read_to_string(path).map_err(|err| {
        let hint = if err.kind() == std::io::ErrorKind::NotFound {
            "create one with `backfill init`, or pass `--config PATH`"
        } else {
            "check the file's permissions and that it is UTF-8 text"
        };
        ConfigErrors {
            errors: vec![
                ConfigError::new(
                    path.to_path_buf(),
                    Pos::default(),
                    "",
                    format!("cannot read the file: {err}"),
                )
                .with_hint(hint),
            ],
        }
    })?;
    parse(&text, path, env, options)
}

/// Validates migration text; `path` is used in messages and to resolve relative paths.
pub fn parse(
    text: &str,
    path: &Path,
    env: &dyn Env,
    options: LoadOptions,
) -> Result<Migration, ConfigErrors> {
    let mut walk = Walk::new(path, env);
    let root = match tree::parse(text) {
        Ok(root) => root,
        Err((pos, message)) => {
            walk.error_hint(
                pos,
                "",
                format!("invalid YAML: {message}"),
                "fix the syntax at this position",
            );
            return Err(ConfigErrors {
                errors: walk.errors,
            });
        }
    };
    if root.value == tree::Value::Null {
        walk.error_hint(
            root.pos,
            "",
            "the file is empty",
            "start from `backfill init`",
        );
        return Err(ConfigErrors {
            errors: walk.errors,
        });
    }
    let migration = schema::read_migration(&mut walk, &root, text);
    match migration {
        Some(mut m) if walk.errors.is_empty() => {
            let dir = path.parent().unwrap_or(Path::new("."));
            rules::check(&mut walk, &root, &mut m, options, dir);
            if !walk.errors.is_empty() {
                return Err(ConfigErrors {
                    errors: sorted(walk.errors),
                });
            }
            resolve_relative_paths(&mut m, &absolute_dir(dir));
            Ok(m)
        }
        _ => Err(ConfigErrors {
            errors: sorted(walk.errors),
        }),
    }
}

/// The configuration file's directory as an absolute path (lexically: `.` removed, symlinks kept), so a local
/// path means the same whether the file was named as `migration.yaml` or `/abs/migration.yaml` — the working
/// state records the repository, and the CLI and the workers it starts must name it alike.
fn absolute_dir(dir: &Path) -> std::path::PathBuf {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// Local paths in the file are relative to the file's directory, whatever the working directory.
fn resolve_relative_paths(m: &mut Migration, dir: &Path) {
    m.source.repository = m.source.repository.clone().relative_to(dir);
    let at_dir = |location: Location| location.relative_to(dir);
    m.backfill.archive = m.backfill.archive.take().map(at_dir);
    m.worker.failed_documents = m.worker.failed_documents.take().map(at_dir);
    if let Some(ca) = &mut m.target.tls.ca_file {
        *ca = location::resolve(dir, ca);
    }
    m.local.state_dir = location::resolve(dir, &m.local.state_dir);
}

fn sorted(mut errors: Vec<ConfigError>) -> Vec<ConfigError> {
    errors.sort_by_key(|e| (e.line, e.column));
    errors
}

impl Migration {
    /// A stable hash of the resolved configuration (for saved plans). Contains no secret: passwords are never
    /// part of the configuration, only the names of their sources.
    pub(crate) fn content_hash(&self) -> String {
        use sha2::Digest;
        let json = serde_json::to_vec(self).unwrap_or_default();
        hex::encode(sha2::Sha256::digest(json))
    }

    /// Stack names in deployment order.
    pub(crate) fn stack_names(&self) -> [String; 3] {
        [
            format!("{}-logs", self.name),
            format!("{}-workers", self.name),
            format!("{}-dashboard", self.name),
        ]
    }
}

/// `text` as a `m.yaml` with no environment variables and default options (unit tests).
#[cfg(test)]
pub(crate) fn parse_text(text: &str) -> Result<Migration, ConfigErrors> {
    parse(
        text,
        Path::new("m.yaml"),
        &MapEnv::default(),
        LoadOptions::default(),
    )
}

/// The commented starter file `backfill init` writes.
pub(crate) const STARTER: &str = include_str!("starter.yaml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starter_file_is_valid() {
        let env = MapEnv::default();
        let m = parse(
            STARTER,
            Path::new("migration.yaml"),
            &env,
            LoadOptions::default(),
        )
        .expect("starter parses");
        assert_eq!(m.name, "my-migration");
        assert_eq!(m.platform, PlatformKind::Local);
        assert_eq!(m.backfill.workers, 2);
    }

    const AWS: &str = "version: 1\nname: demo\nplatform: aws\nsource: {repository: s3://bucket-a/p, snapshot: s, version: ES_7.10}\n\
        target:\n  endpoint: https://search-demo-x1.eu-west-1.es.amazonaws.com\n  auth:\n";
    const WORKER: &str = "worker: {image: i, subnets: [subnet-1]}\naws: {region: us-east-1}\n";

    fn aws(auth: &str, worker: &str) -> Result<Migration, ConfigErrors> {
        parse_text(&format!("{AWS}{auth}{worker}"))
    }

    #[test]
    fn issue_17_keys_read_the_target_account_secret_format_and_capacity() {
        let sigv4 = "    type: sigv4\n    region: eu-west-1\n";
        for account in ["210987654321", "\"210987654321\""] {
            let m = aws(&format!("{sigv4}    account: {account}\n"), WORKER).expect("valid");
            assert_eq!(m.target.aws.account.as_deref(), Some("210987654321"));
        }
        let m = aws(sigv4, WORKER).expect("valid");
        assert_eq!(
            (m.target.aws.account, m.worker.capacity),
            (None, Capacity::Fargate)
        );
        let spot = "worker: {image: i, subnets: [subnet-1], capacity: fargate_spot}\naws: {region: us-east-1}\n";
        assert_eq!(
            aws(sigv4, spot).expect("valid").worker.capacity,
            Capacity::FargateSpot
        );

        let err = aws(&format!("{sigv4}    account: \"12345\"\n"), WORKER)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("target.auth.account") && err.contains("not an AWS account id"),
            "{err}"
        );
        let basic = "    type: basic\n    username: u\n    password_secret_arn: arn:aws:secretsmanager:eu-west-1:1:secret:s\n";
        let err = aws(
            &format!("{sigv4}    password_secret_format: json\n"),
            WORKER,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("does not apply to auth type `sigv4`"), "{err}");
        // `engine: rfs` must be told how the secret holds the password; `backfill` keeps the whole secret.
        let rfs =
            "worker: {image: i, subnets: [subnet-1], engine: rfs}\naws: {region: us-east-1}\n";
        let err = aws(basic, rfs).unwrap_err().to_string();
        assert!(err.contains("target.auth.password_secret_format"), "{err}");
        let m = aws(&format!("{basic}    password_secret_format: json\n"), rfs).expect("valid");
        assert_eq!(
            m.target.aws.password_secret_format,
            Some(SecretFormat::Json)
        );
        assert_eq!(
            aws(basic, WORKER)
                .expect("valid")
                .target
                .aws
                .password_secret_format,
            None
        );
    }
}
