//! The operator's bans on disk (`server.bans_file`): read once at start,
//! rewritten atomically (a temporary file beside it, then a rename) after
//! every change, so a crash leaves the old list or the new one, never half.
//! The format is `room::bans`'s; this module only moves it to and from
//! the file.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::room::bans::Bans;

/// Why the bans file could not be read.
#[derive(Debug)]
pub enum BansFileError {
    /// Reading failed (permissions, a directory, not UTF-8).
    Read(io::Error),
    /// This line (counted from 1) is not a ban.
    Line(usize),
}

/// The wall clock now, in Unix seconds.
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// The bans kept at `path`; none if the file does not exist yet (the first
/// ban creates it).
pub fn load(path: &Path) -> Result<Bans, BansFileError> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Bans::default()),
        Err(err) => return Err(BansFileError::Read(err)),
    };
    Bans::from_file(&text, Instant::now(), unix_now()).map_err(BansFileError::Line)
}

/// Replaces the file at `path` with `bans`, atomically.
pub fn save(path: &Path, bans: &Bans) -> io::Result<()> {
    let text = bans.to_file(Instant::now(), unix_now());
    let temp = temp_path(path);
    let result = (|| {
        let mut file = fs::File::create(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// `.NAME.tmp` in the same directory, so that the rename stays on one
/// file system.
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bans".to_string());
    path.with_file_name(format!(".{name}.tmp"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::room::bans::{Ban, BanTarget};

    #[test]
    fn saved_bans_load_again_and_a_missing_file_is_empty() {
        let dir = std::env::temp_dir().join(format!("chatroom-bans-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("bans");
        let _ = fs::remove_file(&path);
        assert_eq!(load(&path).map(|b| b.iter().count()).ok(), Some(0));
        let mut bans = Bans::default();
        bans.add(Ban {
            target: BanTarget::parse("mallory").expect("name"),
            until: None,
            reason: "spam".into(),
        });
        save(&path, &bans).expect("saved");
        assert!(!temp_path(&path).exists(), "no temporary file left");
        let Ok(back) = load(&path) else {
            panic!("the saved file loads");
        };
        assert!(back.on_name("MALLORY", Instant::now()).is_some());
        fs::write(&path, "name\tmallory\n").expect("write");
        assert!(matches!(load(&path), Err(BansFileError::Line(1))));
        let _ = fs::remove_dir_all(&dir);
    }
}
