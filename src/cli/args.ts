// Command-line flags, parsed strictly: an unknown flag is a usage error, not ignored.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './usage-error.ts';

export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, positionals: string) {
  try {
    const parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
    if (parsed.positionals.length !== 1) throw new Error(`expected ${positionals}`);
    return { values: parsed.values, target: parsed.positionals[0] };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
