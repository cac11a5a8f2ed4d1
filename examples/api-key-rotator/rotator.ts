// An API key in two slots, A and B, both valid at once. Each rotation writes a new key to the slot not in use, with the
// service's admin credential (a secret of its own, named by `adminarn`), and proves it with a real request: clients
// on the current key never see a failure. In this repository `cdk-secrets-platform/kit` maps to lambda/kit/public.ts
// (examples/tsconfig.json `paths`, the esbuild `alias` in bundle.ts); installed, it is the package's kit/ folder.
import {
  ConfusedDeputyError, ERROR_CODES, InvalidSecretValueError, RotationError, createCustomRotationHandler, requireString,
} from 'cdk-secrets-platform/kit';

interface ApiKeySecret { url: string; slot: 'A' | 'B'; api_key: string; adminarn: string }

export const handler = createCustomRotationHandler<ApiKeySecret>({
  name: 'api-key',
  field: 'api_key',
  passwordPolicy: { passwordLength: 40, excludePunctuation: true },
  parse: (fields, role) => {
    if (fields.slot !== 'A' && fields.slot !== 'B') throw new InvalidSecretValueError(role, 'slot must be A or B');
    const url = requireString(fields, 'url', role);
    // the key travels to this URL: TLS only (plain HTTP on the loopback address, for the local tests)
    if (!/^(https:\/\/|http:\/\/127\.0\.0\.1[:/])/.test(url)) throw new InvalidSecretValueError(role, 'url must be https');
    return { url, slot: fields.slot, api_key: requireString(fields, 'api_key', role), adminarn: requireString(fields, 'adminarn', role) };
  },
  // pending is the other slot with a new key; every other member is carried over byte for byte
  alternate: (current) => ({ slot: current.slot === 'A' ? 'B' : 'A' }),
  async setPending({ pending, ctx }) {
    const admin = await ctx.readSecret(pending.adminarn);
    // the admin token goes only to the service its own secret names
    if (admin.url !== pending.url) throw new ConfusedDeputyError('the admin secret belongs to another service');
    const res = await ctx.call('admin PUT key', (signal) => fetch(`${pending.url}/admin/keys/${pending.slot}`, {
      method: 'PUT',
      signal,
      body: JSON.stringify({ key: pending.api_key }),
      headers: { 'authorization': `Bearer ${requireString(admin, 'token', 'master')}`, 'content-type': 'application/json' },
    }));
    await res.body?.cancel();
    const code = res.status === 401 ? ERROR_CODES.MASTER_LOGIN_FAILED : ERROR_CODES.INTERNAL;
    if (!res.ok) throw new RotationError(code, `The admin API answered ${res.status}`);
  },
  async testPending(pending, ctx) {
    const res = await ctx.call('GET whoami', (signal) => fetch(`${pending.url}/v1/whoami`, { signal, headers: { 'x-api-key': pending.api_key } }));
    const body = (res.ok ? await res.json() : await res.body?.cancel()) as { slot?: string } | undefined;
    if (body?.slot !== pending.slot) throw new RotationError(ERROR_CODES.PENDING_TEST_FAILED, `The pending key was refused (${res.status})`);
  },
});
