//! Simple JSON syntax highlighting for the composer's preview: the text cut into tokens, each
//! with the CSS class of its span (`tok-key`, `tok-str`, `tok-num`, `tok-lit`, `tok-punct`);
//! whitespace and anything unexpected stay plain. Pure, so the text is never changed.

/// What a piece of text is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Token {
    /// An object key (a string followed by `:`).
    Key,
    /// A string value.
    Str,
    /// A number.
    Num,
    /// `true`, `false`, `null`.
    Lit,
    /// `{ } [ ] : ,`.
    Punct,
    /// Whitespace or anything else.
    Plain,
}

impl Token {
    /// The span's class (none for plain text).
    pub fn class(self) -> Option<&'static str> {
        match self {
            Token::Key => Some("tok-key"),
            Token::Str => Some("tok-str"),
            Token::Num => Some("tok-num"),
            Token::Lit => Some("tok-lit"),
            Token::Punct => Some("tok-punct"),
            Token::Plain => None,
        }
    }
}

/// `text` cut into tokens; joined back they are exactly `text`.
pub fn tokens(text: &str) -> Vec<(Token, &str)> {
    let bytes = text.as_bytes();
    let mut out: Vec<(Token, &str)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let token = match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(bytes.len());
                let rest = text[i..].trim_start();
                if rest.starts_with(':') {
                    Token::Key
                } else {
                    Token::Str
                }
            }
            b'{' | b'}' | b'[' | b']' | b':' | b',' => {
                i += 1;
                Token::Punct
            }
            b'-' | b'0'..=b'9' => {
                while i < bytes.len()
                    && matches!(bytes[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                Token::Num
            }
            b't' | b'f' | b'n' => {
                while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                    i += 1;
                }
                if matches!(&text[start..i], "true" | "false" | "null") {
                    Token::Lit
                } else {
                    Token::Plain
                }
            }
            _ => {
                // Plain runs end where a token may start; a UTF-8 sequence stays whole.
                i += 1;
                while i < bytes.len()
                    && !matches!(
                        bytes[i],
                        b'"' | b'{' | b'}' | b'[' | b']' | b':' | b',' | b'-' | b'0'
                            ..=b'9' | b't' | b'f' | b'n'
                    )
                {
                    i += 1;
                }
                while !text.is_char_boundary(i) {
                    i += 1;
                }
                Token::Plain
            }
        };
        out.push((token, &text[start..i]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_cut_into_classed_tokens_that_join_back() {
        let text =
            "{\n    \"name\": \"a \\\"b\\\"\",\n    \"n\": -1.5e3,\n    \"ok\": [true, null]\n}";
        let toks = tokens(text);
        let joined: String = toks.iter().map(|(_, s)| *s).collect();
        assert_eq!(joined, text);
        let kinds: Vec<(Token, &str)> = toks
            .into_iter()
            .filter(|(t, _)| *t != Token::Plain && *t != Token::Punct)
            .collect();
        assert_eq!(
            kinds,
            [
                (Token::Key, "\"name\""),
                (Token::Str, "\"a \\\"b\\\"\""),
                (Token::Key, "\"n\""),
                (Token::Num, "-1.5e3"),
                (Token::Key, "\"ok\""),
                (Token::Lit, "true"),
                (Token::Lit, "null"),
            ]
        );
        assert_eq!(Token::Key.class(), Some("tok-key"));
        let odd = "é unterminated \"x";
        assert_eq!(tokens(odd).iter().map(|(_, s)| *s).collect::<String>(), odd);
    }
}
