//! `chatroom-bench` end to end: it starts the real server, joins, chats
//! and checks every delivery; it starts Redis and two bridged servers and
//! does the same over both; a fake server that drops a line makes it
//! fail; bad flags are usage errors. Speed is never checked here.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use chatroom::i18n::{parse_lang, Localizer};

const BENCH: &str = env!("CARGO_BIN_EXE_chatroom-bench");
const SERVER: &str = env!("CARGO_BIN_EXE_chatroom-server");
/// A whole bench run, debug build, both cores busy: far below this.
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// Runs the bench with `args`, killing it if it overruns `RUN_LIMIT`.
fn bench(args: &[&str]) -> Output {
    let mut child = Command::new(BENCH)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn chatroom-bench");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stdout.read_to_end(&mut bytes);
        bytes
    });
    let err = thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stderr.read_to_end(&mut bytes);
        bytes
    });
    let deadline = Instant::now() + RUN_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chatroom-bench did not finish within {RUN_LIMIT:?}");
        }
        thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out.join().expect("stdout thread"),
        stderr: err.join().expect("stderr thread"),
    }
}

fn spawned(extra: &[&str]) -> Output {
    let mut args = vec!["--spawn", "--server", SERVER, "--json", "--quiet"];
    args.extend_from_slice(extra);
    bench(&args)
}

/// The value of `"key":` in the bench's flat JSON object.
fn field<'a>(json: &'a str, key: &str) -> &'a str {
    let needle = format!("\"{key}\":");
    let start = json
        .find(&needle)
        .unwrap_or_else(|| panic!("no {key} in {json}"))
        + needle.len();
    let rest = &json[start..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    &rest[..end]
}

fn number(json: &str, key: &str) -> u64 {
    field(json, key)
        .parse()
        .unwrap_or_else(|_| panic!("{key} is not a whole number in {json}"))
}

fn report(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stdout.trim_start().starts_with('{') && stdout.trim_end().ends_with('}'),
        "no JSON report; stdout: {stdout}; stderr: {stderr}"
    );
    stdout
}

#[test]
fn burst_against_the_real_server_loses_nothing() {
    let output = spawned(&["--scenario", "burst", "--members", "50", "--lines", "20"]);
    let json = report(&output);
    assert_eq!(output.status.code(), Some(0), "{json}");
    assert_eq!(number(&json, "joined"), 50);
    assert_eq!(number(&json, "expected"), 50 * 20 * 49);
    assert_eq!(number(&json, "delivered"), number(&json, "expected"));
    for key in ["lost", "duplicated", "out_of_order", "garbled"] {
        assert_eq!(number(&json, key), 0, "{key}: {json}");
    }
    assert_eq!(number(&json, "notices_received"), 50 * 49 / 2);
    assert_eq!(number(&json, "members_dropped"), 0, "{json}");
    assert_eq!(number(&json, "too_slow_announced"), 0, "{json}");
    assert_eq!(field(&json, "ok"), "true");
    assert!(number(&json, "server_peak_rss_kib") > 0, "{json}");
    assert!(number(&json, "latency_max_us") >= number(&json, "latency_p50_us"));
}

#[test]
fn a_mixed_room_loses_nothing_it_should_deliver() {
    // 50 members: 25 in zh-CN, m3 m13 m23 m33 m43 muted (they send
    // nothing), m5 m15 m25 m35 m45 ignoring m0, m7 m8 m27 m28 m47 m48
    // with timestamps.
    let output = spawned(&[
        "--scenario",
        "burst",
        "--members",
        "50",
        "--lines",
        "20",
        "--mix",
    ]);
    let json = report(&output);
    assert_eq!(output.status.code(), Some(0), "{json}");
    assert_eq!(number(&json, "lines_sent"), 45 * 20);
    let skipped = 5 * 45 * 20 + 5 * 20;
    assert_eq!(number(&json, "skipped"), skipped);
    assert_eq!(number(&json, "expected"), 45 * 20 * 49 - skipped);
    assert_eq!(number(&json, "delivered"), number(&json, "expected"));
    for key in ["lost", "duplicated", "out_of_order", "garbled", "foreign"] {
        assert_eq!(number(&json, key), 0, "{key}: {json}");
    }
    // Every join, then one reply per command: 25 + 5 + 5 + 6.
    assert_eq!(number(&json, "notices_received"), 50 * 49 / 2 + 41);
}

#[test]
fn idle_members_all_join_and_are_all_announced() {
    let output = spawned(&["--scenario", "idle", "--members", "40", "--hold", "0.1"]);
    let json = report(&output);
    assert_eq!(output.status.code(), Some(0), "{json}");
    assert_eq!(number(&json, "joined"), 40);
    assert_eq!(number(&json, "notices_expected"), 40 * 39 / 2);
    assert_eq!(number(&json, "notices_received"), 40 * 39 / 2);
    assert_ne!(field(&json, "server_rss_per_member_bytes"), "null");
    assert!(
        field(&json, "announce_secs").parse::<f64>().is_ok(),
        "{json}"
    );
}

#[test]
fn stalled_members_do_not_cost_the_others_a_line() {
    let output = spawned(&[
        "--scenario",
        "stalled",
        "--members",
        "12",
        "--stalled",
        "2",
        "--lines",
        "10",
    ]);
    let json = report(&output);
    assert_eq!(output.status.code(), Some(0), "{json}");
    assert_eq!(number(&json, "stalled"), 2);
    assert_eq!(number(&json, "expected"), 10 * 10 * 9);
    assert_eq!(number(&json, "lost"), 0);
    // Joined after the 10 chatters: each chatter hears of both.
    assert_eq!(number(&json, "notices_received"), 10 * 9 / 2 + 10 * 2);
}

#[test]
fn paced_lines_all_arrive() {
    let output = spawned(&[
        "--scenario",
        "paced",
        "--members",
        "5",
        "--rate",
        "100",
        "--duration",
        "0.3",
    ]);
    let json = report(&output);
    assert_eq!(output.status.code(), Some(0), "{json}");
    assert_eq!(number(&json, "lines_sent"), 30);
    assert_eq!(number(&json, "delivered"), 30 * 4);
}

/// A server that speaks the protocol for two members but drops the second
/// member's line: the bench must say one line was lost and exit 1.
#[test]
fn a_lost_line_fails_the_run() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let fake = thread::spawn(move || {
        let mut members = Vec::new();
        for _ in 0..2 {
            let (stream, _) = listener.accept().expect("accept");
            stream
                .set_read_timeout(Some(Duration::from_secs(20)))
                .expect("timeout");
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut writer = stream;
            writer.write_all(b"Hello.\nYour name?\n").expect("greet");
            let mut name = String::new();
            reader.read_line(&mut name).expect("name");
            writer.write_all(b"* Welcome!\n").expect("welcome");
            members.push((name.trim().to_string(), reader, writer));
        }
        let joined = format!("* {} joined.\n", members[1].0);
        members[0].2.write_all(joined.as_bytes()).expect("notice");
        let mut first = String::new();
        members[0].1.read_line(&mut first).expect("line");
        let relayed = format!("{}: {first}", members[0].0);
        members[1].2.write_all(relayed.as_bytes()).expect("relay");
        let mut second = String::new();
        members[1].1.read_line(&mut second).expect("line");
        // The second line is dropped. Wait for the bench to hang up.
        let mut rest = Vec::new();
        let _ = members[0].1.read_to_end(&mut rest);
    });
    let output = bench(&[
        "--addr",
        &addr,
        "--members",
        "2",
        "--lines",
        "1",
        "--json",
        "--quiet",
    ]);
    let json = report(&output);
    assert_eq!(output.status.code(), Some(1), "{json}");
    assert_eq!(number(&json, "expected"), 2);
    assert_eq!(number(&json, "delivered"), 1);
    assert_eq!(number(&json, "lost"), 1);
    assert_eq!(field(&json, "ok"), "false");
    fake.join().expect("fake server");
}

/// A server that stamps its chat lines with the time (`[HH:MM] `), relays
/// the second member's line as an action (`** name text`), and says the
/// first member was dropped as too slow: the bench reads both lines as
/// chat, intact, and counts the drop.
#[test]
fn stamped_lines_and_actions_are_chat_and_drops_are_counted() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let fake = thread::spawn(move || {
        let mut members = Vec::new();
        for _ in 0..2 {
            let (stream, _) = listener.accept().expect("accept");
            stream
                .set_read_timeout(Some(Duration::from_secs(20)))
                .expect("timeout");
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut writer = stream;
            writer
                .write_all(b"* Hello.\n* Your name?\n")
                .expect("greet");
            let mut name = String::new();
            reader.read_line(&mut name).expect("name");
            writer.write_all(b"* Welcome!\n").expect("welcome");
            members.push((name.trim().to_string(), reader, writer));
        }
        let joined = format!("* {} joined.\n", members[1].0);
        members[0].2.write_all(joined.as_bytes()).expect("notice");
        let mut first = String::new();
        members[0].1.read_line(&mut first).expect("line");
        let left = Localizer::english().tr(
            "left-too-slow",
            &[
                ("name", members[0].0.as_str().into()),
                ("stayed", "1 s".into()),
            ],
        );
        let relayed = format!("* {left}\n[12:34] {}: {first}", members[0].0);
        members[1].2.write_all(relayed.as_bytes()).expect("relay");
        let mut second = String::new();
        members[1].1.read_line(&mut second).expect("line");
        let action = format!("[12:35] ** {} {second}", members[1].0);
        members[0].2.write_all(action.as_bytes()).expect("relay");
        let mut rest = Vec::new();
        let _ = members[0].1.read_to_end(&mut rest);
    });
    let output = bench(&[
        "--addr",
        &addr,
        "--members",
        "2",
        "--lines",
        "1",
        "--json",
        "--quiet",
    ]);
    let json = report(&output);
    assert_eq!(output.status.code(), Some(0), "{json}");
    assert_eq!(number(&json, "delivered"), 2);
    assert_eq!(number(&json, "garbled"), 0);
    assert_eq!(number(&json, "foreign"), 0);
    assert_eq!(number(&json, "too_slow_announced"), 1);
    assert_eq!(number(&json, "members_dropped"), 0, "no connection ended");
    fake.join().expect("fake server");
}

/// `redis-server`, which the bridged runs need (`.ci/run` installs it):
/// missing, the test fails and says so rather than pass without running.
fn require_redis() {
    let found = Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    assert!(
        found,
        "redis-server is not on PATH: the bridged bench test needs it \
         (.ci/run installs it; on Debian: apt-get install redis-server)"
    );
}

/// A small burst over two servers bridged through Redis, all started by
/// the bench: every line reaches every member on both servers once, in
/// order.
#[test]
fn a_burst_over_two_bridged_servers_loses_nothing() {
    require_redis();
    let output = bench(&[
        "--spawn-bridged",
        "2",
        "--server",
        SERVER,
        "--json",
        "--quiet",
        "--scenario",
        "burst",
        "--members",
        "20",
        "--lines",
        "10",
    ]);
    let json = report(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{json}\n{stderr}");
    assert_eq!(number(&json, "servers"), 2);
    assert_eq!(number(&json, "joined"), 20);
    assert_eq!(number(&json, "expected"), 20 * 10 * 19);
    assert_eq!(number(&json, "delivered"), number(&json, "expected"));
    for key in ["lost", "duplicated", "out_of_order", "garbled", "foreign"] {
        assert_eq!(number(&json, key), 0, "{key}: {json}");
    }
    assert_eq!(number(&json, "members_dropped"), 0, "{json}");
    assert_eq!(field(&json, "ok"), "true");
    assert_ne!(field(&json, "broker"), "null", "{json}");
    assert_eq!(field(&json, "server_pids").split(' ').count(), 2, "{json}");
    assert!(number(&json, "server_peak_rss_kib") > 0, "{json}");
}

/// Two fake servers of one "room", each taking one member and relaying
/// between them: with `--addr` twice, the members are spread one to each,
/// and the lines relayed from one server to the other count.
#[test]
fn repeated_addresses_spread_the_members() {
    let listeners: Vec<TcpListener> = (0..2)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind"))
        .collect();
    let addrs: Vec<String> = listeners
        .iter()
        .map(|l| l.local_addr().expect("addr").to_string())
        .collect();
    let fake = thread::spawn(move || {
        let mut members = Vec::new();
        for listener in &listeners {
            // Each server takes exactly one member; a second would wait
            // here, and the bench would fail to join it.
            listener.set_nonblocking(true).expect("nonblocking");
            let deadline = Instant::now() + Duration::from_secs(20);
            let stream = loop {
                match listener.accept() {
                    Ok((stream, _)) => break stream,
                    Err(_) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
                    Err(error) => panic!("no member came to this server: {error}"),
                }
            };
            stream.set_nonblocking(false).expect("blocking");
            stream
                .set_read_timeout(Some(Duration::from_secs(20)))
                .expect("timeout");
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut writer: TcpStream = stream;
            writer.write_all(b"Hello.\nYour name?\n").expect("greet");
            let mut name = String::new();
            reader.read_line(&mut name).expect("name");
            writer.write_all(b"* Welcome!\n").expect("welcome");
            members.push((name.trim().to_string(), reader, writer));
        }
        assert_eq!(members[0].0, "m0");
        assert_eq!(members[1].0, "m1");
        let joined = format!("* {} joined.\n", members[1].0);
        members[0].2.write_all(joined.as_bytes()).expect("notice");
        for (from, to) in [(0, 1), (1, 0)] {
            let mut line = String::new();
            members[from].1.read_line(&mut line).expect("line");
            let relayed = format!("{}: {line}", members[from].0);
            members[to].2.write_all(relayed.as_bytes()).expect("relay");
        }
        let mut rest = Vec::new();
        let _ = members[0].1.read_to_end(&mut rest);
    });
    let output = bench(&[
        "--addr",
        &addrs[0],
        "--addr",
        &addrs[1],
        "--members",
        "2",
        "--lines",
        "1",
        "--json",
        "--quiet",
    ]);
    let json = report(&output);
    assert_eq!(output.status.code(), Some(0), "{json}");
    assert_eq!(number(&json, "servers"), 2);
    assert_eq!(number(&json, "delivered"), 2);
    assert_eq!(field(&json, "ok"), "true");
    fake.join().expect("fake servers");
}

#[test]
fn bad_usage_exits_2_with_one_line() {
    for args in [
        &["--addr", "192.0.2.1:5555"][..],
        &["--members", "1"],
        &["--scenario", "stalled", "--members", "5", "--stalled", "5"],
        &["--size", "8"],
        &["--scenario", "nonsense"],
        &["--spawn", "--spawn-bridged", "2"],
        &["--addr", "127.0.0.1:5555", "--spawn-bridged", "2"],
        &["--spawn-bridged", "2", "--pid", "1"],
        &["--spawn-bridged", "0"],
        &["--spawn", "--redis-server", "redis-server"],
        &["--redis-server", "redis-server"],
        &["--addr", "127.0.0.1:5555", "--pid", "1", "--pid", "2"],
        &["--addr", "127.0.0.1:5555", "--addr", "192.0.2.1:5555"],
    ] {
        let output = bench(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("chatroom-bench") || stderr.contains("error"),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let output = bench(&["--addr", "192.0.2.1:5555", "--lang", "zh-CN"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let zh = Localizer::new(&parse_lang("zh-CN").expect("zh-CN"));
    let refusal = zh.tr(
        "bench-error-not-loopback",
        &[("addr", "192.0.2.1:5555".into())],
    );
    assert!(stderr.contains(&refusal), "{stderr}");
}

/// A Redis program that cannot be run is a failed run (exit 3) that names
/// it; nothing is left running.
#[test]
fn a_broker_that_cannot_start_is_a_failed_run() {
    let output = bench(&[
        "--spawn-bridged",
        "2",
        "--server",
        SERVER,
        "--redis-server",
        "/nonexistent/redis-server",
        "--members",
        "4",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.starts_with("chatroom-bench: "), "{stderr}");
    assert!(stderr.contains("/nonexistent/redis-server"), "{stderr}");
}

#[test]
fn a_server_that_is_not_there_is_a_failed_run() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let addr = format!("127.0.0.1:{port}");
    let output = bench(&["--addr", &addr, "--members", "3", "--phase-timeout", "5"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.starts_with("chatroom-bench: "), "{stderr}");
}
