//! A file's top-level items parsed alone (as deferred fixes have them parsed
//! again) against the full parse. In a test binary of its own: it holds syntax
//! trees in this process, which `tests/trees.rs` counts.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Each file's items parsed again one at a time (as a deferred fix of one
/// function has them parsed) have the subtrees the full parse gave them: every
/// fixture and example, and with `FTAUDIT_CPYTHON_SRC` some of CPython's largest
/// files. A partial parse that differed would be refused and the file parsed
/// whole; this checks that the refusal is rare, not only that it works.
#[test]
fn items_parsed_alone_match_the_full_parse() {
    use ftaudit::source::{Language, SourceFile};
    let mut files = Vec::new();
    collect(&root().join("tests/fixtures"), &mut files);
    collect(&root().join("examples"), &mut files);
    if let Some(src) = std::env::var_os("FTAUDIT_CPYTHON_SRC") {
        let src = PathBuf::from(src);
        for f in [
            "Objects/dictobject.c",
            "Modules/_pickle.c",
            "Modules/_io/textio.c",
        ] {
            files.push(src.join(f));
        }
    }
    let (mut items, mut refused) = (0, Vec::new());
    for path in &files {
        let lang = if path.extension().is_some_and(|e| e == "cpp") {
            Language::Cpp
        } else {
            Language::C
        };
        let mut file = SourceFile::read(path, lang).expect("read");
        let full = root_children(&file);
        file.release_tree(&[], &[]);
        let kept: Vec<(usize, usize)> = file
            .top_items()
            .expect("kept at release")
            .iter()
            .map(|t| t.range())
            .collect();
        assert_eq!(
            kept,
            full.iter().map(|f| f.0).collect::<Vec<_>>(),
            "{path:?}"
        );
        if kept.len() < 2 {
            continue;
        }
        for (start, _) in full.iter().map(|f| f.0) {
            assert!(file.reparse_items(&[start]), "{path:?}");
            let again = root_children(&file);
            items += 1;
            if again.len() == full.len() {
                // Refused and parsed whole.
                assert_eq!(again, full, "{path:?}");
                refused.push(format!("{}:{start}", path.display()));
            } else {
                // The item and what closes it, as the full parse has them.
                let at = full.iter().position(|f| f.0 .0 == start).unwrap();
                assert_eq!(again[..], full[at..at + again.len()], "{path:?} at {start}");
            }
            file.tree.release();
        }
    }
    eprintln!(
        "{items} items in {} files, {} parsed whole instead",
        files.len(),
        refused.len()
    );
    assert!(items > 500, "{items}");
    assert!(refused.len() * 50 <= items, "refused: {refused:?}");
}

/// The byte range and S-expression of each child of `file`'s root.
fn root_children(file: &ftaudit::source::SourceFile) -> Vec<((usize, usize), String)> {
    let root = file.tree.root_node();
    let mut c = root.walk();
    root.children(&mut c)
        .map(|n| ((n.start_byte(), n.end_byte()), n.to_sexp()))
        .collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            collect(&p, out);
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("c" | "cpp")) {
            out.push(p);
        }
    }
}
