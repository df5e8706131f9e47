//! Reading the files backstop is given: rule files and folders, the config,
//! inventories, baselines and reports to diff or merge.
//!
//! Every one is untrusted input, and a path can name something that is not a
//! file at all: a FIFO would block the read forever, `/dev/zero` or
//! `/dev/urandom` never ends. So only regular files are read (a symlink to
//! one is fine), and at most `limit + 1` bytes are read from them: the size
//! cap holds while reading, not after a whole device has been swallowed.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// The cap on rule files and `backstop.yaml`: a hand-written file is a few
/// KiB, and the YAML parser holds the whole document in memory.
pub const YAML_FILE_LIMIT: u64 = 1 << 20;

/// The cap on inventories and JSON reports. A large account's inventory is
/// a few tens of MiB; this leaves room for the largest organizations while
/// keeping a runaway file from taking the machine's memory.
pub const DATA_FILE_LIMIT: u64 = 512 << 20;

/// Why a file could not be read as text.
#[derive(Debug)]
pub enum ReadError {
    Io(std::io::Error),
    /// A directory, FIFO, socket or device.
    NotRegular(&'static str),
    TooLarge {
        limit: u64,
    },
    /// Where the first byte that is not UTF-8 is (1-based).
    NotUtf8 {
        line: usize,
        col: usize,
    },
}

impl ReadError {
    /// `(line, col)` when the problem is at a place in the file.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            ReadError::NotUtf8 { line, col } => Some((*line, *col)),
            _ => None,
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "{e}"),
            ReadError::NotRegular(kind) => {
                write!(
                    f,
                    "it is {kind}, not a regular file; only regular files are read"
                )
            }
            ReadError::TooLarge { limit } => {
                write!(f, "it is larger than the limit of {}", human_bytes(*limit))
            }
            // The position is given as `file:line:col` by the caller.
            ReadError::NotUtf8 { .. } => write!(f, "not UTF-8 text"),
        }
    }
}

impl std::error::Error for ReadError {}

impl From<std::io::Error> for ReadError {
    fn from(e: std::io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// Reads a regular file of at most `limit` bytes as UTF-8 text.
pub fn read_text(path: &Path, limit: u64) -> Result<String, ReadError> {
    // Checked before opening: opening a FIFO for reading blocks until a
    // writer appears.
    regular(&std::fs::metadata(path)?)?;
    let file = open(path)?;
    // Checked again on what was opened, in case the path changed between.
    regular(&file.metadata()?)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = valid
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |nl| nl + 1);
        let col = String::from_utf8_lossy(&valid[line_start..])
            .chars()
            .count()
            + 1;
        ReadError::NotUtf8 { line, col }
    })
}

fn regular(meta: &std::fs::Metadata) -> Result<(), ReadError> {
    if meta.is_file() {
        return Ok(());
    }
    Err(ReadError::NotRegular(describe(&meta.file_type())))
}

fn describe(kind: &std::fs::FileType) -> &'static str {
    if kind.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
    }
    "not a regular file"
}

#[cfg(unix)]
fn open(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    // Non-blocking, so that a FIFO put in place after the check above fails
    // the second check instead of blocking the open. Reads from a regular
    // file ignore the flag.
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open(path: &Path) -> std::io::Result<File> {
    File::open(path)
}

fn human_bytes(n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else {
        format!("{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_regular_files_and_symlinks_to_them() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.yaml");
        std::fs::write(&file, "id: x\n").unwrap();
        assert_eq!(read_text(&file, 100).unwrap(), "id: x\n");
        #[cfg(unix)]
        {
            let link = dir.path().join("b.yaml");
            std::os::unix::fs::symlink(&file, &link).unwrap();
            assert_eq!(read_text(&link, 100).unwrap(), "id: x\n");
        }
    }

    #[test]
    fn the_cap_holds_at_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.json");
        std::fs::write(&file, "x".repeat(10)).unwrap();
        assert_eq!(read_text(&file, 10).unwrap().len(), 10);
        let err = read_text(&file, 9).unwrap_err();
        assert!(matches!(err, ReadError::TooLarge { limit: 9 }), "{err}");
        assert_eq!(err.to_string(), "it is larger than the limit of 9 bytes");
        assert_eq!(
            ReadError::TooLarge { limit: 1 << 20 }.to_string(),
            "it is larger than the limit of 1 MiB"
        );
    }

    #[test]
    fn directories_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_text(dir.path(), 100).unwrap_err();
        assert!(matches!(err, ReadError::NotRegular("a directory")), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn devices_are_refused_without_reading() {
        let err = read_text(Path::new("/dev/zero"), 100).unwrap_err();
        assert!(matches!(err, ReadError::NotRegular("a device")), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("x.yaml");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let err = read_text(&link, 100).unwrap_err();
        assert!(matches!(err, ReadError::NotRegular("a device")), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn fifos_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("x.yaml");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.unwrap().success());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || tx.send(read_text(&fifo, 100).map_err(|e| e.to_string())));
        let outcome = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("reading a FIFO must not block");
        assert_eq!(
            outcome.unwrap_err(),
            "it is a FIFO (named pipe), not a regular file; only regular files are read"
        );
    }

    #[test]
    fn invalid_utf8_has_a_position() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.yaml");
        std::fs::write(&file, b"a: 1\nb: caf\xe9\n").unwrap();
        let err = read_text(&file, 100).unwrap_err();
        assert_eq!(err.position(), Some((2, 7)), "{err}");
        std::fs::write(&file, ["é: \u{1F980}".as_bytes(), b"\xff"].concat()).unwrap();
        assert_eq!(read_text(&file, 100).unwrap_err().position(), Some((1, 5)));
    }
}
