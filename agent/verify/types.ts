// What `provision verify` reports: one item per planned object (and per
// unexpected partition), with what the plan wants and what the disk holds.

export type VerifyKind = 'disk' | 'partition' | 'md' | 'pv' | 'vg' | 'lv' | 'fs';

export interface VerifyItem {
  kind: VerifyKind;
  /** Device or name identifying the object, e.g. /dev/sda3, vg os, lv os/root. */
  id: string;
  expected: Record<string, unknown> | null;
  actual: Record<string, unknown> | null;
  ok: boolean;
  /** Fields that differ (empty when ok). */
  mismatches: string[];
  /** Why a check was skipped, when it was. */
  note?: string;
}

export interface VerifyResult {
  ok: boolean;
  items: VerifyItem[];
}

export interface VerifyOptions {
  /**
   * Filesystems an image will fill are not checked (verify straight after
   * `provision partition`, before images are written).
   */
  skipImageFilesystems?: boolean;
}
