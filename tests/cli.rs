//! Flags, settings files and exit codes of both programs (PROTOCOL.md
//! section 1): `--help`/`--version`, usage errors (exit 2), bad settings
//! (exit 2, naming the file and key), the lookup order `--config` >
//! `./settings.toml` > built in, flags over the file, and exit 1 when the
//! server cannot listen.

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use chatroom::i18n::{parse_lang, Args, Localizer};
use common::{run_with_input, settings_file, temp_dir, wait_child, Server, CLIENT, SERVER};

const PROGRAMS: [(&str, &str); 2] = [("chatroom-server", SERVER), ("chatroom-client", CLIENT)];

fn tr(lang: &str, id: &str, args: &Args<'_>) -> String {
    Localizer::new(&parse_lang(lang).expect("shipped language")).tr(id, args)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

fn has_cjk(text: &str) -> bool {
    text.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c))
}

/// Runs a program that must exit by itself (bounded), with empty stdin.
fn run(program: &str, args: &[&str]) -> Output {
    run_with_input(program, args, b"", None)
}

fn run_in(program: &str, args: &[&str], dir: &Path) -> Output {
    run_with_input(program, args, b"", Some(dir))
}

/// Words of `text`, split on anything but letters, digits and `-`.
fn words(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .filter(|w| !w.is_empty())
        .collect()
}

/// Exit 2 and one clean line on stderr starting with the program's name;
/// nothing on stdout (the program never started its work). Returns stderr.
fn settings_error(name: &str, output: &Output) -> String {
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
    assert_eq!(text(&output.stdout), "", "{name}");
    assert_eq!(stderr.lines().count(), 1, "{name}: {stderr:?}");
    assert!(stderr.starts_with(&format!("{name}: ")), "{stderr:?}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Error {"),
        "{stderr:?}"
    );
    assert!(
        !stderr.contains('\u{2068}') && !stderr.contains('\u{2069}'),
        "{stderr:?}"
    );
    stderr
}

#[test]
fn help_lists_the_flags() {
    for (name, program) in PROGRAMS {
        let output = Command::new(program)
            .arg("--help")
            .output()
            .expect("run --help");
        assert_eq!(output.status.code(), Some(0), "{name}");
        let help = text(&output.stdout);
        for flag in [
            "--host",
            "--port",
            "--lang",
            "--config",
            "--help",
            "--version",
        ] {
            assert!(help.contains(flag), "{name} --help lacks {flag}: {help}");
        }
        assert_eq!(
            help.contains("--name"),
            name == "chatroom-client",
            "{name}: {help}"
        );
        assert!(
            help.contains("zh-CN"),
            "{name} --help names the languages: {help}"
        );
    }
}

#[test]
fn version_names_the_program_and_version() {
    for (name, program) in PROGRAMS {
        let output = Command::new(program)
            .arg("--version")
            .output()
            .expect("run --version");
        assert_eq!(output.status.code(), Some(0), "{name}");
        let version = text(&output.stdout);
        assert_eq!(
            version.trim(),
            format!("{name} {}", env!("CARGO_PKG_VERSION"))
        );
    }
}

#[test]
fn unknown_lang_flag_is_a_usage_error_listing_the_languages() {
    for (name, program) in PROGRAMS {
        let output = run(program, &["--lang", "fr"]);
        assert_eq!(output.status.code(), Some(2), "{name}");
        assert_eq!(text(&output.stdout), "");
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains("--lang") && stderr.contains("fr"),
            "{stderr}"
        );
        let words = words(&stderr);
        assert!(
            words.contains(&"en") && words.contains(&"zh-CN"),
            "{name}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn lang_flag_accepts_the_shipped_languages_loosely() {
    // `zh` and `zh_CN` mean zh-CN: the server's listening line says so.
    for lang in ["zh", "zh_CN", "zh-cn"] {
        let server = Server::start_with(&["--lang", lang], Stdio::piped());
        let expected = tr(
            "zh-CN",
            "server-listening",
            &[("addr", server.addr.to_string().into())],
        );
        assert!(
            server.log.seen().contains(&expected),
            "{lang}: {:#?}",
            server.log.seen()
        );
    }
}

#[test]
fn bad_port_and_unknown_flags_are_usage_errors() {
    for (name, program) in PROGRAMS {
        for args in [
            &["--port", "notaport"][..],
            &["--port", "70000"],
            &["--bogus"],
            &["extra"],
        ] {
            let output = run(program, args);
            let stderr = text(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{name} {args:?}: {stderr}");
            assert_eq!(text(&output.stdout), "", "{name} {args:?}");
            assert!(
                stderr.contains(args[args.len() - 1]),
                "{name} {args:?}: {stderr}"
            );
            assert!(!stderr.contains("panicked"), "{stderr}");
        }
    }
}

#[test]
fn missing_config_file_is_an_error_naming_it() {
    for (name, program) in PROGRAMS {
        let output = run(program, &["--config", "/nonexistent/x.toml"]);
        let stderr = settings_error(name, &output);
        assert!(stderr.contains("/nonexistent/x.toml"), "{stderr}");
    }
}

#[test]
fn unknown_key_names_the_file_and_the_key() {
    let path = settings_file("prot = 1\n");
    let path = path.to_str().expect("UTF-8 path");
    for (name, program) in PROGRAMS {
        let stderr = settings_error(name, &run(program, &["--config", path]));
        assert!(stderr.contains(path) && stderr.contains("prot"), "{stderr}");
    }
    let path = settings_file("[client]\nhots = \"x\"\n");
    let path = path.to_str().expect("UTF-8 path");
    for (name, program) in PROGRAMS {
        let stderr = settings_error(name, &run(program, &["--config", path]));
        assert!(stderr.contains(path) && stderr.contains("hots"), "{stderr}");
    }
}

#[test]
fn bad_value_names_the_file_the_key_and_what_is_allowed() {
    let path = settings_file("[server]\nmax_clients = 0\n");
    let path = path.to_str().expect("UTF-8 path");
    // Both programs read the whole file, so both refuse it.
    for (name, program) in PROGRAMS {
        let stderr = settings_error(name, &run(program, &["--config", path]));
        assert!(
            stderr.contains(path) && stderr.contains("server.max_clients"),
            "{stderr}"
        );
        assert!(
            stderr.contains(&tr("en", "allowed-positive", &[])),
            "{stderr}"
        );
    }
}

#[test]
fn wrongly_typed_value_names_the_key() {
    // PROTOCOL.md section 1: a bad value is an error naming the file, the
    // key, and what is allowed.
    let path = settings_file("[server]\nport = \"x\"\n");
    let path = path.to_str().expect("UTF-8 path");
    let stderr = settings_error("chatroom-server", &run(SERVER, &["--config", path]));
    assert!(stderr.contains(path), "{stderr}");
    assert!(
        stderr.contains("server.port"),
        "the key is not named: {stderr}"
    );
}

#[test]
fn unknown_lang_in_the_file_names_lang_and_the_languages() {
    let path = settings_file("lang = \"fr\"\n");
    let path = path.to_str().expect("UTF-8 path");
    for (name, program) in PROGRAMS {
        let stderr = settings_error(name, &run(program, &["--config", path]));
        assert!(stderr.contains(path), "{stderr}");
        let words = words(&stderr);
        for word in ["lang", "fr", "en", "zh-CN"] {
            assert!(words.contains(&word), "{name}: no {word:?} in {stderr}");
        }
    }
}

#[test]
fn settings_error_speaks_the_file_language_unless_the_flag_says_otherwise() {
    let path = settings_file("lang = \"zh-CN\"\n[server]\nmax_clients = 0\n");
    let path = path.to_str().expect("UTF-8 path");
    for (name, program) in PROGRAMS {
        let stderr = settings_error(name, &run(program, &["--config", path]));
        assert!(has_cjk(&stderr), "{name}: not in Chinese: {stderr}");
        assert!(
            stderr.contains(path) && stderr.contains("server.max_clients"),
            "{stderr}"
        );
        assert!(
            stderr.contains(&tr("zh-CN", "allowed-positive", &[])),
            "{stderr}"
        );

        let stderr = settings_error(name, &run(program, &["--config", path, "--lang", "en"]));
        assert!(!has_cjk(&stderr), "{name}: --lang en: {stderr}");
        assert!(
            stderr.contains(&tr("en", "allowed-positive", &[])),
            "{stderr}"
        );
    }
}

/// A directory holding `settings.toml` with `text`.
fn dir_with_settings(text: &str) -> std::path::PathBuf {
    let dir = temp_dir();
    std::fs::write(dir.join("settings.toml"), text).expect("write settings");
    dir
}

fn listening_line(lang: &str, server: &Server) -> String {
    tr(
        lang,
        "server-listening",
        &[("addr", server.addr.to_string().into())],
    )
}

#[test]
fn local_settings_file_is_read_from_the_current_directory() {
    let dir = dir_with_settings("lang = \"zh-CN\"\n");
    let server = Server::start_in(&[], Stdio::piped(), Some(&dir));
    let expected = listening_line("zh-CN", &server);
    assert!(expected.contains("chatroom 服务器正在监听"), "{expected}");
    assert!(
        server.log.seen().contains(&expected),
        "{:#?}",
        server.log.seen()
    );
}

#[test]
fn without_a_settings_file_the_built_in_defaults_apply() {
    let dir = temp_dir();
    let server = Server::start_in(&[], Stdio::piped(), Some(&dir));
    let expected = listening_line("en", &server);
    assert!(
        server.log.seen().contains(&expected),
        "{:#?}",
        server.log.seen()
    );
}

#[test]
fn lang_flag_overrides_the_file() {
    let dir = dir_with_settings("lang = \"zh-CN\"\n");
    let server = Server::start_in(&["--lang", "en"], Stdio::piped(), Some(&dir));
    let expected = listening_line("en", &server);
    assert!(
        server.log.seen().contains(&expected),
        "{:#?}",
        server.log.seen()
    );
}

#[test]
fn config_flag_wins_over_the_local_file() {
    let dir = dir_with_settings("lang = \"zh-CN\"\n");
    let config = settings_file("lang = \"en\"\n");
    let config = config.to_str().expect("UTF-8 path");
    let server = Server::start_in(&["--config", config], Stdio::piped(), Some(&dir));
    let expected = listening_line("en", &server);
    assert!(
        server.log.seen().contains(&expected),
        "{:#?}",
        server.log.seen()
    );

    // A broken ./settings.toml is not even read when --config is given.
    let dir = dir_with_settings("prot = 1\n");
    let server = Server::start_in(&["--config", config], Stdio::piped(), Some(&dir));
    assert!(server.log.seen().contains(&listening_line("en", &server)));
}

#[test]
fn broken_local_file_is_an_error_naming_it() {
    let dir = dir_with_settings("prot = 1\n");
    for (name, program) in PROGRAMS {
        let stderr = settings_error(name, &run_in(program, &[], &dir));
        assert!(
            stderr.contains("settings.toml") && stderr.contains("prot"),
            "{stderr}"
        );
    }
}

#[test]
fn client_reads_host_port_and_lang_from_the_local_file_and_flags_override_them() {
    let server = Server::start("en");
    let port = server.addr.port();
    let connected = |lang: &str| {
        tr(
            lang,
            "client-connected",
            &[
                ("host", "127.0.0.1".into()),
                ("port", port.to_string().into()),
            ],
        )
    };

    let dir = dir_with_settings(&format!(
        "lang = \"zh-CN\"\n[client]\nhost = \"127.0.0.1\"\nport = {port}\n"
    ));
    let output = run_in(CLIENT, &[], &dir);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout).lines().next(),
        Some(connected("zh-CN").as_str())
    );

    let output = run_in(CLIENT, &["--lang", "en"], &dir);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout).lines().next(),
        Some(connected("en").as_str())
    );

    // The file points at a closed port; --port points at the server.
    let closed = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let dir = dir_with_settings(&format!(
        "[client]\nhost = \"127.0.0.1\"\nport = {closed}\n"
    ));
    let output = run_in(CLIENT, &[], &dir);
    assert_eq!(output.status.code(), Some(1), "the file's port is used");
    assert!(text(&output.stderr).contains(&format!("127.0.0.1:{closed}")));
    let output = run_in(CLIENT, &["--port", &port.to_string()], &dir);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout).lines().next(),
        Some(connected("en").as_str())
    );
}

#[test]
fn server_exits_1_when_the_port_is_taken() {
    for lang in ["en", "zh-CN"] {
        let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = taken.local_addr().expect("addr").port().to_string();
        let mut child = Command::new(SERVER)
            .args(["--host", "127.0.0.1", "--port", &port, "--lang", lang])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn chatroom-server");
        let status = wait_child(&mut child);
        let output = child.wait_with_output().expect("output");
        assert_eq!(status.code(), Some(1), "{lang}");
        assert_eq!(text(&output.stdout), "", "{lang}: it never listened");
        let stderr = text(&output.stderr);
        let reason = tr(lang, "reason-in-use", &[]);
        let addr = format!("127.0.0.1:{port}");
        let expected = tr(
            lang,
            "error-bind",
            &[("addr", addr.as_str().into()), ("reason", reason.into())],
        );
        assert_eq!(stderr, format!("chatroom-server: {expected}\n"), "{lang}");
        assert_eq!(has_cjk(&stderr), lang == "zh-CN", "{stderr}");
        drop(taken);
    }
}

#[test]
fn settings_come_only_from_a_small_regular_file() {
    // `/dev/zero` used to be read until memory ran out; a directory or a
    // device is refused at once, and so is a file over the size limit.
    let dir = temp_dir();
    let big = dir.join("big.toml");
    let mut text = "# padding\n".repeat(110_000);
    text.push_str("lang = \"en\"\n");
    std::fs::write(&big, &text).expect("write big settings");
    let dir = dir.to_str().expect("UTF-8 path").to_string();
    let big = big.to_str().expect("UTF-8 path").to_string();
    let max = chatroom::settings::MAX_FILE_BYTES;
    for lang in ["en", "zh-CN"] {
        for (name, program) in PROGRAMS {
            for path in ["/dev/zero", dir.as_str()] {
                let output = run(program, &["--config", path, "--lang", lang]);
                let stderr = settings_error(name, &output);
                let expected = tr(
                    lang,
                    "error-settings-not-file",
                    &[("path", path.into()), ("max", max.into())],
                );
                assert_eq!(stderr, format!("{name}: {expected}\n"));
            }
            let output = run(program, &["--config", &big, "--lang", lang]);
            let stderr = settings_error(name, &output);
            let expected = tr(
                lang,
                "error-settings-too-big",
                &[("path", big.as_str().into()), ("max", max.into())],
            );
            assert_eq!(stderr, format!("{name}: {expected}\n"));
        }
    }
}

/// Runs a program that must exit by itself (bounded), with empty stdin,
/// in `dir`, with `env` added to its environment.
fn run_env(program: &str, args: &[&str], env: &[(&str, &str)], dir: &Path) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let status = wait_child(&mut child);
    let output = child.wait_with_output().expect("output");
    Output { status, ..output }
}

#[test]
fn environment_ranks_between_the_flags_and_the_file() {
    // The file's port is taken and its language English: the server
    // listens only if CHATROOM_PORT wins over the file.
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken_port = taken.local_addr().expect("addr").port();
    let dir = dir_with_settings(&format!(
        "lang = \"en\"\n[server]\nhost = \"0.0.0.0\"\nport = {taken_port}\n\
         [client]\nhost = \"127.0.0.1\"\nport = {taken_port}\n"
    ));
    let env = [
        ("CHATROOM_HOST", "127.0.0.1"),
        ("CHATROOM_PORT", "0"),
        ("CHATROOM_LANG", "zh-CN"),
    ];
    let mut command = Command::new(SERVER);
    command
        .envs(env)
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let server = Server::spawn(command);
    assert!(server.addr.ip().is_loopback(), "{}", server.addr);
    assert!(server
        .log
        .seen()
        .contains(&listening_line("zh-CN", &server)));

    // A flag wins over its variable.
    let mut command = Command::new(SERVER);
    command
        .args(["--lang", "en", "--port", "0"])
        .envs(env)
        .env("CHATROOM_PORT", taken_port.to_string())
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let english = Server::spawn(command);
    assert!(english.log.seen().contains(&listening_line("en", &english)));

    // The client: the variables point it at the server, in Chinese.
    let port = server.addr.port().to_string();
    let client_env = [("CHATROOM_PORT", port.as_str()), ("CHATROOM_LANG", "zh-CN")];
    let output = run_env(CLIENT, &[], &client_env, &dir);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let connected = tr(
        "zh-CN",
        "client-connected",
        &[("host", "127.0.0.1".into()), ("port", port.as_str().into())],
    );
    assert_eq!(
        text(&output.stdout).lines().next(),
        Some(connected.as_str())
    );
    drop(taken);
}

#[test]
fn a_bad_environment_variable_is_a_usage_error() {
    let dir = temp_dir();
    for (name, program) in PROGRAMS {
        for (var, value) in [("CHATROOM_LANG", "fr"), ("CHATROOM_PORT", "notaport")] {
            let output = run_env(program, &[], &[(var, value)], &dir);
            let stderr = text(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{name} {var}: {stderr}");
            assert_eq!(text(&output.stdout), "", "{name} {var}");
            assert!(stderr.contains(value), "{name} {var}: {stderr}");
            assert!(!stderr.contains("panicked"), "{stderr}");
        }
    }
}

#[test]
fn settings_errors_give_the_line_and_column_in_both_languages() {
    let path = settings_file("[server]\nport = 70000\n");
    let path = path.to_str().expect("UTF-8 path");
    let unknown = settings_file("[client]\nport = 1\n  hots = \"x\"\n");
    let unknown = unknown.to_str().expect("UTF-8 path");
    for lang in ["en", "zh-CN"] {
        for (name, program) in PROGRAMS {
            let output = run(program, &["--config", path, "--lang", lang]);
            let stderr = settings_error(name, &output);
            let expected = tr(
                lang,
                "error-settings-value-at",
                &[
                    ("path", path.into()),
                    ("line", 2.into()),
                    ("column", 8.into()),
                    ("key", "server.port".into()),
                    ("value", "70000".into()),
                    ("allowed", tr(lang, "allowed-port", &[]).into()),
                ],
            );
            assert_eq!(stderr, format!("{name}: {expected}\n"));

            let output = run(program, &["--config", unknown, "--lang", lang]);
            let stderr = settings_error(name, &output);
            let expected = tr(
                lang,
                "error-settings-unknown-key-at",
                &[
                    ("path", unknown.into()),
                    ("line", 3.into()),
                    ("column", 3.into()),
                    ("key", "client.hots".into()),
                    ("known", "host, port, bell".into()),
                ],
            );
            assert_eq!(stderr, format!("{name}: {expected}\n"));
        }
    }
}
