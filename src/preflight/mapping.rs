//! What an index's mapping and settings (as the snapshot recorded them) say about migrating it faithfully:
//! `_source` disabled or synthetic means the snapshot does not hold the documents' source; several mapping types
//! (Elasticsearch 5.x) need a mapping of types onto target indices that the configuration cannot express yet.
//!
//! Index metadata records mappings as a list of `{type: body}` objects (the fixtures of Elasticsearch 5.6–7.10
//! and OpenSearch 2.x), or as one object; a body may also come without a type. Settings are flat
//! (`index.mapping.source.mode`) or nested.

use serde_json::Value;

use super::{Problem, ProblemKind, Warning};
use crate::snapshot::IndexInfo;

/// Keys that only appear in a mapping body, never as a type name.
const BODY_KEYS: &[&str] = &[
    "properties",
    "_source",
    "dynamic",
    "dynamic_templates",
    "_meta",
    "_routing",
    "runtime",
    "date_detection",
    "numeric_detection",
];

/// The mapping types of an index and their bodies (`_default_` is a template for new types, not a type).
pub(crate) fn mapping_types(mappings: &Value) -> Option<Vec<(String, &Value)>> {
    let mut types = Vec::new();
    match mappings {
        Value::Null => {}
        Value::Array(entries) => {
            for entry in entries {
                types.extend(object_types(entry)?);
            }
        }
        Value::Object(_) => types.extend(object_types(mappings)?),
        _ => return None,
    }
    types.retain(|(name, _)| name != "_default_");
    Some(types)
}

fn object_types(value: &Value) -> Option<Vec<(String, &Value)>> {
    let map = value.as_object()?;
    if map.keys().any(|k| BODY_KEYS.contains(&k.as_str())) {
        return Some(vec![("_doc".to_string(), value)]);
    }
    Some(map.iter().map(|(k, v)| (k.clone(), v)).collect())
}

/// A setting by its full key, flat (`"index.mapping.source.mode"`) or nested (`{"index": {"mapping": ...}}`).
pub(crate) fn setting<'a>(settings: &'a Value, key: &str) -> Option<&'a Value> {
    if let Some(v) = settings.get(key) {
        return Some(v);
    }
    let mut at = settings;
    for part in key.split('.') {
        at = at.get(part)?;
    }
    Some(at)
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.to_ascii_lowercase()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn exclude_it(index: &str) -> String {
    format!("exclude it: add \"{index}\" to source.indices.exclude in migration.yaml")
}

/// Problems and warnings for one index's mapping and settings.
pub(crate) fn judge(index: &IndexInfo) -> (Vec<Problem>, Vec<Warning>) {
    let name = &index.name;
    let subject = || Some(format!("index {name}"));
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let Some(types) = mapping_types(&index.mappings) else {
        warnings.push(Warning::new(
            subject(),
            "the snapshot's mapping of this index has a shape this tool does not read, so `_source` and mapping types were not checked",
        ));
        return (problems, warnings);
    };

    let index_mode = text(setting(&index.settings, "index.mode"));
    let source_mode = text(setting(&index.settings, "index.mapping.source.mode"));
    let mut synthetic = match source_mode.as_deref() {
        Some("synthetic") => {
            Some("index setting `index.mapping.source.mode: synthetic`".to_string())
        }
        Some(_) => None,
        // Time series and logsdb indices default to synthetic source.
        None => match index_mode.as_deref() {
            Some(mode @ ("time_series" | "logsdb")) => Some(format!(
                "`index.mode: {mode}`, whose default is synthetic `_source`"
            )),
            _ => None,
        },
    };
    let mut disabled = false;
    let mut filtered = Vec::new();
    for (_, body) in &types {
        let source = &body["_source"];
        if text(source.get("enabled")).as_deref() == Some("false") {
            disabled = true;
        }
        match text(source.get("mode")).as_deref() {
            Some("synthetic") => {
                synthetic = Some("`_source: {mode: synthetic}` in its mapping".to_string())
            }
            Some("stored") if source_mode.is_none() => synthetic = None,
            _ => {}
        }
        for key in ["includes", "excludes"] {
            if source[key].as_array().is_some_and(|a| !a.is_empty()) {
                filtered.push(format!("{key}: {}", source[key]));
            }
        }
    }
    if disabled {
        problems.push(
            Problem::new(
                ProblemKind::SourceDisabled,
                subject(),
                "`_source` is disabled in its mapping (`_source: {enabled: false}`): the snapshot does not hold the documents' source, so they cannot be rebuilt",
            )
            .with_ways_out([
                exclude_it(name),
                "or migrate it another way (reindex from the live source cluster with the fields it stores)".into(),
            ]),
        );
    }
    if let Some(how) = synthetic {
        problems.push(
            Problem::new(
                ProblemKind::SyntheticSource,
                subject(),
                format!("it uses synthetic `_source` ({how}): the snapshot stores no `_source` to migrate"),
            )
            .with_ways_out([
                exclude_it(name),
                "or migrate it another way (reindex from the live source cluster, which rebuilds `_source`)".into(),
            ]),
        );
    }
    if types.len() > 1 {
        let names: Vec<&str> = types.iter().map(|(n, _)| n.as_str()).collect();
        problems.push(
            Problem::new(
                ProblemKind::MultipleMappingTypes,
                subject(),
                format!(
                    "it has {} mapping types ({}), as Elasticsearch 5.x allowed; a target index holds one, and mapping types onto target indices (`source.type_mappings`) is not supported yet",
                    names.len(),
                    names.join(", ")
                ),
            )
            .with_ways_out([
                exclude_it(name),
                "or map it once `source.type_mappings` exists (each type to its own target index)".into(),
            ]),
        );
    }
    if !filtered.is_empty() {
        warnings.push(Warning::new(
            subject(),
            format!(
                "its mapping filters `_source` ({}): fields left out of the stored source are not in the snapshot and will not reach the target",
                filtered.join("; ")
            ),
        ));
    }
    (problems, warnings)
}
