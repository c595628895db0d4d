// Linux network namespaces for the distributed fault tests: a bridge in the root namespace with an
// address of its own, namespaces joined to it each by a veth pair, commands run inside them, a
// namespace's link cut and restored. Everything made here is removed again by `remove()` (also on
// a failed test, from afterAll, and as a last resort when the test process exits).
import { spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { createServer } from 'node:net';

function ip(...args: string[]): string {
  const result = spawnSync('ip', args, { encoding: 'utf8' });
  if (result.error) throw new Error(`ip ${args.join(' ')}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`ip ${args.join(' ')}: ${result.stderr.trim()}`);
  return result.stdout;
}

/** Why namespaces cannot be made here (not Linux, not root, no `ip netns`), or undefined if they can. */
export const netnsUnavailable: string | undefined = (() => {
  if (process.platform !== 'linux') return 'network namespaces exist only on Linux';
  if (process.getuid?.() !== 0) return 'making network namespaces, veth pairs and bridges needs root';
  const probe = `qv-probe-${randomBytes(3).toString('hex')}`;
  try {
    ip('netns', 'add', probe);
  } catch (error) {
    return `\`ip netns\` is not available: ${(error as Error).message}`;
  }
  try {
    ip('netns', 'del', probe);
  } catch {
    // made but not removable: say so rather than leave more behind
    return `\`ip netns del ${probe}\` failed`;
  }
  return undefined;
})();

export interface Namespace {
  name: string;
  /** Its address on the bridge's network. */
  address: string;
  /** The root namespace's end of its veth pair, attached to the bridge: the link `cut` takes down. */
  hostSide: string;
}

export interface Network {
  bridge: string;
  /** The bridge's address in the root namespace: where a server for every namespace listens. */
  address: string;
  namespaces: Namespace[];
  /** `command args` run inside the namespace, as a command line for spawn. */
  inside(ns: Namespace, command: string, args: string[]): [string, string[]];
  /** Takes the namespace's link down: its packets go nowhere, its connections stall (no reset). */
  cut(ns: Namespace): void;
  restore(ns: Namespace): void;
  /** A TCP port free on the bridge's address. */
  freePort(): Promise<number>;
  /** Deletes the namespaces, their veth pairs and the bridge; throws the first failure after trying all. */
  remove(): void;
}

/** A bridge with a /24 of 10.231.X.0 and `count` namespaces on it (.2, .3, ...). */
export function createNetwork(count: number): Network {
  const id = randomBytes(3).toString('hex');
  const used = ip('-4', '-o', 'addr', 'show');
  let third: number;
  do third = randomInt(1, 255);
  while (used.includes(`10.231.${third}.`));
  const prefix = `10.231.${third}`;
  const bridge = `qvbr${id}`;
  const namespaces: Namespace[] = Array.from({ length: count }, (_, i) => ({
    name: `qv-${id}-${String.fromCharCode(97 + i)}`, address: `${prefix}.${i + 2}`, hostSide: `qv${id}${i}h`,
  }));
  const undo: (() => void)[] = [];
  const remove = () => {
    process.off('exit', remove);
    let first: unknown;
    for (const step of undo.splice(0).reverse()) {
      try {
        step();
      } catch (error) {
        first ??= error;
      }
    }
    if (first) throw first;
  };
  process.on('exit', remove);
  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    undo.push(() => ip('link', 'del', bridge));
    ip('addr', 'add', `${prefix}.1/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    for (const [i, ns] of namespaces.entries()) {
      ip('netns', 'add', ns.name);
      undo.push(() => ip('netns', 'del', ns.name)); // takes its end of the veth pair, and so the pair, with it
      const inner = `qv${id}${i}n`;
      ip('link', 'add', ns.hostSide, 'type', 'veth', 'peer', 'name', inner);
      undo.push(() => {
        if (spawnSync('ip', ['link', 'show', ns.hostSide]).status === 0) ip('link', 'del', ns.hostSide);
      });
      ip('link', 'set', inner, 'netns', ns.name);
      ip('-n', ns.name, 'link', 'set', 'lo', 'up');
      ip('-n', ns.name, 'addr', 'add', `${ns.address}/24`, 'dev', inner);
      ip('-n', ns.name, 'link', 'set', inner, 'up');
      ip('link', 'set', ns.hostSide, 'master', bridge);
      ip('link', 'set', ns.hostSide, 'up');
    }
  } catch (error) {
    remove();
    throw error;
  }
  return {
    bridge, address: `${prefix}.1`, namespaces,
    inside: (ns, command, args) => ['ip', ['netns', 'exec', ns.name, command, ...args]],
    cut: (ns) => void ip('link', 'set', ns.hostSide, 'down'),
    restore: (ns) => void ip('link', 'set', ns.hostSide, 'up'),
    freePort: async () => {
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(0, `${prefix}.1`, resolve));
      const { port } = server.address() as { port: number };
      await new Promise((resolve) => server.close(resolve));
      return port;
    },
    remove,
  };
}
