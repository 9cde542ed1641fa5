/** The UI's token rules (src/ui/auth.ts) and the data profile (src/ops/profile.ts). */
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { credential, isLoopback, requiredToken, sameOrigin, sameToken } from '../../src/ui/auth.js';
import { sharedBins } from '../../src/ops/profile.js';

const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

describe('ui auth', () => {
  it('needs a token on any address but loopback', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) expect(isLoopback(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.2', 'example.com']) expect(isLoopback(h)).toBe(false);
    expect(requiredToken('127.0.0.1', undefined)).toBeNull();
    expect(() => requiredToken('0.0.0.0', undefined)).toThrow(ConfigError);
    expect(() => requiredToken('0.0.0.0', 'short')).toThrow(/16 characters/);
    expect(requiredToken('0.0.0.0', 'x'.repeat(16))).toBe('x'.repeat(16));
  });

  it('compares tokens of any length without throwing', () => {
    expect(sameToken('abc', 'abc')).toBe(true);
    expect(sameToken('abc', 'abcd')).toBe(false);
    expect(sameToken('', 'abcd')).toBe(false);
  });

  it('reads the bearer header and the cookie; checks the origin against Host', () => {
    const t = 'k'.repeat(20);
    expect(credential(req({ authorization: `Bearer ${t}` }), t)).toBe('bearer');
    // the scheme in any case (before: `bearer T` was a 401); a bare or other scheme is no credential
    expect(credential(req({ authorization: `bearer ${t}` }), t)).toBe('bearer');
    expect(credential(req({ authorization: `BEARER\t${t} ` }), t)).toBe('bearer');
    for (const a of ['Bearer', 'Bearer ', `Basic ${t}`, `Bearer${t}`, `Bearer ${t} extra`]) expect(credential(req({ authorization: a }), t), a).toBeNull();
    expect(credential(req({ cookie: `a=1; mlops_ui_token=${t}` }), t)).toBe('cookie');
    expect(credential(req({ cookie: 'mlops_ui_token=nope' }), t)).toBeNull();
    expect(sameOrigin(req({ origin: 'http://127.0.0.1:8501', host: '127.0.0.1:8501' }))).toBe(true);
    expect(sameOrigin(req({ origin: 'http://evil.example', host: '127.0.0.1:8501' }))).toBe(false);
    expect(sameOrigin(req({ host: '127.0.0.1:8501' }))).toBe(false);
    expect(sameOrigin(req({ origin: 'null', host: '127.0.0.1:8501' }))).toBe(false);
  });
});

describe('sharedBins', () => {
  it('counts both sides on the same bins, tails in the end bins', () => {
    const ref = Float64Array.from({ length: 101 }, (_, i) => i);
    const cur = Float64Array.of(...ref, 1e9, Number.NaN);
    const q = Array.from({ length: 101 }, (_, i) => i);
    const s = sharedBins('x', ref, cur, q, q, 10);
    expect(s.bins).toHaveLength(10);
    expect(s.bins[0]!.start).toBe(1);
    expect(s.bins.at(-1)!.end).toBe(99);
    expect(s.bins.reduce((a, b) => a + b.reference, 0)).toBe(101);
    expect(s.bins.reduce((a, b) => a + b.current, 0)).toBe(102);
  });
});
