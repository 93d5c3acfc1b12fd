/**
 * A built copy of the project at a git ref, for benches that compare two commits side by side in one run (the machine
 * is shared, so figures taken minutes apart are not comparable). A detached `git worktree` in a temporary directory,
 * whose node_modules link to this checkout's (the workspace packages to the worktree's own sources), with this
 * checkout's native addon build (the C++ is not what such a bench compares) and dashboard; then `tsc -b`.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface RefTree {
  /** what was built: `COMMIT` or `COMMIT minus C1,C2` */
  label: string;
  root: string;
  remove(): void;
}

/** `ref` built in a temporary worktree, with `revert` (commits) reverted there (no commit, no branch moved). */
export function prepareRefTree(ref: string, revert: readonly string[] = [], repo = process.cwd()): RefTree {
  const short = (r: string) => execFileSync('git', ['rev-parse', '--short', r], { cwd: repo, encoding: 'utf8' }).trim();
  const commit = short(ref);
  const label = revert.length ? `${commit} minus ${revert.map(short).join(',')}` : commit;
  const root = join(mkdtempSync(join(tmpdir(), `concord-ref-${commit}-`)), 'tree');
  execFileSync('git', ['worktree', 'add', '--detach', root, commit], { cwd: repo, stdio: 'ignore' });
  const remove = () => execFileSync('git', ['worktree', 'remove', '--force', root], { cwd: repo, stdio: 'ignore' });
  try {
    if (revert.length) execFileSync('git', ['revert', '--no-commit', ...revert], { cwd: root, stdio: 'ignore' });
    const modules = join(repo, 'node_modules');
    mkdirSync(join(root, 'node_modules', '@concord'), { recursive: true });
    for (const name of readdirSync(modules)) {
      if (name !== '@concord') symlinkSync(join(modules, name), join(root, 'node_modules', name));
    }
    // relative links (../../libs/x): they resolve to the worktree's own packages
    for (const name of readdirSync(join(modules, '@concord'))) {
      symlinkSync(readlinkSync(join(modules, '@concord', name)), join(root, 'node_modules', '@concord', name));
    }
    for (const dir of ['apps/aggregator/node_modules', 'native/build', 'apps/aggregator/web/dist']) {
      if (existsSync(join(repo, dir))) cpSync(join(repo, dir), join(root, dir), { recursive: true });
    }
    execFileSync(resolve(repo, 'node_modules/.bin/tsc'), ['-b', 'tsconfig.build.json'], {
      cwd: root,
      stdio: 'inherit',
    });
    return { label, root, remove };
  } catch (error) {
    remove();
    throw error;
  }
}
