/**
 * Per-container initialisation for Lambda handlers: `init` runs on the first call and its
 * result is shared by every later invocation; a failed cold start (Secrets Manager throttled, a
 * network blip) is forgotten so the next invocation tries again instead of failing forever.
 */
export function initOnce<T>(init: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    if (!pending) {
      const attempt = init();
      pending = attempt;
      attempt.catch(() => {
        if (pending === attempt) pending = undefined;
      });
    }
    return pending;
  };
}
