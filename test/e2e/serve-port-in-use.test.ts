/** `concord serve` on a port another process holds: one coded line and exit 2, no framework log on top. */
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { CONCORD_BIN, runCliAsync } from '../support/cli.js';

it('refuses a port in use with one line (E_PORT_IN_USE) and exit 2', async () => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const { port } = holder.address() as AddressInfo;
  const dir = mkdtempSync(join(tmpdir(), 'concord-port-'));
  try {
    const r = await runCliAsync(
      CONCORD_BIN,
      ['serve', '--port', String(port), '--data-dir', 'memory', '--key-dir', join(dir, 'keys')],
      { env: { DATABASE_URL: '', CONCORD_DATABASE_URL: '' } },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      `concord: port ${port} on 127.0.0.1 is already in use: stop what listens there or choose another --port\n`,
    );
  } finally {
    holder.close();
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
