// Console markers the bootstrap daemon prints (the ramdisk's /init prints the others).

/** The agent's version, the daemon's first line: its start-up proves the node's runtime works. */
export const VERSION_MARKER = 'FORGE-AGENT-VERSION:';
