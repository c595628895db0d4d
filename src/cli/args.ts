// Command-line flags, parsed strictly: an unknown flag is a usage error, not ignored.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './usage-error.ts';

/** `positionals` describes what is expected; `many` allows one or more instead of exactly one. */
export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, positionals: string, many = false) {
  try {
    const parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
    const count = parsed.positionals.length;
    if (count === 0 || (count > 1 && !many)) throw new Error(`expected ${positionals}`);
    return { values: parsed.values, target: parsed.positionals[0], targets: parsed.positionals };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
