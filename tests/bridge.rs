//! One room across several servers (PROTOCOL.md section 8): every test
//! starts its own Redis (`common::redis`) and two or three real
//! `chatroom-server` processes with the same `[bridge]` settings, and
//! talks to them as netcat would. Lines are recognised through the
//! Localizer (`Text`), never by English words. Every wait is bounded.

mod common;

use std::collections::BTreeSet;
use std::fs::File;
use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::redis::Redis;
use common::{settings_file, temp_dir, Peer, Server, Text, SERVER, TIMEOUT};

/// The settings of a bridged server: loopback, any port, no flood control.
fn bridge_settings(url: &str, room: &str, lease_secs: u64) -> String {
    format!(
        "[server]\nhost = \"127.0.0.1\"\nport = 0\nflood_rate = 0\n\
         [bridge]\nurl = \"{url}\"\nroom = \"{room}\"\nlease_secs = {lease_secs}\n"
    )
}

/// Runs the server with `--config config` (in English, stdout piped, a
/// console pipe) and waits for the `server-listening` line.
fn spawn_server(config: &Path, stderr: Stdio) -> Server {
    let config = config.to_str().expect("utf-8 path");
    let mut command = Command::new(SERVER);
    command
        .args(["--lang", "en", "--config", config])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr);
    Server::spawn(command)
}

/// A server of room `room` on `redis`, once it logged `log-room-joined`
/// (it has caught up with the room: members may join).
fn bridged(redis: &Redis, room: &str, lease_secs: u64) -> Server {
    let config = settings_file(&bridge_settings(&redis.url(), room, lease_secs));
    let mut server = spawn_server(&config, Stdio::inherit());
    let joined = Text::en().pattern(
        "log-room-joined",
        &[("room", room.into())],
        &["members", "servers"],
    );
    expect_log(&mut server, "log-room-joined", |line| joined.matches(line));
    server
}

/// The first log line of `server` (read already or still to come) for
/// which `is` holds; `what` names it in the failure message.
fn expect_log(server: &mut Server, what: &str, is: impl Fn(&str) -> bool) -> String {
    if let Some(line) = server.log.seen().iter().find(|line| is(line)) {
        return line.clone();
    }
    loop {
        match server.log.next_line() {
            Some(line) if is(&line) => return line,
            Some(_) => continue,
            None => panic!(
                "the server's log ended before {what}; log: {:#?}",
                server.log.seen()
            ),
        }
    }
}

/// Joins `name` on `server` and waits until each of `watchers` (on any
/// server) has seen the join notice.
fn join_seen(server: &Server, name: &str, watchers: &mut [&mut Peer]) -> Peer {
    let t = Text::en();
    let peer = server.join(name);
    for watcher in watchers.iter_mut() {
        watcher.expect_line(&t.joined(name));
    }
    peer
}

/// The ids of every leave notice (`left-quit`, `left-lost`, ...), from
/// the reference locale itself.
fn leave_ids() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("locales/en/chatroom.ftl");
    let ftl = std::fs::read_to_string(path).expect("read the English locale");
    ftl.lines()
        .filter_map(|line| line.split_once('='))
        .map(|(id, _)| id.trim())
        .filter(|id| id.starts_with("left-") && !id.contains(' '))
        .map(str::to_string)
        .collect()
}

/// The id of the leave notice `line` is, if it is one for `name`.
fn leave_of(line: &str, name: &str) -> Option<String> {
    let t = Text::en();
    let text = line.strip_prefix("* ")?;
    leave_ids().into_iter().find(|id| {
        t.pattern(id, &[("name", name.into())], &["stayed", "reason"])
            .matches(text)
    })
}

/// Whether `line` is a leave notice, for anyone.
fn is_any_leave(line: &str) -> bool {
    let t = Text::en();
    let Some(text) = line.strip_prefix("* ") else {
        return false;
    };
    leave_ids().iter().any(|id| {
        t.pattern(id, &[], &["name", "stayed", "reason"])
            .matches(text)
    })
}

/// Reads lines until one for which `is` holds, within `deadline`;
/// returns every line read, that one last.
/// `peer` asks `/whois NAME` and gets it (reading `lang`, if given; not
/// away).
fn expect_whois(peer: &mut Peer, name: &str, lang: Option<&str>) {
    let t = Text::en();
    peer.send(&format!("/whois {name}"));
    let whois = t.whois(name, lang);
    let line = peer.line();
    assert!(
        line.strip_prefix("* ")
            .is_some_and(|text| whois.matches(text)),
        "not {name}'s whois (reading {lang:?}): {line:?}"
    );
    assert_eq!(peer.line(), t.named("whois-here", name));
}

fn read_until(
    peer: &mut Peer,
    deadline: Instant,
    what: &str,
    is: impl Fn(&str) -> bool,
) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "no {what} in time; read: {lines:#?}; seen: {:#?}",
            peer.seen()
        );
        peer.stream.set_read_timeout(Some(left)).expect("timeout");
        let line = peer
            .read_line()
            .unwrap_or_else(|| panic!("EOF before {what}; seen: {:#?}", peer.seen()));
        let done = is(&line);
        lines.push(line);
        if done {
            peer.stream
                .set_read_timeout(Some(TIMEOUT))
                .expect("timeout");
            return lines;
        }
    }
}

/// Asks for `/list` and reads up to its answer: the lines before it (none
/// expected, usually) and the names it gives.
fn list(peer: &mut Peer) -> (Vec<String>, BTreeSet<String>) {
    let t = Text::en();
    peer.send("/list");
    let mut before = Vec::new();
    loop {
        let line = peer.line();
        if let Some(names) = t.list_names(&line) {
            return (before, names.into_iter().collect());
        }
        before.push(line);
    }
}

fn names(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|name| name.to_string()).collect()
}

/// A port nothing listens on (the kernel just gave it out and it is free
/// again).
fn closed_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind port 0");
    listener.local_addr().expect("local addr").port()
}

fn is_chat(line: &str) -> bool {
    !line.starts_with("* ") && !line.starts_with("** ")
}

#[test]
fn room_traffic_is_in_one_order_on_every_server() {
    let redis = Redis::start();
    let mut a = bridged(&redis, "t1", 2);
    let b = bridged(&redis, "t1", 2);
    let c = bridged(&redis, "t1", 2);
    let t = Text::en();
    let mut watch_a = a.join("watch_a");
    let mut watch_b = join_seen(&b, "watch_b", &mut [&mut watch_a]);
    let mut watch_c = join_seen(&c, "watch_c", &mut [&mut watch_a, &mut watch_b]);
    let mut ann = join_seen(&a, "ann", &mut [&mut watch_a, &mut watch_b, &mut watch_c]);
    let mut bea = join_seen(
        &b,
        "bea",
        &mut [&mut watch_a, &mut watch_b, &mut watch_c, &mut ann],
    );
    // The joins of the other servers were announced on this one, with
    // the whole room's count.
    assert!(watch_a.seen().contains(&t.joined_count("bea", 5)));
    assert!(watch_c.seen().contains(&t.joined_count("bea", 5)));
    assert!(ann.seen().contains(&t.joined_count("bea", 5)));
    assert!(watch_b.seen().contains(&t.joined_count("ann", 4)));

    // Both members send at once, from two threads, so that their lines
    // interleave on the way.
    const EACH: usize = 40;
    let senders: Vec<_> = [("ann", &ann), ("bea", &bea)]
        .into_iter()
        .map(|(name, peer)| {
            let mut stream = peer.stream.try_clone().expect("clone");
            thread::spawn(move || {
                use std::io::Write;
                for i in 0..EACH {
                    writeln!(stream, "{name} line {i}").expect("send");
                }
                stream.flush().expect("flush");
            })
        })
        .collect();
    for sender in senders {
        sender.join().expect("sender thread");
    }

    let read_chat = |peer: &mut Peer, count: usize| -> Vec<String> {
        (0..count)
            .map(|_| {
                let line = peer.line();
                assert!(is_chat(&line), "a notice among the chat: {line:?}");
                line
            })
            .collect()
    };
    let order_a = read_chat(&mut watch_a, 2 * EACH);
    let order_b = read_chat(&mut watch_b, 2 * EACH);
    let order_c = read_chat(&mut watch_c, 2 * EACH);
    assert_eq!(order_a, order_b, "servers A and B disagree on the order");
    assert_eq!(order_a, order_c, "servers A and C disagree on the order");
    for name in ["ann", "bea"] {
        let theirs: Vec<String> = order_a
            .iter()
            .filter(|line| line.starts_with(&format!("{name}: ")))
            .cloned()
            .collect();
        let sent: Vec<String> = (0..EACH)
            .map(|i| format!("{name}: {name} line {i}"))
            .collect();
        assert_eq!(theirs, sent, "{name}'s lines lost, doubled or reordered");
    }
    // Each sender sees the other's lines, in the room's order.
    let others = |name: &str| -> Vec<String> {
        order_a
            .iter()
            .filter(|line| !line.starts_with(&format!("{name}: ")))
            .cloned()
            .collect()
    };
    assert_eq!(read_chat(&mut ann, EACH), others("ann"));
    assert_eq!(read_chat(&mut bea, EACH), others("bea"));

    // The administrator of one server speaks to the whole room.
    a.console("from the console of A");
    let admin = t.admin("from the console of A");
    for peer in [&mut watch_a, &mut watch_b, &mut watch_c, &mut ann, &mut bea] {
        assert_eq!(peer.line(), admin);
    }

    // A member joining late, on a third server, gets the same history
    // (the last 20 room lines, stamped), then the live room.
    let mut late = c.join("late");
    assert_eq!(late.line(), t.notice("history", &[("count", 20.into())]));
    let mut room: Vec<String> = order_a.clone();
    room.push(admin);
    for said in &room[room.len() - 20..] {
        let line = late.line();
        assert!(is_stamped(&line, said), "history: {line:?}, not {said:?}");
    }
    bea.expect_line(&t.joined("late"));
    bea.send("live");
    assert_eq!(late.line(), "bea: live");
    for peer in [&mut watch_a, &mut watch_b, &mut watch_c, &mut ann] {
        peer.expect_line(&t.joined("late"));
        assert_eq!(peer.line(), "bea: live");
    }
    for peer in [
        &mut watch_a,
        &mut watch_b,
        &mut watch_c,
        &mut ann,
        &mut bea,
        &mut late,
    ] {
        peer.expect_nothing_pending();
    }
}

/// Whether `line` is `said` with a `[HH:MM] ` stamp in front.
fn is_stamped(line: &str, said: &str) -> bool {
    let bytes = line.as_bytes();
    line.len() == said.len() + 8
        && bytes[0] == b'['
        && bytes[1..3].iter().all(u8::is_ascii_digit)
        && bytes[3] == b':'
        && bytes[4..6].iter().all(u8::is_ascii_digit)
        && &line[6..8] == "] "
        && &line[8..] == said
}

#[test]
fn the_operator_s_commands_reach_members_of_other_servers() {
    let redis = Redis::start();
    let mut a = bridged(&redis, "t1", 2);
    let b = bridged(&redis, "t1", 2);
    let t = Text::en();
    let mut alice = a.join("alice");
    let mut bob = join_seen(&b, "bob", &mut [&mut alice]);
    let mut carol = join_seen(&b, "carol", &mut [&mut alice, &mut bob]);
    let mut mallory = join_seen(&b, "mallory", &mut [&mut alice, &mut bob, &mut carol]);

    // /kick on A of a member of B.
    a.console("/kick bob being rude");
    assert_eq!(
        bob.line(),
        t.notice("kicked-you-reason", &[("reason", "being rude".into())])
    );
    assert_eq!(bob.read_line(), None, "bob's connection ends");
    let kicked = t.pattern(
        "left-kicked-reason",
        &[("name", "bob".into()), ("reason", "being rude".into())],
        &["stayed"],
    );
    for peer in [&mut alice, &mut carol, &mut mallory] {
        let line = peer.line();
        assert!(
            line.strip_prefix("* ")
                .is_some_and(|text| kicked.matches(text)),
            "not bob's kick: {line:?}"
        );
    }
    a.log
        .expect_line(&t.notice("console-kicked", &[("name", "bob".into())]));

    // /mute on A of a member of B: carol reads, cannot speak.
    a.console("/mute carol");
    assert_eq!(carol.line(), t.notice("silenced-you", &[]));
    carol.send("can anyone hear me");
    assert_eq!(carol.line(), t.notice("silenced", &[]));
    carol.send("/msg alice psst");
    assert_eq!(carol.line(), t.notice("silenced", &[]));
    alice.send("still there?");
    assert_eq!(carol.line(), "alice: still there?");
    assert_eq!(mallory.line(), "alice: still there?");
    a.console("/unmute carol");
    assert_eq!(carol.line(), t.notice("unsilenced-you", &[]));
    carol.send("back");
    assert_eq!(alice.line(), "carol: back");
    assert_eq!(mallory.line(), "carol: back");

    // /ban on A of a name on B: kicked, and the name refused on B too.
    a.console("/ban mallory 30 spam");
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
    assert_eq!(mallory.read_line(), None, "mallory's connection ends");
    for peer in [&mut alice, &mut carol] {
        let line = peer.line();
        assert_eq!(
            leave_of(&line, "mallory").as_deref(),
            Some("left-banned"),
            "{line:?}"
        );
    }
    let mut again = b.connect();
    let prompt = t.notice("name-prompt", &[]);
    again.expect_line(&prompt);
    for name in ["mallory", "MALLORY"] {
        again.send(name);
        assert_eq!(again.line(), t.name_banned(name, 30));
        assert_eq!(again.line(), prompt);
    }
    // A server that joins the room later learns the ban with the members.
    let late = bridged(&redis, "t1", 2);
    let mut newcomer = late.connect();
    newcomer.expect_line(&prompt);
    newcomer.send("mallory");
    assert_eq!(newcomer.line(), t.name_banned("mallory", 30));
}

#[test]
fn names_are_one_set_across_servers() {
    let redis = Redis::start();
    let a = bridged(&redis, "t1", 2);
    let b = bridged(&redis, "t1", 2);
    let t = Text::en();
    let mut alice = a.join("alice");
    let mut bob = b.join("bob");
    // The welcome's count covers the other server.
    assert_eq!(bob.seen().last().unwrap(), &t.welcome("bob", 1));
    assert_eq!(alice.line(), t.joined_count("bob", 2));

    // A name taken on A is taken on B, in any case and as a lookalike.
    let mut guest = b.connect();
    let prompt = t.notice("name-prompt", &[]);
    guest.expect_line(&prompt);
    for taken in ["alice", "Alice", "ALICE", "alicе", "ａｌｉｃｅ"] {
        guest.send(taken);
        assert_eq!(guest.line(), t.named("name-taken", taken), "{taken}");
        assert_eq!(guest.line(), prompt);
    }

    let mut carol = a.join("carol");
    assert_eq!(carol.seen().last().unwrap(), &t.welcome("carol", 2));
    assert_eq!(alice.line(), t.joined_count("carol", 3));
    assert_eq!(bob.line(), t.joined_count("carol", 3));

    // /list on B names the members of both servers.
    let (before, listed) = list(&mut bob);
    assert_eq!(before, Vec::<String>::new());
    assert_eq!(listed, names(&["alice", "bob", "carol"]));

    // /nick on B to a name used on A is refused, and nothing changes.
    bob.send("/nick carol");
    assert_eq!(bob.line(), t.named("name-taken", "carol"));
    bob.send("/nick Carol");
    assert_eq!(bob.line(), t.named("name-taken", "Carol"));

    // A rename on A is seen on B, and frees the old name there.
    carol.send("/nick dave");
    assert_eq!(carol.line(), t.named("nick-set", "dave"));
    let renamed = t.notice(
        "renamed",
        &[("old", "carol".into()), ("new", "dave".into())],
    );
    assert_eq!(bob.line(), renamed);
    assert_eq!(alice.line(), renamed);
    bob.send("/nick Dave");
    assert_eq!(bob.line(), t.named("name-taken", "Dave"));

    // Once alice leaves A, her name is free on B.
    alice.send("/quit");
    alice.read_to_eof();
    assert_eq!(bob.line(), t.left("left-quit", "alice"));
    assert_eq!(carol.line(), t.left("left-quit", "alice"));
    guest.send("Alice");
    assert_eq!(guest.expect_welcome("Alice"), t.welcome("Alice", 2));
    assert_eq!(bob.line(), t.joined_count("Alice", 3));
    assert_eq!(carol.line(), t.joined_count("Alice", 3));
    let mut carol_again = b.join("carol");
    assert_eq!(carol.line(), t.joined_count("carol", 4));
    let (before, listed) = list(&mut carol_again);
    assert_eq!(before, Vec::<String>::new());
    assert_eq!(listed, names(&["Alice", "bob", "carol", "dave"]));
    let (before, listed) = list(&mut carol);
    assert_eq!(before, Vec::<String>::new());
    assert_eq!(listed, names(&["Alice", "bob", "carol", "dave"]));
}

#[test]
fn private_messages_whois_and_ignore_work_across_servers() {
    let redis = Redis::start();
    let a = bridged(&redis, "t1", 2);
    let b = bridged(&redis, "t1", 2);
    let t = Text::en();
    let mut alice = a.join("alice");
    let mut bob = join_seen(&b, "bob", &mut [&mut alice]);
    let mut carol = join_seen(&b, "carol", &mut [&mut alice, &mut bob]);

    alice.send("/msg bob psst");
    assert_eq!(alice.line(), t.named("private-sent", "bob"));
    assert_eq!(bob.line(), t.private("alice", "psst"));
    alice.send("@BOB case does not matter");
    assert_eq!(alice.line(), t.named("private-sent", "bob"));
    assert_eq!(bob.line(), t.private("alice", "case does not matter"));
    bob.send("/msg alice back at you");
    assert_eq!(bob.line(), t.named("private-sent", "alice"));
    assert_eq!(alice.line(), t.private("bob", "back at you"));
    alice.send("/msg zed anyone?");
    assert_eq!(alice.line(), t.named("no-such-member", "zed"));

    // /whois of a member of the other server.
    expect_whois(&mut alice, "bob", None);
    expect_whois(&mut bob, "alice", None);
    // The language a member of another server reads is known there too:
    // the change goes round before bob's next line.
    bob.send("/lang zh-CN");
    let _lang_set = bob.line();
    bob.send("in Chinese now");
    assert_eq!(alice.line(), "bob: in Chinese now");
    assert_eq!(carol.line(), "bob: in Chinese now");
    expect_whois(&mut alice, "bob", Some("zh-CN"));
    bob.send("/lang en");
    let _lang_set = bob.line();

    // bob, on B, ignores alice, on A: neither her lines nor her private
    // messages reach him; carol still gets her lines.
    bob.send("/ignore alice");
    assert_eq!(bob.line(), t.named("ignoring", "alice"));
    alice.send("/msg bob you cannot hear me");
    assert_eq!(alice.line(), t.named("private-sent", "bob"));
    alice.send("nor this");
    assert_eq!(carol.line(), "alice: nor this");
    carol.send("after alice");
    assert_eq!(alice.line(), "carol: after alice");
    assert_eq!(bob.line(), "carol: after alice");
    // The ignore follows her through a rename on her server.
    alice.send("/nick alicia");
    assert_eq!(alice.line(), t.named("nick-set", "alicia"));
    let renamed = t.notice(
        "renamed",
        &[("old", "alice".into()), ("new", "alicia".into())],
    );
    assert_eq!(bob.line(), renamed);
    assert_eq!(carol.line(), renamed);
    alice.send("renamed, still ignored");
    assert_eq!(carol.line(), "alicia: renamed, still ignored");
    carol.send("after alicia");
    assert_eq!(alice.line(), "carol: after alicia");
    assert_eq!(bob.line(), "carol: after alicia");
    bob.send("/unignore alicia");
    assert_eq!(bob.line(), t.named("unignored", "alicia"));
    alice.send("heard again");
    assert_eq!(bob.line(), "alicia: heard again");
    assert_eq!(carol.line(), "alicia: heard again");
    for peer in [&mut alice, &mut bob, &mut carol] {
        peer.expect_nothing_pending();
    }
}

#[test]
fn a_killed_server_s_members_are_lost_once_and_their_names_freed() {
    const LEASE: u64 = 2;
    let redis = Redis::start();
    let mut a = bridged(&redis, "t1", LEASE);
    let mut b = bridged(&redis, "t1", LEASE);
    let t = Text::en();
    let mut bob = b.join("bob");
    let mut alice = join_seen(&a, "alice", &mut [&mut bob]);
    let _ann = join_seen(&a, "ann", &mut [&mut bob, &mut alice]);
    alice.send("hello from A");
    assert_eq!(bob.line(), "alice: hello from A");

    a.child.kill().expect("SIGKILL server A");
    common::wait_child(&mut a.child);
    let killed = Instant::now();
    let deadline = killed + Duration::from_secs(4 * LEASE + 3);
    let mut lost = Vec::new();
    while lost.len() < 2 {
        let line = read_until(&mut bob, deadline, "the lost notices", |line| {
            leave_of(line, "alice").is_some() || leave_of(line, "ann").is_some()
        })
        .pop()
        .unwrap();
        lost.push(line);
    }
    let took = killed.elapsed();
    lost.sort();
    assert_eq!(lost[0], t.left("left-lost", "alice"), "{lost:?}");
    assert_eq!(lost[1], t.left("left-lost", "ann"), "{lost:?}");
    expect_log(&mut b, "log-server-lost", |line| {
        t.pattern("log-server-lost", &[("count", 2.into())], &["server"])
            .matches(line)
    });

    // Their names are free at once, on the surviving server.
    let mut alice_again = b.join("alice");
    assert_eq!(alice_again.seen().last().unwrap(), &t.welcome("alice", 1));
    assert_eq!(bob.line(), t.joined_count("alice", 2));

    // Exactly once: nothing more about them, a lease and more later.
    thread::sleep(Duration::from_secs(LEASE + 1));
    let (before, listed) = list(&mut bob);
    assert!(
        !before.iter().any(|line| is_any_leave(line)),
        "a second leave notice: {before:?} (the first {lost:?}, {took:?} after the kill)"
    );
    assert_eq!(listed, names(&["alice", "bob"]));
    let (before, _) = list(&mut alice_again);
    assert!(!before.iter().any(|line| is_any_leave(line)), "{before:?}");

    // A server that joins later counts only the living, and has the
    // dead server's lines in its history.
    let c = bridged(&redis, "t1", LEASE);
    let mut cid = c.join("cid");
    assert_eq!(cid.seen().last().unwrap(), &t.welcome("cid", 2));
    assert_eq!(cid.line(), t.notice("history", &[("count", 1.into())]));
    let line = cid.line();
    assert!(is_stamped(&line, "alice: hello from A"), "{line:?}");
    let (before, listed) = list(&mut cid);
    assert_eq!(before, Vec::<String>::new());
    assert_eq!(listed, names(&["alice", "bob", "cid"]));
}

#[test]
fn a_broker_that_refuses_writes_refuses_lines_and_drops_none() {
    const LEASE: u64 = 10;
    let redis = Redis::start();
    let a = bridged(&redis, "t1", LEASE);
    let b = bridged(&redis, "t1", LEASE);
    let t = Text::en();
    let mut alice = a.join("alice");
    let mut bob = join_seen(&b, "bob", &mut [&mut alice]);
    // Out of memory: Redis refuses every write (noeviction is the
    // default policy). Only A has something to write; B, which only
    // reads, stays up (for less than the lease: then the leases cannot
    // be renewed either).
    assert_eq!(redis.command("CONFIG SET maxmemory 1"), "+OK");
    alice.send("refused by the broker");
    let down = t.notice("broker-down", &[]);
    alice.expect_line(&down);
    // While it refuses, what is typed is refused here, with a notice.
    alice.send("while it refuses");
    assert_eq!(alice.line(), t.notice("not-sent", &[]));
    assert_eq!(redis.command("CONFIG SET maxmemory 0"), "+OK");
    // The line the broker refused was kept and goes through now, once.
    let back = t.notice("broker-back", &[]);
    let seen = read_until(
        &mut bob,
        Instant::now() + TIMEOUT,
        "alice's kept line",
        |line| line == "alice: refused by the broker",
    );
    assert!(
        !seen.iter().any(|line| line.contains("while it refuses")),
        "{seen:#?}"
    );
    alice.expect_line(&back);
    alice.send("after");
    let seen = read_until(&mut bob, Instant::now() + TIMEOUT, "alice's line", |line| {
        line == "alice: after"
    });
    assert!(
        !seen
            .iter()
            .any(|line| line.contains("refused by the broker")),
        "the kept line came twice: {seen:#?}"
    );
}

#[test]
fn a_short_broker_outage_loses_nothing_and_nobody() {
    const LEASE: u64 = 10;
    let mut redis = Redis::start();
    let a = bridged(&redis, "t1", LEASE);
    let b = bridged(&redis, "t1", LEASE);
    let t = Text::en();
    let mut alice = a.join("alice");
    let mut bob = join_seen(&b, "bob", &mut [&mut alice]);
    let mut carol = join_seen(&a, "carol", &mut [&mut alice, &mut bob]);
    alice.send("before");
    assert_eq!(bob.line(), "alice: before");
    assert_eq!(carol.line(), "alice: before");

    redis.kill();
    let down = t.notice("broker-down", &[]);
    for peer in [&mut alice, &mut bob, &mut carol] {
        peer.expect_line(&down);
    }
    // A line sent while the broker is away is refused, to its sender,
    // and reaches no one (not even the members of its own server).
    alice.send("during");
    assert_eq!(alice.line(), t.notice("not-sent", &[]));
    bob.send("during too");
    assert_eq!(bob.line(), t.notice("not-sent", &[]));
    // So are a private message, a rename and a name (docs/protocol.md 7a).
    alice.send("/msg bob during, privately");
    assert_eq!(alice.line(), t.notice("not-sent", &[]));
    carol.send("/nick caroline");
    assert_eq!(carol.line(), t.notice("not-sent", &[]));
    let mut newcomer = b.connect();
    newcomer.expect_line(&t.notice("name-prompt", &[]));
    newcomer.send("dora");
    assert_eq!(newcomer.line(), t.notice("not-sent", &[]));

    thread::sleep(Duration::from_secs(1));
    redis.restart();
    let back = t.notice("broker-back", &[]);
    let mut between = Vec::new();
    for peer in [&mut alice, &mut bob, &mut carol] {
        between.extend(read_until(
            peer,
            Instant::now() + TIMEOUT,
            "broker-back",
            |line| line == back,
        ));
    }
    alice.send("after");
    between.extend(read_until(
        &mut bob,
        Instant::now() + TIMEOUT,
        "alice's line",
        |line| line == "alice: after",
    ));
    between.extend(read_until(
        &mut carol,
        Instant::now() + TIMEOUT,
        "alice's line",
        |line| line == "alice: after",
    ));
    bob.send("and back");
    assert_eq!(alice.line(), "bob: and back");
    assert_eq!(carol.line(), "bob: and back");
    // The refused name may be asked for again, and is free.
    newcomer.expect_line(&t.notice("name-prompt", &[]));
    newcomer.send("dora");
    newcomer.expect_welcome("dora");
    assert_eq!(alice.line(), t.joined_count("dora", 4));
    assert_eq!(bob.line(), t.joined_count("dora", 4));
    assert_eq!(carol.line(), t.joined_count("dora", 4));
    let unexpected: Vec<&String> = between
        .iter()
        .filter(|line| {
            is_any_leave(line)
                || line.ends_with("before")
                || line.contains("during")
                || line.contains("caroline")
                || **line == down
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "after the outage: {unexpected:#?} (all: {between:#?})"
    );
    for peer in [&mut alice, &mut bob, &mut carol] {
        let (before, listed) = list(peer);
        assert_eq!(before, Vec::<String>::new());
        assert_eq!(listed, names(&["alice", "bob", "carol", "dora"]));
    }
}

#[test]
fn an_unreachable_broker_at_start_is_named_and_not_fatal() {
    let port = closed_port();
    let url = format!("redis://127.0.0.1:{port}");
    let config = settings_file(&bridge_settings(&url, "t1", 2));
    let stderr_path = temp_dir().join("stderr");
    let stderr = File::create(&stderr_path).expect("stderr file");
    let mut server = spawn_server(&config, Stdio::from(stderr));
    let t = Text::en();
    let unreachable = t.pattern(
        "log-broker-unreachable",
        &[],
        &["addr", "reason", "seconds"],
    );
    let line = expect_log(&mut server, "log-broker-unreachable", |line| {
        unreachable.matches(line)
    });
    let found = unreachable.captures(&line).unwrap();
    assert!(
        found[0].contains(&port.to_string()),
        "the address {:?} does not name port {port}: {line:?}",
        found[0]
    );
    assert!(
        found[2].parse::<f64>().is_ok(),
        "not a number of seconds: {line:?}"
    );
    // It keeps running, and answers connections.
    let mut peer = server.connect();
    peer.expect_line(&t.notice("name-prompt", &[]));
    assert!(
        server.child.try_wait().expect("try_wait").is_none(),
        "the server exited"
    );
    let _ = server.child.kill();
    let _ = server.child.wait();
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
}

#[test]
fn an_empty_console_line_closes_that_server_only() {
    const LEASE: u64 = 2;
    let redis = Redis::start();
    let mut a = bridged(&redis, "t1", LEASE);
    let b = bridged(&redis, "t1", LEASE);
    let t = Text::en();
    let mut bob = b.join("bob");
    let mut alice = join_seen(&a, "alice", &mut [&mut bob]);
    let mut ann = join_seen(&a, "ann", &mut [&mut bob, &mut alice]);

    a.console("");
    let closed = t.notice("room-closed", &[]);
    for peer in [&mut alice, &mut ann] {
        let rest = peer.read_to_eof();
        assert!(rest.contains(&closed), "no closing line: {rest:?}");
        assert!(!rest.iter().any(|line| is_any_leave(line)), "{rest:?}");
    }
    assert!(a.wait_exit().success());

    let mut gone = Vec::new();
    while gone.len() < 2 {
        let line = read_until(
            &mut bob,
            Instant::now() + TIMEOUT,
            "the leave notices",
            |line| leave_of(line, "alice").is_some() || leave_of(line, "ann").is_some(),
        )
        .pop()
        .unwrap();
        gone.push(line);
    }
    // A server that closed is not lost: its members left (docs/protocol.md
    // section 7a).
    gone.sort();
    assert_eq!(gone[0], t.left("left-quit", "alice"), "{gone:?}");
    assert_eq!(gone[1], t.left("left-quit", "ann"), "{gone:?}");
    // Once each: nothing more about them, a lease and more later.
    thread::sleep(Duration::from_secs(LEASE + 1));
    let (before, listed) = list(&mut bob);
    assert!(
        !before.iter().any(|line| is_any_leave(line)),
        "a second leave notice: {before:?} (the first: {gone:?})"
    );
    assert_eq!(listed, names(&["bob"]));
    // B carries on, and their names are free.
    let mut alice_again = join_seen(&b, "alice", &mut [&mut bob]);
    alice_again.send("still here");
    assert_eq!(bob.line(), "alice: still here");

    // SIGTERM closes a server the same way.
    let mut c = bridged(&redis, "t1", LEASE);
    let mut cid = join_seen(&c, "cid", &mut [&mut bob, &mut alice_again]);
    c.signal(rustix::process::Signal::TERM);
    let rest = cid.read_to_eof();
    assert!(rest.contains(&closed), "no closing line: {rest:?}");
    assert!(c.wait_exit().success());
    for peer in [&mut bob, &mut alice_again] {
        assert_eq!(peer.line(), t.left("left-quit", "cid"));
    }
    thread::sleep(Duration::from_secs(LEASE + 1));
    let (before, listed) = list(&mut bob);
    assert!(!before.iter().any(|line| is_any_leave(line)), "{before:?}");
    assert_eq!(listed, names(&["alice", "bob"]));
}

#[test]
fn another_room_on_the_same_broker_is_separate() {
    let redis = Redis::start();
    let a = bridged(&redis, "t1", 2);
    let b = bridged(&redis, "t1", 2);
    let c = bridged(&redis, "t2", 2);
    let t = Text::en();
    let mut zed = c.join("zed");
    let mut alice = a.join("alice");
    assert_eq!(alice.seen().last().unwrap(), &t.welcome("alice", 0));
    let mut bob = join_seen(&b, "bob", &mut [&mut alice]);
    // Its own names: alice is free in t2.
    let mut alice2 = c.join("alice");
    assert_eq!(alice2.seen().last().unwrap(), &t.welcome("alice", 1));
    assert_eq!(zed.line(), t.joined_count("alice", 2));

    alice.send("for t1 only");
    assert_eq!(bob.line(), "alice: for t1 only");
    alice2.send("for t2 only");
    assert_eq!(zed.line(), "alice: for t2 only");
    bob.send("t1 again");
    assert_eq!(alice.line(), "bob: t1 again");

    let (before, listed) = list(&mut zed);
    assert_eq!(before, Vec::<String>::new(), "t1's traffic reached t2");
    assert_eq!(listed, names(&["alice", "zed"]));
    let (before, listed) = list(&mut alice2);
    assert_eq!(before, Vec::<String>::new(), "t1's traffic reached t2");
    assert_eq!(listed, names(&["alice", "zed"]));
    let (before, listed) = list(&mut bob);
    assert_eq!(before, Vec::<String>::new(), "t2's traffic reached t1");
    assert_eq!(listed, names(&["alice", "bob"]));
    let (before, _) = list(&mut alice);
    assert_eq!(before, Vec::<String>::new(), "t2's traffic reached t1");
}

/// The helper itself: `kill` then `restart` brings back the same Redis,
/// on the same port, with what was written before (the append only file),
/// which the outage test relies on.
#[test]
fn the_test_redis_restarts_with_its_data() {
    use std::io::{BufRead, BufReader, Write};
    fn command(redis: &Redis, line: &str) -> String {
        let stream = std::net::TcpStream::connect(redis.addr()).expect("connect to redis");
        stream.set_read_timeout(Some(TIMEOUT)).expect("timeout");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        (&stream)
            .write_all(format!("{line}\r\n").as_bytes())
            .expect("send");
        let mut answer = String::new();
        reader.read_line(&mut answer).expect("answer");
        answer.trim_end().to_string()
    }
    let mut redis = Redis::start();
    assert!(redis.url().ends_with(&format!(":{}", redis.port())));
    assert!(command(&redis, "XADD probe * k v").starts_with('$'));
    redis.kill();
    assert!(!redis.is_running());
    assert!(std::net::TcpStream::connect(redis.addr()).is_err());
    redis.restart();
    assert!(redis.is_running());
    assert_eq!(command(&redis, "XLEN probe"), ":1");
}

#[test]
fn lines_in_flight_when_the_broker_dies_are_delivered_once_or_refused() {
    const LEASE: u64 = 10;
    const LINES: usize = 300;
    let mut redis = Redis::start();
    let a = bridged(&redis, "t1", LEASE);
    let b = bridged(&redis, "t1", LEASE);
    let t = Text::en();
    let mut alice = a.join("alice");
    let mut bob = join_seen(&b, "bob", &mut [&mut alice]);
    let mut carol = join_seen(&a, "carol", &mut [&mut alice, &mut bob]);

    // alice sends steadily while the broker is killed under her.
    let mut stream = alice.stream.try_clone().expect("clone");
    let sender = thread::spawn(move || {
        use std::io::Write;
        for i in 0..LINES {
            writeln!(stream, "n{i}").expect("send");
            thread::sleep(Duration::from_millis(1));
        }
    });
    thread::sleep(Duration::from_millis(150));
    redis.kill();
    sender.join().expect("sender thread");
    thread::sleep(Duration::from_millis(500));
    redis.restart();

    let back = t.notice("broker-back", &[]);
    let not_sent = t.notice("not-sent", &[]);
    let mut alice_lines = read_until(
        &mut alice,
        Instant::now() + TIMEOUT,
        "broker-back",
        |line| line == back,
    );
    alice.send("marker");
    let marker = "alice: marker";
    let bob_lines = read_until(&mut bob, Instant::now() + TIMEOUT, "the marker", |line| {
        line == marker
    });
    let carol_lines = read_until(&mut carol, Instant::now() + TIMEOUT, "the marker", |line| {
        line == marker
    });
    let (rest, _) = list(&mut alice);
    alice_lines.extend(rest);

    let delivered = |lines: &[String]| -> Vec<usize> {
        lines
            .iter()
            .filter_map(|line| line.strip_prefix("alice: n"))
            .map(|n| n.parse().expect("a number"))
            .collect()
    };
    let to_bob = delivered(&bob_lines);
    let to_carol = delivered(&carol_lines);
    assert_eq!(to_bob, to_carol, "the two servers disagree");
    assert!(
        to_bob.windows(2).all(|pair| pair[0] < pair[1]),
        "doubled or reordered: {to_bob:?}"
    );
    let refused = alice_lines.iter().filter(|line| **line == not_sent).count();
    assert!(
        refused > 0,
        "the broker died while alice sent, yet nothing was refused"
    );
    assert_eq!(
        to_bob.len() + refused,
        LINES,
        "{} delivered and {refused} refused of {LINES}: a line was lost or both delivered and refused; delivered {to_bob:?}",
        to_bob.len()
    );
    for lines in [&bob_lines, &carol_lines] {
        assert!(!lines.iter().any(|line| is_any_leave(line)), "{lines:#?}");
    }
}

#[test]
fn a_killed_server_restarted_at_once_rejoins_and_its_old_members_are_lost() {
    const LEASE: u64 = 2;
    let redis = Redis::start();
    let config = settings_file(&bridge_settings(&redis.url(), "t1", LEASE));
    let start = |config: &Path| {
        let mut server = spawn_server(config, Stdio::inherit());
        let joined = Text::en().pattern(
            "log-room-joined",
            &[("room", "t1".into())],
            &["members", "servers"],
        );
        expect_log(&mut server, "log-room-joined", |line| joined.matches(line));
        server
    };
    let mut a = start(&config);
    let b = bridged(&redis, "t1", LEASE);
    let t = Text::en();
    let mut bob = b.join("bob");
    let _alice = join_seen(&a, "alice", &mut [&mut bob]);

    a.child.kill().expect("SIGKILL server A");
    common::wait_child(&mut a.child);
    let killed = Instant::now();
    // The same settings, before the lease ran out.
    let a = start(&config);
    // alice's old connection is lost, once, and her name freed.
    let deadline = killed + Duration::from_secs(4 * LEASE + 3);
    let lines = read_until(&mut bob, deadline, "alice's leave", |line| {
        leave_of(line, "alice").is_some()
    });
    assert_eq!(lines.last().unwrap(), &t.left("left-lost", "alice"));
    let mut alice = a.join("alice");
    assert_eq!(alice.seen().last().unwrap(), &t.welcome("alice", 1));
    assert_eq!(bob.line(), t.joined_count("alice", 2));
    alice.send("back on A");
    assert_eq!(bob.line(), "alice: back on A");
    bob.send("welcome back");
    assert_eq!(alice.line(), "bob: welcome back");
    thread::sleep(Duration::from_secs(LEASE + 1));
    let (before, listed) = list(&mut bob);
    assert!(!before.iter().any(|line| is_any_leave(line)), "{before:?}");
    assert_eq!(listed, names(&["alice", "bob"]));
    let (before, listed) = list(&mut alice);
    assert!(!before.iter().any(|line| is_any_leave(line)), "{before:?}");
    assert_eq!(listed, names(&["alice", "bob"]));
}

#[test]
fn a_query_follows_a_member_of_another_server() {
    let redis = Redis::start();
    let a = bridged(&redis, "t1", 2);
    let b = bridged(&redis, "t1", 2);
    let t = Text::en();
    let mut alice = a.join("alice");
    let mut bob = join_seen(&b, "bob", &mut [&mut alice]);
    let mut carol = join_seen(&a, "carol", &mut [&mut alice, &mut bob]);
    alice.send("/query BOB");
    assert_eq!(alice.line(), t.named("query-started", "bob"));
    alice.send("just between us");
    assert_eq!(alice.line(), t.named("private-sent", "bob"));
    assert_eq!(bob.line(), t.private("alice", "just between us"));
    // The query follows a rename on the other server.
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
    // The partner leaving, on the other server, ends it.
    bob.send("/quit");
    assert_eq!(alice.line(), t.left("left-quit", "robert"));
    assert_eq!(alice.line(), t.named("query-partner-left", "robert"));
    alice.send("the room again");
    assert_eq!(carol.line(), renamed);
    assert_eq!(carol.line(), t.left("left-quit", "robert"));
    assert_eq!(carol.line(), "alice: the room again");
    carol.expect_nothing_pending();
}

#[test]
fn a_server_started_before_its_broker_joins_the_room_once_it_is_up() {
    let port = closed_port();
    let config = settings_file(&bridge_settings(
        &format!("redis://127.0.0.1:{port}"),
        "t1",
        2,
    ));
    let mut a = spawn_server(&config, Stdio::inherit());
    let t = Text::en();
    let unreachable = t.pattern(
        "log-broker-unreachable",
        &[],
        &["addr", "reason", "seconds"],
    );
    expect_log(&mut a, "log-broker-unreachable", |line| {
        unreachable.matches(line)
    });
    let redis = Redis::start_on(port);
    let joined = t.pattern(
        "log-room-joined",
        &[("room", "t1".into())],
        &["members", "servers"],
    );
    expect_log(&mut a, "log-room-joined", |line| joined.matches(line));
    let connected = t.pattern("log-broker-connected", &[("room", "t1".into())], &["addr"]);
    let line = expect_log(&mut a, "log-broker-connected", |line| {
        connected.matches(line)
    });
    assert!(line.contains(&port.to_string()), "{line:?}");
    let b = bridged(&redis, "t1", 2);
    let mut alice = a.join("alice");
    let mut bob = join_seen(&b, "bob", &mut [&mut alice]);
    alice.send("made it");
    assert_eq!(bob.line(), "alice: made it");
}

#[test]
fn after_an_outage_longer_than_the_lease_the_servers_agree_on_who_is_here() {
    const LEASE: u64 = 2;
    let mut redis = Redis::start();
    let mut a = bridged(&redis, "t1", LEASE);
    let mut b = bridged(&redis, "t1", LEASE);
    let t = Text::en();
    let mut alice = a.join("alice");
    let mut bob = join_seen(&b, "bob", &mut [&mut alice]);
    let mut ann = join_seen(&a, "ann", &mut [&mut alice, &mut bob]);
    let mut bea = join_seen(&b, "bea", &mut [&mut alice, &mut bob, &mut ann]);

    redis.kill();
    thread::sleep(Duration::from_secs(2 * LEASE + 1));
    redis.restart();

    // Each member is either back in the room or disconnected; whoever
    // is still here sees the same room from either server, and heard of
    // each departure once.
    let back = t.notice("broker-back", &[]);
    let mut here = Vec::new();
    let mut lines_of = Vec::new();
    for (name, peer) in [
        ("alice", &mut alice),
        ("bob", &mut bob),
        ("ann", &mut ann),
        ("bea", &mut bea),
    ] {
        let mut lines = Vec::new();
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "{name}: neither back nor gone: {lines:#?}");
            peer.stream.set_read_timeout(Some(left)).expect("timeout");
            match peer.read_line() {
                None => break,
                Some(line) if line == back => {
                    here.push(name);
                    lines.push(line);
                    break;
                }
                Some(line) => lines.push(line),
            }
        }
        lines_of.push((name, lines));
    }
    // Leave notices, or a late verdict, may still be on their way.
    thread::sleep(Duration::from_secs(LEASE + 1));
    let t = Text::en();
    let mut lists = Vec::new();
    let peers: Vec<(&str, &mut Peer)> = vec![
        ("alice", &mut alice),
        ("bob", &mut bob),
        ("ann", &mut ann),
        ("bea", &mut bea),
    ];
    for (name, peer) in peers {
        if !here.contains(&name) {
            continue;
        }
        peer.stream
            .set_read_timeout(Some(TIMEOUT))
            .expect("timeout");
        let lines = &mut lines_of.iter_mut().find(|(n, _)| *n == name).unwrap().1;
        peer.send("/list");
        loop {
            let Some(line) = peer.read_line() else {
                here.retain(|n| *n != name);
                break;
            };
            if let Some(listed) = t.list_names(&line) {
                lists.push((name, listed.into_iter().collect::<BTreeSet<String>>()));
                break;
            }
            lines.push(line);
        }
    }
    // Whoever the room let go was told why before the close.
    let cut_off = t.notice("cut-off", &[]);
    for (name, lines) in &lines_of {
        if !here.contains(name) {
            assert!(
                lines.contains(&cut_off),
                "{name} was closed without being told why: {lines:#?}"
            );
        }
    }
    let expected: BTreeSet<String> = here.iter().map(|name| name.to_string()).collect();
    for (name, listed) in &lists {
        assert_eq!(
            listed, &expected,
            "{name}'s /list after the outage; still here: {here:?}; lines: {lines_of:#?}"
        );
    }
    for (name, lines) in &lines_of {
        for gone in ["alice", "bob", "ann", "bea"] {
            let leaves = lines
                .iter()
                .filter(|line| leave_of(line, gone).is_some())
                .count();
            assert!(
                leaves <= 1,
                "{name} heard {gone} leave {leaves} times: {lines:#?}"
            );
        }
    }
    // Both servers still serve the one room: newcomers on each see each
    // other, and the same members.
    let mut late_a = a.join("late_a");
    let mut late_b = join_seen(&b, "late_b", &mut [&mut late_a]);
    let mut expected = expected;
    expected.extend(["late_a".to_string(), "late_b".to_string()]);
    assert_eq!(
        list(&mut late_a).1,
        expected,
        "A's /list; lines: {lines_of:#?}"
    );
    assert_eq!(
        list(&mut late_b).1,
        expected,
        "B's /list; lines: {lines_of:#?}"
    );
    late_a.send("from A");
    assert_eq!(late_b.line(), "late_a: from A");
    late_b.send("from B");
    assert_eq!(late_a.line(), "late_b: from B");
    eprintln!("still here after the long outage: {here:?}; lines: {lines_of:#?}");
    eprintln!("A's log: {:#?}", a.log.drain());
    eprintln!("B's log: {:#?}", b.log.drain());
}

#[test]
fn the_same_name_asked_on_two_servers_at_once_goes_to_one() {
    let redis = Redis::start();
    let a = bridged(&redis, "t1", 2);
    let b = bridged(&redis, "t1", 2);
    let t = Text::en();
    let prompt = t.notice("name-prompt", &[]);
    let pairs = [
        ("n0", "n0"),
        ("n1", "N1"),
        ("n2", "ｎ2"),
        ("n3", "n3"),
        ("n4", "N4"),
        ("n5", "n5"),
    ];
    let mut peers = Vec::new();
    for (on_a, on_b) in pairs {
        let mut pa = a.connect();
        let mut pb = b.connect();
        pa.expect_line(&prompt);
        pb.expect_line(&prompt);
        peers.push(((on_a, pa), (on_b, pb)));
    }
    // Both names of a pair in flight at once.
    for ((on_a, pa), (on_b, pb)) in &mut peers {
        pa.send_raw(format!("{on_a}\n").as_bytes());
        pb.send_raw(format!("{on_b}\n").as_bytes());
    }
    let mut winners = Vec::new();
    for ((on_a, pa), (on_b, pb)) in &mut peers {
        let mut outcomes = Vec::new();
        for (name, peer) in [(*on_a, &mut *pa), (*on_b, &mut *pb)] {
            let line = peer.line();
            if t.is_notice_with_number(&line, "welcome", &[("name", name.into())], "others") {
                outcomes.push(true);
            } else {
                assert_eq!(line, t.named("name-taken", name), "{name}");
                assert_eq!(peer.line(), prompt);
                outcomes.push(false);
            }
        }
        assert_eq!(
            outcomes.iter().filter(|won| **won).count(),
            1,
            "{on_a} on A and {on_b} on B: {outcomes:?}"
        );
        winners.push(if outcomes[0] { *on_a } else { *on_b });
    }
    // Whoever won, both servers list the same members.
    let mut watch_a = a.join("watch_a");
    let mut watch_b = join_seen(&b, "watch_b", &mut [&mut watch_a]);
    let mut expected: BTreeSet<String> = winners.iter().map(|name| name.to_string()).collect();
    expected.extend(["watch_a".to_string(), "watch_b".to_string()]);
    assert_eq!(list(&mut watch_a).1, expected);
    assert_eq!(list(&mut watch_b).1, expected);
}

#[test]
fn lines_sent_with_the_name_follow_the_welcome() {
    let redis = Redis::start();
    let a = bridged(&redis, "t1", 2);
    let b = bridged(&redis, "t1", 2);
    let t = Text::en();
    let mut alice = a.join("alice");
    // The name, a line and a command in one write, before any answer.
    let mut bob = b.connect();
    bob.send_raw(b"bob\nhello at once\n/list\n");
    bob.expect_welcome("bob");
    let line = bob.line();
    assert_eq!(
        t.list_names(&line)
            .map(|names| names.into_iter().collect::<BTreeSet<_>>()),
        Some(names(&["alice", "bob"])),
        "{line:?}"
    );
    assert_eq!(alice.line(), t.joined_count("bob", 2));
    assert_eq!(alice.line(), "bob: hello at once");
    alice.expect_nothing_pending();
}

#[test]
fn a_rename_and_a_join_racing_for_one_name_leave_one_owner() {
    let redis = Redis::start();
    let a = bridged(&redis, "t1", 2);
    let b = bridged(&redis, "t1", 2);
    let t = Text::en();
    let prompt = t.notice("name-prompt", &[]);
    let mut renamers = Vec::new();
    for i in 0..5 {
        let name = format!("old{i}");
        let peer = a.join(&name);
        renamers.push(peer);
    }
    let mut joiners = Vec::new();
    for _ in 0..5 {
        let mut peer = b.connect();
        peer.expect_line(&prompt);
        joiners.push(peer);
    }
    for (i, (renamer, joiner)) in renamers.iter_mut().zip(&mut joiners).enumerate() {
        renamer.send(&format!("/nick new{i}"));
        joiner.send(&format!("NEW{i}"));
    }
    let mut joiners_won = 0;
    for (i, (renamer, joiner)) in renamers.iter_mut().zip(&mut joiners).enumerate() {
        let new = format!("new{i}");
        let upper = format!("NEW{i}");
        let renamed = loop {
            let line = renamer.line();
            if line == t.named("nick-set", &new) {
                break true;
            }
            if line == t.named("name-taken", &new) {
                break false;
            }
        };
        let line = joiner.line();
        let joined = t.is_notice_with_number(
            &line,
            "welcome",
            &[("name", upper.as_str().into())],
            "others",
        );
        if joined {
            joiners_won += 1;
        } else {
            assert_eq!(line, t.named("name-taken", &upper));
        }
        assert!(
            renamed != joined,
            "/nick {new} on A {} and {upper} on B {}",
            if renamed { "won" } else { "lost" },
            if joined { "won" } else { "lost" }
        );
    }
    let mut watch_a = a.join("watch_a");
    let mut watch_b = join_seen(&b, "watch_b", &mut [&mut watch_a]);
    let (_, on_a) = list(&mut watch_a);
    let (_, on_b) = list(&mut watch_b);
    assert_eq!(on_a, on_b);
    // Five renamers (renamed or not), the joiners that won, two watchers.
    assert_eq!(on_a.len(), 5 + joiners_won + 2, "{on_a:?}");
    for i in 0..5 {
        let owners = on_a
            .iter()
            .filter(|name| name.eq_ignore_ascii_case(&format!("new{i}")))
            .count();
        assert_eq!(owners, 1, "new{i}: {on_a:?}");
    }
}

#[test]
fn servers_started_at_once_all_join_the_room() {
    let redis = Redis::start();
    let config = settings_file(&bridge_settings(&redis.url(), "t1", 2));
    let t = Text::en();
    // Spawned together, before any has joined: none waits for another.
    let mut servers: Vec<Server> = (0..3)
        .map(|_| spawn_server(&config, Stdio::inherit()))
        .collect();
    let joined = t.pattern(
        "log-room-joined",
        &[("room", "t1".into())],
        &["members", "servers"],
    );
    for server in &mut servers {
        expect_log(server, "log-room-joined", |line| joined.matches(line));
    }
    let mut peers: Vec<Peer> = Vec::new();
    for (i, server) in servers.iter().enumerate() {
        let name = format!("m{i}");
        let mut watchers: Vec<&mut Peer> = peers.iter_mut().collect();
        let peer = join_seen(server, &name, &mut watchers);
        peers.push(peer);
    }
    peers[2].send("to all");
    assert_eq!(peers[0].line(), "m2: to all");
    assert_eq!(peers[1].line(), "m2: to all");
    for peer in &mut peers {
        assert_eq!(list(peer).1, names(&["m0", "m1", "m2"]));
    }
}
