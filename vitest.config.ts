// Tests must pass on a busy machine: no test fails for being slow, only for being wrong. The limits
// are there to end a hang, not to time anything: 5 minutes each (a machine shared with other work
// can be several times slower than a quiet one), longer where a test sets its own. A test waits for
// what it needs by polling, never for a fixed time it assumes is enough.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { testTimeout: 300_000, hookTimeout: 300_000 },
});
