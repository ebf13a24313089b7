import { afterEach, describe, expect, it } from 'vitest';
import { CRASH_ENV, crashPoint, onCrash } from '../../lib/crash-point';

const KEYS = Array.from({ length: 200 }, (_, index) => `message-${index}`);

/** Which keys crash at a point under the current environment (hang mode never resolves). */
const crashingKeys = (): string[] =>
  KEYS.filter((key) => crashPoint('before-mapping-write', key) !== undefined);

describe('crash points', () => {
  afterEach(() => {
    delete process.env[CRASH_ENV.points];
    delete process.env[CRASH_ENV.seed];
    delete process.env.AWS_EXECUTION_ENV;
  });

  it('are off unless armed, and always off in AWS Lambda', () => {
    expect(crashingKeys()).toStrictEqual([]);
    process.env[CRASH_ENV.points] = 'before-mapping-write=1';
    process.env.AWS_EXECUTION_ENV = 'AWS_Lambda_nodejs20.x';
    expect(crashingKeys()).toStrictEqual([]);
  });

  it('crash the same keys for the same seed, other keys for another, and tell listeners', () => {
    const heard: string[] = [];
    const off = onCrash((crash) => heard.push(`${crash.point}:${crash.key}`));
    process.env[CRASH_ENV.points] = 'before-mapping-write=0.25';
    process.env[CRASH_ENV.seed] = '7';
    const first = crashingKeys();
    // A fresh plan (the env string changes), same seed and chances: the same draws.
    process.env[CRASH_ENV.points] = 'before-mapping-write=0.25,before-sqs-delete=0';
    expect(crashingKeys()).toStrictEqual(first);
    process.env[CRASH_ENV.points] = 'before-mapping-write=0.25';
    process.env[CRASH_ENV.seed] = '8';
    expect(crashingKeys()).not.toStrictEqual(first);
    off();
    expect(first.length).toBeGreaterThan(20);
    expect(first.length).toBeLessThan(80);
    expect(heard.slice(0, first.length)).toStrictEqual(
      first.map((key) => `before-mapping-write:${key}`),
    );
  });

  it('refuse an unknown point or chance instead of silently never crashing', () => {
    process.env[CRASH_ENV.points] = 'before-mapping-wrote=1';
    expect(() => crashPoint('before-mapping-write', 'x')).toThrow(/unknown crash point/);
    process.env[CRASH_ENV.points] = 'before-mapping-write=2';
    expect(() => crashPoint('before-mapping-write', 'x')).toThrow(/0\.\.1/);
  });
});
