import { describe, expect, it } from 'vitest';
import { buildPlan } from './build.js';
import { loadScenario } from './fixtures.js';
import { renderPlan } from './render.js';

describe('renderPlan', () => {
  it('shows kept partitions, LVs and filesystems, and the ESP', async () => {
    const kept = await loadScenario('keep-data');
    const text = renderPlan(buildPlan(kept.data, kept.inventory));
    expect(text).toMatch(/^disk \/dev\/vda .*keeps data \(not relabelled\)$/m);
    expect(text).toMatch(/^4\s+\/dev\/vda4\s+2329\s+2841\s+512\s+\/var\/lib\/keep\s+Keep\s+yes$/m);
    expect(text).toMatch(/^data\/kept\s+512\s+\/dev\/mapper\/data-kept\s+yes$/m);
    expect(text).toMatch(/^\/boot\s+\/dev\/vda2\s+ext2\s+mkfs$/m);
    const esp = await loadScenario('esp-single-disk');
    expect(renderPlan(buildPlan(esp.data, esp.inventory))).toMatch(/; ESP \/dev\/vda2$/m);
  });
});
