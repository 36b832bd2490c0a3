// The build host's cache: OS images, the bootstrap ramdisk, the lab's master
// image and the shared .deb cache live under one directory.
export function forgeCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.FORGE_CACHE_DIR || '/var/cache/fuel-forge';
}
