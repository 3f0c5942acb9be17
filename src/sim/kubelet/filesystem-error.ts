export type FsErrorCode = 'ENOENT' | 'ENOSPC' | 'EEXIST' | 'ENOTDIR' | 'EISDIR' | 'EROFS' | 'ENOTEMPTY' | 'EBUSY';

const STRERROR: Record<FsErrorCode, string> = {
  ENOENT: 'No such file or directory',
  ENOSPC: 'No space left on device',
  EEXIST: 'File exists',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EROFS: 'Read-only file system',
  ENOTEMPTY: 'Directory not empty',
  EBUSY: 'Device or resource busy',
};

/** A failed operation on a container's simulated filesystem; the message is the C library's strerror text, as tools print it. */
export class FsError extends Error {
  constructor(readonly code: FsErrorCode) {
    super(STRERROR[code]);
    this.name = 'FsError';
  }
}
