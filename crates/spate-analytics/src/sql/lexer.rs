//! Tokens of the dialect and the lexer that produces them, each with the line and column
//! (1-based, columns counted in characters) where it starts.
//!
//! Unquoted words are upper-cased here, as the reference says (`ticker` and `TICKER` name the
//! same column); keywords are such words, recognised by the parser. Double-quoted identifiers
//! keep their case (`""` is a quote inside), strings use `''` for a quote. Comments (`--` to the
//! end of the line, `/* ... */`) are skipped.

use std::fmt;

use super::ast::Position;
use super::error::SqlError;

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    /// An unquoted identifier or keyword, upper-cased.
    Word(String),
    /// A double-quoted identifier, its case kept.
    QuotedIdent(String),
    /// A string literal's value, with `''` already turned into `'`.
    String(String),
    /// A binary string literal's hexadecimal digits: `X'0AFF'`.
    Binary(String),
    /// A numeric literal as written: integer, decimal or with an exponent.
    Number(String),
    LeftParen,
    RightParen,
    Comma,
    Semicolon,
    Dot,
    Star,
    Plus,
    Minus,
    Slash,
    Percent,
    /// `||`
    Concat,
    Eq,
    /// `<>` or `!=`
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    /// `=>` (named arguments of table functions)
    Arrow,
    Eof,
}

/// A token and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: TokenKind,
    pub pos: Position,
}

impl Token {
    /// Whether this token is the unquoted word `keyword` (given in upper case).
    pub fn is_keyword(&self, keyword: &str) -> bool {
        matches!(&self.kind, TokenKind::Word(word) if word == keyword)
    }
}

impl fmt::Display for TokenKind {
    /// How an error message names the token it found.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenKind::Word(word) => write!(f, "{word}"),
            TokenKind::QuotedIdent(name) => {
                write!(f, "identifier \"{}\"", name.replace('"', "\"\""))
            }
            TokenKind::String(value) => write!(f, "string '{}'", value.replace('\'', "''")),
            TokenKind::Binary(hex) => write!(f, "binary string X'{hex}'"),
            TokenKind::Number(number) => write!(f, "number {number}"),
            TokenKind::LeftParen => f.write_str("("),
            TokenKind::RightParen => f.write_str(")"),
            TokenKind::Comma => f.write_str(","),
            TokenKind::Semicolon => f.write_str(";"),
            TokenKind::Dot => f.write_str("."),
            TokenKind::Star => f.write_str("*"),
            TokenKind::Plus => f.write_str("+"),
            TokenKind::Minus => f.write_str("-"),
            TokenKind::Slash => f.write_str("/"),
            TokenKind::Percent => f.write_str("%"),
            TokenKind::Concat => f.write_str("||"),
            TokenKind::Eq => f.write_str("="),
            TokenKind::NotEq => f.write_str("<>"),
            TokenKind::Lt => f.write_str("<"),
            TokenKind::LtEq => f.write_str("<="),
            TokenKind::Gt => f.write_str(">"),
            TokenKind::GtEq => f.write_str(">="),
            TokenKind::Arrow => f.write_str("=>"),
            TokenKind::Eof => f.write_str("end of input"),
        }
    }
}

/// Splits `code` into tokens, ending with one `Eof` token.
pub fn tokenize(code: &str) -> Result<Vec<Token>, SqlError> {
    let mut lexer = Lexer {
        chars: code.chars().collect(),
        index: 0,
        line: 1,
        column: 1,
    };
    let mut tokens = Vec::new();
    loop {
        let token = lexer.next_token()?;
        let at_end = token.kind == TokenKind::Eof;
        tokens.push(token);
        if at_end {
            return Ok(tokens);
        }
    }
}

struct Lexer {
    chars: Vec<char>,
    index: usize,
    line: u32,
    column: u32,
}

impl Lexer {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.index).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.index + ahead).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.index += 1;
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    fn position(&self) -> Position {
        Position {
            line: self.line,
            column: self.column,
        }
    }

    /// Skips white space and comments; an unterminated block comment is an error at its start.
    fn skip_trivia(&mut self) -> Result<(), SqlError> {
        loop {
            match (self.peek(), self.peek_at(1)) {
                (Some(c), _) if c.is_whitespace() => {
                    self.bump();
                }
                (Some('-'), Some('-')) => {
                    while let Some(c) = self.peek() {
                        if c == '\n' {
                            break;
                        }
                        self.bump();
                    }
                }
                (Some('/'), Some('*')) => {
                    let start = self.position();
                    self.bump();
                    self.bump();
                    loop {
                        match self.bump() {
                            Some('*') if self.peek() == Some('/') => {
                                self.bump();
                                break;
                            }
                            Some(_) => {}
                            None => return Err(error_at(start, "unterminated comment")),
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn next_token(&mut self) -> Result<Token, SqlError> {
        self.skip_trivia()?;
        let pos = self.position();
        let Some(c) = self.peek() else {
            return Ok(Token {
                kind: TokenKind::Eof,
                pos,
            });
        };
        let kind = match c {
            '\'' => TokenKind::String(self.quoted('\'', pos, "unterminated string literal")?),
            '"' => {
                let name = self.quoted('"', pos, "unterminated quoted identifier")?;
                if name.is_empty() {
                    return Err(error_at(pos, "empty quoted identifier"));
                }
                TokenKind::QuotedIdent(name)
            }
            'X' | 'x' if self.peek_at(1) == Some('\'') => {
                self.bump();
                let hex = self.quoted('\'', pos, "unterminated binary string literal")?;
                if let Some(bad) = hex.chars().find(|c| !c.is_ascii_hexdigit()) {
                    return Err(error_at(
                        pos,
                        format!("'{bad}' is not a hexadecimal digit in a binary string"),
                    ));
                }
                if hex.len() % 2 != 0 {
                    return Err(error_at(
                        pos,
                        "a binary string needs an even number of hexadecimal digits",
                    ));
                }
                TokenKind::Binary(hex)
            }
            c if c.is_ascii_digit() => self.number(),
            '.' if self.peek_at(1).is_some_and(|next| next.is_ascii_digit()) => self.number(),
            c if c.is_alphabetic() || c == '_' => {
                let mut word = String::new();
                while let Some(c) = self.peek() {
                    if !(c.is_alphanumeric() || c == '_' || c == '$') {
                        break;
                    }
                    word.extend(c.to_uppercase());
                    self.bump();
                }
                TokenKind::Word(word)
            }
            _ => self.symbol(pos)?,
        };
        Ok(Token { kind, pos })
    }

    /// A literal between `quote`s, where a doubled quote stands for one.
    fn quoted(
        &mut self,
        quote: char,
        start: Position,
        unterminated: &str,
    ) -> Result<String, SqlError> {
        self.bump();
        let mut value = String::new();
        loop {
            match self.bump() {
                Some(c) if c == quote => {
                    if self.peek() == Some(quote) {
                        self.bump();
                        value.push(quote);
                    } else {
                        return Ok(value);
                    }
                }
                Some(c) => value.push(c),
                None => return Err(error_at(start, unterminated)),
            }
        }
    }

    fn number(&mut self) -> TokenKind {
        let mut text = String::new();
        while let Some(c) = self.peek().filter(char::is_ascii_digit) {
            text.push(c);
            self.bump();
        }
        if self.peek() == Some('.') {
            text.push('.');
            self.bump();
            while let Some(c) = self.peek().filter(char::is_ascii_digit) {
                text.push(c);
                self.bump();
            }
        }
        let exponent_digits_at = match (self.peek_at(1), self.peek_at(2)) {
            (Some('+' | '-'), Some(d)) if d.is_ascii_digit() => Some(2),
            (Some(d), _) if d.is_ascii_digit() => Some(1),
            _ => None,
        };
        if let (Some('e' | 'E'), Some(skip)) = (self.peek(), exponent_digits_at) {
            text.push('E');
            self.bump();
            if skip == 2 {
                text.extend(self.bump());
            }
            while let Some(c) = self.peek().filter(char::is_ascii_digit) {
                text.push(c);
                self.bump();
            }
        }
        TokenKind::Number(text)
    }

    fn symbol(&mut self, pos: Position) -> Result<TokenKind, SqlError> {
        let first = self.bump().expect("symbol() is called on a character");
        let next = self.peek();
        let (kind, two_chars) = match (first, next) {
            ('(', _) => (TokenKind::LeftParen, false),
            (')', _) => (TokenKind::RightParen, false),
            (',', _) => (TokenKind::Comma, false),
            (';', _) => (TokenKind::Semicolon, false),
            ('.', _) => (TokenKind::Dot, false),
            ('*', _) => (TokenKind::Star, false),
            ('+', _) => (TokenKind::Plus, false),
            ('-', _) => (TokenKind::Minus, false),
            ('/', _) => (TokenKind::Slash, false),
            ('%', _) => (TokenKind::Percent, false),
            ('|', Some('|')) => (TokenKind::Concat, true),
            ('=', Some('>')) => (TokenKind::Arrow, true),
            ('=', _) => (TokenKind::Eq, false),
            ('<', Some('>')) => (TokenKind::NotEq, true),
            ('!', Some('=')) => (TokenKind::NotEq, true),
            ('<', Some('=')) => (TokenKind::LtEq, true),
            ('<', _) => (TokenKind::Lt, false),
            ('>', Some('=')) => (TokenKind::GtEq, true),
            ('>', _) => (TokenKind::Gt, false),
            (other, _) => return Err(error_at(pos, format!("unexpected character '{other}'"))),
        };
        if two_chars {
            self.bump();
        }
        Ok(kind)
    }
}

fn error_at(pos: Position, message: impl Into<String>) -> SqlError {
    SqlError::new(pos.line, pos.column, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(code: &str) -> Vec<TokenKind> {
        tokenize(code)
            .expect("valid tokens")
            .into_iter()
            .map(|token| token.kind)
            .collect()
    }

    fn word(text: &str) -> TokenKind {
        TokenKind::Word(text.to_string())
    }

    #[test]
    fn words_are_upper_cased_and_quoted_identifiers_keep_case() {
        assert_eq!(
            kinds(r#"select "Ticker""X" from s_1"#),
            vec![
                word("SELECT"),
                TokenKind::QuotedIdent("Ticker\"X".to_string()),
                word("FROM"),
                word("S_1"),
                TokenKind::Eof
            ]
        );
    }

    #[test]
    fn strings_numbers_and_operators() {
        assert_eq!(
            kinds("'it''s' 1 2.5 .5 1e3 2.0E-2 <> != <= >= || => 3-1"),
            vec![
                TokenKind::String("it's".to_string()),
                TokenKind::Number("1".to_string()),
                TokenKind::Number("2.5".to_string()),
                TokenKind::Number(".5".to_string()),
                TokenKind::Number("1E3".to_string()),
                TokenKind::Number("2.0E-2".to_string()),
                TokenKind::NotEq,
                TokenKind::NotEq,
                TokenKind::LtEq,
                TokenKind::GtEq,
                TokenKind::Concat,
                TokenKind::Arrow,
                TokenKind::Number("3".to_string()),
                TokenKind::Minus,
                TokenKind::Number("1".to_string()),
                TokenKind::Eof
            ]
        );
    }

    #[test]
    fn comments_are_skipped_and_positions_are_one_based() {
        let tokens = tokenize("-- heading\n  a /* x\n y */ b\n\tc").expect("valid tokens");
        let positions: Vec<(u32, u32)> = tokens
            .iter()
            .map(|token| (token.pos.line, token.pos.column))
            .collect();
        assert_eq!(positions, vec![(2, 3), (3, 7), (4, 2), (4, 3)]);
    }

    #[test]
    fn unterminated_tokens_report_where_they_started() {
        let error = tokenize("a\n  'abc").expect_err("unterminated");
        assert_eq!(
            error.to_string(),
            "line 2, column 3: unterminated string literal"
        );
        let error = tokenize("x \"Abc").expect_err("unterminated");
        assert_eq!(
            error.to_string(),
            "line 1, column 3: unterminated quoted identifier"
        );
        let error = tokenize("x\n\n /* never closed").expect_err("unterminated");
        assert_eq!(error.to_string(), "line 3, column 2: unterminated comment");
        let error = tokenize("a \"\" b").expect_err("empty identifier");
        assert_eq!(
            error.to_string(),
            "line 1, column 3: empty quoted identifier"
        );
        let error = tokenize("a ? b").expect_err("bad character");
        assert_eq!(
            error.to_string(),
            "line 1, column 3: unexpected character '?'"
        );
    }
}
