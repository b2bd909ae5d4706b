import type { FastifyInstance } from "fastify";

export async function routes(app: FastifyInstance): Promise<void> {
  app.get("/health", async () => ({ ok: true }));
  app.get("/", async () => ({ service: "pnpm-api" }));
}
