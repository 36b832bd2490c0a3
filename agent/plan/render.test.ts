import { describe, expect, it } from 'vitest';
import { buildPlan } from './build.js';
import { loadScenario } from './fixtures.js';
import { renderPlan } from './render.js';

describe('renderPlan', () => {
  it('shows kept partitions, LVs and filesystems, and the ESP', async () => {
    const kept = await loadScenario('keep-data');
    const text = renderPlan(buildPlan(kept.data, kept.inventory));
    expect(text).toMatch(/^disk \/dev\/vda .*keeps data \(not relabelled\)$/m);
    expect(text).toMatch(/^5\s+\/dev\/vda5\s+2533\s+3045\s+512\s+\/var\/lib\/keep\s+Keep\s+yes$/m);
    expect(text).toMatch(/^data\/kept\s+512\s+\/dev\/mapper\/data-kept\s+yes$/m);
    expect(text).toMatch(/^\/boot\s+\/dev\/vda3\s+ext2\s+mkfs$/m);
    const esp = await loadScenario('esp-single-disk');
    expect(renderPlan(buildPlan(esp.data, esp.inventory))).toMatch(/; ESP \/dev\/vda3$/m);
  });
});
