// Programs the runner started that must not outlive this process (VMs in their
// own process group would). One registry and one set of process handlers for
// all of them, installed on first use.
const live = new Set<() => void>();
let installed = false;

function killAll(): void {
  for (const kill of [...live]) kill();
  live.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAll);
  for (const [sig, n] of [['SIGINT', 2], ['SIGTERM', 15]] as const) {
    // A listener replaces Node's default "terminate", so keep that default when
    // nobody else (a command's graceful abort) handles the signal; exit then
    // kills the children. Prepended, so the count is taken before others run.
    process.prependListener(sig, () => {
      if (process.listenerCount(sig) === 1) process.exit(128 + n);
    });
  }
}

/** Registers `kill` to run if the process exits first; the returned function unregisters it. */
export function killOnExit(kill: () => void): () => void {
  install();
  live.add(kill);
  return () => {
    live.delete(kill);
  };
}
