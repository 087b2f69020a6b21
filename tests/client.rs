//! `chatroom-client` as a user runs it (PROTOCOL.md section 4), always with
//! piped stdin: against a real server on 127.0.0.1, a fake one that resets
//! the connection, and ports or hosts where nothing answers.

mod common;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use chatroom::i18n::{parse_lang, Args, Localizer};
use common::{run_with_input, wait_child, LineStream, Server, Text, CLIENT, TIMEOUT};

fn localizer(lang: &str) -> Localizer {
    Localizer::new(&parse_lang(lang).expect("shipped language"))
}

fn tr(lang: &str, id: &str, args: &Args<'_>) -> String {
    localizer(lang).tr(id, args)
}

/// A system notice as the server sends it: `* ` and the English text.
fn notice(id: &str, args: &Args<'_>) -> String {
    format!("* {}", tr("en", id, args))
}

fn connected_line(lang: &str, port: u16) -> String {
    tr(
        lang,
        "client-connected",
        &[
            ("host", "127.0.0.1".into()),
            ("port", port.to_string().into()),
        ],
    )
}

fn port_args(port: u16) -> Vec<String> {
    vec![
        "--host".into(),
        "127.0.0.1".into(),
        "--port".into(),
        port.to_string(),
    ]
}

fn run_client(port: u16, extra: &[&str], input: &[u8]) -> Output {
    let mut args = port_args(port);
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_with_input(CLIENT, &args, input, None)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("client output is UTF-8")
}

fn stdout_lines(output: &Output) -> Vec<String> {
    text(&output.stdout).lines().map(str::to_string).collect()
}

/// Contract checks that hold for every run: no Fluent isolation marks, no
/// panic, no debug dump.
fn assert_clean(output: &str) {
    assert!(
        !output.contains('\u{2068}') && !output.contains('\u{2069}'),
        "isolation marks in {output:?}"
    );
    assert!(!output.contains("panicked"), "a panic: {output:?}");
    assert!(
        !output.contains("Error {") && !output.contains("Os {"),
        "a debug dump: {output:?}"
    );
}

fn assert_clean_output(output: &Output) {
    assert_clean(&text(&output.stdout));
    assert_clean(&text(&output.stderr));
}

fn has_cjk(text: &str) -> bool {
    text.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c))
}

/// Position of the first line equal to `wanted` at or after `from`.
fn position(lines: &[String], from: usize, wanted: &str) -> usize {
    lines[from..]
        .iter()
        .position(|line| line == wanted)
        .map(|i| from + i)
        .unwrap_or_else(|| panic!("no line {wanted:?} after line {from} in {lines:#?}"))
}

/// A client running interactively: stdin stays open until closed; killed
/// and reaped on drop.
struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    out: LineStream,
    err: LineStream,
}

impl Client {
    fn spawn(port: u16, extra: &[&str]) -> Client {
        let mut child = Command::new(CLIENT)
            .args(port_args(port))
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn chatroom-client");
        let stdin = child.stdin.take();
        let out = LineStream::new(child.stdout.take().expect("stdout"));
        let err = LineStream::new(child.stderr.take().expect("stderr"));
        Client {
            child,
            stdin,
            out,
            err,
        }
    }

    fn type_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").expect("type");
        stdin.flush().expect("flush");
    }

    fn wait(&mut self) -> ExitStatus {
        wait_child(&mut self.child)
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.stdin = None;
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn piped_name_and_line_join_speak_and_leave() {
    let server = Server::start("en");
    let port = server.addr.port();
    let mut bob = server.join("bob");

    let output = run_client(port, &[], b"alice\nhello\n");
    assert_clean_output(&output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        text(&output.stderr)
    );
    assert_eq!(text(&output.stderr), "");

    let lines = stdout_lines(&output);
    assert_eq!(
        lines.first(),
        Some(&connected_line("en", port)),
        "{lines:#?}"
    );
    let greeting = position(&lines, 1, &notice("greeting", &[]));
    let prompt = position(&lines, greeting, &notice("name-prompt", &[]));
    let welcome = notice("welcome", &[("name", "alice".into()), ("others", 1.into())]);
    position(&lines, prompt, &welcome);
    assert_eq!(
        lines.last(),
        Some(&tr("en", "client-goodbye", &[])),
        "{lines:#?}"
    );

    assert_eq!(bob.line(), Text::en().joined("alice"));
    assert_eq!(bob.line(), "alice: hello");
    assert_eq!(bob.line(), Text::en().left("left-quit", "alice"));
    bob.expect_nothing_pending();
}

#[test]
fn every_piped_line_is_sent_before_leaving_in_order() {
    let server = Server::start_unthrottled("en");
    let mut bob = server.join("bob");

    let mut input = String::from("alice\n");
    for i in 0..2000 {
        input.push_str(&format!("line {i} of a long paste\n"));
    }
    let output = run_client(server.addr.port(), &[], input.as_bytes());
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        text(&output.stderr)
    );

    assert_eq!(bob.line(), Text::en().joined("alice"));
    for i in 0..2000 {
        assert_eq!(bob.line(), format!("alice: line {i} of a long paste"));
    }
    assert_eq!(bob.line(), Text::en().left("left-quit", "alice"));
    bob.expect_nothing_pending();
}

/// Spawns the client with `stdin`, which is not a pipe, and waits for it.
fn run_with_stdin(
    port: u16,
    extra: &[&str],
    stdin: Stdio,
) -> (ExitStatus, Vec<String>, Vec<String>) {
    let mut child = Command::new(CLIENT)
        .args(port_args(port))
        .args(extra)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn chatroom-client");
    let mut out = LineStream::new(child.stdout.take().expect("stdout"));
    let mut err = LineStream::new(child.stderr.take().expect("stderr"));
    let status = wait_child(&mut child);
    (status, out.rest(), err.rest())
}

#[test]
fn stdin_from_a_file_is_sent_then_the_client_leaves() {
    let server = Server::start("en");
    let mut bob = server.join("bob");
    let path = common::temp_dir().join("input.txt");
    std::fs::write(&path, "alice\nfrom a file\nlast").expect("write input");

    let file = std::fs::File::open(&path).expect("open input");
    let (status, out, err) = run_with_stdin(server.addr.port(), &[], Stdio::from(file));
    assert_eq!(status.code(), Some(0), "stderr: {err:?}");
    assert_eq!(err, Vec::<String>::new());
    assert_eq!(
        out.last(),
        Some(&tr("en", "client-goodbye", &[])),
        "{out:#?}"
    );

    assert_eq!(bob.line(), Text::en().joined("alice"));
    assert_eq!(bob.line(), "alice: from a file");
    assert_eq!(bob.line(), "alice: last");
    assert_eq!(bob.line(), Text::en().left("left-quit", "alice"));
    bob.expect_nothing_pending();
}

#[test]
fn stdin_from_dev_null_joins_with_name_flag_and_leaves() {
    let server = Server::start("en");
    let mut bob = server.join("bob");

    let (status, out, err) =
        run_with_stdin(server.addr.port(), &["--name", "alice"], Stdio::null());
    assert_eq!(status.code(), Some(0), "stderr: {err:?}");
    assert_eq!(err, Vec::<String>::new());
    assert_eq!(
        out.last(),
        Some(&tr("en", "client-goodbye", &[])),
        "{out:#?}"
    );

    assert_eq!(bob.line(), Text::en().joined("alice"));
    assert_eq!(bob.line(), Text::en().left("left-quit", "alice"));
    bob.expect_nothing_pending();
}

#[test]
fn last_line_without_newline_is_sent_as_a_line() {
    let server = Server::start("en");
    let mut bob = server.join("bob");

    let output = run_client(server.addr.port(), &[], b"alice\nlast words");
    assert_clean_output(&output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        text(&output.stderr)
    );

    assert_eq!(bob.line(), Text::en().joined("alice"));
    assert_eq!(bob.line(), "alice: last words");
    assert_eq!(bob.line(), Text::en().left("left-quit", "alice"));
    bob.expect_nothing_pending();
}

#[test]
fn empty_line_leaves_and_nothing_after_it_is_sent() {
    let server = Server::start("en");
    let mut bob = server.join("bob");

    let output = run_client(server.addr.port(), &[], b"alice\nfirst\n\nnever sent\n");
    assert_clean_output(&output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        text(&output.stderr)
    );
    let lines = stdout_lines(&output);
    assert_eq!(
        lines.last(),
        Some(&tr("en", "client-goodbye", &[])),
        "{lines:#?}"
    );

    assert_eq!(bob.line(), Text::en().joined("alice"));
    assert_eq!(bob.line(), "alice: first");
    assert_eq!(bob.line(), Text::en().left("left-quit", "alice"));
    bob.expect_nothing_pending();
}

#[test]
fn typed_empty_line_leaves_while_stdin_stays_open() {
    let server = Server::start("en");
    let port = server.addr.port();
    let mut bob = server.join("bob");

    let mut client = Client::spawn(port, &[]);
    assert_eq!(client.out.next_line(), Some(connected_line("en", port)));
    client.out.expect(&notice("name-prompt", &[]));
    client.type_line("alice");
    client.out.expect(&notice(
        "welcome",
        &[("name", "alice".into()), ("others", 1.into())],
    ));
    assert_eq!(bob.line(), Text::en().joined("alice"));

    // Both directions while the user is at the keyboard.
    client.type_line("hi there");
    assert_eq!(bob.line(), "alice: hi there");
    bob.send("hey alice");
    assert_eq!(client.out.expect("hey alice"), "bob: hey alice");

    // Just Enter: the client leaves with stdin still open.
    client.type_line("");
    let status = client.wait();
    assert_eq!(status.code(), Some(0));
    let rest = client.out.rest();
    assert_eq!(rest, vec![tr("en", "client-goodbye", &[])]);
    assert_eq!(client.err.rest(), Vec::<String>::new());
    assert_eq!(bob.line(), Text::en().left("left-quit", "alice"));
    bob.expect_nothing_pending();
    for line in client.out.seen() {
        assert_clean(line);
    }
}

#[test]
fn name_flag_joins_without_typing_the_name() {
    let server = Server::start("en");
    let port = server.addr.port();
    let mut bob = server.join("bob");

    let output = run_client(port, &["--name", "alice"], b"hello\n");
    assert_clean_output(&output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        text(&output.stderr)
    );
    let lines = stdout_lines(&output);
    let welcome = notice("welcome", &[("name", "alice".into()), ("others", 1.into())]);
    position(&lines, 0, &welcome);
    assert_eq!(lines.last(), Some(&tr("en", "client-goodbye", &[])));

    assert_eq!(bob.line(), Text::en().joined("alice"));
    assert_eq!(bob.line(), "alice: hello");
    assert_eq!(bob.line(), Text::en().left("left-quit", "alice"));
    bob.expect_nothing_pending();
}

/// `--name NAME` refused: the user sees why, then the prompt again, and the
/// next line from stdin is taken as the name.
fn rejected_name_flag_then_typed_name(flag_name: &str, why: String) {
    let server = Server::start("en");
    let port = server.addr.port();
    let mut bob = server.join("bob");

    let output = run_client(port, &["--name", flag_name], b"carol\nhi\n");
    assert_clean_output(&output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        text(&output.stderr)
    );
    let lines = stdout_lines(&output);
    let prompt = notice("name-prompt", &[]);
    let first_prompt = position(&lines, 0, &prompt);
    let rejected = position(&lines, first_prompt, &why);
    let again = position(&lines, rejected, &prompt);
    assert_eq!(
        again,
        rejected + 1,
        "the prompt follows the reason: {lines:#?}"
    );
    let welcome = notice("welcome", &[("name", "carol".into()), ("others", 1.into())]);
    position(&lines, again, &welcome);
    assert_eq!(lines.last(), Some(&tr("en", "client-goodbye", &[])));

    assert_eq!(bob.line(), Text::en().joined("carol"));
    assert_eq!(bob.line(), "carol: hi");
    assert_eq!(bob.line(), Text::en().left("left-quit", "carol"));
    bob.expect_nothing_pending();
}

#[test]
fn name_flag_with_invalid_name_lets_the_user_type_another() {
    rejected_name_flag_then_typed_name("bad name", notice("name-bad-characters", &[]));
}

#[test]
fn name_flag_with_taken_name_lets_the_user_type_another() {
    rejected_name_flag_then_typed_name("BOB", notice("name-taken", &[("name", "BOB".into())]));
}

#[test]
fn room_shut_down_by_the_console_ends_the_client_with_exit_0() {
    let mut server = Server::start("en");
    let port = server.addr.port();
    let mut bob = server.join("bob");

    let mut client = Client::spawn(port, &["--name", "alice"]);
    assert_eq!(client.out.next_line(), Some(connected_line("en", port)));
    client.out.expect(&notice(
        "welcome",
        &[("name", "alice".into()), ("others", 1.into())],
    ));
    assert_eq!(bob.line(), Text::en().joined("alice"));

    server.console("");
    client.out.expect(&notice("room-closed", &[]));
    assert_eq!(
        client.out.next_line(),
        Some(tr("en", "client-server-closed", &[]))
    );
    assert_eq!(
        client.out.next_line(),
        None,
        "nothing after the closed line"
    );
    let status = client.wait();
    assert_eq!(status.code(), Some(0));
    assert_eq!(client.err.rest(), Vec::<String>::new());
    for line in client.out.seen() {
        assert_clean(line);
    }
    assert!(server.wait_exit().success());
}

/// A port on 127.0.0.1 where nothing listens (just freed).
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

#[test]
fn connection_refused_is_one_localized_line_and_exit_1() {
    for lang in ["en", "zh-CN"] {
        let port = closed_port();
        let output = run_client(port, &["--lang", lang], b"alice\n");
        assert_clean_output(&output);
        assert_eq!(output.status.code(), Some(1), "{lang}");
        assert_eq!(
            text(&output.stdout),
            "",
            "{lang}: nothing printed as if connected"
        );
        let stderr = text(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{lang}: {stderr:?}");
        assert!(
            stderr.contains(&format!("127.0.0.1:{port}")),
            "{lang}: {stderr:?}"
        );
        let l = localizer(lang);
        let expected = l.tr(
            "client-connect-failed",
            &[
                ("host", "127.0.0.1".into()),
                ("port", port.to_string().into()),
                ("reason", l.tr("reason-refused", &[]).into()),
            ],
        );
        assert_eq!(stderr, format!("chatroom-client: {expected}\n"), "{lang}");
        // The hint: where to point the client instead.
        assert!(
            stderr.contains("--host") && stderr.contains("--port"),
            "{lang}: {stderr:?}"
        );
        assert_eq!(has_cjk(&stderr), lang == "zh-CN", "{stderr:?}");
    }
}

#[test]
fn unknown_host_is_one_localized_line_and_exit_1() {
    for lang in ["en", "zh-CN"] {
        let output = run_with_input(
            CLIENT,
            &["--host", "nosuch.invalid", "--port", "5555", "--lang", lang],
            b"alice\n",
            None,
        );
        assert_clean_output(&output);
        assert_eq!(output.status.code(), Some(1), "{lang}");
        assert_eq!(text(&output.stdout), "", "{lang}");
        let stderr = text(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{lang}: {stderr:?}");
        assert!(
            stderr.starts_with("chatroom-client: "),
            "{lang}: {stderr:?}"
        );
        assert!(stderr.contains("nosuch.invalid"), "{lang}: {stderr:?}");
        assert!(stderr.contains("--host"), "{lang}: a hint: {stderr:?}");
        assert_eq!(has_cjk(&stderr), lang == "zh-CN", "{stderr:?}");
    }
}

/// Accepts one connection, bounded by `TIMEOUT`.
fn accept_bounded(listener: &TcpListener) -> TcpStream {
    listener.set_nonblocking(true).expect("nonblocking");
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).expect("blocking");
                return stream;
            }
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(
                    Instant::now() < deadline,
                    "the client did not connect within {TIMEOUT:?}"
                );
                thread::sleep(Duration::from_millis(10));
            }
            Err(err) => panic!("accept: {err}"),
        }
    }
}

#[test]
fn broken_connection_is_a_localized_error_and_exit_1() {
    for lang in ["en", "zh-CN"] {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let mut client = Client::spawn(port, &["--lang", lang]);
        let mut stream = accept_bounded(&listener);
        stream
            .write_all(b"* hello from a fake server\n")
            .expect("send");

        // Once the line is shown, the client waits on the socket and on a
        // stdin that stays open.
        assert_eq!(client.out.next_line(), Some(connected_line(lang, port)));
        assert_eq!(
            client.out.next_line().as_deref(),
            Some("* hello from a fake server")
        );
        rustix::net::sockopt::set_socket_linger(&stream, Some(Duration::ZERO)).expect("linger");
        drop(stream);

        let status = client.wait();
        assert_eq!(status.code(), Some(1), "{lang}");
        assert_eq!(
            client.out.rest(),
            Vec::<String>::new(),
            "{lang}: no goodbye or closed line"
        );
        let stderr = client.err.rest();
        let l = localizer(lang);
        let reason = l.tr("reason-reset", &[]);
        let expected = l.tr("client-connection-lost", &[("reason", reason.into())]);
        assert_eq!(
            stderr,
            vec![format!("chatroom-client: {expected}")],
            "{lang}"
        );
        assert_eq!(has_cjk(&stderr[0]), lang == "zh-CN");
        assert_clean(&stderr[0]);
    }
}

#[test]
fn client_own_lines_are_in_chinese_with_lang_zh_cn() {
    let server = Server::start("en");
    let port = server.addr.port();
    let mut bob = server.join("bob");

    let output = run_client(port, &["--lang", "zh-CN"], "小明\n你好\n".as_bytes());
    assert_clean_output(&output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        text(&output.stderr)
    );
    let lines = stdout_lines(&output);
    let connected = connected_line("zh-CN", port);
    let goodbye = tr("zh-CN", "client-goodbye", &[]);
    assert!(has_cjk(&connected) && has_cjk(&goodbye));
    assert_eq!(lines.first(), Some(&connected), "{lines:#?}");
    assert!(
        connected.contains(&format!("127.0.0.1:{port}")),
        "{connected}"
    );
    assert_eq!(lines.last(), Some(&goodbye), "{lines:#?}");
    // The server's lines stay in the server's language.
    position(&lines, 1, &notice("greeting", &[]));

    assert_eq!(bob.line(), Text::en().joined("小明"));
    assert_eq!(bob.line(), "小明: 你好");
}

#[test]
fn client_output_has_no_isolation_marks() {
    // Every message the client renders with arguments, in both languages,
    // against a server in the same language.
    for lang in ["en", "zh-CN"] {
        let server = Server::start(lang);
        let port = server.addr.port();
        let output = run_client(port, &["--lang", lang, "--name", "alice"], b"/list\nhi\n");
        assert_eq!(output.status.code(), Some(0), "{lang}");
        let stdout = text(&output.stdout);
        assert!(stdout.contains(&format!("127.0.0.1:{port}")), "{stdout}");
        assert!(stdout.contains("alice"), "{stdout}");
        assert_clean_output(&output);

        let refused = run_client(closed_port(), &["--lang", lang], b"");
        assert_eq!(refused.status.code(), Some(1));
        assert_clean_output(&refused);
    }
}

/// The client's peak resident memory so far (VmHWM), in KiB.
fn peak_rss_kib(child: &Child) -> u64 {
    common::proc_status_kib(child.id(), "VmHWM:").expect("VmHWM in /proc/PID/status")
}

/// Waits for `child` to exit, at most `limit`; `None` if it is still running.
fn exit_within(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if Instant::now() > deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// A fake server that sends lines as fast as the client takes them, until
/// the connection breaks or `stop` is set. Returns the sender's thread.
fn flood(
    stream: TcpStream,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut stream = stream;
        let line = "flooder: the quick brown fox jumps over the lazy dog, again and again\n";
        let chunk = line.repeat(256);
        let _ = stream.set_write_timeout(Some(Duration::from_millis(100)));
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            match stream.write(chunk.as_bytes()) {
                Ok(_) => {}
                Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(err) if err.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => break,
            }
        }
    })
}

/// Issue 9.6: a server that sends faster than the client prints must not
/// make the client deaf (Enter on an empty line leaves at once) or let its
/// memory grow.
#[test]
fn a_flooding_server_leaves_the_client_in_control() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let mut client = Client::spawn(port, &[]);
    let stream = accept_bounded(&listener);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sender = flood(stream, stop.clone());
    // Let the flood run: the client prints (the test reads its stdout as
    // fast as it can, in its LineStream thread) while more keeps coming.
    client.out.expect("flooder:");
    let flooding = Instant::now();
    while flooding.elapsed() < Duration::from_secs(2) {
        client.out.next_line();
    }
    let peak = peak_rss_kib(&client.child);
    let start = Instant::now();
    client.type_line("");
    let status = exit_within(&mut client.child, Duration::from_secs(10));
    let took = start.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = sender.join();
    eprintln!("flood: left {took:?} after Enter, peak RSS {peak} KiB");
    assert!(status.is_some(), "still running 10 s after Enter");
    assert!(took < Duration::from_secs(3), "took {took:?} to leave");
    assert!(peak < 32 * 1024, "peak RSS {peak} KiB");
}

/// Issue 9.6, memory: what the client holds while flooded stays bounded.
#[test]
fn a_flooding_server_does_not_bloat_the_client() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    // The client's stdout is read slowly: it cannot print as fast as the
    // server sends.
    let mut child = Command::new(CLIENT)
        .args(port_args(port))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn chatroom-client");
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = thread::spawn(move || {
        let mut buf = [0u8; 4096];
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if std::io::Read::read(&mut stdout, &mut buf).unwrap_or(0) == 0 {
                break;
            }
            thread::sleep(Duration::from_millis(5));
        }
    });
    let stream = accept_bounded(&listener);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sender = flood(stream, stop.clone());
    let _ = reader.join();
    let peak = peak_rss_kib(&child);
    let start = Instant::now();
    let _ = rustix::process::kill_process(
        rustix::process::Pid::from_raw(child.id() as i32).expect("pid"),
        rustix::process::Signal::TERM,
    );
    let status = exit_within(&mut child, Duration::from_secs(10));
    let took = start.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = child.kill();
    let _ = child.wait();
    let _ = sender.join();
    eprintln!("flood, slow reader: peak RSS {peak} KiB, left {took:?} after SIGTERM");
    assert!(status.is_some(), "still running 10 s after SIGTERM");
    assert!(peak < 32 * 1024, "peak RSS {peak} KiB");
}

/// Issue 9.7: with a stdout nobody reads (`chatroom-client | less`,
/// paused), SIGINT, SIGTERM and SIGHUP end the client within 2 s.
#[test]
fn a_blocked_stdout_does_not_stop_signals() {
    use rustix::process::Signal;
    for signal in [Signal::INT, Signal::TERM, Signal::HUP] {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let mut child = Command::new(CLIENT)
            .args(port_args(port))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn chatroom-client");
        // Held, never read: the pipe fills and stays full.
        let _stdout = child.stdout.take();
        let stream = accept_bounded(&listener);
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sender = flood(stream, stop.clone());
        // Long enough for the 64 KiB pipe to fill many times over.
        thread::sleep(Duration::from_millis(500));
        let start = Instant::now();
        let pid = rustix::process::Pid::from_raw(child.id() as i32).expect("pid");
        let _ = rustix::process::kill_process(pid, signal);
        let status = exit_within(&mut child, Duration::from_secs(5));
        let took = start.elapsed();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = child.kill();
        let _ = child.wait();
        let _ = sender.join();
        eprintln!("blocked stdout: {signal:?} ended it after {took:?}");
        assert!(status.is_some(), "{signal:?}: still running 5 s later");
        assert!(took < Duration::from_secs(2), "{signal:?}: took {took:?}");
    }
}

/// Issue 9.8: against a server that never reads, the client stops reading
/// stdin once its outgoing buffer is full, instead of holding all of it.
#[test]
fn a_server_that_never_reads_stops_stdin_being_read() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let mut child = Command::new(CLIENT)
        .args(port_args(port))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn chatroom-client");
    let mut stdin = child.stdin.take().expect("stdin");
    // Accepted, never read.
    let _stream = accept_bounded(&listener);
    let written = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = written.clone();
    const TOTAL: usize = 60 << 20;
    let writer = thread::spawn(move || {
        let line = [b'x'; 1023]
            .iter()
            .chain(b"\n")
            .copied()
            .collect::<Vec<u8>>();
        let chunk = line.repeat(64);
        while counter.load(std::sync::atomic::Ordering::Relaxed) < TOTAL {
            if stdin.write_all(&chunk).is_err() {
                break;
            }
            counter.fetch_add(chunk.len(), std::sync::atomic::Ordering::Relaxed);
        }
    });
    // Until the writer has stopped making progress (the client stopped
    // reading) or has written everything.
    let deadline = Instant::now() + Duration::from_secs(8);
    let mut last = 0;
    loop {
        thread::sleep(Duration::from_millis(300));
        let now = written.load(std::sync::atomic::Ordering::Relaxed);
        if now >= TOTAL || (now == last && now > 0) || Instant::now() > deadline {
            break;
        }
        last = now;
    }
    let peak = peak_rss_kib(&child);
    let taken = written.load(std::sync::atomic::Ordering::Relaxed);
    let _ = child.kill();
    let _ = child.wait();
    let _ = writer.join();
    eprintln!("never-reading server: client took {taken} bytes of stdin, peak RSS {peak} KiB");
    assert!(taken < TOTAL / 4, "the client read {taken} bytes of stdin");
    assert!(peak < 32 * 1024, "peak RSS {peak} KiB");
}

/// Issue 10.7: `--help` lists the keys and points to `/help`; the server's
/// says what its console does (clap's help is English by the contract).
#[test]
fn help_lists_the_keys_and_the_console() {
    let client = Command::new(CLIENT).arg("--help").output().expect("run");
    let text = String::from_utf8_lossy(&client.stdout);
    for key in [
        "Ctrl-C", "Ctrl-D", "Ctrl-U", "Ctrl-W", "Ctrl-K", "Tab", "Up", "/help",
    ] {
        assert!(text.contains(key), "{key} in {text}");
    }
    let server = Command::new(common::SERVER)
        .arg("--help")
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&server.stdout);
    assert!(
        text.contains("Administrator") && text.contains("empty line"),
        "{text}"
    );
}

/// Issue 10.7: a server that says nothing: after a few seconds the client
/// says it is still waiting (on stderr: the relay's stdout is the server's).
#[test]
fn a_silent_server_gets_a_still_waiting_line() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let mut client = Client::spawn(port, &["--lang", "zh-CN"]);
    let _stream = accept_bounded(&listener);
    let expected = tr(
        "zh-CN",
        "client-still-waiting",
        &[("server", format!("127.0.0.1:{port}").into())],
    );
    assert_eq!(
        client.err.next_line(),
        Some(format!("chatroom-client: {expected}"))
    );
    assert_eq!(client.out.next_line(), Some(connected_line("zh-CN", port)));
}
