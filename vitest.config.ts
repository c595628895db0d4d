// Tests must pass on a busy machine: no test fails for being slow, only for being wrong (a test
// that could hang sets its own, longer limit).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { testTimeout: 120_000, hookTimeout: 120_000 },
});
