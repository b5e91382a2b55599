#!/usr/bin/env node
// Copies the dashboard's chart library (uPlot, an npm dependency) next to the dashboard's own files in
// src/assets/ui/vendor/, which wrangler serves as static assets: the page works offline, with no CDN. Runs after
// every npm install/ci (postinstall); the copies are not committed.
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const dist = path.dirname(createRequire(import.meta.url).resolve("uplot/dist/uPlot.iife.min.js"));
const vendor = path.join(root, "src", "assets", "ui", "vendor");
mkdirSync(vendor, { recursive: true });
for (const file of ["uPlot.iife.min.js", "uPlot.min.css"]) copyFileSync(path.join(dist, file), path.join(vendor, file));
