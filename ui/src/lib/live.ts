import { Channel, invoke } from "@tauri-apps/api/core";
import { commands } from "./bindings";

/** One camera frame as the shell streams it: `seq u64 BE ‖ captured_at i64 BE ‖ JPEG`. */
export interface LiveFrame {
  seq: number;
  capturedAt: number;
  jpeg: Uint8Array;
}

/** No new frame for this long and the picture is stale (SPEC §4). */
export const STALE_AFTER_MS = 1000;

export function parseFrame(buffer: ArrayBuffer): LiveFrame | null {
  if (buffer.byteLength < 18) return null;
  const view = new DataView(buffer);
  const jpeg = new Uint8Array(buffer, 16);
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) return null;
  return {
    seq: Number(view.getBigUint64(0)),
    capturedAt: Number(view.getBigInt64(8)),
    jpeg,
  };
}

/** Starts the live view of `lockId`; frames arrive raw (no JSON) on a Tauri channel. */
export async function watchLive(lockId: string, onFrame: (frame: LiveFrame) => void): Promise<void> {
  const frames = new Channel<ArrayBuffer>();
  frames.onmessage = (message) => {
    const frame = parseFrame(message);
    if (frame) onFrame(frame);
  };
  await invoke("watch_live", { lock_id: lockId, frames });
}

export async function stopLive(): Promise<void> {
  await commands.stopLive();
}

/**
 * Plays a recording from the first frame captured at or after `from` (its start,
 * logged as a playback, when `null`): frames arrive raw at the pace they were filmed,
 * then `onEnd` once at the end. A newer `playRecording` or `stopPlayback` ends it.
 */
export async function playRecording(
  recordingId: string,
  from: number | null,
  onFrame: (frame: LiveFrame) => void,
  onEnd: () => void,
): Promise<void> {
  const frames = new Channel<ArrayBuffer>();
  frames.onmessage = (message) => {
    if (message.byteLength === 0) return onEnd();
    const frame = parseFrame(message);
    if (frame) onFrame(frame);
  };
  await invoke("play_recording", { recording_id: recordingId, from, frames });
}

export async function stopPlayback(): Promise<void> {
  await commands.stopPlayback();
}

/** Draws a JPEG onto the canvas, scaled to it. */
export async function drawJpeg(canvas: HTMLCanvasElement | undefined, jpeg: Blob): Promise<void> {
  const bitmap = await createImageBitmap(jpeg);
  canvas?.getContext("2d")?.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
}

/** A frame's JPEG as a blob (copied out of the message buffer). */
export function jpegOf(frame: LiveFrame): Blob {
  return new Blob([new Uint8Array(frame.jpeg)], { type: "image/jpeg" });
}

/**
 * What the open live view has drawn, for people and for the bench's in-page probe
 * (`window.__doorstepLive`): open → first frame drawn, and each frame's age when drawn
 * (capture stamp → on the canvas; the camera's clock against this computer's).
 */
export interface LiveStats {
  openedAt: number;
  firstDrawnMs: number | null;
  drawnAgesMs: number[];
}

const KEPT_AGES = 600;

export function openStats(): LiveStats {
  const stats: LiveStats = { openedAt: performance.now(), firstDrawnMs: null, drawnAgesMs: [] };
  (globalThis as { __doorstepLive?: LiveStats }).__doorstepLive = stats;
  return stats;
}

export function recordDrawn(stats: LiveStats, capturedAt: number) {
  stats.firstDrawnMs ??= performance.now() - stats.openedAt;
  stats.drawnAgesMs.push(Date.now() - capturedAt);
  if (stats.drawnAgesMs.length > KEPT_AGES) stats.drawnAgesMs.shift();
}
