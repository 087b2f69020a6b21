//! The `Localizer`: every user-facing sentence of both programs, from the
//! Fluent files embedded at build time.
//!
//! Lookup goes through `[chosen language, en]`, so a message missing from a
//! translation falls back to English. Isolation marks (U+2068/U+2069) are
//! turned off: the output is terminal text, and the marks show as boxes.

use std::io;

use fluent_bundle::{FluentArgs, FluentBundle, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

/// The languages we ship, the first being the fallback for the others.
pub const AVAILABLE: &[&str] = &["en", "zh-CN"];

/// The embedded Fluent sources, one per entry of `AVAILABLE`.
pub const RESOURCES: &[(&str, &str)] = &[
    ("en", include_str!("../locales/en/chatroom.ftl")),
    ("zh-CN", include_str!("../locales/zh-CN/chatroom.ftl")),
];

/// Arguments of one message: `("name", "alice".into())`.
pub type Args<'a> = [(&'a str, FluentValue<'a>)];

/// Parses a language tag and finds the shipped language it means: an exact
/// match, else a language-only one (`en-US` is `en`, `zh` is `zh-CN`). The
/// error is an English sentence for clap, which prints its own usage errors
/// in English.
pub fn parse_lang(text: &str) -> Result<LanguageIdentifier, String> {
    let unsupported = || {
        format!(
            "unsupported language `{text}` (available: {})",
            AVAILABLE.join(", ")
        )
    };
    let wanted: LanguageIdentifier = text.parse().map_err(|_| unsupported())?;
    let shipped = || {
        AVAILABLE
            .iter()
            .filter_map(|tag| tag.parse::<LanguageIdentifier>().ok())
    };
    shipped()
        .find(|lang| *lang == wanted)
        .or_else(|| shipped().find(|lang| lang.language == wanted.language))
        .ok_or_else(unsupported)
}

/// Renders messages in one language, falling back to English.
pub struct Localizer {
    /// `[chosen, en]`, or just `[en]`; searched in order.
    bundles: Vec<FluentBundle<FluentResource>>,
    lang: LanguageIdentifier,
}

impl std::fmt::Debug for Localizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Localizer")
            .field("lang", &self.lang)
            .finish()
    }
}

impl Localizer {
    /// A localizer for `lang`, which should come from `parse_lang`; an
    /// unknown language renders in English.
    pub fn new(lang: &LanguageIdentifier) -> Self {
        Localizer::with_resources(lang, RESOURCES)
    }

    /// A localizer over other sources than the shipped ones (tests).
    fn with_resources(lang: &LanguageIdentifier, resources: &[(&str, &str)]) -> Self {
        let mut chain = vec![lang.to_string()];
        if chain[0] != AVAILABLE[0] {
            chain.push(AVAILABLE[0].to_string());
        }
        let bundles = chain
            .iter()
            .filter_map(|tag| resources.iter().find(|(t, _)| t == tag))
            .map(|(tag, source)| bundle(tag, source))
            .collect();
        Localizer {
            bundles,
            lang: lang.clone(),
        }
    }

    /// The language this localizer renders.
    pub fn lang(&self) -> &LanguageIdentifier {
        &self.lang
    }

    /// The English localizer, for errors found before a language is known.
    pub fn english() -> Self {
        Localizer::new(&unic_langid::langid!("en"))
    }

    /// The message `id` with `args`. A message missing from every bundle
    /// renders as its id, so a gap shows instead of vanishing.
    pub fn tr(&self, id: &str, args: &Args<'_>) -> String {
        let Some((bundle, pattern)) = self.bundles.iter().find_map(|bundle| {
            let pattern = bundle.get_message(id)?.value()?;
            Some((bundle, pattern))
        }) else {
            return id.to_string();
        };
        let mut fluent_args = FluentArgs::with_capacity(args.len());
        for (name, value) in args {
            fluent_args.set(*name, value.clone());
        }
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
        debug_assert!(errors.is_empty(), "{id}: {errors:?}");
        text.into_owned()
    }

    /// A short localized reason for an I/O error, for sentences such as
    /// "cannot connect to H:P: REASON".
    pub fn io_reason(&self, error: &io::Error) -> String {
        let id = match error.kind() {
            io::ErrorKind::ConnectionRefused => "reason-refused",
            io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => "reason-reset",
            io::ErrorKind::BrokenPipe => "reason-reset",
            io::ErrorKind::UnexpectedEof => "reason-closed",
            io::ErrorKind::InvalidData => "reason-garbled",
            io::ErrorKind::TimedOut => "reason-timeout",
            io::ErrorKind::AddrInUse => "reason-in-use",
            io::ErrorKind::AddrNotAvailable => "reason-not-available",
            io::ErrorKind::PermissionDenied => "reason-permission",
            io::ErrorKind::NotFound => "reason-not-found",
            io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable => {
                "reason-unreachable"
            }
            _ => return error.to_string(),
        };
        self.tr(id, &[])
    }
}

/// A message with some of its arguments left open, to recognise a line
/// the server rendered without knowing those arguments, and without
/// writing any of the message's words in code: tests and the bench find
/// a notice by its message id, so a rewording of the Fluent file keeps
/// them working. Built by `Localizer::pattern`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    pieces: Vec<Piece>,
    slots: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    /// The open argument with this index in `Localizer::pattern`'s `open`.
    Slot(usize),
}

/// Stands in for open argument `index` while the pattern is rendered: a
/// character from Unicode's supplementary private use area, which no
/// message contains.
fn sentinel(index: usize) -> Option<char> {
    char::from_u32(0xF_0000 + u32::try_from(index).ok()?)
}

impl Pattern {
    /// The values of the open arguments, in the order they were named, if
    /// `text` is a rendering of the message; `None` otherwise. An open
    /// argument matches one character or more, as few as it can while the
    /// rest of the message still matches (so a name stops at the first
    /// place where the message's own text resumes).
    pub fn captures<'t>(&self, text: &'t str) -> Option<Vec<&'t str>> {
        let mut found = vec![None; self.slots];
        self.match_from(0, text, &mut found)
            .then(|| found.into_iter().map(Option::unwrap_or_default).collect())
    }

    /// Whether `text` is a rendering of the message.
    pub fn matches(&self, text: &str) -> bool {
        self.captures(text).is_some()
    }

    fn match_from<'t>(&self, piece: usize, text: &'t str, found: &mut [Option<&'t str>]) -> bool {
        match self.pieces.get(piece) {
            None => text.is_empty(),
            Some(Piece::Text(literal)) => text
                .strip_prefix(literal.as_str())
                .is_some_and(|rest| self.match_from(piece + 1, rest, found)),
            Some(Piece::Slot(slot)) => {
                let slot = *slot;
                if let Some(value) = found[slot] {
                    // The same argument twice: it must say the same both times.
                    return text
                        .strip_prefix(value)
                        .is_some_and(|rest| self.match_from(piece + 1, rest, found));
                }
                for (at, c) in text.char_indices() {
                    let end = at + c.len_utf8();
                    found[slot] = Some(&text[..end]);
                    if self.match_from(piece + 1, &text[end..], found) {
                        return true;
                    }
                }
                found[slot] = None;
                false
            }
        }
    }
}

impl Localizer {
    /// The message `id` with `args` fixed and the arguments named in
    /// `open` left open, as a `Pattern`. Open arguments must be text ones
    /// (names, commands): a number may choose a plural variant, so give
    /// numbers in `args`, or see `number_in`.
    pub fn pattern(&self, id: &str, args: &Args<'_>, open: &[&str]) -> Pattern {
        let sentinels: Vec<String> = (0..open.len())
            .map(|i| sentinel(i).map(String::from).unwrap_or_default())
            .collect();
        let mut all: Vec<(&str, FluentValue<'_>)> = args.to_vec();
        all.extend(
            open.iter()
                .zip(&sentinels)
                .map(|(name, value)| (*name, value.as_str().into())),
        );
        let rendered = self.tr(id, &all);
        let mut pieces = Vec::new();
        let mut literal = String::new();
        for c in rendered.chars() {
            match (0..open.len()).find(|&i| sentinel(i) == Some(c)) {
                Some(slot) => {
                    if !literal.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut literal)));
                    }
                    pieces.push(Piece::Slot(slot));
                }
                None => literal.push(c),
            }
        }
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        Pattern {
            pieces,
            slots: open.len(),
        }
    }

    /// The whole number that, given as the argument `number` next to
    /// `args`, renders message `id` as exactly `text`; `None` if none
    /// does. The candidates are the runs of digits in `text` (a number
    /// renders as digits), so a plural variant is found whatever it says.
    pub fn number_in(&self, id: &str, args: &Args<'_>, number: &str, text: &str) -> Option<u64> {
        text.split(|c: char| !c.is_ascii_digit())
            .filter_map(|digits| digits.parse::<u64>().ok())
            .find(|&candidate| {
                let mut all: Vec<(&str, FluentValue<'_>)> = args.to_vec();
                all.push((number, candidate.into()));
                self.tr(id, &all) == text
            })
    }
}

/// A shipped language, as an index into `AVAILABLE`: small and `Copy`, for
/// the room and the fan-out, which key rendering by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Lang(u8);

impl Lang {
    /// The fallback language, English.
    pub const EN: Lang = Lang(0);

    /// Every shipped language, in `AVAILABLE` order.
    pub fn all() -> impl Iterator<Item = Lang> {
        (0..AVAILABLE.len() as u8).map(Lang)
    }

    /// The shipped language `id` names (as `parse_lang` gives it).
    pub fn of(id: &LanguageIdentifier) -> Option<Lang> {
        let tag = id.to_string();
        AVAILABLE
            .iter()
            .position(|shipped| *shipped == tag)
            .map(|index| Lang(index as u8))
    }

    /// A user's tag (`zh`, `zh_CN`, `en-US`) as a shipped language.
    pub fn parse(text: &str) -> Option<Lang> {
        Lang::of(&parse_lang(text).ok()?)
    }

    /// The language's tag, as in `AVAILABLE`.
    pub fn tag(self) -> &'static str {
        AVAILABLE[self.0 as usize]
    }

    /// Position in `AVAILABLE`, for tables indexed by language.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// One `Localizer` per shipped language, built once.
#[derive(Debug)]
pub struct Localizers {
    by_lang: Vec<Localizer>,
}

impl Default for Localizers {
    fn default() -> Self {
        Localizers {
            by_lang: Lang::all()
                .map(|lang| Localizer::new(&lang.tag().parse().unwrap_or_default()))
                .collect(),
        }
    }
}

impl Localizers {
    pub fn get(&self, lang: Lang) -> &Localizer {
        &self.by_lang[lang.index()]
    }
}

/// One language's bundle. The sources are ours and tested to parse; should
/// one still fail, the entries that did parse are kept.
fn bundle(tag: &str, source: &str) -> FluentBundle<FluentResource> {
    let lang = tag.parse().unwrap_or_default();
    let mut bundle = FluentBundle::new(vec![lang]);
    bundle.set_use_isolating(false);
    let resource = FluentResource::try_new(source.to_string()).unwrap_or_else(|(res, _)| res);
    // Duplicate ids keep their first definition; tests/locales.rs forbids them.
    let _ = bundle.add_resource(resource);
    bundle
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_lang_matches_shipped_languages() {
        assert_eq!(parse_lang("en").unwrap().to_string(), "en");
        assert_eq!(parse_lang("zh-CN").unwrap().to_string(), "zh-CN");
        assert_eq!(parse_lang("zh_cn").unwrap().to_string(), "zh-CN");
        assert_eq!(parse_lang("zh").unwrap().to_string(), "zh-CN");
        assert_eq!(parse_lang("en-US").unwrap().to_string(), "en");
        let err = parse_lang("fr").unwrap_err();
        assert!(err.contains("available: en, zh-CN"), "{err}");
        assert!(parse_lang("english").is_err());
        assert!(parse_lang("").is_err());
    }

    #[test]
    fn renders_with_arguments_and_no_isolation_marks() {
        let en = Localizer::new(&parse_lang("en").unwrap());
        let text = en.tr("private-sent", &[("name", "alice".into())]);
        assert!(
            text.contains("alice") && !text.contains(['\u{2068}', '\u{2069}', '{']),
            "{text}"
        );
        let zh = Localizer::new(&parse_lang("zh-CN").unwrap());
        let text = zh.tr("private-sent", &[("name", "小明".into())]);
        assert!(
            text.contains("小明") && !text.contains('\u{2068}'),
            "{text}"
        );
    }

    #[test]
    fn patterns_capture_the_open_arguments() {
        let en = Localizer::english();
        let joined = en.pattern("joined", &[("count", 3.into())], &["name"]);
        let line = en.tr("joined", &[("name", "小明".into()), ("count", 3.into())]);
        assert_eq!(joined.captures(&line), Some(vec!["小明"]));
        let left = en.tr(
            "left-quit",
            &[("name", "bob".into()), ("stayed", "1".into())],
        );
        assert!(!joined.matches(&left));
        let sent = en.pattern("private-sent", &[], &["name"]);
        assert!(!sent.matches(&en.tr("private-sent", &[("name", "".into())])));
        let list = en.pattern("members", &[("count", 2.into())], &["names"]);
        let line = en.tr("members", &[("count", 2.into()), ("names", "a, b".into())]);
        assert_eq!(list.captures(&line), Some(vec!["a, b"]));
        let two = Localizer::with_resources(
            &parse_lang("en").unwrap(),
            &[("en", "two = { $a }-{ $b }:{ $a }")],
        );
        let pattern = two.pattern("two", &[], &["a", "b"]);
        assert_eq!(pattern.captures("x-y-z:x"), Some(vec!["x", "y-z"]));
        assert_eq!(pattern.captures("x-y:z"), None);
    }

    #[test]
    fn number_in_finds_the_plural_that_was_rendered() {
        let en = Localizer::english();
        for others in [0u64, 1, 2, 12] {
            let args = [("name", "a".into())];
            let mut all = args.to_vec();
            all.push(("others", others.into()));
            let line = en.tr("welcome", &all);
            assert_eq!(
                en.number_in("welcome", &args, "others", &line),
                Some(others)
            );
        }
        let line = en.tr("private-sent", &[("name", "a".into())]);
        assert_eq!(
            en.number_in("welcome", &[("name", "a".into())], "others", &line),
            None
        );
    }

    #[test]
    fn missing_message_falls_back_to_english_then_to_its_id() {
        let sources = [
            ("en", "only-en = only in English\nboth = English"),
            ("zh-CN", "both = 中文"),
        ];
        let zh = Localizer::with_resources(&parse_lang("zh-CN").unwrap(), &sources);
        assert_eq!(zh.tr("both", &[]), "中文");
        assert_eq!(zh.tr("only-en", &[]), "only in English");
        assert_eq!(zh.tr("no-such-message", &[]), "no-such-message");
    }

    #[test]
    fn numbers_render_as_plain_digits() {
        let en = Localizer::english();
        let text = en.tr("room-full", &[("max", 10000.into())]);
        assert!(text.contains("10000"), "{text}");
    }
}
