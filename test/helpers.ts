// Shared by the test suites: real data files, scratch folders, and DuckDB as a second reader.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

export const repoRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** A file under ../shared/data (real public data beside the repository), or undefined if absent. */
export function sharedData(relativePath: string): string | undefined {
  const path = resolve(repoRoot, '..', 'shared', 'data', relativePath);
  return existsSync(path) ? path : undefined;
}

/** A fresh folder removed when the test file finishes. */
export function scratchDir(prefix = 'quiver-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs SQL in an in-memory DuckDB and returns the rows as arrays. */
export async function duckdb(sql: string): Promise<unknown[][]> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRows() as unknown[][];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
