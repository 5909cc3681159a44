/**
 * Checks an AWS Signature Version 4 request signature, as AWS does before any action runs
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html and
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-signing-elements.html): the
 * canonical request (method, URI, query, the signed headers, the payload's SHA-256), the string
 * to sign over the credential scope, and the HMAC key derived from the secret, date, region and
 * service.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export interface Credential {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export type SignatureProblem = { type: 'MissingAuthenticationTokenException' | 'IncompleteSignatureException' | 'UnrecognizedClientException' | 'InvalidSignatureException'; message: string; status: number };

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

/** The caller's access key id when the signature is right, else the error AWS answers. */
export function verifySignature(request: IncomingMessage, body: Buffer, service: string, lookup: (accessKeyId: string) => Credential | undefined): string | SignatureProblem {
  const header = request.headers['authorization'];
  if (typeof header !== 'string') return { type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token', status: 403 };
  const match = AUTHORIZATION.exec(header);
  const amzDate = request.headers['x-amz-date'];
  if (!match || typeof amzDate !== 'string')
    return { type: 'IncompleteSignatureException', message: `Authorization header requires 'Credential', 'Signature' and 'SignedHeaders', and an X-Amz-Date header`, status: 400 };
  const [, accessKeyId = '', date = '', region = '', signedService = '', signedHeaders = '', signature = ''] = match;
  const credential = lookup(accessKeyId);
  if (!credential) return { type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.', status: 400 };
  if (credential.sessionToken !== undefined && request.headers['x-amz-security-token'] !== credential.sessionToken)
    return { type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.', status: 400 };
  if (signedService !== service || !amzDate.startsWith(date))
    return { type: 'InvalidSignatureException', message: `Credential should be scoped to correct service: '${service}'.`, status: 400 };
  const url = new URL(request.url ?? '/', 'http://host');
  const query = [...url.searchParams].map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).sort().join('&');
  const headers = signedHeaders.split(';');
  if (!headers.includes('host')) return { type: 'InvalidSignatureException', message: "'Host' must be a signed header", status: 400 };
  const canonicalHeaders = headers.map((name) => `${name}:${String(request.headers[name] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const payloadHash = typeof request.headers['x-amz-content-sha256'] === 'string' ? request.headers['x-amz-content-sha256'] : sha256(body);
  const canonicalRequest = [request.method ?? 'POST', url.pathname, query, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${credential.secretAccessKey}`, date), region), service), 'aws4_request');
  const expected = createHmac('sha256', key).update(stringToSign).digest();
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { type: 'InvalidSignatureException', message: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.', status: 400 };
  return accessKeyId;
}
