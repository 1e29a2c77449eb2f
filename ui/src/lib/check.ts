import type { IpcError, SystemCheck } from "./bindings";

/** One line a person reads about the whole check. */
export function summarize(check: SystemCheck): { ready: boolean; headline: string } {
  const missing = [
    check.secureStore.ok ? null : "a system keyring",
    check.notifications.ok ? null : "a notification service",
  ].filter((part): part is string => part !== null);
  if (missing.length === 0) {
    return { ready: true, headline: "This computer has everything Doorstep needs." };
  }
  return { ready: false, headline: `Doorstep needs ${missing.join(" and ")} on this computer.` };
}

function isIpcError(value: unknown): value is IpcError {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as IpcError).code === "string" &&
    typeof (value as IpcError).message === "string"
  );
}

/** A sentence for any failure a command can reject with. */
export function describeError(error: unknown): string {
  if (isIpcError(error)) return error.message;
  if (error instanceof Error) return error.message;
  if (typeof error === "string" && error.length > 0) return error;
  return "Something went wrong, and the app could not say what.";
}
