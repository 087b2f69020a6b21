//! The client (and the server's console) in a real terminal: each test runs
//! the real binary in a tmux pane of its own (a private tmux server, killed
//! by its handle), types with `send-keys`, and reads the screen with
//! `capture-pane`, polling until a condition holds or a deadline passes.
//! tmux is required: without it these tests fail (`.ci/run` installs it).

mod common;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use chatroom::i18n::{parse_lang, Args, Localizer};
use common::{temp_dir, Peer, Server, Text, CLIENT, SERVER, TIMEOUT};

const WIDTH: usize = 80;
const HEIGHT: usize = 24;

fn tr(lang: &str, id: &str, args: &Args<'_>) -> String {
    Localizer::new(&parse_lang(lang).expect("shipped language")).tr(id, args)
}

/// A tmux server of our own with one pane running `command` (through sh).
struct Tmux {
    socket: String,
    dir: PathBuf,
}

impl Tmux {
    fn start(command: &str) -> Tmux {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let socket = format!("chatroom-test-{}-{n}", std::process::id());
        let dir = temp_dir();
        let version = Command::new("tmux").arg("-V").output();
        assert!(
            version.is_ok_and(|out| out.status.success()),
            "these tests need tmux (bash .ci/run installs it: apt-get install tmux)"
        );
        let tmux = Tmux { socket, dir };
        let out = tmux.run(&[
            "new-session",
            "-d",
            "-x",
            &WIDTH.to_string(),
            "-y",
            &HEIGHT.to_string(),
            "-s",
            "main",
            command,
        ]);
        assert!(out.status.success(), "tmux new-session: {out:?}");
        tmux
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-u", "-f", "/dev/null", "-L", &self.socket])
            .args(args)
            .env("LC_ALL", "C.UTF-8")
            .env("TERM", "xterm-256color")
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .output()
            .expect("run tmux")
    }

    /// Types `text` as it is (no key names).
    fn type_text(&self, text: &str) {
        let out = self.run(&["send-keys", "-t", "main", "-l", text]);
        assert!(out.status.success(), "send-keys: {out:?}");
    }

    /// Presses keys by tmux name: `Enter`, `Left`, `C-a`, `Tab`.
    fn press(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "main"];
        args.extend_from_slice(keys);
        let out = self.run(&args);
        assert!(out.status.success(), "send-keys: {out:?}");
    }

    /// Pastes `text` as a terminal does, bracketed if the program asked.
    fn paste(&self, text: &str) {
        let out = self.run(&["set-buffer", "--", text]);
        assert!(out.status.success(), "set-buffer: {out:?}");
        let out = self.run(&["paste-buffer", "-p", "-t", "main"]);
        assert!(out.status.success(), "paste-buffer: {out:?}");
    }

    fn resize(&self, width: usize) {
        let out = self.run(&["resize-window", "-t", "main", "-x", &width.to_string()]);
        assert!(out.status.success(), "resize-window: {out:?}");
    }

    /// The screen's lines, trailing blanks removed.
    fn screen(&self) -> Vec<String> {
        let out = self.run(&["capture-pane", "-p", "-t", "main"]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut lines: Vec<String> = text.lines().map(|l| l.trim_end().to_string()).collect();
        while lines.last().is_some_and(String::is_empty) {
            lines.pop();
        }
        lines
    }

    /// The cursor's column and row.
    fn cursor(&self) -> (usize, usize) {
        let out = self.run(&[
            "display-message",
            "-p",
            "-t",
            "main",
            "#{cursor_x} #{cursor_y}",
        ]);
        let text = String::from_utf8_lossy(&out.stdout);
        let mut parts = text
            .split_whitespace()
            .map(|n| n.parse().unwrap_or(usize::MAX));
        (
            parts.next().unwrap_or(usize::MAX),
            parts.next().unwrap_or(usize::MAX),
        )
    }

    /// Polls the screen until `done` holds; panics with the screen after
    /// `TIMEOUT`.
    fn wait_for(&self, what: &str, done: impl Fn(&[String]) -> bool) -> Vec<String> {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: not on screen within {TIMEOUT:?}:\n{}",
                screen.join("\n")
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until some line of the screen contains `needle`.
    fn wait_for_text(&self, needle: &str) -> Vec<String> {
        self.wait_for(needle, |screen| screen.iter().any(|l| l.contains(needle)))
    }

    /// Waits until the last line of the screen is exactly `row`, and the
    /// cursor is at `column` of it.
    fn wait_for_row(&self, row: &str, column: usize) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let screen = self.screen();
            let last = screen.last().cloned().unwrap_or_default();
            let cursor = self.cursor();
            if last == row && cursor == (column, screen.len() - 1) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "row {row:?} with the cursor at {column}: got {last:?}, cursor {cursor:?}:\n{}",
                screen.join("\n")
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// The shell command for the pane: the client, its exit code, and whether
/// the terminal's settings afterwards are those from before.
fn client_command(server: &Server, lang: &str, extra: &str) -> String {
    format!(
        "stty -g > before; {CLIENT} --host 127.0.0.1 --port {} --lang {lang} {extra}; \
         echo \"exit=$?\"; stty -g > after; cmp -s before after && echo restored; sleep 600",
        server.addr.port()
    )
}

/// Display width of `text`, as the terminal shows it.
fn width(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(text)
}

#[test]
fn half_typed_input_stays_intact_while_others_talk() {
    for (lang, typed) in [("en", "hello wor"), ("zh-CN", "你好世")] {
        let server = Server::start(lang);
        let tmux = Tmux::start(&client_command(&server, lang, "--name alice"));
        tmux.wait_for_row("alice>", 7);
        tmux.type_text(typed);
        let row = format!("alice> {typed}");
        tmux.wait_for_row(&row, width(&row));

        let mut bob = server.join("bob");
        for n in 1..=3 {
            bob.send(&format!("line {n} from bob"));
        }
        let screen = tmux.wait_for_text("bob: line 3 from bob");
        let joined = format!(
            "* {}",
            tr(
                lang,
                "joined",
                &[("name", "bob".into()), ("count", 2.into())]
            )
        );
        let n = screen.len();
        assert_eq!(
            &screen[n - 5..],
            &[
                joined,
                "bob: line 1 from bob".to_string(),
                "bob: line 2 from bob".to_string(),
                "bob: line 3 from bob".to_string(),
                row.clone(),
            ],
            "{lang}"
        );
        tmux.wait_for_row(&row, width(&row));

        // Edit in the middle of the line, then send it.
        tmux.press(&["Left", "Left"]);
        tmux.type_text("X");
        let chars: Vec<char> = typed.chars().collect();
        let split = chars.len() - 2;
        let edited: String = chars[..split]
            .iter()
            .chain(&['X'])
            .chain(&chars[split..])
            .collect();
        let before: String = chars[..split].iter().chain(&['X']).collect();
        tmux.wait_for_row(
            &format!("alice> {edited}"),
            width(&format!("alice> {before}")),
        );
        tmux.press(&["Enter"]);
        assert_eq!(bob.expect("alice: "), format!("alice: {edited}"), "{lang}");
        // Shown in our own scrollback as the others see it.
        tmux.wait_for_text(&format!("alice: {edited}"));
        tmux.wait_for_row("alice>", 7);

        // Enter on an empty line leaves, and the terminal is as it was.
        tmux.press(&["Enter"]);
        tmux.wait_for_text(&tr(lang, "client-goodbye", &[]));
        let screen = tmux.wait_for_text("restored");
        assert!(screen.iter().any(|l| l == "exit=0"), "{lang}: {screen:#?}");
    }
}

#[test]
fn paste_completion_history_and_resize() {
    let server = Server::start("en");
    // Here before alice: known from the `/list` the client asks for on
    // joining, whose answer it does not show.
    let _carol = server.join("carol");
    let tmux = Tmux::start(&client_command(&server, "en", "--name alice"));
    tmux.wait_for_row("alice>", 7);
    let mut bob = server.join("bob");
    tmux.wait_for_text(&Text::en().joined_count("bob", 3));

    // Tab completes a member's name and a command.
    tmux.type_text("hi b");
    tmux.press(&["Tab"]);
    tmux.wait_for_row("alice> hi bob", 14);
    tmux.press(&["C-u"]);
    tmux.type_text("@c");
    tmux.press(&["Tab"]);
    tmux.wait_for_row("alice> @carol", 14);
    let members = tr(
        "en",
        "members",
        &[("count", 2.into()), ("names", "".into())],
    );
    let screen = tmux.screen();
    assert!(
        !screen.iter().any(|l| l.contains(members.trim_end())),
        "the /list answer is not shown: {screen:#?}"
    );
    tmux.press(&["C-u"]);
    tmux.type_text("/li");
    tmux.press(&["Tab"]);
    tmux.wait_for_row("alice> /list", 13);
    tmux.press(&["C-u"]);

    // Five pasted lines are sent in order; the blank one is skipped and
    // does not leave; the text after the last break stays to edit.
    tmux.paste("one\ntwo\n\nthree\nfour\nfive\nand more");
    for line in ["one", "two", "three", "four", "five"] {
        assert_eq!(bob.line(), format!("alice: {line}"));
    }
    tmux.wait_for_row("alice> and more", 15);

    // Up recalls the last line sent; Down gives the draft back.
    tmux.press(&["Up"]);
    tmux.wait_for_row("alice> five", 11);
    tmux.press(&["Down"]);
    tmux.wait_for_row("alice> and more", 15);

    // A long line scrolls sideways in one row, and a resize redraws it.
    let long: String = (0..100)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    tmux.press(&["C-u"]);
    tmux.type_text(&long);
    let tail = &long[long.len() - (WIDTH - 8)..];
    tmux.wait_for_row(&format!("alice> {tail}"), WIDTH - 1);
    tmux.resize(40);
    let tail = &long[long.len() - (40 - 8)..];
    tmux.wait_for_row(&format!("alice> {tail}"), 39);
    tmux.press(&["Enter"]);
    assert_eq!(bob.line(), format!("alice: {long}"));

    // Ctrl-C clears a line, then leaves on the empty one.
    tmux.type_text("never sent");
    tmux.press(&["C-c"]);
    tmux.wait_for_row("alice>", 7);
    tmux.press(&["C-c"]);
    tmux.wait_for_text("restored");
    // "never sent" was not: the next line bob gets is alice leaving.
    let left = common::Text::en().left("left-quit", "alice");
    assert_eq!(bob.line(), left);
    bob.expect_nothing_pending();
}

#[test]
fn the_terminal_is_restored_when_the_server_closes() {
    let mut server = Server::start("zh-CN");
    let tmux = Tmux::start(&client_command(&server, "zh-CN", "--name 小明"));
    tmux.wait_for_row("小明>", 6);
    tmux.type_text("没写完");
    server.console("");
    tmux.wait_for_text(&tr("zh-CN", "client-server-closed", &[]));
    let screen = tmux.wait_for_text("restored");
    assert!(screen.iter().any(|l| l == "exit=0"), "{screen:#?}");
}

impl Tmux {
    /// The pid of the program the pane's shell is running.
    fn child_pid(&self) -> i32 {
        let out = self.run(&["display-message", "-p", "-t", "main", "#{pane_pid}"]);
        let shell = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
            .expect("the pane's shell's children");
        children
            .split_whitespace()
            .next()
            .and_then(|pid| pid.parse().ok())
            .expect("the client runs under the pane's shell")
    }
}

#[test]
fn sigterm_and_sighup_leave_and_restore_the_terminal() {
    use rustix::process::{kill_process, Pid, Signal};
    for signal in [Signal::TERM, Signal::HUP] {
        let server = Server::start("en");
        let tmux = Tmux::start(&client_command(&server, "en", "--name alice"));
        tmux.wait_for_row("alice>", 7);
        tmux.type_text("half");
        tmux.wait_for_row("alice> half", 11);
        let pid = Pid::from_raw(tmux.child_pid()).expect("pid");
        kill_process(pid, signal).expect("kill");
        tmux.wait_for_text(&tr("en", "client-goodbye", &[]));
        let screen = tmux.wait_for_text("restored");
        assert!(
            screen.iter().any(|l| l == "exit=0"),
            "{signal:?}: {screen:#?}"
        );
    }
}

#[test]
fn the_console_keeps_the_administrators_line_under_the_log() {
    for (lang, typed) in [("en", "attention ple"), ("zh-CN", "请大家注")] {
        let tmux = Tmux::start(&format!(
            "stty -g > before; {SERVER} --host 127.0.0.1 --port 0 --lang {lang}; \
             echo \"exit=$?\"; stty -g > after; cmp -s before after && echo restored; sleep 600"
        ));
        let listening = Text::new(lang).pattern("server-listening", &[], &["addr"]);
        let address_in = |line: &str| {
            let found = listening.captures(line)?;
            found[0].parse::<std::net::SocketAddr>().ok()
        };
        let screen = tmux.wait_for("server-listening", |screen| {
            screen.iter().any(|line| address_in(line).is_some())
        });
        let addr = screen
            .iter()
            .find_map(|line| address_in(line))
            .expect("the address on screen");
        let prompt = format!("{}>", tr(lang, "console-prompt", &[]));
        tmux.wait_for_row(&prompt, width(&prompt) + 1);
        tmux.type_text(typed);
        let row = format!("{prompt} {typed}");
        tmux.wait_for_row(&row, width(&row));

        let mut alice = Peer::connect(addr);
        alice.send("alice");
        alice.expect("alice");
        alice.send("msg while admin types");
        tmux.wait_for_text("alice: msg while admin types");
        tmux.wait_for_row(&row, width(&row));

        tmux.press(&["Enter"]);
        let admin = tr(lang, "admin-line", &[("text", typed.into())]);
        assert_eq!(alice.line(), admin, "{lang}");
        tmux.wait_for_row(&prompt, width(&prompt) + 1);
        // Up recalls the line sent.
        tmux.press(&["Up"]);
        tmux.wait_for_row(&row, width(&row));
        // An empty line closes the room, and the terminal is given back.
        tmux.press(&["C-u", "Enter"]);
        let closed = tr(lang, "room-closed", &[]);
        assert_eq!(alice.read_to_eof(), [format!("* {closed}")], "{lang}");
        let screen = tmux.wait_for_text("restored");
        assert!(screen.iter().any(|l| l == "exit=0"), "{lang}: {screen:#?}");
    }
}

#[test]
fn typing_while_a_busy_room_scrolls_loses_nothing() {
    let server = Server::start_unthrottled("zh-CN");
    let tmux = Tmux::start(&client_command(&server, "zh-CN", "--name alice"));
    tmux.wait_for_row("alice>", 7);
    let mut bob = server.join("bob");
    let typed = "慢慢打字 typing 中文";
    let mut n = 0;
    for c in typed.chars() {
        for _ in 0..20 {
            n += 1;
            bob.send(&format!("busy line {n}"));
        }
        tmux.type_text(&c.to_string());
    }
    tmux.wait_for_text(&format!("bob: busy line {n}"));
    let row = format!("alice> {typed}");
    tmux.wait_for_row(&row, width(&row));
    tmux.press(&["Enter"]);
    assert_eq!(bob.expect("alice: "), format!("alice: {typed}"));
}

impl Tmux {
    /// The screen with its attributes, as escape sequences.
    fn screen_styled(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-e", "-t", "main"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// The SGR attributes in force where `needle` starts on the styled screen
/// (tmux writes only changes, so earlier lines count).
fn attributes_at(styled: &str, needle: &str) -> Vec<u32> {
    let end = styled.find(needle).expect("the text on screen");
    let mut active = Vec::new();
    for rest in styled[..end].split("\x1b[").skip(1) {
        let Some((params, _)) = rest.split_once('m') else {
            continue;
        };
        for p in params.split(';').map(|p| p.parse().unwrap_or(0)) {
            match p {
                0 => active.clear(),
                22 => active.retain(|&a| a != 1 && a != 2),
                39 => active.retain(|&a: &u32| !((30..=38).contains(&a) || (90..=97).contains(&a))),
                p => active.push(p),
            }
        }
    }
    active
}

fn has_colour(attributes: &[u32]) -> bool {
    attributes
        .iter()
        .any(|&p| (30..=38).contains(&p) || (90..=97).contains(&p))
}

#[test]
fn names_in_colour_mentions_bold_and_no_color_keeps_bold() {
    for (env, coloured) in [("", true), ("export NO_COLOR=1;", false)] {
        let server = Server::start("en");
        let tmux = Tmux::start(&format!(
            "{env} {}",
            client_command(&server, "en", "--name alice")
        ));
        tmux.wait_for_row("alice>", 7);
        let mut bob = server.join("bob");
        bob.send("hello ALICE, look");
        tmux.wait_for_text("bob: hello ALICE, look");
        let styled = tmux.screen_styled();
        let mention = attributes_at(&styled, "hello ALICE");
        assert!(
            mention.contains(&1),
            "{env}: a mention is bold: {mention:?}"
        );
        assert_eq!(has_colour(&mention), coloured, "{env}: {mention:?}");
        let notice = attributes_at(&styled, &Text::en().joined_count("bob", 2));
        assert!(notice.contains(&2), "{env}: a notice is dim: {notice:?}");
        assert!(!has_colour(&notice), "{env}: {notice:?}");
        drop(bob);
    }
}

/// A hostile server cannot drive the terminal (what it sends is cleaned),
/// and when it vanishes (a reset) the client says so and gives the
/// terminal back.
#[test]
fn a_hostile_server_cannot_drive_the_terminal_and_vanishing_restores_it() {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let tmux = Tmux::start(&format!(
        "stty -g > before; {CLIENT} --host 127.0.0.1 --port {port} --lang zh-CN; \
         echo \"exit=$?\"; stty -g > after; cmp -s before after && echo restored; sleep 600"
    ));
    // Bounded: the client connects within TIMEOUT or the test fails.
    listener.set_nonblocking(true).expect("nonblocking");
    let deadline = Instant::now() + TIMEOUT;
    let mut stream = loop {
        match listener.accept() {
            Ok((stream, _)) => break stream,
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(Instant::now() < deadline, "the client did not connect");
                thread::sleep(Duration::from_millis(10));
            }
            Err(err) => panic!("accept: {err}"),
        }
    };
    stream.set_nonblocking(false).expect("blocking");
    stream
        .write_all(b"mallory: clear\x1b[2J\x1b[Hscreen\x1b]0;pwned\x07 \x1b[31mred\r\n")
        .expect("send");
    tmux.wait_for_text("mallory: clearscreen red");
    let title = tmux.run(&["display-message", "-p", "-t", "main", "#{pane_title}"]);
    assert!(!String::from_utf8_lossy(&title.stdout).contains("pwned"));
    let styled = tmux.screen_styled();
    assert!(
        !attributes_at(&styled, "red").contains(&31),
        "no red from the server"
    );
    rustix::net::sockopt::set_socket_linger(&stream, Some(Duration::ZERO)).expect("linger");
    drop(stream);
    let reason = tr("zh-CN", "reason-reset", &[]);
    tmux.wait_for_text(&tr(
        "zh-CN",
        "client-connection-lost",
        &[("reason", reason.into())],
    ));
    let screen = tmux.wait_for_text("restored");
    assert!(screen.iter().any(|l| l == "exit=1"), "{screen:#?}");
}
