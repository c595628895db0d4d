// The repository's own TypeScript, parsed: each file's imports (static, type-only, dynamic and
// re-exports) resolved to files, and its functions with their lengths. For the architecture tests.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export interface SourceFile {
  /** Path relative to the repository, with '/'. */
  path: string;
  /** Files it imports, relative to the repository (relative imports only). */
  imports: string[];
  functions: { name: string; line: number; lines: number }[];
}

const roots = ['src', 'connectors', 'workers'];

function listFiles(dir: string): string[] {
  return readdirSync(join(repoRoot, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) return listFiles(path);
    return /\.(ts|mts|mjs)$/.test(e.name) ? [path] : [];
  });
}

function parse(path: string): SourceFile {
  const text = readFileSync(join(repoRoot, path), 'utf8');
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const imports: string[] = [];
  const functions: SourceFile['functions'] = [];
  const addImport = (specifier: string) => {
    if (specifier.startsWith('.')) imports.push(relative(repoRoot, resolve(repoRoot, dirname(path), specifier)).split('\\').join('/'));
  };
  const lineOf = (pos: number) => source.getLineAndCharacterOfPosition(pos).line + 1;
  const visit = (node: ts.Node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      addImport(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      addImport(node.arguments[0].text);
    }
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = lineOf(node.getStart(source));
      const name = node.name && ts.isIdentifier(node.name) ? node.name.text : ts.isVariableDeclaration(node.parent) && ts.isIdentifier(node.parent.name) ? node.parent.name.text : '(anonymous)';
      functions.push({ name, line: start, lines: lineOf(node.getEnd()) - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { path, imports, functions };
}

let parsed: SourceFile[] | undefined;

/** Every source file under src/, connectors/ and workers/. */
export function sourceTree(): SourceFile[] {
  parsed ??= roots.flatMap(listFiles).map(parse);
  return parsed;
}

/** The folder a file belongs to for layering: src/<folder>, src/stages/<domain>, connectors, workers. */
export function folderOf(path: string): string {
  const parts = path.split('/');
  if (parts[0] !== 'src') return parts[0];
  if (parts[1] === 'stages' && parts.length > 3) return `src/stages/${parts[2]}`;
  return parts.length > 2 ? `src/${parts[1]}` : path;
}
