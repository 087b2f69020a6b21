//! Nicknames: the rules a name must follow, and the registry that keeps
//! names unique. Two names that look alike are one name: they are compared
//! by their confusable skeleton (Unicode UTS #39) after NFKC and full case
//! folding, so `alicе` (Cyrillic е), `ａｌｉｃｅ` and `𝐚𝐥𝐢𝐜𝐞` are all
//! `alice`, and `straße` is `STRASSE`. What is stored and shown is the name
//! as typed, in NFC.

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;
use unicode_security::confusable_detection::skeleton;

use super::events::{MemberId, NameProblem};
use crate::protocol::is_removed;

/// Longest nickname, in Unicode scalar values (after NFC).
pub const MAX_NAME_CHARS: usize = 32;

/// The nickname rules of PROTOCOL.md, without uniqueness: 1 to 32
/// characters, each alphanumeric or one of `_`, `-`, `.`. Expects NFC.
pub fn validate_name(name: &str) -> Result<(), NameProblem> {
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(NameProblem::TooLong);
    }
    // Letters that draw nothing (Hangul fillers) would let `alice` + filler
    // pass for alice.
    let allowed = |c: char| (c.is_alphanumeric() || matches!(c, '_' | '-' | '.')) && !is_removed(c);
    if name.is_empty() || !name.chars().all(allowed) {
        return Err(NameProblem::BadCharacters);
    }
    Ok(())
}

/// The form two names are compared in: equal keys, one name.
pub fn name_key(name: &str) -> String {
    let folded: String = caseless::default_case_fold_str(&name.nfkc().collect::<String>());
    let folded: String = folded.nfkc().collect();
    // The skeleton maps lookalikes to one prototype (Cyrillic а to a,
    // mathematical bold to plain); folding again makes the prototypes'
    // case irrelevant too.
    let skeleton: String = skeleton(&folded).collect();
    caseless::default_case_fold_str(&skeleton)
}

/// The names in use, and the reserved ones.
#[derive(Debug, Default)]
pub struct Names {
    /// Members by the key of their name.
    by_key: HashMap<String, MemberId>,
    /// Keys of the reserved names (the administrator's labels).
    reserved: Vec<String>,
}

impl Names {
    pub fn new(reserved: &[String]) -> Self {
        Names {
            by_key: HashMap::new(),
            reserved: reserved.iter().map(|name| name_key(name)).collect(),
        }
    }

    /// `raw` as a name a new member may take: the name in NFC, or why not.
    /// A name too like a member's is taken, too like a reserved one
    /// reserved. `except` is a member whose own name does not count (for a
    /// rename that only changes case).
    pub fn check(&self, raw: &str, except: Option<MemberId>) -> Result<String, NameProblem> {
        let name: String = raw.nfc().collect();
        validate_name(&name)?;
        let key = name_key(&name);
        if self.reserved.contains(&key) {
            return Err(NameProblem::Reserved(name));
        }
        match self.by_key.get(&key) {
            Some(&holder) if Some(holder) != except => Err(NameProblem::Taken(name)),
            _ => Ok(name),
        }
    }

    /// Records that `member` goes by `name` (as `check` returned it).
    pub fn claim(&mut self, name: &str, member: MemberId) {
        self.by_key.insert(name_key(name), member);
    }

    /// `name` is free again.
    pub fn release(&mut self, name: &str) {
        self.by_key.remove(&name_key(name));
    }

    /// The member whose name is `name`, or looks like it.
    pub fn find(&self, name: &str) -> Option<MemberId> {
        self.by_key.get(&name_key(name)).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        let mut names = Names::new(&["Administrator".into(), "管理员".into()]);
        names.claim("alice", MemberId(1));
        names
    }

    #[test]
    fn lookalikes_of_a_member_are_taken() {
        let names = names();
        for lookalike in ["alicе", "ａｌｉｃｅ", "𝐚𝐥𝐢𝐜𝐞", "ALICE", "Alice"] {
            assert_eq!(
                names.check(lookalike, None),
                Err(NameProblem::Taken(lookalike.nfc().collect())),
                "{lookalike}"
            );
        }
        assert_eq!(names.find("ＡＬＩＣＥ"), Some(MemberId(1)));
    }

    #[test]
    fn lookalikes_of_the_administrator_are_reserved() {
        let names = names();
        for lookalike in [
            "Аdministrator",
            "Ａｄｍｉｎｉｓｔｒａｔｏｒ",
            "𝐀dministrator",
            "管理员",
        ] {
            assert!(
                matches!(names.check(lookalike, None), Err(NameProblem::Reserved(_))),
                "{lookalike}"
            );
        }
    }

    #[test]
    fn full_case_folding() {
        let mut names = names();
        names.claim("straße", MemberId(2));
        assert!(matches!(
            names.check("STRASSE", None),
            Err(NameProblem::Taken(_))
        ));
        assert_eq!(
            names.check("STRASSE", Some(MemberId(2))),
            Ok("STRASSE".into())
        );
    }

    #[test]
    fn ordinary_names_in_one_script_stay_apart() {
        let mut names = names();
        for (i, name) in ["小明", "Иван", "café", "bob", "Bob_2", "a.b-c"]
            .iter()
            .enumerate()
        {
            let name = names.check(name, None).expect(name);
            names.claim(&name, MemberId(10 + i as u64));
        }
        assert_eq!(names.find("иван"), Some(MemberId(11)));
    }

    #[test]
    fn a_combining_accent_is_stored_composed() {
        let names = names();
        assert_eq!(names.check("cafe\u{301}", None), Ok("café".into()));
        assert_eq!(validate_name("e\u{301}"), Err(NameProblem::BadCharacters));
    }
}
