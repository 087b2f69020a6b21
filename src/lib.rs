//! chatroom: a terminal chat room, one single-threaded server and a client.
//!
//! Layout, from the bytes on the wire to the people reading them:
//! - `protocol`: `LineCodec` (framing, CRLF, max line, UTF-8) and `sanitize`.
//! - `command`: one member's line parsed into a `Command`.
//! - `room`: the sans-IO core, who receives what: names (lookalike-proof),
//!   members, commands, flood control in; `RoomEvent`s out (the delivery
//!   contract is at the top of `room/mod.rs`); every change meant for
//!   everyone is one `room::Shared`, carried out at once or, bridged,
//!   when the broker hands it back.
//! - `render`: a `Notice` rendered once into localized lines.
//! - `i18n`: the `Localizer` over the embedded Fluent files, with fallback.
//! - `settings` and `cli`: settings.toml, the environment and flags merged
//!   into `Settings`, every key from one table.
//! - `signals`: SIGINT/SIGTERM/SIGHUP/SIGWINCH through a self-pipe the
//!   poller can watch.
//! - `server`: the reactor (one `Poller`, I/O only: accept, read, close),
//!   the fan-out (how lines reach the sockets: a backlog per language,
//!   member cursors and skip rules, paced `sendmsg`, backpressure), the
//!   console, the non-blocking log, and the bridge (with `[bridge]`: one
//!   room across several servers through a Redis stream, two more sockets
//!   in the same poller).
//! - `timers`: the deadline table of the room and the reactor.
//! - `client`: the client's loop over stdin, the socket, stdout and signals;
//!   its sans-IO line editor (also the console's), what incoming lines are
//!   and how they look, the raw-mode guard, the non-blocking stdout.
//! - `bench`: the load generator (`chatroom-bench`): simulated members,
//!   one `Poller`, every delivery checked, figures reported.
//!
//! The binaries in `src/bin` are thin: flags, settings, run, exit code.
//! What the server sends and accepts on the wire, for someone writing a
//! client or a bot, is in `docs/protocol.md`.

pub mod bench;
pub mod cli;
pub mod client;
pub mod command;
pub mod i18n;
pub mod protocol;
pub mod render;
pub mod room;
pub mod server;
pub mod settings;
pub mod signals;
pub mod timers;
