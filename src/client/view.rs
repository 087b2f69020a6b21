//! What the terminal client makes of the lines the server sends: which
//! are notices, chat, private messages or mentions of you, who is in the
//! room (for Tab), and how each line is styled. Pure: lines in, styled
//! text and the member list out.
//!
//! Notices are recognised by their shape in the Fluent files, never by
//! English words: each message is rendered once per shipped language with
//! marker values in its placeholders, and the literal text between the
//! markers is what a line must match. The server speaks its own language,
//! which may not be the client's, so every language is tried.

use std::collections::BTreeMap;

use fluent_bundle::FluentValue;

use crate::i18n::{parse_lang, Localizer, AVAILABLE};
use crate::settings::Bell;

/// Most members remembered for Tab: a hostile server announcing endless
/// names cannot grow the client without bound.
const MAX_MEMBERS: usize = 10_000;

/// Placeholders a notice may have; each gets a marker when rendered. A
/// message that does not use one ignores it.
const PLACEHOLDERS: &[&str] = &[
    "name", "names", "others", "count", "text", "old", "new", "reason", "minutes", "seconds",
    "stayed",
];
/// Placeholders that are numbers: also rendered as 1, for languages whose
/// text changes for one ("1 person here").
const NUMBERS: &[&str] = &["others", "count", "minutes", "seconds"];

/// What a recognised notice says about the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The server welcomed us under `name`.
    Welcome,
    Joined,
    Left,
    /// A `/list` answer: `names` is everyone here.
    Members,
    /// A member took the name `new` instead of `old`.
    Renamed,
    /// We go by `name` from now on (`/nick`).
    NickSet,
    /// Our plain lines go to `name` alone (`/query`), or to `new`, who
    /// renamed, or to the room again.
    QueryStarted,
    QueryRenamed,
    QueryEnded,
}

/// The notices that tell who is here, by Fluent id. A rename notice joins
/// this table when the server has one.
const NOTICES: &[(&str, Kind)] = &[
    ("welcome", Kind::Welcome),
    ("joined", Kind::Joined),
    ("left-quit", Kind::Left),
    ("left-lost", Kind::Left),
    ("left-too-slow", Kind::Left),
    ("left-flood", Kind::Left),
    ("left-kicked", Kind::Left),
    ("left-kicked-reason", Kind::Left),
    ("left-banned", Kind::Left),
    ("members", Kind::Members),
    ("renamed", Kind::Renamed),
    ("nick-set", Kind::NickSet),
    ("query-started", Kind::QueryStarted),
    ("query-renamed", Kind::QueryRenamed),
    ("query-ended", Kind::QueryEnded),
    ("query-partner-left", Kind::QueryEnded),
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    /// A placeholder, by name.
    Slot(&'static str),
}

/// One rendering of a message, split at its placeholders.
#[derive(Debug, Clone)]
struct Template {
    pieces: Vec<Piece>,
}

impl Template {
    /// Renders `id` with a marker in each placeholder (or `1` in the
    /// numbers, when `one`), and splits the text at the markers.
    fn build(localizer: &Localizer, id: &str, one: bool) -> Template {
        let markers: Vec<String> = (0..PLACEHOLDERS.len())
            .map(|i| format!("\u{E000}{i}\u{E001}"))
            .collect();
        let args: Vec<(&str, FluentValue<'_>)> = PLACEHOLDERS
            .iter()
            .zip(&markers)
            .map(|(&name, marker)| {
                if one && NUMBERS.contains(&name) {
                    (name, FluentValue::from(1))
                } else {
                    (name, FluentValue::from(marker.as_str()))
                }
            })
            .collect();
        let text = localizer.tr(id, &args);
        let mut pieces = Vec::new();
        let mut rest = text.as_str();
        while let Some(start) = rest.find('\u{E000}') {
            pieces.push(Piece::Text(rest[..start].to_string()));
            let after = &rest[start + '\u{E000}'.len_utf8()..];
            let Some(end) = after.find('\u{E001}') else {
                break;
            };
            let slot = after[..end]
                .parse::<usize>()
                .ok()
                .and_then(|i| PLACEHOLDERS.get(i));
            if let Some(slot) = slot {
                pieces.push(Piece::Slot(slot));
            }
            rest = &after[end + '\u{E001}'.len_utf8()..];
        }
        pieces.push(Piece::Text(rest.to_string()));
        pieces.retain(|piece| piece != &Piece::Text(String::new()));
        Template { pieces }
    }

    /// The placeholders' values if `line` has this shape. A placeholder
    /// runs to the first place where the text after it follows; the last
    /// one runs to the end.
    fn matches<'l>(&self, line: &'l str) -> Option<BTreeMap<&'static str, &'l str>> {
        let mut values = BTreeMap::new();
        let mut rest = line;
        let mut pending: Option<&'static str> = None;
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => match pending.take() {
                    None => rest = rest.strip_prefix(text.as_str())?,
                    Some(slot) => {
                        let at = rest.find(text.as_str())?;
                        if !fits(slot, &rest[..at]) {
                            return None;
                        }
                        values.insert(slot, &rest[..at]);
                        rest = &rest[at + text.len()..];
                    }
                },
                Piece::Slot(slot) => {
                    if pending.is_some() {
                        // Two placeholders with nothing between: ambiguous.
                        return None;
                    }
                    pending = Some(slot);
                }
            }
        }
        match pending {
            Some(slot) if fits(slot, rest) => {
                values.insert(slot, rest);
            }
            Some(_) => return None,
            None if !rest.is_empty() => return None,
            None => {}
        }
        Some(values)
    }
}

/// Whether `value` can stand in placeholder `slot`: a name is a name, so
/// "alice lost the connection" is not the name in "{ $name } left".
fn fits(slot: &str, value: &str) -> bool {
    match slot {
        "name" | "old" | "new" => is_name(value),
        _ => !value.is_empty(),
    }
}

/// The shapes of one language's lines.
#[derive(Debug)]
struct Language {
    notices: Vec<(Template, Kind)>,
    private: Template,
    /// What separates names in a `/list` answer.
    separator: String,
    admin: String,
}

/// How a line from the server looks on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// A system notice (`* `): dimmed.
    Notice,
    /// A `/list` answer (a notice too).
    Members,
    /// The welcome: we have joined (a notice too).
    Welcome,
    /// `name: text`, from someone else (or the administrator).
    Chat,
    /// A private message to you.
    Private,
    /// A chat line that names you.
    Mention,
    /// Anything else (the server's prompt before joining).
    Plain,
}

/// The room as the client sees it: its own name once joined, the other
/// members, and how to style lines.
#[derive(Debug)]
pub struct View {
    languages: Vec<Language>,
    /// Our name, once the server welcomed us.
    me: Option<String>,
    /// Inside a `/query`: the partner.
    query: Option<String>,
    /// The members we know of, by lower-cased name, as they spell it.
    members: BTreeMap<String, String>,
    /// Set when `members` or `me` changed since `take_changed`.
    changed: bool,
    color: bool,
    bell: Bell,
}

impl View {
    pub fn new(color: bool, bell: Bell) -> View {
        let languages = AVAILABLE
            .iter()
            .filter_map(|tag| parse_lang(tag).ok())
            .map(|lang| {
                let localizer = Localizer::new(&lang);
                let mut notices = Vec::new();
                for &(id, kind) in NOTICES {
                    for one in [false, true] {
                        notices.push((Template::build(&localizer, id, one), kind));
                    }
                }
                Language {
                    notices,
                    private: Template::build(&localizer, "private-line", false),
                    separator: localizer.tr("list-separator", &[]),
                    admin: localizer.tr("admin-name", &[]),
                }
            })
            .collect();
        View {
            languages,
            me: None,
            query: None,
            members: BTreeMap::new(),
            changed: false,
            color,
            bell,
        }
    }

    /// Our name, once joined.
    pub fn me(&self) -> Option<&str> {
        self.me.as_deref()
    }

    /// The other members, for Tab.
    pub fn members(&self) -> impl Iterator<Item = &String> {
        self.members.values()
    }

    /// Whether who is here (or our name) changed since the last call.
    pub fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }

    /// The input row's prompt: `> ` before joining, then `name> `, or
    /// `name → partner> ` inside a one-to-one query.
    pub fn prompt(&self) -> String {
        match (&self.me, self.query.as_deref()) {
            (None, _) => "> ".to_string(),
            (Some(me), None) => format!("{me}> "),
            (Some(me), Some(partner)) => format!("{me} → {partner}> "),
        }
    }

    /// Takes a (cleaned) line from the server: learns who is here from it,
    /// and says what kind of line it is.
    pub fn observe(&mut self, line: &str) -> LineKind {
        if let Some(notice) = line.strip_prefix("* ") {
            return match self.learn(notice) {
                Some(Kind::Members) => LineKind::Members,
                Some(Kind::Welcome) => LineKind::Welcome,
                _ => LineKind::Notice,
            };
        }
        if self
            .languages
            .iter()
            .any(|l| l.private.matches(line).is_some())
        {
            if let Some(name) = self.private_sender(line) {
                self.add(&name);
            }
            return LineKind::Private;
        }
        match line.split_once(": ") {
            Some((name, text)) if is_name(name) => {
                if !self.is_admin(name) && Some(name) != self.me.as_deref() {
                    self.add(name);
                }
                if self.mentions_me(text) {
                    LineKind::Mention
                } else {
                    LineKind::Chat
                }
            }
            _ => LineKind::Plain,
        }
    }

    fn private_sender(&self, line: &str) -> Option<String> {
        self.languages.iter().find_map(|l| {
            let values = l.private.matches(line)?;
            values.get("name").map(|name| name.to_string())
        })
    }

    fn is_admin(&self, name: &str) -> bool {
        self.languages.iter().any(|l| l.admin == name)
    }

    /// Learns who is here from a notice; says which notice it was.
    fn learn(&mut self, notice: &str) -> Option<Kind> {
        let found = self.languages.iter().find_map(|language| {
            language.notices.iter().find_map(|(template, kind)| {
                let values = template.matches(notice)?;
                Some((*kind, values, language.separator.clone()))
            })
        });
        let (kind, values, separator) = found?;
        let name = values.get("name").copied().filter(|n| is_name(n));
        match (kind, name) {
            (Kind::Welcome, Some(name)) => {
                self.me = Some(name.to_string());
                self.members.remove(&name.to_lowercase());
                self.changed = true;
            }
            (Kind::Joined, Some(name)) => self.add(name),
            (Kind::NickSet, Some(name)) => {
                self.me = Some(name.to_string());
                self.members.remove(&name.to_lowercase());
                self.changed = true;
            }
            (Kind::QueryStarted, Some(name)) => {
                self.query = Some(name.to_string());
                self.changed = true;
            }
            (Kind::QueryRenamed, _) => {
                if let Some(new) = values.get("new").filter(|n| is_name(n)) {
                    self.query = Some(new.to_string());
                    self.changed = true;
                }
            }
            (Kind::QueryEnded, _) => {
                self.changed |= self.query.take().is_some();
            }
            (Kind::Renamed, _) => {
                let (Some(old), Some(new)) = (values.get("old"), values.get("new")) else {
                    return Some(kind);
                };
                self.changed |= self.members.remove(&old.to_lowercase()).is_some();
                if is_name(new) {
                    self.add(new);
                }
            }
            (Kind::Left, Some(name)) => {
                self.changed |= self.members.remove(&name.to_lowercase()).is_some();
            }
            (Kind::Members, _) => {
                if let Some(names) = values.get("names") {
                    self.members.clear();
                    self.changed = true;
                    for name in names.split(separator.as_str()).filter(|n| is_name(n)) {
                        self.add(name);
                    }
                }
            }
            _ => {}
        }
        Some(kind)
    }

    fn add(&mut self, name: &str) {
        let key = name.to_lowercase();
        if self.me.as_deref().map(str::to_lowercase) == Some(key.clone())
            || self.members.get(&key).is_some_and(|known| known == name)
            || (self.members.len() >= MAX_MEMBERS && !self.members.contains_key(&key))
        {
            return;
        }
        self.members.insert(key, name.to_string());
        self.changed = true;
    }

    /// Whether `text` has our name as a whole word, in any case.
    fn mentions_me(&self, text: &str) -> bool {
        let Some(me) = &self.me else {
            return false;
        };
        let me = me.to_lowercase();
        let text = text.to_lowercase();
        text.match_indices(&me).any(|(at, found)| {
            let before = text[..at].chars().next_back();
            let after = text[at + found.len()..].chars().next();
            !before.is_some_and(is_name_char) && !after.is_some_and(is_name_char)
        })
    }

    /// Whether a line of this kind rings the bell.
    pub fn rings(&self, kind: LineKind) -> bool {
        match self.bell {
            Bell::Off => false,
            Bell::Mentions => matches!(kind, LineKind::Private | LineKind::Mention),
            Bell::All => matches!(kind, LineKind::Private | LineKind::Mention | LineKind::Chat),
        }
    }

    /// `line` with the escape sequences that style it: each name in its
    /// colour, notices dim, private messages and mentions bold. Without
    /// colour, bold and dim stay.
    pub fn style(&self, line: &str, kind: LineKind) -> String {
        match kind {
            LineKind::Notice | LineKind::Members | LineKind::Welcome => {
                format!("\x1b[2m{line}\x1b[22m")
            }
            LineKind::Plain => line.to_string(),
            LineKind::Chat => self.style_chat(line, false),
            LineKind::Mention => self.style_chat(line, true),
            LineKind::Private => {
                let highlighted = if self.color {
                    format!("\x1b[1;35m{line}\x1b[0m")
                } else {
                    format!("\x1b[1m{line}\x1b[0m")
                };
                highlighted
            }
        }
    }

    fn style_chat(&self, line: &str, bold: bool) -> String {
        let Some((name, text)) = line.split_once(": ") else {
            return line.to_string();
        };
        let mut out = String::with_capacity(line.len() + 16);
        if bold {
            out.push_str("\x1b[1m");
        }
        if self.color {
            out.push_str(&format!("\x1b[{}m{name}\x1b[39m", name_colour(name)));
        } else {
            out.push_str(name);
        }
        out.push_str(": ");
        if bold && self.color {
            out.push_str(&format!("\x1b[93m{text}\x1b[39m"));
        } else {
            out.push_str(text);
        }
        if bold {
            out.push_str("\x1b[22m");
        }
        out
    }

    /// Our own line as the others see it (`name: text`), styled, or `None`
    /// for a line that is not room chat (a command, a name before joining).
    pub fn own_line(&self, line: &str) -> Option<String> {
        let me = self.me.as_deref()?;
        let text = match line.strip_prefix("//") {
            Some(rest) => &line[line.len() - rest.len() - 1..],
            None if line.starts_with('/') || line.starts_with('@') => return None,
            None => line,
        };
        Some(self.style_chat(&format!("{me}: {text}"), false))
    }
}

/// A palette readable on dark and light backgrounds (no plain blue or
/// black or white), foreground colour codes.
const PALETTE: &[u8] = &[31, 32, 33, 35, 36, 91, 92, 94, 95, 96];

/// A name's colour: the same for the same name (any case), every session.
fn name_colour(name: &str) -> u8 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in name.to_lowercase().bytes() {
        hash = (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193);
    }
    PALETTE[hash as usize % PALETTE.len()]
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// Whether `text` could be a member's name (PROTOCOL.md section 2).
fn is_name(text: &str) -> bool {
    !text.is_empty() && text.chars().count() <= 32 && text.chars().all(is_name_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tr(lang: &str, id: &str, args: &crate::i18n::Args<'_>) -> String {
        Localizer::new(&parse_lang(lang).unwrap()).tr(id, args)
    }

    fn notice(lang: &str, id: &str, args: &crate::i18n::Args<'_>) -> String {
        format!("* {}", tr(lang, id, args))
    }

    fn names(view: &View) -> Vec<String> {
        view.members().cloned().collect()
    }

    #[test]
    fn learns_members_from_notices_in_every_language() {
        for lang in ["en", "zh-CN"] {
            let mut view = View::new(true, Bell::Mentions);
            let welcome = notice(
                lang,
                "welcome",
                &[("name", "me".into()), ("others", 1.into())],
            );
            assert_eq!(view.observe(&welcome), LineKind::Welcome);
            assert_eq!(view.me(), Some("me"), "{lang}: {welcome}");
            assert_eq!(view.prompt(), "me> ");
            let sep = tr(lang, "list-separator", &[]);
            let list = notice(
                lang,
                "members",
                &[
                    ("count", 3.into()),
                    ("names", ["me", "alice", "小明"].join(&sep).into()),
                ],
            );
            assert_eq!(view.observe(&list), LineKind::Members);
            assert_eq!(names(&view), ["alice", "小明"], "{lang}: {list}");
            view.observe(&notice(
                lang,
                "joined",
                &[("name", "Bob".into()), ("count", 4.into())],
            ));
            view.observe(&notice(
                lang,
                "left-lost",
                &[("name", "alice".into()), ("stayed", "5 s".into())],
            ));
            assert_eq!(names(&view), ["Bob", "小明"], "{lang}");
            let one = notice(
                lang,
                "members",
                &[("count", 1.into()), ("names", "me".into())],
            );
            view.observe(&one);
            assert_eq!(names(&view), Vec::<String>::new(), "{lang}: {one}");
            // Chat lines teach names too, and the administrator is not one.
            view.observe("carol: hi");
            view.observe(&format!("{}: hello", tr(lang, "admin-name", &[])));
            assert_eq!(names(&view), ["carol"]);
            assert!(view.take_changed());
            view.observe("carol: again");
            assert!(!view.take_changed(), "nothing new");
        }
    }

    #[test]
    fn renames_and_kicks_keep_the_names_true() {
        for lang in ["en", "zh-CN"] {
            let mut view = View::new(true, Bell::Mentions);
            view.observe(&notice(
                lang,
                "welcome",
                &[("name", "me".into()), ("others", 0.into())],
            ));
            view.observe(&notice(
                lang,
                "joined",
                &[("name", "bob".into()), ("count", 2.into())],
            ));
            view.observe(&notice(
                lang,
                "renamed",
                &[("old", "bob".into()), ("new", "robert".into())],
            ));
            assert_eq!(names(&view), ["robert"], "{lang}");
            let nick = notice(lang, "nick-set", &[("name", "myself".into())]);
            assert_eq!(view.observe(&nick), LineKind::Notice);
            assert_eq!(view.me(), Some("myself"), "{lang}: {nick}");
            view.observe(&notice(
                lang,
                "left-kicked-reason",
                &[
                    ("name", "robert".into()),
                    (
                        "stayed",
                        tr(lang, "duration-seconds", &[("n", 5.into())]).into(),
                    ),
                    ("reason", "rude".into()),
                ],
            ));
            assert!(names(&view).is_empty(), "{lang}");
            view.observe(&notice(lang, "query-started", &[("name", "ann".into())]));
            assert_eq!(view.prompt(), "myself → ann> ");
            view.observe(&notice(
                lang,
                "query-renamed",
                &[("old", "ann".into()), ("new", "anna".into())],
            ));
            assert_eq!(view.prompt(), "myself → anna> ");
            view.observe(&notice(lang, "query-ended", &[("name", "anna".into())]));
            assert_eq!(view.prompt(), "myself> ");
        }
    }

    #[test]
    fn kinds_of_lines() {
        let mut view = View::new(true, Bell::Mentions);
        view.observe(&notice(
            "en",
            "welcome",
            &[("name", "Alice".into()), ("others", 0.into())],
        ));
        assert_eq!(view.observe("bob: hello"), LineKind::Chat);
        assert_eq!(view.observe("bob: hello alice!"), LineKind::Mention);
        assert_eq!(view.observe("bob: ALICE"), LineKind::Mention);
        assert_eq!(view.observe("bob: malice aforethought"), LineKind::Chat);
        assert_eq!(view.observe("bob: alice_2 is here"), LineKind::Chat);
        let private = tr(
            "zh-CN",
            "private-line",
            &[("name", "bob".into()), ("text", "hi".into())],
        );
        assert_eq!(view.observe(&private), LineKind::Private);
        assert_eq!(view.observe("Choose a nickname:"), LineKind::Plain);
        assert!(view.rings(LineKind::Mention) && view.rings(LineKind::Private));
        assert!(!view.rings(LineKind::Chat) && !view.rings(LineKind::Notice));
        assert!(View::new(true, Bell::All).rings(LineKind::Chat));
        assert!(!View::new(true, Bell::Off).rings(LineKind::Private));
    }

    #[test]
    fn styles_with_and_without_colour() {
        let mut view = View::new(true, Bell::Mentions);
        view.observe(&notice(
            "en",
            "welcome",
            &[("name", "me".into()), ("others", 0.into())],
        ));
        let styled = view.style("bob: hi", LineKind::Chat);
        assert_eq!(
            styled,
            format!("\x1b[{}mbob\x1b[39m: hi", name_colour("bob"))
        );
        assert_eq!(name_colour("Bob"), name_colour("bob"));
        assert_eq!(view.style("* x", LineKind::Notice), "\x1b[2m* x\x1b[22m");
        let plain = View::new(false, Bell::Mentions);
        assert_eq!(plain.style("bob: hi", LineKind::Chat), "bob: hi");
        assert_eq!(
            plain.style("bob: me", LineKind::Mention),
            "\x1b[1mbob: me\x1b[22m"
        );
        assert_eq!(plain.style("* x", LineKind::Notice), "\x1b[2m* x\x1b[22m");
        assert_eq!(
            view.own_line("//slash").as_deref(),
            Some(format!("\x1b[{}mme\x1b[39m: /slash", name_colour("me")).as_str())
        );
        assert_eq!(view.own_line("/list"), None);
        assert_eq!(
            View::new(false, Bell::Off).own_line("hi"),
            None,
            "not joined"
        );
    }
}
