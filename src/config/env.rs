//! Environment access for the configuration: the only place `backfill` reads environment variables, behind a
//! trait so tests inject their own. Also `${VAR}` / `${VAR:-default}` interpolation in string values, which is
//! how one committed `migration.yaml` points at different repositories or targets per machine.

use std::collections::BTreeMap;

/// Reads environment variables.
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// A fixed set of variables (tests, or a captured environment).
#[derive(Debug, Clone, Default)]
pub struct MapEnv(pub BTreeMap<String, String>);

impl MapEnv {
    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.0.insert(name.to_string(), value.to_string());
        self
    }
}

impl Env for MapEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

/// Why a `${...}` reference could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterpolationError {
    /// `${VAR}` with VAR unset and no default.
    Unset(String),
    /// `${` without a closing `}` or with an invalid name.
    Malformed(String),
}

/// Expands `${VAR}` and `${VAR:-default}`; `$$` is a literal `$`. Other `$` characters are kept as they are.
pub fn interpolate(text: &str, env: &dyn Env) -> Result<String, InterpolationError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(stripped) = after.strip_prefix('$') {
            out.push('$');
            rest = stripped;
        } else if let Some(body_start) = after.strip_prefix('{') {
            let Some(end) = body_start.find('}') else {
                return Err(InterpolationError::Malformed(format!(
                    "`${{` without a closing `}}` in {text:?}"
                )));
            };
            let body = &body_start[..end];
            let (name, default) = match body.split_once(":-") {
                Some((name, default)) => (name, Some(default)),
                None => (body, None),
            };
            let valid = !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit());
            if !valid {
                return Err(InterpolationError::Malformed(format!(
                    "`${{{body}}}` is not a valid variable reference"
                )));
            }
            match (env.var(name).filter(|v| !v.is_empty()), default) {
                (Some(value), _) => out.push_str(&value),
                (None, Some(default)) => out.push_str(default),
                (None, None) => return Err(InterpolationError::Unset(name.to_string())),
            }
            rest = &body_start[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_set_variables_and_defaults() {
        let env = MapEnv::default().with("REPO", "/snap");
        assert_eq!(interpolate("${REPO}/x", &env).unwrap(), "/snap/x");
        assert_eq!(
            interpolate("${TARGET:-http://localhost:9200}", &env).unwrap(),
            "http://localhost:9200"
        );
        assert_eq!(
            interpolate("cost $5 and $$HOME", &env).unwrap(),
            "cost $5 and $HOME"
        );
    }

    #[test]
    fn unset_without_default_is_an_error() {
        assert_eq!(
            interpolate("${NOPE}", &MapEnv::default()),
            Err(InterpolationError::Unset("NOPE".into()))
        );
        assert!(matches!(
            interpolate("${OPEN", &MapEnv::default()),
            Err(InterpolationError::Malformed(_))
        ));
        assert!(matches!(
            interpolate("${1X}", &MapEnv::default()),
            Err(InterpolationError::Malformed(_))
        ));
    }
}
