import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** What CloudFormation sends a custom resource's Lambda function (the fields we use). */
export interface CustomResourceRequest {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
}

export interface CustomResourceOutcome {
  readonly status: 'SUCCESS' | 'FAILED';
  /** Shown in the stack events; must carry no secret. */
  readonly reason?: string;
  readonly physicalResourceId: string;
  readonly data?: Readonly<Record<string, string | number>>;
}

/**
 * PUTs a custom resource's outcome to CloudFormation's pre-signed ResponseURL, as AWS's own
 * cfn-response module does: an empty Content-Type (the URL's signature covers it) and an
 * explicit length. Hand-written because the CDK Provider framework would add a second Lambda
 * function, with a managed policy, just to make this one call.
 * @throws when the URL does not answer 2xx: then CloudFormation times the resource out.
 */
export const sendCustomResourceResponse = async (
  request: CustomResourceRequest,
  outcome: CustomResourceOutcome,
): Promise<void> => {
  const body = JSON.stringify({
    Status: outcome.status,
    Reason: (outcome.reason ?? outcome.status).slice(0, 1000),
    PhysicalResourceId: outcome.physicalResourceId,
    StackId: request.StackId,
    RequestId: request.RequestId,
    LogicalResourceId: request.LogicalResourceId,
    ...(outcome.data === undefined ? {} : { Data: outcome.data }),
  });
  const url = new URL(request.ResponseURL);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  await new Promise<void>((resolve, reject) => {
    const put = send(
      url,
      {
        method: 'PUT',
        headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) },
        timeout: 30_000,
      },
      (response) => {
        response.resume();
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else reject(new Error(`CloudFormation response URL answered HTTP ${status}`));
        });
      },
    );
    put.on('timeout', () => put.destroy(new Error('CloudFormation response URL timed out')));
    put.on('error', reject);
    put.end(body);
  });
};
