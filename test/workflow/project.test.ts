// The project file, quiver.yaml: found walking up from a workflow's folder, its allowed folders
// resolved against itself and checked, every problem naming the file and line.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, parse } from 'node:path';
import { describe, expect, test } from 'vitest';
import { findProjectFile, loadProjectFile, parseProject, ProjectFileError, projectOf } from '../../src/workflow/project.ts';
import { scratchDir } from '../helpers.ts';

const problem = (text: string, file = '/p/quiver.yaml') => {
  try {
    parseProject(text, file);
  } catch (error) {
    expect(error).toBeInstanceOf(ProjectFileError);
    return (error as Error).message;
  }
  throw new Error('expected the project file to be refused');
};

describe('project file', () => {
  test('found walking up from the workflow\'s folder; the nearest wins; none above the filesystem root', () => {
    const dir = scratchDir();
    mkdirSync(join(dir, 'a', 'b', 'c'), { recursive: true });
    writeFileSync(join(dir, 'quiver.yaml'), 'allowPaths: [data]\n');
    writeFileSync(join(dir, 'a', 'quiver.yaml'), 'allowPaths: [../elsewhere]\n');
    expect(findProjectFile(join(dir, 'a', 'b', 'c'))).toBe(join(dir, 'a', 'quiver.yaml'));
    expect(projectOf(join(dir, 'a', 'b', 'c', 'wf.yaml'))!.allowPaths).toEqual([join(dir, 'elsewhere')]);
    expect(projectOf(join(dir, 'wf.yaml'))!.allowPaths).toEqual([join(dir, 'data')]);
    const bare = scratchDir();
    // Nothing in the scratch folder: whatever is found lies above it (usually nothing at all).
    const found = findProjectFile(bare);
    expect(found === undefined || !found.startsWith(bare)).toBe(true);
    expect(findProjectFile(parse(bare).root) === undefined || findProjectFile(parse(bare).root) === join(parse(bare).root, 'quiver.yaml')).toBe(true);
  });

  test('folders are resolved against the project file, out too; S3 prefixes kept as written', () => {
    const project = parseProject('allowPaths:\n  - data\n  - ../shared/data\n  - s3://bucket/prefix\ndefaults: { out: results, workers: 2 }\n', '/repo/quiver.yaml');
    expect(project).toEqual({
      file: '/repo/quiver.yaml',
      allowPaths: ['/repo/data', '/shared/data', 's3://bucket/prefix'],
      defaults: { out: '/repo/results', workers: 2 },
    });
    expect(parseProject('', '/repo/quiver.yaml')).toEqual({ file: '/repo/quiver.yaml', allowPaths: [], defaults: {} });
  });

  test('unknown keys, wrong types and bad YAML are refused naming the file and line', () => {
    expect(problem('allowPaths: [data]\nallowPath: [x]\n')).toBe("/p/quiver.yaml:2: project file: unknown key 'allowPath' (known keys: allowPaths, defaults)");
    expect(problem('defaults:\n  out: o\n  threads: 4\n')).toBe("/p/quiver.yaml:3: project file: unknown key 'defaults.threads' (known keys: out, workers)");
    expect(problem('defaults:\n  workers: many\n')).toMatch(/^\/p\/quiver\.yaml:2: project file: 'defaults\.workers': /);
    expect(problem('allowPaths: data\n')).toMatch(/^\/p\/quiver\.yaml:1: project file: 'allowPaths': /);
    expect(problem('allowPaths: [data\n')).toMatch(/^\/p\/quiver\.yaml:\d: project file: YAML: /);
    expect(problem('- data\n')).toMatch(/^\/p\/quiver\.yaml:1: project file: expected keys/);
  });

  test('never the filesystem root, a link to it, a wildcard or an empty entry', () => {
    expect(problem('allowPaths:\n  - data\n  - /\n')).toMatch(/^\/p\/quiver\.yaml:3: project file: allowPaths entry '\/' is the filesystem root/);
    expect(problem('allowPaths: [../../../../../../../../..]\n', '/p/q/quiver.yaml')).toMatch(/:1: project file: allowPaths entry '[./]+' is the filesystem root/);
    expect(problem('allowPaths: ["data/*"]\n')).toMatch(/:1: project file: allowPaths entry 'data\/\*' has wildcards/);
    expect(problem('allowPaths: [""]\n')).toMatch(/:1: project file: allowPaths entry '' is empty/);
    expect(problem('allowPaths: ["s3://"]\n')).toMatch(/names no bucket/);
    const dir = scratchDir();
    symlinkSync('/', join(dir, 'everything'));
    writeFileSync(join(dir, 'quiver.yaml'), 'allowPaths: [everything]\n');
    expect(() => loadProjectFile(join(dir, 'quiver.yaml'))).toThrow(/:1: project file: allowPaths entry 'everything' leads to the filesystem root/);
  });

  test('a folder named quiver.yaml is an error, not silently passed over', () => {
    const dir = scratchDir();
    mkdirSync(join(dir, 'quiver.yaml'));
    expect(() => findProjectFile(dir)).toThrow(/quiver\.yaml: project file: is a folder/);
  });
});
