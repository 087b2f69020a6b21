//! The operator's console (PROTOCOL.md section 6) against the real server:
//! commands typed on its stdin, answers read from its log, members talking
//! as netcat would. Messages recognised through the Localizer.

mod common;

use std::process::Stdio;

use common::{settings_file, temp_dir, Peer, Server, Text};

/// Reads the log until the console's answer `wanted` (a `* ` notice,
/// perhaps of several lines: its first line).
fn expect_answer(server: &mut Server, wanted: &str) {
    server.log.expect_line(wanted);
}

/// The leave notice `id` (`left-kicked-reason`, `left-banned`) for `name`,
/// whatever time it says the member stayed.
fn expect_leave(peer: &mut Peer, t: &Text, id: &str, name: &str, reason: &str) {
    let pattern = t.pattern(
        id,
        &[("name", name.into()), ("reason", reason.into())],
        &["stayed"],
    );
    let line = peer.line();
    let text = line.strip_prefix("* ").unwrap_or_default();
    assert!(pattern.matches(text), "{id}: {line}");
}

#[test]
fn kick_with_a_reason_and_unknown_commands() {
    for lang in ["en", "zh-CN"] {
        let mut server = Server::start(lang);
        let t = server.text();
        let mut alice = server.join("alice");
        let mut bob = server.join("bob");
        alice.expect_line(&t.joined_count("bob", 2));
        server.console("/kick bob being rude");
        assert_eq!(
            bob.line(),
            t.notice("kicked-you-reason", &[("reason", "being rude".into())])
        );
        assert_eq!(bob.read_line(), None, "bob's connection ends");
        expect_leave(&mut alice, &t, "left-kicked-reason", "bob", "being rude");
        expect_answer(
            &mut server,
            &t.notice("console-kicked", &[("name", "bob".into())]),
        );
        server.console("/dance");
        expect_answer(
            &mut server,
            &t.notice("console-unknown", &[("command", "/dance".into())]),
        );
        server.console("/help");
        let help = t.notice_lines("console-help", &[]);
        expect_answer(&mut server, &help[0]);
        // Never broadcast: alice got nothing of all that.
        server.console("//slash");
        assert_eq!(alice.line(), t.admin("/slash"));
    }
}

#[test]
fn a_ban_keeps_the_name_out_and_unban_lets_it_in() {
    let mut server = Server::start("en");
    let t = server.text();
    let mut alice = server.join("alice");
    let mut mallory = server.join("mallory");
    alice.expect_line(&t.joined_count("mallory", 2));
    server.console("/ban mallory 30 spam");
    let how_long = t.tr("ban-minutes", &[("n", 30.into())]);
    assert_eq!(
        mallory.line(),
        t.notice(
            "banned-you-reason",
            &[
                ("how_long", how_long.as_str().into()),
                ("reason", "spam".into())
            ]
        )
    );
    assert_eq!(mallory.read_line(), None);
    expect_leave(&mut alice, &t, "left-banned", "mallory", "");
    // Loopback is never banned by address: the same machine connects,
    // but neither the name nor one like it is free.
    let mut again = server.connect();
    again.line();
    again.line();
    for name in ["mallory", "ＭＡＬＬＯＲＹ"] {
        again.send(name);
        assert_eq!(again.line(), t.name_banned(name, 30));
        assert_eq!(again.line(), t.notice("name-prompt", &[]));
    }
    server.console("/bans");
    expect_answer(
        &mut server,
        &t.notice("console-bans", &[("count", 1.into())]),
    );
    server.console("/unban mallory");
    expect_answer(
        &mut server,
        &t.notice("console-unbanned", &[("target", "mallory".into())]),
    );
    again.send("mallory");
    again.expect_welcome("mallory");
    server.console("/ban 127.0.0.1");
    expect_answer(
        &mut server,
        &t.notice("console-loopback", &[("target", "127.0.0.1".into())]),
    );
}

#[test]
fn a_muted_member_reads_but_cannot_speak() {
    let mut server = Server::start("zh-CN");
    let t = server.text();
    let mut alice = server.join("alice");
    let mut bob = server.join("bob");
    alice.expect_line(&t.joined_count("bob", 2));
    server.console("/mute bob");
    assert_eq!(bob.line(), t.notice("silenced-you", &[]));
    bob.send("hello");
    assert_eq!(bob.line(), t.notice("silenced", &[]));
    bob.send("/msg alice psst");
    assert_eq!(bob.line(), t.notice("silenced", &[]));
    alice.send("still there?");
    assert_eq!(
        bob.line(),
        t.tr(
            "chat-line",
            &[("name", "alice".into()), ("text", "still there?".into())]
        )
    );
    server.console("/unmute bob");
    assert_eq!(bob.line(), t.notice("unsilenced-you", &[]));
    bob.send("back");
    assert_eq!(
        alice.line(),
        t.tr(
            "chat-line",
            &[("name", "bob".into()), ("text", "back".into())]
        )
    );
}

#[test]
fn the_console_lists_members_with_their_address() {
    let mut server = Server::start("en");
    let t = server.text();
    let _alice = server.join("alice");
    let mut bob = server.join("bob");
    bob.send("/away lunch");
    bob.line();
    server.console("/mute bob");
    server.console("/list");
    expect_answer(
        &mut server,
        &t.notice("console-members", &[("count", 2.into())]),
    );
    let row = t.pattern(
        "console-member-row",
        &[("name", "alice".into()), ("addr", "127.0.0.1".into())],
        &["stayed"],
    );
    let line = server.log.next_line().expect("alice's row");
    let text = line.strip_prefix("* ").unwrap_or_default().trim_start();
    assert!(row.matches(text), "{line}");
    let line = server.log.next_line().expect("bob's row");
    let muted = t.tr("console-row-muted", &[]);
    let away = t.tr(
        "peer-away",
        &[("name", "bob".into()), ("reason", "lunch".into())],
    );
    assert!(
        line.contains("bob") && line.ends_with(&muted) && line.contains(&away),
        "{line}"
    );
}

#[test]
fn motd_and_say_from_the_console() {
    let mut server = Server::start("en");
    let t = server.text();
    let mut alice = server.join("alice");
    server.console("/motd Be kind");
    expect_answer(&mut server, &t.notice("console-motd-set", &[]));
    alice.send("/motd");
    assert_eq!(
        alice.line(),
        t.notice("motd", &[("text", "Be kind".into())])
    );
    server.console("/say /help is for everyone");
    assert_eq!(alice.line(), t.admin("/help is for everyone"));
    server.console("/motd");
    expect_answer(&mut server, &t.notice("console-motd-cleared", &[]));
}

fn server_with_bans(bans: &std::path::Path) -> Server {
    let settings = settings_file(&format!("[server]\nbans_file = \"{}\"\n", bans.display()));
    let settings = settings.to_str().expect("utf-8 path").to_string();
    Server::start_with(&["--config", &settings], Stdio::piped())
}

#[test]
fn bans_survive_a_restart_and_a_bad_file_is_refused() {
    let dir = temp_dir();
    let bans = dir.join("bans");
    let t = Text::en();
    {
        let mut server = server_with_bans(&bans);
        server.console("/ban 192.0.2.0/24 spam bots");
        expect_answer(
            &mut server,
            &t.notice(
                "console-banned",
                &[
                    ("target", "192.0.2.0/24".into()),
                    ("how_long", t.tr("ban-forever", &[]).into()),
                    ("kicked", 0.into()),
                ],
            ),
        );
        server.console("/ban mallory 60");
        server.console("/bans");
        expect_answer(
            &mut server,
            &t.notice("console-bans", &[("count", 2.into())]),
        );
    }
    assert!(bans.exists(), "the first ban created the file");
    let mut server = server_with_bans(&bans);
    server.console("/bans");
    expect_answer(
        &mut server,
        &t.notice("console-bans", &[("count", 2.into())]),
    );
    let mut guest = server.connect();
    guest.line();
    guest.line();
    guest.send("mallory");
    assert_eq!(guest.line(), t.name_banned("mallory", 60));
    drop(server);

    std::fs::write(&bans, "name\tmallory\n").expect("write");
    let settings = settings_file(&format!("[server]\nbans_file = \"{}\"\n", bans.display()));
    let output = common::run_with_input(
        env!("CARGO_BIN_EXE_chatroom-server"),
        &["--config", settings.to_str().expect("utf-8"), "--port", "0"],
        b"",
        None,
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let error = t.tr(
        "error-bans-line",
        &[
            ("path", bans.display().to_string().into()),
            ("line", 1.into()),
        ],
    );
    assert!(stderr.contains(&error), "{stderr}");
}
