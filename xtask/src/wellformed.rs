//! A small XML well-formedness check for the tests of the JUnit output: one root element, tags
//! that nest and match, quoted attributes without `<` and without repeats, only the five
//! predefined entities and character references, and only characters XML 1.0 allows. It knows
//! the XML declaration, comments and CDATA sections; DTDs and processing instructions are not
//! used by the grader and are rejected.

/// `Ok` when `doc` is well-formed, else where and why it is not.
pub fn check(doc: &str) -> Result<(), String> {
    let bytes = doc.as_bytes();
    for (i, c) in doc.char_indices() {
        let ok = matches!(c, '\t' | '\n' | '\r')
            || ('\u{20}'..='\u{D7FF}').contains(&c)
            || ('\u{E000}'..='\u{FFFD}').contains(&c)
            || c >= '\u{10000}';
        if !ok {
            return Err(format!(
                "byte {i}: character U+{:04X} is not allowed",
                c as u32
            ));
        }
    }
    let mut i = 0;
    if doc.starts_with("<?xml") {
        i = doc.find("?>").ok_or("the XML declaration is not closed")? + 2;
    }
    let mut stack: Vec<&str> = Vec::new();
    let mut roots = 0;
    while i < bytes.len() {
        if bytes[i] != b'<' {
            let end = doc[i..].find('<').map_or(bytes.len(), |n| i + n);
            let text = &doc[i..end];
            if stack.is_empty() && !text.trim().is_empty() {
                return Err(format!("byte {i}: text outside the root element"));
            }
            check_text(text, i)?;
            i = end;
            continue;
        }
        let rest = &doc[i..];
        if rest.starts_with("<!--") {
            let end = rest
                .find("-->")
                .ok_or(format!("byte {i}: unclosed comment"))?;
            if rest[4..end].contains("--") {
                return Err(format!("byte {i}: `--` inside a comment"));
            }
            i += end + 3;
        } else if rest.starts_with("<![CDATA[") {
            if stack.is_empty() {
                return Err(format!("byte {i}: CDATA outside the root element"));
            }
            i += rest
                .find("]]>")
                .ok_or(format!("byte {i}: unclosed CDATA"))?
                + 3;
        } else if let Some(close) = rest.strip_prefix("</") {
            let end = close
                .find('>')
                .ok_or(format!("byte {i}: unclosed end tag"))?;
            let name = close[..end].trim_end();
            match stack.pop() {
                Some(open) if open == name => {}
                Some(open) => return Err(format!("byte {i}: </{name}> closes <{open}>")),
                None => return Err(format!("byte {i}: </{name}> closes nothing")),
            }
            i += 2 + end + 1;
        } else {
            let end = tag_end(rest).ok_or(format!("byte {i}: unclosed tag"))?;
            let inner = &rest[1..end];
            let (inner, empty) = match inner.strip_suffix('/') {
                Some(s) => (s, true),
                None => (inner, false),
            };
            let name = check_tag(inner, i)?;
            if stack.is_empty() {
                roots += 1;
                if roots > 1 {
                    return Err(format!("byte {i}: a second root element <{name}>"));
                }
            }
            if !empty {
                stack.push(name);
            }
            i += end + 1;
        }
    }
    if let Some(open) = stack.last() {
        return Err(format!("<{open}> is never closed"));
    }
    if roots == 0 {
        return Err("no root element".into());
    }
    Ok(())
}

/// The index of the `>` that ends the tag starting `rest`, skipping quoted values.
fn tag_end(rest: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in rest.char_indices().skip(1) {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

/// Checks `name attr="v" ...`; returns the name.
fn check_tag(inner: &str, at: usize) -> Result<&str, String> {
    let name_end = inner
        .find(|c: char| c.is_whitespace())
        .unwrap_or(inner.len());
    let name = &inner[..name_end];
    if !is_name(name) {
        return Err(format!("byte {at}: `{name}` is not an element name"));
    }
    let mut rest = inner[name_end..].trim_start();
    let mut seen = Vec::new();
    while !rest.is_empty() {
        let eq = rest
            .find('=')
            .ok_or(format!("byte {at}: attribute without a value in <{name}>"))?;
        let attr = rest[..eq].trim();
        if !is_name(attr) {
            return Err(format!("byte {at}: `{attr}` is not an attribute name"));
        }
        if seen.contains(&attr) {
            return Err(format!("byte {at}: attribute `{attr}` twice in <{name}>"));
        }
        seen.push(attr);
        let value = rest[eq + 1..].trim_start();
        let quote = value
            .chars()
            .next()
            .filter(|c| *c == '"' || *c == '\'')
            .ok_or(format!("byte {at}: unquoted value of `{attr}` in <{name}>"))?;
        let close = value[1..]
            .find(quote)
            .ok_or(format!("byte {at}: unclosed value of `{attr}`"))?;
        let text = &value[1..1 + close];
        if text.contains('<') {
            return Err(format!("byte {at}: `<` in the value of `{attr}`"));
        }
        check_text(text, at)?;
        let after = &value[close + 2..];
        if !after.is_empty() && !after.starts_with(char::is_whitespace) {
            return Err(format!("byte {at}: no space after the value of `{attr}`"));
        }
        rest = after.trim_start();
    }
    Ok(name)
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | ':' | '-' | '.'))
}

/// Text: every `&` starts a known entity or a character reference; no `]]>`.
fn check_text(text: &str, at: usize) -> Result<(), String> {
    if text.contains("]]>") {
        return Err(format!("byte {at}: `]]>` in text"));
    }
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        rest = &rest[amp + 1..];
        let semi = rest
            .find(';')
            .ok_or(format!("byte {at}: `&` without `;`"))?;
        let entity = &rest[..semi];
        let ok = matches!(entity, "amp" | "lt" | "gt" | "quot" | "apos")
            || entity
                .strip_prefix("#x")
                .is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()))
            || entity
                .strip_prefix('#')
                .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()));
        if !ok {
            return Err(format!("byte {at}: unknown entity `&{entity};`"));
        }
        rest = &rest[semi + 1..];
    }
    Ok(())
}
