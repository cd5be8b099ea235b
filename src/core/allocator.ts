/**
 * Whether this process runs with the allocator settings bin/reflex-node sets
 * (docs/telemetry.md, "Large messages and the allocator"). Reported, never enforced: the
 * settings only matter for large telemetry messages, and glibc reads them at process start.
 */

/** The GLIBC_TUNABLES value bin/reflex-node sets; test/core-allocator.test.ts keeps the two equal. */
export const REFLEX_TUNABLES = 'glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=67108864:glibc.malloc.top_pad=16777216';

export type AllocatorSetting = 'reflex' | 'custom' | 'default';

/** 'reflex': started through bin/reflex(-node); 'custom': the user set GLIBC_TUNABLES; 'default': glibc's defaults. */
export function allocatorSetting(env: NodeJS.ProcessEnv = process.env): AllocatorSetting {
  const t = env.GLIBC_TUNABLES;
  if (t === undefined || t === '') return 'default';
  return t === REFLEX_TUNABLES ? 'reflex' : 'custom';
}
