# Expert version: pnpm production install from the lock file, compiled JavaScript only.
FROM node:20 AS pnpm
RUN npm install -g pnpm@9.12.0
WORKDIR /app
COPY package.json pnpm-lock.yaml ./

FROM pnpm AS deps
RUN pnpm install --frozen-lockfile --prod

FROM pnpm AS build
RUN pnpm install --frozen-lockfile
COPY tsconfig.json ./
COPY src ./src
RUN pnpm run build

FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /app/dist ./dist
EXPOSE 3000
CMD ["node", "dist/index.js"]
