import { execFileSync } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { copyDataTemplate, DataTemplateSpec, dataTemplate, dataTemplatesMade } from './data-template';
import { findServerUser, runAsPrefix } from './server-user';

/** Not an engine's prefix, so no sweep takes these: every test removes the templates it made. */
const PREFIX = 'data-template-test-';
const made: string[] = [];

afterAll(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

/** A spec of its own (a fresh key), whose init writes a marker file with the password, slowly enough to overlap. */
function fakeSpec(init: (dir: string) => Promise<void> = async () => undefined) {
  const calls: string[] = [];
  const spec: DataTemplateSpec = {
    prefix: PREFIX,
    key: randomBytes(6).toString('hex'),
    init: async (dir, password) => {
      calls.push(dir);
      made.push(dir);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await init(dir);
      await fs.promises.mkdir(path.join(dir, 'data'), { mode: 0o700 });
      await fs.promises.writeFile(path.join(dir, 'data', 'marker'), password, { mode: 0o600 });
    },
  };
  return { spec, calls };
}

test('concurrent first uses make one template, with a random password, and later uses get the same one', async () => {
  const { spec, calls } = fakeSpec();
  const before = dataTemplatesMade();
  const templates = await Promise.all([dataTemplate(spec), dataTemplate(spec), dataTemplate(spec)]);
  expect(calls).toHaveLength(1);
  expect(dataTemplatesMade()).toBe(before + 1);
  expect(new Set(templates).size).toBe(1);
  const [template] = templates;
  expect(template.dataDir).toBe(path.join(template.dir, 'data'));
  expect(path.basename(template.dir)).toMatch(new RegExp(`^${PREFIX}template-`));
  expect(fs.readFileSync(path.join(template.dir, 'owner.pid'), 'utf8')).toBe(String(process.pid));
  expect(fs.readFileSync(path.join(template.dataDir, 'marker'), 'utf8')).toBe(template.password);
  expect(template.password).toMatch(/^[A-Za-z0-9_-]{24}$/);

  await expect(dataTemplate(spec)).resolves.toBe(template);
  expect(calls).toHaveLength(1);
  // Another key is another template, with another password.
  const other = await dataTemplate(fakeSpec().spec);
  expect(other.dir).not.toBe(template.dir);
  expect(other.password).not.toBe(template.password);
});

test('a failed attempt fails every caller that joined it, leaves no dir, and is not kept: the next call retries', async () => {
  let failures = 1;
  const { spec, calls } = fakeSpec(async () => {
    if (failures-- > 0) throw new Error('initdb failed: killed');
  });
  const attempts = await Promise.allSettled([dataTemplate(spec), dataTemplate(spec)]);
  expect(attempts).toEqual([
    { status: 'rejected', reason: new Error('initdb failed: killed') },
    { status: 'rejected', reason: new Error('initdb failed: killed') },
  ]);
  expect(calls).toHaveLength(1);
  expect(fs.existsSync(calls[0])).toBe(false);

  const template = await dataTemplate(spec);
  expect(calls).toHaveLength(2);
  expect(template.dir).toBe(calls[1]);
  await expect(dataTemplate(spec)).resolves.toBe(template);
});

test('a template deleted from disk is made again', async () => {
  const { spec, calls } = fakeSpec();
  const first = await dataTemplate(spec);
  fs.rmSync(first.dir, { recursive: true, force: true });
  const [second, third] = await Promise.all([dataTemplate(spec), dataTemplate(spec)]);
  expect(calls).toHaveLength(2);
  expect(second).toBe(third);
  expect(second.dir).not.toBe(first.dir);
  expect(fs.existsSync(second.dataDir)).toBe(true);
});

test('a copy keeps the modes, and as root the server user owns it', async () => {
  const user = findServerUser(['postgres', 'nobody']);
  const spec: DataTemplateSpec = {
    ...fakeSpec().spec,
    user,
    // As the server user would: root's files in a data dir are what the copy must not produce.
    init: async (dir) => {
      made.push(dir);
      const script = 'umask 077 && mkdir "$1/data" && echo x > "$1/data/file" && chmod 0640 "$1/data/file"';
      const [command, ...args] = [...runAsPrefix(user), 'sh', '-c', script, 'sh', dir];
      execFileSync(command, args);
    },
  };
  const template = await dataTemplate(spec);
  const target = fs.mkdtempSync(path.join(os.tmpdir(), PREFIX));
  made.push(target);
  if (user) fs.chownSync(target, user.uid, user.gid);

  await copyDataTemplate(template, target, user);
  const copy = path.join(target, 'data');
  expect(fs.statSync(copy).mode % 0o1000).toBe(0o700);
  expect(fs.statSync(path.join(copy, 'file')).mode % 0o1000).toBe(0o640);
  const owner = user ?? { uid: process.getuid!(), gid: process.getgid!() };
  for (const file of [copy, path.join(copy, 'file')]) {
    expect(fs.statSync(file)).toMatchObject({ uid: owner.uid, gid: owner.gid });
  }
  // A template gone from under a copy fails the start with what went wrong.
  await expect(copyDataTemplate({ ...template, dataDir: path.join(template.dir, 'missing') }, target, user))
    .rejects.toThrow(/^Copying the data template .*missing failed/);
});
