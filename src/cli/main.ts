// Dispatches `quiver COMMAND ...` and turns failures into exit codes (DESIGN.md §3):
// 0 ok, 1 failed, 2 invalid workflow or usage.
import { graphCommand } from './graph.ts';
import { inspectCommand } from './inspect.ts';
import { runCommand } from './run.ts';
import { UsageError } from './usage-error.ts';
import { validateCommand } from './validate.ts';

const usage = `quiver — Arrow-native workflows for scientific data

  quiver validate FILE [--set k=v]...             check a workflow without reading data
  quiver run FILE|DIR [--set k=v]... [--out DIR] [--workers N] [--executor local] [--json]
  quiver graph FILE [--format mermaid|dot]        print the stage graph
  quiver inspect PATH [--rows N] [--with k=v]... [--json]
                                                  schema and first rows of a data file

Exit codes: 0 ok, 1 failed, 2 invalid workflow or usage.`;

const commands: Record<string, (args: string[]) => Promise<number>> = {
  validate: validateCommand,
  run: runCommand,
  graph: graphCommand,
  inspect: inspectCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage + '\n');
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`quiver: unknown command '${name}'\n\n${usage}\n`);
    return 2;
  }
  try {
    return await command(args);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`quiver ${name}: ${message}\n`);
    return error instanceof UsageError ? 2 : 1;
  }
}
