// Generated from crates/core/src/ipc.rs by `make bindings`. Do not edit.
import { invoke } from "@tauri-apps/api/core";

export type ErrorCode = "internal";

export type IpcError = { 
/**
 * What kind of failure; the UI picks its reaction from this.
 */
code: ErrorCode, 
/**
 * What went wrong and what to do, in a sentence.
 */
message: string, };

export type Probe = { 
/**
 * Whether the part works.
 */
ok: boolean, 
/**
 * What was found, or what is wrong and how to fix it.
 */
detail: string, };

export type SystemCheck = { 
/**
 * The app's version.
 */
appVersion: string, 
/**
 * The app identifier; also the keyring namespace.
 */
appId: string, 
/**
 * Where local data is kept.
 */
dataDir: string, 
/**
 * The OS keyring, where sign-in tokens and keys go.
 */
secureStore: Probe, 
/**
 * The desktop's notification service, which shows the popups.
 */
notifications: Probe, };

export const commands = {
  /**
   * Checks the keyring and the notification service this app needs.
   */
  systemCheck: (): Promise<SystemCheck> => invoke<SystemCheck>("system_check"),
};
