/** Docker Engine API wire types for volumes, container filesystems and disk usage (swagger v1.41). */
import type { ContainerSummary } from './container.ts';
import type { ImageSummary } from './image.ts';

export interface Volume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt: string;
  Status?: Record<string, unknown>;
  Labels: Record<string, string>;
  Scope: 'local' | 'global';
  Options: Record<string, string>;
  /** Only in /system/df: bytes used (-1 unknown) and the number of containers using it. */
  UsageData?: { Size: number; RefCount: number } | null;
}

export interface VolumeCreateRequest {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

export interface VolumeListResponse {
  Volumes: Volume[];
  Warnings: string[] | null;
}

export interface VolumePruneResponse {
  VolumesDeleted: string[] | null;
  SpaceReclaimed: number;
}

/** GET /containers/{id}/changes: Kind 0 = modified, 1 = added, 2 = deleted. */
export interface FilesystemChange {
  Path: string;
  Kind: 0 | 1 | 2;
}

/** The X-Docker-Container-Path-Stat header of the archive routes (base64 JSON). */
export interface ContainerPathStat {
  name: string;
  size: number;
  /** Go's os.FileMode bits (type bits are Go's, not POSIX's). */
  mode: number;
  /** RFC 3339. */
  mtime: string;
  linkTarget: string;
}

export interface BuildCache {
  ID: string;
  Parent?: string;
  Type: string;
  Description: string;
  InUse: boolean;
  Shared: boolean;
  Size: number;
  CreatedAt: string;
  LastUsedAt: string | null;
  UsageCount: number;
}

export interface SystemDataUsageResponse {
  LayersSize: number;
  Images: ImageSummary[];
  Containers: ContainerSummary[];
  Volumes: Volume[];
  BuildCache: BuildCache[];
}

export interface ContainerPruneResponse {
  ContainersDeleted: string[] | null;
  SpaceReclaimed: number;
}

export interface ImagePruneResponse {
  ImagesDeleted: { Untagged?: string; Deleted?: string }[] | null;
  SpaceReclaimed: number;
}
