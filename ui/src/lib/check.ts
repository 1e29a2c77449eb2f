import type { IpcError, SystemCheck } from "./bindings";
import { t } from "./i18n.svelte";

/** One line a person reads about the whole check. */
export function summarize(check: SystemCheck): { ready: boolean; headline: string } {
  const missing = [
    check.secureStore.ok ? null : t("check.needKeyring"),
    check.notifications.ok ? null : t("check.needPopups"),
  ].filter((part): part is string => part !== null);
  if (missing.length === 0) {
    return { ready: true, headline: t("check.ready") };
  }
  return { ready: false, headline: t("check.needs", { what: missing.join(t("check.and")) }) };
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
  return t("error.generic");
}
