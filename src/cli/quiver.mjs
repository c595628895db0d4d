#!/usr/bin/env node
// The `quiver` command. quiver is written in TypeScript and runs it directly: tsx is registered
// first, then the real entry point is loaded.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
