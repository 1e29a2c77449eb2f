//! The Tauri side of `doorstep_core::ipc`: each command is a few lines that hand
//! the work to the core. Names match `doorstep_core::ipc::COMMAND_NAMES`.

use doorstep_api::{Address, AuditEntry, Delivery, Device, Recording};
use doorstep_core::ipc::{
    DeliveryView, GuestView, HomeView, IpcError, PolicyView, RecordingFrame, SessionInfo,
    SettingsView, SystemCheck,
};
use doorstep_core::video::LiveView;
use doorstep_core::{Client, Credentials};
use secrecy::SecretString;
use tauri::ipc::{Channel, InvokeResponseBody};
use tauri::{AppHandle, State};

use crate::AppState;
use crate::household::Household;

type Answer<T> = Result<T, IpcError>;

fn not_signed_in() -> IpcError {
    IpcError::from(doorstep_core::CoreError::NotSignedIn)
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn system_check(
    app: AppHandle,
    state: State<'_, AppState>,
) -> Answer<SystemCheck> {
    let paths = state.paths.clone();
    let version = app.package_info().version.to_string();
    // The keyring and notification probes block on D-Bus.
    tauri::async_runtime::spawn_blocking(move || doorstep_core::system::check(&paths, &version))
        .await
        .map_err(|e| IpcError::internal(format!("the computer check stopped unexpectedly: {e}")))
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn session(app: AppHandle, state: State<'_, AppState>) -> Answer<SessionInfo> {
    let mut household = state.household.lock().await;
    if household.is_none() {
        // A sign-in from an earlier run (the demo restarts with the app).
        if let Some(client) = Client::restore(&state.paths)? {
            if demo_marker(&state).exists() {
                drop(household);
                return start_demo(app, state).await;
            }
            *household = Some(Household::start(&app, client, None, state.language.clone()));
        }
    }
    Ok(household.as_ref().map_or(
        SessionInfo {
            signed_in: false,
            demo: false,
            email: None,
            device_name: None,
        },
        Household::info,
    ))
}

fn demo_marker(state: &AppState) -> std::path::PathBuf {
    state.paths.data_dir().join("demo").join("demo.json")
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn start_demo(app: AppHandle, state: State<'_, AppState>) -> Answer<SessionInfo> {
    let mut household = state.household.lock().await;
    if let Some(current) = household.as_ref()
        && current.demo.is_some()
    {
        return Ok(current.info());
    }
    if let Some(previous) = household.take() {
        previous.stop().await;
    }
    let (mut demo, client) =
        doorstep_demo::DemoHome::start(&state.paths, doorstep_demo::Pace::from_env())
            .await
            .map_err(|e| IpcError::internal(format!("the demo home could not start: {e:#}")))?;
    let mut started = Household::start(&app, client, None, state.language.clone());
    // The courier sets off once the feed is live, so its first parcel is news (with
    // a popup) rather than history absorbed by the first sync.
    let mut connection = started.feed.connection();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while *connection.borrow_and_update() != doorstep_core::Connection::Online {
            if connection.changed().await.is_err() {
                return;
            }
        }
    })
    .await;
    demo.start_courier();
    started.demo = Some(demo);
    let info = started.info();
    *household = Some(started);
    Ok(info)
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn sign_in(
    app: AppHandle,
    state: State<'_, AppState>,
    cloud: String,
    email: String,
    password: String,
    totp: Option<String>,
) -> Answer<SessionInfo> {
    let client = Client::sign_in(
        &state.paths,
        Credentials {
            cloud,
            email,
            password: SecretString::from(password),
            totp: totp.filter(|t| !t.trim().is_empty()),
            device_name: doorstep_core::client::default_device_name("Doorstep app"),
        },
    )
    .await?;
    replace(&app, &state, client).await
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn create_account(
    app: AppHandle,
    state: State<'_, AppState>,
    cloud: String,
    email: String,
    password: String,
) -> Answer<SessionInfo> {
    let client = Client::create_account(
        &state.paths,
        Credentials {
            cloud,
            email,
            password: SecretString::from(password),
            totp: None,
            device_name: doorstep_core::client::default_device_name("Doorstep app"),
        },
        "Europe/Berlin",
    )
    .await?;
    replace(&app, &state, client).await
}

async fn replace(app: &AppHandle, state: &AppState, client: Client) -> Answer<SessionInfo> {
    let mut household = state.household.lock().await;
    if let Some(previous) = household.take() {
        previous.stop().await;
    }
    let _ = std::fs::remove_file(demo_marker(state));
    let started = Household::start(app, client, None, state.language.clone());
    let info = started.info();
    *household = Some(started);
    Ok(info)
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn sign_out(state: State<'_, AppState>) -> Answer<()> {
    let mut household = state.household.lock().await;
    if let Some(current) = household.take() {
        let client = current.client.clone();
        current.stop().await;
        client.sign_out().await?;
    }
    let _ = std::fs::remove_file(demo_marker(&state));
    doorstep_core::secrets::SecretStore::new(state.paths.app_id())
        .delete(doorstep_demo::DEMO_PASSWORD_ENTRY)
        .map_err(doorstep_core::CoreError::from)?;
    Ok(())
}

async fn client(
    state: &AppState,
) -> Answer<(
    Client,
    doorstep_core::ipc::ConnectionView,
    doorstep_core::cache::Cache,
)> {
    let household = state.household.lock().await;
    let current = household.as_ref().ok_or_else(not_signed_in)?;
    let connection = doorstep_core::ipc::ConnectionView::from(&*current.feed.connection().borrow());
    Ok((
        current.client.clone(),
        connection,
        current.feed.snapshot().await,
    ))
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn home(state: State<'_, AppState>) -> Answer<HomeView> {
    let (client, connection, cache) = client(&state).await?;
    tracing::debug!(?connection, "home");
    // Offline, the cache is what there is; the locks need the cloud.
    let locks = client.locks().await.unwrap_or_default();
    Ok(HomeView {
        locks,
        deliveries: cache.deliveries_newest_first(),
        connection,
    })
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn delivery_view(state: State<'_, AppState>, id: String) -> Answer<DeliveryView> {
    let (client, _, cache) = client(&state).await?;
    let delivery = match client.delivery(&id).await {
        Ok(delivery) => delivery,
        Err(e) => cache.deliveries.get(&id).cloned().ok_or(e)?,
    };
    let timeline = cache
        .events
        .iter()
        .filter(|e| e.delivery_id() == Some(id.as_str()))
        .cloned()
        .collect();
    let addresses = client.addresses().await.unwrap_or_default();
    // A delivery the policy let in names no lock until the lock reports; with one
    // lock, that is the one the camera belongs to.
    let lock_id = match &delivery.lock_id {
        Some(lock) => Some(lock.clone()),
        None => match client.locks().await.unwrap_or_default().as_slice() {
            [only] => Some(only.id.clone()),
            _ => None,
        },
    };
    Ok(DeliveryView {
        delivery,
        lock_id,
        timeline,
        addresses,
    })
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn block(state: State<'_, AppState>, id: String) -> Answer<Delivery> {
    let (client, _, _) = client(&state).await?;
    Ok(client.block(&id).await?)
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn reroute(
    state: State<'_, AppState>,
    id: String,
    address_id: String,
) -> Answer<Delivery> {
    let (client, _, _) = client(&state).await?;
    Ok(client.reroute(&id, &address_id).await?)
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn approve(state: State<'_, AppState>, id: String) -> Answer<Delivery> {
    let (client, _, _) = client(&state).await?;
    Ok(client.approve(&id, None).await?)
}

/// Streams the lock's live frames to the UI as raw bytes (no JSON, no base64):
/// the page decodes the JPEG and draws it on a canvas.
#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn watch_live(
    state: State<'_, AppState>,
    lock_id: String,
    frames: Channel<InvokeResponseBody>,
) -> Answer<()> {
    let mut household = state.household.lock().await;
    let current = household.as_mut().ok_or_else(not_signed_in)?;
    if let Some(previous) = current.live.take() {
        previous.abort();
    }
    let mut view = LiveView::open(&current.client, &lock_id).await?;
    current.live = Some(tauri::async_runtime::spawn(async move {
        while let Ok(Some(update)) = view.next().await {
            if let doorstep_core::video::LiveUpdate::Frame { frame, .. } = update
                && frames
                    .send(InvokeResponseBody::Raw(frame.to_message()))
                    .is_err()
            {
                return;
            }
        }
    }));
    Ok(())
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn stop_live(state: State<'_, AppState>) -> Answer<()> {
    if let Some(current) = state.household.lock().await.as_mut()
        && let Some(live) = current.live.take()
    {
        live.abort();
    }
    Ok(())
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn activity(
    state: State<'_, AppState>,
    prefix: Option<String>,
) -> Answer<Vec<AuditEntry>> {
    let (client, _, _) = client(&state).await?;
    Ok(client.audit(prefix.as_deref(), 200).await?)
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn recordings(state: State<'_, AppState>) -> Answer<Vec<Recording>> {
    let (client, _, _) = client(&state).await?;
    Ok(client.recordings(None).await?)
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn recording_frame(
    state: State<'_, AppState>,
    id: String,
    at: Option<i64>,
) -> Answer<RecordingFrame> {
    use base64::Engine;
    let (client, _, _) = client(&state).await?;
    let frame = client.recording_frame(&id, at).await?;
    Ok(RecordingFrame {
        seq: frame.seq,
        captured_at: frame.captured_at,
        data_url: format!(
            "data:image/jpeg;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&frame.jpeg)
        ),
    })
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn devices(state: State<'_, AppState>) -> Answer<Vec<Device>> {
    let (client, _, _) = client(&state).await?;
    Ok(client.devices().await?)
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn sign_out_device(state: State<'_, AppState>, id: String) -> Answer<()> {
    let (client, _, _) = client(&state).await?;
    Ok(client.sign_out_device(&id).await?)
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn confirm_password(
    state: State<'_, AppState>,
    password: String,
    totp: Option<String>,
) -> Answer<()> {
    let (client, _, _) = client(&state).await?;
    let password = secrecy::SecretString::from(password);
    Ok(client
        .confirm_password(&password, totp.as_deref().filter(|t| !t.is_empty()))
        .await?)
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn settings(state: State<'_, AppState>) -> Answer<SettingsView> {
    let (client, _, _) = client(&state).await?;
    Ok(SettingsView {
        lead_time_minutes: client.household_settings().await?.lead_time_minutes,
        addresses: client.addresses().await?,
    })
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn set_lead_time(state: State<'_, AppState>, minutes: i64) -> Answer<()> {
    let (client, _, _) = client(&state).await?;
    client.set_lead_time(minutes).await?;
    Ok(())
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn add_address(
    state: State<'_, AppState>,
    label: String,
    address: String,
) -> Answer<Address> {
    let (client, _, _) = client(&state).await?;
    Ok(client
        .add_address(&label, doorstep_api::AddressKind::Neighbour, &address)
        .await?)
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn remove_address(state: State<'_, AppState>, id: String) -> Answer<()> {
    let (client, _, _) = client(&state).await?;
    Ok(client.remove_address(&id).await?)
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn test_popup(state: State<'_, AppState>) -> Answer<()> {
    let popup = match state.language.get() {
        doorstep_core::alerts::Language::German => doorstep_core::popup::Popup::new(
            "Doorstep-Testhinweis",
            "Hinweise funktionieren: Sie sehen einen, wenn ein Kurier unterwegs oder an der Tür ist.",
        ),
        doorstep_core::alerts::Language::English => doorstep_core::popup::Popup::new(
            "Doorstep test popup",
            "Popups work: you will see one when a courier is on the way or at the door.",
        ),
    };
    tauri::async_runtime::spawn_blocking(move || {
        doorstep_core::popup::Notifier::new("Doorstep").show(&popup)
    })
    .await
    .map_err(|e| IpcError::internal(e.to_string()))?
    .map_err(|e| IpcError::internal(e.to_string()))?;
    Ok(())
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn policy(state: State<'_, AppState>) -> Answer<PolicyView> {
    let (client, _, _) = client(&state).await?;
    Ok(PolicyView::from(client.policy().await?.as_ref()))
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn set_policy(
    state: State<'_, AppState>,
    carriers: Vec<String>,
    days: String,
    hours: String,
    max_window_minutes: u32,
) -> Answer<PolicyView> {
    let (client, _, _) = client(&state).await?;
    let zone = client.household_settings().await?.time_zone;
    let weekly = doorstep_core::schedule_text::weekly(&days, &hours, &zone)?;
    let carriers: Vec<String> = carriers
        .into_iter()
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect();
    let policy = client
        .set_policy(carriers, Vec::new(), weekly, max_window_minutes)
        .await?;
    Ok(PolicyView::from(Some(&policy)))
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn set_language(state: State<'_, AppState>, language: String) -> Answer<()> {
    state
        .language
        .set(doorstep_core::alerts::Language::from_tag(&language));
    Ok(())
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) fn first_screen_shown() -> Answer<()> {
    static SHOWN: std::sync::Once = std::sync::Once::new();
    SHOWN.call_once(|| {
        tracing::info!(
            since_start_ms = crate::STARTED.get().map(|t| t.elapsed().as_millis()),
            "first screen shown"
        );
    });
    Ok(())
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn guests(state: State<'_, AppState>) -> Answer<Vec<GuestView>> {
    let (client, _, _) = client(&state).await?;
    let zone = client.household_settings().await?.time_zone;
    Ok(client
        .guests()
        .await?
        .iter()
        .map(|guest| GuestView::new(guest, &zone))
        .collect())
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn add_guest(
    state: State<'_, AppState>,
    name: String,
    key: String,
    days: String,
    hours: String,
    once_on: Option<String>,
) -> Answer<GuestView> {
    let (client, _, _) = client(&state).await?;
    let zone = client.household_settings().await?.time_zone;
    let schedule = match once_on {
        Some(day) => doorstep_proto::GuestSchedule::Once(
            doorstep_core::schedule_text::once_on_day(&day, &hours, &zone)?,
        ),
        None => doorstep_proto::GuestSchedule::Weekly(doorstep_core::schedule_text::weekly(
            &days, &hours, &zone,
        )?),
    };
    let guest = client.add_guest(&name, &key, schedule, &[]).await?;
    Ok(GuestView::new(&guest, &zone))
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn revoke_guest(state: State<'_, AppState>, id: String) -> Answer<()> {
    let (client, _, _) = client(&state).await?;
    Ok(client.revoke_guest(&id).await?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_command_takes_its_arguments_by_the_names_the_bindings_send() {
        // The generated wrappers send `once_on`, not Tauri's default `onceOn`.
        let bare = concat!("#[tauri::", "command]");
        assert_eq!(
            include_str!("commands.rs").matches(bare).count(),
            0,
            "a command without rename_all = \"snake_case\" reads its multi-word arguments as missing"
        );
    }
}
