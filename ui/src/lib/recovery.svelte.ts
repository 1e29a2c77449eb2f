/**
 * A recovery key shown at sign-up and not yet confirmed as written down (the window
 * closed on it): Home reminds the household to make a new one until it does. Kept
 * in the web view's storage, per login; the key itself is never kept.
 */
const STORAGE_KEY = "doorstep.recoveryKeyUnconfirmed";
const storage = globalThis.localStorage;

export const recoveryReminder = $state<{ email: string | null }>({
  email: storage?.getItem(STORAGE_KEY) ?? null,
});

/** The key of the login `email` is on screen, not yet confirmed. */
export function awaitWrittenDown(email: string) {
  storage?.setItem(STORAGE_KEY, email);
  recoveryReminder.email = email;
}

/** A recovery key was written down (or a new one made): no reminder. */
export function writtenDown() {
  storage?.removeItem(STORAGE_KEY);
  recoveryReminder.email = null;
}
