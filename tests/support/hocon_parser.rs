//! The `hocon-parser` crate as a test-time oracle of the resolver
//! (src/hocon/resolve/): differential tests and the `resolve` fuzz target
//! (which includes this file). The crate recursed without end on some inputs
//! (found by fuzzing it when the tool used it at run time), so inputs it
//! cannot take are refused first, and it runs on a thread with a large stack
//! with its panics caught.

#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};

/// hocon-parser's resolution of `text` (includes not followed), or why not.
/// `Err` starting with "refused:" when the input is one it cannot take.
pub fn resolve_text(text: &str) -> Result<Value, String> {
    let text = text.to_string();
    guarded(move || {
        let tokens = hocon::tokenize(&text).map_err(|e| e.to_string())?;
        precheck_tokens(&tokens, false).map_err(|e| format!("refused: {e}"))?;
        let opts = hocon::ParseOptions::defaults().with_origin_description("pe.conf".into());
        let config = hocon::parse_string_with_options(&text, opts).map_err(|e| e.to_string())?;
        config.deserialize::<Value>().map_err(|e| e.to_string())
    })
}

/// hocon-parser's resolution of the file at `path` (includes followed).
pub fn resolve_file(path: &Path) -> Result<Value, String> {
    let path: PathBuf = path.to_path_buf();
    guarded(move || {
        let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        let tokens = hocon::tokenize(&text).map_err(|e| e.to_string())?;
        precheck_tokens(&tokens, true).map_err(|e| format!("refused: {e}"))?;
        let config = hocon::parse_file(&path).map_err(|e| e.to_string())?;
        config.deserialize::<Value>().map_err(|e| e.to_string())
    })
}

fn guarded(work: impl FnOnce() -> Result<Value, String> + Send + 'static) -> Result<Value, String> {
    const STACK: usize = 256 * 1024 * 1024;
    std::thread::Builder::new()
        .name("hocon-parser".into())
        .stack_size(STACK)
        .spawn(work)
        .map_err(|e| format!("cannot start a thread: {e}"))?
        .join()
        .unwrap_or_else(|_| Err("refused: hocon-parser panicked".into()))
}

pub fn precheck_tokens(tokens: &[hocon::Token], includes_allowed: bool) -> Result<(), String> {
    use hocon::TokenKind as K;
    const MAX_DEPTH: usize = 128;
    const MAX_SUBSTITUTIONS: usize = 1_000;
    let substitutions = tokens.iter().filter(|t| t.kind == K::Substitution).count();
    if substitutions > MAX_SUBSTITUTIONS {
        return Err(format!(
            "{substitutions} substitutions; at most {MAX_SUBSTITUTIONS} are supported"
        ));
    }
    // (is an object, path of the field it is the value of)
    let mut frames: Vec<(bool, Vec<String>)> = vec![(true, vec![])]; // brace-less root
    let mut field: Vec<String> = vec![]; // path of the field whose value is being read
    let mut key: Option<(Vec<String>, bool)> = None; // (segments, last one still open)
    let mut field_start = true;
    let mut refs: Vec<(Vec<String>, Vec<String>)> = vec![]; // (field path, referenced path)
    for t in tokens {
        let at = |msg: &str| format!("{}:{}: {msg}", t.line, t.col);
        if key.is_none()
            && frames.last().unwrap().0
            && field_start
            && matches!(t.kind, K::Unquoted | K::QuotedString)
        {
            if t.kind == K::Unquoted && t.value == "include" && !includes_allowed {
                return Err(at("`include` is not supported"));
            }
            key = Some((vec![], false));
        }
        if let Some((segs, open)) = key.as_mut() {
            match t.kind {
                K::QuotedString => {
                    match segs.last_mut() {
                        Some(last) if *open => {
                            last.push_str(&t.preceding_whitespace);
                            last.push_str(&t.value)
                        }
                        _ => segs.push(t.value.clone()),
                    }
                    *open = true;
                }
                K::Unquoted => {
                    let pieces: Vec<&str> = t.value.split('.').collect();
                    for (i, piece) in pieces.iter().enumerate() {
                        match (i, segs.last_mut()) {
                            (0, Some(last)) if *open => {
                                last.push_str(&t.preceding_whitespace);
                                last.push_str(piece)
                            }
                            (0, _) if piece.is_empty() => {}
                            (_, _) if i > 0 && i == pieces.len() - 1 && piece.is_empty() => {}
                            _ => segs.push(piece.to_string()),
                        }
                    }
                    *open = !t.value.ends_with('.');
                }
                _ => {
                    if frames.len() + segs.len() > MAX_DEPTH + 1 {
                        return Err(at(&format!("key nests deeper than {MAX_DEPTH}")));
                    }
                    field = frames.last().unwrap().1.clone();
                    field.append(segs);
                    key = None;
                }
            }
        }
        match t.kind {
            K::LBrace => frames.push((true, field.clone())),
            K::LBracket => frames.push((false, field.clone())),
            K::RBrace | K::RBracket => {
                if frames.len() == 1 {
                    return Err(at(&format!("unbalanced `{}`", t.value)));
                }
                frames.pop();
                field = frames.last().unwrap().1.clone();
            }
            K::Substitution => {
                if let Some(sub) = &t.subst {
                    let n = sub.segments.len();
                    if n < field.len() && sub.segments.iter().zip(&field).all(|(s, f)| s.text == *f)
                    {
                        return Err(at(
                            "substitution refers to an object that contains it (a cycle)",
                        ));
                    }
                    refs.push((
                        field.clone(),
                        sub.segments.iter().map(|s| s.text.clone()).collect(),
                    ));
                }
            }
            _ => {}
        }
        field_start = matches!(t.kind, K::Newline | K::LBrace | K::Comma);
    }
    if !refs.is_empty() && tokens.iter().any(|t| t.kind == K::PlusEquals) {
        return Err("`+=` together with substitutions is not supported".into());
    }
    if has_cycle(&refs) {
        return Err("substitutions form a cycle through object paths".into());
    }
    Ok(())
}

/// Substitution i depends on substitution j when j sits at, above or below
/// the path that i names. A self-reference (i names its own field, above or
/// below) reads the prior value, so it depends only on earlier j: those at,
/// above or below the named path and those under the same top-level key
/// (looking up the prior value evaluates them). A cycle is refused
/// (hocon-parser recursed without end on such documents; ruby-hocon
/// reported an error or failed on each one checked); a substitution that
/// only depends on itself (`p = ${p}x`) is allowed.
fn has_cycle(refs: &[(Vec<String>, Vec<String>)]) -> bool {
    let related = |a: &[String], b: &[String]| a.iter().zip(b).all(|(x, y)| x == y);
    let edges: Vec<Vec<usize>> = refs
        .iter()
        .enumerate()
        .map(|(i, (field, target))| {
            let self_ref = related(field, target);
            (0..refs.len())
                .filter(|&j| j != i)
                .filter(|&j| match self_ref {
                    // a self-reference reads the prior value: earlier definitions only
                    true => {
                        j < i && (related(&refs[j].0, target) || refs[j].0.first() == field.first())
                    }
                    false => related(&refs[j].0, target),
                })
                .collect()
        })
        .collect();
    // iterative DFS; state 0 = unvisited, 1 = on stack, 2 = done
    let mut state = vec![0u8; refs.len()];
    for root in 0..refs.len() {
        if state[root] != 0 {
            continue;
        }
        let mut stack = vec![(root, 0usize)];
        state[root] = 1;
        while let Some((node, next)) = stack.last_mut() {
            if let Some(&succ) = edges[*node].get(*next) {
                *next += 1;
                match state[succ] {
                    1 => return true,
                    0 => {
                        state[succ] = 1;
                        stack.push((succ, 0));
                    }
                    _ => {}
                }
            } else {
                state[*node] = 2;
                stack.pop();
            }
        }
    }
    false
}
