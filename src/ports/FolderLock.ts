import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PipelineError } from '../errors';

/**
 * One live process per folder: a `.lock` file holding the owner's pid, made with O_EXCL. A lock
 * left by a process that is gone (killed, crashed) is taken over; one held by a live process, this
 * one included, is refused. Two writers on one journal folder would interleave their records.
 */
export interface FolderLockOptions {
  /** What the folder is, for the error: "queue journal folder". */
  what: string;
  /** Who may hold it, for the error: "MemoryQueue". */
  owner: string;
}

export class FolderLock {
  private released = false;

  private constructor(readonly file: string) {}

  /** Takes the lock of `dir` (which must exist) or throws a PipelineError naming the holder. */
  static acquire(dir: string, options: FolderLockOptions): FolderLock {
    const file = path.join(dir, '.lock');
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
        throw new PipelineError(
          `${options.what} ${dir} is in use by process ${holder}${holder === process.pid ? ' (this one)' : ''}: expected one ${options.owner} per folder`,
        );
      }
      writeFileSync(file, String(process.pid)); // left by a process that is gone
    }
    return new FolderLock(file);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    try {
      unlinkSync(this.file);
    } catch {
      // already gone
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}
