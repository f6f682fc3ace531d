//! Just enough version handling to tell whether a requirement pins a tool below the
//! release that added free-threading support: PEP 440 specifiers (`<`, `<=`, `==`,
//! `~=`) and Cargo requirements (`0.22`, `^0.22`, `=0.22.5`, `~0.22`).

/// A release as numbers (`3.1.0` → `[3, 1, 0]`); pre-release parts are dropped.
pub type Release = Vec<u64>;

/// Parses the leading numeric release of `s` (`"3.1.0rc1"` → `[3, 1, 0]`).
pub fn parse(s: &str) -> Option<Release> {
    let mut out = Vec::new();
    for part in s.trim().split('.') {
        let digits: String = part.chars().take_while(|c| c.is_ascii_digit()).collect();
        if digits.is_empty() {
            break;
        }
        out.push(digits.parse().ok()?);
        if digits.len() != part.len() {
            break;
        }
    }
    (!out.is_empty()).then_some(out)
}

fn cmp(a: &[u64], b: &[u64]) -> std::cmp::Ordering {
    let n = a.len().max(b.len());
    for i in 0..n {
        let (x, y) = (
            a.get(i).copied().unwrap_or(0),
            b.get(i).copied().unwrap_or(0),
        );
        if x != y {
            return x.cmp(&y);
        }
    }
    std::cmp::Ordering::Equal
}

/// Is every version a PEP 440 specifier set allows below `min`? `spec` is the part
/// after the project name (`">=3.0,<3.1"`, `"==0.29.36"`). `false` when the set has no
/// upper bound or cannot be read.
pub fn pep440_caps_below(spec: &str, min: &[u64]) -> bool {
    spec.split(',').any(|clause| {
        let c = clause.trim();
        let (op, v) = split_op(c);
        let wildcard = v.ends_with(".*");
        let Some(ver) = parse(v.trim_end_matches(".*")) else {
            return false;
        };
        match op {
            "<" => cmp(&ver, min) != std::cmp::Ordering::Greater,
            "<=" | "===" => cmp(&ver, min) == std::cmp::Ordering::Less,
            "==" if wildcard => {
                // `==3.0.*` allows 3.0.x: below `min` when the prefix is below min's prefix.
                let n = ver.len();
                cmp(&ver, &min[..n.min(min.len())]) == std::cmp::Ordering::Less
            }
            "==" => cmp(&ver, min) == std::cmp::Ordering::Less,
            "~=" => {
                // `~=X.Y.Z` allows up to X.Y.*: below min when X.Y < min's X.Y.
                let n = ver.len().saturating_sub(1).max(1);
                cmp(&ver[..n], &min[..n.min(min.len())]) == std::cmp::Ordering::Less
            }
            _ => false,
        }
    })
}

fn split_op(c: &str) -> (&str, &str) {
    for op in ["===", "==", "~=", "<=", ">=", "!=", "<", ">"] {
        if let Some(rest) = c.strip_prefix(op) {
            return (op, rest.trim());
        }
    }
    ("", c)
}

/// Splits a PEP 508 requirement string (`"Cython>=3.1; python_version>'3.8'"`) into a
/// normalised name and its specifier text.
pub fn split_requirement(req: &str) -> (String, String) {
    let req = req.split(';').next().unwrap_or(req).trim();
    let end = req
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(req.len());
    let name = req[..end].to_ascii_lowercase().replace('_', "-");
    let mut spec = req[end..].trim();
    if let Some(rest) = spec.strip_prefix('[') {
        spec = rest.split_once(']').map(|(_, r)| r.trim()).unwrap_or("");
    }
    (name, spec.trim_matches(|c| c == '(' || c == ')').to_owned())
}

/// Is every version a Cargo requirement allows below `min`?
pub fn cargo_caps_below(req: &str, min: &[u64]) -> bool {
    req.split(',').any(|clause| {
        let c = clause.trim();
        if let Some(v) = c.strip_prefix('=') {
            return parse(v).is_some_and(|v| cmp(&v, min) == std::cmp::Ordering::Less);
        }
        if let Some(v) = c.strip_prefix("<=") {
            return parse(v).is_some_and(|v| cmp(&v, min) == std::cmp::Ordering::Less);
        }
        if let Some(v) = c.strip_prefix('<') {
            return parse(v).is_some_and(|v| cmp(&v, min) != std::cmp::Ordering::Greater);
        }
        if c.starts_with('>') || c.starts_with('*') {
            return false;
        }
        let tilde = c.starts_with('~');
        let Some(v) = parse(c.trim_start_matches(['^', '~'])) else {
            return false;
        };
        // Caret/tilde upper bound: the first non-zero part (caret) or the minor (tilde) bumps.
        let upper = if tilde {
            match v.len() {
                1 => vec![v[0] + 1],
                _ => vec![v[0], v[1] + 1],
            }
        } else {
            let i = v.iter().position(|x| *x != 0).unwrap_or(v.len() - 1);
            let mut u: Vec<u64> = v[..=i].to_vec();
            u[i] += 1;
            u
        };
        cmp(&upper, min) != std::cmp::Ordering::Greater
    })
}

/// Is an exact version below `min`?
pub fn below(version: &str, min: &[u64]) -> bool {
    parse(version).is_some_and(|v| cmp(&v, min) == std::cmp::Ordering::Less)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep440_upper_bounds() {
        assert!(pep440_caps_below("<3.1", &[3, 1, 0]));
        assert!(pep440_caps_below(">=0.29,<3.1", &[3, 1, 0]));
        assert!(pep440_caps_below("==3.0.11", &[3, 1, 0]));
        assert!(pep440_caps_below("==3.0.*", &[3, 1, 0]));
        assert!(pep440_caps_below("~=3.0.5", &[3, 1, 0]));
        assert!(!pep440_caps_below(">=3.1", &[3, 1, 0]));
        assert!(!pep440_caps_below("", &[3, 1, 0]));
        assert!(!pep440_caps_below("==3.1.2", &[3, 1, 0]));
        assert!(!pep440_caps_below("<4", &[3, 1, 0]));
        assert!(pep440_caps_below("<75.7", &[75, 7, 0]));
    }

    #[test]
    fn cargo_requirements() {
        assert!(cargo_caps_below("0.22", &[0, 23]));
        assert!(cargo_caps_below("^0.22.3", &[0, 23]));
        assert!(cargo_caps_below("=0.22.5", &[0, 23]));
        assert!(!cargo_caps_below("0.23", &[0, 23]));
        assert!(!cargo_caps_below(">=0.20", &[0, 23]));
        assert!(cargo_caps_below("0.27", &[0, 28]));
        assert!(!cargo_caps_below("0.28.1", &[0, 28]));
    }

    #[test]
    fn requirement_split() {
        assert_eq!(
            split_requirement("Cython>=3.1; python_version>'3.8'"),
            ("cython".into(), ">=3.1".into())
        );
        assert_eq!(
            split_requirement("pybind11[global] ==2.12.0"),
            ("pybind11".into(), "==2.12.0".into())
        );
        assert_eq!(
            split_requirement("setuptools"),
            ("setuptools".into(), "".into())
        );
    }
}
