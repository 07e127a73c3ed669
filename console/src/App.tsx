import { useEffect } from 'preact/hooks';
import type { SessionView } from '@oncall/contracts/console-api';
import { api, ApiError, session } from './api';
import { stopLive } from './board/live';
import { AlertPage } from './pages/AlertPage';
import { BoardPage } from './pages/BoardPage';
import { HealthPage } from './pages/HealthPage';
import { LoginPage } from './pages/LoginPage';
import { OnCallPage } from './pages/OnCallPage';
import { location, match, navigate } from './router';

function Page({ path }: { path: string }) {
  if (path === '/') return <BoardPage />;
  const alert = match('/alerts/:id', path);
  if (alert) return <AlertPage id={alert.id!} />;
  if (path === '/oncall') return <OnCallPage />;
  if (path === '/health') return <HealthPage />;
  return (
    <section>
      <h1>Not found</h1>
      <p>
        Nothing at {path}. <a href="/">Back to the board</a>.
      </p>
    </section>
  );
}

const NAV = [
  ['/', 'Board'],
  ['/oncall', 'On call'],
  ['/health', 'Health'],
] as const;

async function signOut() {
  stopLive();
  await api<unknown>('DELETE', '/api/session').catch(() => undefined);
  session.value = null;
  navigate('/login');
}

/** The shell: a skip link, the navigation (not on a wall screen), and the page the URL names. */
export function App() {
  const { path, query } = location.value;
  const s = session.value;
  const onLogin = path === '/login';

  // Who is signed in: a 401 sends the browser to /login (api() does that), remembering the page.
  useEffect(() => {
    if (onLogin || s) return;
    api<SessionView>('GET', '/api/session').then(
      (v) => (session.value = v),
      (err: unknown) =>
        err instanceof ApiError &&
        err.status === 401 &&
        navigate(`/login?next=${encodeURIComponent(path + window.location.search)}`, { replace: true }),
    );
  }, [onLogin, s]);

  if (onLogin)
    return (
      <main id="main">
        <LoginPage />
      </main>
    );
  const wall = path === '/' && query.get('wall') === '1';
  return (
    <>
      {!wall && (
        <header class="top">
          <a class="skip" href="#main">
            Skip to content
          </a>
          <nav aria-label="Console">
            <span class="brand">oncall NOC</span>
            <ul>
              {NAV.map(([href, text]) => (
                <li key={href}>
                  <a href={href} aria-current={path === href || (href === '/' && path.startsWith('/alerts/')) ? 'page' : undefined}>
                    {text}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          <p class="who">
            {s ? (s.userId ?? s.tokenName) : ''}
            {s && !s.scopes.some((x) => x !== 'read') && <span class="badge b-readonly">read-only</span>}
            {s && (
              <button type="button" class="btn btn-quiet" onClick={() => void signOut()}>
                Sign out
              </button>
            )}
          </p>
        </header>
      )}
      <main id="main" tabIndex={-1} class={wall ? 'wall-main' : ''}>
        {s ? <Page path={path} /> : <p aria-busy="true">Signing in…</p>}
      </main>
    </>
  );
}
