/**
 * npm run issuer [-- --port 4000]
 * A real OpenID Connect provider on 127.0.0.1 for trying AUTH=jwt on this machine (the tests start
 * their own): two users, alice and bob, whose passwords it prints; JWT access tokens for the API.
 * It prints the variables to start the pipeline with, then runs until Ctrl-C. Keys and sessions
 * are in memory: tokens do not outlive it.
 */
import { startLocalIssuer } from './auth/localIssuer';
import { parseCliArgs, wholeNumber } from './cliArgs';

const USAGE = 'usage: npm run issuer [-- --port 4000] [--redirect-uri http://127.0.0.1:3000/]...';

async function main(): Promise<void> {
  const { values } = parseCliArgs(USAGE, {
    options: { port: { type: 'string' }, 'redirect-uri': { type: 'string', multiple: true } },
  });
  const port = wholeNumber(USAGE, '--port', values.port, 4000, 0, 65_535);
  const redirects = values['redirect-uri'] ?? ['http://127.0.0.1:3000/', 'http://localhost:3000/'];
  const issuer = await startLocalIssuer({ port, galleryRedirectUris: redirects });
  process.stderr.write(
    [
      `OpenID Connect issuer on ${issuer.url}`,
      ...issuer.users.map((u) => `  user ${u.id}, password ${u.password}`),
      `  the gallery may return to: ${redirects.join(', ')}`,
      '',
      'start the pipeline with:',
      `  ${Object.entries(issuer.env)
        .map(([name, value]) => `${name}=${value}`)
        .join(' ')} npm start`,
      'Ctrl-C to stop',
      '',
    ].join('\n'),
  );
  const stop = async () => {
    await issuer.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  process.stderr.write(`issuer failed: ${(error as Error).message}\n`);
  process.exit(1);
});
