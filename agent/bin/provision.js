#!/usr/bin/env node
// Development entry (`npx provision`): runs the TypeScript sources through tsx.
// Bootstrap nodes run the esbuild bundle instead (see agent/host/ramdisk/bundle.ts).
import { register } from 'tsx/esm/api';

register();
process.env.FORGE_CLI_MAIN = '1';
await import('../cli.ts');
