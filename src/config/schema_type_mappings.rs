//! Reading `source.type_mappings` (see `type_mappings.rs` for what it means): `static` is a mapping of index →
//! (type → target index), `regex` a list of `{index, type, target}`. Patterns and targets are taken as written
//! (no `${VAR}` expansion: `$1` and `$$` belong to the regex replacement), and every regex is compiled here, so
//! a bad one is reported at its line and column with its key path.

use super::reader::{Walk, join};
use super::tree::{Node, Value};
use super::type_mappings::{RegexRoute, TypeMappings};

const KEYS: &[&str] = &["static", "regex"];
const REGEX_ROUTE_KEYS: &[&str] = &["index", "type", "target"];

/// `source.type_mappings` at `path`; `None` when it has errors (reported on `walk`).
pub(crate) fn read_type_mappings(walk: &mut Walk, node: &Node, path: &str) -> Option<TypeMappings> {
    let map = walk.map(node, path, KEYS)?;
    let mut ok = true;
    let mut out = TypeMappings::default();
    if let Some(statics) = map.node("static") {
        let static_path = map.key_path("static");
        match &statics.value {
            Value::Map(indices) => {
                for (index, types) in indices {
                    let index_path = join(&static_path, &index.name);
                    match &types.value {
                        Value::Map(entries) => {
                            let mut routes = Vec::with_capacity(entries.len());
                            for (doc_type, target) in entries {
                                match text(walk, target, &join(&index_path, &doc_type.name)) {
                                    Some(t) => routes.push((doc_type.name.clone(), t)),
                                    None => ok = false,
                                }
                            }
                            out.static_routes.push((index.name.clone(), routes));
                        }
                        other => {
                            ok = false;
                            walk.error_hint(
                                types.pos,
                                &index_path,
                                format!("expected a mapping of type to target index, found {}", other.kind()),
                                "write `{type: target-index, …}`; `{}` migrates none of the index's types",
                            );
                        }
                    }
                }
            }
            other => {
                ok = false;
                walk.error_hint(
                    statics.pos,
                    &static_path,
                    format!("expected a mapping of index names, found {}", other.kind()),
                    "write `static: {index: {type: target-index}}`",
                );
            }
        }
    }
    if let Some(rules) = map.node("regex") {
        let regex_path = map.key_path("regex");
        let Value::Seq(items) = &rules.value else {
            walk.error_hint(
                rules.pos,
                &regex_path,
                format!("expected a list of rules, found {}", rules.value.kind()),
                "write `regex: [{index: \"(logs-.*)\", type: \"(.*)\", target: \"$1-$2\"}]`",
            );
            return None;
        };
        let mut routes = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let item_path = format!("{regex_path}[{i}]");
            let Some(rule) = walk.map(item, &item_path, REGEX_ROUTE_KEYS) else {
                ok = false;
                continue;
            };
            let mut field = |key: &str| match rule.node(key) {
                Some(n) => text(walk, n, &rule.key_path(key)),
                None => {
                    rule.missing(walk, key, "a regular expression (or, for `target`, the target index with `$1`, `$2`, …)");
                    None
                }
            };
            let (index, doc_type, target) = (field("index"), field("type"), field("target"));
            let (Some(index), Some(doc_type), Some(target)) = (index, doc_type, target) else {
                ok = false;
                continue;
            };
            match RegexRoute::new(&index, &doc_type, &target) {
                Ok(route) => routes.push(route),
                Err(e) => {
                    ok = false;
                    walk.error_hint(
                        item.pos,
                        &item_path,
                        e.to_string(),
                        "patterns are regular expressions (Rust `regex` syntax), anchored at both ends; `$n` in `target` is the n-th capture, the index pattern's first",
                    );
                }
            }
        }
        out.regex = Some(routes);
    }
    ok.then_some(out)
}

/// A text value taken as written.
fn text(walk: &mut Walk, node: &Node, path: &str) -> Option<String> {
    match &node.value {
        Value::Str(s) if !s.is_empty() => Some(s.clone()),
        other => {
            walk.error(
                node.pos,
                path,
                format!("expected non-empty text, found {}", other.kind()),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{EmitType, Route, parse_text};

    const HEAD: &str = "version: 1\nname: demo\nplatform: local\ntarget: {endpoint: 'http://localhost:9200', emit_type: always}\nsource:\n  repository: /repo\n  snapshot: s\n";

    fn load(type_mappings: &str) -> Result<crate::config::Migration, crate::config::ConfigErrors> {
        parse_text(&format!("{HEAD}  type_mappings:\n{type_mappings}"))
    }

    #[test]
    fn static_and_regex_entries_are_read_as_written() {
        let m = load(
            "    static:\n      orders: {order: orders, refund: orders-refunds}\n      old: {}\n    regex:\n      - {index: \"(logs-.*)\", type: \"(.*)\", target: \"$1-$2\"}\n",
        )
        .expect("valid");
        let tm = &m.source.type_mappings;
        assert_eq!(
            tm.route("orders", Some("refund")).0,
            Route::To("orders-refunds".into())
        );
        assert_eq!(tm.route("old", Some("x")).0, Route::Skipped);
        assert_eq!(
            tm.route("logs-1", Some("web")).0,
            Route::To("logs-1-web".into())
        );
        assert_eq!(m.target.emit_type, EmitType::Always);
    }

    #[test]
    fn a_bad_regex_is_reported_at_its_rule_with_the_key_path() {
        let errors = load(
            "    regex:\n      - {index: \"(logs-.*\", type: \"(.*)\", target: \"$1\"}\n      - {index: \"(a)\", type: b, target: \"$1-$2\", extra: 1}\n    static:\n      orders: [order]\n",
        )
        .unwrap_err()
        .errors;
        let at = |path: &str| {
            errors
                .iter()
                .find(|e| e.key_path == path)
                .unwrap_or_else(|| panic!("{path}: {errors:?}"))
        };
        let bad = at("source.type_mappings.regex[0]");
        assert_eq!(bad.line, 10);
        assert!(bad.message.contains("(logs-.*"), "{}", bad.message);
        assert!(
            at("source.type_mappings.regex[1].extra")
                .message
                .contains("unknown key")
        );
        assert!(at("source.type_mappings.regex[1]").message.contains("$2"));
        assert_eq!(at("source.type_mappings.static.orders").line, 13);
    }
}
