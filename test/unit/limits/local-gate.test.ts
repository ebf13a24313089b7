import { describe, expect, it } from 'vitest';
import { createLocalGate } from '../../../lib/limits/local-gate';

describe('local-gate', () => {
  it('lets callers in up to its capacity and queues the rest', async () => {
    const gate = createLocalGate<string>(1, 60_000);
    expect(await gate.enter()).toStrictEqual({ lease: undefined });
    const second = gate.enter();
    expect(gate.inside()).toBe(1);
    expect(gate.waiting()).toBe(1);

    expect(gate.leave('lease-1')).toBe(true);
    expect(await second).toStrictEqual({ lease: 'lease-1' });
    expect(gate.inside()).toBe(1);
  });

  it('frees the place and says so when nobody is waiting', async () => {
    const gate = createLocalGate<string>(1, 60_000);
    await gate.enter();
    expect(gate.leave('lease-1')).toBe(false);
    expect(gate.inside()).toBe(0);
  });

  it('hands leases on in arrival order', async () => {
    const gate = createLocalGate<string>(1, 60_000);
    await gate.enter();
    const order: string[] = [];
    const b = gate.enter().then((ticket) => order.push(`b:${ticket?.lease}`));
    const c = gate.enter().then((ticket) => order.push(`c:${ticket?.lease}`));
    gate.leave('x');
    gate.leave('y');
    await Promise.all([b, c]);
    expect(order).toStrictEqual(['b:x', 'c:y']);
  });

  it('gives up on a waiter after maxWaitMs', async () => {
    const gate = createLocalGate<string>(1, 1);
    await gate.enter();
    expect(await gate.enter()).toBeUndefined();
    expect(gate.waiting()).toBe(0);
  });
});
