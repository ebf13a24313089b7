import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { FUNCTION_BUNDLE_OPTIONS, PROJECT_ROOT } from './function-defaults';

/** The most a function's minified bundle (without its source map) may weigh. */
export const BUNDLE_SIZE_LIMIT_BYTES = 300 * 1024;

export interface BundleSize {
  /** Handler file name without extension, e.g. `sync-worker`. */
  readonly name: string;
  readonly bytes: number;
}

/** Every handler in functions/ (one file per Lambda function). */
export const functionEntries = (): string[] => {
  const dir = join(PROJECT_ROOT, 'functions');
  return readdirSync(dir)
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .sort()
    .map((file) => join(dir, file));
};

/**
 * Bundles each entry in memory with the exact options of the deployed functions
 * ({@link FUNCTION_BUNDLE_OPTIONS}) and returns the size of the JavaScript output.
 * @throws Error when esbuild cannot bundle an entry.
 */
export const measureBundleSizes = async (
  entries: readonly string[] = functionEntries(),
): Promise<BundleSize[]> =>
  Promise.all(
    entries.map(async (entry) => {
      const result = await build({
        ...FUNCTION_BUNDLE_OPTIONS,
        entryPoints: [entry],
        bundle: true,
        write: false,
        outfile: join(PROJECT_ROOT, 'cdk.out', 'bundle-size', 'index.mjs'),
        logLevel: 'warning',
      });
      const code = result.outputFiles.find((file) => file.path.endsWith('.mjs'));
      if (code === undefined) throw new Error(`esbuild wrote no .mjs for ${entry}`);
      return { name: basename(entry, '.ts'), bytes: code.contents.byteLength };
    }),
  );

const kilobytes = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;

const main = async (): Promise<void> => {
  const sizes = await measureBundleSizes();
  const width = Math.max(...sizes.map((size) => size.name.length));
  for (const size of sizes) {
    const verdict = size.bytes < BUNDLE_SIZE_LIMIT_BYTES ? 'ok' : 'OVER';
    console.log(`${size.name.padEnd(width)}  ${kilobytes(size.bytes).padStart(9)}  ${verdict}`);
  }
  console.log(
    `limit ${kilobytes(BUNDLE_SIZE_LIMIT_BYTES)} per function (minified, without source map)`,
  );
  if (sizes.some((size) => size.bytes >= BUNDLE_SIZE_LIMIT_BYTES)) process.exitCode = 1;
};

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
