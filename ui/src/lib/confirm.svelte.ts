import { commands, type IpcError } from "./bindings";

/** The password prompt's state: open while a sensitive action waits for it. */
export const prompt = $state<{ open: boolean; needsCode: boolean; error: string | null }>({
  open: false,
  needsCode: false,
  error: null,
});

let answer: ((given: { password: string; code: string } | null) => void) | null = null;

function isReauth(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as IpcError).code === "reauth_required";
}

function ask(): Promise<{ password: string; code: string } | null> {
  prompt.open = true;
  return new Promise((resolve) => {
    answer = resolve;
  });
}

/** The person typed the password (and code) or gave up. */
export function answerPrompt(given: { password: string; code: string } | null) {
  const resolve = answer;
  answer = null;
  resolve?.(given);
}

/**
 * Runs a sensitive action. When the cloud wants the password confirmed first
 * (it was entered on this device more than five minutes ago), asks for it, and
 * retries once confirmed; a cancelled prompt rejects with the cloud's error.
 */
export async function withConfirmation<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (!isReauth(error)) throw error;
    prompt.error = null;
    prompt.needsCode = false;
    for (;;) {
      const given = await ask();
      if (!given) {
        prompt.open = false;
        throw error;
      }
      try {
        await commands.confirmPassword(given.password, given.code || null);
        prompt.open = false;
        return await action();
      } catch (failure) {
        const code = (failure as IpcError).code;
        if (code === "credentials") {
          prompt.needsCode = prompt.needsCode || /code/i.test((failure as IpcError).message);
          prompt.error = (failure as IpcError).message;
          continue;
        }
        prompt.open = false;
        throw failure;
      }
    }
  }
}
