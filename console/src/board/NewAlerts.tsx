import { useEffect, useState } from 'preact/hooks';
import { board } from './live';

/**
 * "N new alerts" for screen readers (aria-live), told at most every 5 s: a storm must not make
 * the reader talk without pause. Sighted users see the same count.
 */
export function NewAlerts() {
  const [told, setTold] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setTold(board.arrived.peek()), 5000);
    return () => clearInterval(t);
  }, []);
  return (
    <p class="new-alerts" aria-live="polite" aria-atomic="true">
      {told === 0 ? '' : `${told} new alert${told === 1 ? '' : 's'} since the board opened`}
    </p>
  );
}
