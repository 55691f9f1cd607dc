//! What a target is, from its `GET /` answer: product and version number, and what that means for bulk
//! actions (`_type`). Pure; shared by the preflight (which shows the target) and the worker (which decides
//! `_type` at start), so there is one reading of `GET /`.

use serde_json::Value;

use crate::config::EmitType;

/// The product behind an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Product {
    Elasticsearch,
    OpenSearch,
}

/// A target as `GET /` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerVersion {
    pub product: Product,
    /// `version.number`, e.g. `6.8.23`.
    pub number: String,
}

impl ServerVersion {
    /// Reads a `GET /` body: `version.number`, and `version.distribution` (`opensearch`; absent for
    /// Elasticsearch).
    pub fn from_root(root: &Value) -> Result<ServerVersion, String> {
        let Some(number) = root["version"]["number"].as_str() else {
            return Err(
                "GET / answered without `version.number`: this is not Elasticsearch or OpenSearch"
                    .into(),
            );
        };
        let product = match root["version"]["distribution"].as_str() {
            Some("opensearch") => Product::OpenSearch,
            None | Some("elasticsearch") => Product::Elasticsearch,
            Some(other) => return Err(format!("GET / names an unknown distribution `{other}`")),
        };
        Ok(ServerVersion {
            product,
            number: number.to_string(),
        })
    }

    /// The major version, when the number starts with one.
    pub fn major(&self) -> Option<u32> {
        self.number.split('.').next()?.parse().ok()
    }

    /// Elasticsearch before 7 requires `_type` in every bulk action; 7+ deprecates it, 8 and OpenSearch refuse it.
    pub fn requires_type(&self) -> bool {
        self.product == Product::Elasticsearch && self.major().is_some_and(|m| m < 7)
    }
}

/// Whether bulk actions carry `_type`: `target.emit_type`, and for `auto` the detected target (`None`: no
/// version known, e.g. OpenSearch Serverless, which takes no `_type`).
pub fn emits_type(setting: EmitType, target: Option<&ServerVersion>) -> bool {
    match setting {
        EmitType::Always => true,
        EmitType::Never => false,
        EmitType::Auto => target.is_some_and(ServerVersion::requires_type),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn version(root: Value) -> ServerVersion {
        ServerVersion::from_root(&root).unwrap()
    }

    #[test]
    fn only_elasticsearch_before_7_takes_a_type_unless_configured() {
        let es6 = version(json!({"version": {"number": "6.8.23"}}));
        let es7 =
            version(json!({"version": {"number": "7.10.2", "distribution": "elasticsearch"}}));
        let os1 = version(json!({"version": {"number": "1.3.0", "distribution": "opensearch"}}));
        assert_eq!(
            (es6.product, es6.major()),
            (Product::Elasticsearch, Some(6))
        );
        assert!(emits_type(EmitType::Auto, Some(&es6)));
        assert!(!emits_type(EmitType::Auto, Some(&es7)));
        assert!(
            !emits_type(EmitType::Auto, Some(&os1)),
            "OpenSearch 1.x is not Elasticsearch 1.x"
        );
        assert!(!emits_type(EmitType::Auto, None));
        assert!(!emits_type(EmitType::Never, Some(&es6)));
        assert!(emits_type(EmitType::Always, Some(&os1)));
    }

    #[test]
    fn answers_that_are_no_cluster_root_are_named() {
        assert!(
            ServerVersion::from_root(&json!({"tagline": "x"}))
                .unwrap_err()
                .contains("version.number")
        );
        assert!(
            ServerVersion::from_root(&json!({"version": {"number": "1", "distribution": "solr"}}))
                .unwrap_err()
                .contains("solr")
        );
    }
}
