#!/usr/bin/env node
// Tiny shim: load TypeScript sources through tsx, then hand over to the one `main`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv.slice(2));
