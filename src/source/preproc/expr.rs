//! Parsing `#if` expressions into [`PExpr`].

use super::condition::PExpr;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Int(i64),
    Ident(String),
    Op(&'static str),
    Other(String),
}

const OPS: [&str; 24] = [
    "&&", "||", "==", "!=", "<=", ">=", "<<", ">>", "!", "<", ">", "(", ")", "+", "-", "*", "/",
    "%", "&", "|", "^", "~", "?", ":",
];

fn tokenize(s: &str) -> Vec<Tok> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    'outer: while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_digit() {
            let st = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            let lit = s[st..i].trim_end_matches(['u', 'U', 'l', 'L']);
            let v = if let Some(h) = lit.strip_prefix("0x").or_else(|| lit.strip_prefix("0X")) {
                i64::from_str_radix(h, 16).ok()
            } else if lit.len() > 1 && lit.starts_with('0') {
                i64::from_str_radix(&lit[1..], 8).ok()
            } else {
                lit.parse().ok()
            };
            out.push(
                v.map(Tok::Int)
                    .unwrap_or_else(|| Tok::Other(s[st..i].to_owned())),
            );
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let st = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Ident(s[st..i].to_owned()));
            continue;
        }
        for op in OPS {
            if s[i..].starts_with(op) {
                out.push(Tok::Op(op));
                i += op.len();
                continue 'outer;
            }
        }
        let ch = s[i..].chars().next().map(|c| c.len_utf8()).unwrap_or(1);
        out.push(Tok::Other(s[i..i + ch].to_owned()));
        i += ch;
    }
    out
}

struct ExprParser {
    toks: Vec<Tok>,
    pos: usize,
}

impl ExprParser {
    fn peek_op(&self) -> Option<&'static str> {
        match self.toks.get(self.pos) {
            Some(Tok::Op(o)) => Some(o),
            _ => None,
        }
    }

    fn eat(&mut self, op: &str) -> bool {
        if self.peek_op() == Some(op) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn ternary(&mut self) -> Option<PExpr> {
        let c = self.binary(0)?;
        if self.eat("?") {
            let a = self.ternary()?;
            if !self.eat(":") {
                return None;
            }
            let b = self.ternary()?;
            return Some(PExpr::Ternary(Box::new(c), Box::new(a), Box::new(b)));
        }
        Some(c)
    }

    fn binary(&mut self, min_prec: u8) -> Option<PExpr> {
        let mut lhs = self.unary()?;
        while let Some(op) = self.peek_op() {
            let prec = match op {
                "||" => 1,
                "&&" => 2,
                "|" => 3,
                "^" => 4,
                "&" => 5,
                "==" | "!=" => 6,
                "<" | "<=" | ">" | ">=" => 7,
                "<<" | ">>" => 8,
                "+" | "-" => 9,
                "*" | "/" | "%" => 10,
                _ => break,
            };
            if prec < min_prec {
                break;
            }
            self.pos += 1;
            let rhs = self.binary(prec + 1)?;
            lhs = PExpr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
        Some(lhs)
    }

    fn unary(&mut self) -> Option<PExpr> {
        for op in ["!", "-", "~", "+"] {
            if self.eat(op) {
                let e = self.unary()?;
                return Some(PExpr::Unary(op, Box::new(e)));
            }
        }
        self.primary()
    }

    fn primary(&mut self) -> Option<PExpr> {
        let tok = self.toks.get(self.pos)?.clone();
        self.pos += 1;
        match tok {
            Tok::Int(v) => Some(PExpr::Int(v)),
            Tok::Op("(") => {
                let e = self.ternary()?;
                self.eat(")").then_some(e)
            }
            Tok::Ident(name) if name == "defined" => {
                let paren = self.eat("(");
                let Some(Tok::Ident(m)) = self.toks.get(self.pos).cloned() else {
                    return None;
                };
                self.pos += 1;
                if paren && !self.eat(")") {
                    return None;
                }
                Some(PExpr::Defined(m))
            }
            Tok::Ident(name) => {
                if self.peek_op() == Some("(") {
                    // Function-like macro call (e.g. __has_include(...), PY_VERSION_CHECK(...)).
                    let start = self.pos;
                    let mut depth = 0;
                    while let Some(t) = self.toks.get(self.pos) {
                        self.pos += 1;
                        match t {
                            Tok::Op("(") => depth += 1,
                            Tok::Op(")") => {
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                            }
                            _ => {}
                        }
                    }
                    let args: Vec<String> = self.toks[start..self.pos]
                        .iter()
                        .map(|t| match t {
                            Tok::Int(v) => v.to_string(),
                            Tok::Ident(s) | Tok::Other(s) => s.clone(),
                            Tok::Op(o) => (*o).to_string(),
                        })
                        .collect();
                    return Some(PExpr::Opaque(format!("{name}{}", args.join(""))));
                }
                Some(PExpr::Ident(name))
            }
            Tok::Other(s) => Some(PExpr::Opaque(s)),
            Tok::Op(_) => None,
        }
    }
}

/// Longer `#if` expressions are one opaque atom: the parser and evaluator recurse
/// on nesting, and real guards are a handful of tokens (CPython's longest are
/// under a hundred).
const MAX_EXPR_TOKENS: usize = 1024;

/// Parses the expression of `#if`/`#elif`. Anything unparseable becomes one opaque atom.
pub fn parse_expr(s: &str) -> PExpr {
    let toks = tokenize(s);
    if toks.len() > MAX_EXPR_TOKENS {
        return PExpr::Opaque(s.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    let mut p = ExprParser { toks, pos: 0 };
    match p.ternary() {
        Some(e) if p.pos == p.toks.len() => e,
        _ => PExpr::Opaque(s.split_whitespace().collect::<Vec<_>>().join(" ")),
    }
}
