//! Every call from the window: parsed into a declared `doorstep_core::ipc::Command`
//! and run by the household session. Nothing here knows a command by name but the
//! two that stream raw frames to a channel (live video and a recording's playback).

use std::sync::Arc;

use doorstep_core::ipc::{Command, IpcError, PLAY_RECORDING, PlayRecording, WATCH_LIVE, WatchLive};
use doorstep_core::session::{FrameSink, HouseholdSession};
use tauri::ipc::{Invoke, InvokeBody, InvokeError, InvokeResponseBody, JavaScriptChannelId};
use tauri::{Manager, Webview, Wry};

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
    if name == WATCH_LIVE || name == PLAY_RECORDING {
        let webview = invoke.message.webview();
        let name = name.to_owned();
        invoke.resolver.respond_async_serialized(async move {
            let invalid = |e: serde_json::Error| IpcError::invalid(format!("{name}: {e}"));
            if name == WATCH_LIVE {
                let request: WatchLive<JavaScriptChannelId> =
                    serde_json::from_value(args).map_err(invalid)?;
                let sink = raw_channel(webview, request.frames);
                session.watch_live(&request.lock_id, sink).await?;
            } else {
                let request: PlayRecording<JavaScriptChannelId> =
                    serde_json::from_value(args).map_err(invalid)?;
                let sink = raw_channel(webview, request.frames);
                session
                    .play_recording(&request.recording_id, request.from, sink)
                    .await?;
            }
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

/// The page's channel as a sink of raw frame messages (no JSON, no base64); false
/// once the page no longer listens.
fn raw_channel(webview: Webview<Wry>, channel: JavaScriptChannelId) -> FrameSink {
    let frames = channel.channel_on::<Wry, InvokeResponseBody>(webview);
    Box::new(move |message| frames.send(InvokeResponseBody::Raw(message)).is_ok())
}
