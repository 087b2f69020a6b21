//! Signals delivered into a polling loop through a self-pipe.
//!
//! `Poller::wait` retries EINTR, so a signal alone never wakes it. Each
//! signal's handler writes a byte to a socket pair whose read end the loop
//! watches, and sets a flag saying which signal it was.

use std::io::{self, Read};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use signal_hook::low_level::pipe;

pub use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGWINCH};

/// The read end of the self-pipe, and a flag per watched signal.
#[derive(Debug)]
pub struct SignalPipe {
    /// Readable when a signal has arrived; register it with the poller.
    reader: UnixStream,
    /// (signal, set by its handler) for each watched signal.
    arrived: Vec<(i32, Arc<AtomicBool>)>,
}

impl SignalPipe {
    /// Installs handlers for `signals`. Their default action (ending the
    /// process) is replaced: the loop decides what they mean.
    pub fn install(signals: &[i32]) -> io::Result<Self> {
        let (reader, writer) = UnixStream::pair()?;
        reader.set_nonblocking(true)?;
        let mut arrived = Vec::with_capacity(signals.len());
        for &signal in signals {
            let flag = Arc::new(AtomicBool::new(false));
            // The flag is set before the byte is written: handlers run in
            // registration order.
            signal_hook::flag::register(signal, Arc::clone(&flag))?;
            pipe::register(signal, writer.try_clone()?)?;
            arrived.push((signal, flag));
        }
        Ok(SignalPipe { reader, arrived })
    }

    /// The source to register for readable events.
    pub fn reader(&self) -> &UnixStream {
        &self.reader
    }

    /// Empties the pipe (the library's rule: drain first, then act), and
    /// returns the signals that arrived since the last call.
    pub fn take(&self) -> Vec<i32> {
        let mut buf = [0u8; 64];
        loop {
            match (&self.reader).read(&mut buf) {
                Ok(0) => break,
                Ok(_) => continue,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        self.arrived
            .iter()
            .filter(|(_, flag)| flag.swap(false, Ordering::SeqCst))
            .map(|(signal, _)| *signal)
            .collect()
    }
}

/// A signal's usual name, for the log.
pub fn name(signal: i32) -> &'static str {
    match signal {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        SIGHUP => "SIGHUP",
        SIGWINCH => "SIGWINCH",
        _ => "signal",
    }
}
