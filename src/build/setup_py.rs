//! `setup.py`, parsed with tree-sitter-python and never executed. Only literal
//! arguments are understood: a value computed at run time (a variable, a function
//! call) is treated as conditional and left alone.

use std::cell::RefCell;

use tree_sitter::{Node, Parser, Tree};

use super::{version, Fact, SyntaxError, What};
use crate::source::budget;

thread_local! {
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

/// Parses Python source text (used for `setup.py`) within the parser's work budget
/// (see [`crate::source::budget`]; error recovery on garbage such as a line of
/// colons took seconds per kilobyte). `cut` is where the budget ran out: the text
/// from there on was not parsed.
pub fn parse_python(text: &str) -> Option<(Tree, Option<usize>)> {
    PARSER.with(|p| {
        let mut slot = p.borrow_mut();
        if slot.is_none() {
            *slot = Some(budget::new_parser(tree_sitter_python::LANGUAGE.into())?);
        }
        let parsed = budget::parse(slot.as_mut()?, text.to_owned())?;
        Some((parsed.tree, parsed.cut))
    })
}

/// The value of a Python string literal node, without prefix and quotes.
pub fn string_value<'a>(text: &'a str, node: Node) -> Option<&'a str> {
    if node.kind() != "string" {
        return None;
    }
    let raw = text.get(node.byte_range())?;
    let raw = raw.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    for q in ["\"\"\"", "'''", "\"", "'"] {
        if raw.len() >= 2 * q.len() && raw.starts_with(q) && raw.ends_with(q) {
            return raw.get(q.len()..raw.len() - q.len());
        }
    }
    None
}

fn node_text<'a>(text: &'a str, node: Node) -> &'a str {
    text.get(node.byte_range()).unwrap_or("")
}

/// Is `node` inside an `if` statement or a conditional expression?
fn conditional(node: Node) -> bool {
    let mut n = node.parent();
    while let Some(p) = n {
        if matches!(
            p.kind(),
            "if_statement" | "conditional_expression" | "elif_clause" | "else_clause"
        ) {
            return true;
        }
        n = p.parent();
    }
    false
}

/// Every node below `node` (and itself), in source order.
pub(super) fn descendants(node: Node) -> Vec<Node> {
    let mut out = Vec::new();
    let mut stack = vec![node];
    let mut cursor = node.walk();
    while let Some(n) = stack.pop() {
        out.push(n);
        let children: Vec<Node> = n.children(&mut cursor).collect();
        stack.extend(children.into_iter().rev());
    }
    out
}

const LIMITED_FIX: &str = "py_limited_api=not sysconfig.get_config_var(\"Py_GIL_DISABLED\")";

/// Reads `setup.py`.
pub fn read(text: &str, facts: &mut Vec<Fact>) -> SyntaxError {
    match parse_python(text) {
        Some((tree, cut)) => read_tree(text, &tree, cut, facts),
        None => Some((0, "could not parse".into())),
    }
}

/// [`read`] on a tree already parsed; `cut` is where the parse budget ran out.
pub fn read_tree(
    text: &str,
    tree: &Tree,
    cut: Option<usize>,
    facts: &mut Vec<Fact>,
) -> SyntaxError {
    let root = tree.root_node();
    for n in descendants(root) {
        match n.kind() {
            "keyword_argument" => keyword(text, n, facts),
            "call" => call(text, n, facts),
            "pair" => pair(text, n, facts),
            "string" => string(text, n, facts),
            _ => {}
        }
    }
    if let Some(cut) = cut {
        return Some((
            cut,
            "the parser's work budget ran out here (is this Python?); what follows was not read"
                .into(),
        ));
    }
    if root.has_error() {
        let first = descendants(root)
            .into_iter()
            .find(|n| n.is_error() || n.is_missing());
        let off = first.map(|n| n.start_byte()).unwrap_or(0);
        return Some((off, "invalid Python".into()));
    }
    None
}

fn keyword(text: &str, n: Node, facts: &mut Vec<Fact>) {
    let (Some(name), Some(value)) = (
        n.child_by_field_name("name"),
        n.child_by_field_name("value"),
    ) else {
        return;
    };
    let range = (n.start_byte(), n.end_byte());
    match node_text(text, name) {
        "py_limited_api" if value.kind() == "true" && !conditional(n) => facts.push(Fact {
            what: What::LimitedApi {
                how: "py_limited_api=True".into(),
                fix: LIMITED_FIX.into(),
                ignored_on_ft: false,
            },
            range,
        }),
        "define_macros" => {
            for t in descendants(value)
                .into_iter()
                .filter(|t| t.kind() == "tuple")
            {
                let Some(first) = t.named_child(0) else {
                    continue;
                };
                match string_value(text, first) {
                    Some("Py_LIMITED_API") if !conditional(t) => facts.push(Fact {
                        what: What::LimitedApi {
                            how: "define_macros=[(\"Py_LIMITED_API\", ...)]".into(),
                            fix: "add the macro only when not sysconfig.get_config_var(\"Py_GIL_DISABLED\")".into(),
                            ignored_on_ft: false,
                        },
                        range: (t.start_byte(), t.end_byte()),
                    }),
                    Some("Py_GIL_DISABLED") => {
                        facts.push(Fact { what: What::DefinesGilDisabled, range: (t.start_byte(), t.end_byte()) })
                    }
                    _ => {}
                }
            }
        }
        "compiler_directives" => {
            for p in descendants(value)
                .into_iter()
                .filter(|p| p.kind() == "pair")
            {
                let (Some(k), Some(v)) =
                    (p.child_by_field_name("key"), p.child_by_field_name("value"))
                else {
                    continue;
                };
                if string_value(text, k) == Some("freethreading_compatible") && v.kind() == "true" {
                    facts.push(Fact {
                        what: What::CythonDirectiveProject,
                        range: (p.start_byte(), p.end_byte()),
                    });
                }
            }
        }
        "swig_opts" => {
            let nogil = descendants(value)
                .into_iter()
                .any(|s| string_value(text, s) == Some("-nogil"));
            facts.push(Fact {
                what: What::SwigInvocation { nogil },
                range,
            });
        }
        "classifiers" => {
            let Some(value) = literal_list(text, value) else {
                facts.push(Fact {
                    what: What::ClassifiersUnknown,
                    range,
                });
                return;
            };
            let ft = descendants(value).into_iter().any(|s| {
                string_value(text, s).is_some_and(|v| v.contains("Python :: Free Threading"))
            });
            facts.push(Fact {
                what: What::Classifiers { ft },
                range,
            });
        }
        "setup_requires" => {
            for s in descendants(value)
                .into_iter()
                .filter(|s| s.kind() == "string")
            {
                let Some(v) = string_value(text, s) else {
                    continue;
                };
                let (name, spec) = version::split_requirement(v);
                facts.push(Fact {
                    what: What::Requirement { name, spec },
                    range: (s.start_byte(), s.end_byte()),
                });
            }
        }
        _ => {}
    }
}

/// `value` if it is a list or tuple literal, or the literal a module-level
/// `NAME = [...]` assigns when `value` is the name `NAME`.
fn literal_list<'t>(text: &str, value: Node<'t>) -> Option<Node<'t>> {
    if matches!(value.kind(), "list" | "tuple") {
        return Some(value);
    }
    if value.kind() != "identifier" {
        return None;
    }
    let name = node_text(text, value);
    let mut root = value;
    while let Some(p) = root.parent() {
        root = p;
    }
    descendants(root)
        .into_iter()
        .filter(|n| n.kind() == "assignment")
        .find_map(|a| {
            let left = a.child_by_field_name("left")?;
            let right = a.child_by_field_name("right")?;
            (node_text(text, left) == name && matches!(right.kind(), "list" | "tuple"))
                .then_some(right)
        })
}

fn call(text: &str, n: Node, facts: &mut Vec<Fact>) {
    let Some(func) = n.child_by_field_name("function") else {
        return;
    };
    let name = node_text(text, func);
    let last = name.rsplit('.').next().unwrap_or(name);
    let range = (func.start_byte(), func.end_byte());
    match last {
        "setup" => facts.push(Fact {
            what: What::ProjectMetadata,
            range,
        }),
        "Extension" | "Pybind11Extension" | "Library" => facts.push(Fact {
            what: What::ExtensionBuild {
                backend: "setuptools",
                custom_cmake: false,
            },
            range,
        }),
        _ => {}
    }
}

fn pair(text: &str, n: Node, facts: &mut Vec<Fact>) {
    let (Some(k), Some(v)) = (n.child_by_field_name("key"), n.child_by_field_name("value")) else {
        return;
    };
    let key = string_value(text, k);
    if matches!(key, Some("py_limited_api" | "py-limited-api"))
        && v.kind() == "string"
        && !conditional(n)
    {
        facts.push(Fact {
            what: What::LimitedApi {
                how: format!("bdist_wheel py_limited_api={}", node_text(text, v)),
                fix: "set bdist_wheel's py_limited_api only when not sysconfig.get_config_var(\"Py_GIL_DISABLED\")".into(),
                ignored_on_ft: false,
            },
            range: (n.start_byte(), n.end_byte()),
        });
    }
}

fn string(text: &str, n: Node, facts: &mut Vec<Fact>) {
    let Some(v) = string_value(text, n) else {
        return;
    };
    let range = (n.start_byte(), n.end_byte());
    if v.starts_with("-DPy_LIMITED_API") || v.starts_with("/DPy_LIMITED_API") {
        if !conditional(n) {
            facts.push(Fact {
                what: What::LimitedApi {
                    how: format!("compiler flag {v}"),
                    fix:
                        "pass the flag only when not sysconfig.get_config_var(\"Py_GIL_DISABLED\")"
                            .into(),
                    ignored_on_ft: false,
                },
                range,
            });
        }
    } else if v.starts_with("-DPy_GIL_DISABLED") || v.starts_with("/DPy_GIL_DISABLED") {
        facts.push(Fact {
            what: What::DefinesGilDisabled,
            range,
        });
    } else if v.replace(' ', "") == "-Xfreethreading_compatible=True" {
        facts.push(Fact {
            what: What::CythonDirectiveProject,
            range,
        });
    } else if v == "numpy.f2py" || v == "f2py" {
        let scope = n.parent().and_then(|p| {
            if p.kind() == "list" || p.kind() == "argument_list" {
                Some(p)
            } else {
                None
            }
        });
        let declared =
            scope.is_some_and(|p| node_text(text, p).contains("--freethreading-compatible"));
        facts.push(Fact {
            what: What::F2pyInvocation {
                name: v.to_owned(),
                declared,
            },
            range,
        });
    } else if v == "swig" {
        let scope = n
            .parent()
            .filter(|p| p.kind() == "list" || p.kind() == "argument_list");
        let nogil = scope.is_some_and(|p| node_text(text, p).contains("-nogil"));
        facts.push(Fact {
            what: What::SwigInvocation { nogil },
            range,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(src: &str) -> (Vec<What>, SyntaxError) {
        let mut f = Vec::new();
        let e = read(src, &mut f);
        (f.into_iter().map(|f| f.what).collect(), e)
    }

    #[test]
    fn literal_limited_api_is_found_conditional_is_not() {
        let (f, e) = facts("from setuptools import setup, Extension\nsetup(ext_modules=[Extension('m', ['m.c'], py_limited_api=True)])\n");
        assert!(e.is_none());
        assert!(f.iter().any(|w| matches!(w, What::LimitedApi { .. })));
        let (f, _) = facts("import sysconfig\nsetup(ext_modules=[Extension('m', ['m.c'], py_limited_api=not sysconfig.get_config_var('Py_GIL_DISABLED'))])\n");
        assert!(!f.iter().any(|w| matches!(w, What::LimitedApi { .. })));
    }

    #[test]
    fn syntax_errors_are_reported_and_facts_kept() {
        let (f, e) = facts(
            "setup(ext_modules=[Extension('m', ['m.c'], py_limited_api=True)])\ndef broken(:\n",
        );
        assert!(e.is_some());
        assert!(f.iter().any(|w| matches!(w, What::LimitedApi { .. })));
    }
}
