//! The desktop UI's contract: every command it may call, declared once, and the
//! types that cross the boundary. `ui/src/lib/bindings.ts` is generated from this
//! file (`make bindings`); a test fails when the committed copy is stale.

use serde::Serialize;
use ts_rs::TS;

/// An error as the UI receives it: a closed code it can branch on and a sentence
/// for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, thiserror::Error)]
#[error("{message}")]
pub struct IpcError {
    /// What kind of failure; the UI picks its reaction from this.
    pub code: ErrorCode,
    /// What went wrong and what to do, in a sentence.
    pub message: String,
}

/// The failures the UI treats differently. Add one only when the UI branches on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A bug or an environment problem; show the message.
    Internal,
}

impl IpcError {
    /// An internal error carrying `message`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::Internal,
            message: message.into(),
        }
    }
}

/// The outcome of one check of this computer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Probe {
    /// Whether the part works.
    pub ok: bool,
    /// What was found, or what is wrong and how to fix it.
    pub detail: String,
}

/// What the first screen's "Check this computer" shows: whether the parts the app
/// relies on are here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SystemCheck {
    /// The app's version.
    pub app_version: String,
    /// The app identifier; also the keyring namespace.
    pub app_id: String,
    /// Where local data is kept.
    pub data_dir: String,
    /// The OS keyring, where sign-in tokens and keys go.
    pub secure_store: Probe,
    /// The desktop's notification service, which shows the popups.
    pub notifications: Probe,
}

/// Declares the UI's commands once: the Rust name the shell registers and the
/// TypeScript wrapper the UI calls are both derived from this list.
macro_rules! ipc_commands {
    ($( $(#[doc = $doc:literal])* $name:ident ( $($arg:ident : $arg_ty:ty),* ) -> $ret:ty; )*) => {
        /// The name of every command, as the shell registers it.
        pub const COMMAND_NAMES: &[&str] = &[$(stringify!($name)),*];

        /// TypeScript for the `commands` object the UI calls.
        pub fn commands_typescript(cfg: &ts_rs::Config) -> String {
            let mut out = String::from("export const commands = {\n");
            $(
                let docs: &[&str] = &[$($doc),*];
                if !docs.is_empty() {
                    out.push_str("  /**");
                    for line in docs { out.push_str("\n   *"); out.push_str(line); }
                    out.push_str("\n   */\n");
                }
                let params: Vec<String> = vec![$(format!("{}: {}", stringify!($arg), <$arg_ty as TS>::name(cfg))),*];
                let args: Vec<&str> = vec![$(stringify!($arg)),*];
                out.push_str(&format!(
                    "  {camel}: ({params}): Promise<{ret}> => invoke<{ret}>(\"{name}\"{args}),\n",
                    camel = snake_to_camel(stringify!($name)),
                    params = params.join(", "),
                    ret = <$ret as TS>::name(cfg),
                    name = stringify!($name),
                    args = if args.is_empty() { String::new() } else { format!(", {{ {} }}", args.join(", ")) },
                ));
            )*
            out.push_str("};\n");
            out
        }
    };
}

ipc_commands! {
    /// Checks the keyring and the notification service this app needs.
    system_check() -> SystemCheck;
}

fn snake_to_camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The whole generated `bindings.ts`.
pub fn bindings_typescript() -> String {
    let cfg = ts_rs::Config::default();
    let decls = [
        ErrorCode::decl(&cfg),
        IpcError::decl(&cfg),
        Probe::decl(&cfg),
        SystemCheck::decl(&cfg),
    ];
    let mut out = String::from(
        "// Generated from crates/core/src/ipc.rs by `make bindings`. Do not edit.\n\
         import { invoke } from \"@tauri-apps/api/core\";\n\n",
    );
    for decl in decls {
        out.push_str("export ");
        out.push_str(&decl);
        out.push_str("\n\n");
    }
    out.push_str(&commands_typescript(&cfg));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn committed_path() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/lib/bindings.ts")
    }

    #[test]
    fn committed_typescript_bindings_match_the_rust_types() {
        let generated = bindings_typescript();
        let path = committed_path();
        if std::env::var_os("DOORSTEP_UPDATE_BINDINGS").is_some() {
            std::fs::write(&path, &generated).unwrap();
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{} is stale: run `make bindings` and commit the result",
            path.display()
        );
    }

    #[test]
    fn errors_serialize_as_code_and_message() {
        let json = serde_json::to_string(&IpcError::internal("boom")).unwrap();
        assert_eq!(json, r#"{"code":"internal","message":"boom"}"#);
    }

    #[test]
    fn command_wrappers_use_camel_case_and_the_registered_name() {
        let ts = commands_typescript(&ts_rs::Config::default());
        assert!(
            ts.contains(
                r#"systemCheck: (): Promise<SystemCheck> => invoke<SystemCheck>("system_check")"#
            ),
            "{ts}"
        );
        assert_eq!(COMMAND_NAMES, &["system_check"]);
    }
}
