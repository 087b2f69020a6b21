//! Ordinary situations that must not bloat the server or let one person pass
//! for another: shutdown with many members far behind, and lookalike names.
//! The real server on loopback port 0; messages recognised through the
//! Localizer.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{proc_status_kib, settings_file, stalled_stream, Peer, Server, Text};

fn server_with(settings: &str) -> Server {
    let path = settings_file(settings);
    let path = path.to_str().expect("utf-8 path").to_string();
    Server::start_with(&["--config", &path], Stdio::piped())
}

#[test]
fn shutdown_with_members_far_behind_stays_within_the_backlog() {
    // A queue limit far above what the members will owe, so that nobody is
    // dropped as too slow before the room closes.
    let mut server = server_with(
        "[server]\nmax_line_bytes = 2048\nmax_queue_bytes = 33554432\nflood_rate = 0\n",
    );
    let t = Text::en();
    const BEHIND: usize = 80;
    let mut talker = server.join("talker");
    let mut stalled = Vec::new();
    for n in 0..BEHIND {
        let mut member = Peer::from_stream(stalled_stream(server.addr));
        let name = format!("s{n}");
        member.send(&name);
        member.expect_welcome(&name);
        stalled.push(member);
    }
    // About 1.3 MB each, of which the kernel takes half a megabyte at most.
    let payload = "x".repeat(1300);
    for n in 0..1000 {
        talker.send(&format!("{payload} {n}"));
    }
    // Every line is in the backlog once the talker's /list is answered.
    talker.send("/list");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(Instant::now() < deadline, "no /list answer");
        if t.list_names(&talker.line()).is_some() {
            break;
        }
    }
    let pid = server.child.id();
    let peak_before = proc_status_kib(pid, "VmHWM:").expect("server running");
    server.console("");
    let mut peak_after = peak_before;
    let deadline = Instant::now() + Duration::from_secs(10);
    while let Some(peak) = proc_status_kib(pid, "VmHWM:") {
        peak_after = peak_after.max(peak);
        if Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(server.wait_exit().success());
    // Before, each member behind got its own copy of what it was owed:
    // about 0.8 MB x 80 = 64 MB more.
    let grew = peak_after.saturating_sub(peak_before);
    eprintln!("shutdown: peak {peak_before} KiB before, {peak_after} KiB after");
    assert!(
        grew < 8 * 1024,
        "shutdown took {grew} KiB more ({peak_before} -> {peak_after} KiB)"
    );
    drop(stalled);
}

#[test]
fn names_that_look_alike_are_one_name() {
    let server = Server::start("en");
    let t = Text::en();
    let _alice = server.join("alice");
    let _strasse = server.join("straße");
    let mut guest = server.connect();
    guest.line();
    guest.line();
    let prompt = t.notice("name-prompt", &[]);
    for lookalike in ["alicе", "ａｌｉｃｅ", "𝐚𝐥𝐢𝐜𝐞", "ALICE", "STRASSE"] {
        guest.send(lookalike);
        assert_eq!(
            guest.line(),
            t.notice("name-taken", &[("name", lookalike.into())]),
            "{lookalike}"
        );
        assert_eq!(guest.line(), prompt);
    }
    for lookalike in [
        "Аdministrator",
        "Ａｄｍｉｎｉｓｔｒａｔｏｒ",
        "𝐀dministrator",
    ] {
        guest.send(lookalike);
        assert_eq!(
            guest.line(),
            t.notice("name-reserved", &[("name", lookalike.into())]),
            "{lookalike}"
        );
        assert_eq!(guest.line(), prompt);
    }
    // A combining accent is stored composed, and shown so to others.
    guest.send("cafe\u{301}");
    guest.expect_welcome("café");
    for name in ["小明", "Иван"] {
        server.join(name);
    }
}
