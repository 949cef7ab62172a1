import {
  freePorts,
  hasExited,
  startProcess,
  stopProcess,
  waitFor,
  waitUntilAnswering,
  type ServiceProcess,
} from '@app/config/testing';

/** A server that forks a grandchild and prints its pid, so a test can see the whole group go. */
const SERVER = `
const { spawn } = require('node:child_process');
const grandchild = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
console.log('grandchild ' + grandchild.pid);
require('node:http').createServer((_, res) => res.end('ok')).listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => { if (process.env.IGNORE_TERM !== '1') process.exit(0); });
`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function grandchildPid(service: ServiceProcess): Promise<number> {
  for (;;) {
    const line = service.tail.find((l) => l.startsWith('grandchild '));
    if (line) return Number(line.split(' ')[1]);
    await new Promise((done) => setTimeout(done, 20));
  }
}

describe('test processes', () => {
  it('hands out distinct free ports', async () => {
    const ports = await freePorts(4);
    expect(new Set(ports).size).toBe(4);
    for (const port of ports) expect(port).toBeGreaterThan(0);
  });

  it.each([
    ['stops on SIGTERM', '0', true],
    ['is killed after the grace period when it ignores SIGTERM', '1', false],
  ])(
    'starts a server, waits until it answers, and %s with everything it started',
    async (_, ignore, inGrace) => {
      const [port] = await freePorts(1);
      const lines: string[] = [];
      const server = startProcess('server', process.execPath, ['-e', SERVER], {
        env: { PORT: String(port), IGNORE_TERM: ignore },
        onLine: (line) => lines.push(line),
      });
      await waitUntilAnswering(server, `http://127.0.0.1:${port}/`, 20_000);
      const grandchild = await grandchildPid(server);
      expect(lines).toContain(`grandchild ${grandchild}`);
      expect(await stopProcess(server, 1000)).toBe(inGrace);
      expect(hasExited(server)).toBe(true);
      for (let i = 0; i < 100 && alive(grandchild); i++) await new Promise((done) => setTimeout(done, 20));
      expect(alive(grandchild)).toBe(false);
    },
  );

  it('fails at once with its last lines when the process exits before answering', async () => {
    const [port] = await freePorts(1);
    const broken = startProcess('broken', process.execPath, [
      '-e',
      'console.error("no config"); process.exit(3)',
    ]);
    await expect(waitUntilAnswering(broken, `http://127.0.0.1:${port}/`, 20_000)).rejects.toThrow(
      /broken exited before .* answered\nlast lines of broken:\n {2}no config/,
    );
  });

  it('waits for a probe to give a value, passing over its failures, and times out with the last error and lines', async () => {
    let calls = 0;
    const third = async () => {
      calls += 1;
      if (calls === 1) throw new Error('not up yet');
      return calls === 3 ? 'ready' : undefined;
    };
    await expect(waitFor('the third call', third, 5000)).resolves.toBe('ready');
    const chatty = startProcess('chatty', process.execPath, ['-e', 'console.log("still loading")']);
    await chatty.exited;
    const refused = async () => {
      throw new Error('fetch failed', { cause: new Error('connect ECONNREFUSED') });
    };
    await expect(waitFor('the server', refused, 300, [chatty])).rejects.toThrow(
      /^timed out waiting for the server \(last error: fetch failed: Error: connect ECONNREFUSED\)\nlast lines of chatty:\n {2}still loading$/,
    );
  });
});
