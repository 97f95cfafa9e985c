//! Values kept lazily: building the nodes of [`Node::Lazy`] spans when an
//! edit or a walk needs them, and the check that a lazy parse means exactly
//! what a parse that builds everything means.
//!
//! Why lazily: see `skim.rs`. The parser keeps objects and arrays nested in
//! root fields as spans; an edit of one key builds only the values on its
//! path, and rendering copies the spans unchanged.

use super::edit::EditRules;
use super::error::RawError;
use super::parser::{self, Values};
use super::token::Syntax;
use super::tree::Node;
use super::{resolve, Document};

/// Replaces every lazily kept value in `node` (itself included) with its
/// nodes. `ruby_cr` must be what the document was tokenized with.
pub(super) fn build_in(
    node: &mut Node,
    buf: &mut String,
    syntax: Syntax,
    ruby_cr: bool,
) -> Result<(), RawError> {
    match node {
        // What the parser builds here holds no lazy value: it keeps values
        // lazily only when asked to, for a whole document.
        Node::Lazy(span, _) => *node = parser::expand(buf, *span, syntax, ruby_cr)?,
        Node::Field(children)
        | Node::Include(children)
        | Node::Object(children)
        | Node::Array(children)
        | Node::Concat(children) => {
            expand_members_in(children, buf, syntax, ruby_cr, &|_, _| true);
            for child in children {
                build_in(child, buf, syntax, ruby_cr)?;
            }
        }
        Node::Token(_) | Node::Path(_) | Node::Simple(_) | Node::Members(..) | Node::Removed => {}
    }
    Ok(())
}

/// Replaces the runs of members kept as spans ([`Node::Members`]) in
/// `children` for which `wanted(index, node)` holds by their nodes (whose
/// values may still be kept lazily).
pub(super) fn expand_members_in(
    children: &mut Vec<Node>,
    buf: &mut String,
    syntax: Syntax,
    ruby_cr: bool,
    wanted: &dyn Fn(usize, &Node) -> bool,
) {
    let wanted: Vec<bool> = children
        .iter()
        .enumerate()
        .map(|(i, c)| matches!(c, Node::Members(..)) && wanted(i, c))
        .collect();
    if !wanted.contains(&true) {
        return;
    }
    let old = std::mem::take(children);
    children.reserve(old.len() + 64);
    for (child, expand) in old.into_iter().zip(wanted) {
        match child {
            Node::Members(run, depth, line_end) if expand => children.extend(
                parser::expand_members(buf, run, depth, line_end, syntax, ruby_cr),
            ),
            other => children.push(other),
        }
    }
}

impl Document {
    /// Builds every lazily kept value.
    pub(super) fn build_all(&mut self) -> Result<(), RawError> {
        let ruby_cr = self.rules == EditRules::Ruby;
        for node in &mut self.root {
            build_in(node, &mut self.buf, self.syntax, ruby_cr)?;
        }
        Ok(())
    }

    /// For tests and fuzzing: this document with every lazily kept value
    /// built, as if parsed without skimming. Edits on it must give what the
    /// same edits give on the lazy document.
    #[doc(hidden)]
    pub fn with_values_built(mut self) -> Document {
        match self.build_all() {
            Ok(()) => self,
            Err(e) => panic!("a lazily kept value did not parse: {e:?}"),
        }
    }
}

/// For tests and fuzzing: parses `text` with nested values kept lazily (as
/// every public entry point does) and with all values built, and says how
/// the two differ, if they do: in success or error, in the error, in the
/// render, or in the nodes once the lazy values are built. `None` when they
/// agree.
pub fn lazy_parse_disagreement(text: &str, syntax: Syntax, rules: EditRules) -> Option<String> {
    let lazy = Document::parse_values(text, syntax, rules, Values::Lazy);
    let built = Document::parse_values(text, syntax, rules, Values::Built);
    match (lazy, built) {
        (Err(a), Err(b)) => {
            (a.to_string() != b.to_string()).then(|| format!("errors differ: lazy {a}, built {b}"))
        }
        (Ok(_), Err(e)) => Some(format!("only the built parse failed: {e}")),
        (Err(e), Ok(_)) => Some(format!("only the lazy parse failed: {e}")),
        (Ok(mut lazy), Ok(built)) => {
            if lazy.render() != built.render() {
                return Some("renders differ".into());
            }
            // A walk reads lazily kept values from their text (`plain.rs`),
            // and so does the resolver: both must see what the nodes say.
            let (lazy_fields, built_fields) = (lazy.fields(), built.fields());
            if lazy_fields != built_fields {
                return Some(format!(
                    "fields differ:\nlazy:  {lazy_fields:?}\nbuilt: {built_fields:?}"
                ));
            }
            match (resolve::document(&lazy), resolve::document(&built)) {
                (Ok(a), Ok(b)) if !resolve::same(a.root(), b.root()) => {
                    return Some(format!(
                        "resolved values differ:\nlazy:  {}\nbuilt: {}",
                        a.to_json(),
                        b.to_json()
                    ))
                }
                (Ok(_), Err(e)) | (Err(e), Ok(_)) => {
                    return Some(format!("only one side resolves: {e}"))
                }
                _ => {}
            }
            if let Err(e) = lazy.build_all() {
                return Some(format!("a lazy value did not build: {e:?}"));
            }
            (lazy.root != built.root).then(|| {
                format!(
                    "trees differ:\nlazy:  {:?}\nbuilt: {:?}",
                    lazy.root, built.root
                )
            })
        }
    }
}
