//! `docs/settings.md`, the settings reference, read back so that each crate
//! declaring settings can test it against its declarations both ways.
//!
//! A table there belongs to the group named by the marker on the line
//! before it, `<!-- settings: CoreConfig -->`; its first column is the
//! variable in backticks, its last the default.

use super::setting::{Declared, Shown};

/// One marked table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub group: String,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub variable: String,
    pub default: String,
}

/// The marked tables of `markdown`, in order.
pub fn tables(markdown: &str) -> Vec<Table> {
    let mut out: Vec<Table> = Vec::new();
    let mut open: Option<Table> = None;
    for line in markdown.lines().map(str::trim) {
        if let Some(group) = line
            .strip_prefix("<!-- settings:")
            .and_then(|l| l.strip_suffix("-->"))
        {
            out.extend(open.take());
            open = Some(Table {
                group: group.trim().to_string(),
                rows: Vec::new(),
            });
            continue;
        }
        let Some(table) = open.as_mut() else {
            continue;
        };
        if !line.starts_with('|') {
            // The table ends at its first line that is not a row (the
            // blank line after the marker comes before it starts).
            if !table.rows.is_empty() {
                out.extend(open.take());
            }
            continue;
        }
        if let Some(row) = row(line) {
            table.rows.push(row);
        }
    }
    out.extend(open);
    out
}

/// A body row: `` | `NAME` | meaning | default | ``; not the header or
/// the `|---|` line.
fn row(line: &str) -> Option<Row> {
    let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
    let variable = cells
        .first()?
        .strip_prefix('`')?
        .strip_suffix('`')?
        .to_string();
    let default = cells.last()?.to_string();
    Some(Row { variable, default })
}

/// Where the reference and `group`'s declarations disagree, one line each,
/// naming the variable: a row of `group`'s table it does not read, a
/// variable it reads that no table holds, a default written otherwise.
pub fn drift(markdown: &str, group: &str, declared: &[Declared]) -> Vec<String> {
    let tables = tables(markdown);
    let mut problems = Vec::new();
    match tables.iter().find(|t| t.group == group) {
        None => problems.push(format!(
            "docs/settings.md has no table marked <!-- settings: {group} -->"
        )),
        Some(table) => {
            for r in &table.rows {
                if !declared.iter().any(|d| d.variable == r.variable) {
                    problems.push(format!(
                        "{}: documented under {group}, which does not read it",
                        r.variable
                    ));
                }
            }
        }
    }
    for d in declared {
        let rows: Vec<&Row> = tables
            .iter()
            .flat_map(|t| &t.rows)
            .filter(|r| r.variable == d.variable)
            .collect();
        if rows.is_empty() {
            problems.push(format!(
                "{}: read by {group}, missing from docs/settings.md",
                d.variable
            ));
        }
        for r in rows {
            if let Some(want) = mismatch(&d.default, &r.default) {
                problems.push(format!(
                    "{}: docs/settings.md gives the default as {:?}, {group} declares {want}",
                    d.variable, r.default
                ));
            }
        }
    }
    problems
}

/// What the default cell should say, when it does not.
fn mismatch(default: &Shown, cell: &str) -> Option<String> {
    match default {
        Shown::Value(v) if !cell.contains(&format!("`{v}`")) => Some(format!("`{v}`")),
        Shown::Empty if !cell.to_ascii_lowercase().contains("empty") => Some("empty".into()),
        Shown::Unset if cell.is_empty() => Some("a word (unset, or how it is worked out)".into()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "# x\n\n<!-- settings: G -->\n\n| variable | meaning | default |\n|---|---|---|\n| `A` | a | `3` (three) |\n| `B` | b | unset |\n| `C` | c | empty |\n\nText.\n\n<!-- settings: H -->\n| variable | meaning | default |\n|---|---|---|\n| `D` | d | `x` |\n";

    fn declared(variable: &'static str, default: Shown) -> Declared {
        Declared { variable, default }
    }

    #[test]
    fn reads_marked_tables() {
        let t = tables(DOC);
        assert_eq!(t.len(), 2);
        assert_eq!((t[0].group.as_str(), t[0].rows.len()), ("G", 3));
        assert_eq!(t[0].rows[0].default, "`3` (three)");
        assert_eq!(
            (t[1].group.as_str(), t[1].rows[0].variable.as_str()),
            ("H", "D")
        );
    }

    #[test]
    fn names_the_drifting_variable() {
        let good = [
            declared("A", Shown::Value("3".into())),
            declared("B", Shown::Unset),
            declared("C", Shown::Empty),
        ];
        assert!(drift(DOC, "G", &good).is_empty());
        let bad = [
            declared("A", Shown::Value("4".into())),
            declared("C", Shown::Empty),
            declared("E", Shown::Unset),
        ];
        let problems = drift(DOC, "G", &bad);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems[0].starts_with("B: documented under G"),
            "{problems:?}"
        );
        assert!(
            problems[1].starts_with("A: docs/settings.md gives"),
            "{problems:?}"
        );
        assert!(
            problems[2].starts_with("E: read by G, missing"),
            "{problems:?}"
        );
        assert!(drift(DOC, "Z", &[])[0].contains("no table"));
    }
}
