use ftaudit::source::{Language, SourceFile};
#[test]
#[ignore]
fn errs() {
    let src = std::path::PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/ftaudit/cpython/src");
    let mut lines = std::collections::HashMap::<String, usize>::new();
    for d in ["Modules", "Objects", "Python"] {
        for e in ignore::WalkBuilder::new(src.join(d)).build().flatten() {
            let Some(l) = Language::from_path(e.path()) else { continue };
            if !e.path().is_file() { continue }
            let Ok(f) = SourceFile::read(e.path(), l) else { continue };
            let mut stack = vec![f.tree.root_node()];
            let mut cur = f.tree.walk();
            while let Some(n) = stack.pop() {
                if n.is_error() || n.is_missing() {
                    let line = f.lines.line_text(&f.text, n.start_position().row + 1).trim().to_string();
                    let key: String = line.chars().take(40).collect();
                    *lines.entry(key).or_default() += 1;
                    continue;
                }
                if n.has_error() { stack.extend(n.children(&mut cur)); }
            }
        }
    }
    let mut v: Vec<_> = lines.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1));
    for (k, n) in v.iter().take(40) { println!("{n:5} {k}"); }
}
