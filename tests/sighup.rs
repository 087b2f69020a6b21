//! SIGHUP (the terminal that started the server was closed) closes the room
//! as SIGTERM does: every member gets the closing line, then the server
//! exits 0 (issue 9 item 2).

mod common;

use chatroom::i18n::{parse_lang, Localizer};
use rustix::process::Signal;

use common::Server;

#[test]
fn sighup_closes_the_room_like_sigterm() {
    for lang in ["en", "zh-CN"] {
        let localizer = Localizer::new(&parse_lang(lang).expect("shipped language"));
        let closed = localizer.tr("room-closed", &[]);
        let mut server = Server::start(lang);
        let mut alice = server.join("alice");
        let mut bob = server.join("bob");
        alice.expect("bob");
        let mut choosing = server.connect();
        choosing.line();
        server.signal(Signal::HUP);
        for peer in [&mut alice, &mut bob, &mut choosing] {
            let rest = peer.read_to_eof();
            assert_eq!(
                rest.last(),
                Some(&format!("* {closed}")),
                "{lang}: {rest:#?}"
            );
        }
        server.log.expect(&closed);
        assert_eq!(server.wait_exit().code(), Some(0), "{lang}");
    }
}
