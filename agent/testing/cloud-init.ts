// The oracle for everything the configdrive renders: cloud-init's own code reads
// the files back. cloud-init 22.4 lives in the system Python (/usr/bin/python3);
// the python3 on PATH (pyenv) has no cloudinit. Starting it costs ~0.5 s, so one
// call reads a whole batch of rendered configdrives.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Runner } from '../core/runner.js';

export const CLOUD_INIT_PYTHON = '/usr/bin/python3';

export interface ReadRequest {
  /** A MIME user-data file: split by cloudinit.user_data.UserDataProcessor. */
  userData?: string;
  /** Name → YAML file, each loaded with cloudinit.util.load_yaml (as NoCloud loads meta-data and network-config). */
  yaml?: Record<string, string>;
  /** Name → file read back as UTF-8 text, byte-exact. */
  text?: Record<string, string>;
}

/** A value PyYAML produced that JSON cannot carry as is (date, big int, non-string key …). */
export interface PythonValue {
  $python: string;
  repr: string;
}

export interface LoadedYaml {
  /** What cloudinit.util.load_yaml returned (null when it failed: cloud-init then ignores the file). */
  value: unknown;
  /** PyYAML's error, when it failed. */
  error?: string;
}

export interface UserDataPart {
  contentType: string;
  filename: string | null;
  /** The payload as cloud-init's part handlers get it (util.fully_decoded_payload). */
  payload: string;
  /** text/cloud-config parts: the payload through util.load_yaml, as the cloud-config handler does. */
  yaml?: LoadedYaml;
}

export interface ReadBack {
  parts?: UserDataPart[];
  yaml: Record<string, LoadedYaml>;
  text: Record<string, string>;
}

// Non-JSON values come back tagged, so a test sees "45045 (int)" and never a
// silently converted string. Keys that are not strings come back as "$python:<repr>".
const SCRIPT = String.raw`
import json, sys
from cloudinit import safeyaml, util
from cloudinit import user_data as ud
from cloudinit.helpers import Paths

def tag(o):
    if isinstance(o, bool) or o is None or isinstance(o, str):
        return o
    if isinstance(o, int) and abs(o) < 2 ** 1000 and int(float(o)) == o:  # exact as a JS number
        return o
    if isinstance(o, float) and o == o and abs(o) != float("inf"):
        return o
    if isinstance(o, dict):
        return {(k if isinstance(k, str) else "$python:" + repr(k)): tag(v) for k, v in o.items()}
    if isinstance(o, list):
        return [tag(v) for v in o]
    return {"$python": type(o).__name__, "repr": repr(o)}

def load(text):
    value = util.load_yaml(text)
    out = {"value": tag(value)}
    if value is None:
        try:
            safeyaml.load(text)
            out["error"] = "load_yaml returned None"
        except Exception as e:
            out["error"] = "%s: %s" % (type(e).__name__, e)
    return out

requests = json.load(open(sys.argv[1]))
results = []
for r in requests:
    res = {"yaml": {}, "text": {}}
    if r.get("userData"):
        blob = open(r["userData"], "rb").read()
        msg = ud.UserDataProcessor(Paths({"cloud_dir": sys.argv[2]})).process(blob)
        parts = []
        for p in msg.walk():
            if p.is_multipart():
                continue
            payload = util.fully_decoded_payload(p)
            if isinstance(payload, bytes):
                payload = payload.decode("utf-8", "surrogateescape")
            part = {"contentType": p.get_content_type(), "filename": p.get_filename(), "payload": payload}
            if p.get_content_type() == "text/cloud-config":
                part["yaml"] = load(payload)
            parts.append(part)
        res["parts"] = parts
    for name, path in (r.get("yaml") or {}).items():
        res["yaml"][name] = load(open(path, encoding="utf-8").read())
    for name, path in (r.get("text") or {}).items():
        res["text"][name] = open(path, encoding="utf-8", newline="").read()
    results.append(res)
json.dump(results, sys.stdout)
`;

/** Reads each request's files with cloud-init's own code, in one Python process. */
export async function readWithCloudInit(runner: Runner, requests: readonly ReadRequest[], workDir: string): Promise<ReadBack[]> {
  const dir = mkdtempSync(join(workDir, 'ci-read-'));
  const file = join(dir, 'requests.json');
  writeFileSync(file, JSON.stringify(requests));
  const r = await runner.run([CLOUD_INIT_PYTHON, '-c', SCRIPT, file, join(dir, 'cloud')], { timeoutMs: 120_000 });
  const out = JSON.parse(r.stdout) as unknown;
  if (!Array.isArray(out) || out.length !== requests.length) {
    throw new Error(`cloud-init reader: expected ${requests.length} results, got ${r.stdout.slice(0, 200)}`);
  }
  return out as ReadBack[];
}
