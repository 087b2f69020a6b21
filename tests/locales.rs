//! The Fluent files (PROTOCOL.md section 1): both parse, define the same
//! messages once each, and every message renders in both languages with
//! its variables filled, no isolation marks and nothing left unresolved.
//! The Chinese file is actually Chinese.
//!
//! `fluent_syntax` is not a dependency, so message ids and variables are
//! found by scanning the source text; the scan is checked against what
//! `fluent_bundle` itself parsed.

use std::collections::{BTreeMap, BTreeSet};

use chatroom::i18n::{parse_lang, Localizer, AVAILABLE};
use fluent_bundle::{FluentBundle, FluentResource, FluentValue};

const EN: &str = include_str!("../locales/en/chatroom.ftl");
const ZH: &str = include_str!("../locales/zh-CN/chatroom.ftl");
const FILES: [(&str, &str); 2] = [("en", EN), ("zh-CN", ZH)];

/// Messages whose text is the same in every language: the chat line is
/// `<name>: <text>` everywhere (PROTOCOL.md section 2), the action
/// `** <name> <text>` (section 5), and `language-name` names each language
/// in itself.
const LANGUAGE_NEUTRAL: &[&str] = &["chat-line", "action-line", "language-name"];

/// Numbers used in plural selectors.
const NUMERIC: &[&str] = &["count", "others", "max", "min"];

/// One message as written: its id and its whole source block (the id line
/// and its indented continuation lines).
struct Message {
    id: String,
    source: String,
}

/// Messages in file order, found by their `id =` lines at column 0.
fn messages(source: &str) -> Vec<Message> {
    let mut messages: Vec<Message> = Vec::new();
    let mut current: Option<Message> = None;
    for line in source.lines() {
        let starts_entry = line.starts_with(|c: char| c.is_ascii_alphabetic());
        let continues = line.starts_with(' ') && current.is_some();
        if starts_entry {
            messages.extend(current.take());
            let (id, _) = line
                .split_once('=')
                .unwrap_or_else(|| panic!("no `=` in {line:?}"));
            current = Some(Message {
                id: id.trim().to_string(),
                source: line.to_string(),
            });
        } else if continues {
            let message = current.as_mut().expect("current");
            message.source.push('\n');
            message.source.push_str(line);
        } else {
            // A comment, a blank line or a term ends the message.
            assert!(
                line.is_empty() || line.starts_with('#'),
                "unexpected line {line:?}: terms and other entries are not expected here"
            );
            messages.extend(current.take());
        }
    }
    messages.extend(current);
    messages
}

fn ids(source: &str) -> Vec<String> {
    messages(source).into_iter().map(|m| m.id).collect()
}

/// `$name` variables a message uses, in order, each once.
fn variables(message_source: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = message_source;
    while let Some(at) = rest.find('$') {
        rest = &rest[at + 1..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len());
        let name = rest[..end].to_string();
        assert!(
            !name.is_empty(),
            "a `$` without a name in {message_source:?}"
        );
        if !found.contains(&name) {
            found.push(name);
        }
    }
    found
}

/// Variables placed in the text (`{ $name }`), not only used as selectors.
fn placed_variables(message_source: &str) -> Vec<String> {
    variables(message_source)
        .into_iter()
        .filter(|name| {
            let compact: String = message_source.chars().filter(|c| *c != ' ').collect();
            compact.contains(&format!("{{${name}}}"))
        })
        .collect()
}

fn localizer(lang: &str) -> Localizer {
    Localizer::new(&parse_lang(lang).expect("shipped language"))
}

/// A recognizable value for a variable: a number for plurals, else `V-name`.
fn value_for(name: &str) -> (FluentValue<'static>, String) {
    if NUMERIC.contains(&name) {
        (FluentValue::from(7), "7".to_string())
    } else {
        let text = format!("V-{name}");
        (FluentValue::from(text.clone()), text)
    }
}

/// Renders `id` of `lang` with every variable its source uses (in either
/// file), checking each placed value shows up.
fn render(lang: &str, id: &str) -> String {
    let sources: BTreeMap<&str, Vec<Message>> =
        FILES.iter().map(|(l, s)| (*l, messages(s))).collect();
    let own = sources[lang].iter().find(|m| m.id == id).expect("message");
    let mut names = BTreeSet::new();
    for messages in sources.values() {
        if let Some(m) = messages.iter().find(|m| m.id == id) {
            names.extend(variables(&m.source));
        }
    }
    let values: Vec<(String, FluentValue<'static>, String)> = names
        .iter()
        .map(|name| {
            let (value, shown) = value_for(name);
            (name.clone(), value, shown)
        })
        .collect();
    let args: Vec<(&str, FluentValue<'_>)> = values
        .iter()
        .map(|(name, value, _)| (name.as_str(), value.clone()))
        .collect();
    // The library debug-asserts that formatting had no errors, such as a
    // variable left out: this test build has debug assertions on.
    let text = localizer(lang).tr(id, &args);
    for name in placed_variables(&own.source) {
        let (_, shown) = value_for(&name);
        assert!(
            text.contains(&shown),
            "{lang} {id}: ${name} not in {text:?}"
        );
    }
    text
}

fn has_cjk(text: &str) -> bool {
    text.chars().any(|c| {
        ('\u{4E00}'..='\u{9FFF}').contains(&c)
            || ('\u{3000}'..='\u{303F}').contains(&c)
            || ('\u{FF00}'..='\u{FFEF}').contains(&c)
    })
}

#[test]
fn the_files_are_the_shipped_languages() {
    assert_eq!(AVAILABLE, ["en", "zh-CN"]);
    assert_eq!(
        chatroom::i18n::RESOURCES,
        FILES,
        "the binaries embed these very files"
    );
}

#[test]
fn both_files_parse_without_errors() {
    for (lang, source) in FILES {
        if let Err((_, errors)) = FluentResource::try_new(source.to_string()) {
            panic!("{lang}: {errors:#?}");
        }
    }
}

#[test]
fn the_scan_finds_every_message_fluent_parsed() {
    for (lang, source) in FILES {
        let resource = FluentResource::try_new(source.to_string()).expect("parses");
        let parsed = resource
            .entries()
            .filter(|entry| format!("{entry:?}").starts_with("Message("))
            .count();
        let others: Vec<String> = resource
            .entries()
            .map(|entry| format!("{entry:?}"))
            .filter(|e| !e.starts_with("Message(") && !e.contains("Comment("))
            .collect();
        assert!(others.is_empty(), "{lang}: unexpected entries {others:#?}");
        let ids = ids(source);
        assert_eq!(ids.len(), parsed, "{lang}: scanned {ids:?}");
        let mut bundle = FluentBundle::new(vec![parse_lang(lang).unwrap()]);
        bundle.add_resource(resource).expect("no duplicates");
        for id in &ids {
            assert!(
                bundle.has_message(id),
                "{lang}: scanned id {id:?} is not a message"
            );
        }
        assert!(ids.len() > 40, "{lang}: only {} messages found", ids.len());
    }
}

#[test]
fn no_id_is_defined_twice() {
    for (lang, source) in FILES {
        let mut seen = BTreeSet::new();
        for id in ids(source) {
            assert!(seen.insert(id.clone()), "{lang}: {id} is defined twice");
        }
        // Fluent itself reports an override when a resource redefines a message.
        let resource = FluentResource::try_new(source.to_string()).expect("parses");
        let mut bundle = FluentBundle::new(vec![parse_lang(lang).unwrap()]);
        if let Err(errors) = bundle.add_resource(resource) {
            panic!("{lang}: {errors:?}");
        }
    }
}

#[test]
fn both_languages_define_the_same_messages() {
    let en: BTreeSet<String> = ids(EN).into_iter().collect();
    let zh: BTreeSet<String> = ids(ZH).into_iter().collect();
    let only_en: Vec<_> = en.difference(&zh).collect();
    let only_zh: Vec<_> = zh.difference(&en).collect();
    assert!(
        only_en.is_empty() && only_zh.is_empty(),
        "only in en: {only_en:?}; only in zh-CN: {only_zh:?}"
    );
}

#[test]
fn both_languages_use_the_same_variables() {
    let zh = messages(ZH);
    for message in messages(EN) {
        let theirs = zh.iter().find(|m| m.id == message.id).expect("same ids");
        let en_vars: BTreeSet<_> = variables(&message.source).into_iter().collect();
        let zh_vars: BTreeSet<_> = variables(&theirs.source).into_iter().collect();
        assert_eq!(
            en_vars, zh_vars,
            "{}: the callers supply one set of variables",
            message.id
        );
    }
}

#[test]
fn every_message_renders_cleanly_in_both_languages() {
    for (lang, source) in FILES {
        for id in ids(source) {
            let text = render(lang, &id);
            assert!(!text.trim().is_empty(), "{lang} {id}: empty");
            assert_ne!(text, id, "{lang} {id}: rendered as its id (missing)");
            assert!(
                !text.contains('\u{2068}') && !text.contains('\u{2069}'),
                "{lang} {id}: isolation marks in {text:?}"
            );
            assert!(
                !text.contains('{') && !text.contains('}'),
                "{lang} {id}: leftover braces in {text:?}"
            );
            assert!(
                !text.contains('$'),
                "{lang} {id}: unresolved variable in {text:?}"
            );
            assert!(
                !text.starts_with("* "),
                "{lang} {id}: the code adds the `* ` prefix: {text:?}"
            );
            assert!(
                !text.contains('\t') && !text.ends_with('\n'),
                "{lang} {id}: {text:?}"
            );
        }
    }
}

#[test]
fn chinese_messages_are_in_chinese() {
    let en = messages(EN);
    for message in messages(ZH) {
        let id = message.id.as_str();
        let zh_text = render("zh-CN", id);
        let en_text = render("en", id);
        if LANGUAGE_NEUTRAL.contains(&id) {
            assert_eq!(zh_text, en_text, "{id} is the same in every language");
            assert_eq!(
                Some(&message.source),
                en.iter().find(|m| m.id == id).map(|m| &m.source)
            );
        } else {
            assert!(has_cjk(&zh_text), "zh-CN {id} has no Chinese: {zh_text:?}");
            assert_ne!(zh_text, en_text, "zh-CN {id} is not translated");
        }
    }
    for id in LANGUAGE_NEUTRAL {
        assert!(en.iter().any(|m| m.id == *id), "{id} is a message");
    }
}

#[test]
fn plurals_pick_the_right_form_in_english() {
    let en = localizer("en");
    let one = en.tr("welcome", &[("name", "alice".into()), ("others", 1.into())]);
    let many = en.tr("welcome", &[("name", "alice".into()), ("others", 2.into())]);
    let none = en.tr("welcome", &[("name", "alice".into()), ("others", 0.into())]);
    // Whatever the words: with the digits set aside, 1 reads differently
    // from 2 (the `one` variant), and 0 reads like 2 (`other`).
    let shape = |text: &str| text.replace(|c: char| c.is_ascii_digit(), "#");
    assert_ne!(shape(&one), shape(&many), "{one} / {many}");
    assert_eq!(shape(&none), shape(&many), "{none} / {many}");
    let members = |count: u32| en.tr("members", &[("count", count.into()), ("names", "a".into())]);
    assert_ne!(shape(&members(1)), shape(&members(3)));
    assert!(members(3).contains('3'), "{}", members(3));
}

/// Every message id the programs' source names exists in English. Ids are
/// found as kebab-case string literals outside `#[cfg(test)]` code; the
/// programs' own names are the only such literals that are not ids.
#[test]
fn every_id_the_source_uses_exists() {
    let en: BTreeSet<String> = ids(EN).into_iter().collect();
    let mut stack = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src"
    ))];
    let mut checked = 0;
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(
                std::fs::read_dir(&path)
                    .expect("read src")
                    .map(|e| e.expect("entry").path()),
            );
            continue;
        }
        if path.extension() != Some(std::ffi::OsStr::new("rs")) {
            continue;
        }
        let source = std::fs::read_to_string(&path).expect("read source");
        let code = source.split("#[cfg(test)]").next().unwrap_or_default();
        for literal in code.split('"').skip(1).step_by(2) {
            let kebab = literal.contains('-')
                && !literal.starts_with('-')
                && !literal.ends_with('-')
                && literal.chars().all(|c| c.is_ascii_lowercase() || c == '-');
            if !kebab || literal.starts_with("chatroom-") {
                continue;
            }
            checked += 1;
            assert!(
                en.contains(literal),
                "{}: {literal:?} is not a message id",
                path.display()
            );
        }
    }
    assert!(checked > 20, "only {checked} ids found in src");
}

/// Settings errors found in a file's text say where, through an `-at`
/// form of their message that places the line and the column.
#[test]
fn settings_errors_have_a_form_with_the_place() {
    for id in [
        "error-settings-parse",
        "error-settings-value",
        "error-settings-unknown-key",
    ] {
        for (lang, source) in FILES {
            let at = format!("{id}-at");
            let message = messages(source)
                .into_iter()
                .find(|m| m.id == at)
                .unwrap_or_else(|| panic!("{lang} has no {at}"));
            let placed = placed_variables(&message.source);
            for variable in ["line", "column"] {
                assert!(
                    placed.iter().any(|v| v == variable),
                    "{lang} {at}: no ${variable}"
                );
            }
        }
    }
}
