import { render } from 'preact';

function App() {
  return <main>oncall console</main>;
}

render(<App />, document.getElementById('app')!);
