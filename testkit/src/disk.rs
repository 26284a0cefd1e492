//! A real small file system for the full-disk tests: a tmpfs of a few MiB mounted on a fresh
//! folder, which a test fills to the last byte (or to a given free space) and empties again.
//!
//! Mounting needs root (CI runs the tests as root). Where it is not allowed, [`SmallDisk::mount`]
//! fails the test with a message that says so: these tests never skip silently.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

/// A tmpfs mounted on a folder of its own; unmounted when dropped.
pub struct SmallDisk {
    mount_point: TempDir,
    ballast: PathBuf,
}

impl SmallDisk {
    /// Mounts a tmpfs of `mib` MiB.
    pub fn mount(mib: u64) -> SmallDisk {
        let mount_point = tempfile::tempdir().expect("a folder to mount the tmpfs on");
        let mounted = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={mib}m,mode=0755"),
                "sms-test",
            ])
            .arg(mount_point.path())
            .output();
        let why = match mounted {
            Ok(out) if out.status.success() => None,
            Ok(out) => Some(String::from_utf8_lossy(&out.stderr).trim().to_owned()),
            Err(err) => Some(format!("`mount` cannot run: {err}")),
        };
        if let Some(why) = why {
            panic!(
                "cannot mount a {mib} MiB tmpfs on {} ({why}). The full-disk tests need a real \
                 small file system: run the tests as root (CI does), or in a container allowed \
                 to mount (`--cap-add SYS_ADMIN`).",
                mount_point.path().display()
            );
        }
        let ballast = mount_point.path().join("ballast");
        SmallDisk {
            mount_point,
            ballast,
        }
    }

    /// Where the tmpfs is mounted.
    pub fn path(&self) -> &Path {
        self.mount_point.path()
    }

    /// A fresh folder on the tmpfs, for a server's data dir.
    pub fn folder(&self) -> TempDir {
        tempfile::tempdir_in(self.path()).expect("a folder on the tmpfs")
    }

    /// The bytes an unprivileged writer can still use.
    pub fn free(&self) -> u64 {
        backend::storage::space::Space::of(self.path())
            .expect("statvfs of the tmpfs")
            .free
    }

    /// Fills the file system to the last byte it gives.
    pub fn fill(&self) {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.ballast)
            .expect("the ballast file opens");
        // Big writes first, then ever smaller ones, until not even a byte fits.
        let mut chunk = 1usize << 20;
        let zeros = vec![0u8; chunk];
        loop {
            match file.write(&zeros[..chunk]) {
                Ok(0) => break,
                Ok(_) => {}
                Err(err) if err.raw_os_error() == Some(28) => {
                    if chunk == 1 {
                        break;
                    }
                    chunk /= 2;
                }
                Err(err) => panic!("cannot fill the tmpfs: {err}"),
            }
        }
        let _ = file.sync_all();
    }

    /// Fills the file system until `bytes` (rounded to its pages) are left free.
    pub fn fill_leaving(&self, bytes: u64) {
        let free = self.free();
        assert!(
            free > bytes,
            "only {free} bytes are free, fewer than {bytes}"
        );
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.ballast)
            .expect("the ballast file opens");
        let mut left = free - bytes;
        let zeros = vec![0u8; 1 << 20];
        while left > 0 {
            let n = left.min(zeros.len() as u64) as usize;
            file.write_all(&zeros[..n]).expect("the ballast is written");
            left -= n as u64;
        }
    }

    /// Removes what [`SmallDisk::fill`] or [`SmallDisk::fill_leaving`] wrote.
    pub fn empty(&self) {
        std::fs::remove_file(&self.ballast).expect("the ballast is removed");
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // Lazily: a server of the test may still hold files open on it.
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.mount_point.path())
            .status();
    }
}
