//! Whether a regular expression is valid RE2, the syntax of Loki's line
//! filters (Go's `regexp`). The pattern is parsed with `regex-syntax`, which
//! already refuses look-around and backreferences as RE2 does; the syntax it
//! accepts beyond RE2 (class set operations, nested classes, verbose mode,
//! special word boundaries, `\u` escapes, long property names, repetition
//! counts above 1000) is refused here.

use regex_syntax::ast::{
    self, AssertionKind, Ast, ClassSet, ClassSetItem, ClassUnicodeKind, Flag, Flags, FlagsItemKind, GroupKind,
    HexLiteralKind, LiteralKind, RepetitionKind, RepetitionRange,
};

/// RE2's largest repetition count.
const MAX_REPEAT: u32 = 1000;

/// `Ok` when Loki accepts `pattern`; otherwise why not, in words.
pub fn check(pattern: &str) -> Result<(), String> {
    let parsed = ast::parse::Parser::new()
        .parse(pattern)
        .map_err(|e| e.kind().to_string())?;
    // The translation catches what only shows on the full syntax tree (unknown Unicode classes, ...).
    regex_syntax::hir::translate::Translator::new()
        .translate(pattern, &parsed)
        .map_err(|e| e.kind().to_string())?;
    walk(pattern, &parsed)
}

fn walk(pattern: &str, node: &Ast) -> Result<(), String> {
    match node {
        Ast::Empty(_) | Ast::Dot(_) | Ast::ClassPerl(_) => Ok(()),
        Ast::Flags(set) => flags(&set.flags),
        Ast::Literal(lit) => literal(lit),
        Ast::Assertion(a) => match a.kind {
            AssertionKind::StartLine
            | AssertionKind::EndLine
            | AssertionKind::StartText
            | AssertionKind::EndText
            | AssertionKind::WordBoundary
            | AssertionKind::NotWordBoundary => Ok(()),
            _ => Err("special word boundaries (`\\b{...}`, `\\<`, `\\>`) are not supported; use `\\b`".to_string()),
        },
        Ast::ClassUnicode(c) => unicode_class(&c.kind),
        Ast::ClassBracketed(c) => class_set(&c.kind, true),
        Ast::Repetition(r) => {
            let op_text = pattern.get(r.op.span.start.offset..r.op.span.end.offset).unwrap_or("");
            if op_text.starts_with("{,") {
                return Err("a repetition needs its minimum: write `{0,n}` instead of `{,n}`".to_string());
            }
            if let RepetitionKind::Range(range) = &r.op.kind {
                let (RepetitionRange::Exactly(n) | RepetitionRange::AtLeast(n) | RepetitionRange::Bounded(_, n)) =
                    *range;
                let low = match *range {
                    RepetitionRange::Bounded(low, _) => low,
                    _ => n,
                };
                if n.max(low) > MAX_REPEAT {
                    return Err(format!("repetition counts above {MAX_REPEAT} are not supported"));
                }
            }
            walk(pattern, &r.ast)
        }
        Ast::Group(g) => {
            if let GroupKind::NonCapturing(f) = &g.kind {
                flags(f)?;
            }
            walk(pattern, &g.ast)
        }
        Ast::Alternation(a) => a.asts.iter().try_for_each(|n| walk(pattern, n)),
        Ast::Concat(c) => c.asts.iter().try_for_each(|n| walk(pattern, n)),
    }
}

fn flags(f: &Flags) -> Result<(), String> {
    for item in &f.items {
        match item.kind {
            FlagsItemKind::Negation
            | FlagsItemKind::Flag(
                Flag::CaseInsensitive | Flag::MultiLine | Flag::DotMatchesNewLine | Flag::SwapGreed,
            ) => {}
            FlagsItemKind::Flag(_) => {
                return Err("only the flags `i`, `m`, `s` and `U` are supported".to_string());
            }
        }
    }
    Ok(())
}

fn literal(lit: &ast::Literal) -> Result<(), String> {
    match lit.kind {
        LiteralKind::HexFixed(HexLiteralKind::UnicodeShort | HexLiteralKind::UnicodeLong)
        | LiteralKind::HexBrace(HexLiteralKind::UnicodeShort | HexLiteralKind::UnicodeLong) => {
            Err("`\\u` and `\\U` escapes are not supported; write `\\x{...}`".to_string())
        }
        _ => Ok(()),
    }
}

fn unicode_class(kind: &ClassUnicodeKind) -> Result<(), String> {
    match kind {
        ClassUnicodeKind::NamedValue { .. } => {
            Err("Unicode classes take a category or script name, e.g. `\\p{L}` or `\\p{Greek}`".to_string())
        }
        ClassUnicodeKind::OneLetter(_) | ClassUnicodeKind::Named(_) => Ok(()),
    }
}

fn class_set(set: &ClassSet, top: bool) -> Result<(), String> {
    match set {
        ClassSet::BinaryOp(_) => Err("character class operations (`&&`, `--`, `~~`) are not supported".to_string()),
        ClassSet::Item(item) => class_item(item, top),
    }
}

fn class_item(item: &ClassSetItem, top: bool) -> Result<(), String> {
    match item {
        ClassSetItem::Empty(_) | ClassSetItem::Ascii(_) | ClassSetItem::Perl(_) => Ok(()),
        ClassSetItem::Literal(l) => literal(l),
        ClassSetItem::Range(r) => literal(&r.start).and_then(|()| literal(&r.end)),
        ClassSetItem::Unicode(u) => unicode_class(&u.kind),
        ClassSetItem::Bracketed(_) if top => {
            Err("nested character classes are not supported; escape a literal `[` as `\\[`".to_string())
        }
        ClassSetItem::Bracketed(b) => class_set(&b.kind, false),
        ClassSetItem::Union(u) => u.items.iter().try_for_each(|i| class_item(i, top)),
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn accepts_re2() {
        for ok in [
            "PHP Fatal error",
            r"InnoDB: .*(Operating system error|Input/output error)",
            r"(?i)out of memory",
            r"^\d{3} [A-Z]+\b",
            r"[[:alpha:]]+\s\pL\p{Greek}",
            r"(?P<code>5\d\d)",
            r"a{2,1000}",
            r"\x{1F600}",
            r"[^\]]",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn refuses_what_re2_refuses() {
        let cases = [
            (
                "(?=x)",
                "look-around, including look-ahead and look-behind, is not supported",
            ),
            (r"(a)\1", "backreferences are not supported"),
            ("a(b", "unclosed group"),
            (
                "[a&&b]",
                "character class operations (`&&`, `--`, `~~`) are not supported",
            ),
            (
                "[a[bc]]",
                "nested character classes are not supported; escape a literal `[` as `\\[`",
            ),
            ("(?x) a b", "only the flags `i`, `m`, `s` and `U` are supported"),
            (
                r"\bword\b{end}",
                "special word boundaries (`\\b{...}`, `\\<`, `\\>`) are not supported; use `\\b`",
            ),
            (r"\u0041", "`\\u` and `\\U` escapes are not supported; write `\\x{...}`"),
            (
                r"\p{gc=L}",
                "Unicode classes take a category or script name, e.g. `\\p{L}` or `\\p{Greek}`",
            ),
            ("a{1001}", "repetition counts above 1000 are not supported"),
        ];
        for (pattern, why) in cases {
            assert_eq!(check(pattern), Err(why.to_string()), "{pattern}");
        }
    }
}
