//! `source.type_mappings`: where each mapping type of an Elasticsearch 5.x index goes, with Migration
//! Assistant's type-mapping semantics (`typeMappingsSanitizer.js`, `convertSourceIndexToTarget`):
//!
//! - a `static` entry names an index: its types go where the entry says, and a type it leaves out is not
//!   migrated (`orders: {}` migrates none of the index); the regex rules are not consulted for that index;
//! - otherwise the `regex` rules are tried in order on `index/type`, each anchored (`^index/type$`), and the
//!   first that matches gives the target: `$1`, `$2`, … are its captures, the index pattern's first and the
//!   type pattern's after them; when no rule matches, the type is not migrated;
//! - a document without a type (Elasticsearch 6 and later store none) has the type `_doc`;
//! - without a `regex` key, upstream's default rule applies: every type of an index not named in `static`
//!   goes to the index's own name (`(.+)/(.+)` → `$1`) — which is also what happens with no `type_mappings`.
//!
//! Pure: the regexes are compiled once, when the configuration is read (which reports a bad one at its line).

use regex::Regex;
use serde::Serialize;

/// The type of a document that has none (single-type indices of Elasticsearch 6 and later).
pub const DEFAULT_TYPE: &str = "_doc";

/// `source.type_mappings`, as configured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TypeMappings {
    /// `static`: index → (type → target index), in file order.
    pub static_routes: Vec<(String, Vec<(String, String)>)>,
    /// `regex`: tried in order for an index `static` does not name; `None` when the key is absent (upstream's
    /// default rule: every type to the index's own name).
    pub regex: Option<Vec<RegexRoute>>,
}

/// One `regex` rule.
#[derive(Debug, Clone, Serialize)]
pub struct RegexRoute {
    pub index: String,
    #[serde(rename = "type")]
    pub doc_type: String,
    pub target: String,
    #[serde(skip)]
    compiled: Regex,
}

impl PartialEq for RegexRoute {
    fn eq(&self, other: &Self) -> bool {
        (&self.index, &self.doc_type, &self.target)
            == (&other.index, &other.doc_type, &other.target)
    }
}

/// Why a regex rule cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegexRouteError {
    #[error("`{pattern}` is not a valid regular expression: {message}")]
    Invalid { pattern: String, message: String },
    #[error(
        "`{target}` refers to capture ${group}, but the index and type patterns capture only {captures} group(s)"
    )]
    NoSuchGroup {
        target: String,
        group: usize,
        captures: usize,
    },
}

impl RegexRoute {
    /// Compiles `^(?:index)/(?:type)$` and checks that every `$n` of `target` names a capture.
    pub fn new(index: &str, doc_type: &str, target: &str) -> Result<RegexRoute, RegexRouteError> {
        for pattern in [index, doc_type] {
            Regex::new(pattern).map_err(|e| RegexRouteError::Invalid {
                pattern: pattern.to_string(),
                message: first_line(&e.to_string()),
            })?;
        }
        let conjoined = format!("^(?:{index})/(?:{doc_type})$");
        let compiled = Regex::new(&conjoined).map_err(|e| RegexRouteError::Invalid {
            pattern: conjoined.clone(),
            message: first_line(&e.to_string()),
        })?;
        let captures = compiled.captures_len() - 1;
        for piece in parse_target(target, captures) {
            if let Piece::Group(group) = piece
                && group > captures
            {
                return Err(RegexRouteError::NoSuchGroup {
                    target: target.to_string(),
                    group,
                    captures,
                });
            }
        }
        Ok(RegexRoute {
            index: index.to_string(),
            doc_type: doc_type.to_string(),
            target: target.to_string(),
            compiled,
        })
    }

    /// The target for `index/doc_type`, when this rule matches.
    fn apply(&self, index: &str, doc_type: &str) -> Option<String> {
        let subject = format!("{index}/{doc_type}");
        let caps = self.compiled.captures(&subject)?;
        let mut out = String::new();
        for piece in parse_target(&self.target, caps.len() - 1) {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Group(g) => out.push_str(caps.get(g).map_or("", |m| m.as_str())),
            }
        }
        Some(out)
    }
}

fn first_line(text: &str) -> String {
    text.lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or(text)
        .trim()
        .to_string()
}

enum Piece<'a> {
    Text(&'a str),
    Group(usize),
}

/// A target pattern as JavaScript's `String.replace` reads it: `$$` is `$`, `$n` / `$nn` a capture (two digits
/// when that group exists), any other `$` itself.
fn parse_target(target: &str, captures: usize) -> Vec<Piece<'_>> {
    let bytes = target.as_bytes();
    let (mut pieces, mut start, mut i) = (Vec::new(), 0, 0);
    while i < bytes.len() {
        if bytes[i] != b'$' || i + 1 >= bytes.len() {
            i += 1;
            continue;
        }
        let digit = |j: usize| {
            bytes
                .get(j)
                .filter(|b| b.is_ascii_digit())
                .map(|b| usize::from(b - b'0'))
        };
        let (group, len) = match (bytes[i + 1], digit(i + 1), digit(i + 2)) {
            (b'$', _, _) => {
                pieces.push(Piece::Text(&target[start..i + 1]));
                i += 2;
                start = i;
                continue;
            }
            (_, Some(a), Some(b)) if a * 10 + b <= captures && a * 10 + b > 0 => (a * 10 + b, 3),
            (_, Some(a), _) if a > 0 => (a, 2),
            _ => {
                i += 1;
                continue;
            }
        };
        pieces.push(Piece::Text(&target[start..i]));
        pieces.push(Piece::Group(group));
        i += len;
        start = i;
    }
    pieces.push(Piece::Text(&target[start..]));
    pieces
}

/// Where the documents of one type of one index go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "route", content = "index")]
pub enum Route {
    /// Into this target index.
    To(String),
    /// Not migrated: the configuration leaves the type out (never silently: counted and said).
    Skipped,
}

/// Which part of the configuration decided a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteRule {
    /// A `static` entry names the index.
    Static,
    /// The `regex` rule at this position (0-based).
    Regex(usize),
    /// No `type_mappings` entry: upstream's default (the index's own name), or skipped when `regex` is given
    /// and no rule matched.
    Default,
}

impl Serialize for TypeMappings {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl TypeMappings {
    /// As written in migration.yaml, in JSON: `{"static": {index: {type: target}}, "regex": [{index, type,
    /// target}]}` (keys absent when not configured). The worker's `BACKFILL_TYPE_MAPPINGS` carries this.
    pub fn to_json(&self) -> serde_json::Value {
        let mut out = serde_json::Map::new();
        if !self.static_routes.is_empty() {
            let statics = self
                .static_routes
                .iter()
                .map(|(index, types)| {
                    let types = types
                        .iter()
                        .map(|(t, target)| (t.clone(), serde_json::Value::String(target.clone())))
                        .collect();
                    (index.clone(), serde_json::Value::Object(types))
                })
                .collect();
            out.insert("static".into(), serde_json::Value::Object(statics));
        }
        if let Some(rules) = &self.regex {
            let rules = rules
                .iter()
                .map(|r| serde_json::json!({"index": r.index, "type": r.doc_type, "target": r.target}))
                .collect();
            out.insert("regex".into(), serde_json::Value::Array(rules));
        }
        serde_json::Value::Object(out)
    }

    /// Reads [`TypeMappings::to_json`]'s form back, compiling the regexes.
    pub fn from_json(value: &serde_json::Value) -> Result<TypeMappings, String> {
        let shape = || {
            "expected {\"static\": {index: {type: target}}, \"regex\": [{index, type, target}]}"
                .to_string()
        };
        let object = value.as_object().ok_or_else(shape)?;
        let mut out = TypeMappings::default();
        if let Some(statics) = object.get("static") {
            for (index, types) in statics.as_object().ok_or_else(shape)? {
                let types = types
                    .as_object()
                    .ok_or_else(shape)?
                    .iter()
                    .map(|(t, target)| Some((t.clone(), target.as_str()?.to_string())))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(shape)?;
                out.static_routes.push((index.clone(), types));
            }
        }
        if let Some(rules) = object.get("regex") {
            let mut routes = Vec::new();
            for rule in rules.as_array().ok_or_else(shape)? {
                let field = |key: &str| rule[key].as_str().ok_or_else(shape);
                routes.push(
                    RegexRoute::new(field("index")?, field("type")?, field("target")?)
                        .map_err(|e| e.to_string())?,
                );
            }
            out.regex = Some(routes);
        }
        Ok(out)
    }

    /// No `type_mappings` at all (every document goes to its own index name).
    pub fn is_empty(&self) -> bool {
        self.static_routes.is_empty() && self.regex.is_none()
    }

    /// Where documents of `doc_type` (`None`: no type, read as `_doc`) of `index` go, and what decided it.
    pub fn route(&self, index: &str, doc_type: Option<&str>) -> (Route, RouteRule) {
        let doc_type = doc_type.unwrap_or(DEFAULT_TYPE);
        if let Some((_, types)) = self.static_routes.iter().find(|(i, _)| i == index) {
            let route = match types.iter().find(|(t, _)| t == doc_type) {
                Some((_, target)) => Route::To(target.clone()),
                None => Route::Skipped,
            };
            return (route, RouteRule::Static);
        }
        match &self.regex {
            None => (Route::To(index.to_string()), RouteRule::Default),
            Some(rules) => rules
                .iter()
                .enumerate()
                .find_map(|(n, rule)| {
                    rule.apply(index, doc_type)
                        .map(|target| (Route::To(target), RouteRule::Regex(n)))
                })
                .unwrap_or((Route::Skipped, RouteRule::Default)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mappings() -> TypeMappings {
        TypeMappings {
            static_routes: vec![
                (
                    "orders".into(),
                    vec![
                        ("order".into(), "orders".into()),
                        ("refund".into(), "orders-refunds".into()),
                    ],
                ),
                ("dropped".into(), vec![]),
            ],
            regex: Some(vec![
                RegexRoute::new("(logs-.*)", "(.*)", "$1-$2").unwrap(),
                RegexRoute::new("time-(.*)", "(cpu)", "time-$1_$2").unwrap(),
            ]),
        }
    }

    #[test]
    fn static_entries_route_their_types_and_leave_out_the_rest() {
        let m = mappings();
        assert_eq!(
            m.route("orders", Some("order")).0,
            Route::To("orders".into())
        );
        assert_eq!(
            m.route("orders", Some("refund")),
            (Route::To("orders-refunds".into()), RouteRule::Static)
        );
        // A static entry hides the regex rules, even when one would match.
        assert_eq!(
            m.route("orders", Some("other")),
            (Route::Skipped, RouteRule::Static)
        );
        assert_eq!(m.route("dropped", None).0, Route::Skipped);
    }

    #[test]
    fn regex_rules_apply_in_order_with_captures_numbered_across_index_and_type() {
        let m = mappings();
        assert_eq!(
            m.route("logs-a", Some("access")),
            (Route::To("logs-a-access".into()), RouteRule::Regex(0))
        );
        // `$1_` is capture 1 then `_` (JavaScript's reading, not the regex crate's named group `1_`).
        assert_eq!(
            m.route("time-nov", Some("cpu")).0,
            Route::To("time-nov_cpu".into())
        );
        // Anchored: `time-nov/cpus` is no match; nothing else matches, so the type is left out.
        assert_eq!(
            m.route("time-nov", Some("cpus")),
            (Route::Skipped, RouteRule::Default)
        );
        // A document without a type is `_doc`.
        assert_eq!(m.route("logs-b", None).0, Route::To("logs-b-_doc".into()));
    }

    #[test]
    fn without_a_regex_key_every_other_type_keeps_its_index_name() {
        let m = TypeMappings {
            regex: None,
            ..mappings()
        };
        assert_eq!(
            m.route("users", Some("user")),
            (Route::To("users".into()), RouteRule::Default)
        );
        assert!(TypeMappings::default().is_empty());
    }

    #[test]
    fn the_json_form_reads_back_the_same() {
        let m = mappings();
        assert_eq!(TypeMappings::from_json(&m.to_json()), Ok(m));
        assert_eq!(
            TypeMappings::from_json(&TypeMappings::default().to_json()),
            Ok(TypeMappings::default())
        );
        assert!(
            TypeMappings::from_json(
                &serde_json::json!({"regex": [{"index": "(", "type": "a", "target": "b"}]})
            )
            .is_err()
        );
    }

    #[test]
    fn bad_patterns_and_missing_groups_are_refused() {
        assert!(matches!(
            RegexRoute::new("(logs", ".*", "x"),
            Err(RegexRouteError::Invalid { .. })
        ));
        let err = RegexRoute::new("(logs-.*)", ".*", "$1-$2").unwrap_err();
        assert_eq!(
            err,
            RegexRouteError::NoSuchGroup {
                target: "$1-$2".into(),
                group: 2,
                captures: 1
            }
        );
        // `$$` is a literal dollar, `$0` and a trailing `$` are text.
        let r = RegexRoute::new("(a)", "b", "$$x-$1-$0$").unwrap();
        assert_eq!(r.apply("a", "b").as_deref(), Some("$x-a-$0$"));
    }
}
