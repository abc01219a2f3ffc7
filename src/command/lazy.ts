/**
 * A module a command needs only when it runs: imported on the first call, and the same promise
 * after that, so an idle bot does not hold the module's code and a busy one does not resolve the
 * import again for every command.
 */
export function lazy<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => {
    if (!loaded) {
      loaded = load();
      // A failed import (a file missing from a broken deploy) is tried again by the next command.
      loaded.catch(() => { loaded = undefined; });
    }
    return loaded;
  };
}
