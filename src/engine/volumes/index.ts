export { ContainerVolumes } from './container-volumes.ts';
export { type MountPointRecord, planMountPoints } from './mount-points.ts';
export { Volumes } from './volume-service.ts';
