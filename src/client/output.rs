//! The client's standard output, written without blocking from a bounded
//! buffer: a stdout nobody reads (`chatroom-client | less`, paused) must
//! not stop the loop, so signals and keys are still handled.
//!
//! O_NONBLOCK is set on a description of our own: fd 1 is reopened
//! through `/proc/self/fd/1` (a new open file description of the same
//! pipe or terminal), because setting it on fd 1 itself would change the
//! description the shell and its other children share. A regular file is
//! written directly (it never blocks, and reopening would lose its
//! offset); where reopening fails (a socket, no /proc), fd 1 itself is
//! made non-blocking and its flags are put back on drop.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::{fcntl_getfl, fcntl_setfl, fstat, open, FileType, Mode, OFlags};

/// What the output writes to.
#[derive(Debug)]
enum Target {
    /// fd 1 itself: a regular file, or with its old flags to restore.
    Stdout { restore: Option<OFlags> },
    /// A non-blocking description of our own of what fd 1 is.
    Reopened(OwnedFd),
}

#[derive(Debug)]
pub struct Output {
    target: Target,
    /// Bytes not yet taken, from `start` on.
    pending: Vec<u8>,
    start: usize,
    /// Whether the poller can watch the target (not a regular file).
    pollable: bool,
}

/// What a flush found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flushed {
    /// Everything was written.
    Done,
    /// The target is full for now; try again when it is writable.
    Blocked,
    /// Nobody reads any more (a closed pipe, a gone terminal).
    Gone,
}

impl Output {
    pub fn new() -> Output {
        let stdout = rustix::stdio::stdout();
        let regular = fstat(stdout)
            .map(|stat| FileType::from_raw_mode(stat.st_mode) == FileType::RegularFile)
            .unwrap_or(false);
        let target = if regular {
            Target::Stdout { restore: None }
        } else {
            let flags = OFlags::WRONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
            match open("/proc/self/fd/1", flags, Mode::empty()) {
                Ok(fd) => Target::Reopened(fd),
                Err(_) => {
                    let old = fcntl_getfl(stdout).ok();
                    if let Some(old) = old {
                        let _ = fcntl_setfl(stdout, old | OFlags::NONBLOCK);
                    }
                    Target::Stdout { restore: old }
                }
            }
        };
        Output {
            target,
            pending: Vec::new(),
            start: 0,
            pollable: !regular,
        }
    }

    /// The descriptor to watch for writable, when it can be watched.
    pub fn source(&self) -> Option<BorrowedFd<'_>> {
        if !self.pollable {
            return None;
        }
        Some(self.fd())
    }

    fn fd(&self) -> BorrowedFd<'_> {
        match &self.target {
            Target::Stdout { .. } => rustix::stdio::stdout(),
            Target::Reopened(fd) => fd.as_fd(),
        }
    }

    /// Bytes waiting to be written.
    pub fn len(&self) -> usize {
        self.pending.len() - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
    }

    pub fn push_str(&mut self, text: &str) {
        self.push(text.as_bytes());
    }

    /// Writes as much as the target takes now.
    pub fn flush(&mut self) -> Flushed {
        while self.start < self.pending.len() {
            match rustix::io::write(self.fd(), &self.pending[self.start..]) {
                Ok(0) => return Flushed::Gone,
                Ok(n) => self.start += n,
                Err(rustix::io::Errno::INTR) => continue,
                Err(rustix::io::Errno::AGAIN) => {
                    self.compact();
                    return Flushed::Blocked;
                }
                Err(_) => {
                    self.pending.clear();
                    self.start = 0;
                    return Flushed::Gone;
                }
            }
        }
        self.pending.clear();
        self.start = 0;
        Flushed::Done
    }

    /// Drops what was written from the front of the buffer, once that is
    /// most of it, so it does not grow with what went out.
    fn compact(&mut self) {
        if self.start > self.pending.len() / 2 {
            self.pending.drain(..self.start);
            self.start = 0;
        }
    }

    /// Drops everything not yet written (when leaving with a stdout that
    /// takes nothing).
    pub fn discard(&mut self) {
        self.pending.clear();
        self.start = 0;
    }
}

impl Default for Output {
    fn default() -> Self {
        Output::new()
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        if let Target::Stdout { restore: Some(old) } = self.target {
            let _ = fcntl_setfl(rustix::stdio::stdout(), old);
        }
    }
}
