import { describe, expect, it } from 'vitest';
import { createLogger, type LogEvent } from './log.js';
import { ExecaRunner } from './runner.js';
import { logSlowTool } from './slow-tools.js';

describe('logSlowTool', () => {
  it('logs a real command that took longer than the threshold, with its argv and exit code, and not a quick one', async () => {
    const events: LogEvent[] = [];
    const log = createLogger([(_l, e) => events.push(e)]);
    const runner = new ExecaRunner({ onRecord: logSlowTool(log, 300) });
    await runner.run(['true']);
    await runner.run(['sleep', '0.4']);
    await runner.run(['sh', '-c', 'sleep 0.4; exit 3'], { okExitCodes: [3] });
    expect(events.map((e) => e.event)).toEqual(['tool.slow', 'tool.slow']);
    expect(events[0]).toMatchObject({ argv: ['sleep', '0.4'], exitCode: 0 });
    expect(events[0]?.['durationMs']).toBeGreaterThanOrEqual(300);
    expect(events[1]).toMatchObject({ exitCode: 3 });
    expect(runner.history).toHaveLength(3);
  });
});
