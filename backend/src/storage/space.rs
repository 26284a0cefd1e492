//! Room on the data dir's file system: how much is free, whether a write of a known size fits
//! (the one rule uploads, downloads and installs share), when to warn, and whether an error
//! says the disk or the database is full.

use std::path::{Path, PathBuf};

use sea_orm::{DbErr, RuntimeErr};

/// What every write of a known size must leave free besides itself: room for the database,
/// the logs and the audit entries that go with it.
pub const MARGIN: u64 = 64 << 20;

/// Below this much free space the server warns, unless `[storage] warn_free_mb` says otherwise
/// (or 10 % of the file system, when that is less, but never under [`MARGIN`]).
pub const DEFAULT_WARN_BYTES: u64 = 2 << 30;

const MIB: u64 = 1 << 20;

/// `SMS_FREE_BYTES=<n>` makes the server believe its data dir has `n` bytes free (builds with
/// the `fault-injection` feature only).
pub const FREE_BYTES_ENV: &str = "SMS_FREE_BYTES";

/// The free and total size of a file system, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Space {
    /// What an unprivileged writer can still use.
    pub free: u64,
    pub total: u64,
}

impl Space {
    /// The file system of `dir`, now (blocking: a `statvfs`).
    pub fn of(dir: &Path) -> std::io::Result<Space> {
        let stat = rustix::fs::statvfs(dir).map_err(std::io::Error::from)?;
        let total = stat.f_blocks.saturating_mul(stat.f_frsize);
        let free = pretended_free().unwrap_or(stat.f_bavail.saturating_mul(stat.f_frsize));
        Ok(Space { free, total })
    }

    /// [`Space::of`] off the async threads.
    pub async fn read(dir: &Path) -> std::io::Result<Space> {
        let dir = dir.to_owned();
        tokio::task::spawn_blocking(move || Space::of(&dir))
            .await
            .map_err(std::io::Error::other)?
    }

    /// The free space under which to warn: `configured` bytes (at most the file system's
    /// size: more says no more, and stays a number a browser reads exactly), or by default
    /// 2 GiB or 10 % of the file system, whichever is less, but at least the [`MARGIN`] every
    /// write keeps free.
    pub fn warn_below(&self, configured: Option<u64>) -> u64 {
        match configured {
            Some(bytes) => bytes.min(self.total),
            None => DEFAULT_WARN_BYTES.min(self.total / 10).max(MARGIN),
        }
    }

    /// Whether the free space is under the warning threshold.
    pub fn is_low(&self, configured: Option<u64>) -> bool {
        self.free < self.warn_below(configured)
    }
}

fn pretended_free() -> Option<u64> {
    if !cfg!(feature = "fault-injection") {
        return None;
    }
    std::env::var(FREE_BYTES_ENV).ok()?.parse().ok()
}

/// What a write of a known size is, for the words of a [`Shortfall`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// An uploaded package.
    Import,
    /// A package from the TMC.
    Download,
    /// An install: its payload staged beside the level it becomes.
    Install,
    /// A restore: a copy of the backup and the database it becomes, beside the one it replaces.
    Restore,
}

/// Too little room in the data dir for a write of a known size.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message())]
pub struct Shortfall {
    pub dir: PathBuf,
    pub free: u64,
    pub needed: u64,
    pub purpose: Purpose,
}

impl Shortfall {
    /// What happened and what to do, with both figures.
    pub fn message(&self) -> String {
        let (what, fix) = match self.purpose {
            Purpose::Import => (
                "this package needs",
                "Free space there or import a smaller patch.",
            ),
            Purpose::Download => (
                "this download needs",
                "Free space there, then download it again.",
            ),
            Purpose::Install => (
                "this install needs (the payload staged beside the level it becomes)",
                "Free space there, then install again.",
            ),
            Purpose::Restore => (
                "this restore needs (the backup's database beside the one it replaces)",
                "Free space there, then restore again.",
            ),
        };
        format!(
            "The data dir {} has {} MiB free; {what} {} MiB, {} MiB of it kept free for the \
             database and logs. {fix}",
            self.dir.display(),
            self.free / MIB,
            self.needed.div_ceil(MIB),
            MARGIN / MIB,
        )
    }
}

/// The rule every write of a known size follows: `bytes` plus [`MARGIN`] must be free in
/// `dir`. An error reading the free space lets the write go ahead: the write itself then says
/// whether it fits.
pub async fn ensure_room(dir: &Path, bytes: u64, purpose: Purpose) -> Result<(), Shortfall> {
    let needed = bytes.saturating_add(MARGIN);
    match Space::read(dir).await {
        Ok(space) if space.free < needed => Err(Shortfall {
            dir: dir.to_owned(),
            free: space.free,
            needed,
            purpose,
        }),
        Ok(_) => Ok(()),
        Err(err) => {
            tracing::warn!(dir = %dir.display(), "cannot tell the free space: {err}");
            Ok(())
        }
    }
}

/// Where a full disk was hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// The data dir's file system (the SQLite database, the patch repository, ...).
    DataDir,
    /// The PostgreSQL server's disk.
    DatabaseServer,
}

/// Whether a file write failed for lack of space (or quota).
pub fn io_is_full(err: &std::io::Error) -> bool {
    matches!(
        err.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    )
}

/// Whether a database error says the disk is full: SQLite's `SQLITE_FULL` (and its extended
/// codes), PostgreSQL's `disk_full` (SQLSTATE 53100), or a file write's `ENOSPC` or `EDQUOT`.
pub fn db_is_full(err: &DbErr) -> Option<Full> {
    let runtime = match err {
        DbErr::Conn(runtime) | DbErr::Exec(runtime) | DbErr::Query(runtime) => runtime,
        _ => return None,
    };
    let RuntimeErr::SqlxError(sqlx) = runtime else {
        return None;
    };
    match sqlx.as_ref() {
        sea_orm::sqlx::Error::Io(io) if io_is_full(io) => Some(Full::DataDir),
        sea_orm::sqlx::Error::Database(db) => {
            let code = db.code()?;
            if code == "53100" {
                return Some(Full::DatabaseServer);
            }
            // SQLite's codes are numbers; the primary code is the low byte (SQLITE_FULL = 13).
            let sqlite = code.parse::<u32>().ok()?;
            (sqlite & 0xff == 13).then_some(Full::DataDir)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warning_threshold_is_two_gib_or_a_tenth_whichever_is_less_but_at_least_the_margin() {
        let big = Space {
            free: 0,
            total: 100 << 30,
        };
        assert_eq!(big.warn_below(None), 2 << 30);
        let small = Space {
            free: 0,
            total: 8 << 30,
        };
        assert_eq!(small.warn_below(None), (8 << 30) / 10);
        assert_eq!(small.warn_below(Some(5 << 20)), 5 << 20);
        assert_eq!(
            small.warn_below(Some(u64::MAX)),
            8 << 30,
            "at most the size"
        );
        let low = Space {
            free: 700 << 20,
            total: 8 << 30,
        };
        assert!(low.is_low(None));
        assert!(!low.is_low(Some(500 << 20)));
        let tiny = Space {
            free: 0,
            total: 96 << 20,
        };
        assert_eq!(tiny.warn_below(None), MARGIN);
    }

    #[test]
    fn a_shortfall_says_what_is_free_what_is_needed_and_what_to_do() {
        let shortfall = Shortfall {
            dir: "/var/lib/sms".into(),
            free: 40 * MIB + 5,
            needed: 80 * MIB + MARGIN + 1,
            purpose: Purpose::Import,
        };
        assert_eq!(
            shortfall.message(),
            "The data dir /var/lib/sms has 40 MiB free; this package needs 145 MiB, 64 MiB of \
             it kept free for the database and logs. Free space there or import a smaller patch."
        );
    }

    #[tokio::test]
    async fn a_write_fits_when_its_size_and_the_margin_are_free() {
        let dir = tempfile::tempdir().unwrap();
        let free = Space::of(dir.path()).unwrap().free;
        assert!(ensure_room(dir.path(), 1, Purpose::Download).await.is_ok());
        let err = ensure_room(dir.path(), free, Purpose::Download)
            .await
            .unwrap_err();
        assert_eq!(err.purpose, Purpose::Download);
        assert!(err.needed > err.free, "{err:?}");
    }

    #[test]
    fn no_space_and_quota_errors_are_full_others_are_not() {
        let enospc = std::io::Error::from_raw_os_error(28);
        assert!(io_is_full(&enospc));
        let edquot = std::io::Error::from_raw_os_error(122);
        assert!(io_is_full(&edquot));
        assert!(!io_is_full(&std::io::Error::from_raw_os_error(13)));
        assert_eq!(db_is_full(&DbErr::Custom("x".into())), None);
        let io = DbErr::Exec(RuntimeErr::SqlxError(std::sync::Arc::new(
            sea_orm::sqlx::Error::Io(enospc),
        )));
        assert_eq!(db_is_full(&io), Some(Full::DataDir));
    }
}
