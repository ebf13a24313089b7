import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sampleAlertMarkdown } from '../../fixtures/sample-alert';

const README_PATH = fileURLToPath(new URL('../../../README.md', import.meta.url));
const START = '<!-- sample-alert:start -->\n';
const END = '\n<!-- sample-alert:end -->';

describe('readme sample alert', () => {
  it('shows exactly what the renderer produces for the sample failure', () => {
    const readme = readFileSync(README_PATH, 'utf8');
    const start = readme.indexOf(START);
    const end = readme.indexOf(END);
    expect(start).toBeGreaterThan(-1);
    expect(end).toBeGreaterThan(start);

    // If this fails after a change to the alert layout, paste sampleAlertMarkdown() into the
    // README between the markers.
    expect(readme.slice(start + START.length, end)).toBe(sampleAlertMarkdown());
  });
});
