/**
 * The `zoho-sync` command line (bin/zoho-sync.mjs, `npx zoho-sync ...`, or `npm run cli -- ...`).
 * See program.ts for the commands.
 */
import { runCli } from './program';

// Node 20 is supported until 2027; keep the SDK's reminder out of the CLI's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`zoho-sync: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
