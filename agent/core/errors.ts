// Failures are data: a literal code plus the field or command that caused them,
// so the CLI, the report and the orchestrator can act on them without parsing text.

/** The agent's own failure codes. */
export type AgentErrorCode =
  // input
  | 'INPUT_UNREADABLE'
  | 'CONFIG_INVALID'
  | 'INVENTORY_INVALID'
  | 'USAGE'
  // planning
  | 'DISK_NOT_FOUND'
  | 'SIZE_DOES_NOT_FIT'
  | 'PLAN_INVALID'
  // execution
  | 'DISK_CHANGED'
  | 'TOOL_FAILED'
  | 'TOOL_TIMEOUT'
  | 'TOOL_MISSING'
  | 'DEVICE_NOT_READY'
  | 'VERIFY_MISMATCH'
  // images
  | 'IMAGE_URI_INVALID'
  | 'IMAGE_FETCH_FAILED'
  | 'IMAGE_STALLED'
  | 'IMAGE_CHECKSUM_MISMATCH'
  | 'IMAGE_SIZE_MISMATCH'
  | 'IMAGE_UNVERIFIED'
  | 'IMAGE_WRITE_FAILED'
  | 'IMAGE_CORRUPT'
  // target configuration
  | 'CONFIGDRIVE_FAILED'
  | 'BOOTLOADER_FAILED'
  | 'MOUNT_FAILED'
  // builds, cancellation
  | 'BUILD_FAILED'
  | 'ABORTED';

/**
 * Failure codes other parts of the project own, added by declaration merging
 * (lab/errors.ts adds LAB_FAILED and LAB_TIMEOUT): ForgeError, exitCodeFor and
 * formatError handle them, and agent/ neither defines nor depends on them.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ExternalErrorCodes {}

export type ErrorCode = AgentErrorCode | keyof ExternalErrorCodes;

export interface ForgeErrorInit {
  /** JSON path or option name that caused the error, e.g. `ks_meta.pm_data.ks_spaces[1].size`. */
  field?: string;
  /** argv of the external command that failed. */
  command?: readonly string[];
  /** Structured extra facts (expected/actual values, offsets, device names). */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class ForgeError extends Error {
  override readonly name: string = 'ForgeError';
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly command: readonly string[] | undefined;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, init: ForgeErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = code;
    this.field = init.field;
    this.command = init.command;
    this.details = init.details ?? {};
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.field === undefined ? {} : { field: this.field }),
      ...(this.command === undefined ? {} : { command: this.command }),
      ...(Object.keys(this.details).length ? { details: this.details } : {}),
    };
  }
}

/** Several independent input problems reported at once (one line each). */
export class ForgeErrors extends ForgeError {
  override readonly name = 'ForgeErrors';
  readonly errors: readonly ForgeError[];

  constructor(code: ErrorCode, errors: readonly ForgeError[]) {
    super(code, errors.map((e) => e.message).join('\n'), {
      details: { count: errors.length },
    });
    this.errors = errors;
  }

  override toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, errors: this.errors.map((e) => e.toJSON()) };
  }
}

export function isForgeError(e: unknown): e is ForgeError {
  return e instanceof ForgeError;
}

/** Exit codes the CLI uses; 2 is reserved for bad input (validation before anything runs). */
export function exitCodeFor(e: unknown): number {
  if (!isForgeError(e)) return 1;
  switch (e.code) {
    case 'INPUT_UNREADABLE':
    case 'CONFIG_INVALID':
    case 'INVENTORY_INVALID':
    case 'USAGE':
    case 'DISK_NOT_FOUND':
    case 'SIZE_DOES_NOT_FIT':
    case 'PLAN_INVALID':
    case 'IMAGE_URI_INVALID':
    case 'IMAGE_UNVERIFIED':
      return 2;
    default:
      return 1;
  }
}
