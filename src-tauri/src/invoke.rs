//! Every call from the window: parsed into a declared `doorstep_core::ipc::Command`
//! and run by the household session. Nothing here knows a command by name but the
//! one that streams raw frames to a channel.

use std::sync::Arc;

use doorstep_core::ipc::{Command, IpcError, WATCH_LIVE, WatchLive};
use doorstep_core::session::HouseholdSession;
use tauri::ipc::{Invoke, InvokeBody, InvokeError, InvokeResponseBody, JavaScriptChannelId};
use tauri::{Manager, Wry};

/// Tauri's invoke handler: `false` for a command nobody declared (Tauri answers
/// "command not found").
pub(crate) fn handle(invoke: Invoke<Wry>) -> bool {
    let name = invoke.message.command();
    let args = match invoke.message.payload() {
        InvokeBody::Json(args) => args.clone(),
        InvokeBody::Raw(_) => serde_json::Value::Null,
    };
    let session = invoke
        .message
        .webview_ref()
        .state::<Arc<HouseholdSession>>()
        .inner()
        .clone();
    if name == WATCH_LIVE {
        let webview = invoke.message.webview();
        invoke.resolver.respond_async_serialized(async move {
            let request: WatchLive<JavaScriptChannelId> = serde_json::from_value(args)
                .map_err(|e| IpcError::invalid(format!("{WATCH_LIVE}: {e}")))?;
            let frames = request
                .frames
                .channel_on::<Wry, InvokeResponseBody>(webview);
            session
                .watch_live(
                    &request.lock_id,
                    Box::new(move |message| frames.send(InvokeResponseBody::Raw(message)).is_ok()),
                )
                .await?;
            Ok(InvokeResponseBody::Json("null".into()))
        });
        return true;
    }
    let Some(command) = Command::parse(name, &args) else {
        return false;
    };
    invoke.resolver.respond_async_serialized(async move {
        let answer = session.call(command.map_err(InvokeError::from)?).await?;
        Ok(InvokeResponseBody::Json(answer))
    });
    true
}
