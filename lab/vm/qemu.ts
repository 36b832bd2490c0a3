// The QEMU driver: builds qemu-system-x86_64 argv from a typed VM spec (pure, unit
// tested), starts it through the runner in its own process group with a serial log
// (also an interactive console socket) and QMP sockets, and hands back a disposable
// StartedVm. Every exit path kills the VM's process group and removes its
// temporary files (one CleanupStack).
import { faultyBlockdevArgv, type DiskFaults } from './blockdev.js';
import { copyFileSync, mkdtempSync, rmSync, mkdirSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CleanupStack } from '../../agent/core/cleanup.js';
import { writeOwnerMark } from '../owner-mark.js';
import { ForgeError } from '../../agent/core/errors.js';
import type { Runner } from '../../agent/core/runner.js';
import { QmpClient, type QmpStatus } from './qmp.js';
import { createQcow2 } from './qemu-img.js';
import { userNetdev } from './user-net.js';
import { serialLine, pollUntil, type Wait } from './wait.js';

export const QEMU_BIN = 'qemu-system-x86_64';
export const VM_DIR_PREFIX = 'forge-vm-';

export type DiskBus = 'virtio' | 'nvme' | 'sata';

export interface VmDiskSpec {
  sizeMiB: number;
  bus?: DiskBus;
  /** Logical (and physical) sector size the guest sees. */
  logicalBlockSize?: 512 | 4096;
  /** Use this existing qcow2 instead of creating one (re-provisioning keeps disks). */
  file?: string;
  /** Serial number the guest sees (by-id links); default forge-<vm>-<index>. */
  serial?: string;
  /** Injected hardware faults (EIO, slowness): lab/vm/blockdev.ts. */
  faults?: DiskFaults;
  /** On its own PCIe root port, so it can be pulled while the guest runs (detachDisk); virtio only. */
  hotplug?: boolean;
}

/** QEMU's device id of disk `i` (QMP device_del takes it). */
export const diskDeviceId = (i: number): string => `disk${i}`;

export type NetdevSpec =
  | {
      kind: 'user';
      /** TFTP root for QEMU's built-in BOOTP/TFTP (mock Cobbler's directory). */
      tftpRoot?: string;
      bootfile?: string;
      /** Host services (127.0.0.1:port) the guest may reach at user-net.ts LAB_HOST_IN_GUEST; nothing else. */
      hostPorts?: readonly number[];
    }
  | { kind: 'tap'; ifname: string };

export interface VmNicSpec {
  mac: string;
  netdev: NetdevSpec;
}

export type BootSpec =
  | { kind: 'kernel'; kernel: string; initrd: string; append: string }
  | { kind: 'pxe' }
  | { kind: 'disk' };

export interface VmSpec {
  name: string;
  memMiB?: number;
  cpus?: number;
  disks: VmDiskSpec[];
  nics: VmNicSpec[];
  boot: BootSpec;
  firmware?: 'bios' | 'uefi';
  /** UEFI with Secure Boot enforced: OVMF's Secure Boot build, Microsoft's keys enrolled (Debian's ovmf). */
  secureBoot?: boolean;
  accel?: 'tcg' | 'kvm';
  /**
   * Append to serial.log instead of starting it afresh: a new QEMU for the same node (a
   * power cycle) continues its console, so offsets taken before the cycle stay valid.
   */
  appendSerial?: boolean;
}

/**
 * Debian's OVMF: the code (read-only) and the template of a node's own NVRAM
 * variables. With Secure Boot the code needs SMM and the vars carry Microsoft's
 * keys, so shim (signed by Microsoft) → Debian's GRUB → Debian's kernel load.
 */
export function ovmfFiles(secureBoot: boolean): { code: string; varsTemplate: string } {
  return secureBoot
    ? { code: '/usr/share/OVMF/OVMF_CODE_4M.secboot.fd', varsTemplate: '/usr/share/OVMF/OVMF_VARS_4M.ms.fd' }
    : { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', varsTemplate: '/usr/share/OVMF/OVMF_VARS_4M.fd' };
}

/** Where a VM's files live once laid out. */
export interface VmFiles {
  dir: string;
  serialLog: string;
  qmpSocket: string;
  /** The serial console as a unix socket (`lab console`); default <dir>/console.sock. */
  consoleSocket?: string;
  /**
   * A second QMP socket for other processes (`lab disks`, `lab down`): QEMU serves
   * one client per QMP socket and the owner holds the first. Default <dir>/control.sock.
   */
  controlSocket?: string;
  disks: string[];
  /** A UEFI node's NVRAM variables (boot entries, Secure Boot keys): its own copy, kept with its disks. */
  nvram?: string;
}

export const consoleSocketOf = (f: VmFiles): string => f.consoleSocket ?? join(f.dir, 'console.sock');
export const controlSocketOf = (f: VmFiles): string => f.controlSocket ?? join(f.dir, 'control.sock');

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export function validateSpec(spec: VmSpec): void {
  const bad = (field: string, msg: string): never => {
    throw new ForgeError('USAGE', `vm ${spec.name}: ${msg}`, { field });
  };
  if (!/^[\w.-]+$/.test(spec.name)) bad('name', `name must be [A-Za-z0-9_.-]+, got ${JSON.stringify(spec.name)}`);
  spec.disks.forEach((d, i) => {
    if (!d.file && (!Number.isInteger(d.sizeMiB) || d.sizeMiB < 1)) bad(`disks[${i}].sizeMiB`, 'size must be a positive integer MiB');
  });
  spec.nics.forEach((n, i) => {
    if (!MAC_RE.test(n.mac)) bad(`nics[${i}].mac`, `MAC must be lower-case aa:bb:cc:dd:ee:ff, got ${n.mac}`);
  });
  if (spec.boot.kind === 'pxe' && spec.nics.length === 0) bad('boot', 'PXE boot needs a NIC');
}

/**
 * The disk the firmware's boot order lists after PXE. Legacy BIOS cannot boot a
 * 4K-logical-sector disk (GRUB's boot.img reads 512-byte sectors through int 13h),
 * so, as an operator would, a BIOS node boots from its first 512-byte-sector disk;
 * UEFI boots any disk.
 */
export function firmwareBootDisk(spec: Pick<VmSpec, 'disks' | 'firmware'>): number {
  if (spec.firmware === 'uefi') return 0;
  const i = spec.disks.findIndex((d) => (d.logicalBlockSize ?? 512) === 512);
  return i < 0 ? 0 : i;
}

/** qemu-system-x86_64 argv for a spec whose files are laid out in `files` (pure). */
export function qemuArgv(spec: VmSpec, files: VmFiles): string[] {
  validateSpec(spec);
  const a: string[] = [
    QEMU_BIN,
    '-name', spec.name,
    // Secure Boot's variable store is writable only from SMM: both must be on, or OVMF stops.
    '-machine', spec.secureBoot ? 'q35,smm=on' : 'q35',
    '-accel', spec.accel ?? 'tcg',
    // No -cpu: under TCG, `max` was 2–3x slower (the AVX2/SSE4 code paths it makes
    // libraries pick are emulated slower than qemu64's plain x86-64; NOTES).
    '-m', String(spec.memMiB ?? 1536),
    '-smp', String(spec.cpus ?? 1),
    '-nodefaults',
    '-display', 'none',
    '-vga', 'none',
    // Guest poweroff leaves QEMU in "shutdown" state (waitForPowerOff sees it); the lab powers a
    // node on again with a new QEMU on the same disks (lab.ts), not a reset.
    '-no-shutdown',
    // A console socket that also logs: QEMU writes every byte to serial.log whether a
    // client is attached or not (checked with QEMU 7.2 and 10.0; everything in the lab waits on
    // serial.log lines). An attached client that stops reading stalls the guest's output.
    '-chardev', `socket,id=ser0,path=${consoleSocketOf(files)},server=on,wait=off,logfile=${files.serialLog}${spec.appendSerial ? ',logappend=on' : ''}`,
    '-serial', 'chardev:ser0',
    '-qmp', `unix:${files.qmpSocket},server=on,wait=off`,
    '-qmp', `unix:${controlSocketOf(files)},server=on,wait=off`,
    '-rtc', 'base=utc',
  ];
  if (spec.secureBoot && spec.firmware !== 'uefi') throw new ForgeError('USAGE', `vm ${spec.name}: Secure Boot needs UEFI firmware`, { field: 'secureBoot' });
  if (spec.firmware === 'uefi') {
    if (!files.nvram) throw new ForgeError('LAB_FAILED', `vm ${spec.name}: a UEFI node needs its NVRAM file`);
    const { code } = ovmfFiles(spec.secureBoot ?? false);
    if (spec.secureBoot) a.push('-global', 'driver=cfi.pflash01,property=secure,value=on');
    a.push('-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${code}`, '-drive', `if=pflash,format=raw,unit=1,file=${files.nvram}`);
  }
  let sata = 0;
  const bootDisk = firmwareBootDisk(spec);
  spec.disks.forEach((d, i) => {
    const file = files.disks[i];
    if (!file) throw new ForgeError('LAB_FAILED', `vm ${spec.name}: no file for disk ${i}`);
    const id = `d${i}`;
    if (d.faults) a.push(...faultyBlockdevArgv(id, file, d.faults));
    else a.push('-drive', `file=${file},if=none,id=${id},format=qcow2,cache=writeback,discard=unmap`);
    const serial = d.serial ?? `forge-${spec.name}-${i}`.slice(0, 20);
    const bs = d.logicalBlockSize ? `,logical_block_size=${d.logicalBlockSize},physical_block_size=${d.logicalBlockSize}` : '';
    // Boot order mirrors a real node: PXE first, then the first disk.
    const bootIndex = i === bootDisk && spec.boot.kind !== 'kernel' ? `,bootindex=${spec.boot.kind === 'pxe' ? 1 : 0}` : '';
    if (d.hotplug && (d.bus ?? 'virtio') !== 'virtio') throw new ForgeError('USAGE', `vm ${spec.name}: only virtio disks can be hot-unplugged`, { field: `disks[${i}].hotplug` });
    switch (d.bus ?? 'virtio') {
      case 'virtio':
        // q35's root bus is not hot-pluggable: a pullable disk sits behind its own root port.
        if (d.hotplug) a.push('-device', `pcie-root-port,id=port-${id},chassis=${i + 1},bus=pcie.0`);
        a.push('-device', `virtio-blk-pci,drive=${id},id=${diskDeviceId(i)},serial=${serial}${bs}${bootIndex}${d.hotplug ? `,bus=port-${id}` : ''}`);
        break;
      case 'nvme':
        a.push('-device', `nvme,drive=${id},serial=${serial}${bs}${bootIndex}`);
        break;
      case 'sata':
        if (sata > 5) throw new ForgeError('USAGE', `vm ${spec.name}: at most 6 SATA disks`, { field: `disks[${i}].bus` });
        a.push('-device', `ide-hd,drive=${id},bus=ide.${sata++},serial=${serial}${bs}${bootIndex}`);
        break;
    }
  });
  spec.nics.forEach((n, i) => {
    const id = `n${i}`;
    if (n.netdev.kind === 'user') {
      const { kind: _, ...o } = n.netdev;
      a.push('-netdev', userNetdev(id, o));
    } else {
      a.push('-netdev', `tap,id=${id},ifname=${n.netdev.ifname},script=no,downscript=no`);
    }
    const boot = spec.boot.kind === 'pxe' && i === 0 ? ',bootindex=0' : '';
    // UEFI nodes use OVMF's own virtio-net driver: the iPXE option ROM is unsigned, so a
    // Secure Boot node would refuse it anyway, and one network stack for both keeps them alike.
    const rom = spec.firmware === 'uefi' ? ',romfile=' : '';
    a.push('-device', `virtio-net-pci,netdev=${id},mac=${n.mac}${boot}${rom}`);
  });
  if (spec.boot.kind === 'kernel') {
    a.push('-kernel', spec.boot.kernel, '-initrd', spec.boot.initrd, '-append', spec.boot.append);
  }
  return a;
}

export interface StartOptions {
  runner: Runner;
  /** Keep the VM directory (disks, serial log) after disposal, e.g. for a failed test's artifacts. */
  keepDir?: boolean;
  /** Use this directory instead of a fresh temp dir (created if missing; never deleted). */
  dir?: string;
}

export interface StartedVm extends AsyncDisposable {
  readonly spec: VmSpec;
  readonly files: Required<VmFiles>;
  readonly pid: number;
  readonly argv: readonly string[];
  readonly qmp: QmpClient;
  /** undefined while QEMU runs; its exit code (or signal) once it exited. */
  exited(): string | undefined;
  status(): Promise<QmpStatus>;
  /** ACPI power button. */
  powerdown(): Promise<void>;
  /** Hard reset (also powers a VM back on after a guest poweroff, as QEMU runs with -no-shutdown). */
  reset(): Promise<void>;
  /** Pulls disk `i` out of the running guest (a hotplug disk: the guest sees it vanish). */
  detachDisk(i: number): Promise<void>;
  /** Waits until the guest has powered itself off (status "shutdown") or QEMU exited. */
  waitForPowerOff(timeoutMs: number): Promise<void>;
  /** Waits for a serial-console line matching `re`, failing early if QEMU exits. */
  waitForSerial(re: RegExp, timeoutMs: number, fromOffset?: number): Promise<RegExpMatchArray>;
  waitFor<T>(w: Wait<T>): Promise<T>;
  serialText(): string;
  /** Stops QEMU (QMP quit, then SIGKILL to the group) and keeps the files. Idempotent. */
  stop(): Promise<void>;
  /** stop() and, unless keepDir, remove the VM directory. Idempotent. */
  dispose(): Promise<void>;
}

export async function startVm(spec: VmSpec, opts: StartOptions): Promise<StartedVm> {
  validateSpec(spec);
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), `${VM_DIR_PREFIX}${spec.name}-`));
  mkdirSync(dir, { recursive: true });
  // `lab ls`/`lab down` tell a killed run's directory (removed on disposal) from kept artifacts.
  writeOwnerMark(dir, ownDir && !opts.keepDir);
  const files: Required<VmFiles> = {
    dir,
    serialLog: join(dir, 'serial.log'),
    // unix socket paths are limited to 108 bytes: keep them short and in the VM dir.
    qmpSocket: join(dir, 'qmp.sock'),
    consoleSocket: join(dir, 'console.sock'),
    controlSocket: join(dir, 'control.sock'),
    disks: spec.disks.map((d, i) => d.file ?? join(dir, `disk${i}.qcow2`)),
    nvram: join(dir, 'nvram.fd'),
  };
  // Released in reverse: QEMU (with QMP), then the directory.
  const stack = new CleanupStack({ code: 'LAB_FAILED' });
  if (ownDir && !opts.keepDir) stack.defer(`vm directory ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  try {
    for (const [i, d] of spec.disks.entries()) {
      const f = files.disks[i] as string;
      if (!d.file || !existsSync(f)) await createQcow2(opts.runner, f, d.sizeMiB);
    }
    // A node keeps its NVRAM across power cycles and restarts of QEMU, as a real one does.
    if (spec.firmware === 'uefi' && !existsSync(files.nvram)) copyFileSync(ovmfFiles(spec.secureBoot ?? false).varsTemplate, files.nvram);
    for (const sock of [files.qmpSocket, files.consoleSocket, files.controlSocket]) rmSync(sock, { force: true });
    const argv = qemuArgv(spec, files);
    // Own process group, so stopping kills QEMU and anything it forked; the
    // runner kills it if this process exits first.
    const proc = opts.runner.start(argv, { group: true });
    let exitReason: string | undefined;
    void proc.exited.then((r) => {
      exitReason = r.signal ? `killed by ${r.signal}` : `exited ${r.exitCode}${r.stderr.trim() ? `: ${r.stderr.trim().slice(-400)}` : ''}`;
    });
    let qmp: QmpClient | undefined;
    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> =>
      (stopping ??= (async () => {
        if (qmp && !exitReason) {
          await Promise.race([qmp.quit().catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
          await pollUntil('qemu exit', async () => (exitReason ? true : undefined), { timeoutMs: 3000, pollMs: 50 }).catch(() => undefined);
        }
        qmp?.close();
        proc.kill('SIGKILL');
        await proc.exited;
      })());
    stack.defer(`qemu ${spec.name} (pid ${proc.pid})`, stop);
    try {
      qmp = await connectQmp(files.qmpSocket, () => exitReason);
    } catch (e) {
      throw new ForgeError('LAB_FAILED', `vm ${spec.name}: QEMU did not come up (${exitReason ?? 'no QMP'})`, {
        command: argv,
        details: { stderr: proc.stderrTail() },
        cause: e,
      });
    }
    const q = qmp;
    const vm: StartedVm = {
      spec,
      files,
      pid: proc.pid,
      argv,
      qmp: q,
      exited: () => exitReason,
      status: () => q.queryStatus(),
      powerdown: () => q.powerdown(),
      reset: () => q.reset(),
      detachDisk: async (i) => {
        if (!spec.disks[i]?.hotplug) throw new ForgeError('USAGE', `vm ${spec.name}: disk ${i} is not hot-pluggable`, { field: `disks[${i}].hotplug` });
        await q.execute('device_del', { id: diskDeviceId(i) });
      },
      waitForPowerOff: async (timeoutMs) => {
        await pollUntil(`vm ${spec.name} power off`, async () => {
          if (exitReason) return true;
          const s = await q.queryStatus().catch(() => undefined);
          return s && (s.status === 'shutdown' || !s.running) ? true : undefined;
        }, { timeoutMs, pollMs: 500 });
      },
      waitForSerial: (re, timeoutMs, fromOffset) =>
        serialLine(files.serialLog, re, { timeoutMs, failWhen: () => exitReason, ...(fromOffset === undefined ? {} : { fromOffset }) }).until(),
      waitFor: (w) => w.until(),
      serialText: () => (existsSync(files.serialLog) ? readFileSync(files.serialLog, 'latin1') : ''),
      stop,
      dispose: () => stack.dispose(),
      [Symbol.asyncDispose]: () => stack.dispose(),
    };
    return vm;
  } catch (e) {
    return await stack.unwind(e);
  }
}

async function connectQmp(path: string, exited: () => string | undefined): Promise<QmpClient> {
  await pollUntil('QMP socket', async () => (existsSync(path) ? true : undefined), {
    timeoutMs: 15_000,
    pollMs: 50,
    failWhen: exited,
  });
  return QmpClient.connect(path, 5000);
}

/** Locally administered MAC derived from a node index: stable across runs. */
export function labMac(nodeIndex: number, nicIndex = 0): string {
  const hex = (n: number): string => n.toString(16).padStart(2, '0');
  return `52:54:00:f0:${hex(nodeIndex & 0xff)}:${hex(nicIndex & 0xff)}`;
}
