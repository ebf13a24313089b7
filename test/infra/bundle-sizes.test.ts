import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BUNDLE_SIZE_LIMIT_BYTES,
  functionEntries,
  measureBundleSizes,
} from '../../infra/print-bundle-sizes';

describe('print-bundle-sizes', () => {
  it('measures every handler in functions/', async () => {
    const sizes = await measureBundleSizes();
    expect(sizes.map((size) => size.name)).toStrictEqual(
      functionEntries().map((entry) => basename(entry, '.ts')),
    );
    expect(sizes.map((size) => size.name)).toEqual(
      expect.arrayContaining(['crm-webhook', 'sync-worker']),
    );
  });

  it('keeps every function bundle under 300 KB minified', async () => {
    const sizes = await measureBundleSizes();
    const over = sizes
      .filter((size) => size.bytes >= BUNDLE_SIZE_LIMIT_BYTES)
      .map((size) => `${size.name}: ${(size.bytes / 1024).toFixed(1)} KB`);
    expect(over).toStrictEqual([]);
  });
});
