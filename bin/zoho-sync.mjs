#!/usr/bin/env node
// `npx zoho-sync ...` in a checkout: runs the TypeScript CLI through tsx, no build step.
import { register } from 'tsx/esm/api';

register();
await import('../lib/cli/main.ts');
