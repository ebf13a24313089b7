import { type FauxqsServer, startFauxqs } from 'fauxqs';

export interface SqsSnsLocal {
  readonly endpoint: string;
  readonly server: FauxqsServer;
  stop(): Promise<void>;
}

/**
 * Starts fauxqs, an in-process SQS + SNS emulator speaking the real wire protocols. Its queue
 * URLs use a `sqs.<region>.localhost` host that need not resolve: the SDK sends every call to
 * the endpoint override and names the queue by URL path.
 */
export const startSqsSnsLocal = async (options: { port?: number } = {}): Promise<SqsSnsLocal> => {
  const server = await startFauxqs({ port: options.port ?? 0, logger: false });
  return {
    endpoint: server.address.replace('localhost', '127.0.0.1'),
    server,
    stop: () => server.stop(),
  };
};
