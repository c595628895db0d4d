// The Redactor on its own: which names are secret, and what it replaces in text, values and the
// workflow file's text.
import { describe, expect, test } from 'vitest';
import { isSecretName, Redactor } from '../../src/workflow/secrets.ts';

const params = {
  db_pass: 31415926,
  signing_key: ['alpha-sig', 'beta-sig'],
  cfg: { auth: { token: 'tok"en\\9' } },
  apiKey: 'k-123',
  sortKeys: ['a', 'b'],
  threshold: 0.5,
};
const redactor = Redactor.fromParams(params);

describe('Redactor', () => {
  test('secret names go by word parts: db_pass, signing_key, apiKey; not keys, author or passthrough', () => {
    for (const name of ['db_pass', 'signing_key', 'apiKey', 'API_TOKEN', 'bearer', 'credentials', 'auth', 'passwd']) expect(isSecretName(name), name).toBe(true);
    for (const name of ['keys', 'sortKeys', 'author', 'passthrough', 'monkey', 'compass', 'tokenizer']) expect(isSecretName(name), name).toBe(false);
  });

  test('text: every secret value anywhere, numbers only whole, strings also as JSON escapes them', () => {
    expect(redactor.text("k == 'alpha-sig' or v == 31415926 or id == 131415926 or x == 31415926.5")).toBe("k == '[redacted]' or v == [redacted] or id == 131415926 or x == 31415926.5");
    expect(redactor.text(JSON.stringify({ where: 'k == \'tok"en\\9\'' }))).toBe('{"where":"k == \'[redacted]\'"}');
    expect(redactor.text('["alpha-sig","beta-sig"] k-123')).toBe('["[redacted]","[redacted]"] [redacted]');
  });

  test('value: secret names redacted whole, secret values inside other params too, the rest kept', () => {
    expect(redactor.value({ ...params, where: 'v == 31415926', n: 31415926 })).toEqual({
      db_pass: '[redacted]', signing_key: '[redacted]', cfg: { auth: '[redacted]' }, apiKey: '[redacted]',
      sortKeys: ['a', 'b'], threshold: 0.5, where: 'v == [redacted]', n: '[redacted]',
    });
  });

  test('defaults and overrides are both known', () => {
    const both = Redactor.fromParams({ password: 'given' }, { password: 'default' });
    expect(both.text('given default')).toBe('[redacted] [redacted]');
  });

  test('workflow text: numbers, lists and maps under secret names become one marker; layout and comments stay', () => {
    const text = 'params:\n  db_pass: 31415926 # vault\n  signing_key: [alpha-sig, beta-sig]\n  cfg:\n    auth: { token: x }\n  year: 2020\nstages:\n  - { id: f, with: { where: "k == \'alpha-sig\'" } }\n';
    const out = redactor.workflowText(text);
    expect(out).toContain('db_pass: "[redacted]" # vault');
    expect(out).toContain('signing_key: "[redacted]"');
    expect(out).toContain('auth: "[redacted]"');
    expect(out).toContain('year: 2020');
    expect(out).toContain("k == '[redacted]'");
    for (const s of ['31415926', 'alpha-sig', 'beta-sig']) expect(out).not.toContain(s);
  });

  test('with no secret params nothing changes', () => {
    const none = Redactor.fromParams({ year: 2020, keys: ['a'] });
    expect(none.text('2020 a')).toBe('2020 a');
    expect(none.workflowText('year: 2020\n')).toBe('year: 2020\n');
  });
});
