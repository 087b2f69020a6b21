//! The bridge (PROTOCOL.md section 8): one room across several servers
//! through a Redis stream, in the reactor's loop. Two connections to the
//! broker are two more sockets in the poller: the writer pipelines every
//! `XADD` of a loop turn (and the leases), the reader keeps one blocking
//! `XREAD` waiting (a blocked command would hold up the writer's replies).
//!
//! What it does with the room:
//! - The room publishes every change for everyone (`RoomEvent::Publish`);
//!   the bridge appends it to the stream and hands it back to the room
//!   (`Room::apply`) only when the reader sees it, so every server carries
//!   out the same changes in the stream's order.
//! - Members are named on the stream by their server and number
//!   (`entry::Global`); the bridge maps those of other servers to ids of
//!   this room.
//! - Joining the room: the server appends `hello` (atomically with reading
//!   the stream's tail for the history), every live server answers with
//!   its members (`present`), and what came after the hello is carried out
//!   once all have answered (or `lease_secs` passed).
//! - Leases: each server keeps a key with a time to live (`lease_secs`)
//!   and renews it three times per lease; a server that finds another's key
//!   gone appends `lost`, and every server lets that one's members go, once
//!   (the stream's order makes the first `lost` the one that counts).
//! - Faults: when the broker cannot be reached the room is told (`Link`),
//!   lines are refused, departures wait; the bridge reconnects with capped
//!   backoff, sends again what it had not seen acknowledged (entries carry
//!   a per-server sequence number, so one that had gone through is
//!   skipped) and reads on from the last id it read.

mod entry;
mod resp;

use std::collections::{HashMap, HashSet, VecDeque};
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use polling::{Event, Poller};
use redis_protocol::resp2::types::OwnedFrame;

use entry::{Body, Entry, Global, Present};
use resp::RespConn;

use super::clock::local_time_of;
use crate::room::bans::BanTarget;
use crate::room::{Author, Link, MemberId, Notice, Room, Shared, SharedOp};

/// Poller keys of the two connections (clients count up from 3; the log
/// is `usize::MAX - 1`).
pub const WRITER: usize = usize::MAX - 2;
pub const READER: usize = usize::MAX - 3;

/// The stream keeps about this many entries (`XADD MAXLEN ~`): a server
/// out of reach for longer than it takes the room to say this much misses
/// the rest.
const STREAM_LENGTH: &str = "1000000";
/// Entries one `XREAD` returns at most.
const READ_COUNT: &str = "1000";
/// How long one `XREAD` waits for an entry, in milliseconds; a reply of
/// nothing is then asked again. Short enough to notice a broker that went
/// silent.
const READ_BLOCK_MS: &str = "2000";
/// Entries read from the tail for the history of a server joining.
const HISTORY_SCAN: &str = "500";
/// The first wait before reconnecting, doubled on every failure up to
/// `MAX_BACKOFF`, so a server is back within seconds of the broker.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// While reading is paused, how often to look whether it may go on.
const PAUSE_RECHECK: Duration = Duration::from_millis(10);

/// A log line for the server's output, by Fluent id.
#[derive(Debug)]
pub struct BridgeLog {
    pub id: &'static str,
    pub args: Vec<(&'static str, String)>,
    /// An I/O error, for the `$reason` the server's language words.
    pub reason: Option<io::Error>,
}

/// What a reply on the writer answers.
#[derive(Debug)]
enum Reply {
    /// Nothing to do with it but notice an error.
    Ignore,
    /// The `XADD` of the outbox entry with this sequence number.
    Append(u64),
    /// `EXEC` of joining the room: the servers, the tail, the hello's id.
    Joining,
    /// `MGET` of the leases of these servers, while joining.
    Alive(Vec<u64>),
    /// `MGET` of the leases of these servers, once in the room.
    Renewal(Vec<u64>),
    /// The `PING` after what a (re)connection sends first: everything
    /// before it was taken, so the room may send again.
    Ready,
}

/// Joining the room: waiting for every live server's `present`.
#[derive(Debug)]
struct CatchUp {
    /// The live servers that have not answered; `None` until known.
    waiting_for: Option<HashSet<u64>>,
    answers: Vec<(u64, Vec<Present>)>,
    /// The bans the answers carried.
    bans: Vec<(BanTarget, Option<u64>, String)>,
    /// Servers whose hello came after this one's: they had no members at
    /// this one's hello, so they are not waited for (each waits only for
    /// servers that joined before it, so two starting at once do not wait
    /// for each other).
    later: HashSet<u64>,
    /// Entries after the hello, carried out once all have answered.
    held: Vec<Entry>,
    /// Past this, carry on without the answers that did not come.
    deadline: Instant,
}

pub struct Bridge {
    /// The broker as the settings name it, `HOST:PORT`, for the log.
    broker: String,
    room_name: String,
    lease: Duration,
    /// This server's id on the stream.
    me: u64,
    stream_key: String,
    servers_key: String,
    writer: Option<RespConn>,
    reader: Option<RespConn>,
    /// How each connection is armed in the poller (oneshot: `None` once an
    /// event came): whether for writing too.
    armed: [Option<bool>; 2],
    /// What each reply the writer awaits answers, in order.
    replies: VecDeque<Reply>,
    /// An `XREAD` is on its way.
    reading: bool,
    /// The fan-out is behind: read no more until it catches up.
    paused: bool,
    /// While paused: when to look again (the fan-out's hold can end with
    /// time alone, and nothing else would wake the loop).
    recheck_at: Option<Instant>,
    /// Both connections made (the first reply is not awaited).
    connected: bool,
    /// When to try again while out of reach.
    retry_at: Option<Instant>,
    backoff: Duration,
    /// Whether the outage was logged already.
    outage_logged: bool,
    /// The last stream id read; `None` before joining the room.
    last_id: Option<String>,
    /// Set while joining the room.
    catch_up: Option<CatchUp>,
    /// Joined the room (once; a reconnection resumes).
    joined: bool,
    next_seq: u64,
    /// Entries sent and not yet acknowledged, sent again on reconnecting.
    outbox: VecDeque<(u64, Vec<(&'static str, String)>)>,
    /// The last sequence number carried out, per server.
    applied: HashMap<u64, u64>,
    /// Members of other servers, both ways.
    members: HashMap<Global, MemberId>,
    globals: HashMap<MemberId, Global>,
    /// When the lease is next renewed and the others' checked.
    renew_at: Instant,
    /// Set by `close`: once the last entries are acknowledged, done.
    closing: bool,
    frames: Vec<OwnedFrame>,
    logs: Vec<BridgeLog>,
    /// What the room was last told.
    link: Link,
}

impl Bridge {
    /// A bridge to `broker` (`HOST:PORT`) for `room_name`; nothing is
    /// connected until the first `tick`.
    pub fn new(broker: String, room_name: String, lease: Duration, now: Instant) -> Bridge {
        Bridge {
            broker,
            stream_key: format!("chatroom:{{{room_name}}}:stream"),
            servers_key: format!("chatroom:{{{room_name}}}:servers"),
            room_name,
            lease,
            me: server_id(),
            writer: None,
            reader: None,
            armed: [None, None],
            replies: VecDeque::new(),
            reading: false,
            paused: false,
            recheck_at: None,
            connected: false,
            retry_at: Some(now),
            backoff: FIRST_BACKOFF,
            outage_logged: false,
            last_id: None,
            catch_up: None,
            joined: false,
            next_seq: 1,
            outbox: VecDeque::new(),
            applied: HashMap::new(),
            members: HashMap::new(),
            globals: HashMap::new(),
            renew_at: now,
            closing: false,
            frames: Vec::new(),
            logs: Vec::new(),
            link: Link::Up,
        }
    }

    fn alive_key(&self, server: u64) -> String {
        format!("chatroom:{{{}}}:alive:{server:016x}", self.room_name)
    }

    /// Log lines since the last call.
    pub fn take_logs(&mut self) -> Vec<BridgeLog> {
        std::mem::take(&mut self.logs)
    }

    fn log(&mut self, id: &'static str, args: Vec<(&'static str, String)>) {
        self.logs.push(BridgeLog {
            id,
            args,
            reason: None,
        });
    }

    /// When `tick` has work: a reconnection, a renewal, the end of waiting
    /// for answers.
    pub fn next_deadline(&self) -> Option<Instant> {
        let catch_up = self.catch_up.as_ref().map(|c| c.deadline);
        let renew = (self.connected && !self.closing).then_some(self.renew_at);
        [self.retry_at, catch_up, renew, self.recheck_at]
            .into_iter()
            .flatten()
            .min()
    }

    /// Whether `close` is done: every entry acknowledged, or the broker out
    /// of reach (nothing more can be done).
    pub fn settled(&self) -> bool {
        self.closing && (self.outbox.is_empty() && self.replies.is_empty() || !self.connected)
    }

    /// The server is closing: its members leave the room (one `gone`), its
    /// lease ends.
    pub fn close(&mut self) {
        if self.closing {
            return;
        }
        self.closing = true;
        self.append(Body::Gone);
        let alive = self.alive_key(self.me);
        let me = format!("{:016x}", self.me);
        if let Some(writer) = self.writer.as_mut().filter(|_| self.connected) {
            writer.command(&[b"DEL", alive.as_bytes()]);
            writer.command(&[b"SREM", self.servers_key.as_bytes(), me.as_bytes()]);
            self.replies.push_back(Reply::Ignore);
            self.replies.push_back(Reply::Ignore);
        }
    }

    /// A change the room made: to the stream. Room lines carry their
    /// author's name, for the history of servers joining later.
    pub fn publish(&mut self, room: &Room, shared: Shared) {
        let name = match (&shared.author, &shared.op) {
            (Author::Member(member), SharedOp::Say { .. } | SharedOp::Action { .. }) => {
                room.member_name(*member)
            }
            _ => None,
        };
        let author = match shared.author {
            Author::Member(member) => Some(member.0),
            Author::Console => None,
        };
        let globals = &self.globals;
        let me = self.me;
        let op = shared.op.map_members(|id| Some(global_of(globals, me, id)));
        if let Some(op) = op {
            self.append(Body::Change { author, name, op });
        }
    }

    /// Queues an entry; written at once when connected and in the room,
    /// else kept for then.
    fn append(&mut self, body: Body) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let fields = entry::encode(self.me, seq, &body);
        if self.connected && self.joined_writer() {
            self.send_append(seq, &fields);
        }
        self.outbox.push_back((seq, fields));
    }

    /// Whether the writer has sent its hello (entries go after it).
    fn joined_writer(&self) -> bool {
        self.joined || self.catch_up.is_some()
    }

    /// Whether `flush` has work: bytes to write, or a connection to arm
    /// again (oneshot: an event disarmed it).
    pub fn wants_flush(&self) -> bool {
        let conns = [self.writer.as_ref(), self.reader.as_ref()];
        conns
            .iter()
            .zip(self.armed)
            .any(|(conn, armed)| conn.is_some_and(|conn| armed != Some(conn.wants_write())))
    }

    fn send_append(&mut self, seq: u64, fields: &[(&'static str, String)]) {
        let Some(writer) = self.writer.as_mut() else {
            return;
        };
        let mut args: Vec<&[u8]> = vec![
            b"XADD",
            self.stream_key.as_bytes(),
            b"MAXLEN",
            b"~",
            STREAM_LENGTH.as_bytes(),
            b"*",
        ];
        for (name, value) in fields {
            args.push(name.as_bytes());
            args.push(value.as_bytes());
        }
        writer.command(&args);
        self.replies.push_back(Reply::Append(seq));
    }

    /// Readiness of one of the two connections.
    pub fn on_event(&mut self, poller: &Poller, key: usize, now: Instant, room: &mut Room) {
        if let Err(err) = self.handle_event(key, now, room) {
            self.fail(poller, &err, now, room);
        }
    }

    fn handle_event(&mut self, key: usize, now: Instant, room: &mut Room) -> io::Result<()> {
        self.armed[usize::from(key == READER)] = None;
        let conn = match key {
            WRITER => self.writer.as_mut(),
            _ => self.reader.as_mut(),
        };
        let Some(conn) = conn else {
            return Ok(());
        };
        if !conn.established()? {
            return Ok(());
        }
        if !self.connected
            && self
                .writer
                .as_mut()
                .map(RespConn::established)
                .transpose()?
                == Some(true)
            && self
                .reader
                .as_mut()
                .map(RespConn::established)
                .transpose()?
                == Some(true)
        {
            self.on_connected(now);
        }
        let mut frames = std::mem::take(&mut self.frames);
        let result = match key {
            WRITER => self.writer.as_mut().map(|c| c.read(&mut frames)),
            _ => self.reader.as_mut().map(|c| c.read(&mut frames)),
        };
        let mut outcome = result.unwrap_or(Ok(()));
        for frame in frames.drain(..) {
            let handled = if key == WRITER {
                self.on_writer_reply(frame, room)
            } else {
                self.on_reader_reply(frame, room)
            };
            if handled.is_err() {
                outcome = handled;
                break;
            }
        }
        frames.clear();
        self.frames = frames;
        outcome
    }

    /// Both connections made: join the room, or resume.
    fn on_connected(&mut self, now: Instant) {
        self.connected = true;
        // Joining, the room's answer follows; resuming, the broker's
        // taking writes again (`Reply::Ready`) is what counts.
        if !self.joined {
            self.log_connected();
        }
        self.renew(now);
        if self.joined {
            self.resend_outbox();
            self.read_next();
            self.send_ready();
            return;
        }
        // Never sent again, so outside the sequence (which entries sent
        // before it, waiting in the outbox, already use).
        let hello = entry::encode(self.me, 0, &Body::Hello);
        let Some(writer) = self.writer.as_mut() else {
            return;
        };
        writer.command(&[b"MULTI"]);
        writer.command(&[b"SMEMBERS", self.servers_key.as_bytes()]);
        writer.command(&[
            b"XREVRANGE",
            self.stream_key.as_bytes(),
            b"+",
            b"-",
            b"COUNT",
            HISTORY_SCAN.as_bytes(),
        ]);
        let mut args: Vec<&[u8]> = vec![b"XADD", self.stream_key.as_bytes(), b"*"];
        for (name, value) in &hello {
            args.push(name.as_bytes());
            args.push(value.as_bytes());
        }
        writer.command(&args);
        writer.command(&[b"EXEC"]);
        for _ in 0..4 {
            self.replies.push_back(Reply::Ignore);
        }
        self.replies.push_back(Reply::Joining);
        self.catch_up = Some(CatchUp {
            waiting_for: None,
            answers: Vec::new(),
            bans: Vec::new(),
            later: HashSet::new(),
            held: Vec::new(),
            deadline: now + self.lease + Duration::from_secs(1),
        });
        self.resend_outbox();
        self.send_ready();
    }

    fn log_connected(&mut self) {
        self.log(
            "log-broker-connected",
            vec![
                ("addr", self.broker.clone()),
                ("room", self.room_name.clone()),
            ],
        );
    }

    /// Asks for a sign that what was sent so far was taken: until then,
    /// after an outage, the room still refuses lines (a broker that
    /// accepts connections but refuses writes does not make members hear
    /// "back" and "down" in turn).
    fn send_ready(&mut self) {
        if let Some(writer) = self.writer.as_mut() {
            writer.command(&[b"PING"]);
            self.replies.push_back(Reply::Ready);
        }
    }

    fn resend_outbox(&mut self) {
        let outbox: Vec<(u64, Vec<(&'static str, String)>)> = self.outbox.iter().cloned().collect();
        for (seq, fields) in outbox {
            self.send_append(seq, &fields);
        }
    }

    /// Renews this server's lease and, once in the room, checks the
    /// others'.
    fn renew(&mut self, now: Instant) {
        self.renew_at = now + self.lease / 3;
        let alive = self.alive_key(self.me);
        let lease_ms = self.lease.as_millis().to_string();
        let me = format!("{:016x}", self.me);
        let others: Vec<u64> = if self.joined {
            let mut servers: Vec<u64> = self.members.keys().map(|g| g.server).collect();
            servers.sort_unstable();
            servers.dedup();
            servers
        } else {
            Vec::new()
        };
        let keys: Vec<String> = others.iter().map(|&s| self.alive_key(s)).collect();
        let Some(writer) = self.writer.as_mut() else {
            return;
        };
        writer.command(&[b"SET", alive.as_bytes(), b"1", b"PX", lease_ms.as_bytes()]);
        writer.command(&[b"SADD", self.servers_key.as_bytes(), me.as_bytes()]);
        self.replies.push_back(Reply::Ignore);
        self.replies.push_back(Reply::Ignore);
        if !keys.is_empty() {
            let mut args: Vec<&[u8]> = vec![b"MGET"];
            args.extend(keys.iter().map(|k| k.as_bytes()));
            writer.command(&args);
            self.replies.push_back(Reply::Renewal(others));
        }
    }

    /// While the fan-out holds the room back (a reader lagging), the
    /// stream is not read either: what the broker keeps costs this server
    /// nothing.
    pub fn pause_reading(&mut self, paused: bool, now: Instant) {
        let was = std::mem::replace(&mut self.paused, paused);
        self.recheck_at = paused.then(|| now + PAUSE_RECHECK);
        if was && !paused {
            self.read_next();
        }
    }

    fn read_next(&mut self) {
        if self.reading || self.paused {
            return;
        }
        let Some(last) = self.last_id.clone() else {
            return;
        };
        let Some(reader) = self.reader.as_mut() else {
            return;
        };
        reader.command(&[
            b"XREAD",
            b"COUNT",
            READ_COUNT.as_bytes(),
            b"BLOCK",
            READ_BLOCK_MS.as_bytes(),
            b"STREAMS",
            self.stream_key.as_bytes(),
            last.as_bytes(),
        ]);
        self.reading = true;
    }

    /// A reply on the writer. `Err` when the broker refused an append:
    /// the entry stays to be sent again, after a reconnection with
    /// backoff, and meanwhile members are told and lines refused, rather
    /// than the line dropped.
    fn on_writer_reply(&mut self, frame: OwnedFrame, room: &mut Room) -> io::Result<()> {
        let Some(reply) = self.replies.pop_front() else {
            return Ok(());
        };
        if let OwnedFrame::Error(error) = &frame {
            let error = error.clone();
            self.log(
                "log-broker-refused",
                vec![("addr", self.broker.clone()), ("error", error.clone())],
            );
            if matches!(reply, Reply::Append(_) | Reply::Joining) {
                return Err(io::Error::other(error));
            }
        }
        match reply {
            Reply::Ignore => {}
            Reply::Ready => {
                self.backoff = FIRST_BACKOFF;
                self.outage_logged = false;
                if self.joined {
                    self.log_connected();
                }
                self.set_link(room, Link::Up);
            }
            Reply::Append(seq) => {
                if self.outbox.front().is_some_and(|(front, _)| *front == seq) {
                    self.outbox.pop_front();
                }
            }
            Reply::Joining => self.on_joining(frame, room),
            Reply::Alive(servers) => {
                let live: HashSet<u64> = servers
                    .iter()
                    .zip(array(&frame))
                    .filter(|(_, value)| !matches!(value, OwnedFrame::Null))
                    .map(|(&server, _)| server)
                    .collect();
                // Dead servers leave the list.
                let dead: Vec<String> = servers
                    .iter()
                    .filter(|s| !live.contains(s))
                    .map(|s| format!("{s:016x}"))
                    .collect();
                if let (false, Some(writer)) = (dead.is_empty(), self.writer.as_mut()) {
                    let mut args: Vec<&[u8]> = vec![b"SREM", self.servers_key.as_bytes()];
                    args.extend(dead.iter().map(|s| s.as_bytes()));
                    writer.command(&args);
                    self.replies.push_back(Reply::Ignore);
                }
                if let Some(catch_up) = self.catch_up.as_mut() {
                    let answered: HashSet<u64> = catch_up.answers.iter().map(|(s, _)| *s).collect();
                    catch_up.waiting_for = Some(
                        live.difference(&answered)
                            .filter(|s| !catch_up.later.contains(s))
                            .copied()
                            .collect(),
                    );
                }
                self.finish_catch_up_if_done(room, false);
            }
            Reply::Renewal(servers) => {
                let gone: Vec<u64> = servers
                    .iter()
                    .zip(array(&frame))
                    .filter(|(_, value)| matches!(value, OwnedFrame::Null))
                    .map(|(&server, _)| server)
                    .collect();
                for server in gone {
                    self.append(Body::Lost { server });
                }
            }
        }
        Ok(())
    }

    /// The answer to joining: the servers listed, the tail (for the
    /// history), the hello's id (where reading starts).
    fn on_joining(&mut self, frame: OwnedFrame, room: &mut Room) {
        let parts = array(&frame);
        let (Some(servers), Some(tail), Some(hello)) = (parts.first(), parts.get(1), parts.get(2))
        else {
            return;
        };
        let mut history: Vec<(u64, Notice)> = Vec::new();
        for item in array(tail) {
            let Some((id, fields)) = stream_entry(item) else {
                continue;
            };
            let Some(Entry {
                body: Body::Change { name, op, .. },
                ..
            }) = entry::decode(&fields)
            else {
                continue;
            };
            let notice = match (op, name) {
                (SharedOp::Say { text }, Some(from)) => Notice::Chat { from, text },
                (SharedOp::Action { text }, Some(from)) => Notice::Action { from, text },
                (SharedOp::Admin { text }, _) => Notice::Admin { text },
                _ => continue,
            };
            history.push((id_millis(&id), notice));
        }
        for (millis, notice) in history.into_iter().rev() {
            room.remember(local_time_of(millis / 1000), &notice);
        }
        self.last_id = bytes(hello).map(|id| String::from_utf8_lossy(id).into_owned());
        self.read_next();
        let others: Vec<u64> = array(servers)
            .iter()
            .filter_map(bytes)
            .filter_map(|s| std::str::from_utf8(s).ok())
            .filter_map(|s| u64::from_str_radix(s, 16).ok())
            .filter(|&s| s != self.me)
            .collect();
        if others.is_empty() {
            if let Some(catch_up) = self.catch_up.as_mut() {
                catch_up.waiting_for = Some(HashSet::new());
            }
            self.finish_catch_up_if_done(room, false);
            return;
        }
        let keys: Vec<String> = others.iter().map(|&s| self.alive_key(s)).collect();
        if let Some(writer) = self.writer.as_mut() {
            let mut args: Vec<&[u8]> = vec![b"MGET"];
            args.extend(keys.iter().map(|k| k.as_bytes()));
            writer.command(&args);
            self.replies.push_back(Reply::Alive(others));
        }
    }

    /// A reply on the reader; `Err` when the broker refused the read (it
    /// would refuse it again at once: reconnect with backoff instead).
    fn on_reader_reply(&mut self, frame: OwnedFrame, room: &mut Room) -> io::Result<()> {
        self.reading = false;
        if let OwnedFrame::Error(error) = &frame {
            self.log(
                "log-broker-refused",
                vec![("addr", self.broker.clone()), ("error", error.clone())],
            );
            return Err(io::Error::other(error.clone()));
        }
        // `[[stream, [[id, [field, value, ...]], ...]]]`, or nil after the
        // block time.
        for stream in array(&frame) {
            let Some(entries) = array(stream).get(1) else {
                continue;
            };
            for item in array(entries) {
                let Some((id, fields)) = stream_entry(item) else {
                    continue;
                };
                self.last_id = Some(id);
                if let Some(entry) = entry::decode(&fields) {
                    self.on_entry(entry, room);
                }
            }
        }
        self.finish_catch_up_if_done(room, false);
        self.read_next();
        Ok(())
    }

    fn on_entry(&mut self, entry: Entry, room: &mut Room) {
        if let Some(catch_up) = self.catch_up.as_mut() {
            if entry.body == Body::Hello {
                catch_up.later.insert(entry.server);
                if let Some(waiting) = catch_up.waiting_for.as_mut() {
                    waiting.remove(&entry.server);
                }
            }
            if let Body::Present { to, members, bans } = &entry.body {
                if *to == self.me {
                    catch_up.answers.push((entry.server, members.clone()));
                    catch_up.bans.extend(bans.iter().cloned());
                    if let Some(waiting) = catch_up.waiting_for.as_mut() {
                        waiting.remove(&entry.server);
                    }
                }
            }
            catch_up.held.push(entry);
            return;
        }
        self.carry_out(entry, room);
    }

    /// Once every live server answered (or at the deadline): their members
    /// are taken in, then what was held is carried out.
    fn finish_catch_up_if_done(&mut self, room: &mut Room, deadline: bool) {
        let done = self
            .catch_up
            .as_ref()
            .is_some_and(|c| deadline || c.waiting_for.as_ref().is_some_and(HashSet::is_empty));
        if !done {
            return;
        }
        let Some(catch_up) = self.catch_up.take() else {
            return;
        };
        self.joined = true;
        let servers = catch_up.answers.len();
        for (target, minutes, reason) in catch_up.bans {
            room.adopt_ban(target, minutes, reason);
        }
        for (server, present) in catch_up.answers {
            for member in present {
                let id = room.allocate_member();
                room.adopt(id, member.info);
                if room.has_member(id) {
                    let global = Global {
                        server,
                        number: member.number,
                    };
                    self.members.insert(global, id);
                    self.globals.insert(id, global);
                }
            }
        }
        self.log(
            "log-room-joined",
            vec![
                ("room", self.room_name.clone()),
                ("members", self.members.len().to_string()),
                ("servers", servers.to_string()),
            ],
        );
        for entry in catch_up.held {
            self.carry_out(entry, room);
        }
    }

    /// One entry of the stream, in order, on a server in the room.
    fn carry_out(&mut self, entry: Entry, room: &mut Room) {
        if entry.body == Body::Hello {
            if entry.server != self.me {
                self.answer_hello(entry.server, room);
            }
            return;
        }
        let last = self.applied.entry(entry.server).or_insert(0);
        if entry.seq <= *last {
            return;
        }
        *last = entry.seq;
        match entry.body {
            Body::Hello => {}
            Body::Present { .. } => {}
            Body::Gone => self.let_go(entry.server, crate::room::LeaveReason::Quit, room),
            Body::Lost { server } => {
                if server == self.me {
                    self.log("log-server-declared-lost", vec![]);
                    let own: Vec<MemberId> =
                        room.own_members().into_iter().map(|(id, _)| id).collect();
                    for id in own {
                        room.apply(
                            Author::Member(id),
                            SharedOp::Leave {
                                reason: crate::room::LeaveReason::Lost,
                            },
                        );
                    }
                } else {
                    let count = self.members.keys().filter(|g| g.server == server).count();
                    if count > 0 {
                        self.log(
                            "log-server-lost",
                            vec![
                                ("server", format!("{server:016x}")),
                                ("count", count.to_string()),
                            ],
                        );
                    }
                    self.let_go(server, crate::room::LeaveReason::Lost, room);
                }
            }
            Body::Change { author, op, .. } => {
                let author = match author {
                    None => Author::Console,
                    Some(number) if entry.server == self.me => Author::Member(MemberId(number)),
                    Some(number) => {
                        let global = Global {
                            server: entry.server,
                            number,
                        };
                        if matches!(op, SharedOp::Join { .. }) {
                            let id = room.allocate_member();
                            self.members.insert(global, id);
                            self.globals.insert(id, global);
                            Author::Member(id)
                        } else {
                            match self.members.get(&global) {
                                Some(&id) => Author::Member(id),
                                None => return,
                            }
                        }
                    }
                };
                let me = self.me;
                let members = &self.members;
                let local = |g: Global| {
                    if g.server == me {
                        Some(MemberId(g.number))
                    } else {
                        members.get(&g).copied()
                    }
                };
                let Some(op) = op.map_members(local) else {
                    return;
                };
                // Who may be gone once it is carried out: a refused join,
                // a leave, a kick; a ban, anyone.
                let may_go = match (&author, &op) {
                    (_, SharedOp::Kick { target, .. }) => Some(*target),
                    (Author::Member(id), SharedOp::Join { .. } | SharedOp::Leave { .. }) => {
                        Some(*id)
                    }
                    _ => None,
                };
                let ban = matches!(op, SharedOp::Ban { .. });
                room.apply(author, op);
                if let Some(id) = may_go {
                    self.forget_if_gone(id, room);
                }
                if ban {
                    let room = &*room;
                    self.globals.retain(|id, _| room.has_member(*id));
                    self.members.retain(|_, id| room.has_member(*id));
                }
            }
        }
    }

    /// What a server joining the room needs: the members of this one.
    fn answer_hello(&mut self, to: u64, room: &Room) {
        let members = room
            .own_members()
            .into_iter()
            .map(|(id, info)| Present { number: id.0, info })
            .collect();
        let bans = room.bans_in_force();
        self.append(Body::Present { to, members, bans });
    }

    fn forget_if_gone(&mut self, id: MemberId, room: &Room) {
        if !room.has_member(id) {
            if let Some(global) = self.globals.remove(&id) {
                self.members.remove(&global);
            }
        }
    }

    /// Every member of `server` leaves, for `reason`.
    fn let_go(&mut self, server: u64, reason: crate::room::LeaveReason, room: &mut Room) {
        let mut gone: Vec<(Global, MemberId)> = self
            .members
            .iter()
            .filter(|(g, _)| g.server == server)
            .map(|(g, id)| (*g, *id))
            .collect();
        gone.sort_unstable();
        for (global, id) in gone {
            room.apply(
                Author::Member(id),
                SharedOp::Leave {
                    reason: reason.clone(),
                },
            );
            self.members.remove(&global);
            self.globals.remove(&id);
        }
    }

    /// Deadlines: reconnecting, renewing, giving up waiting for answers.
    pub fn tick(&mut self, poller: &Poller, now: Instant, room: &mut Room) {
        if self.retry_at.is_some_and(|at| at <= now) {
            self.retry_at = None;
            if let Err(err) = self.start_connecting(poller) {
                self.fail(poller, &err, now, room);
                return;
            }
        }
        if self.catch_up.as_ref().is_some_and(|c| c.deadline <= now) {
            self.finish_catch_up_if_done(room, true);
        }
        // Closing, the lease was deleted: renewing would bring it back.
        if self.connected && !self.closing && self.renew_at <= now {
            self.renew(now);
        }
    }

    fn start_connecting(&mut self, poller: &Poller) -> io::Result<()> {
        let addr = resolve(&self.broker)?;
        let writer = RespConn::connect(addr)?;
        let reader = RespConn::connect(addr)?;
        // SAFETY: both are deleted from the poller in `drop_connections`
        // (called on failure and from `Drop`) before they are dropped.
        unsafe {
            poller.add(&writer, Event::all(WRITER))?;
            poller.add(&reader, Event::all(READER))?;
        }
        self.writer = Some(writer);
        self.reader = Some(reader);
        self.armed = [Some(true), Some(true)];
        Ok(())
    }

    /// The broker is out of reach: both connections go, the room is told,
    /// and a reconnection is due after the backoff.
    fn fail(&mut self, poller: &Poller, err: &io::Error, now: Instant, room: &mut Room) {
        let was_connected = self.connected;
        self.drop_connections(poller);
        let reason = || Some(io::Error::new(err.kind(), err.to_string()));
        if was_connected {
            self.logs.push(BridgeLog {
                id: "log-broker-lost",
                args: vec![("addr", self.broker.clone())],
                reason: reason(),
            });
        }
        if !self.outage_logged {
            self.outage_logged = true;
            let seconds = format!("{:.1}", self.backoff.as_secs_f64());
            self.logs.push(BridgeLog {
                id: "log-broker-unreachable",
                args: vec![("addr", self.broker.clone()), ("seconds", seconds)],
                reason: reason(),
            });
        }
        self.retry_at = Some(now + self.backoff);
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        // A join that had not been answered is asked again from the start.
        if self.catch_up.take().is_some() {
            self.last_id = None;
        }
        self.set_link(room, Link::Down);
    }

    fn set_link(&mut self, room: &mut Room, link: Link) {
        if self.link != link {
            self.link = link;
            room.set_link(link);
        }
    }

    fn drop_connections(&mut self, poller: &Poller) {
        for conn in [self.writer.take(), self.reader.take()]
            .into_iter()
            .flatten()
        {
            let _ = poller.delete(&conn);
        }
        self.connected = false;
        self.reading = false;
        self.replies.clear();
    }

    /// End of a loop turn: write what was queued, watch for what is
    /// needed.
    pub fn flush(&mut self, poller: &Poller, now: Instant, room: &mut Room) {
        let mut failed = None;
        let conns = [
            (WRITER, self.writer.as_mut()),
            (READER, self.reader.as_mut()),
        ];
        for (slot, (key, conn)) in conns.into_iter().enumerate() {
            let Some(conn) = conn else {
                continue;
            };
            let armed = &mut self.armed[slot];
            let result = conn.write().and_then(|()| {
                let writable = conn.wants_write();
                if *armed == Some(writable) {
                    return Ok(());
                }
                *armed = Some(writable);
                poller.modify(&*conn, Event::new(key, true, writable))
            });
            if let Err(err) = result {
                failed = Some(err);
                break;
            }
        }
        if let Some(err) = failed {
            self.fail(poller, &err, now, room);
        }
    }

    /// Deregisters both connections; the reactor calls it before dropping
    /// its poller.
    pub fn detach(&mut self, poller: &Poller) {
        self.drop_connections(poller);
    }
}

fn global_of(globals: &HashMap<MemberId, Global>, me: u64, id: MemberId) -> Global {
    globals.get(&id).copied().unwrap_or(Global {
        server: me,
        number: id.0,
    })
}

/// A random id for this server's run: a restarted server is a new one.
fn server_id() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    hasher.write_u128(nanos);
    hasher.finish()
}

fn resolve(broker: &str) -> io::Result<SocketAddr> {
    broker
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| io::ErrorKind::AddrNotAvailable.into())
}

fn array(frame: &OwnedFrame) -> &[OwnedFrame] {
    match frame {
        OwnedFrame::Array(items) => items,
        _ => &[],
    }
}

fn bytes(frame: &OwnedFrame) -> Option<&[u8]> {
    match frame {
        OwnedFrame::BulkString(b) | OwnedFrame::SimpleString(b) => Some(b),
        _ => None,
    }
}

/// An entry's fields as `(name, value)` pairs.
type Fields<'a> = Vec<(&'a [u8], &'a [u8])>;

/// `[id, [field, value, ...]]` as the id and the pairs.
fn stream_entry(item: &OwnedFrame) -> Option<(String, Fields<'_>)> {
    let parts = array(item);
    let id = String::from_utf8_lossy(bytes(parts.first()?)?).into_owned();
    let fields = array(parts.get(1)?);
    let pairs = fields
        .chunks_exact(2)
        .filter_map(|pair| Some((bytes(&pair[0])?, bytes(&pair[1])?)))
        .collect();
    Some((id, pairs))
}

/// The broker's time of an entry: its id's milliseconds.
fn id_millis(id: &str) -> u64 {
    id.split('-')
        .next()
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(0)
}
