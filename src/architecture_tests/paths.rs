//! Paths in Rust source, for the architecture check: a small lexer that drops comments, strings and char
//! literals, use-trees expanded (`crate::{a::{b, c}, d}`), and each path resolved from the module it is written in
//! (`super::` chains, `self::`, inline `mod tests { … }` blocks, a child module's name) to an absolute module path.

use std::collections::BTreeSet;

use super::{Reference, SourceFile};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    PathSep,
    Open,
    Close,
    Comma,
    Star,
    Other,
}

/// Rust tokens that matter for paths, with their line; comments, strings and char literals are dropped.
fn tokens(text: &str) -> Vec<(Tok, usize)> {
    let c: Vec<char> = text.chars().collect();
    let at = |i: usize| c.get(i).copied().unwrap_or('\0');
    let ident_char = |ch: char| ch.is_alphanumeric() || ch == '_';
    let (mut out, mut i, mut line) = (Vec::new(), 0, 1);
    // Skips a quoted literal starting at `start` (the opening quote); returns the index after it.
    let skip_quoted = |start: usize, quote: char, line: &mut usize| {
        let mut j = start + 1;
        while j < c.len() && c[j] != quote {
            if c[j] == '\\' {
                j += 1;
            }
            if at(j) == '\n' {
                *line += 1;
            }
            j += 1;
        }
        j + 1
    };
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch == '/' && at(i + 1) == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    line += usize::from(c[i] == '\n');
                    i += 1;
                }
            }
        } else if ch == '"' || (ch == 'b' && at(i + 1) == '"') {
            i = skip_quoted(i + usize::from(ch == 'b'), '"', &mut line);
        } else if ch == '\'' {
            if at(i + 1) == '\\' || at(i + 2) == '\'' {
                i = skip_quoted(i, '\'', &mut line); // a char literal
            } else {
                i += 1; // a lifetime: its name follows as an identifier
            }
        } else if (ch == 'r' || ch == 'b')
            && (at(i + 1) == '"' || at(i + 1) == '#' || at(i + 1) == 'r')
        {
            // Raw strings: r"…", r#"…"#, br#"…"#; r#ident is a raw identifier; anything else an identifier.
            let mut j = i + 1 + usize::from(ch == 'b' && at(i + 1) == 'r');
            let hashes = (j..c.len()).take_while(|&k| c[k] == '#').count();
            j += hashes;
            if at(j) == '"' {
                let close: Vec<char> = std::iter::once('"')
                    .chain(std::iter::repeat_n('#', hashes))
                    .collect();
                j += 1;
                while j < c.len() && !c[j..].starts_with(&close) {
                    line += usize::from(c[j] == '\n');
                    j += 1;
                }
                i = j + close.len();
            } else {
                let start = if hashes > 0 { j } else { i };
                let end = (start..c.len())
                    .find(|&k| !ident_char(c[k]))
                    .unwrap_or(c.len());
                out.push((Tok::Ident(c[start..end].iter().collect()), line));
                i = end.max(i + 1);
            }
        } else if ch == 'b' && at(i + 1) == '\'' {
            i = skip_quoted(i + 1, '\'', &mut line);
        } else if ch.is_alphabetic() || ch == '_' {
            let end = (i..c.len()).find(|&k| !ident_char(c[k])).unwrap_or(c.len());
            out.push((Tok::Ident(c[i..end].iter().collect()), line));
            i = end;
        } else {
            let tok = match ch {
                ':' if at(i + 1) == ':' => {
                    i += 1;
                    Tok::PathSep
                }
                '{' => Tok::Open,
                '}' => Tok::Close,
                ',' => Tok::Comma,
                '*' => Tok::Star,
                _ if ch.is_whitespace() => {
                    i += 1;
                    continue;
                }
                _ => Tok::Other,
            };
            out.push((tok, line));
            i += 1;
        }
    }
    out
}

fn ident(toks: &[(Tok, usize)], i: usize) -> Option<&str> {
    match toks.get(i) {
        Some((Tok::Ident(s), _)) => Some(s),
        _ => None,
    }
}

/// Reads a path (with use-groups) starting at `i`; returns its expansions and the index after it.
fn read_path(toks: &[(Tok, usize)], mut i: usize) -> (Vec<Vec<String>>, usize) {
    let mut prefix = Vec::new();
    loop {
        match toks.get(i) {
            Some((Tok::Ident(s), _)) => {
                prefix.push(s.clone());
                i += 1;
            }
            Some((Tok::Open, _)) => return read_group(toks, i, &prefix),
            Some((Tok::Star, _)) => {
                prefix.push("*".into());
                return (vec![prefix], i + 1);
            }
            _ => return (vec![prefix], i),
        }
        if toks.get(i).map(|t| &t.0) != Some(&Tok::PathSep) {
            if ident(toks, i) == Some("as") && toks.get(i + 2).map(|t| &t.0) != Some(&Tok::PathSep)
            {
                i += 2; // `as alias`
            }
            return (vec![prefix], i);
        }
        i += 1;
    }
}

/// Reads `{ tree, tree, … }` at `i` (the `{`), each tree prefixed with `prefix`.
fn read_group(toks: &[(Tok, usize)], mut i: usize, prefix: &[String]) -> (Vec<Vec<String>>, usize) {
    let mut paths = Vec::new();
    i += 1;
    while let Some((tok, _)) = toks.get(i) {
        match tok {
            Tok::Close => return (paths, i + 1),
            Tok::Comma => i += 1,
            _ => {
                let (inner, next) = read_path(toks, i);
                paths.extend(inner.into_iter().map(|p| [prefix, &p[..]].concat()));
                i = next.max(i + 1);
            }
        }
    }
    (paths, i)
}

/// The module a file is, from its path: `src/x/mod.rs` → `x`, `src/x/y.rs` → `x::y`, and by this crate's
/// convention `src/x/y_tests.rs` (declared `#[path = "y_tests.rs"] mod tests;` in `y.rs`) → `x::y::tests`.
pub(super) fn module_of(path: &str, all: &BTreeSet<String>) -> Vec<String> {
    let rel = path.trim_start_matches("src/").trim_end_matches(".rs");
    let mut parts: Vec<String> = rel.split('/').map(str::to_string).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    } else if let Some(base) = parts.last().and_then(|p| p.strip_suffix("_tests")) {
        let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
        if all.contains(&format!("{dir}/{base}.rs")) {
            let base = base.to_string();
            parts.pop();
            parts.extend([base, "tests".to_string()]);
        }
    }
    parts
}

/// Every path in `file` that names a module of this crate, resolved to an absolute module path.
pub(super) fn references(
    file: &SourceFile,
    modules: &BTreeSet<Vec<String>>,
    all: &BTreeSet<String>,
) -> Vec<Reference> {
    let toks = tokens(&file.text);
    let own = module_of(&file.path, all);
    let (mut refs, mut inline, mut depth, mut i) =
        (Vec::new(), Vec::<(String, usize)>::new(), 0, 0);
    while i < toks.len() {
        match &toks[i].0 {
            Tok::Open => depth += 1,
            Tok::Close => {
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
            }
            Tok::Ident(kw) if kw == "mod" => {
                if let (Some(name), Some((Tok::Open, _))) = (ident(&toks, i + 1), toks.get(i + 2)) {
                    inline.push((name.to_string(), depth + 1));
                    depth += 1;
                    i += 3;
                    continue;
                }
                i += 2; // `mod name;` declares, it does not import
                continue;
            }
            Tok::Ident(_) if i == 0 || toks[i - 1].0 != Tok::PathSep => {
                let (paths, next) = read_path(&toks, i);
                let line = toks[i].1;
                let here: Vec<String> = own
                    .iter()
                    .cloned()
                    .chain(inline.iter().map(|(n, _)| n.clone()))
                    .collect();
                for written in paths.into_iter().filter(|p| p.len() > 1) {
                    if let Some(path) = resolve(&written, &here, modules) {
                        refs.push(Reference {
                            file: file.path.clone(),
                            line,
                            written: written.join("::").trim_end_matches("::self").into(),
                            path,
                        });
                    }
                }
                i = next.max(i + 1);
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    refs
}

/// The absolute path `written` names from module `here`, if it names one of this crate's modules.
fn resolve(
    written: &[String],
    here: &[String],
    modules: &BTreeSet<Vec<String>>,
) -> Option<Vec<String>> {
    let supers = written.iter().take_while(|s| *s == "super").count();
    let mut path: Vec<String> = match written[0].as_str() {
        "crate" => written[1..].to_vec(),
        "super" => [&here[..here.len().checked_sub(supers)?], &written[supers..]].concat(),
        "self" => [here, &written[1..]].concat(),
        _ if modules.contains(&[here, &written[..1]].concat()) => [here, written].concat(),
        _ => return None,
    };
    path.retain(|s| s != "self" && s != "*");
    (!path.is_empty() && modules.contains(&path[..1])).then_some(path)
}
