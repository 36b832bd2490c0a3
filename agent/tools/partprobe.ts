// partprobe argv lives here only. partprobe re-reads a table with BLKPG per
// partition, which (unlike BLKRRPART) works while another partition is in use.
export function partprobeArgv(device: string): string[] {
  return ['partprobe', device];
}
