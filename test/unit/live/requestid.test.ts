import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ID_PREFIX, newRequestId, seqOf, SeqIndex } from '../../../src/live/requestid.js';

describe('generated request ids', () => {
  it('are UUID-shaped, distinct, and give back their counter; any other id gives -1', () => {
    const a = newRequestId();
    const b = newRequestId();
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.startsWith(ID_PREFIX)).toBe(true);
    expect(b).not.toBe(a);
    expect(seqOf(b)).toBe(seqOf(a) + 1);
    expect(seqOf(a)).toBe(Number.parseInt(a.slice(24), 16));
    for (const other of [randomUUID(), 'q7', '', `${ID_PREFIX}00000000000g`, `${ID_PREFIX}0000000000001`, `${ID_PREFIX.toUpperCase()}000000000001`]) {
      expect(seqOf(other)).toBe(-1);
    }
  });
});

describe('SeqIndex', () => {
  it('knows the counters added within its window, not the ones skipped or expired', () => {
    const ix = new SeqIndex(64);
    for (const s of [1, 2, 4, 5, 9]) ix.add(s);
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].filter((s) => ix.has(s))).toEqual([1, 2, 4, 5, 9]);
    ix.add(7); // a little out of order: still within the window
    expect(ix.has(7)).toBe(true);
    ix.add(70); // the window moves past 1..6: forgotten, 8 never logged stays unknown
    expect([1, 2, 4, 5, 7, 8, 9, 70].filter((s) => ix.has(s))).toEqual([7, 9, 70]);
    ix.add(3); // older than the window: not remembered
    expect(ix.has(3)).toBe(false);
    ix.add(1000); // a jump beyond the window clears it
    expect([7, 9, 70, 999, 1000].filter((s) => ix.has(s))).toEqual([1000]);
    // only odd counters logged for two windows: 1128 shares 1000's slot, cleared on the way
    for (let s = 1001; s <= 1129; s += 2) ix.add(s);
    expect([1000, 1127, 1128, 1129].filter((s) => ix.has(s))).toEqual([1127, 1129]);
  });
});
