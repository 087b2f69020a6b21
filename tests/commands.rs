//! The member commands of PROTOCOL.md section 5, one test each (or a few),
//! against the real server on loopback, talking as netcat would; `/lang`
//! also from the real client. Every reply is recognised through `Text`
//! (the Fluent messages rendered with the server's own arguments), in the
//! language of the connection that receives it.

mod common;

use std::process::Stdio;
use std::thread;

use common::{run_with_input, settings_file, Peer, Server, Text, CLIENT};

/// A server in `lang` without flood control, with `settings` added under
/// `[server]` (`history = 0` unless they say otherwise, so that a join
/// shows only the welcome).
fn start(lang: &str, settings: &str) -> Server {
    let history = if settings.contains("history") {
        ""
    } else {
        "history = 0\n"
    };
    let path = settings_file(&format!("[server]\nflood_rate = 0\n{history}{settings}"));
    let path = path.to_str().expect("utf-8 path").to_string();
    Server::start_with(&["--lang", lang, "--config", &path], Stdio::piped())
}

const LANGS: [&str; 2] = ["en", "zh-CN"];

/// Whether `line` is a room line stamped with a time: `[HH:MM] ` then
/// `rest`.
fn is_stamped(line: &str, rest: &str) -> bool {
    let bytes = line.as_bytes();
    bytes.len() == 8 + rest.len()
        && bytes[0] == b'['
        && bytes[1..3].iter().all(u8::is_ascii_digit)
        && bytes[3] == b':'
        && bytes[4..6].iter().all(u8::is_ascii_digit)
        && &line[6..8] == "] "
        && line.ends_with(rest)
}

#[test]
fn nick_renames_tells_the_room_and_frees_the_old_name() {
    for lang in LANGS {
        let server = start(lang, "");
        let t = server.text();
        let mut alice = server.join("alice");
        let mut bob = server.join("bob");
        alice.expect_line(&t.joined("bob"));
        bob.send("/nick 小明");
        assert_eq!(bob.line(), t.named("nick-set", "小明"));
        assert_eq!(
            alice.line(),
            t.notice("renamed", &[("old", "bob".into()), ("new", "小明".into())])
        );
        bob.send("/nick ALICE");
        assert_eq!(bob.line(), t.named("name-taken", "ALICE"));
        bob.send("/nick has space");
        assert_eq!(bob.line(), t.notice("name-bad-characters", &[]));
        bob.send("/nick");
        assert_eq!(bob.line(), t.notice("usage-nick", &[]));
        // The old name is free at once; the new one is taken.
        let mut again = server.join("bob");
        again.send("/list");
        assert_eq!(again.line(), t.members(&["alice", "bob", "小明"]));
        assert_eq!(alice.line(), t.joined_count("bob", 3));
        assert_eq!(bob.line(), t.joined_count("bob", 3));
        alice.send("hi");
        assert_eq!(bob.line(), "alice: hi");
        bob.send("yo");
        assert_eq!(alice.line(), "小明: yo");
    }
}

#[test]
fn me_sends_an_action_with_two_stars() {
    let server = start("en", "");
    let t = server.text();
    let mut alice = server.join("alice");
    let mut bob = server.join("bob");
    alice.expect_line(&t.joined("bob"));
    bob.send("/me waves at everyone");
    assert_eq!(alice.line(), "** bob waves at everyone");
    bob.send("/me");
    assert_eq!(bob.line(), t.notice("usage-me", &[]));
    bob.expect_nothing_pending();
    alice.expect_nothing_pending();
}

#[test]
fn reply_answers_whoever_last_wrote_privately() {
    for lang in LANGS {
        let server = start(lang, "");
        let t = server.text();
        let mut alice = server.join("alice");
        let mut bob = server.join("bob");
        alice.expect_line(&t.joined("bob"));
        bob.send("/r hello?");
        assert_eq!(bob.line(), t.notice("no-one-to-reply", &[]));
        alice.send("/msg bob psst");
        assert_eq!(alice.line(), t.named("private-sent", "bob"));
        assert_eq!(bob.line(), t.private("alice", "psst"));
        bob.send("/reply what?");
        assert_eq!(bob.line(), t.named("private-sent", "alice"));
        assert_eq!(alice.line(), t.private("bob", "what?"));
        alice.send("/quit");
        bob.expect_line(&t.left("left-quit", "alice"));
        bob.send("/r still there?");
        assert_eq!(bob.line(), t.notice("no-one-to-reply", &[]));
    }
}

#[test]
fn query_sends_plain_lines_to_one_member_follows_renames_and_ends() {
    for lang in LANGS {
        let server = start(lang, "");
        let t = server.text();
        let mut alice = server.join("alice");
        let mut bob = server.join("bob");
        let mut carol = server.join("carol");
        alice.expect_line(&t.joined("carol"));
        bob.expect_line(&t.joined("carol"));
        alice.send("/query");
        assert_eq!(alice.line(), t.notice("usage-query", &[]));
        alice.send("/query BOB");
        assert_eq!(alice.line(), t.named("query-started", "bob"));
        alice.send("just between us");
        assert_eq!(alice.line(), t.named("private-sent", "bob"));
        assert_eq!(bob.line(), t.private("alice", "just between us"));
        carol.expect_nothing_pending();
        // The query follows a rename.
        bob.send("/nick robert");
        assert_eq!(bob.line(), t.named("nick-set", "robert"));
        let renamed = t.notice(
            "renamed",
            &[("old", "bob".into()), ("new", "robert".into())],
        );
        assert_eq!(alice.line(), renamed);
        assert_eq!(
            alice.line(),
            t.notice(
                "query-renamed",
                &[("old", "bob".into()), ("new", "robert".into())]
            )
        );
        alice.send("still us");
        assert_eq!(alice.line(), t.named("private-sent", "robert"));
        assert_eq!(bob.line(), t.private("alice", "still us"));
        alice.send("/query");
        assert_eq!(alice.line(), t.named("query-ended", "robert"));
        alice.send("hello room");
        assert_eq!(carol.line(), renamed);
        assert_eq!(carol.line(), "alice: hello room");
        // The partner leaving ends it: the member is told.
        alice.send("/query robert");
        assert_eq!(alice.line(), t.named("query-started", "robert"));
        bob.send("/quit");
        assert_eq!(alice.line(), t.left("left-quit", "robert"));
        assert_eq!(alice.line(), t.named("query-partner-left", "robert"));
        alice.send("the room again");
        assert_eq!(carol.line(), t.left("left-quit", "robert"));
        assert_eq!(carol.line(), "alice: the room again");
    }
}

#[test]
fn mute_stops_chat_and_actions_but_not_private_admin_or_notices() {
    for lang in LANGS {
        let mut server = start(lang, "");
        let t = server.text();
        let mut alice = server.join("alice");
        let mut bob = server.join("bob");
        alice.expect_line(&t.joined("bob"));
        alice.send("/mute");
        assert_eq!(alice.line(), t.notice("muted-room", &[]));
        bob.send("chat alice will not see");
        bob.send("/me dances unseen");
        bob.send("@alice a private word");
        assert_eq!(alice.line(), t.private("bob", "a private word"));
        server.console("from the administrator");
        assert_eq!(alice.line(), t.admin("from the administrator"));
        // A plain line is not sent; the member is reminded.
        alice.send("anyone?");
        assert_eq!(alice.line(), t.notice("still-muted", &[]));
        let mut carol = server.join("carol");
        assert_eq!(alice.line(), t.joined("carol"));
        alice.send("/i");
        assert_eq!(alice.line(), t.notice("unmuted-room", &[]));
        bob.send("seen again");
        assert_eq!(alice.line(), "bob: seen again");
        alice.send("/i");
        assert_eq!(alice.line(), t.notice("muted-room", &[]));
        alice.send("/unmute");
        assert_eq!(alice.line(), t.notice("unmuted-room", &[]));
        carol.send("/quit");
        // bob got none of alice's muted lines.
        bob.expect_line(&t.joined("carol"));
        assert_eq!(bob.line(), t.left("left-quit", "carol"));
        bob.expect_nothing_pending();
    }
}

#[test]
fn ignore_hides_one_member_and_unignore_undoes_it() {
    for lang in LANGS {
        let server = start(lang, "");
        let t = server.text();
        let mut alice = server.join("alice");
        let mut bob = server.join("bob");
        let mut carol = server.join("carol");
        alice.expect_line(&t.joined("carol"));
        bob.expect_line(&t.joined("carol"));
        alice.send("/ignore");
        assert_eq!(
            alice.line(),
            t.notice("ignore-list", &[("count", 0.into()), ("names", "".into())])
        );
        alice.send("/ignore alice");
        assert_eq!(alice.line(), t.notice("ignore-self", &[]));
        alice.send("/ignore Bob");
        assert_eq!(alice.line(), t.named("ignoring", "bob"));
        bob.send("you cannot hear me");
        bob.send("/me waves in vain");
        bob.send("/msg alice hello?");
        // Confirmed as usual: bob is not told.
        assert_eq!(bob.line(), t.named("private-sent", "alice"));
        carol.send("but me");
        assert_eq!(alice.line(), "carol: but me");
        alice.send("/ignore");
        assert_eq!(
            alice.line(),
            t.notice(
                "ignore-list",
                &[("count", 1.into()), ("names", "bob".into())]
            )
        );
        alice.send("/unignore bob");
        assert_eq!(alice.line(), t.named("unignored", "bob"));
        alice.send("/unignore bob");
        assert_eq!(alice.line(), t.named("not-ignoring", "bob"));
        alice.send("/unignore");
        assert_eq!(alice.line(), t.notice("usage-unignore", &[]));
        alice.send("/ignore nobody");
        assert_eq!(alice.line(), t.named("no-such-member", "nobody"));
        bob.send("heard again");
        assert_eq!(alice.line(), "bob: heard again");
        carol.expect_line("bob: heard again");
    }
}

#[test]
fn away_shows_in_list_and_whois_and_tells_private_senders() {
    for lang in LANGS {
        let server = start(lang, "");
        let t = server.text();
        let mut alice = server.join("alice");
        let mut bob = server.join("bob");
        alice.expect_line(&t.joined("bob"));
        bob.send("/away lunch");
        assert_eq!(
            bob.line(),
            t.notice("away-set-reason", &[("reason", "lunch".into())])
        );
        alice.send("/list");
        let away = t.tr(
            "list-away",
            &[("name", "bob".into()), ("reason", "lunch".into())],
        );
        let separator = t.tr("list-separator", &[]);
        let names = format!("alice{separator}{away}");
        assert_eq!(
            alice.line(),
            t.notice("members", &[("count", 2.into()), ("names", names.into())])
        );
        alice.send("@bob are you there?");
        assert_eq!(alice.line(), t.named("private-sent", "bob"));
        assert_eq!(
            alice.line(),
            t.notice(
                "peer-away",
                &[("name", "bob".into()), ("reason", "lunch".into())]
            )
        );
        assert_eq!(bob.line(), t.private("alice", "are you there?"));
        alice.send("/whois bob");
        let _first = alice.line();
        assert_eq!(
            alice.line(),
            t.notice(
                "peer-away",
                &[("name", "bob".into()), ("reason", "lunch".into())]
            )
        );
        bob.send("/away");
        assert_eq!(bob.line(), t.notice("away-set", &[]));
        alice.send("@bob now?");
        assert_eq!(alice.line(), t.named("private-sent", "bob"));
        assert_eq!(alice.line(), t.named("peer-away-no-reason", "bob"));
        assert_eq!(bob.line(), t.private("alice", "now?"));
        bob.send("/back");
        assert_eq!(bob.line(), t.notice("back", &[]));
        alice.send("/list");
        assert_eq!(alice.line(), t.members(&["alice", "bob"]));
        alice.send("@bob welcome back");
        assert_eq!(alice.line(), t.named("private-sent", "bob"));
        alice.expect_nothing_pending();
    }
}

#[test]
fn whois_gives_time_in_the_room_idle_time_away_and_language() {
    for lang in LANGS {
        let server = start(lang, "");
        let t = server.text();
        let mut alice = server.join("alice");
        let mut bob = server.connect();
        bob.send("/lang zh-CN");
        bob.lang = "zh-CN".into();
        bob.send("bob");
        bob.expect_welcome("bob");
        alice.expect_line(&t.joined("bob"));
        alice.send("/whois BOB");
        let first = alice.line();
        let whois = t.whois("bob", Some("zh-CN"));
        let found = first
            .strip_prefix("* ")
            .and_then(|text| whois.captures(text))
            .unwrap_or_else(|| panic!("{first:?}"));
        // A few seconds at most, said as a person would.
        for duration in found {
            let secs = t
                .localizer()
                .number_in("duration-seconds", &[], "n", duration);
            assert!(secs.is_some_and(|s| s < 10), "{duration:?}");
        }
        assert_eq!(alice.line(), t.named("whois-here", "bob"));
        alice.send("/whois");
        assert_eq!(alice.line(), t.notice("usage-whois", &[]));
        alice.send("/whois carol");
        assert_eq!(alice.line(), t.named("no-such-member", "carol"));
    }
}

#[test]
fn motd_follows_the_welcome_and_answers_motd() {
    for lang in LANGS {
        let server = start(lang, "motd = \"Be kind, 友善\"\n");
        let t = server.text();
        let mut alice = server.connect();
        alice.send("alice");
        alice.expect_welcome("alice");
        let motd = t.notice("motd", &[("text", "Be kind, 友善".into())]);
        assert_eq!(alice.line(), motd);
        alice.send("/motd");
        assert_eq!(alice.line(), motd);
        let server = start(lang, "");
        let mut bob = server.join("bob");
        bob.send("/motd");
        assert_eq!(bob.line(), t.notice("no-motd", &[]));
    }
}

#[test]
fn lang_switches_one_connection_before_or_after_joining() {
    let server = start("en", "");
    let (en, zh) = (Text::en(), Text::zh());
    let mut alice = server.join("alice");
    let mut ming = server.connect();
    ming.line();
    ming.line();
    // The language already spoken: nothing to say.
    ming.send("/lang en");
    ming.send("/lang fr");
    assert_eq!(
        ming.line(),
        en.notice(
            "lang-unknown",
            &[("asked", "fr".into()), ("list", language_list(&en).into())]
        )
    );
    assert_eq!(ming.line(), en.notice("name-prompt", &[]));
    ming.send("/lang zh-CN");
    assert_eq!(ming.line(), zh.notice("lang-set", &[]));
    assert_eq!(ming.line(), zh.notice("name-prompt", &[]));
    ming.lang = "zh-CN".into();
    ming.send("小明");
    assert_eq!(ming.line(), zh.welcome("小明", 1));
    assert_eq!(alice.line(), en.joined_count("小明", 2));
    // Each connection reads the room in its own language.
    let mut bob = server.join("bob");
    assert_eq!(alice.line(), en.joined_count("bob", 3));
    assert_eq!(ming.line(), zh.joined_count("bob", 3));
    alice.send("hello");
    assert_eq!(ming.line(), "alice: hello");
    bob.send("/quit");
    assert_eq!(alice.line(), en.left("left-quit", "bob"));
    assert_eq!(ming.line(), zh.left("left-quit", "bob"));
    ming.send("/help");
    assert_eq!(ming.line(), zh.notice_lines("help", &[])[0]);
    ming.send("/lang en");
    assert_eq!(ming.line(), zh.notice_lines("help", &[])[1]);
    ming.expect_line(&en.notice("lang-set", &[]));
    ming.lang = "en".into();
    ming.send("/lang");
    assert_eq!(
        ming.line(),
        en.notice("lang-usage", &[("list", language_list(&en).into())])
    );
    ming.expect_nothing_pending();
}

#[test]
fn the_real_client_asks_for_its_language_first() {
    let server = start("en", "");
    let mut bob = server.join("bob");
    let port = server.addr.port().to_string();
    let args = ["--host", "127.0.0.1", "--port", &port, "--lang", "zh-CN"];
    let output = run_with_input(
        CLIENT,
        &args,
        "小明
你好
"
        .as_bytes(),
        None,
    );
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    let zh = Text::zh();
    // Greeted in the server's language, then everything in the client's.
    let set = lines
        .iter()
        .position(|line| *line == zh.notice("lang-set", &[]))
        .unwrap_or_else(|| panic!("{lines:#?}"));
    assert_eq!(lines[set + 1], zh.notice("name-prompt", &[]));
    assert_eq!(lines[set + 2], zh.welcome("小明", 1));
    // The others keep theirs.
    let en = Text::en();
    assert_eq!(bob.line(), en.joined_count("小明", 2));
    assert_eq!(bob.line(), "小明: 你好");
    assert_eq!(bob.line(), en.left("left-quit", "小明"));
    // A client in the server's language sees the greeting once, no more.
    let args = ["--host", "127.0.0.1", "--port", &port, "--lang", "en"];
    let output = run_with_input(
        CLIENT, &args, b"alice
", None,
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let prompts = stdout
        .lines()
        .filter(|line| *line == en.notice("name-prompt", &[]))
        .count();
    assert_eq!(prompts, 1, "{stdout}");
    assert!(!stdout.contains(&en.notice("lang-set", &[])), "{stdout}");
}

#[test]
fn timestamps_prefix_room_lines_but_never_notices() {
    for lang in LANGS {
        let mut server = start(lang, "");
        let t = server.text();
        let mut alice = server.join("alice");
        let mut bob = server.join("bob");
        alice.expect_line(&t.joined("bob"));
        alice.send("/timestamps on");
        assert_eq!(alice.line(), t.notice("timestamps-on", &[]));
        bob.send("hi");
        let line = alice.line();
        assert!(is_stamped(&line, "bob: hi"), "{line}");
        bob.send("/me nods");
        let line = alice.line();
        assert!(is_stamped(&line, "** bob nods"), "{line}");
        server.console("notice this");
        let line = alice.line();
        assert!(is_stamped(&line, &t.admin("notice this")), "{line}");
        bob.send("@alice private");
        assert_eq!(alice.line(), t.private("bob", "private"));
        let mut carol = server.join("carol");
        assert_eq!(alice.line(), t.joined_count("carol", 3));
        // bob, without timestamps, got the same lines bare.
        assert_eq!(bob.line(), t.admin("notice this"));
        assert_eq!(bob.line(), t.named("private-sent", "alice"));
        assert_eq!(bob.line(), t.joined_count("carol", 3));
        alice.send("/timestamps off");
        assert_eq!(alice.line(), t.notice("timestamps-off", &[]));
        bob.send("bare again");
        assert_eq!(alice.line(), "bob: bare again");
        alice.send("/timestamps");
        assert_eq!(alice.line(), t.notice("usage-timestamps", &[]));
        carol.send("/quit");
    }
    // The setting gives the default; a connection may still turn it off.
    let server = start(
        "en",
        "timestamps = true
",
    );
    let t = server.text();
    let mut alice = server.join("alice");
    let mut bob = server.join("bob");
    assert_eq!(alice.line(), t.joined_count("bob", 2));
    bob.send("hi");
    let line = alice.line();
    assert!(is_stamped(&line, "bob: hi"), "{line}");
    alice.send("/timestamps off");
    assert_eq!(alice.line(), t.notice("timestamps-off", &[]));
    bob.send("hi again");
    assert_eq!(alice.line(), "bob: hi again");
}

#[test]
fn history_replays_the_last_room_lines_with_their_time() {
    for lang in LANGS {
        let mut server = start(lang, "history = 3\nmotd = \"hello\"\n");
        let t = server.text();
        let mut alice = server.connect();
        alice.send("alice");
        alice.expect_welcome("alice");
        assert_eq!(alice.line(), t.notice("motd", &[("text", "hello".into())]));
        let mut bob = server.join("bob");
        bob.line();
        alice.expect_line(&t.joined("bob"));
        alice.send("one");
        alice.send("two");
        // Each sender waits for the last line to be in: the room's order is
        // the order the server read them in.
        assert_eq!(bob.line(), "alice: one");
        assert_eq!(bob.line(), "alice: two");
        bob.send("/me three");
        bob.send("@alice not history");
        // The console is read apart from the sockets: wait until bob's
        // lines are in before the administrator speaks.
        assert_eq!(alice.line(), "** bob three");
        assert_eq!(alice.line(), t.private("bob", "not history"));
        server.console("four");
        assert_eq!(bob.line(), t.named("private-sent", "alice"));
        assert_eq!(bob.line(), t.admin("four"));
        let mut carol = server.connect();
        carol.send("carol");
        carol.expect_welcome("carol");
        assert_eq!(carol.line(), t.notice("motd", &[("text", "hello".into())]));
        assert_eq!(carol.line(), t.notice("history", &[("count", 3.into())]));
        for rest in ["alice: two", "** bob three", &t.admin("four")] {
            let line = carol.line();
            assert!(is_stamped(&line, rest), "{line}");
        }
        bob.send("live");
        assert_eq!(carol.line(), "bob: live");
        carol.expect_nothing_pending();
    }
}

#[test]
fn history_and_live_traffic_meet_without_a_gap_in_a_busy_room() {
    const LINES: usize = 3000;
    let server = start("en", "history = 20\n");
    let mut talker = server.join("talker");
    talker.send("/list");
    talker.line();
    let stream = talker.stream.try_clone().expect("clone");
    let writer = thread::spawn(move || {
        use std::io::Write;
        let mut stream = stream;
        for n in 0..LINES {
            stream
                .write_all(format!("line {n}\n").as_bytes())
                .expect("send");
        }
    });
    // Join while the talker is busy: what came before is history, what
    // comes after is live, and together they count up by one.
    let mut late = server.connect();
    late.send("late");
    late.expect_welcome("late");
    let mut numbers = Vec::new();
    let first = late.line();
    let t = server.text();
    let replayed = if first.starts_with("* ") {
        let count = (0..=20)
            .find(|&n| first == t.notice("history", &[("count", n.into())]))
            .unwrap_or_else(|| panic!("{first}"));
        for _ in 0..count {
            let line = late.line();
            let number = line.split("] talker: line ").nth(1).expect("stamped");
            numbers.push(number.parse::<usize>().expect("number"));
        }
        count
    } else {
        numbers.push(parse_line(&first));
        0
    };
    while numbers.last() != Some(&(LINES - 1)) {
        numbers.push(parse_line(&late.line()));
    }
    writer.join().expect("writer");
    let start = numbers[0];
    let expected: Vec<usize> = (start..LINES).collect();
    assert_eq!(numbers, expected, "{replayed} replayed");
    assert!(
        replayed == 20 || start == 0,
        "a full history when there is one"
    );
}

fn parse_line(line: &str) -> usize {
    line.strip_prefix("talker: line ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{line:?}"))
}

#[test]
fn joins_count_the_room_and_leaves_say_how_long_and_why() {
    for lang in LANGS {
        let server = start(lang, "");
        let t = server.text();
        let mut alice = server.join("alice");
        let mut bob = server.join("bob");
        assert_eq!(alice.line(), t.joined_count("bob", 2));
        let carol = server.join("carol");
        assert_eq!(alice.line(), t.joined_count("carol", 3));
        bob.send("/quit");
        let line = alice.line();
        let left = t.pattern("left-quit", &[("name", "bob".into())], &["stayed"]);
        let stayed = line
            .strip_prefix("* ")
            .and_then(|text| left.captures(text))
            .and_then(|found| found.first().copied())
            .unwrap_or_else(|| panic!("{line}"));
        let secs = t
            .localizer()
            .number_in("duration-seconds", &[], "n", stayed);
        assert!(secs.is_some_and(|s| s < 10), "{stayed}");
        carol.reset();
        let line = alice.line();
        assert!(
            t.left("left-lost", "carol").matches(&line)
                || t.left("left-quit", "carol").matches(&line),
            "{line}"
        );
    }
}

/// The command words `/help` names, in the order it names them.
fn help_commands(text: &Text) -> Vec<String> {
    let mut words = Vec::new();
    for line in text.tr("help", &[]).lines() {
        for word in line.split(|c: char| c.is_whitespace() || "(),、，（）".contains(c)) {
            let command: String = word
                .chars()
                .take_while(|c| *c == '/' || c.is_ascii_alphabetic())
                .collect();
            if command.len() > 1 && command.starts_with('/') && !command.starts_with("//") {
                words.push(command);
            }
        }
    }
    words
}

#[test]
fn help_lists_every_command_and_the_docs_match_it() {
    let commands = [
        "/help",
        "/list",
        "/ls",
        "/who",
        "/msg",
        "/reply",
        "/r",
        "/query",
        "/me",
        "/nick",
        "/mute",
        "/unmute",
        "/i",
        "/ignore",
        "/unignore",
        "/away",
        "/back",
        "/whois",
        "/motd",
        "/lang",
        "/timestamps",
        "/quit",
    ];
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let protocol =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/protocol.md"))
            .expect("docs/protocol.md");
    for lang in LANGS {
        let text = Text::new(lang);
        let listed = help_commands(&text);
        for command in commands {
            assert!(
                listed.iter().any(|w| w == command),
                "{lang} /help: {command}"
            );
        }
        for command in &listed {
            assert!(
                commands.contains(&command.as_str()),
                "{lang} /help has {command}"
            );
        }
    }
    for command in commands {
        let written = format!("`{command}");
        assert!(readme.contains(&written), "README lacks {command}");
        assert!(
            protocol.contains(&written),
            "docs/protocol.md lacks {command}"
        );
    }
    // And the server sends it, to anyone.
    let server = start("zh-CN", "");
    let mut peer: Peer = server.connect();
    peer.line();
    peer.line();
    peer.send("/help");
    for line in Text::zh().notice_lines("help", &[]) {
        assert_eq!(peer.line(), line);
    }
}

/// The languages as `lang-unknown` lists them: each tag with its name in
/// `t`'s language.
fn language_list(t: &Text) -> String {
    ["en", "zh-CN"]
        .map(|tag| format!("{tag} ({})", t.tr("language-name", &[("tag", tag.into())])))
        .join(&t.tr("list-separator", &[]))
}
