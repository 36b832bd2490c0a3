// The whole provisioning run: validate → plan → partition → images → configdrive
// → bootloader → report. Nothing touches a disk before validate and plan passed.
// Every step logs start/end/duration/outcome; the first failure stops the run and
// the report says where. Steps are injected so the sequencing is unit-testable.
import type { Ctx } from '../core/context.js';
import { ForgeError, isForgeError } from '../core/errors.js';
import type { ImageReport } from '../image/types.js';
import type { Inventory } from '../inventory/types.js';
import type { Plan } from '../plan/types.js';
import type { BootloaderReport } from '../bootloader/install.js';
import type { FetchOptions } from '../image/types.js';
import type { ConfigDriveReport } from '../configdrive/write.js';
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
  loadData(path: string): Promise<unknown>;
  /** Checks everything the later steps read from the data (configdrive contents). */
  checkData(ctx: Ctx, data: unknown, o: RunOptions): Promise<void>;
  inventory(ctx: Ctx, path?: string): Promise<Inventory>;
  buildPlan(data: unknown, inventory: Inventory): Plan;
  validateImages(ctx: Ctx, plan: Plan, o: RunOptions): Promise<void>;
  partition(ctx: Ctx, plan: Plan, inventory: Inventory): Promise<unknown>;
  images(ctx: Ctx, plan: Plan, o: RunOptions): Promise<ImageReport[]>;
  configdrive(ctx: Ctx, plan: Plan, data: unknown, o: RunOptions): Promise<ConfigDriveReport>;
  bootloader(ctx: Ctx, plan: Plan, data: unknown): Promise<BootloaderReport>;
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

export function errorJson(e: unknown): Record<string, unknown> {
  if (isForgeError(e)) return e.toJSON();
  return { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
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
  let data: unknown;
  let inventory: Inventory | undefined;
  let plan: Plan | undefined;
  const wanted = (s: StepName): boolean => !o.only || o.only.includes(s) || s === 'validate' || s === 'plan';

  const bodies: Record<StepName, () => Promise<void>> = {
    validate: async () => {
      data = await steps.loadData(o.input);
      await steps.checkData(ctx, data, o);
    },
    plan: async () => {
      inventory = await steps.inventory(ctx, o.inventory);
      plan = steps.buildPlan(data, inventory);
      report.plan = plan;
      for (const w of plan.warnings ?? []) ctx.log.warn('plan.warning', { ...w });
      if (wanted('images')) await steps.validateImages(ctx, plan, o);
    },
    partition: async () => {
      await steps.partition(ctx, plan as Plan, inventory as Inventory);
    },
    images: async () => {
      report.images = await steps.images(ctx, plan as Plan, o);
    },
    configdrive: async () => {
      report.configdrive = await steps.configdrive(ctx, plan as Plan, data, o);
    },
    bootloader: async () => {
      report.bootloader = await steps.bootloader(ctx, plan as Plan, data);
    },
  };

  for (const step of STEP_NAMES) {
    const t0 = ctx.clock.now();
    const startedAt = new Date(t0).toISOString();
    if (!wanted(step)) {
      report.steps.push({ step, outcome: 'skipped', startedAt, durationMs: 0 });
      continue;
    }
    ctx.log.info('run.step.start', { step, dryRun: ctx.dryRun });
    try {
      if (ctx.signal.aborted) throw new ForgeError('ABORTED', `aborted before ${step}`, { cause: ctx.signal.reason });
      await bodies[step]();
    } catch (e) {
      const durationMs = ctx.clock.now() - t0;
      const error = errorJson(e);
      report.steps.push({ step, outcome: 'failed', startedAt, durationMs, error });
      ctx.log.error('run.step.end', { step, outcome: 'failed', durationMs, error });
      report.stoppedAt = step;
      report.error = error;
      report.durationMs = ctx.clock.now() - started;
      ctx.log.error('run.failed', { stoppedAt: step, durationMs: report.durationMs, error });
      throw new RunFailed(report, e);
    }
    const durationMs = ctx.clock.now() - t0;
    report.steps.push({ step, outcome: 'ok', startedAt, durationMs });
    if (plan && !ctx.dryRun) {
      report.devicesWritten.push(...written(step, plan, { images: report.images, ...(report.configdrive ? { cd: report.configdrive } : {}), ...(report.bootloader ? { bl: report.bootloader } : {}) }));
    }
    ctx.log.info('run.step.end', { step, outcome: 'ok', durationMs });
  }
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
