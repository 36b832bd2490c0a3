// Everything a fleet run creates (namespaces, bridge, veths, loop files, scratch
// directories) carries its owner's pid in base 36 — short enough for IFNAMSIZ —
// so a later run can tell a killed run's leftovers from a live run's and sweep them.

export const ownerTag = (pid: number = process.pid): string => pid.toString(36);

export const tagPid = (tag: string): number => parseInt(tag, 36);
