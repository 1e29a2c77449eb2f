//! Bad luck with storage, for real: a small tmpfs that fills up, and a
//! read-only view of a folder through a bind mount. Both need root (CI is
//! root); elsewhere the constructors return `None` and say why, so the test
//! that wanted them skips with that message.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

fn mount(args: &[&str], target: &Path) -> Result<bool> {
    let output = Command::new("mount")
        .args(args)
        .arg(target)
        .output()
        .context("running mount")?;
    if !output.status.success() {
        eprintln!(
            "SKIP: cannot mount ({}): {}; this test needs root (CI runs it)",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(output.status.success())
}

fn unmount(target: &Path) {
    // Lazy, so a process of a failed test still holding a file does not keep it.
    let _ = Command::new("umount").arg("-l").arg(target).status();
}

/// A tmpfs of a fixed size: a disk that can be filled.
#[derive(Debug)]
pub struct SmallDisk {
    mount_point: tempfile::TempDir,
    filler: PathBuf,
}

impl SmallDisk {
    /// Mounts a tmpfs of `size` (e.g. "8m"), or `None` where mounting is not allowed.
    pub fn mount(size: &str) -> Result<Option<Self>> {
        let mount_point = tempfile::tempdir()?;
        let options = format!("size={size},mode=0700");
        if !mount(
            &["-t", "tmpfs", "-o", &options, "tmpfs"],
            mount_point.path(),
        )? {
            return Ok(None);
        }
        let filler = mount_point.path().join("filler");
        Ok(Some(Self {
            mount_point,
            filler,
        }))
    }

    /// The mounted folder.
    pub fn path(&self) -> &Path {
        self.mount_point.path()
    }

    /// Writes a filler file until the disk says it is full.
    pub fn fill(&self) -> Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.filler)?;
        let block = vec![0u8; 4096];
        loop {
            match file.write(&block) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => return Ok(()),
                Err(e) => return Err(e).context("filling the disk"),
            }
        }
    }

    /// Removes the filler: space again.
    pub fn free(&self) -> Result<()> {
        match std::fs::remove_file(&self.filler) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        unmount(self.mount_point.path());
    }
}

/// `source` seen through a read-only bind mount.
#[derive(Debug)]
pub struct ReadOnlyView {
    mount_point: tempfile::TempDir,
}

impl ReadOnlyView {
    /// Binds `source` read-only at a new folder, or `None` where mounting is not allowed.
    pub fn of(source: &Path) -> Result<Option<Self>> {
        let mount_point = tempfile::tempdir()?;
        let source = source.display().to_string();
        if !mount(&["--bind", "-o", "ro", &source], mount_point.path())? {
            return Ok(None);
        }
        // Older util-linux ignores `ro` on the first bind; remount to be sure.
        let _ = Command::new("mount")
            .args(["-o", "remount,bind,ro"])
            .arg(mount_point.path())
            .status();
        Ok(Some(Self { mount_point }))
    }

    /// The read-only folder.
    pub fn path(&self) -> &Path {
        self.mount_point.path()
    }
}

impl Drop for ReadOnlyView {
    fn drop(&mut self) {
        unmount(self.mount_point.path());
    }
}
