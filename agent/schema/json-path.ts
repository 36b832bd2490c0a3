// JSON paths as people write them: `ks_meta.pm_data.ks_spaces[1].volumes[3].size`,
// with keys that are not identifiers quoted (`ks_meta.image_data["/boot"].uri`).

export type PathSegment = string | number;

const IDENT = /^[A-Za-z_$][\w$]*$/;

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      const key = String(seg);
      if (IDENT.test(key)) out += out ? `.${key}` : key;
      else out += `[${JSON.stringify(key)}]`;
    }
  }
  return out || '(document)';
}
