//! The one place that decides every folder the client writes to.
//!
//! Tests, the demo home and side-by-side installs point all of them somewhere else
//! with a single variable, `DOORSTEP_HOME`, so nothing they do touches the user's
//! real configuration or data.
#![allow(
    clippy::disallowed_methods,
    reason = "this module is where the environment is read"
)]

use std::path::{Path, PathBuf};

/// Environment variable that moves every app folder under one root.
pub const HOME_ENV: &str = "DOORSTEP_HOME";

/// The folders one build of the client uses, all derived from its app identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppPaths {
    app_id: String,
    config: PathBuf,
    data: PathBuf,
    cache: PathBuf,
}

/// Why the folders could not be decided.
#[derive(Debug, thiserror::Error)]
pub enum PathsError {
    /// Neither `DOORSTEP_HOME` nor a home directory is known.
    #[error("cannot find a home directory for Doorstep's files; set {HOME_ENV} to a folder")]
    NoHome,
    /// The app identifier would escape its folder.
    #[error("app identifier {0:?} is not a valid folder name (use letters, digits, '.', '-', '_')")]
    BadAppId(String),
}

impl AppPaths {
    /// Folders for `app_id`, under `DOORSTEP_HOME` when it is set, else the user's
    /// XDG folders (`~/.config/<app_id>`, `~/.local/share/<app_id>`, `~/.cache/<app_id>`).
    pub fn resolve(app_id: &str) -> Result<Self, PathsError> {
        match std::env::var_os(HOME_ENV).filter(|v| !v.is_empty()) {
            Some(root) => Self::under(Path::new(&root), app_id),
            None => {
                validate_app_id(app_id)?;
                let base = directories::BaseDirs::new().ok_or(PathsError::NoHome)?;
                Ok(Self {
                    app_id: app_id.to_owned(),
                    config: base.config_dir().join(app_id),
                    data: base.data_dir().join(app_id),
                    cache: base.cache_dir().join(app_id),
                })
            }
        }
    }

    /// Folders for `app_id` below one root folder.
    pub fn under(root: &Path, app_id: &str) -> Result<Self, PathsError> {
        validate_app_id(app_id)?;
        let root = root.join(app_id);
        Ok(Self {
            app_id: app_id.to_owned(),
            config: root.join("config"),
            data: root.join("data"),
            cache: root.join("cache"),
        })
    }

    /// The app identifier these folders belong to; also the keyring namespace.
    pub fn app_id(&self) -> &str {
        &self.app_id
    }
    /// Settings the user chose.
    pub fn config_dir(&self) -> &Path {
        &self.config
    }
    /// Local state: the event cache, the demo home's database.
    pub fn data_dir(&self) -> &Path {
        &self.data
    }
    /// What can be thrown away: downloaded clips, thumbnails.
    pub fn cache_dir(&self) -> &Path {
        &self.cache
    }
    /// The web view's own storage, kept beside our data rather than in WebKit's default.
    pub fn webview_dir(&self) -> PathBuf {
        self.data.join("webview")
    }

    /// Creates every folder (owner-only on Unix, as they will hold private state).
    pub fn create_all(&self) -> std::io::Result<()> {
        for dir in [&self.config, &self.data, &self.cache] {
            create_private_dir(dir)?;
        }
        Ok(())
    }
}

fn validate_app_id(app_id: &str) -> Result<(), PathsError> {
    let ok = !app_id.is_empty()
        && !app_id.starts_with('.')
        && app_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(PathsError::BadAppId(app_id.to_owned()))
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_folder_lives_under_the_given_root() {
        let root = tempfile::tempdir().unwrap();
        let paths = AppPaths::under(root.path(), "dev.doorstep.test").unwrap();
        for dir in [
            paths.config_dir(),
            paths.data_dir(),
            paths.cache_dir(),
            &paths.webview_dir(),
        ] {
            assert!(
                dir.starts_with(root.path().join("dev.doorstep.test")),
                "{dir:?}"
            );
        }
        paths.create_all().unwrap();
        assert!(paths.data_dir().is_dir());
    }

    #[test]
    fn an_app_id_that_would_escape_its_folder_is_refused() {
        let root = tempfile::tempdir().unwrap();
        for bad in ["", "..", "../etc", "a/b", ".hidden", "a b"] {
            let err = AppPaths::under(root.path(), bad).unwrap_err();
            assert!(
                err.to_string().contains("not a valid folder name"),
                "{bad}: {err}"
            );
        }
    }
}
