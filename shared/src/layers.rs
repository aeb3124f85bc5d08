//! The crate's layers, and a test that every `crate::…` reference runs one
//! way: a module may use only modules of lower layers (and itself), so
//! adapters never import each other and nothing below `api` imports it.
//!
//! | layer | modules | what it is |
//! |---|---|---|
//! | 0 | `phone`, `clock` | values every layer uses |
//! | 1 | `domain`, `audio` | entities and decisions, no I/O |
//! | 2 | `config`, `metrics`, `telemetry` | settings and observability |
//! | 3 | `usecases` | orchestrations over ports (traits) |
//! | 4 | `aws`, `rest`, `secrets` | adapter toolkits: SDK clients, the HTTP client, secrets |
//! | 5 | `store`, `vonage`, `twilio` | adapters: DynamoDB and the providers |
//! | 6 | `core` | what every function's state holds |
//! | 7 | `providers` | the providers' REST clients, chosen per provider |
//! | 8 | `api` | parse, call one use case, render; the functions' states |
//!
//! The functions and the local router sit above `api`, in their own crates.

/// Each top-level module's layer.
pub const LAYERS: &[(&str, u8)] = &[
    ("phone", 0),
    ("clock", 0),
    ("domain", 1),
    ("audio", 1),
    ("config", 2),
    ("metrics", 2),
    ("telemetry", 2),
    ("usecases", 3),
    ("aws", 4),
    ("rest", 4),
    ("secrets", 4),
    ("store", 5),
    ("vonage", 5),
    ("twilio", 5),
    ("core", 6),
    ("providers", 7),
    ("api", 8),
];

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

/// The top-level modules a source text refers to as `crate::x`, with the
/// line each is on; test modules and comments are left out.
pub fn references(source: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut lines = source.lines().enumerate().peekable();
    while let Some((i, line)) = lines.next() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]") {
            let next = lines.peek().map(|(_, l)| l.trim_start()).unwrap_or("");
            if next.starts_with("mod ") || next.starts_with("#[path") {
                break;
            }
        }
        if t.starts_with("//") {
            continue;
        }
        let mut rest = t;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                // `crate::{a, b::c}` (possibly over several lines).
                let mut text = group.to_string();
                while !balanced(&text) {
                    match lines.next() {
                        Some((_, more)) => text.push_str(more),
                        None => break,
                    }
                }
                for item in top_level_items(&text) {
                    out.push((item, i + 1));
                }
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                // `crate::settings!` is a macro, not a module.
                let is_macro = rest[name.len()..].starts_with('!');
                if !name.is_empty() && !is_macro {
                    out.push((name, i + 1));
                }
            }
        }
    }
    out
}

/// Whether the `{` already consumed is closed in `text`.
fn balanced(text: &str) -> bool {
    let mut depth = 1i32;
    for c in text.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ => {}
        }
        if depth == 0 {
            return true;
        }
    }
    false
}

/// The first path segment of each item of a `{…}` group.
fn top_level_items(text: &str) -> Vec<String> {
    let mut items = Vec::new();
    let (mut depth, mut current) = (0i32, String::new());
    for c in text.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    items.push(current);
    items
        .iter()
        .filter_map(|item| {
            let name: String = item
                .trim()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            (!name.is_empty() && name != "self").then_some(name)
        })
        .collect()
}

/// The wrong-way edges of one file (`path` relative to `src/`).
pub fn violations(path: &str, source: &str) -> Vec<String> {
    let Some(from) = path
        .split('/')
        .next()
        .map(|m| m.trim_end_matches(".rs").to_string())
    else {
        return Vec::new();
    };
    if matches!(from.as_str(), "lib" | "layers") {
        return Vec::new();
    }
    let Some(from_layer) = layer(&from) else {
        return vec![format!(
            "{path}: module `{from}` has no layer; add it to layers::LAYERS"
        )];
    };
    references(source)
        .into_iter()
        .filter(|(to, _)| *to != from)
        .filter_map(|(to, line)| match layer(&to) {
            Some(l) if l < from_layer => None,
            Some(l) => Some(format!(
                "{path}:{line}: `{from}` (layer {from_layer}) imports `{to}` (layer {l}): a wrong-way edge"
            )),
            None => Some(format!("{path}:{line}: `crate::{to}` has no layer")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(dir: &std::path::Path, root: &std::path::Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                // Test-only files: unit tests and in-memory fakes.
                if rel.ends_with("_tests.rs") || rel.ends_with("/fakes.rs") {
                    continue;
                }
                out.push((rel, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }

    #[test]
    fn every_edge_runs_one_way() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        sources(&root, &root, &mut files);
        assert!(files.len() > 50, "read {} files", files.len());
        let wrong: Vec<String> = files
            .iter()
            .flat_map(|(path, src)| violations(path, src))
            .collect();
        assert!(wrong.is_empty(), "wrong-way edges:\n{}", wrong.join("\n"));
    }

    #[test]
    fn a_store_module_importing_the_api_is_named() {
        let src = "//! x\nuse crate::phone::PhoneNumber;\nuse crate::api::http::ApiError;\n";
        assert_eq!(
            violations("store/lines.rs", src),
            vec!["store/lines.rs:3: `store` (layer 5) imports `api` (layer 8): a wrong-way edge"]
        );
    }

    #[test]
    fn adapters_may_not_import_each_other_nor_read_groups_wrongly() {
        let src = "use crate::{\n    domain::Provider,\n    twilio::{rest, twiml},\n};\nfn f() { crate::store::keys::PK; }\n";
        let v = violations("vonage/rest.rs", src);
        assert_eq!(v.len(), 2, "{v:?}");
        assert!(
            v[0].contains("imports `twilio`") && v[1].contains("imports `store`"),
            "{v:?}"
        );
    }

    #[test]
    fn test_modules_and_comments_are_not_edges() {
        let src =
            "// see crate::api\nfn f() {}\n#[cfg(test)]\nmod tests {\n    use crate::api::x;\n}\n";
        assert!(violations("domain/x.rs", src).is_empty());
    }

    #[test]
    fn a_new_module_must_be_given_a_layer() {
        assert!(violations("newthing.rs", "")[0].contains("has no layer"));
    }
}
