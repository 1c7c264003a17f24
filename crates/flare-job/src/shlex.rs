//! POSIX shell word splitting (Python's `shlex.split(s, posix=True)`) for commands.

/// Splits `s` into words: whitespace separates, quotes group, backslash escapes.
pub(crate) fn split(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return Err("no closing quotation".to_owned()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => cur.push(c),
                            Some('\n') => {}
                            Some(c) => {
                                cur.push('\\');
                                cur.push(c);
                            }
                            None => return Err("no closing quotation".to_owned()),
                        },
                        Some(c) => cur.push(c),
                        None => return Err("no closing quotation".to_owned()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('\n') => {}
                    Some(c) => cur.push(c),
                    None => return Err("no escaped character".to_owned()),
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn splits_like_python_shlex() {
        let cases: [(&str, &[&str]); 5] = [
            ("python3 -u", &["python3", "-u"]),
            ("  a   b ", &["a", "b"]),
            ("--name 'two words' x", &["--name", "two words", "x"]),
            (r#"--s "a \"q\" b""#, &["--s", "a \"q\" b"]),
            (r"a\ b c", &["a b", "c"]),
        ];
        for (input, want) in cases {
            assert_eq!(split(input).unwrap(), want, "{input}");
        }
        assert!(split("'open").is_err());
    }
}
