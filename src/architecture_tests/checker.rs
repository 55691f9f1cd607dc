//! The architecture checker itself, on small made-up crates.

use super::paths::references;
use super::*;

fn file(path: &str, text: &str) -> SourceFile {
    SourceFile {
        path: path.into(),
        text: text.into(),
    }
}

fn table(rows: &[(&str, &[&str])]) -> Allowed {
    rows.iter()
        .map(|(m, d)| {
            (
                m.to_string(),
                Some(d.iter().map(|s| s.to_string()).collect()),
            )
        })
        .collect()
}

fn paths(f: &SourceFile, all: &[&SourceFile]) -> Vec<String> {
    let (names, modules) = module_tree(all);
    references(f, &modules, &names)
        .into_iter()
        .map(|r| r.path.join("::"))
        .collect()
}

#[test]
fn comments_strings_and_char_literals_are_not_code() {
    let a = file(
        "src/a/mod.rs",
        "// crate::b::X\n/* crate::b::X /* nested */ */\nconst S: &str = \"crate::b::X\";\n\
         const R: &str = r#\"crate::b::\"X\"#;\nconst C: char = '\"'; fn f<'a>(x: &'a str) {}\n",
    );
    let b = file("src/b.rs", "");
    assert_eq!(paths(&a, &[&a, &b]), Vec::<String>::new());
}

#[test]
fn groups_super_chains_and_test_modules_resolve() {
    let ecs = file(
        "src/platform/aws/ecs.rs",
        "use crate::{converge::{ports::Fleet, lifecycle}, plan::Plan};\nuse super::super::deploy::X;\n\
         pub(crate) fn f() { crate::config::parse(); Method::Get; }\nmod tests { use super::*; use super::super::clients; }",
    );
    let others: Vec<SourceFile> = [
        "src/converge/ports.rs",
        "src/converge/lifecycle.rs",
        "src/plan/mod.rs",
        "src/platform/deploy.rs",
        "src/platform/aws/clients.rs",
        "src/config/mod.rs",
    ]
    .map(|p| file(p, ""))
    .into();
    let all: Vec<&SourceFile> = std::iter::once(&ecs).chain(&others).collect();
    assert_eq!(
        paths(&ecs, &all),
        [
            "converge::ports::Fleet",
            "converge::lifecycle",
            "plan::Plan",
            "platform::deploy::X",
            "config::parse",
            "platform::aws::ecs",
            "platform::aws::clients"
        ]
    );
}

#[test]
fn a_forbidden_import_names_the_file_line_and_path() {
    let files = [
        file("src/converge/mod.rs", "pub mod ports;\n"),
        file(
            "src/converge/ports.rs",
            "\nuse crate::platform::local::LocalFleet;\n",
        ),
        file(
            "src/platform/mod.rs",
            "use crate::converge::ports::Fleet;\nuse crate::converge::runner::X;\n",
        ),
    ];
    let problems = violations(
        &files,
        &table(&[("converge", &[]), ("platform", &["converge::ports"])]),
    );
    assert_eq!(
        problems[0],
        "src/converge/ports.rs:2: `crate::platform::local::LocalFleet`: `converge` may depend on nothing (ARCHITECTURE.md)",
        "{problems:#?}"
    );
    assert!(problems[1].starts_with("src/platform/mod.rs:2: `crate::converge::runner::X`: `platform` may depend on converge::ports"), "{problems:#?}");
    assert!(
        problems[2]
            .starts_with("top-level modules import each other in a cycle: converge -> platform"),
        "{problems:#?}"
    );
    assert_eq!(problems.len(), 3, "{problems:#?}");
}

#[test]
fn a_cycle_among_worker_files_is_reported_and_a_one_way_chain_is_not() {
    let rows = table(&[("worker", &[])]);
    let one_way = [
        file(
            "src/worker/mod.rs",
            "pub mod run;\npub mod types;\npub use types::Stats;\n",
        ),
        file(
            "src/worker/run.rs",
            "use super::types::Stats;\nuse super::Stats as S;\n",
        ),
        file(
            "src/worker/types.rs",
            "pub struct Stats;\n#[cfg(test)]\nmod tests { use super::*; }\n",
        ),
    ];
    assert_eq!(violations(&one_way, &rows), Vec::<String>::new());
    let circle = [
        file("src/worker/mod.rs", "pub mod item;\npub mod run;\n"),
        file(
            "src/worker/run.rs",
            "use super::item::migrate;\npub struct Stats;\n",
        ),
        file("src/worker/item.rs", "\n\nuse crate::worker::run::Stats;\n"),
    ];
    let problems = violations(&circle, &rows);
    assert_eq!(
        problems,
        [
            "files import each other in a cycle: worker/item -> worker/run (src/worker/item.rs:3: \
             `crate::worker::run::Stats`); worker/run -> worker/item (src/worker/run.rs:1: `super::item::migrate`)"
        ]
    );
}

#[test]
fn the_table_is_read_from_the_markdown() {
    let md = "# A\n\n## Modules\n\n| module | why | depends on |\n|---|---|---|\n| `cli/` | glue | everything |\n\
              | `exit.rs` | codes | — |\n| `plan/` | the plan | config, `converge::ports` |\n\n## Next\n| `x/` | y | z |\n";
    let allowed = allowed_from_architecture(md);
    assert_eq!(allowed["cli"], None);
    assert_eq!(allowed["exit"], Some(BTreeSet::new()));
    assert_eq!(
        allowed["plan"],
        Some(["config".to_string(), "converge::ports".to_string()].into())
    );
    assert_eq!(allowed.len(), 3);
}

#[test]
fn the_table_names_only_modules_that_exist_and_every_module_has_a_row() {
    let files = [
        file("src/converge/mod.rs", ""),
        file("src/platform/mod.rs", ""),
    ];
    let problems = violations(
        &files,
        &table(&[("platform", &["converge::prots"]), ("cluster", &[])]),
    );
    assert_eq!(
        problems,
        [
            "module `converge` has no row in the module table of ARCHITECTURE.md",
            "ARCHITECTURE.md has a row for `cluster`, which is not a module under src/",
            "ARCHITECTURE.md lets `platform` depend on `converge::prots`, which is not a module under src/",
        ]
    );
}
