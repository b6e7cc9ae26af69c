/**
 * Who the gallery is for (browser code, bundled into gallery.ts's script), as the server's AUTH says
 * (`data-auth` and the sign-in settings on <main>, filled by galleryPage.ts):
 * - none: nothing to do; every request goes as it is.
 * - api-key: a field for the key, kept in sessionStorage (this tab only, gone when it closes), sent
 *   as `x-api-key`.
 * - jwt: "Sign in" sends the browser to the issuer (Cognito's hosted UI on AWS) with the OAuth 2.0
 *   authorization code flow and PKCE (S256; the gallery is a public client, it holds no secret);
 *   back here with the code, the page exchanges it at the token endpoint for an access token,
 *   kept in sessionStorage until it expires and sent as `Authorization: Bearer`.
 * A 401 from the API (a key taken back, a token expired) forgets what was kept and asks again.
 * State lives in the closure of createSignIn, so this module has none of its own.
 */
import type { AuthMode } from '../config';
import { byId } from './galleryDom';

export interface SignIn {
  mode: AuthMode;
  /** True when requests can be made: a key or a token is kept (always, with AUTH=none). */
  ready(): boolean;
  /** The headers of an API request (never of a request to the bucket). */
  headers(): Record<string, string>;
  /** The API said 401: forget the key or token and ask again, with why. */
  refused(reason: string): void;
  /** Finishes a sign-in the issuer sent the browser back from (the code in the URL); resolves when done or when there is none. */
  completeRedirect(): Promise<void>;
}

interface KeptToken {
  accessToken: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  who: string;
}

const TOKEN_KEY = 'image-pipeline.token';
const API_KEY_KEY = 'image-pipeline.api-key';
const PKCE_KEY = 'image-pipeline.pkce';
/** A token this close to its expiry is not used: a request would be refused on the way. */
const EXPIRY_MARGIN_MS = 30_000;

function base64url(bytes: Uint8Array): string {
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomText(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** The token's `sub` (or `username`), for the page to say who is signed in; verified by the server, not here. */
function subjectOf(token: string): string {
  try {
    const payload = JSON.parse(atob((token.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
    const name = payload.username ?? payload.preferred_username ?? payload.email ?? payload.sub;
    return typeof name === 'string' ? name : 'you';
  } catch {
    return 'you';
  }
}

function read<T>(key: string): T | undefined {
  try {
    const text = sessionStorage.getItem(key);
    return text === null ? undefined : (JSON.parse(text) as T);
  } catch {
    return undefined;
  }
}

/** Where the issuer sends the browser back: this page, without its query. */
function redirectUri(): string {
  return `${location.origin}${location.pathname}`;
}

export function createSignIn(main: HTMLElement, onChange: () => void): SignIn {
  const mode = (main.dataset.auth ?? 'none') as AuthMode;
  const account = byId<HTMLElement>('account');
  const who = byId<HTMLElement>('account-who');
  const signInButton = byId<HTMLButtonElement>('sign-in');
  const signOutButton = byId<HTMLButtonElement>('sign-out');
  const keyForm = byId<HTMLFormElement>('key-form');
  const keyInput = byId<HTMLInputElement>('api-key');
  const problem = byId<HTMLParagraphElement>('account-problem');
  const settings = {
    clientId: main.dataset.clientId ?? '',
    authorizationEndpoint: main.dataset.authorizationEndpoint ?? '',
    tokenEndpoint: main.dataset.tokenEndpoint ?? '',
    problem: main.dataset.authProblem ?? '',
  };

  const token = (): KeptToken | undefined => {
    const kept = read<KeptToken>(TOKEN_KEY);
    return kept && kept.expiresAt - EXPIRY_MARGIN_MS > Date.now() ? kept : undefined;
  };
  const apiKey = (): string | undefined => sessionStorage.getItem(API_KEY_KEY) ?? undefined;
  const ready = () => mode === 'none' || (mode === 'api-key' ? apiKey() !== undefined : token() !== undefined);

  const showProblem = (text: string | null) => {
    problem.textContent = text ?? '';
    problem.hidden = text === null || text === '';
  };

  const render = () => {
    account.hidden = mode === 'none';
    main.dataset.signedIn = String(ready());
    signOutButton.hidden = !ready();
    signInButton.hidden = mode !== 'jwt' || ready();
    keyForm.hidden = mode !== 'api-key' || ready();
    if (mode === 'jwt') who.textContent = ready() ? `Signed in as ${token()!.who}.` : 'Sign in to upload photos and see yours.';
    if (mode === 'api-key')
      who.textContent = ready() ? 'Using your API key (kept for this tab only).' : 'Enter your API key to upload photos and see yours.';
  };

  const signIn = async () => {
    if (!settings.authorizationEndpoint || !settings.tokenEndpoint) {
      showProblem(settings.problem || 'Sign-in is not available: the issuer could not be reached. Try again later.');
      return;
    }
    const verifier = randomText(32);
    const state = randomText(16);
    const challenge = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
    sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, redirectUri: redirectUri() }));
    const url = new URL(settings.authorizationEndpoint);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: settings.clientId,
      redirect_uri: redirectUri(),
      scope: 'openid',
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }).toString();
    location.assign(url.toString());
  };

  const forget = () => {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(API_KEY_KEY);
  };

  signInButton.addEventListener('click', () => void signIn());
  signOutButton.addEventListener('click', () => {
    forget();
    showProblem(null);
    render();
    onChange();
  });
  keyForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const key = keyInput.value.trim();
    keyInput.value = '';
    if (!key) return;
    sessionStorage.setItem(API_KEY_KEY, key);
    showProblem(null);
    render();
    onChange();
  });

  render();
  if (settings.problem && mode === 'jwt') showProblem(settings.problem);

  return {
    mode,
    ready,
    headers(): Record<string, string> {
      if (mode === 'api-key') {
        const key = apiKey();
        return key ? { 'x-api-key': key } : {};
      }
      if (mode === 'jwt') {
        const kept = token();
        return kept ? { authorization: `Bearer ${kept.accessToken}` } : {};
      }
      return {};
    },
    refused(reason) {
      forget();
      showProblem(mode === 'jwt' ? `Please sign in again: ${reason}` : `The API key was refused: ${reason}`);
      render();
    },
    async completeRedirect() {
      if (mode !== 'jwt') return;
      const query = new URLSearchParams(location.search);
      const code = query.get('code');
      const error = query.get('error');
      if (code === null && error === null) return;
      // The code is single use: take it out of the address bar (and the history) at once.
      history.replaceState(null, '', redirectUri());
      const pkce = read<{ verifier: string; state: string; redirectUri: string }>(PKCE_KEY);
      sessionStorage.removeItem(PKCE_KEY);
      if (error !== null) {
        showProblem(`Sign-in failed: ${query.get('error_description') ?? error}`);
        return;
      }
      if (!pkce || pkce.state !== query.get('state')) {
        showProblem('Sign-in failed: the answer does not match the sign-in this tab started. Please sign in again.');
        return;
      }
      try {
        const res = await fetch(settings.tokenEndpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            code: code!,
            redirect_uri: pkce.redirectUri,
            client_id: settings.clientId,
            code_verifier: pkce.verifier,
          }),
        });
        const json = (await res.json()) as { access_token?: string; expires_in?: number; error?: string; error_description?: string };
        if (!res.ok || !json.access_token) throw new Error(json.error_description ?? json.error ?? `HTTP ${res.status}`);
        const kept: KeptToken = {
          accessToken: json.access_token,
          expiresAt: Date.now() + (json.expires_in ?? 300) * 1000,
          who: subjectOf(json.access_token),
        };
        sessionStorage.setItem(TOKEN_KEY, JSON.stringify(kept));
        showProblem(null);
      } catch (e) {
        showProblem(`Sign-in failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      render();
    },
  };
}
