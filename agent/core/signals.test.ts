import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ForgeError } from './errors.js';
import { abortOnSignals, SIGNAL_EXIT_CODES } from './signals.js';

describe('abortOnSignals', () => {
  it('aborts on the first SIGTERM with ABORTED, then leaves the next signal to the default', () => {
    const proc = new EventEmitter();
    const s = abortOnSignals(proc);
    expect(proc.listenerCount('SIGTERM') + proc.listenerCount('SIGINT')).toBe(2);
    proc.emit('SIGTERM');
    expect(s.signal.aborted).toBe(true);
    expect(s.signal.reason).toBeInstanceOf(ForgeError);
    expect(s.signal.reason).toMatchObject({ code: 'ABORTED', message: 'received SIGTERM', details: { signal: 'SIGTERM' } });
    expect(s.received).toBe('SIGTERM');
    // No handler left: a second SIGINT/SIGTERM ends the process (Node's default).
    expect(proc.listenerCount('SIGTERM') + proc.listenerCount('SIGINT')).toBe(0);
    expect(SIGNAL_EXIT_CODES[s.received!]).toBe(143);
  });

  it('removes its handlers when the command ends without a signal', () => {
    const proc = new EventEmitter();
    const s = abortOnSignals(proc);
    s.dispose();
    s.dispose();
    expect(proc.listenerCount('SIGINT')).toBe(0);
    expect(s.signal.aborted).toBe(false);
    expect(s.received).toBeUndefined();
  });
});
