// A real OpenID Connect provider for the tests (oidc-provider), on loopback, over http.
//
//   node provider.mjs <config.json>
//
// The config (written by tests/oidc_provider/__init__.py) holds `port`, `issuer`, `clients` and
// `accounts_file`. The accounts file maps a subject to {mfa, disabled, audience} and is read
// again on every use, so a test can change it while the provider runs. Prints
// `READY <issuer>` on stdout once it listens; exits on SIGTERM.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { CompactSign, calculateJwkThumbprint, decodeJwt, decodeProtectedHeader } from 'jose';
import Provider, { interactionPolicy } from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

const ACR = { mfa: 'urn:test:mfa', pwd: 'urn:test:pwd' };
const REJECTED = 'Onbekend of geblokkeerd account';

function accounts() {
  try {
    return JSON.parse(readFileSync(config.accounts_file, 'utf8'));
  } catch (error) {
    if (error.code === 'ENOENT') return {};
    throw error;
  }
}

// An account that exists and is not disabled, or undefined.
function activeAccount(subject) {
  const all = accounts();
  const account = Object.hasOwn(all, subject) ? all[subject] : undefined;
  return account && !account.disabled ? account : undefined;
}

// One RSA key per run: it signs the ID tokens and is published at the JWKS endpoint.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privateJwk = privateKey.export({ format: 'jwk' });
privateJwk.kid = await calculateJwkThumbprint(privateJwk);
privateJwk.alg = 'RS256';
privateJwk.use = 'sig';

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function html(title, body) {
  return `<!DOCTYPE html>
<html lang="nl">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
</head>
<body>
<main>
${body}
</main>
</body>
</html>`;
}

function loginPage(uid, message) {
  return html('Inloggen bij de testorganisatie', `<h1>Inloggen bij de testorganisatie</h1>
${message ? `<p role="alert">${escapeHtml(message)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}">
<label for="account">Account</label>
<input id="account" name="account" type="text" autocomplete="username" autofocus>
<button type="submit">Inloggen</button>
</form>`);
}

// The default policy, plus: a session whose account is now unknown or disabled needs a new
// login, so that `prompt=none` ends in `login_required`.
const policy = interactionPolicy.base();
policy.get('login').checks.add(
  new interactionPolicy.Check(
    'account_unavailable',
    'the account of the session is unknown or disabled',
    'login_required',
    (ctx) => Boolean(ctx.oidc.session.accountId && !ctx.oidc.account),
  ),
);

const provider = new Provider(config.issuer, {
  clients: config.clients.map((client) => ({
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
    id_token_signed_response_alg: 'RS256',
    ...client,
  })),
  jwks: { keys: [privateJwk] },
  responseTypes: ['code'],
  // Every authorization request must carry a code_challenge (S256).
  pkce: { methods: ['S256'], required: () => true },
  acrValues: Object.values(ACR),
  // acr and amr are claims of the openid scope: every ID token carries them.
  claims: { openid: ['sub', 'acr', 'amr'] },
  // Signed, SameSite=Lax cookies: no Secure flag is needed, so they work on http://127.0.0.1.
  cookies: {
    keys: [randomBytes(32).toString('base64url')],
    long: { httpOnly: true, sameSite: 'lax', signed: true },
    short: { httpOnly: true, sameSite: 'lax', signed: true },
  },
  ttl: {
    AccessToken: 600,
    AuthorizationCode: 60,
    IdToken: 600,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.body = html('Uitloggen bij de testorganisatie', `<h1>Uitloggen bij de testorganisatie</h1>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Uitloggen</button>`);
      },
      async postLogoutSuccessSource(ctx) {
        ctx.body = html('Uitgelogd', '<h1>Je bent uitgelogd bij de testorganisatie</h1>');
      },
    },
  },
  interactions: {
    policy,
    url: (ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  async findAccount(ctx, subject) {
    if (!activeAccount(subject)) return undefined;
    return { accountId: subject, claims: async () => ({ sub: subject }) };
  },
  // Consent is never asked: the grant of the session (or a new one) gets what is requested.
  async loadExistingGrant(ctx) {
    const { oidc } = ctx;
    const grantId = oidc.session.grantIdFor(oidc.client.clientId);
    let grant = grantId && await oidc.provider.Grant.find(grantId);
    if (!grant || grant.accountId !== oidc.account.accountId) {
      grant = new oidc.provider.Grant({
        clientId: oidc.client.clientId,
        accountId: oidc.account.accountId,
      });
    }
    grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
    grant.addOIDCClaims([...oidc.requestParamClaims]);
    await grant.save();
    return grant;
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = html('Fout', `<h1>Fout</h1>
<p>${escapeHtml(out.error)}: ${escapeHtml(out.error_description ?? '')}</p>`);
  },
});

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

// The login page of an interaction: an account that exists and is not disabled logs in.
provider.use(async (ctx, next) => {
  const match = /^\/interaction\/([\w-]+)$/.exec(ctx.path);
  if (!match) return next();
  const { uid, prompt } = await provider.interactionDetails(ctx.req, ctx.res);
  ctx.assert(uid === match[1] && prompt.name === 'login', 400, 'unexpected interaction');
  if (ctx.method === 'GET') {
    ctx.body = loginPage(uid);
    return undefined;
  }
  ctx.assert(ctx.method === 'POST', 405);
  const subject = (await readForm(ctx.req)).get('account')?.trim() ?? '';
  const account = activeAccount(subject);
  if (!account) {
    ctx.body = loginPage(uid, REJECTED);
    return undefined;
  }
  const login = account.mfa
    ? { accountId: subject, acr: ACR.mfa, amr: ['pwd', 'mfa'] }
    : { accountId: subject, acr: ACR.pwd, amr: ['pwd'] };
  ctx.status = 303;
  ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, { login }));
  return undefined;
});

// An account with an `audience` gets its ID token for that audience instead, signed with the
// same key: a real token of another client, as in a token substitution attack.
provider.use(async (ctx, next) => {
  await next();
  if (ctx.oidc?.route !== 'token' || ctx.status !== 200 || !ctx.body?.id_token) return;
  const payload = decodeJwt(ctx.body.id_token);
  const audience = activeAccount(payload.sub)?.audience;
  if (!audience) return;
  const substituted = new TextEncoder().encode(JSON.stringify({ ...payload, aud: audience }));
  ctx.body.id_token = await new CompactSign(substituted)
    .setProtectedHeader(decodeProtectedHeader(ctx.body.id_token))
    .sign(privateKey);
});

provider.listen(config.port, '127.0.0.1', () => {
  console.log(`READY ${config.issuer}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
