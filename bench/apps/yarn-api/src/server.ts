import express from "express";
import ms from "ms";
import { uptime } from "./uptime";

const app = express();
const started = Date.now();

app.get("/health", (_req, res) => res.json({ ok: true }));
app.get("/", (_req, res) => res.send(`yarn-api up ${uptime(started, ms)}`));

app.listen(Number(process.env.PORT || 3000), () => console.log("listening"));
