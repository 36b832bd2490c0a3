// mkfs.* and mkswap argv live here only. Every variant forces creation (the
// device was planned and cleaned; prompts would hang a headless node).
/** The filesystems mkfsArgv makes (the plan's FsType must stay within these). */
export type MkfsType = 'ext2' | 'ext3' | 'ext4' | 'xfs' | 'vfat' | 'swap';

export interface MkfsSpec {
  device: string;
  type: MkfsType;
  label?: string;
  options?: readonly string[];
}

export function mkfsArgv(fs: MkfsSpec): string[] {
  const extra = [...(fs.options ?? [])];
  const label = fs.label;
  switch (fs.type) {
    case 'ext2':
    case 'ext3':
    case 'ext4':
      return [`mkfs.${fs.type}`, '-F', '-q', ...(label ? ['-L', label] : []), ...extra, fs.device];
    case 'xfs':
      return ['mkfs.xfs', '-f', '-q', ...(label ? ['-L', label] : []), ...extra, fs.device];
    case 'vfat':
      return ['mkfs.vfat', ...(label ? ['-n', label] : []), ...extra, fs.device];
    case 'swap':
      return ['mkswap', '-f', ...(label ? ['-L', label] : []), ...extra, fs.device];
  }
}
