import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { sha256, sha256File, sha256Stream } from '@app/checksum';

describe('sha256', () => {
  // Known answers from FIPS 180-2, so the helper is checked against the standard rather than against node:crypto.
  it('gives the standard digests', () => {
    expect(sha256('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256(Buffer.from('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('streams a file larger than one read chunk to the same digest and size as the whole buffer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'checksum-'));
    try {
      const body = Buffer.alloc(1_000_003, 7);
      const path = join(dir, 'weights.bin');
      writeFileSync(path, body);
      expect(await sha256File(path)).toEqual({ sha256: sha256(body), bytes: body.byteLength });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('hashes a stream chunk by chunk', async () => {
    const digest = await sha256Stream(Readable.from([Buffer.from('a'), Buffer.from('bc')]));
    expect(digest).toEqual({ sha256: sha256('abc'), bytes: 3 });
  });

  it('rejects when the file cannot be read', async () => {
    await expect(sha256File('/nonexistent/model.json')).rejects.toThrow(/ENOENT/);
  });
});
