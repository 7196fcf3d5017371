import fs from 'node:fs';

/**
 * Compares text with a golden file. On mismatch writes `<file>.actual` and
 * returns false; with STACKDB_UPDATE_GOLDEN=1 rewrites the golden file instead.
 */
export function matchGolden(goldenPath: string, actual: string): { ok: boolean; expected: string } {
  if (process.env.STACKDB_UPDATE_GOLDEN === '1' || !fs.existsSync(goldenPath)) {
    if (process.env.STACKDB_UPDATE_GOLDEN === '1') fs.writeFileSync(goldenPath, actual);
    if (!fs.existsSync(goldenPath)) {
      fs.writeFileSync(goldenPath + '.actual', actual);
      return { ok: false, expected: '' };
    }
  }
  const expected = fs.readFileSync(goldenPath, 'utf8');
  if (expected === actual) {
    fs.rmSync(goldenPath + '.actual', { force: true });
    return { ok: true, expected };
  }
  fs.writeFileSync(goldenPath + '.actual', actual);
  return { ok: false, expected };
}
