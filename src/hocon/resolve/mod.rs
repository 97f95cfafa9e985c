//! The meaning of a document: its values with substitutions resolved and
//! (on request) includes followed, read from the lossless tree the editor
//! works on.
//!
//! Semantics are lightbend config's, as ruby-hocon 1.3.1 ports them (PE reads
//! pe.conf with ruby-hocon): `build.rs` is its `ConfigParser`, `subst.rs` its
//! resolution, `value.rs` its merges and concatenations. Where the two
//! differ from the `hocon-parser` crate, ruby-hocon wins; the differential
//! tests (tests/resolve_oracles.rs) and the fuzz target `resolve` compare
//! this module with both.
//!
//! Why not a library: the HOCON crate this project used (hocon-parser)
//! re-tokenized and re-parsed the rendered text, built its own tree and
//! resolved on a thread with a 256 MiB stack, several times per command;
//! that was nearly all the time of an edit on a large file. Here, nested
//! values kept lazily (`skim.rs`) stay text: a document without
//! substitutions is resolved as soon as it is built, and two lazily kept
//! values with the same text are equal without being read.

mod build;
mod subst;
mod value;

pub use build::{Include, IncludeKind, Includer, NoIncludes};
pub(crate) use value::{new_map, same, Object, Value};

use super::error::Location;
use super::{Document, EditRules, Syntax};
use std::path::{Path, PathBuf};

/// A resolved document.
#[derive(Clone, Debug)]
pub struct Resolved<'a> {
    root: Value<'a>,
}

impl<'a> Resolved<'a> {
    /// The root object.
    pub(crate) fn root(&self) -> &Value<'a> {
        &self.root
    }

    pub(crate) fn into_root(self) -> Value<'a> {
        self.root
    }

    /// The whole document as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        self.root.to_json()
    }

    /// The value at `path` (key elements) as JSON, if it is set.
    pub fn get(&self, path: &[String]) -> Option<serde_json::Value> {
        let mut at = self.root.clone();
        for key in path {
            at = at.get(key)?;
        }
        Some(at.to_json())
    }
}

/// Resolves `doc` on its own: include statements stand for nothing (they
/// name files this text does not contain); substitutions resolve within the
/// document, then from the environment.
pub fn document(doc: &Document) -> Result<Resolved<'_>, String> {
    resolve_with(doc, &mut NoIncludes)
}

/// Resolves `doc`, the text of the file at `path`, as PE reads it: includes
/// followed (see [`FileIncluder`]).
pub fn document_at<'a>(doc: &'a Document, path: &Path) -> Result<Resolved<'a>, String> {
    let mut includer = FileIncluder::for_file(path);
    resolve_with(doc, &mut includer)
}

/// Resolves `doc`, include statements read by `includer`.
pub(crate) fn resolve_with<'a>(
    doc: &'a Document,
    includer: &mut dyn Includer,
) -> Result<Resolved<'a>, String> {
    resolve_only(doc, includer, None)
}

fn resolve_only<'a>(
    doc: &'a Document,
    includer: &mut dyn Includer,
    only: Option<&[&str]>,
) -> Result<Resolved<'a>, String> {
    let built = build::document_only(doc, includer, only).map_err(|e| {
        let at = Location::of_offset(&doc.buf, e.offset);
        format!("{at}: {}", e.msg)
    })?;
    let env = |name: &str| std::env::var(name).ok();
    let root = subst::resolve(&built, &env)?;
    Ok(Resolved { root })
}

/// Whether the document may hold a substitution (`${` anywhere in its text;
/// without one, each root key means the same whatever the others say).
pub fn may_substitute(doc: &Document) -> bool {
    memchr::memmem::find(doc.buf.as_bytes(), b"${").is_some()
}

/// [`document`] restricted to the root keys `keys`: the other fields are
/// passed over, and the text that cannot hold one of the keys is not read.
/// Only for a document without substitutions ([`may_substitute`]), where
/// the keys' values cannot depend on the rest.
pub fn document_keys<'a>(doc: &'a Document, keys: &[&str]) -> Result<Resolved<'a>, String> {
    debug_assert!(!may_substitute(doc));
    resolve_only(doc, &mut NoIncludes, Some(keys))
}

/// [`document_at`], where only the root key `key` is wanted: without
/// substitutions (in the document or in what it includes), only that key is
/// built.
pub fn document_at_key<'a>(
    doc: &'a Document,
    path: &Path,
    key: &str,
) -> Result<Resolved<'a>, String> {
    if !may_substitute(doc) {
        let mut includer = FileIncluder::for_file(path);
        let built = build::document_only(doc, &mut includer, Some(&[key])).map_err(|e| {
            let at = Location::of_offset(&doc.buf, e.offset);
            format!("{at}: {}", e.msg)
        })?;
        if built.is_resolved() {
            return Ok(Resolved { root: built });
        }
    }
    document_at(doc, path)
}

/// Reads, parses and resolves the file at `path` (the dialect by its
/// extension, includes followed), as JSON.
pub fn file(path: &Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let doc = Document::parse_with(&text, crate::peconf::syntax_for(path), EditRules::Improved)
        .map_err(|e| format!("{}:{e}", path.display()))?;
    Ok(document_at(&doc, path)?.to_json())
}

/// How deep includes may nest (a file including one that includes ...).
const MAX_INCLUDE_DEPTH: usize = 32;

/// Follows include statements as lightbend config does for a file:
///
/// * `include "name"`: relative to the including file's directory; a name
///   with a URL scheme (`http:`, `file:`, ...) is a URL;
/// * `file("name")`: relative to the working directory;
/// * `url(...)` and `classpath(...)`: not followed (this tool fetches
///   nothing and has no class path), so they are missing;
/// * a name ending in `.conf` or `.json` is that file; any other name is
///   `name.conf` merged over `name.json` (`.properties` files are not read,
///   as ruby-hocon does not read them);
/// * a missing file is an empty object, unless the statement is
///   `required(...)`; a file that includes itself is an error.
pub struct FileIncluder {
    dir: PathBuf,
    /// The files being included, outermost first (canonical paths).
    stack: Vec<PathBuf>,
}

impl FileIncluder {
    /// Includes for the file at `path`.
    pub fn for_file(path: &Path) -> FileIncluder {
        FileIncluder {
            dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
            stack: std::fs::canonicalize(path).into_iter().collect(),
        }
    }

    fn missing(include: &Include, why: &str) -> Result<Value<'static>, String> {
        if include.required {
            Err(format!("the required include \"{}\" {why}", include.name))
        } else {
            Ok(Value::object(value::new_map(0)))
        }
    }

    fn by_basename(&mut self, include: &Include, base: &Path) -> Result<Value<'static>, String> {
        let name = base.to_string_lossy();
        if name.ends_with(".properties") {
            return Self::missing(include, "is a .properties file, which is not read");
        }
        let found = if name.ends_with(".conf") || name.ends_with(".json") {
            self.parse_one(base)?
        } else {
            let conf = self.parse_one(&PathBuf::from(format!("{name}.conf")))?;
            let json = self.parse_one(&PathBuf::from(format!("{name}.json")))?;
            match (conf, json) {
                (Some(c), Some(j)) => Some(c.with_fallback(j)),
                (c, j) => c.or(j),
            }
        };
        match found {
            Some(v) => Ok(v),
            None => Self::missing(include, "was not found"),
        }
    }

    /// The file's value, or `None` when there is no such file.
    fn parse_one(&mut self, path: &Path) -> Result<Option<Value<'static>>, String> {
        if !path.is_file() {
            return Ok(None);
        }
        let canonical =
            std::fs::canonicalize(path).map_err(|e| format!("{}: {e}", path.display()))?;
        if self.stack.contains(&canonical) {
            return Err(format!("{}: the file includes itself", path.display()));
        }
        if self.stack.len() >= MAX_INCLUDE_DEPTH {
            return Err(format!(
                "{}: includes nest more than {MAX_INCLUDE_DEPTH} files deep",
                path.display()
            ));
        }
        // Read as pe.conf is: a regular file within the size limit.
        let bytes = crate::files::read_regular(path, crate::files::max_file_size())
            .map_err(|e| e.to_string())?;
        let text =
            String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8 text", path.display()))?;
        let doc = Document::parse_with(&text, crate::peconf::syntax_for(path), EditRules::Improved)
            .map_err(|e| format!("{}:{e}", path.display()))?;
        let mut inner = FileIncluder {
            dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
            stack: self.stack.iter().cloned().chain([canonical]).collect(),
        };
        let value = build::document(&doc, &mut inner).map_err(|e| {
            let at = Location::of_offset(&doc.buf, e.offset);
            format!("{}:{at}: {}", path.display(), e.msg)
        })?;
        Ok(Some(value.into_owned()))
    }
}

/// Whether an include name is a URL (has a scheme such as `http:`).
fn has_url_scheme(name: &str) -> bool {
    match name.split_once(':') {
        Some((scheme, _)) => {
            scheme.len() > 1
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

impl Includer for FileIncluder {
    fn include(&mut self, include: &Include) -> Result<Value<'static>, String> {
        match include.kind {
            IncludeKind::Url | IncludeKind::Classpath => Self::missing(
                include,
                "is not a file (url() and classpath() are not followed)",
            ),
            IncludeKind::Heuristic if has_url_scheme(&include.name) => {
                Self::missing(include, "is a URL, which is not followed")
            }
            IncludeKind::Heuristic => {
                let base = self.dir.join(&include.name);
                self.by_basename(include, &base)
            }
            IncludeKind::File => {
                let base = PathBuf::from(&include.name);
                self.by_basename(include, &base)
            }
        }
    }
}

/// Resolves `text` on its own (includes stand for nothing), as JSON.
pub fn text(text: &str, syntax: Syntax) -> Result<serde_json::Value, String> {
    let doc = Document::parse_with(text, syntax, EditRules::Improved).map_err(|e| e.to_string())?;
    Ok(document(&doc)?.to_json())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn json(t: &str) -> serde_json::Value {
        text(t, Syntax::Conf).unwrap_or_else(|e| panic!("{t}: {e}"))
    }

    fn error(t: &str) -> String {
        text(t, Syntax::Conf).unwrap_err()
    }

    #[test]
    fn plain_documents() {
        assert_eq!(
            json("a: 1\nb { c: [1, {d: true}], e = null }\n\"x.y\" = 1.5\na.b: 2\n"),
            json!({"a": {"b": 2}, "b": {"c": [1, {"d": true}], "e": null}, "x.y": 1.5})
        );
        assert_eq!(
            json("{ \"k\": { \"a\": 1 }, \"k\": { \"b\": 2 } }"),
            json!({"k": {"a": 1, "b": 2}})
        );
        assert_eq!(
            json("a: foo  bar 10 true\nb: \"\"\"x\\n\"\"\""),
            json!({"a": "foo  bar 10 true", "b": "x\\n"})
        );
        assert_eq!(
            json("a: [1] [2]\nb: {x: 1} {y: 2}"),
            json!({"a": [1, 2], "b": {"x": 1, "y": 2}})
        );
    }

    #[test]
    fn substitutions() {
        assert_eq!(
            json("a: 1\nb: ${a}\nc { d: ${b} x, e: ${?nope} }\n"),
            json!({"a": 1, "b": 1, "c": {"d": "1 x"}})
        );
        assert_eq!(json("a: {x: 1, y: ${a.x}}"), json!({"a": {"x": 1, "y": 1}}));
        assert_eq!(
            json("b: ${a}\na: {x: 1}\na: {y: 2}"),
            json!({"a": {"x": 1, "y": 2}, "b": {"x": 1, "y": 2}})
        );
        // Looking backward.
        assert_eq!(json("p: [1]\np: ${p} [2]\np += 3"), json!({"p": [1, 2, 3]}));
        assert_eq!(json("a += 1\na += 2"), json!({"a": [1, 2]}));
        assert_eq!(json("s: x\ns: ${s}y"), json!({"s": "xy"}));
        assert_eq!(
            json("o: {a: 1}\no: ${o} {b: 2}"),
            json!({"o": {"a": 1, "b": 2}})
        );
        assert_eq!(json("a: ${?b}\nb: ${?a}"), json!({}));
        // An optional substitution that is not set leaves the earlier value.
        assert_eq!(json("a: 1\na: ${?nope}"), json!({"a": 1}));
        assert_eq!(json("a: [${?nope}, 1]"), json!({"a": [1]}));
    }

    #[test]
    fn substitution_errors() {
        assert!(
            error("a: ${nope}").contains("${nope} is not set"),
            "{}",
            error("a: ${nope}")
        );
        assert!(error("a: ${b}\nb: ${a}").contains("cycle"));
        assert!(error("bar: {foo: 42, baz: ${bar}}").contains("cycle"));
        assert!(error("a: ${a}").contains("cycle"));
        // An unquoted string after a list is dropped (lightbend and ruby-hocon do so).
        assert_eq!(json("a: [1] x"), json!({"a": [1]}));
        assert!(error("a: [1] \"x\"").contains("cannot concatenate"));
        let chain: String = (0..2000)
            .map(|i| format!("a{i}: ${{a{}}}\n", i + 1))
            .collect::<String>()
            + "a2000: 1\n";
        assert!(error(&chain).contains("nest"), "{}", error(&chain));
        assert!(error("a: [x { b += 1 }]").contains("`+=` inside a list"));
        assert!(error("a: ${\"\"}").contains("not set"));
        assert!(error("a: ${a.}").contains("does not name a path"));
    }

    #[test]
    fn environment_and_includes() {
        std::env::set_var("PE_ANALYTICS_RESOLVE_TEST", "from-env");
        assert_eq!(
            json("a: ${PE_ANALYTICS_RESOLVE_TEST}\nb: ${?PE_ANALYTICS_RESOLVE_TEST.x}"),
            json!({"a": "from-env"})
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("inner.conf"), "x: 1\ny: ${z}\n").unwrap();
        std::fs::write(dir.path().join("inner.json"), "{\"x\": 2, \"w\": 3}").unwrap();
        let main = dir.path().join("main.conf");
        std::fs::write(
            &main,
            "z: 5\ninclude \"inner\"\nn { include \"inner.conf\", z: 6 }\ninclude \"missing\"\n",
        )
        .unwrap();
        assert_eq!(
            file(&main).unwrap(),
            json!({"z": 5, "x": 1, "y": 5, "w": 3, "n": {"x": 1, "y": 6, "z": 6}})
        );
        std::fs::write(&main, "include required(\"missing\")\n").unwrap();
        assert!(file(&main).unwrap_err().contains("required include"));
        std::fs::write(&main, "include \"main.conf\"\n").unwrap();
        assert!(file(&main).unwrap_err().contains("includes itself"));
    }
}
