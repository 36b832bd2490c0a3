// The lab's failure codes. They are ForgeError codes like the agent's (so
// exitCodeFor, formatError and reports treat them the same), but the lab owns
// them: agent/core/errors.ts only declares the extension point.
declare module '../agent/core/errors.js' {
  interface ExternalErrorCodes {
    /** A lab stage failed: a VM, the master network, a mock, a guard. */
    LAB_FAILED: true;
    /** A lab stage did not finish in time. */
    LAB_TIMEOUT: true;
  }
}

