import type { LinuxResources } from '../../oci/index.ts';

/**
 * The resources cgroups apply are OCI's `linux.resources` (src/oci/runtime-spec.ts, runtime-spec
 * config-linux.md "Control groups"). Every field is optional: an absent one leaves the kernel's
 * current value alone (on create: the kernel default, unlimited). Device rules apply in order on
 * top of "deny everything", as runc applies them; a missing major/minor (or null, or -1) is "*".
 */
export type { LinuxDeviceCgroup, LinuxResources } from '../../oci/index.ts';
export type LinuxMemory = NonNullable<LinuxResources['memory']>;
export type LinuxCpu = NonNullable<LinuxResources['cpu']>;
export type LinuxBlockIO = NonNullable<LinuxResources['blockIO']>;
