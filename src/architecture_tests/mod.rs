//! Keeps the dependency directions of `ARCHITECTURE.md` true.
//!
//! Reads every `src/**/*.rs`, resolves each path the code names (`crate::…`, `super::` chains, `self::…`, a child
//! module's name, use-groups expanded) to the module it reaches, and checks:
//! - every reference from one top-level module to another is allowed by the "depends on" column of the module
//!   table in `ARCHITECTURE.md` (the one table; `converge::ports` in it allows that submodule only);
//! - no cycle among the top-level modules, and none among the files of `worker/`.
//!
//! Comments (doc links included) and string literals are not code and are skipped. Test code (`#[cfg(test)]`
//! modules, `*_tests.rs` files) is checked like the rest. `lib.rs`, `main.rs` (the binary, which names the crate
//! `backfill::`) and this directory belong to no module row. Failures name the file, the line and the path written.

mod checker;
mod paths;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use paths::{module_of, references};

/// The files whose imports are checked among themselves, one node per file (`mod.rs` as `mod`).
const ONE_DIRECTION_DIRS: &[&str] = &["worker"];

/// One source file: its path relative to the crate root (`src/worker/run.rs`) and its text.
struct SourceFile {
    path: String,
    text: String,
}

/// One path found in code: where it is written, as written, and the absolute module path it reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reference {
    file: String,
    line: usize,
    written: String,
    path: Vec<String>,
}

impl Reference {
    fn at(&self) -> String {
        format!("{}:{}: `{}`", self.file, self.line, self.written)
    }
}

/// What a top-level module may depend on: `None` is "everything", otherwise modules or `module::submodule`s.
type Allowed = BTreeMap<String, Option<BTreeSet<String>>>;

/// The "depends on" column of the module table in `ARCHITECTURE.md`.
fn allowed_from_architecture(markdown: &str) -> Allowed {
    let mut allowed = Allowed::new();
    let section = markdown
        .split("\n## ")
        .find(|s| s.starts_with("Modules"))
        .unwrap_or("");
    for row in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let (Some(name), Some(deps)) = (
            cells.get(1),
            cells.len().checked_sub(2).and_then(|n| cells.get(n)),
        ) else {
            continue;
        };
        let name = name
            .trim_matches('`')
            .trim_end_matches('/')
            .trim_end_matches(".rs");
        let deps = match *deps {
            "everything" => None,
            "—" => Some(BTreeSet::new()),
            list => Some(
                list.split(',')
                    .map(|d| d.trim().trim_matches('`').to_string())
                    .collect(),
            ),
        };
        allowed.insert(name.to_string(), deps);
    }
    allowed
}

/// A cycle in `edges` (each edge with the reference that makes it), written out with its witnesses.
fn find_cycle(edges: &BTreeMap<(String, String), Reference>) -> Option<String> {
    fn visit<'a>(
        node: &'a str,
        graph: &BTreeMap<&'a str, Vec<&'a str>>,
        stack: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<&'a str>> {
        if let Some(at) = stack.iter().position(|n| *n == node) {
            return Some(stack[at..].to_vec());
        }
        if !done.insert(node) {
            return None;
        }
        stack.push(node);
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        None
    }
    let mut graph: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, to) in edges.keys() {
        graph.entry(from).or_default().push(to);
    }
    let mut done = BTreeSet::new();
    for start in graph.keys() {
        if let Some(cycle) = visit(start, &graph, &mut Vec::new(), &mut done) {
            let steps: Vec<String> = (0..cycle.len())
                .map(|k| {
                    let (from, to) = (cycle[k], cycle[(k + 1) % cycle.len()]);
                    let witness = &edges[&(from.to_string(), to.to_string())];
                    format!("{from} -> {to} ({})", witness.at())
                })
                .collect();
            return Some(steps.join("; "));
        }
    }
    None
}

/// The paths of `files`, and every module they make (`x`, `x::y`, … for `src/x/y/z.rs`).
fn module_tree(files: &[&SourceFile]) -> (BTreeSet<String>, BTreeSet<Vec<String>>) {
    let all: BTreeSet<String> = files.iter().map(|f| f.path.clone()).collect();
    let modules = files
        .iter()
        .flat_map(|f| {
            let m = module_of(&f.path, &all);
            (1..=m.len()).map(move |n| m[..n].to_vec())
        })
        .collect();
    (all, modules)
}

/// Every violation of the rules above in `files`, against the table `allowed`.
fn violations(files: &[SourceFile], allowed: &Allowed) -> Vec<String> {
    let skip = |p: &str| {
        ["src/lib.rs", "src/main.rs"].contains(&p) || p.starts_with("src/architecture_tests/")
    };
    let files: Vec<&SourceFile> = files.iter().filter(|f| !skip(&f.path)).collect();
    let (all, modules) = module_tree(&files);
    let mut problems = Vec::new();
    let top: BTreeSet<&String> = modules
        .iter()
        .filter(|m| m.len() == 1)
        .map(|m| &m[0])
        .collect();
    for name in &top {
        if !allowed.contains_key(*name) {
            problems.push(format!(
                "module `{name}` has no row in the module table of ARCHITECTURE.md"
            ));
        }
    }
    for name in allowed.keys().filter(|n| !top.contains(n)) {
        problems.push(format!(
            "ARCHITECTURE.md has a row for `{name}`, which is not a module under src/"
        ));
    }
    for (name, deps) in allowed.iter().filter_map(|(n, d)| Some((n, d.as_ref()?))) {
        for dep in deps {
            let path: Vec<String> = dep.split("::").map(str::to_string).collect();
            if !modules.contains(&path) {
                problems.push(format!(
                    "ARCHITECTURE.md lets `{name}` depend on `{dep}`, which is not a module under src/"
                ));
            }
        }
    }
    // One line per offending `use` (a group names several items of the same module).
    let mut reported = BTreeSet::new();
    let mut module_edges = BTreeMap::new();
    let mut file_edges = BTreeMap::new();
    for file in &files {
        let own = module_of(&file.path, &all);
        for r in references(file, &modules, &all) {
            let (from, to) = (&own[0], &r.path[0]);
            if from != to {
                let whole = allowed.get(from).cloned().flatten();
                let ok = match &whole {
                    None => allowed.contains_key(from),
                    Some(deps) => {
                        deps.contains(to)
                            || r.path
                                .get(1)
                                .is_some_and(|s| deps.contains(&format!("{to}::{s}")))
                    }
                };
                if !ok && reported.insert((r.file.clone(), r.line)) {
                    let list = match whole.map(|d| d.into_iter().collect::<Vec<_>>().join(", ")) {
                        Some(list) if !list.is_empty() => list,
                        _ => "nothing".into(),
                    };
                    problems.push(format!(
                        "{}: `{from}` may depend on {list} (ARCHITECTURE.md)",
                        r.at()
                    ));
                }
                module_edges
                    .entry((from.clone(), to.clone()))
                    .or_insert_with(|| r.clone());
            } else if ONE_DIRECTION_DIRS.contains(&from.as_str()) && own.len() <= 2 {
                let node =
                    |m: &[String]| format!("{from}/{}", m.get(1).map_or("mod", String::as_str));
                let named_file = r.path.len() > 1 && modules.contains(&r.path[..2]);
                let target = node(if named_file { &r.path } else { &own[..1] });
                if target != node(&own) {
                    file_edges.entry((node(&own), target)).or_insert(r);
                }
            }
        }
    }
    if let Some(cycle) = find_cycle(&module_edges) {
        problems.push(format!(
            "top-level modules import each other in a cycle: {cycle}"
        ));
    }
    if let Some(cycle) = find_cycle(&file_edges) {
        problems.push(format!("files import each other in a cycle: {cycle}"));
    }
    problems
}

fn read_sources(dir: &Path, root: &Path, out: &mut Vec<SourceFile>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src is readable")
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            read_sources(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path
                .strip_prefix(root)
                .expect("under the root")
                .to_string_lossy()
                .replace('\\', "/");
            let text = std::fs::read_to_string(&path).expect("source is UTF-8");
            out.push(SourceFile { path: rel, text });
        }
    }
}

#[test]
fn dependencies_follow_the_table_in_architecture_md() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let markdown = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let allowed = allowed_from_architecture(&markdown);
    assert!(
        allowed.len() > 10,
        "the module table of ARCHITECTURE.md was not found: {allowed:?}"
    );
    let mut files = Vec::new();
    read_sources(&root.join("src"), root, &mut files);
    let problems = violations(&files, &allowed);
    assert!(
        problems.is_empty(),
        "dependency rules broken:\n{}",
        problems.join("\n")
    );
}
