// The whole provisioning run: validate → plan → partition → images → configdrive
// → bootloader → report. Nothing touches a disk before validate and plan passed.
// Every step logs start/end/duration/outcome; the first failure stops the run and
// the report says where. Steps are injected so the sequencing is unit-testable.
import type { Ctx } from '../core/context.js';
import { ForgeError, isForgeError } from '../core/errors.js';
import { errorJson, Sequence, type StepRecord as SequenceRecord } from '../core/sequence.js';
import type { ImageReport, ResolvedImage } from '../image/types.js';
import type { Inventory } from '../inventory/types.js';
import type { Plan } from '../plan/types.js';
import type { BootloaderReport } from '../bootloader/install.js';
import type { FetchOptions } from '../image/types.js';
import type { ConfigDriveReport } from '../configdrive/write.js';
import type { ProvisionData } from '../schema/provision-data.js';
import { VERSION } from '../version.js';

export const STEP_NAMES = ['validate', 'plan', 'partition', 'images', 'configdrive', 'bootloader'] as const;
export type StepName = (typeof STEP_NAMES)[number];

export interface RunOptions {
  input: string;
  inventory?: string;
  allowUnverified?: boolean;
  callbackUrl?: string;
  configdriveFormat?: 'vfat' | 'iso9660';
  /** Download tuning (e.g. the per-read stall timeout); defaults to DEFAULT_FETCH. */
  fetch?: Partial<FetchOptions>;
  /** Run only these destructive steps (validate and plan always run first). */
  only?: readonly StepName[];
}

/** The outside world of a run; `defaultSteps` wires the real modules. */
export interface Steps {
  /** The provision data, parsed and normalised by the schema: what every later step reads. */
  loadData(path: string): Promise<ProvisionData>;
  /** Checks everything the later steps read from the data (configdrive contents). */
  checkData(ctx: Ctx, data: ProvisionData, o: RunOptions): Promise<void>;
  inventory(ctx: Ctx, path?: string): Promise<Inventory>;
  buildPlan(data: ProvisionData, inventory: Inventory): Plan;
  /** Checks every image and resolves its checksums (metadata read once, here); the images step writes these. */
  validateImages(ctx: Ctx, plan: Plan, o: RunOptions): Promise<ResolvedImage[]>;
  partition(ctx: Ctx, plan: Plan, inventory: Inventory): Promise<unknown>;
  /** Writes the images the plan step resolved (`resolved`), fetching no metadata again. */
  images(ctx: Ctx, plan: Plan, o: RunOptions, resolved: readonly ResolvedImage[]): Promise<ImageReport[]>;
  configdrive(ctx: Ctx, plan: Plan, data: ProvisionData, o: RunOptions): Promise<ConfigDriveReport>;
  /** Reads only the plan (root, ESP, disks, kernel parameters). */
  bootloader(ctx: Ctx, plan: Plan): Promise<BootloaderReport>;
}

export interface StepRecord {
  step: StepName;
  outcome: 'ok' | 'failed' | 'skipped';
  startedAt: string;
  durationMs: number;
  error?: Record<string, unknown>;
}

export interface WrittenDevice {
  device: string;
  what: string;
  step: StepName;
}

export interface ProvisionReport {
  ok: boolean;
  version: string;
  dryRun: boolean;
  input: string;
  startedAt: string;
  durationMs: number;
  /** The step that failed, when one did. */
  stoppedAt?: StepName;
  error?: Record<string, unknown>;
  steps: StepRecord[];
  devicesWritten: WrittenDevice[];
  images: ImageReport[];
  configdrive?: ConfigDriveReport;
  bootloader?: BootloaderReport;
  plan?: Plan;
  /** Dry run: every command that would have run, in order. */
  commands?: string[][];
}

function written(step: StepName, plan: Plan, extra: { images?: ImageReport[]; cd?: ConfigDriveReport; bl?: BootloaderReport }): WrittenDevice[] {
  switch (step) {
    case 'partition':
      return [
        ...plan.parteds.map((d) => ({ device: d.device, what: d.keepData ? 'partitions (keep_data table kept)' : 'GPT partition table', step })),
        ...plan.mds.filter((m) => !m.keepData).map((m) => ({ device: m.device, what: `md ${m.level}`, step })),
        ...plan.lvs.filter((l) => !l.keepData).map((l) => ({ device: l.device, what: `lv ${l.vg}/${l.name}`, step })),
        ...plan.fss.filter((f) => !f.fromImage && !f.keepData).map((f) => ({ device: f.device, what: `${f.type} ${f.mount}`, step })),
      ];
    case 'images':
      return (extra.images ?? []).map((i) => ({ device: i.device, what: `image ${i.uri} (${i.mount})`, step }));
    case 'configdrive':
      return extra.cd ? [{ device: extra.cd.device, what: `configdrive ${extra.cd.format} ${extra.cd.label}`, step }] : [];
    case 'bootloader':
      return extra.bl
        ? [
            ...extra.bl.biosDisks.map((d) => ({ device: d, what: 'GRUB boot code (BIOS)', step })),
            ...(plan.bootloader.espDevice ? [{ device: plan.bootloader.espDevice, what: 'GRUB EFI removable path', step }] : []),
            { device: extra.bl.rootDevice, what: '/etc/fstab, cloud-init datasource, grub.cfg', step },
          ]
        : [];
    default:
      return [];
  }
}

/** Step log events as the run has always named them (end carries the outcome). */
const RUN_EVENTS = { start: 'run.step.start', done: 'run.step.end', failed: 'run.step.end', skipped: 'run.step.skipped' };

/** What each step leaves on disk, logged with its start. */
const LEAVES: Record<StepName, string> = {
  validate: 'nothing (reads the input)',
  plan: 'nothing (reads the disks and image metadata)',
  partition: 'partition tables, md arrays, LVM, filesystems',
  images: 'OS images on their devices',
  configdrive: 'config-2 filesystem at the end of a disk',
  bootloader: 'GRUB, fstab and the cloud-init datasource in the target',
};

function toRecord(r: SequenceRecord): StepRecord {
  return { step: r.name as StepName, outcome: r.outcome, startedAt: r.startedAt, durationMs: r.durationMs, ...(r.error ? { error: r.error } : {}) };
}

/**
 * A step that fails because the run was cancelled reports ABORTED, whatever the
 * interrupted call made of it (a destroyed socket reads as a fetch error).
 */
function asAbort(signal: AbortSignal, e: unknown): unknown {
  if (!signal.aborted || (isForgeError(e) && e.code === 'ABORTED')) return e;
  const why = isForgeError(signal.reason) ? signal.reason.message : 'cancelled';
  return new ForgeError('ABORTED', why, { cause: e, details: { interrupted: errorJson(e) } });
}

export async function provisionRun(ctx: Ctx, o: RunOptions, steps: Steps): Promise<ProvisionReport> {
  const started = ctx.clock.now();
  const report: ProvisionReport = {
    ok: false,
    version: VERSION,
    dryRun: ctx.dryRun,
    input: o.input,
    startedAt: new Date(started).toISOString(),
    durationMs: 0,
    steps: [],
    devicesWritten: [],
    images: [],
  };
  let data: ProvisionData | undefined;
  let inventory: Inventory | undefined;
  let plan: Plan | undefined;
  /** Set by the plan step when the images step will run. */
  let resolved: ResolvedImage[] = [];
  const wanted = (s: StepName): boolean => !o.only || o.only.includes(s) || s === 'validate' || s === 'plan';

  const bodies: Record<StepName, () => Promise<void>> = {
    validate: async () => {
      data = await steps.loadData(o.input);
      await steps.checkData(ctx, data, o);
    },
    plan: async () => {
      inventory = await steps.inventory(ctx, o.inventory);
      plan = steps.buildPlan(data as ProvisionData, inventory);
      report.plan = plan;
      for (const w of plan.warnings ?? []) ctx.log.warn('plan.warning', { ...w });
      if (wanted('images')) resolved = await steps.validateImages(ctx, plan, o);
    },
    partition: async () => {
      await steps.partition(ctx, plan as Plan, inventory as Inventory);
    },
    images: async () => {
      report.images = await steps.images(ctx, plan as Plan, o, resolved);
    },
    configdrive: async () => {
      report.configdrive = await steps.configdrive(ctx, plan as Plan, data as ProvisionData, o);
    },
    bootloader: async () => {
      report.bootloader = await steps.bootloader(ctx, plan as Plan);
    },
  };

  const seq = new Sequence(ctx, { events: RUN_EVENTS, fields: { dryRun: ctx.dryRun } });
  for (const step of STEP_NAMES) {
    if (!wanted(step)) {
      seq.skip({ name: step });
      continue;
    }
    try {
      await seq.run({ name: step, leaves: LEAVES[step], run: () => bodies[step]().catch((e: unknown) => Promise.reject(asAbort(ctx.signal, e))) });
    } catch (e) {
      report.steps = seq.records.map(toRecord);
      report.stoppedAt = step;
      report.error = errorJson(e);
      report.durationMs = ctx.clock.now() - started;
      ctx.log.error('run.failed', { stoppedAt: step, durationMs: report.durationMs, error: report.error });
      throw new RunFailed(report, e);
    }
    if (plan && !ctx.dryRun) {
      report.devicesWritten.push(...written(step, plan, { images: report.images, ...(report.configdrive ? { cd: report.configdrive } : {}), ...(report.bootloader ? { bl: report.bootloader } : {}) }));
    }
  }
  report.steps = seq.records.map(toRecord);
  report.ok = true;
  report.durationMs = ctx.clock.now() - started;
  ctx.log.info('run.done', { durationMs: report.durationMs, devices: report.devicesWritten.length, images: report.images.length });
  return report;
}

/** A failed run: carries the report (where it stopped) and the step's own error. */
export class RunFailed extends Error {
  override readonly name = 'RunFailed';
  constructor(
    readonly report: ProvisionReport,
    override readonly cause: unknown,
  ) {
    super(`provisioning stopped at ${report.stoppedAt}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}
