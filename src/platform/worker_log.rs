//! A failed worker's last error, read from the text of its log: what both platforms record beside the exit
//! code — the local supervisor from the end of the worker's log file (`local/logs.rs`), ECS from the end of the
//! stopped task's CloudWatch Logs stream (`aws/task_logs.rs`).

/// Longest error kept (a failure record stays small).
const ERROR_CHARS: usize = 600;

/// The last error in a worker's log text: the last `error: …` line with its `caused by: …` lines joined by
/// `: ` (how the CLI prints an error), else the last non-empty line (a panic, a signal); at most
/// [`ERROR_CHARS`] characters.
pub fn last_error(text: &str) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let found = match lines.iter().rposition(|l| l.starts_with("error:")) {
        Some(start) => {
            let mut parts = vec![lines[start].trim_start_matches("error:").trim()];
            parts.extend(
                lines[start + 1..]
                    .iter()
                    .map_while(|l| l.strip_prefix("caused by:"))
                    .map(str::trim),
            );
            parts.join(": ")
        }
        None => lines
            .iter()
            .rev()
            .find(|l| !l.is_empty())
            .map(|l| l.to_string())
            .unwrap_or_default(),
    };
    match found.char_indices().nth(ERROR_CHARS) {
        Some((cut, _)) => format!("{}…", &found[..cut]),
        None => found,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_error_joins_its_causes_and_falls_back_to_the_last_line() {
        let log = "{\"level\":\"info\",\"message\":\"worker w starting\"}\nerror: old\nerror: the snapshot cannot be read\n  caused by: repository /r: not a directory\n{\"level\":\"info\"}\n";
        assert_eq!(
            last_error(log),
            "the snapshot cannot be read: repository /r: not a directory"
        );
        assert_eq!(
            last_error("starting\nthread 'main' panicked at src/x.rs:1:1\n\n"),
            "thread 'main' panicked at src/x.rs:1:1"
        );
        assert_eq!(last_error(""), "");
        let long = format!("error: {}", "x".repeat(2 * ERROR_CHARS));
        assert_eq!(last_error(&long).chars().count(), ERROR_CHARS + 1);
    }
}
