// Custom build: bundle the app with esbuild's API and copy the HTML shell next to it.
import * as esbuild from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";

mkdirSync("dist", { recursive: true });
await esbuild.build({
  entryPoints: ["src/app.jsx"],
  bundle: true,
  minify: true,
  jsxFactory: "h",
  jsxFragment: "Fragment",
  outdir: "dist",
});
copyFileSync("index.html", "dist/index.html");
