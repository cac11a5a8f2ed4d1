import * as fs from 'fs';

/**
 * `pid: command line` of every process whose command line mentions `text` (a temp dir, a marker), read from /proc:
 * how a test proves that nothing it had started is still running.
 */
export function processesMentioning(text: string): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let cmdline: string;
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trimEnd();
    } catch {
      continue; // exited meanwhile
    }
    if (cmdline.includes(text)) found.push(`${pid}: ${cmdline}`);
  }
  return found;
}
