// Checks on the first-boot call-back body posted by the configdrive's report
// script (agent/configdrive/templates/fuel-forge-report.py).
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export function firstBootChecks(body: unknown, expect: { hostname: string }): Check[] {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const ci = (b['cloud_init'] ?? {}) as Record<string, unknown>;
  const ds = (b['datasource'] ?? {}) as Record<string, unknown>;
  const dsText = `${String(ds['name'] ?? '')} ${String(ds['platform'] ?? '')} ${String(ds['subplatform'] ?? '')}`;
  const errors = Array.isArray(ci['errors']) ? ci['errors'] : [];
  return [
    { name: 'first-boot hostname', ok: String(b['hostname'] ?? '') === expect.hostname, detail: `got ${String(b['hostname'])}, want ${expect.hostname}` },
    { name: 'cloud-init boot-finished', ok: b['boot_finished'] === true, detail: `boot_finished=${String(b['boot_finished'])}` },
    { name: 'cloud-init status done', ok: ci['status'] === 'done' && errors.length === 0, detail: `status=${String(ci['status'])} errors=${JSON.stringify(errors).slice(0, 200)}` },
    { name: 'datasource ConfigDrive', ok: /configdrive|config-drive/i.test(dsText), detail: dsText.trim() },
  ];
}
