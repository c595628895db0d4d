// The TypeScript API builds the very workflow a YAML file describes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { workflow } from '../../src/workflow/builder.ts';
import { parseWorkflow } from '../../src/workflow/load.ts';
import { repoRoot } from '../helpers.ts';

describe('workflow builder', () => {
  const file = join(repoRoot, 'workflows', 'finance', 'minute-bars.yaml');
  const fromYaml = parseWorkflow(readFileSync(file, 'utf8'), file, join(repoRoot, 'workflows', 'finance')).spec!;
  const inCode = workflow('minute-bars', { description: fromYaml.description })
    .stage('minutes', 'source.csv', {
      path: '../../data/finance/pyalgotrade_nt-spy-minute-2011-03.csv', header: false, delimiter: ';',
      columns: ['time', 'open', 'high', 'low', 'close', 'volume'], timestampFormat: '%Y%m%d %H%M%S',
    })
    .stage('keyed', 'table.derive', { columns: { day: 'day(time)', hour: 'hour(time)' } }, { from: 'minutes' })
    .stage('hourly', 'table.aggregate', {
      by: ['day', 'hour'],
      aggregates: { start: 'min(time)', open: 'first(open)', high: 'max(high)', low: 'min(low)', close: 'last(close)', volume: 'sum(volume)', bars: 'count(*)' },
    }, { from: 'keyed' })
    .stage('out', 'sink.parquet', { path: 'spy-hourly.parquet' }, { from: 'hourly' });

  test('gives the spec the YAML file gives', () => {
    expect(inCode.spec).toEqual(fromYaml);
  });

  test('and writes it back as YAML that loads to the same spec', () => {
    expect(parseWorkflow(inCode.toYaml(), 'x.yaml', '.').spec).toEqual(fromYaml);
  });
});
