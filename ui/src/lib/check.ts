import type { IpcError, SystemCheck, Worded } from "./bindings";
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
  if (isIpcError(error)) return error.worded ? worded(error.worded) : error.message;
  if (error instanceof Error) return error.message;
  if (typeof error === "string" && error.length > 0) return error;
  return t("error.generic");
}

/** The errors a person meets most, in the app's language (the core's sentence is English). */
export function worded(error: Worded): string {
  switch (error.what) {
    case "wrong_password":
      return t("error.wrongPassword");
    case "totp_required":
      return t("error.totpRequired");
    case "recovery_refused":
      return t("error.recoveryRefused");
    case "recovery_key_length":
      return t("error.recoveryKeyLength", { n: error.symbols });
    case "recovery_key_symbol":
      return t("error.recoveryKeySymbol", { symbol: error.symbol });
    case "key_not_opened":
      return t("error.keyNotOpened");
    case "unreachable":
      return t("error.unreachable", { url: error.url });
    case "not_signed_in":
      return t("error.notSignedIn");
    case "signed_out":
      return t("error.signedOut");
    default: {
      const unknown: never = error;
      return String(unknown);
    }
  }
}
