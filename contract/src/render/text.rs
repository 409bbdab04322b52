//! Text people read, made of our own words and of text other companies wrote (titles, company
//! names, messages, task messages): the latter is hostile wherever a person reads it.
//!
//! A [`Line`] keeps the two apart until it is written out for a target:
//! - [`Line::markdown`]: the chat platforms' Markdown (Slack, Microsoft Teams, through Amazon
//!   Q Developer in chat applications' `client-markdown`). Partner text can mention nobody
//!   (`@here`, `@channel`, `<!channel>`, `<at>…</at>`), link nothing (`<url|text>`, `[x](y)`,
//!   bare URLs and domains), format nothing (`*_~` backticks `>` `#` `|`): every character with
//!   a meaning there becomes a look-alike without one (`@` → `＠`, `<` → `‹`, `.` between
//!   letters → `․`, …). Chat Markdown dialects disagree about backslash escapes (Slack has
//!   none), look-alikes work in all of them;
//! - [`Line::plain`]: e-mail bodies (plain text): no markup to escape, but mail clients link
//!   bare URLs and addresses, so those are made inert the same way;
//! - [`Line::ascii`]: the e-mail subject, which SNS requires to be ASCII without control
//!   characters: partner text is folded to ASCII (`é` → `e`, anything else → `?`).
//!
//! In every target partner text is one line (line breaks, tabs, other control and invisible
//! formatting characters — zero-width, bidirectional overrides — become a space or vanish), no
//! word is longer than [`MAX_WORD_CHARS`] (longer runs are broken with a space), and each piece
//! is capped at the length it was given ([`Part::theirs`]), with `…` where it was cut.

/// The longest run of non-space characters partner text keeps in a rendering.
pub const MAX_WORD_CHARS: usize = 30;

/// One piece of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Our own words: written as they are (they may hold our Markdown, e.g. `*Status:*`).
    Ours(String),
    /// An identifier (invitation id, ARN, rule name) shown as code in chat. One that holds
    /// anything but `[A-Za-z0-9._:/+=,-]`, or `://`, is shown as partner text instead.
    Code(String),
    /// Text another company wrote (already normalized by [`Part::theirs`]).
    Theirs(String),
}

impl Part {
    pub fn ours(text: impl Into<String>) -> Part {
        Part::Ours(text.into())
    }

    pub fn code(text: impl Into<String>) -> Part {
        let text = text.into();
        let safe = !text.is_empty()
            && text.len() <= 256
            && !text.contains("://")
            && text.chars().all(|c| c.is_ascii_alphanumeric() || "._:/+=,-".contains(c));
        match safe {
            true => Part::Code(text),
            false => Part::theirs(&text, 256),
        }
    }

    /// Partner text: one line, invisible characters removed, whitespace collapsed, at most
    /// `max_chars` characters (cut with `…`).
    pub fn theirs(text: &str, max_chars: usize) -> Part {
        Part::Theirs(cap(&one_line(text), max_chars))
    }
}

/// A line of parts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Line(pub Vec<Part>);

impl Line {
    pub fn new() -> Line {
        Line(Vec::new())
    }

    pub fn ours(text: impl Into<String>) -> Line {
        Line(vec![Part::ours(text)])
    }

    pub fn push(mut self, part: Part) -> Line {
        self.0.push(part);
        self
    }

    pub fn and(self, text: impl Into<String>) -> Line {
        self.push(Part::ours(text))
    }

    pub fn code(self, text: impl Into<String>) -> Line {
        self.push(Part::code(text))
    }

    pub fn theirs(self, text: &str, max_chars: usize) -> Line {
        self.push(Part::theirs(text, max_chars))
    }

    /// For the chat platforms' Markdown.
    pub fn markdown(&self) -> String {
        self.0
            .iter()
            .map(|p| match p {
                Part::Ours(s) => s.clone(),
                Part::Code(s) => format!("`{s}`"),
                Part::Theirs(s) => break_long_words(&inert_markdown(s)),
            })
            .collect()
    }

    /// For a plain-text e-mail body.
    pub fn plain(&self) -> String {
        self.0
            .iter()
            .map(|p| match p {
                Part::Ours(s) => strip_our_markdown(s),
                Part::Code(s) => inert_dots(s),
                Part::Theirs(s) => break_long_words(&inert_links(s)),
            })
            .collect()
    }

    /// For an e-mail subject: ASCII only, no control characters.
    pub fn ascii(&self) -> String {
        let text: String = self
            .0
            .iter()
            .map(|p| match p {
                Part::Ours(s) => strip_our_markdown(s),
                Part::Code(s) => s.clone(),
                Part::Theirs(s) => break_long_words(s),
            })
            .collect();
        fold_ascii(&text)
    }
}

/// Our Markdown (`*Label:*`, `` `id` ``) out of our own words, for plain text.
fn strip_our_markdown(s: &str) -> String {
    s.replace(['*', '`'], "")
}

/// Characters that break or hide layout: removed (zero-width, bidirectional controls, soft
/// hyphen, word joiners, byte order mark).
fn invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}' | '\u{180E}'
        | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{3164}'
        | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF9}'..='\u{FFFB}')
}

/// One line: control characters and every kind of whitespace become one space; invisible
/// characters vanish.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if invisible(c) {
            continue;
        }
        if c.is_whitespace() || c.is_control() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c);
    }
    out
}

/// At most `max_chars` characters; a cut text ends with `…` (counted).
pub fn cap(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let kept: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    format!("{}…", kept.trim_end())
}

/// Links made inert: `://` loses its meaning (`:` → `꞉`, `/` → `∕`), a dot between a letter or
/// digit and a letter (domains, e-mail addresses) becomes `․`, `@` becomes `＠`.
fn inert_links(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        let before = i.checked_sub(1).map(|j| chars[j]);
        let after = chars.get(i + 1).copied();
        match c {
            ':' if after == Some('/') => out.push('꞉'),
            '/' => out.push('∕'),
            '.' if before.is_some_and(char::is_alphanumeric) && after.is_some_and(char::is_alphabetic) => out.push('․'),
            '@' => out.push('＠'),
            _ => out.push(c),
        }
    }
    out
}

/// Only the dots of [`inert_links`] (an identifier that looks like a domain is not linked).
fn inert_dots(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let dot = |i: usize| i > 0 && chars[i - 1].is_alphanumeric() && chars.get(i + 1).is_some_and(|c| c.is_alphabetic());
    chars.iter().enumerate().map(|(i, &c)| if c == '.' && dot(i) { '․' } else { c }).collect()
}

/// [`inert_links`], and every character with a meaning in Slack's or Teams' Markdown (or
/// their mention and link syntax) replaced by a look-alike without one.
fn inert_markdown(text: &str) -> String {
    inert_links(text)
        .chars()
        .map(|c| match c {
            '<' => '‹',
            '>' => '›',
            '&' => '＆',
            '*' => '∗',
            '_' => '＿',
            '~' => '∼',
            '`' => '‵',
            '[' => '［',
            ']' => '］',
            '(' => '（',
            ')' => '）',
            '|' => '│',
            '\\' => '⧵',
            '#' => '＃',
            '!' => '﹗',
            ':' => '꞉',
            '"' => '＂',
            c => c,
        })
        .collect()
}

/// Runs of more than [`MAX_WORD_CHARS`] non-space characters broken with a space.
fn break_long_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    let mut run = 0;
    for c in text.chars() {
        if c == ' ' {
            run = 0;
        } else {
            if run == MAX_WORD_CHARS {
                out.push(' ');
                run = 0;
            }
            run += 1;
        }
        out.push(c);
    }
    out
}

/// ASCII: Latin letters with diacritics lose them, the look-alikes and other characters
/// become `?`; control characters are already gone.
fn fold_ascii(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            ' '..='~' => c,
            'À'..='Å' | 'à'..='å' | 'ā' | 'ă' | 'ą' => {
                if c.is_uppercase() {
                    'A'
                } else {
                    'a'
                }
            }
            'Ç' | 'ç' | 'ć' | 'č' => {
                if c.is_uppercase() {
                    'C'
                } else {
                    'c'
                }
            }
            'È'..='Ë' | 'è'..='ë' | 'ē' | 'ę' | 'ě' => {
                if c.is_uppercase() {
                    'E'
                } else {
                    'e'
                }
            }
            'Ì'..='Ï' | 'ì'..='ï' | 'ī' | 'ı' => {
                if c.is_uppercase() {
                    'I'
                } else {
                    'i'
                }
            }
            'Ñ' | 'ñ' | 'ń' | 'ň' => {
                if c.is_uppercase() {
                    'N'
                } else {
                    'n'
                }
            }
            'Ò'..='Ö' | 'Ø' | 'ò'..='ö' | 'ø' | 'ő' => {
                if c.is_uppercase() {
                    'O'
                } else {
                    'o'
                }
            }
            'Ù'..='Ü' | 'ù'..='ü' | 'ů' | 'ű' => {
                if c.is_uppercase() {
                    'U'
                } else {
                    'u'
                }
            }
            'Ý' | 'ý' | 'ÿ' => {
                if c.is_uppercase() {
                    'Y'
                } else {
                    'y'
                }
            }
            'ß' => 's',
            'Š' | 'š' | 'ś' => {
                if c.is_uppercase() {
                    'S'
                } else {
                    's'
                }
            }
            'Ž' | 'ž' | 'ź' | 'ż' => {
                if c.is_uppercase() {
                    'Z'
                } else {
                    'z'
                }
            }
            'Ł' | 'ł' => {
                if c.is_uppercase() {
                    'L'
                } else {
                    'l'
                }
            }
            '–' | '—' => '-',
            '…' => '.',
            _ => '?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(s: &str) -> String {
        Line::new().theirs(s, 200).markdown()
    }

    #[test]
    fn partner_text_is_one_line_without_invisible_characters() {
        assert_eq!(one_line("  Acme\r\n\tCorp \u{2028} Ltd\u{200B}\u{202E}  "), "Acme Corp Ltd");
        assert_eq!(one_line("a\u{0007}b"), "a b");
    }

    #[test]
    fn capped_text_ends_with_an_ellipsis_and_fits() {
        assert_eq!(cap("abcdef", 6), "abcdef");
        assert_eq!(cap("abcdefg", 6), "abcde…");
        assert_eq!(cap("ééééééé", 4).chars().count(), 4);
    }

    #[test]
    fn long_words_are_broken() {
        let long = "x".repeat(70);
        let out = md(&long);
        assert!(out.split(' ').all(|w| w.chars().count() <= MAX_WORD_CHARS), "{out}");
        assert_eq!(out.replace(' ', ""), long);
    }

    #[test]
    fn code_falls_back_to_partner_text_when_it_could_break_out() {
        assert_eq!(Line::new().code("engi-5zq8w3n1r7y2k").markdown(), "`engi-5zq8w3n1r7y2k`");
        assert_eq!(Line::new().code("x` @here").markdown(), "x‵ ＠here");
        assert_eq!(Line::new().code("https://evil.example").markdown(), "https꞉∕∕evil․example");
        assert_eq!(Line::new().code("evil.example").plain(), "evil․example");
    }

    proptest::proptest! {
        /// Whatever another company writes: in chat no character with a meaning in Slack's or
        /// Teams' Markdown, no mention, link or line break, no word over the cap; in e-mail one
        /// line without a link; in a subject printable ASCII only.
        #[test]
        fn any_partner_text_is_inert(text in "(\\PC|[@<>&*_~`\\[\\]()|#!:./\n\r\t\u{202E}\u{200B}]|https://|www\\.){0,120}") {
            let line = Line::new().theirs(&text, 200);
            let md = line.markdown();
            for forbidden in ['@', '<', '>', '&', '*', '_', '~', '`', '[', ']', '(', ')', '|', '#', '!', ':', '\n', '\r', '\u{202E}', '\u{200B}'] {
                proptest::prop_assert!(!md.contains(forbidden), "{:?} in {:?}", forbidden, md);
            }
            // A dot before a letter (a domain: `www.x`, `evil.example`) is never kept.
            let chars: Vec<char> = md.chars().collect();
            let domain_dot = chars.windows(3).any(|w| w[0].is_alphanumeric() && w[1] == '.' && w[2].is_alphabetic());
            proptest::prop_assert!(!md.contains("://") && !domain_dot, "{:?}", md);
            proptest::prop_assert!(md.split(' ').all(|w| w.chars().count() <= MAX_WORD_CHARS), "{:?}", md);
            proptest::prop_assert!(md.replace(' ', "").chars().count() <= 200, "{:?}", md);
            let plain = line.plain();
            proptest::prop_assert!(!plain.contains('\n') && !plain.contains("://") && !plain.contains('@'), "{:?}", plain);
            proptest::prop_assert!(line.ascii().chars().all(|c| (' '..='~').contains(&c)), "{:?}", line.ascii());
        }
    }

    #[test]
    fn the_subject_is_ascii() {
        let line = Line::ours("New: ").theirs("Société Générale — 日本 @here", 100);
        assert_eq!(line.ascii(), "New: Societe Generale - ?? @here");
    }
}
