/** test/support/test-sequencer.js: jest's order with the conformance files moved to the front, order kept otherwise. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const LongFirstSequencer = require('./test-sequencer.js');
/** jest's default sequencer, which it extends. */
const Sequencer = Object.getPrototypeOf(LongFirstSequencer);

test('the conformance files go first; the rest keeps jest\'s order', () => {
  const paths = [
    '/r/test/secret.test.ts',
    '/r/test/lambda/conformance/postgres.test.ts',
    '/r/test/lambda/postgres-single-user.test.ts',
    '/r/test/lambda/conformance/mariadb.test.ts',
    '/r/test/lambda/conformance/suite.ts',
    '/r/test/rotation/nag.test.ts',
  ];
  const tests = paths.map((p) => ({ path: p }));
  // jest's own order is whatever its sort returns: here, the reverse of the input
  const spy = jest.spyOn(Sequencer.prototype, 'sort').mockImplementation((t: unknown) => [...(t as unknown[])].reverse());
  try {
    const sorted = new LongFirstSequencer({ contexts: [], globalConfig: {} }).sort(tests).map((t: { path: string }) => t.path);
    expect(sorted).toEqual([
      '/r/test/lambda/conformance/mariadb.test.ts',
      '/r/test/lambda/conformance/postgres.test.ts',
      '/r/test/rotation/nag.test.ts',
      '/r/test/lambda/conformance/suite.ts',
      '/r/test/lambda/postgres-single-user.test.ts',
      '/r/test/secret.test.ts',
    ]);
  } finally {
    spy.mockRestore();
  }
});
