import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  extractErrorTableBlock,
  renderErrorTableMarkdown,
  replaceErrorTableBlock,
  ZOHO_ERROR_TABLE,
} from '../../../lib/zoho';

const README_PATH = fileURLToPath(new URL('../../../README.md', import.meta.url));

describe('readme error table', () => {
  it('matches renderErrorTableMarkdown(); regenerate with npx tsx lib/zoho/print-error-table.ts --write', () => {
    const readme = readFileSync(README_PATH, 'utf8');

    expect(extractErrorTableBlock(readme)).toBe(renderErrorTableMarkdown());
  });

  it('renders the section heading and one table line per row', () => {
    const markdown = renderErrorTableMarkdown();
    const tableLines = markdown.split('\n').filter((line) => line.startsWith('| '));

    expect(markdown.startsWith('## Zoho errors and what zoho-sync does about them\n')).toBe(true);
    expect(tableLines[0]).toBe('| Service | HTTP | Code | Meaning | Action | How to fix |');
    expect(tableLines).toHaveLength(ZOHO_ERROR_TABLE.length + 1);
  });

  it('escapes pipes and angle brackets so every row keeps six cells', () => {
    const markdown = renderErrorTableMarkdown([
      {
        id: 'test-row',
        service: 'books',
        code: 1,
        title: 'A | B',
        meaning: 'Shows "<Entity> does not exist"',
        fix: 'Check secret {secretId}',
        action: 'fail-alert',
        scope: 'connection',
        source: 'zoho-sync design: test',
      },
    ]);
    const row = markdown.split('\n').at(-1) ?? '';

    expect(row).toBe(
      '| Books | any | `1` | **A \\| B**: Shows "&lt;Entity&gt; does not exist" | `fail-alert`; stops the connection | Check secret `zoho-sync/<connection-id>` |',
    );
  });

  it('replaces only the block between the markers', () => {
    const readme =
      '# zoho-sync\n\n<!-- error-table:start -->\nold\n<!-- error-table:end -->\nafter\n';

    expect(replaceErrorTableBlock(readme, 'new')).toBe(
      '# zoho-sync\n\n<!-- error-table:start -->\nnew\n<!-- error-table:end -->\nafter\n',
    );
  });

  it('refuses to replace a block that has no markers', () => {
    expect(() => replaceErrorTableBlock('# zoho-sync\n', 'new')).toThrow(/error-table:start/);
  });
});
