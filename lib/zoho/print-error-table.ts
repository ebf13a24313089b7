/**
 * Prints the Zoho error table as Markdown, or with `--write [README.md]` replaces the block
 * between the error-table markers in the README.
 *
 *   npx tsx lib/zoho/print-error-table.ts
 *   npx tsx lib/zoho/print-error-table.ts --write
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { renderErrorTableMarkdown, replaceErrorTableBlock } from './error-table-markdown';

const [flag, readmePath = 'README.md'] = process.argv.slice(2);
const markdown = renderErrorTableMarkdown();

if (flag === '--write') {
  const readme = readFileSync(readmePath, 'utf8');
  writeFileSync(readmePath, replaceErrorTableBlock(readme, markdown));
  process.stdout.write(`updated the error table in ${readmePath}\n`);
} else {
  process.stdout.write(`${markdown}\n`);
}
