import { defineConfig } from 'vitest/config';

// Files run one at a time: system tests share global kernel state (loop devices,
// LVM, MD, mounts), and a leak check in one file must not see another's devices.
export default defineConfig({
  test: {
    include: ['agent/**/*.test.ts', 'lab/**/*.test.ts', 'properties/**/*.test.ts'],
    fileParallelism: false,
    restoreMocks: true,
    testTimeout: 60_000,
    hookTimeout: 600_000,
    reporters: ['default', 'junit'],
    outputFile: { junit: 'reports/junit.xml' },
  },
});
