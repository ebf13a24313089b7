import { basename } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BUNDLE_SIZE_LIMIT_BYTES,
  type BundleSize,
  functionEntries,
  measureBundleSizes,
} from '../../infra/print-bundle-sizes';

describe('print-bundle-sizes', () => {
  let sizes: BundleSize[];

  beforeAll(async () => {
    // One esbuild run per handler, shared by both tests.
    sizes = await measureBundleSizes();
  });

  it('measures every handler in functions/', () => {
    expect(sizes.map((size) => size.name)).toStrictEqual(
      functionEntries().map((entry) => basename(entry, '.ts')),
    );
    expect(sizes.map((size) => size.name)).toEqual(
      expect.arrayContaining([
        'crm-webhook',
        'reconcile-sweep',
        'release-deferred',
        'renew-channels',
        'sync-worker',
      ]),
    );
  });

  it('keeps every function bundle under 300 KB minified', () => {
    const over = sizes
      .filter((size) => size.bytes >= BUNDLE_SIZE_LIMIT_BYTES)
      .map((size) => `${size.name}: ${(size.bytes / 1024).toFixed(1)} KB`);
    expect(over).toStrictEqual([]);
  });
});
