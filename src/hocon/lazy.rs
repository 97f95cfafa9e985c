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
use super::Document;

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
            for child in children {
                build_in(child, buf, syntax, ruby_cr)?;
            }
        }
        Node::Token(_) | Node::Path(_) | Node::Simple(_) | Node::Removed => {}
    }
    Ok(())
}

fn contains_lazy(node: &Node) -> bool {
    matches!(node, Node::Lazy(..)) || node.children().iter().any(contains_lazy)
}

impl Document {
    /// Whether any value is still kept lazily.
    pub(super) fn has_lazy_values(&self) -> bool {
        self.root.iter().any(contains_lazy)
    }

    /// Builds every lazily kept value.
    pub(super) fn build_all(&mut self) -> Result<(), RawError> {
        let ruby_cr = self.rules == EditRules::Ruby;
        for node in &mut self.root {
            build_in(node, &mut self.buf, self.syntax, ruby_cr)?;
        }
        Ok(())
    }

    /// A copy with every value built, for passes that read the whole tree.
    pub(super) fn fully_built(&self) -> Document {
        let mut full = self.clone();
        if let Err(e) = full.build_all() {
            // The skimmer only vouches for what the parser accepts, so this
            // cannot happen; if it did, reparsing without lazy values is
            // still right.
            debug_assert!(false, "a lazily kept value did not parse: {e:?}");
            if let Ok(doc) =
                Document::parse_values(&self.render(), self.syntax, self.rules, Values::Built)
            {
                return doc;
            }
        }
        full
    }
}

impl Document {
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
