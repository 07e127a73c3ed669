import { useState } from 'preact/hooks';
import type { LoginRequest, SessionView } from '@oncall/contracts/console-api';
import { api, ApiError, session } from '../api';
import { location, navigate } from '../router';

/** Only paths of this app: `next` comes from the URL, so it must not send the user elsewhere. */
const safeNext = (next: string | null): string => (next && next.startsWith('/') && !next.startsWith('//') ? next : '/');

/**
 * Sign-in with an API token (`oncall token create`); an admin token bound to no user also names
 * the user to act as. The server answers with a session cookie; the token is not kept in the page.
 */
export function LoginPage() {
  const [token, setToken] = useState('');
  const [actAs, setActAs] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body: LoginRequest = actAs.trim() ? { token: token.trim(), actAs: actAs.trim() } : { token: token.trim() };
    try {
      session.value = await api<SessionView>('POST', '/api/session', body);
      navigate(safeNext(location.value.query.get('next')), { replace: true });
    } catch (err) {
      setError(err instanceof ApiError ? `Sign-in refused: ${err.message}` : `Sign-in failed: ${String(err)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="login" aria-labelledby="login-title">
      <h1 id="login-title">Sign in to the NOC console</h1>
      <form onSubmit={(e) => void submit(e)}>
        <label>
          <span>API token</span>
          <input
            type="password"
            name="token"
            autoComplete="off"
            required
            value={token}
            onInput={(e) => setToken(e.currentTarget.value)}
            aria-invalid={error ? 'true' : undefined}
            aria-describedby={error ? 'login-error' : 'token-help'}
          />
        </label>
        <p id="token-help" class="help">
          A token from <code>oncall token create</code>. A read-scoped token can look but not act.
        </p>
        <label>
          <span>Act as user (admin tokens without a user only)</span>
          <input type="text" name="actAs" autoComplete="username" value={actAs} onInput={(e) => setActAs(e.currentTarget.value)} />
        </label>
        <button type="submit" class="btn" disabled={busy || !token.trim()}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {error && (
          <p id="login-error" class="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </section>
  );
}
