//! Reading a wheel in memory: file-name tags (with compressed tag sets), the
//! `Tag:` lines of `*.dist-info/WHEEL`, `Requires-Python` and the free-threading
//! classifiers of `METADATA`, extension-module members and their suffixes. Nothing
//! is extracted; member sizes and the total uncompressed size are capped.

use std::io::Read;
use std::path::Path;

/// One interpreter tag triple, e.g. `cp313-cp313t-manylinux_2_17_x86_64`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Tag {
    pub python: String,
    pub abi: String,
    pub platform: String,
}

impl std::fmt::Display for Tag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}-{}", self.python, self.abi, self.platform)
    }
}

/// A parsed wheel file name: `{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelName {
    pub project: String,
    pub version: String,
    pub python: Vec<String>,
    pub abi: Vec<String>,
    pub platform: Vec<String>,
}

impl WheelName {
    pub fn parse(file_name: &str) -> Result<WheelName, String> {
        let stem = file_name
            .strip_suffix(".whl")
            .ok_or_else(|| format!("`{file_name}` does not end in .whl"))?;
        let parts: Vec<&str> = stem.split('-').collect();
        if parts.len() != 5 && parts.len() != 6 {
            return Err(format!(
                "`{file_name}` is not a wheel file name (expected name-version[-build]-python-abi-platform.whl)"
            ));
        }
        let n = parts.len();
        let split = |s: &str| s.split('.').map(str::to_owned).collect::<Vec<_>>();
        Ok(WheelName {
            project: parts[0].to_owned(),
            version: parts[1].to_owned(),
            python: split(parts[n - 3]),
            abi: split(parts[n - 2]),
            platform: split(parts[n - 1]),
        })
    }

    /// The project name normalised as in PEP 503 (`Foo_Bar` → `foo-bar`).
    pub fn normalized_project(&self) -> String {
        let mut out = String::new();
        for c in self.project.chars() {
            let c = if matches!(c, '_' | '.' | '-') {
                '-'
            } else {
                c.to_ascii_lowercase()
            };
            if !(c == '-' && out.ends_with('-')) {
                out.push(c);
            }
        }
        out
    }

    /// Every tag triple of the (possibly compressed) tag set.
    pub fn tags(&self) -> Vec<Tag> {
        let mut v = Vec::new();
        for p in &self.python {
            for a in &self.abi {
                for pl in &self.platform {
                    v.push(Tag {
                        python: p.clone(),
                        abi: a.clone(),
                        platform: pl.clone(),
                    });
                }
            }
        }
        v.sort();
        v
    }
}

/// What an ABI tag says about the interpreter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Abi {
    /// `cp313` (`free_threaded: false`) or `cp313t`.
    Cpython { minor: u32, free_threaded: bool },
    /// `abi3`: the stable ABI of GIL builds.
    Abi3,
    /// `abi3t`: the free-threaded stable ABI (3.15+).
    Abi3t,
    /// `none`, or an ABI of another implementation.
    Other,
}

/// Parses an ABI tag such as `cp313t`, `cp313td`, `cp39`, `abi3`, `abi3t`, `none`.
pub fn parse_abi(tag: &str) -> Abi {
    match tag {
        "abi3" => return Abi::Abi3,
        "abi3t" => return Abi::Abi3t,
        _ => {}
    }
    let Some(rest) = tag.strip_prefix("cp3") else {
        return Abi::Other;
    };
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    let flags = &rest[digits.len()..];
    let Ok(minor) = digits.parse::<u32>() else {
        return Abi::Other;
    };
    if !flags.chars().all(|c| matches!(c, 't' | 'd' | 'm' | 'u')) {
        return Abi::Other;
    }
    Abi::Cpython {
        minor,
        free_threaded: flags.contains('t'),
    }
}

/// The minor version of a CPython interpreter tag (`cp313` → 13).
pub fn python_tag_minor(tag: &str) -> Option<u32> {
    tag.strip_prefix("cp3")?.parse().ok()
}

/// The part of an extension module's file name after the module name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Suffix {
    /// `.cpython-313t-x86_64-linux-gnu.so`, `.cp313t-win_amd64.pyd`, `.cpython-313-darwin.so`.
    Versioned {
        minor: u32,
        free_threaded: bool,
        text: String,
    },
    /// `.abi3.so`
    Abi3,
    /// `.abi3t.so`
    Abi3t,
    /// `.so`, `.pyd`, `.dylib`: no interpreter in the name.
    Plain,
}

/// Splits a binary's file name into module name and suffix, if it is named like an
/// extension module (`.so`, `.pyd`, `.dylib`).
pub fn extension_suffix(file_name: &str) -> Option<(String, Suffix)> {
    let lower = file_name.to_ascii_lowercase();
    if !(lower.ends_with(".so") || lower.ends_with(".pyd") || lower.ends_with(".dylib")) {
        return None;
    }
    let (module, rest) = file_name.split_once('.')?;
    let middle: Vec<&str> = rest.split('.').collect();
    let suffix = match middle.as_slice() {
        [_] => Suffix::Plain,
        ["abi3", _] => Suffix::Abi3,
        ["abi3t", _] => Suffix::Abi3t,
        [tag, _] => {
            let version = tag
                .strip_prefix("cpython-")
                .or_else(|| tag.strip_prefix("cp"));
            let Some(version) = version else {
                return Some((module.to_owned(), Suffix::Plain));
            };
            let v = version.split('-').next().unwrap_or_default();
            let digits: String = v.chars().take_while(|c| c.is_ascii_digit()).collect();
            let flags = &v[digits.len()..];
            match digits.strip_prefix('3').and_then(|d| d.parse::<u32>().ok()) {
                Some(minor) => Suffix::Versioned {
                    minor,
                    free_threaded: flags.contains('t'),
                    text: format!(".{rest}"),
                },
                None => Suffix::Plain,
            }
        }
        _ => Suffix::Plain,
    };
    Some((module.to_owned(), suffix))
}

/// Limits on what is decompressed into memory.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_member: u64,
    pub max_total: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_member: 256 << 20,
            max_total: 1 << 30,
        }
    }
}

/// An extension binary inside a wheel, read into memory.
#[derive(Debug)]
pub struct Member {
    pub name: String,
    pub data: Vec<u8>,
}

/// Something wrong with the archive itself (a finding, not a read failure).
#[derive(Debug, Clone)]
pub struct ArchiveDefect {
    pub member: Option<String>,
    pub message: String,
}

/// Everything read from one wheel.
#[derive(Debug, Default)]
pub struct WheelContents {
    /// Tags of the `Tag:` lines of `*.dist-info/WHEEL`, if the file was found.
    pub wheel_tags: Option<Vec<Tag>>,
    /// Entries in the archive's central directory.
    pub members: usize,
    pub requires_python: Option<String>,
    /// `Programming Language :: Python :: Free Threading` classifiers.
    pub free_threading_classifiers: Vec<String>,
    pub binaries: Vec<Member>,
    pub defects: Vec<ArchiveDefect>,
    /// Members that could not be read (corrupt data), with the reason.
    pub unreadable: Vec<(String, String)>,
}

/// Is a member name unsafe to extract: absolute, a drive letter, or with `..`?
pub fn unsafe_member_name(name: &str) -> Option<&'static str> {
    if name.starts_with('/') || name.starts_with('\\') {
        return Some("is an absolute path");
    }
    let b = name.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        return Some("starts with a drive letter");
    }
    if name.split(['/', '\\']).any(|c| c == "..") {
        return Some("contains a `..` component");
    }
    None
}

/// Reads a wheel without extracting it. `Err` when the file is not a readable zip.
pub fn read_wheel(path: &Path, limits: Limits) -> Result<WheelContents, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| format!("not a readable wheel (zip archive): {e}"))?;
    let mut out = WheelContents {
        members: archive.len(),
        ..Default::default()
    };
    let mut declared_total: u64 = 0;
    let mut metas: Vec<(usize, String)> = Vec::new();
    let mut bins: Vec<(usize, String)> = Vec::new();
    for i in 0..archive.len() {
        let entry = match archive.by_index_raw(i) {
            Ok(e) => e,
            Err(e) => {
                out.unreadable.push((format!("entry #{i}"), e.to_string()));
                continue;
            }
        };
        let name = entry.name().to_owned();
        let size = entry.size();
        drop(entry);
        declared_total = declared_total.saturating_add(size);
        if let Some(why) = unsafe_member_name(&name) {
            out.defects.push(ArchiveDefect { member: Some(name.clone()), message: format!("member `{name}` {why}; an installer that extracts it writes outside the install folder") });
            continue;
        }
        if name.ends_with('/') {
            continue;
        }
        let top = name.split('/').next().unwrap_or_default();
        let depth = name.matches('/').count();
        if depth == 1
            && top.ends_with(".dist-info")
            && (name.ends_with("/WHEEL") || name.ends_with("/METADATA"))
        {
            metas.push((i, name));
        } else if extension_suffix(name.rsplit('/').next().unwrap_or_default()).is_some() {
            if size > limits.max_member {
                out.defects.push(ArchiveDefect {
                    member: Some(name.clone()),
                    message: format!("member `{name}` declares {size} bytes uncompressed, over the {} byte limit: not read (zip bomb?)", limits.max_member),
                });
                continue;
            }
            bins.push((i, name));
        }
    }
    if declared_total > limits.max_total {
        out.defects.push(ArchiveDefect {
            member: None,
            message: format!("the members declare {declared_total} bytes uncompressed in total, over the {} byte limit (zip bomb?); binaries past the limit are not read", limits.max_total),
        });
    }
    let mut total_read: u64 = 0;
    for (i, name) in metas {
        let data = match read_member(&mut archive, i, 1 << 20) {
            Ok(Capped::Whole(d)) => d,
            Ok(Capped::Over) => {
                out.defects.push(ArchiveDefect {
                    member: Some(name.clone()),
                    message: format!("member `{name}` is larger than 1 MiB: not read (zip bomb?)"),
                });
                continue;
            }
            Err(e) => {
                out.unreadable.push((name, e));
                continue;
            }
        };
        let text = String::from_utf8_lossy(&data);
        if name.ends_with("/WHEEL") {
            out.wheel_tags = Some(parse_wheel_file_tags(&text));
        } else {
            let (requires, classifiers) = parse_metadata(&text);
            out.requires_python = requires;
            out.free_threading_classifiers = classifiers;
        }
    }
    for (i, name) in bins {
        let budget = limits
            .max_member
            .min(limits.max_total.saturating_sub(total_read));
        match read_member(&mut archive, i, budget) {
            Ok(Capped::Whole(data)) => {
                total_read += data.len() as u64;
                out.binaries.push(Member { name, data });
            }
            Ok(Capped::Over) => out.defects.push(ArchiveDefect {
                member: Some(name.clone()),
                message: format!("member `{name}` decompresses to more than {budget} bytes (zip bomb?): reading stopped there"),
            }),
            Err(e) => out.unreadable.push((name, e)),
        }
    }
    Ok(out)
}

enum Capped {
    Whole(Vec<u8>),
    Over,
}

fn read_member<R: std::io::Read + std::io::Seek>(
    archive: &mut zip::ZipArchive<R>,
    i: usize,
    cap: u64,
) -> Result<Capped, String> {
    let entry = archive.by_index(i).map_err(|e| e.to_string())?;
    let mut data = Vec::new();
    entry
        .take(cap.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(|e| format!("corrupt data: {e}"))?;
    if data.len() as u64 > cap {
        return Ok(Capped::Over);
    }
    Ok(Capped::Whole(data))
}

/// `Tag: cp313-cp313t-manylinux_2_17_x86_64` lines (each may itself be compressed).
pub fn parse_wheel_file_tags(text: &str) -> Vec<Tag> {
    let mut tags = Vec::new();
    for line in text.lines() {
        let Some(value) = line.strip_prefix("Tag:") else {
            continue;
        };
        let parts: Vec<&str> = value.trim().split('-').collect();
        let [py, abi, plat] = parts.as_slice() else {
            continue;
        };
        for p in py.split('.') {
            for a in abi.split('.') {
                for pl in plat.split('.') {
                    tags.push(Tag {
                        python: p.to_owned(),
                        abi: a.to_owned(),
                        platform: pl.to_owned(),
                    });
                }
            }
        }
    }
    tags.sort();
    tags.dedup();
    tags
}

/// `Requires-Python` and the free-threading classifiers from the header block of
/// `METADATA`.
pub fn parse_metadata(text: &str) -> (Option<String>, Vec<String>) {
    let mut requires = None;
    let mut classifiers = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Requires-Python:") {
            requires = Some(v.trim().to_owned());
        } else if let Some(v) = line.strip_prefix("Classifier:") {
            let v = v.trim();
            if v.starts_with("Programming Language :: Python :: Free Threading") {
                classifiers.push(v.to_owned());
            }
        }
    }
    (requires, classifiers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wheel_names_and_compressed_tags() {
        let w = WheelName::parse("Foo_Bar-1.0-1-cp313.cp313t-cp313.cp313t-manylinux_2_17_x86_64.manylinux2014_x86_64.whl").unwrap();
        assert_eq!(w.normalized_project(), "foo-bar");
        assert_eq!(w.tags().len(), 8);
        assert!(WheelName::parse("foo-1.0.whl").is_err());
        assert!(WheelName::parse("foo.zip").is_err());
    }

    #[test]
    fn abi_tags() {
        assert_eq!(
            parse_abi("cp313t"),
            Abi::Cpython {
                minor: 13,
                free_threaded: true
            }
        );
        assert_eq!(
            parse_abi("cp313td"),
            Abi::Cpython {
                minor: 13,
                free_threaded: true
            }
        );
        assert_eq!(
            parse_abi("cp39"),
            Abi::Cpython {
                minor: 9,
                free_threaded: false
            }
        );
        assert_eq!(parse_abi("abi3"), Abi::Abi3);
        assert_eq!(parse_abi("none"), Abi::Other);
        assert_eq!(parse_abi("pypy310_pp73"), Abi::Other);
    }

    #[test]
    fn suffixes() {
        let s = |n: &str| extension_suffix(n).map(|x| x.1);
        assert!(matches!(
            s("spam.cpython-313t-x86_64-linux-gnu.so"),
            Some(Suffix::Versioned {
                minor: 13,
                free_threaded: true,
                ..
            })
        ));
        assert!(matches!(
            s("spam.cpython-313-darwin.so"),
            Some(Suffix::Versioned {
                minor: 13,
                free_threaded: false,
                ..
            })
        ));
        assert!(matches!(
            s("spam.cp314t-win_amd64.pyd"),
            Some(Suffix::Versioned {
                minor: 14,
                free_threaded: true,
                ..
            })
        ));
        assert_eq!(s("spam.abi3.so"), Some(Suffix::Abi3));
        assert_eq!(s("spam.abi3t.so"), Some(Suffix::Abi3t));
        assert_eq!(s("spam.pyd"), Some(Suffix::Plain));
        assert_eq!(s("spam.py"), None);
        assert_eq!(s("libfoo.so.1"), None);
    }

    #[test]
    fn member_names() {
        assert!(unsafe_member_name("../evil.so").is_some());
        assert!(unsafe_member_name("pkg/../../evil").is_some());
        assert!(unsafe_member_name("/etc/passwd").is_some());
        assert!(unsafe_member_name("C:evil").is_some());
        assert!(unsafe_member_name("pkg/..data/ok").is_none());
    }

    #[test]
    fn metadata_and_wheel_file() {
        let (r, c) = parse_metadata("Metadata-Version: 2.1\nName: x\nRequires-Python: >=3.9\nClassifier: Programming Language :: Python :: Free Threading :: 2 - Beta\nClassifier: Programming Language :: C\n\nClassifier: Programming Language :: Python :: Free Threading :: fake\n");
        assert_eq!(r.as_deref(), Some(">=3.9"));
        assert_eq!(c.len(), 1);
        let t = parse_wheel_file_tags("Wheel-Version: 1.0\nTag: cp313-cp313t-linux_x86_64\nTag: cp314-cp314.cp314t-linux_x86_64\n");
        assert_eq!(t.len(), 3);
    }
}
