// Every viewer module reaches the browser and the offline shell: the page preloads exactly what
// the first view imports (no surprise round trip), main.js loads the rest after the first view,
// and the service worker keeps them all. The lists are written by hand (no build step), so this
// keeps them from drifting from web/js/.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";

const web = new URL("../../web/", import.meta.url);
const modules = readdirSync(new URL("js/", web)).filter((f) => f.endsWith(".js")).sort();
const read = (name) => readFileSync(new URL(name, web), "utf8");
const found = (text, pattern) => [...text.matchAll(pattern)].map((m) => m[1]);

/** The modules `roots` import statically, themselves included. */
function closure(roots) {
  const seen = new Set();
  const visit = (name) => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const next of found(read(`js/${name}`), /^import [^;]*? from "\.\/([^"]+)";$/gm)) visit(next);
  };
  roots.forEach(visit);
  return seen;
}

test("the page preloads exactly the modules of the first view", () => {
  const preloaded = found(read("index.html"), /rel="modulepreload" href="\/js\/([^"]+)"/g).sort();
  assert.deepEqual(preloaded, [...closure(["main.js"])].sort());
});

test("every other module is loaded by main.js after the first view", () => {
  const later = found(read("js/main.js"), /import\("\.\/([^"]+)"\)/g);
  const reached = new Set([...closure(["main.js"]), ...closure(later)]);
  assert.deepEqual([...reached].sort(), modules);
});

test("the service worker keeps every module of the shell", () => {
  const shell = read("sw.js").match(/const SHELL_FILES = \[([\s\S]*?)\];/)[1];
  assert.deepEqual(found(shell, /"\/js\/([^"]+)"/g).sort(), modules);
});
