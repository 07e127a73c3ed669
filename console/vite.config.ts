import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

// Everything bundled into dist/ (no CDN at run time: a NOC may be offline); query-api serves it on CONSOLE_PORT.
export default defineConfig({
  plugins: [preact()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, target: 'es2022' },
  server: { proxy: { '/api': `http://127.0.0.1:${process.env.CONSOLE_PORT ?? '8090'}` } },
});
