//! Child processes that cannot outlive their test.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// A child process (and everything it starts) that is killed when this drops.
#[derive(Debug)]
pub struct Guarded {
    name: String,
    child: Child,
}

impl Guarded {
    /// Starts `command` in a new process group that dies with this test process.
    pub fn spawn(name: &str, mut command: Command) -> Result<Self> {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
        // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
        #[allow(
            unsafe_code,
            reason = "pre_exec is the only way to set the parent-death signal"
        )]
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().with_context(|| {
            format!(
                "could not start {name} ({:?}); `make test` installs the test tools",
                command.get_program()
            )
        })?;
        Ok(Self {
            name: name.to_owned(),
            child,
        })
    }

    /// The process id (also its process group id).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Reads the first line the process prints on stdout (which must be piped),
    /// failing after `timeout` or if the process exits first.
    pub fn first_stdout_line(&mut self, timeout: Duration) -> Result<String> {
        let stdout = self
            .child
            .stdout
            .take()
            .with_context(|| format!("{}: stdout is not piped", self.name))?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let read = reader.read_line(&mut line).map(|_| line);
            let _ = tx.send(read);
            // Keep draining so the child never blocks on a full pipe.
            let _ = std::io::copy(&mut reader.take(u64::MAX), &mut std::io::sink());
        });
        let received = rx.recv_timeout(timeout);
        let note = self.exit_note();
        match received {
            Ok(Ok(line)) if !line.trim().is_empty() => Ok(line.trim().to_owned()),
            Ok(Ok(_)) => bail!("{} exited before printing anything{note}", self.name),
            Ok(Err(e)) => bail!("reading from {}: {e}", self.name),
            Err(_) => bail!("{} printed nothing within {timeout:?}{note}", self.name),
        }
    }

    /// Takes the piped stdout, for a reader of the caller's own.
    pub fn take_stdout(&mut self) -> Result<std::process::ChildStdout> {
        self.child
            .stdout
            .take()
            .with_context(|| format!("{}: stdout is not piped", self.name))
    }

    /// Writes `bytes` to the process's stdin (which must be piped) and closes it.
    pub fn write_stdin_and_close(&mut self, bytes: &[u8]) -> Result<()> {
        use std::io::Write;
        let mut stdin = self
            .child
            .stdin
            .take()
            .with_context(|| format!("{}: stdin is not piped", self.name))?;
        stdin
            .write_all(bytes)
            .with_context(|| format!("writing to {}", self.name))
    }

    /// Fails if the process has already exited.
    pub fn ensure_running(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("{} exited early: {status}", self.name);
        }
        Ok(())
    }

    fn exit_note(&mut self) -> String {
        match self.child.try_wait() {
            Ok(Some(status)) => format!(" (it exited: {status})"),
            _ => String::new(),
        }
    }

    /// Kills the whole process group at once (SIGKILL: no shutdown, no flush).
    pub fn kill(&mut self) {
        if let Ok(pgid) = i32::try_from(self.child.id()) {
            kill_group(pgid, libc::SIGKILL);
        }
        let _ = self.child.wait();
    }

    /// Stops the whole process group: SIGTERM, then SIGKILL after a grace period.
    pub fn stop(&mut self) {
        let Ok(pgid) = i32::try_from(self.child.id()) else {
            return;
        };
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            // The leader is gone; its group may not be.
            kill_group(pgid, libc::SIGKILL);
            return;
        }
        kill_group(pgid, libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                kill_group(pgid, libc::SIGKILL);
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("{} did not stop on SIGTERM; killing it", self.name);
        kill_group(pgid, libc::SIGKILL);
        let _ = self.child.wait();
    }
}

fn kill_group(pgid: i32, signal: i32) {
    // SAFETY: plain syscall on a process group we created.
    #[allow(unsafe_code, reason = "std has no API to signal a process group")]
    unsafe {
        libc::kill(-pgid, signal);
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A command with nothing inherited on stdin and its output discarded or piped.
pub(crate) fn quiet(program: &str) -> Command {
    let mut command = Command::new(program);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// Polls `check` every 25 ms until it is true or `timeout` passes.
pub(crate) fn wait_until(
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> bool,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if check() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}
