import { createServer, type IncomingMessage } from 'node:http';
import {
  type Decision,
  evaluate,
  type PolicyStatementJson,
  secretArnOf,
} from '../infra/iam-policy-evaluator';

export interface ProxiedCall {
  readonly action: string;
  readonly secretId: string | undefined;
  readonly decision: Decision;
}

export interface SecretsManagerPolicyProxy {
  readonly endpoint: string;
  /** Every call that reached the proxy, in order, with IAM's decision. */
  readonly calls: ProxiedCall[];
  stop(): Promise<void>;
}

const readBody = (request: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });

/**
 * A Secrets Manager endpoint that enforces an IAM role's policy in front of the stand-in, as AWS
 * does for a function's role: each call is evaluated (iam-policy-evaluator) against the ARN
 * Secrets Manager would give the secret, and refused with the wire protocol's
 * AccessDeniedException unless allowed; allowed calls are forwarded unchanged. `toArnName`
 * maps a test's secret names onto the deployed prefix (`zoho-sync/`) the policy names.
 */
export const startSecretsManagerPolicyProxy = async (options: {
  readonly upstream: string;
  readonly statements: readonly PolicyStatementJson[];
  readonly toArnName: (secretName: string) => string;
}): Promise<SecretsManagerPolicyProxy> => {
  const calls: ProxiedCall[] = [];
  const server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      const target = String(request.headers['x-amz-target'] ?? '');
      const action = `secretsmanager:${target.replace(/^secretsmanager\./, '')}`;
      const input = (body.trim() === '' ? {} : JSON.parse(body)) as {
        SecretId?: string;
        Name?: string;
      };
      const secretId = input.SecretId ?? input.Name;
      const resource = secretId === undefined ? '*' : secretArnOf(options.toArnName(secretId));
      const decision = evaluate(options.statements, action, resource);
      calls.push({ action, secretId, decision });
      if (decision !== 'allowed') {
        response.writeHead(400, {
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-errortype': 'AccessDeniedException',
        });
        response.end(
          JSON.stringify({
            __type: 'AccessDeniedException',
            message: `User is not authorized to perform: ${action} on resource: ${resource} (${decision})`,
          }),
        );
        return;
      }
      const forwarded = await fetch(options.upstream, {
        method: 'POST',
        headers: {
          'content-type': String(request.headers['content-type'] ?? 'application/x-amz-json-1.1'),
          'x-amz-target': target,
        },
        body,
      });
      response.writeHead(forwarded.status, {
        'content-type': forwarded.headers.get('content-type') ?? 'application/x-amz-json-1.1',
        ...(forwarded.headers.get('x-amzn-errortype') === null
          ? {}
          : { 'x-amzn-errortype': forwarded.headers.get('x-amzn-errortype') ?? '' }),
      });
      response.end(await forwarded.text());
    })().catch(() => {
      response.writeHead(500);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no address');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    calls,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
};
