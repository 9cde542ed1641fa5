/** Version and release folder names (v0001 ...): one rule, in a module with no imports, so the CLI can name versions without loading the registry. */
export const versionName = (v: number) => `v${String(v).padStart(4, '0')}`;
