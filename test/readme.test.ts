import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';
import { ERROR_CODES } from '../lambda/kit/errors';
import { ERROR_CODE_GUIDE } from '../src/private/contract';

/** Every TypeScript sample in the README compiles against the library as users import it. */
const ROOT = path.join(__dirname, '..');

function samples(): string[] {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  return [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
}

describe('README', () => {
  test('starts with the demo and test commands, in that order', () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'))![1];
    const commands = firstBlock.split('\n').filter(Boolean).map((l) => l.split('#')[0].trim());
    expect(commands).toEqual(['npm ci && npm run demo', 'npm ci && npm test']);
    // what CI runs is the README's test command
    expect(fs.readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8')).toContain(commands[1]);
  });

  test('every TypeScript sample type-checks against the library', () => {
    const blocks = samples();
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'readme-samples-'));
    try {
      const files = blocks.map((code, i) => {
        const file = path.join(dir, `sample-${i + 1}.ts`);
        fs.writeFileSync(file, code);
        return file;
      });
      const program = ts.createProgram(files, {
        strict: true,
        noEmit: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.CommonJS,
        moduleResolution: ts.ModuleResolutionKind.Node10,
        esModuleInterop: true,
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [path.join(ROOT, 'node_modules', '@types')],
        baseUrl: ROOT,
        paths: { 'cdk-secrets-platform': ['src/index.ts'], '*': ['node_modules/*'] },
      });
      const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => {
        const where = d.file ? `${path.basename(d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : '';
        return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      });
      expect(diagnostics).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the error-code table lists every code the handlers can throw, and only those, with the guide the alarms carry', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const table = /\| code \| meaning \| what to do \|\n\|---\|---\|---\|\n((?:\|.*\n)+)/.exec(readme)![1];
    const rows = table.split('\n').filter(Boolean).map((row) => row.split(' | ').map((cell) => cell.replace(/^\| |\s*\|$/g, '')));
    const documented = rows.map(([code]) => /^`([A-Z_]+)`$/.exec(code)![1]);
    expect([...documented].sort()).toEqual(Object.values(ERROR_CODES).sort());
    // the README says what the alarm descriptions say (both come from the contract's guide)
    for (const [code, meaning, action] of rows) {
      const guide = ERROR_CODE_GUIDE[code.slice(1, -1) as keyof typeof ERROR_CODE_GUIDE];
      expect({ code, meaning, action }).toEqual({ code, meaning: guide.meaning, action: guide.action });
    }
    // every code is thrown somewhere in the handlers, so the table is what an operator can meet
    const sources = fs.readdirSync(path.join(ROOT, 'lambda'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => fs.readFileSync(path.join(ROOT, 'lambda', f), 'utf8')).join('\n');
    const thrown = Object.keys(ERROR_CODES).filter((key) => sources.includes(`ERROR_CODES.${key}`));
    expect(thrown.sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });
});
