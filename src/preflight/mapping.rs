//! What an index's mapping and settings (as the snapshot recorded them) say about migrating it faithfully:
//! `_source` disabled or synthetic means the snapshot does not hold the documents' source; several mapping types
//! (Elasticsearch 5.x) need `source.type_mappings` to say where each type goes (the routes are part of the
//! report, so `plan` shows them).
//!
//! Index metadata records mappings as a list of `{type: body}` objects (the fixtures of Elasticsearch 5.6–7.10
//! and OpenSearch 2.x), or as one object; a body may also come without a type. Settings are flat
//! (`index.mapping.source.mode`) or nested.

use serde_json::Value;

use super::{Problem, ProblemKind, TypeRoute, Warning};
use crate::config::{DEFAULT_TYPE, Route, RouteRule, TypeMappings};
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
pub(crate) fn judge(
    index: &IndexInfo,
    type_mappings: &TypeMappings,
) -> (Vec<Problem>, Vec<Warning>, Vec<TypeRoute>) {
    let name = &index.name;
    let subject = || Some(format!("index {name}"));
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let Some(types) = mapping_types(&index.mappings) else {
        warnings.push(Warning::new(
            subject(),
            "the snapshot's mapping of this index has a shape this tool does not read, so `_source` and mapping types were not checked",
        ));
        return (problems, warnings, Vec::new());
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
    let (routes, problem, route_warnings) = type_routes(index, &types, type_mappings);
    problems.extend(problem);
    warnings.extend(route_warnings);
    if !filtered.is_empty() {
        warnings.push(Warning::new(
            subject(),
            format!(
                "its mapping filters `_source` ({}): fields left out of the stored source are not in the snapshot and will not reach the target",
                filtered.join("; ")
            ),
        ));
    }
    (problems, warnings, routes)
}

/// The types documents of `index` carry: Elasticsearch 5.x stores each document's type (`_uid` is `type#id`);
/// from 6.0 on documents have none and read as `_doc`, whatever the mapping calls its one type.
fn document_types(index: &IndexInfo, types: &[(String, &Value)]) -> Vec<String> {
    let created = setting(&index.settings, "index.version.created").and_then(|v| match v {
        Value::String(s) => s.parse::<u64>().ok(),
        other => other.as_u64(),
    });
    if types.is_empty() || (types.len() == 1 && created.is_some_and(|v| v >= 6_000_000)) {
        return vec![DEFAULT_TYPE.to_string()];
    }
    types.iter().map(|(name, _)| name.clone()).collect()
}

/// Where each type of `index` goes; a problem when the index has several types and no `type_mappings` entry
/// covers it (no static entry names it, no regex rule matches any of its types); warnings for types left out
/// and for types merged into one target index.
fn type_routes(
    index: &IndexInfo,
    types: &[(String, &Value)],
    type_mappings: &TypeMappings,
) -> (Vec<TypeRoute>, Option<Problem>, Vec<Warning>) {
    let name = &index.name;
    let subject = || Some(format!("index {name}"));
    let decided: Vec<(String, Route, RouteRule)> = document_types(index, types)
        .into_iter()
        .map(|t| {
            let (route, rule) = type_mappings.route(name, Some(&t));
            (t, route, rule)
        })
        .collect();
    let several = decided.len() > 1;
    if !several
        && decided
            .iter()
            .all(|(_, _, rule)| *rule == RouteRule::Default)
    {
        return (Vec::new(), None, Vec::new());
    }
    let mut warnings = Vec::new();
    let unmapped: Vec<&str> = decided
        .iter()
        .filter(|(_, _, rule)| *rule == RouteRule::Default)
        .map(|(t, _, _)| t.as_str())
        .collect();
    // Covered: a static entry names the index, or a regex rule matches one of its types (then a type no rule
    // matches is left out, as upstream drops it).
    let covered = unmapped.len() < decided.len();
    let problem = (several && !covered).then(|| {
        let all: Vec<&str> = decided.iter().map(|(t, _, _)| t.as_str()).collect();
        let example: Vec<String> = all.iter().map(|t| format!("{t}: {name}-{t}")).collect();
        Problem::new(
            ProblemKind::MultipleMappingTypes,
            subject(),
            format!(
                "it has {} mapping types ({}), as Elasticsearch 5.x allowed, and a target index holds one; no source.type_mappings entry says where they go (the same id may exist under two types)",
                all.len(),
                all.join(", ")
            ),
        )
        .with_ways_out([
            format!("map its types in migration.yaml: source.type_mappings.static: {{{name}: {{{}}}}} (a type left out is not migrated)", example.join(", ")),
            "or add a source.type_mappings.regex rule that matches it, e.g. {index: \"(.*)\", type: \"(.*)\", target: \"$1-$2\"}".into(),
            exclude_it(name),
        ])
    });
    let skipped: Vec<&str> = decided
        .iter()
        .filter(|(_, route, _)| *route == Route::Skipped)
        .map(|(t, _, _)| t.as_str())
        .collect();
    if !skipped.is_empty() {
        warnings.push(Warning::new(
            subject(),
            format!(
                "documents of type(s) {} are not migrated: source.type_mappings leaves them out (the live-document count includes them; workers count them as skipped by configuration)",
                skipped.join(", ")
            ),
        ));
    }
    let mut by_target: Vec<(&str, Vec<&str>)> = Vec::new();
    for (t, route, _) in &decided {
        if let Route::To(target) = route {
            match by_target.iter_mut().find(|(x, _)| x == target) {
                Some((_, ts)) => ts.push(t),
                None => by_target.push((target, vec![t])),
            }
        }
    }
    for (target, merged) in by_target.into_iter().filter(|(_, ts)| ts.len() > 1) {
        warnings.push(Warning::new(
            subject(),
            format!(
                "types {} all go to target index {target}: an id that exists under two of them is written once (the last one read wins)",
                merged.join(", ")
            ),
        ));
    }
    let routes = decided
        .into_iter()
        .map(|(doc_type, route, _)| TypeRoute {
            doc_type,
            target: match route {
                Route::To(target) => Some(target),
                Route::Skipped => None,
            },
        })
        .collect();
    (routes, problem, warnings)
}
