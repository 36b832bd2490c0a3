/** JSON path of an image_data entry, the way errors name it: ks_meta.image_data["/"]. */
export function imageField(mount: string, key?: string): string {
  return `ks_meta.image_data[${JSON.stringify(mount)}]${key ? `.${key}` : ''}`;
}
