import { defineConfig } from "vite";

export default defineConfig({
  define: { __BUILD_TIME__: JSON.stringify(Date.now()) },
});
