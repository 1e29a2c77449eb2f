import { Channel, invoke } from "@tauri-apps/api/core";
import { commands } from "./bindings";

/**
 * One camera frame as the shell streams it: `sent_at i64 BE ‖ seq u64 BE ‖
 * captured_at i64 BE ‖ JPEG`, `sent_at` being when the shell handed it to the window.
 */
export interface LiveFrame {
  seq: number;
  capturedAt: number;
  sentAt: number;
  jpeg: Uint8Array;
}

const HEADER_BYTES = 24;

/** No new frame for this long and the picture is stale (SPEC §4). */
export const STALE_AFTER_MS = 1000;

export function parseFrame(buffer: ArrayBuffer): LiveFrame | null {
  if (buffer.byteLength < HEADER_BYTES + 2) return null;
  const view = new DataView(buffer);
  const jpeg = new Uint8Array(buffer, HEADER_BYTES);
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) return null;
  return {
    sentAt: Number(view.getBigInt64(0)),
    seq: Number(view.getBigUint64(8)),
    capturedAt: Number(view.getBigInt64(16)),
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

/** A frame's JPEG as a blob (the Blob copies it out of the message buffer once). */
export function jpegOf(frame: LiveFrame): Blob {
  return new Blob([frame.jpeg as Uint8Array<ArrayBuffer>], { type: "image/jpeg" });
}

/**
 * What the open live view has drawn, for people and for the bench's in-page probe
 * (`window.__doorstepLive`): open → first frame drawn, and each drawn frame's age
 * (from its capture stamp; the camera's clock against this computer's) when the
 * shell sent it, when the page had it and when it was on the canvas; and how many
 * frames were passed over because a newer one came while one was being drawn.
 */
export interface LiveStats {
  openedAt: number;
  firstDrawnMs: number | null;
  sentAgesMs: number[];
  arrivedAgesMs: number[];
  drawnAgesMs: number[];
  skipped: number;
}

const KEPT_AGES = 600;

export function openStats(): LiveStats {
  const stats: LiveStats = {
    openedAt: performance.now(),
    firstDrawnMs: null,
    sentAgesMs: [],
    arrivedAgesMs: [],
    drawnAgesMs: [],
    skipped: 0,
  };
  (globalThis as { __doorstepLive?: LiveStats }).__doorstepLive = stats;
  return stats;
}

function keep(ages: number[], age: number) {
  ages.push(age);
  if (ages.length > KEPT_AGES) ages.shift();
}

/** `frame`, which reached the page at `arrivedAt` (`Date.now()`), is on the canvas. */
export function recordDrawn(stats: LiveStats, frame: Pick<LiveFrame, "capturedAt" | "sentAt">, arrivedAt: number) {
  stats.firstDrawnMs ??= performance.now() - stats.openedAt;
  keep(stats.sentAgesMs, frame.sentAt - frame.capturedAt);
  keep(stats.arrivedAgesMs, arrivedAt - frame.capturedAt);
  keep(stats.drawnAgesMs, Date.now() - frame.capturedAt);
}

/**
 * Draws frames as they come, newest first: while one is being decoded, a newer one
 * waits in its place and older waiting ones are passed over, so the picture is never
 * behind by a queue of frames nobody will see.
 */
export function latestFirst<T>(draw: (item: T) => Promise<void>, onSkipped: () => void = () => {}): (item: T) => void {
  let drawing = false;
  let waiting: T | null = null;
  async function drain(first: T) {
    drawing = true;
    let next: T | null = first;
    while (next !== null) {
      try {
        await draw(next);
      } catch {
        // A picture that does not decode is passed over; the next one may.
      }
      next = waiting;
      waiting = null;
    }
    drawing = false;
  }
  return (item: T) => {
    if (!drawing) return void drain(item);
    if (waiting !== null) onSkipped();
    waiting = item;
  };
}
