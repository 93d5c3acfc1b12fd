import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/**
 * POSTs JSON and reads a JSON answer; for https with `ca` (PEM) that CA bundle REPLACES Node's default roots (as
 * Node's `ca` option does; NODE_EXTRA_CA_CERTS adds to them instead). Node 20's global
 * fetch cannot take a CA without undici's own Agent class, so the enrollment call uses node:http(s) directly.
 * Rejects with Node's error (its `code` kept) when the server cannot be reached or the certificate does not verify.
 */
export function postJson(
  url: string,
  body: unknown,
  o: { ca?: string; timeoutMs: number },
): Promise<{ status: number; payload: unknown }> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const bytes = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': bytes.length },
        timeout: o.timeoutMs,
        ...(target.protocol === 'https:' && o.ca !== undefined ? { ca: o.ca } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          // an enrollment answer is a few kB (keys and the federation spec); refuse to buffer a runaway body
          if (size > 4 << 20)
            req.destroy(Object.assign(new Error('answer larger than 4 MiB'), { code: 'E_TOO_LARGE' }));
          else chunks.push(chunk);
        });
        res.on('end', () => {
          let payload: unknown = null;
          try {
            payload = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            payload = null;
          }
          resolve({ status: res.statusCode ?? 0, payload });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(bytes);
  });
}
