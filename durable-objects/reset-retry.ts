/**
 * A Durable Object stub whose calls are sent again, on a fresh stub, when the object was reset under them: a deploy
 * of new code (locally, vitest-pool-workers reloading src/index.ts) makes a call in flight throw an error with
 * `retryable: true`, and Cloudflare's advice is to retry it with a new stub. Only that error is retried, and not
 * when `overloaded` is set (retrying would add load); every JobRunner method is idempotent, so a call that had
 * started before the reset may run again safely. Anything else throws as it came.
 */
const RESET_ATTEMPTS = 3;

interface ResetError {
  retryable?: unknown;
  overloaded?: unknown;
}

/**
 * vitest-pool-workers resets an object the same way when the test run re-imported the Worker's module under it
 * (a Durable Object created in one test file and called from another), but throws a plain Error saying so.
 */
const LOCAL_RESET = /changed, invalidating this Durable Object/;

export function isObjectReset(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { retryable, overloaded } = error as ResetError;
  if (overloaded === true) return false;
  return retryable === true || (error instanceof Error && LOCAL_RESET.test(error.message));
}

export function retryingResets<T extends object>(fresh: () => T): T {
  const first = fresh();
  return new Proxy(first, {
    get(target, name) {
      const member: unknown = Reflect.get(target, name);
      if (typeof member !== "function" || name === "then") return member;
      return async (...args: unknown[]) => {
        let stub = target;
        for (let attempt = 1; ; attempt++) {
          try {
            // Reflect.apply, not .apply: a stub's method is an RPC proxy, whose `apply` would be a remote call too.
            return await Reflect.apply(Reflect.get(stub, name) as (...callArgs: unknown[]) => Promise<unknown>, stub, args);
          } catch (error) {
            if (attempt === RESET_ATTEMPTS || !isObjectReset(error)) throw error;
            stub = fresh();
          }
        }
      };
    },
  });
}
